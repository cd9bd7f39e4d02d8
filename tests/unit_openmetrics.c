/* Unit tests of the OpenMetrics text rules (io/openmetrics_text.c): the
 * --nodes syntax and its errors, counter family names, UNIT words that must
 * be the family's suffix, float formatting that reads back exactly (pinned
 * texts and a million random bit patterns), timestamps, created_utc parsing
 * and the default base epoch. No MPI, no files. */
#include <stdint.h>
#include <string.h>

#include "io/openmetrics_text.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
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

int main(void) {
  test_nodes();
  test_names();
  test_numbers();
  test_epoch();
  printf("unit_openmetrics: %ld checks passed\n", check_count);
  return 0;
}
