/* Unit test of om_export (io/openmetrics.c) on a small archive written here
 * with the archive writer (one process): 3 racks x 4 nodes, 50 scrapes, known
 * values with NaN where a metric does not apply. The text is checked line by
 * line for a few series, and the output must be byte-identical whether the
 * reads are blocks of many nodes, of one node, or one series in time slices
 * (read budgets of 8 MiB, 1,700 bytes and 64 bytes). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/archive.h"
#include "io/openmetrics.h"
#include "io/openmetrics_names.h"
#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"
#include "tests/check.h"

enum { T = 50, NODES = 12, RACKS = 3, NPR = NODES / RACKS };

static tel_cell gpu_value(int m, int t, int node, int g) {
  tel_cell c;
  if (metric_gpu[m].type == MT_U32)
    c.u = (uint32_t)(t * 100 + node * 8 + g); /* counters rise with t */
  else
    c.f = (float)m + 0.001f * (float)t + 0.1f * (float)node + (float)g / 7.0f;
  return c;
}

static tel_cell node_value(int m, int t, int node, const fleet *f) {
  tel_cell c;
  if (metric_node[m].type == MT_U32)
    c.u = (uint32_t)(t * 10 + node);
  else if (!(metric_node[m].tenants & (1u << f->node_tenant[node])))
    c.f = NAN;
  else
    c.f = (float)(m * 1000 + t) + 0.25f * (float)node;
  return c;
}

static void write_archive(const char *path, fleet *f, const fs_config *cfg) {
  char *config_json = cfg_to_json(cfg);
  CHECK(config_json != NULL);
  const h5a_layout lay = {.scrapes = T, .nodes = NODES, .nodes_per_rack = NPR,
                          .window_scrapes = T, .node0 = 0, .nnodes = NODES};
  const h5a_provenance prov = {.version = "0.0-test", .git_commit = "abcdef123456",
                               .config_json = config_json, .scenarios_json = "{\"scenarios\": []}",
                               .seed = 7, .ranks = 1, .scrape_interval_s = 15};
  tel_cell *gpu[GM_COUNT], *node[NM_COUNT];
  float *cluster[CM_COUNT];
  double time_s[T];
  for (int m = 0; m < GM_COUNT; m++)
    CHECK((gpu[m] = malloc(sizeof(tel_cell) * T * NODES * FLEET_GPUS)) != NULL);
  for (int m = 0; m < NM_COUNT; m++)
    CHECK((node[m] = malloc(sizeof(tel_cell) * T * NODES)) != NULL);
  for (int m = 0; m < CM_COUNT; m++)
    CHECK((cluster[m] = malloc(sizeof(float) * T)) != NULL);
  for (int t = 0; t < T; t++) {
    for (int n = 0; n < NODES; n++) {
      for (int m = 0; m < GM_COUNT; m++)
        for (int g = 0; g < FLEET_GPUS; g++)
          gpu[m][(t * NODES + n) * FLEET_GPUS + g] = gpu_value(m, t, n, g);
      for (int m = 0; m < NM_COUNT; m++)
        node[m][t * NODES + n] = node_value(m, t, n, f);
    }
    for (int m = 0; m < CM_COUNT; m++)
      cluster[m][t] = (float)m + 0.5f * (float)t;
    time_s[t] = 15.0 * t;
  }
  h5a_writer *w = NULL;
  CHECK_EQ(h5a_create(&w, path, &lay, &prov), 0);
  CHECK_EQ(h5a_write_topology(w, f), 0);
  CHECK_EQ(h5a_write_window(w, 0, T, gpu, node, (const float *const *)cluster, time_s), 0);
  CHECK_EQ(h5a_finish(&w), 0);
  for (int m = 0; m < GM_COUNT; m++)
    free(gpu[m]);
  for (int m = 0; m < NM_COUNT; m++)
    free(node[m]);
  for (int m = 0; m < CM_COUNT; m++)
    free(cluster[m]);
  free(config_json);
}

static char *slurp(const char *path, long *len) {
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  fseek(fp, 0, SEEK_END);
  *len = ftell(fp);
  rewind(fp);
  char *s = malloc((size_t)*len + 1);
  CHECK(s != NULL);
  CHECK_EQ((long)fread(s, 1, (size_t)*len, fp), *len);
  s[*len] = '\0';
  fclose(fp);
  return s;
}

/* The value of the sample line that starts with prefix (after a newline) in s. */
static float sample_value(const char *s, const char *prefix) {
  char key[600];
  snprintf(key, sizeof key, "\n%s", prefix);
  const char *p = strstr(s, key);
  if (!p)
    CHECK_FAIL("no sample line %s", prefix);
  return strtof(p + strlen(key), NULL);
}

/* node 2's labels after the name: dcgm-exporter's (GPU g) or fleetsim's. */
static void node2_labels(const fleet *f, int dcgm, int g, char *out, size_t cap) {
  char ids[400], job[40] = "";
  if (f->node_job[2] >= 0)
    snprintf(job, sizeof job, ",job=\"train-000\"");
  const char *tenant = fleet_tenant_name(f->node_tenant[2]);
  if (dcgm) {
    om_dcgm_gpu_labels(2, g, ids, sizeof ids);
    snprintf(out, cap, "{%s,rack=\"rack-00\",tenant=\"%s\"%s} ", ids, tenant, job);
  } else {
    snprintf(out, cap, "{node=\"node-0002\",rack=\"rack-00\",gpu=\"%d\",tenant=\"%s\"%s} ", g,
             tenant, job);
  }
}

/* The archive under --naming dcgm and prometheus: names, types, labels and
 * converted values of node 2, GPU 5, rows 0-2 (t = 0, 15, 30 s). */
static void test_namings(const char *dir, const fleet *f) {
  char out[600], labels[600], line[900];
  snprintf(out, sizeof out, "%s/naming.om", dir);
  om_options o = {.run_dir = dir,
                  .out_path = out,
                  .nodes = "2",
                  .from_h = NAN,
                  .to_h = 0.01,
                  .has_start_epoch = 1,
                  .start_epoch = 1000000000,
                  .naming = OM_NAMING_DCGM,
                  .metrics = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,gpu_fb_used_bytes,"
                             "gpu_ecc_sbe_total,gpu_power_violation_ms_total"};
  om_stats st;
  if (om_export(&o, &st) != 0)
    CHECK_FAIL("om_export --naming dcgm: %s", diag_first());
  CHECK_EQ(st.families, 4);
  long len;
  char *s = slurp(out, &len);
  node2_labels(f, 1, 5, labels, sizeof labels);
  /* energy in mJ: row 1 holds 1 * 100 + 2 * 8 + 5 J */
  snprintf(line, sizeof line, "\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION%s121000 1000000015\n",
           labels);
  if (!strstr(s, line))
    CHECK_FAIL("missing line: %s", line);
  CHECK(strstr(s, "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION unknown\n# HELP "
                  "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Energy consumed since the run started "
                  "(mJ); fleetsim gpu_energy_joules_total\n") != NULL);
  /* violation time in ns: 121 ms */
  snprintf(line, sizeof line, "\nDCGM_FI_DEV_POWER_VIOLATION%s121000000 1000000015\n", labels);
  if (!strstr(s, line))
    CHECK_FAIL("missing line: %s", line);
  /* the counter's value is unchanged, its type unknown */
  snprintf(line, sizeof line, "\nDCGM_FI_DEV_ECC_SBE_VOL_TOTAL%s121 1000000015\n", labels);
  CHECK(strstr(s, line) != NULL);
  CHECK(strstr(s, "# TYPE DCGM_FI_DEV_ECC_SBE_VOL_TOTAL unknown\n") != NULL);
  /* framebuffer in MiB: the stored bytes / 2^20 */
  snprintf(line, sizeof line, "DCGM_FI_DEV_FB_USED%s", labels);
  CHECK(sample_value(s, line) == (float)((double)gpu_value(GM_FB_USED, 0, 2, 5).f / 1048576.0));
  CHECK(strstr(s, "node=") == NULL); /* dcgm names the host Hostname */
  free(s);

  o.naming = OM_NAMING_PROMETHEUS;
  o.metrics = "gpu_power_violation_seconds_total,gpu_sm_util_percent,gpu_sm_clock_mhz";
  if (om_export(&o, &st) != 0)
    CHECK_FAIL("om_export --naming prometheus: %s", diag_first());
  s = slurp(out, &len);
  node2_labels(f, 0, 5, labels, sizeof labels);
  snprintf(line, sizeof line, "\ngpu_power_violation_seconds_total%s0.121 1000000015\n", labels);
  if (!strstr(s, line))
    CHECK_FAIL("missing line: %s", line);
  CHECK(strstr(s, "# TYPE gpu_power_violation_seconds counter\n# UNIT gpu_power_violation_seconds "
                  "seconds\n") != NULL);
  CHECK(strstr(s, "# TYPE gpu_utilization_ratio gauge\n# UNIT gpu_utilization_ratio ratio\n") !=
        NULL);
  snprintf(line, sizeof line, "gpu_utilization_ratio%s", labels);
  CHECK(sample_value(s, line) == (float)((double)gpu_value(GM_SM_UTIL, 0, 2, 5).f / 100.0));
  snprintf(line, sizeof line, "gpu_sm_clock_hertz%s", labels);
  CHECK(sample_value(s, line) == (float)((double)gpu_value(GM_SM_CLOCK, 0, 2, 5).f * 1e6));
  free(s);

  /* a DCGM name is no name under the fleetsim naming */
  o.naming = OM_NAMING_FLEETSIM;
  o.metrics = "DCGM_FI_DEV_GPU_TEMP";
  diag_clear();
  CHECK_EQ(om_export(&o, &st), FS_EUSAGE);
  CHECK(strstr(diag_first(), "unknown metric 'DCGM_FI_DEV_GPU_TEMP'") != NULL);
  diag_clear();
  unlink(out);
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  char tmpl[] = "/tmp/fleetsim-unit-om-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  static fs_config cfg;
  cfg_defaults(&cfg);
  static const char *const set[][2] = {{"nodes", "12"},       {"racks", "3"},
                                       {"moe_nodes", "4"},    {"dense_nodes", "4"},
                                       {"training_nodes", "4"}, {"start_hour", "6"}};
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    CHECK_EQ(cfg_set(&cfg, set[i][0], set[i][1], "test"), 0);
  CHECK_EQ(cfg_apply_json(&cfg,
                          "{\"jobs\": [{\"id\": \"train-000\", \"model\": \"m\", \"nodes\": 2, "
                          "\"step_time_s\": 1.5}]}",
                          "test.json"),
           0);
  CHECK_EQ(cfg_validate(&cfg), 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/fleet.h5", dir);
  write_archive(path, f, &cfg);

  /* the same text from three read budgets */
  static const long budgets[] = {0, 1700, 64};
  char *text[3];
  long len[3];
  om_stats st[3];
  for (int b = 0; b < 3; b++) {
    char out[600];
    snprintf(out, sizeof out, "%s/out%d.om", dir, b);
    om_options o = {.run_dir = dir, .out_path = out, .nodes = "1-6,11", .from_h = NAN,
                    .to_h = 0.2, .has_start_epoch = 1, .start_epoch = 1000000000,
                    .read_budget = budgets[b]};
    if (om_export(&o, &st[b]) != 0)
      CHECK_FAIL("om_export with budget %ld: %s", budgets[b], diag_first());
    text[b] = slurp(out, &len[b]);
    char partial[700];
    snprintf(partial, sizeof partial, "%s.partial", out);
    CHECK(access(partial, F_OK) != 0);
  }
  for (int b = 1; b < 3; b++) {
    CHECK_EQ(len[b], len[0]);
    CHECK(memcmp(text[b], text[0], (size_t)len[0]) == 0);
    CHECK_EQ(st[b].samples, st[0].samples);
    CHECK_EQ(st[b].series, st[0].series);
  }
  /* 0.2 h = 720 s: rows 0..47 (t < 720); 7 nodes */
  const int rows = 48;
  int applicable[NM_COUNT], napp = 0;
  for (int m = 0; m < NM_COUNT; m++) {
    applicable[m] = 0;
    for (int n = 1; n <= 11; n++)
      if ((n <= 6 || n == 11) && (metric_node[m].tenants & (1u << f->node_tenant[n])))
        applicable[m]++;
    napp += applicable[m];
  }
  /* + the two annotation families, without series: no ground truth, no events */
  CHECK_EQ(st[0].families, GM_COUNT + NM_COUNT + CM_COUNT + 2);
  CHECK(strstr(text[0], "# TYPE fleetsim_scenario_active gauge\n") != NULL);
  CHECK(strstr(text[0], "# TYPE fleetsim_l1_event gauge\n") != NULL);
  CHECK_EQ(st[0].series, GM_COUNT * 7 * FLEET_GPUS + napp + CM_COUNT);
  CHECK_EQ(st[0].samples, (int64_t)rows * (GM_COUNT * 7 * FLEET_GPUS + napp + CM_COUNT));
  CHECK_EQ(st[0].nan_skipped, 0); /* other tenants' nodes are not even read */
  const char *s = text[0];
  CHECK(len[0] > 6 && strcmp(s + len[0] - 6, "# EOF\n") == 0);
  CHECK(strstr(s, "# TYPE gpu_ecc_sbe counter\n") != NULL);
  CHECK(strstr(s, "# TYPE gpu_temp_celsius gauge\n# UNIT gpu_temp_celsius celsius\n# HELP "
                  "gpu_temp_celsius GPU junction temperature (C); DCGM_FI_DEV_GPU_TEMP\n") != NULL);
  /* one counter sample: row 3 (t = 45 s) of node 2, GPU 5 */
  char want[300];
  snprintf(want, sizeof want,
           "\ngpu_ecc_sbe_total{node=\"node-0002\",rack=\"rack-00\",gpu=\"5\",tenant=\"%s\"%s} "
           "%u 1000000045\n",
           fleet_tenant_name(f->node_tenant[2]), f->node_job[2] >= 0 ? ",job=\"train-000\"" : "",
           3 * 100 + 2 * 8 + 5);
  if (!strstr(s, want))
    CHECK_FAIL("missing line: %s", want);
  check_count++;
  char cl[120];
  snprintf(cl, sizeof cl, "\n%s %g 1000000015\n", metric_cluster[1].name, 1 + 0.5);
  CHECK(strstr(s, cl) != NULL);
  /* counter samples keep _total; no family is named with it */
  CHECK(strstr(s, "# TYPE gpu_ecc_sbe_total") == NULL);
  /* no node outside 1-6,11 */
  CHECK(strstr(s, "node=\"node-0000\"") == NULL && strstr(s, "node=\"node-0007\"") == NULL);

  /* default epoch: start_hour 6 -> t = 0 at 06:00 UTC */
  char out[600];
  snprintf(out, sizeof out, "%s/default.om", dir);
  om_options o = {.run_dir = dir, .out_path = out, .metrics = "facility_pue", .from_h = NAN,
                  .to_h = NAN};
  om_stats sd;
  CHECK_EQ(om_export(&o, &sd), 0);
  CHECK_EQ(((sd.start_epoch % 86400) + 86400) % 86400, 6 * 3600);
  CHECK_EQ(sd.samples, T);
  /* input problems are all collected; nothing is written */
  snprintf(out, sizeof out, "%s/bad.om", dir);
  om_options bad = {.run_dir = dir, .out_path = out, .metrics = "nope,ttft_ms,nope2",
                    .nodes = "0-99", .from_h = 0.5, .to_h = 0.1};
  diag_clear();
  CHECK_EQ(om_export(&bad, &sd), FS_EUSAGE);
  CHECK_EQ(diag_count(), 4); /* two names, the node range, the hours */
  CHECK(access(out, F_OK) != 0);
  diag_clear();
  test_namings(dir, f);

  for (int b = 0; b < 3; b++) {
    char p[600];
    snprintf(p, sizeof p, "%s/out%d.om", dir, b);
    unlink(p);
    free(text[b]);
  }
  snprintf(out, sizeof out, "%s/default.om", dir);
  unlink(out);
  unlink(path);
  rmdir(dir);
  fleet_destroy(&f);
  printf("unit_openmetrics_export: %ld checks passed\n", check_count);
  par_finalize();
  return 0;
}
