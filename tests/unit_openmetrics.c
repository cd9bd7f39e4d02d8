/* Unit tests of the OpenMetrics text rules (io/openmetrics_text.c): the
 * --nodes syntax and its errors, counter family names, UNIT words that must
 * be the family's suffix, float formatting that reads back exactly (pinned
 * texts and a million random bit patterns), exact scaled integers, timestamps,
 * created_utc parsing and the default base epoch; and the namings
 * (io/openmetrics_names.c): dcgm and prometheus names, types, units and
 * scalings of every catalogue metric, and the DCGM GPU labels. No MPI, no
 * files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/openmetrics_names.h"
#include "io/openmetrics_text.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/metrics.h"
#include "tests/check.h"

static void test_nodes(void) {
  unsigned char sel[120];
  CHECK_EQ(om_parse_nodes("0-7,40", 120, sel), 0);
  int n = 0;
  for (int i = 0; i < 120; i++)
    n += sel[i];
  CHECK_EQ(n, 9);
  CHECK(sel[0] && sel[7] && !sel[8] && sel[40]);
  CHECK_EQ(om_parse_nodes("119", 120, sel), 0);
  CHECK(sel[119]);
  CHECK_EQ(om_parse_nodes("3,3,2-4", 120, sel), 0);
  CHECK(sel[2] && sel[3] && sel[4] && !sel[5]);
  const char *bad[] = {"", "a", "1-", "-3", "1,,2", "1,", "5-2", "0-120", "200", "1 2", "1-2-3",
                       "0x10", "9999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    diag_clear();
    if (om_parse_nodes(bad[i], 120, sel) != FS_EUSAGE)
      CHECK_FAIL("--nodes '%s' was accepted", bad[i]);
    check_count++;
    CHECK(strstr(diag_first(), "--nodes") != NULL);
  }
  diag_clear();
  om_parse_nodes("0-120", 120, sel);
  CHECK(strstr(diag_first(), "node 120 is outside the fleet (nodes 0-119)") != NULL);
  diag_clear();
}

static void test_names(void) {
  char fam[64];
  om_family_name("gpu_ecc_sbe_total", 1, fam, sizeof fam);
  CHECK(strcmp(fam, "gpu_ecc_sbe") == 0);
  om_family_name("gpu_temp_celsius", 0, fam, sizeof fam);
  CHECK(strcmp(fam, "gpu_temp_celsius") == 0);
  CHECK(strcmp(om_unit_word("gpu_temp_celsius", "C"), "celsius") == 0);
  CHECK(strcmp(om_unit_word("rdma_bytes_per_second", "B/s"), "bytes_per_second") == 0);
  CHECK(strcmp(om_unit_word("kv_cache_hit_ratio", "1"), "ratio") == 0);
  CHECK(strcmp(om_unit_word("gpu_thermal_violation_ms", "ms"), "ms") == 0);
  CHECK(strcmp(om_unit_word("gpu_energy_joules", "J"), "joules") == 0);
  CHECK(om_unit_word("facility_pue", "1") == NULL);      /* not the name's suffix */
  CHECK(om_unit_word("gpu_ecc_sbe", "errors") == NULL);  /* nor is this */
  CHECK(om_unit_word("gpu_clock_event_reasons", "bitmask") == NULL);
  CHECK(om_unit_word("celsius", "C") == NULL);           /* a suffix needs "_" before it */
  CHECK(om_unit_word("x_ms", "") == NULL);
  char esc[64];
  om_escape("a \"b\" \\ c\nd", esc, sizeof esc);
  CHECK(strcmp(esc, "a \\\"b\\\" \\\\ c\\nd") == 0);
  /* no other control character reaches the text (or a terminal) */
  om_escape("x\x1b[2J\ry\x7f", esc, sizeof esc);
  CHECK(strcmp(esc, "x?[2J?y?") == 0);
}

static void test_numbers(void) {
  char buf[OM_NUM_LEN];
  static const struct {
    float v;
    const char *text;
  } pinned[] = {{71.5f, "71.5"},        {0.94f, "0.94"},           {3.01f, "3.01"},
                {-2.5f, "-2.5"},        {1e-3f, "0.001"},          {80e9f, "80000000000"},
                {1234567.0f, "1234567"}, {0.0f, "0"},              {100.0f, "100"},
                {1e20f, "1e+20"}, {1.0f / 3.0f, "0.33333334"}};
  for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
    om_format_f32(pinned[i].v, buf);
    if (strcmp(buf, pinned[i].text) != 0)
      CHECK_FAIL("om_format_f32(%.9g) = '%s', expected '%s'", (double)pinned[i].v, buf,
                 pinned[i].text);
    check_count++;
  }
  om_format_f32(1.0f / 0.0f, buf);
  CHECK(strcmp(buf, "+Inf") == 0);
  om_format_f32(-1.0f / 0.0f, buf);
  CHECK(strcmp(buf, "-Inf") == 0);
  /* every finite float reads back exactly, with at most 9 significant digits */
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (long i = 0; i < 1000000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint32_t bits = (uint32_t)(x >> 16);
    if (i % 2) /* half of them in the range telemetry lives in */
      bits = (bits & 0x807fffffu) | ((uint32_t)(100 + (x >> 40) % 60) << 23);
    float v;
    memcpy(&v, &bits, sizeof v);
    if (isnan(v) || isinf(v))
      continue;
    int n = om_format_f32(v, buf);
    if (n != (int)strlen(buf) || strtof(buf, NULL) != v)
      CHECK_FAIL("om_format_f32(%.9g) = '%s' does not read back", (double)v, buf);
  }
  check_count++;
  CHECK_EQ(om_format_u32(0, buf), 1);
  CHECK(strcmp(buf, "0") == 0);
  om_format_u32(4294967295u, buf);
  CHECK(strcmp(buf, "4294967295") == 0);
  om_format_ts_ms(1796126400000LL, buf);
  CHECK(strcmp(buf, "1796126400") == 0);
  om_format_ts_ms(1796126400500LL, buf);
  CHECK(strcmp(buf, "1796126400.5") == 0);
  om_format_ts_ms(1796126400007LL, buf);
  CHECK(strcmp(buf, "1796126400.007") == 0);
  om_format_ts_ms(0, buf);
  CHECK(strcmp(buf, "0") == 0);
}

static void test_epoch(void) {
  int64_t t = 0;
  CHECK_EQ(om_parse_utc("1970-01-01T00:00:00Z", &t), 0);
  CHECK_EQ(t, 0);
  CHECK_EQ(om_parse_utc("2026-12-01T15:09:21Z", &t), 0);
  CHECK_EQ(t, 1796137761LL); /* date -u -d 2026-12-01T15:09:21Z +%s */
  CHECK_EQ(om_parse_utc("2024-02-29T23:59:59Z", &t), 0);
  CHECK_EQ(t, 1709251199LL);
  CHECK_EQ(om_parse_utc("2026-13-01T00:00:00Z", &t), FS_EINVAL);
  CHECK_EQ(om_parse_utc("2026-12-01 15:09:21", &t), FS_EINVAL);
  CHECK_EQ(om_parse_utc("2026-12-01T15:09:21Zjunk", &t), FS_EINVAL);
  CHECK_EQ(om_parse_utc("", &t), FS_EINVAL);
  /* 1 h run from 12:00, archive made at 15:09 that day: t = 0 is 12:00 that day */
  CHECK_EQ(om_default_epoch(1796137761LL, 12.0, 3600), 1796126400LL);
  /* 24 h run from 00:00, made at 15:09: it started the previous midnight */
  CHECK_EQ(om_default_epoch(1796137761LL, 0.0, 86400), 1796083200LL - 86400);
  /* a run that would end after the creation time moves back a day */
  CHECK_EQ(om_default_epoch(1796137761LL, 14.0, 7200), 1796083200LL - 86400 + 14 * 3600);
  for (int64_t c = 1796083200LL; c < 1796083200LL + 2 * 86400; c += 1234) {
    int64_t b = om_default_epoch(c, 6.5, 36000);
    CHECK_LE(b + 36000, c);
    CHECK_GT(b + 36000 + 86400, c);
    CHECK_EQ(((b % 86400) + 86400) % 86400, 6 * 3600 + 1800);
  }
}

static void test_scaled(void) {
  static const struct {
    uint32_t v;
    int pow10;
    const char *want;
  } pins[] = {
      {1500, -3, "1.5"},
      {0, 3, "0"},
      {7, 6, "7000000"},
      {7329, 3, "7329000"},
      {5, -3, "0.005"},
      {12345, -2, "123.45"},
      {100, -2, "1"},
      {4294967295u, 6, "4294967295000000"},
      {4294967295u, -6, "4294.967295"},
      {42, 0, "42"},
      {10, -6, "0.00001"},
      {1, -1, "0.1"},
  };
  for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
    char buf[OM_NUM_LEN];
    int n = om_format_u32_pow10(pins[i].v, pins[i].pow10, buf);
    if (strcmp(buf, pins[i].want) != 0 || n != (int)strlen(pins[i].want))
      CHECK_FAIL("om_format_u32_pow10(%u, %d) = \"%s\", want \"%s\"", pins[i].v, pins[i].pow10, buf,
                 pins[i].want);
    check_count++;
  }
  CHECK(om_scale_f32(45.5f, -2, 0) == 0.455f);
  CHECK(om_scale_f32(1980.0f, 6, 0) == 1.98e9f);
  CHECK(om_scale_f32(85899345920.0f, 0, 20) == 81920.0f); /* 80 GiB in MiB, exact */
  CHECK(om_scale_f32(390.005f, -3, 0) == (float)(390.005f / 1000.0));
  CHECK(om_scale_f32(71.5f, 0, 0) == 71.5f);
}

/* om_name_of(naming, dataset) has these sample and family names, type,
 * unit word, HELP symbol and scaling. */
static void check_name(om_naming naming, const char *dataset, const char *units, int gpu,
                       const char *sample, const char *family, const char *type, const char *unit,
                       const char *symbol, int pow10, int shift, int dcgm) {
  om_name n;
  om_name_of(naming, dataset, units, gpu, &n);
  if (strcmp(n.sample, sample) || strcmp(n.family, family) || strcmp(n.type, type) ||
      strcmp(n.unit, unit) || strcmp(n.symbol, symbol) || n.pow10 != pow10 || n.shift != shift ||
      n.dcgm_labels != dcgm)
    CHECK_FAIL("%s under naming %d: %s/%s %s unit '%s' symbol '%s' x10^%d /2^%d dcgm %d", dataset,
               (int)naming, n.sample, n.family, n.type, n.unit, n.symbol, n.pow10, n.shift,
               n.dcgm_labels);
  check_count++;
}

static void test_namings(void) {
  om_naming g = OM_NAMING_DCGM;
  CHECK_EQ(om_parse_naming("prometheus", &g), 0);
  CHECK_EQ(g, OM_NAMING_PROMETHEUS);
  CHECK_EQ(om_parse_naming("fleetsim", &g), 0);
  CHECK_EQ(g, OM_NAMING_FLEETSIM);
  diag_clear();
  CHECK_EQ(om_parse_naming("DCGM", &g), FS_EUSAGE);
  CHECK(strstr(diag_first(), "--naming DCGM: unknown naming (fleetsim, dcgm or prometheus)"));
  diag_clear();
  CHECK(strcmp(om_host_label(OM_NAMING_DCGM), "Hostname") == 0);
  CHECK(strcmp(om_host_label(OM_NAMING_PROMETHEUS), "node") == 0);

  const om_naming F = OM_NAMING_FLEETSIM, D = OM_NAMING_DCGM, P = OM_NAMING_PROMETHEUS;
  /* fleetsim: the archive's names and units */
  check_name(F, "gpu_temp_celsius", "C", 1, "gpu_temp_celsius", "gpu_temp_celsius", "gauge",
             "celsius", "C", 0, 0, 0);
  check_name(F, "gpu_ecc_sbe_total", "errors", 1, "gpu_ecc_sbe_total", "gpu_ecc_sbe", "counter", "",
             "errors", 0, 0, 0);
  check_name(F, "kv_cache_hit_ratio", "1", 0, "kv_cache_hit_ratio", "kv_cache_hit_ratio", "gauge",
             "ratio", "", 0, 0, 0);
  /* dcgm: the DCGM field, dcgm-exporter's units, its labels; counters unknown */
  check_name(D, "gpu_temp_celsius", "C", 1, "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_GPU_TEMP", "gauge",
             "", "C", 0, 0, 1);
  check_name(D, "gpu_energy_joules_total", "J", 1, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
             "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "unknown", "", "mJ", 3, 0, 1);
  check_name(D, "gpu_thermal_violation_ms_total", "ms", 1, "DCGM_FI_DEV_THERMAL_VIOLATION",
             "DCGM_FI_DEV_THERMAL_VIOLATION", "unknown", "", "ns", 6, 0, 1);
  check_name(D, "gpu_fb_used_bytes", "B", 1, "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_USED", "gauge",
             "", "MiB", 0, 20, 1);
  check_name(D, "gpu_sm_util_percent", "%", 1, "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_UTIL",
             "gauge", "", "%", 0, 0, 1);
  check_name(D, "gpu_sm_active_ratio", "1", 1, "DCGM_FI_PROF_SM_ACTIVE", "DCGM_FI_PROF_SM_ACTIVE",
             "gauge", "", "", 0, 0, 1);
  check_name(D, "ttft_ms", "ms", 0, "ttft_ms", "ttft_ms", "gauge", "ms", "ms", 0, 0, 0);
  check_name(D, "rdma_retransmits_total", "packets", 0, "rdma_retransmits_total",
             "rdma_retransmits", "counter", "", "packets", 0, 0, 0);
  /* prometheus: base units */
  check_name(P, "ttft_ms", "ms", 0, "ttft_seconds", "ttft_seconds", "gauge", "seconds", "s", -3, 0,
             0);
  check_name(P, "nccl_allreduce_latency_us", "us", 0, "nccl_allreduce_latency_seconds",
             "nccl_allreduce_latency_seconds", "gauge", "seconds", "s", -6, 0, 0);
  check_name(P, "gpu_power_violation_ms_total", "ms", 1, "gpu_power_violation_seconds_total",
             "gpu_power_violation_seconds", "counter", "seconds", "s", -3, 0, 0);
  check_name(P, "gpu_sm_util_percent", "%", 1, "gpu_utilization_ratio", "gpu_utilization_ratio",
             "gauge", "ratio", "", -2, 0, 0);
  check_name(P, "pdu_phase_imbalance_percent", "%", 0, "pdu_phase_imbalance_ratio",
             "pdu_phase_imbalance_ratio", "gauge", "ratio", "", -2, 0, 0);
  check_name(P, "gpu_sm_clock_mhz", "MHz", 1, "gpu_sm_clock_hertz", "gpu_sm_clock_hertz", "gauge",
             "hertz", "Hz", 6, 0, 0);
  check_name(P, "gpu_energy_joules_total", "J", 1, "gpu_energy_joules_total", "gpu_energy_joules",
             "counter", "joules", "J", 0, 0, 0);
  check_name(P, "facility_pue", "1", 0, "facility_pue", "facility_pue", "gauge", "", "", 0, 0, 0);
  /* a dataset the catalogue does not know keeps its archive name everywhere */
  check_name(P, "custom_ms", "ms", 0, "custom_ms", "custom_ms", "gauge", "ms", "ms", 0, 0, 0);
  check_name(D, "custom_total", "errors", 1, "custom_total", "custom", "counter", "", "errors", 0,
             0, 0);

  /* every GPU metric has a DCGM name under dcgm, every name is unique */
  for (int m = 0; m < GM_COUNT; m++) {
    om_name a;
    om_name_of(D, metric_gpu[m].name, metric_gpu[m].units, 1, &a);
    CHECK(strncmp(a.sample, "DCGM_FI_", 8) == 0 && a.dcgm_labels == 1);
    for (int k = 0; k < m; k++) {
      om_name b;
      om_name_of(D, metric_gpu[k].name, metric_gpu[k].units, 1, &b);
      CHECK(strcmp(a.sample, b.sample) != 0);
    }
  }

  char labels[400];
  int n = om_dcgm_gpu_labels(33, 3, labels, sizeof labels);
  const char *want = "gpu=\"3\",UUID=\"GPU-00000033-0000-0000-0000-000000000003\","
                     "pci_bus_id=\"00000000:5D:00.0\",device=\"nvidia3\","
                     "modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node-0033\","
                     "instance=\"node-0033:9400\"";
  if (strcmp(labels, want) != 0 || n != (int)strlen(want))
    CHECK_FAIL("om_dcgm_gpu_labels(33, 3) = %s", labels);
  check_count++;
}

int main(void) {
  test_nodes();
  test_names();
  test_numbers();
  test_scaled();
  test_namings();
  test_epoch();
  printf("unit_openmetrics: %ld checks passed\n", check_count);
  return 0;
}
