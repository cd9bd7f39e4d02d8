/* Series naming of the OpenMetrics export (see openmetrics_names.h): the
 * DCGM and Prometheus base-unit mappings, derived from the metric
 * catalogue's names and unit symbols. */
#include "io/openmetrics_names.h"

#include <stdio.h>
#include <string.h>

#include "io/openmetrics_text.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"

static const char *const om_namings[] = {[OM_NAMING_FLEETSIM] = "fleetsim",
                                         [OM_NAMING_DCGM] = "dcgm",
                                         [OM_NAMING_PROMETHEUS] = "prometheus"};

/* dcgm-exporter's unit for an archive unit symbol where the two differ
 * (etc/default-counters.csv: energy in mJ, violation time in ns,
 * framebuffer in MiB), with the scaling. */
static const struct {
  const char *symbol, *dcgm;
  int pow10, shift;
} om_dcgm_units[] = {
    {"J", "mJ", 3, 0},
    {"ms", "ns", 6, 0},
    {"B", "MiB", 0, 20},
};

/* Prometheus base units for the archive's non-base unit symbols: the name
 * suffix that is replaced, its replacement, the new symbol, the scaling. */
static const struct {
  const char *symbol, *suffix, *base_suffix, *base_symbol;
  int pow10;
} om_base_units[] = {
    {"%", "_percent", "_ratio", "1", -2},
    {"ms", "_ms", "_seconds", "s", -3},
    {"us", "_us", "_seconds", "s", -6},
    {"MHz", "_mhz", "_hertz", "Hz", 6},
};

/* Renames under prometheus naming where the fleetsim name says something
 * else than the metric is: gpu_sm_util_percent is DCGM's GPU utilization
 * (time a kernel ran), not SM activity (gpu_sm_active_ratio). */
static const struct {
  const char *dataset, *base;
} om_base_renames[] = {
    {"gpu_sm_util_percent", "gpu_utilization_ratio"},
};

/* The HGX H100 board's PCI bus of GPU 0-7. */
static const char *const om_pci_bus[FLEET_GPUS] = {
    "00000000:18:00.0", "00000000:2A:00.0", "00000000:3A:00.0", "00000000:5D:00.0",
    "00000000:9A:00.0", "00000000:AB:00.0", "00000000:BA:00.0", "00000000:DB:00.0"};

/* What DCGM reports as the name of an H100 SXM5 80 GB. */
#define OM_DCGM_MODEL "NVIDIA H100 80GB HBM3"

int om_parse_naming(const char *text, om_naming *out) {
  for (int i = 0; i < (int)(sizeof om_namings / sizeof om_namings[0]); i++)
    if (strcmp(text, om_namings[i]) == 0) {
      *out = (om_naming)i;
      return 0;
    }
  diag_addf("--naming %.80s: unknown naming (fleetsim, dcgm or prometheus)", text);
  return FS_EUSAGE;
}

const char *om_host_label(om_naming naming) {
  return naming == OM_NAMING_DCGM ? "Hostname" : "node";
}

/* The catalogue entry of a dataset (GPU or node metric), or NULL. */
static const metric_def *om_catalogue(const char *dataset, int gpu_scope) {
  const metric_def *defs = gpu_scope ? metric_gpu : metric_node;
  int n = gpu_scope ? GM_COUNT : NM_COUNT;
  for (int i = 0; i < n; i++)
    if (strcmp(defs[i].name, dataset) == 0)
      return &defs[i];
  return NULL;
}

/* 1 when name ends in suffix (and is longer). */
static int om_ends_with(const char *name, const char *suffix) {
  size_t n = strlen(name), s = strlen(suffix);
  return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Fills family, sample, type and unit from a base name (without "_total"). */
static void om_set_names(om_name *out, const char *base, int counter, const char *type,
                         const char *unit_symbol) {
  snprintf(out->family, sizeof out->family, "%s", base);
  snprintf(out->sample, sizeof out->sample, "%s%s", base, counter ? "_total" : "");
  out->type = type;
  const char *word = unit_symbol ? om_unit_word(out->family, unit_symbol) : NULL;
  snprintf(out->unit, sizeof out->unit, "%s", word ? word : "");
}

/* The archive's own naming. */
static void om_fleetsim_name(const char *dataset, const char *units, int counter, om_name *out) {
  char base[OM_SERIES_NAME_LEN];
  om_family_name(dataset, counter, base, sizeof base);
  om_set_names(out, base, counter, counter ? "counter" : "gauge", units);
  snprintf(out->symbol, sizeof out->symbol, "%s", units && strcmp(units, "1") != 0 ? units : "");
}

/* dcgm naming of a catalogue GPU metric with a DCGM field. */
static void om_dcgm_name(const metric_def *m, int counter, om_name *out) {
  snprintf(out->family, sizeof out->family, "%s", m->dcgm_field);
  snprintf(out->sample, sizeof out->sample, "%s", m->dcgm_field);
  out->type = counter ? "unknown" : "gauge";
  out->unit[0] = '\0';
  out->dcgm_labels = 1;
  snprintf(out->symbol, sizeof out->symbol, "%s", strcmp(m->units, "1") != 0 ? m->units : "");
  for (size_t i = 0; i < sizeof om_dcgm_units / sizeof om_dcgm_units[0]; i++)
    if (strcmp(m->units, om_dcgm_units[i].symbol) == 0) {
      snprintf(out->symbol, sizeof out->symbol, "%s", om_dcgm_units[i].dcgm);
      out->pow10 = om_dcgm_units[i].pow10;
      out->shift = om_dcgm_units[i].shift;
    }
}

/* prometheus naming of a catalogue metric; 0 when its unit is already a
 * base unit (then the fleetsim name stands). */
static int om_base_name(const metric_def *m, int counter, om_name *out) {
  char base[OM_SERIES_NAME_LEN];
  om_family_name(m->name, counter, base, sizeof base);
  for (size_t i = 0; i < sizeof om_base_units / sizeof om_base_units[0]; i++) {
    if (strcmp(m->units, om_base_units[i].symbol) != 0 ||
        !om_ends_with(base, om_base_units[i].suffix))
      continue;
    char renamed[OM_SERIES_NAME_LEN];
    snprintf(renamed, sizeof renamed, "%.*s%s",
             (int)(strlen(base) - strlen(om_base_units[i].suffix)), base,
             om_base_units[i].base_suffix);
    for (size_t k = 0; k < sizeof om_base_renames / sizeof om_base_renames[0]; k++)
      if (strcmp(m->name, om_base_renames[k].dataset) == 0)
        snprintf(renamed, sizeof renamed, "%s", om_base_renames[k].base);
    om_set_names(out, renamed, counter, counter ? "counter" : "gauge",
                 om_base_units[i].base_symbol);
    snprintf(out->symbol, sizeof out->symbol, "%s",
             strcmp(om_base_units[i].base_symbol, "1") != 0 ? om_base_units[i].base_symbol : "");
    out->pow10 = om_base_units[i].pow10;
    return 1;
  }
  return 0;
}

void om_name_of(om_naming naming, const char *dataset, const char *units, int gpu_scope,
                om_name *out) {
  memset(out, 0, sizeof *out);
  size_t n = strlen(dataset);
  int counter = n > 6 && strcmp(dataset + n - 6, "_total") == 0;
  const metric_def *m = naming == OM_NAMING_FLEETSIM ? NULL : om_catalogue(dataset, gpu_scope);
  if (m && naming == OM_NAMING_DCGM && gpu_scope && m->dcgm_field) {
    om_dcgm_name(m, counter, out);
    return;
  }
  if (m && naming == OM_NAMING_PROMETHEUS && om_base_name(m, counter, out))
    return;
  om_fleetsim_name(dataset, units, counter, out);
}

int om_dcgm_gpu_labels(int node, int gpu, char *out, size_t cap) {
  int g = gpu >= 0 && gpu < FLEET_GPUS ? gpu : 0;
  return snprintf(out, cap,
                  "gpu=\"%d\",UUID=\"GPU-%08d-0000-0000-0000-%012d\",pci_bus_id=\"%s\","
                  "device=\"nvidia%d\",modelName=\"" OM_DCGM_MODEL "\",Hostname=\"node-%04d\","
                  "instance=\"node-%04d:9400\"",
                  gpu, node, gpu, om_pci_bus[g], gpu, node, node);
}
