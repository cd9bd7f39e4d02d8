/* Series naming of `fleetsim export` (--naming): what a telemetry dataset is
 * called in the OpenMetrics text, its type and unit words, the factor its
 * values are scaled by, and the DCGM identity labels of a GPU. Three
 * namings: fleetsim (the archive's names and units), dcgm (dcgm-exporter's
 * field names, labels and units for every metric with a DCGM field) and
 * prometheus (base units: seconds, ratios 0-1, bytes, joules, hertz). Pure
 * functions over the metric catalogue (src/model/metrics.h); no I/O. */
#ifndef FLEETSIM_OPENMETRICS_NAMES_H
#define FLEETSIM_OPENMETRICS_NAMES_H
#include <stddef.h>

typedef enum { OM_NAMING_FLEETSIM, OM_NAMING_DCGM, OM_NAMING_PROMETHEUS } om_naming;

enum { OM_SERIES_NAME_LEN = 96 };

/* How one telemetry dataset is written. */
typedef struct {
  char family[OM_SERIES_NAME_LEN]; /* # TYPE/# UNIT/# HELP name */
  char sample[OM_SERIES_NAME_LEN + sizeof "_total"]; /* name on every sample line */
  const char *type;                /* "gauge", "counter" or "unknown" */
  char unit[32];                   /* # UNIT word, or "" for none */
  char symbol[16];                 /* unit symbol of the written values, for # HELP ("" = none) */
  int pow10, shift;                /* written value = stored value x 10^pow10 / 2^shift */
  int dcgm_labels;                 /* 1: dcgm-exporter's labels (gpu, UUID, ..., Hostname) */
} om_name;

/* Parses --naming text ("fleetsim", "dcgm", "prometheus"). 0, or FS_EUSAGE
 * with one message in diag naming --naming and the choices. */
int om_parse_naming(const char *text, om_naming *out);

/* The label naming a node's host: "node" (fleetsim, prometheus) or
 * "Hostname" (dcgm, as dcgm-exporter labels it). */
const char *om_host_label(om_naming naming);

/* How dataset `dataset` (a name under /telemetry; gpu_scope 1 for
 * /telemetry/gpu) whose archive unit symbol is `units` is written under
 * `naming`. fleetsim: the dataset's own name (a counter's family without
 * "_total"), its unit word where OpenMetrics allows one, values as stored.
 * dcgm: a GPU metric of the catalogue with a DCGM field gets that field as
 * its name, type gauge (counters: unknown, since OpenMetrics wants a
 * counter's samples to end in _total and DCGM's names do not), no unit
 * word, dcgm-exporter's units (energy mJ, violation time ns, framebuffer
 * MiB) and dcgm labels; every other metric is written as under fleetsim.
 * prometheus: a metric of the catalogue in %, ms, us or MHz is renamed to
 * _ratio, _seconds or _hertz and scaled to that base unit
 * (gpu_sm_util_percent, DCGM's GPU utilization, becomes
 * gpu_utilization_ratio); the rest as under fleetsim. Example: dcgm,
 * "gpu_energy_joules_total" -> sample DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,
 * type unknown, symbol mJ, pow10 3. */
void om_name_of(om_naming naming, const char *dataset, const char *units, int gpu_scope,
                om_name *out);

/* The labels dcgm-exporter gives GPU `gpu` (0-7) of node `node`, without
 * the leading or trailing comma: gpu, UUID (GPU-<node 8 digits>-0000-0000-
 * 0000-<gpu 12 digits>, unique in a fleet), pci_bus_id (the HGX H100
 * board's), device (nvidiaN), modelName, Hostname (node-NNNN) and instance
 * (Hostname:9400, the exporter's port). Returns the length written to out
 * (cap bytes, NUL included). */
int om_dcgm_gpu_labels(int node, int gpu, char *out, size_t cap);

#endif
