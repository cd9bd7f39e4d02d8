/* Unit tests of outcome scoring (pipeline/score/outcomes*.c) on synthetic
 * twin records for the 12-node test fleet and three scenarios (a training
 * straggler on node-0005, a KV-cache storm, a storage slowdown without a
 * remedy): goodput, tokens, SLA budget, GPU-hours lost, collateral, action
 * cost, time to mitigation (never, n/a, an action before the start not
 * counting), scenarios mitigated, the share of the oracle's gain (also n/a
 * when the oracle gains nothing), the table order and the Markdown; then
 * the error paths: a missing fault-free or no-action record, a record that
 * is not JSON, a missing or bad field, an action that does not parse. No
 * MPI. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/score/outcomes.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"

static char dir[64];

/* S1 starts at 1 h (scrape 240), S2 at 0.5 h (scrape 120), S3 at 2 h. */
static const char SCENARIOS[] =
    "{\"scenarios\": ["
    "{\"id\": \"S1\", \"kind\": \"training_straggler\", \"start_h\": 1, \"duration_min\": 60, "
    "\"job\": \"train-000\", \"job_node\": 1},"
    "{\"id\": \"S2\", \"kind\": \"kv_cache_eviction_storm\", \"start_h\": 0.5, "
    "\"duration_min\": 60},"
    "{\"id\": \"S3\", \"kind\": \"storage_slowdown\", \"start_h\": 2, \"duration_min\": 30}]}";

/* Writes DIR/closed_loop/<policy>.json. */
static void put(const char *policy, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/closed_loop/%s.json", dir, policy);
  FILE *fp = fopen(path, "w");
  CHECK(fp != NULL);
  fputs(text, fp);
  CHECK_EQ(fclose(fp), 0);
}

/* A record of policy/role with the job's steps, the dense tokens, and the
 * out-of-service and action lists as JSON array text. */
static void put_record(const char *policy, const char *role, double pace, double steps, double lost,
                       double dense, const char *out, const char *actions) {
  char text[4096];
  snprintf(text, sizeof text,
           "{\"policy\": \"%s\", \"role\": \"%s\", \"about\": \"%s twin\", \"hours\": 3, "
           "\"scrape_interval_s\": 15, \"latency_pace\": %g,"
           " \"jobs\": [{\"job\": \"train-000\", \"gpus\": 16, \"step_time_s\": 1.5, "
           "\"steps\": %g, \"steps_lost\": %g}],"
           " \"tenants\": [{\"tenant\": \"moe-inference\", \"tokens\": 1000, "
           "\"sla_budget_left_percent\": 90},"
           " {\"tenant\": \"dense-inference\", \"tokens\": %g, \"sla_budget_left_percent\": 80},"
           " {\"tenant\": \"training\", \"tokens\": 0, \"sla_budget_left_percent\": 100}],"
           " \"gpu_s_out\": %s, \"actions\": %s, \"decisions\": 3, \"rejected\": 1}",
           policy, role, policy, pace, steps, lost, dense, out, actions);
  put(policy, text);
}

/* Actions of the oracle: S1 +60 s and +120 s, S2 +300 s. */
static const char ORACLE_ACTS[] =
    "[{\"t_s\": 3660, \"call_id\": null, \"action\": \"checkpoint_job\", \"target\": "
    "\"train-000\"}, {\"t_s\": 3720, \"call_id\": null, \"action\": "
    "\"restart_job_without_node\", \"target\": \"node-0005\"}, {\"t_s\": 2100, \"call_id\": "
    "null, \"action\": \"raise_kv_capacity\", \"target\": \"dense-inference\"}]";

static void put_all(void) {
  put_record("fault-free", "fault-free", 0, 7200, 0, 2000, "[]", "[]");
  put_record("no-action", "no-action", 0, 6000, 0, 1500, "[]", "[]");
  put_record("oracle", "oracle", 0, 7000, 100, 1900,
             "[{\"node\": \"node-0005\", \"gpu_s\": 28800}]", ORACLE_ACTS);
  /* rules: a drain of node-0005 before S1 (not counted) and 600 s after;
   * cap_context_length on moe-inference does not cover S2; node-0000 is
   * out for 2 GPU-h and no scenario impacts it */
  put_record("rules", "backend", 1.5, 6500, 0, 1700,
             "[{\"node\": \"node-0000\", \"gpu_s\": 7200}, {\"node\": \"node-0005\", "
             "\"gpu_s\": 3600}]",
             "[{\"t_s\": 3500, \"call_id\": \"L3-000001\", \"action\": \"drain_node\", "
             "\"target\": \"node-0005\"}, {\"t_s\": 4200, \"call_id\": \"L3-000002\", "
             "\"action\": \"drain_node\", \"target\": \"node-0005\"}, {\"t_s\": 2000, "
             "\"call_id\": \"L3-000003\", \"action\": \"cap_context_length\", \"target\": "
             "\"moe-inference\"}, {\"t_s\": 2500, \"call_id\": \"L4-000000\", \"action\": "
             "\"drain_node\", \"target\": \"node-0000\"}]");
  put_record("salad", "null", 0, 5000, 0, 1500, "[]",
             "[{\"t_s\": 1900, \"call_id\": \"L3-000004\", \"action\": \"rebalance_experts\", "
             "\"target\": \"rack-00\"}]");
}

static json_t *load_outcomes(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/results/outcomes.json", dir);
  json_error_t err;
  json_t *j = json_load_file(path, 0, &err);
  if (!j)
    CHECK_FAIL("%s: %s", path, err.text);
  return j;
}

static double num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_number(v))
    CHECK_FAIL("key %s is not a number", key);
  return json_number_value(v);
}

static void check_figures(json_t *j) {
  json_t *p = json_object_get(j, "policies");
  CHECK_EQ(json_array_size(p), 5);
  static const char *const order[] = {"fault-free", "no-action", "oracle", "rules", "salad"};
  for (size_t i = 0; i < 5; i++)
    CHECK_EQ(strcmp(json_string_value(json_object_get(json_array_get(p, i), "policy")), order[i]),
             0);
  json_t *ff = json_array_get(p, 0), *na = json_array_get(p, 1), *orc = json_array_get(p, 2);
  json_t *rules = json_array_get(p, 3), *salad = json_array_get(p, 4);
  CHECK_NEAR(num(ff, "training_goodput_percent"), 100, 1e-9);
  CHECK_NEAR(num(ff, "gpu_hours_lost"), 0, 1e-9);
  CHECK(json_is_null(json_object_get(ff, "oracle_gain_recovered_percent")));
  CHECK(json_is_null(json_object_get(ff, "scenarios_mitigated")));
  CHECK_NEAR(num(na, "training_goodput_percent"), 100.0 * 6000 / 7200, 1e-9);
  CHECK_NEAR(num(json_object_get(na, "tokens_percent"), "dense-inference"), 75, 1e-9);
  CHECK_NEAR(num(json_object_get(na, "tokens_percent"), "moe-inference"), 100, 1e-9);
  CHECK_NEAR(num(json_object_get(na, "sla_budget_left_percent"), "dense-inference"), 80, 1e-9);
  /* 1200 steps x 1.5 s x 16 GPUs = 8 GPU-h; a quarter of dense tokens x 32 GPUs x 3 h = 24 */
  CHECK_NEAR(num(na, "gpu_hours_lost"), 32, 1e-9);
  CHECK_NEAR(num(na, "oracle_gain_recovered_percent"), 0, 1e-9);
  CHECK_EQ(json_integer_value(json_object_get(na, "scenarios_mitigated")), 0);
  CHECK_EQ(json_integer_value(json_object_get(na, "scenarios_with_remedy")), 2);
  /* oracle: kept 6900 -> 2 GPU-h, dense 95 % -> 4.8 */
  CHECK_NEAR(num(orc, "training_goodput_percent"), 100.0 * 6900 / 7200, 1e-9);
  CHECK_NEAR(num(orc, "gpu_hours_lost"), 6.8, 1e-9);
  CHECK_NEAR(num(orc, "action_gpu_hours"), 8 + 100 * 1.5 * 16 / 3600.0, 1e-9);
  CHECK_NEAR(num(orc, "collateral_gpu_hours"), 0, 1e-9);
  CHECK_NEAR(num(orc, "oracle_gain_recovered_percent"), 100, 1e-9);
  CHECK_EQ(json_integer_value(json_object_get(orc, "scenarios_mitigated")), 2);
  CHECK_EQ(json_integer_value(json_object_get(orc, "actions")), 3);
  /* rules: 700 steps -> 4.667, dense 85 % -> 14.4; (32 - 19.067) / (32 - 6.8) */
  double rules_lost = 700 * 1.5 * 16 / 3600.0 + 0.15 * 32 * 3;
  CHECK_NEAR(num(rules, "gpu_hours_lost"), rules_lost, 1e-9);
  CHECK_NEAR(num(rules, "oracle_gain_recovered_percent"), 100 * (32 - rules_lost) / (32 - 6.8),
             1e-9);
  CHECK_NEAR(num(rules, "collateral_gpu_hours"), 2, 1e-9);
  CHECK_NEAR(num(rules, "action_gpu_hours"), 3, 1e-9);
  CHECK_NEAR(num(rules, "latency_pace"), 1.5, 1e-9);
  CHECK_EQ(json_integer_value(json_object_get(rules, "scenarios_mitigated")), 1);
  CHECK_EQ(json_integer_value(json_object_get(rules, "decisions")), 3);
  CHECK_EQ(json_integer_value(json_object_get(rules, "rejected")), 1);
  /* salad does worse than doing nothing: a negative share */
  double salad_lost = 2200 * 1.5 * 16 / 3600.0 + 24;
  CHECK_NEAR(num(salad, "oracle_gain_recovered_percent"), 100 * (32 - salad_lost) / 25.2, 1e-9);
  CHECK(num(salad, "oracle_gain_recovered_percent") < 0);

  json_t *s = json_object_get(j, "scenarios");
  CHECK_EQ(json_array_size(s), 3);
  json_t *s1 = json_object_get(json_array_get(s, 0), "time_to_mitigation_s");
  json_t *s2 = json_object_get(json_array_get(s, 1), "time_to_mitigation_s");
  json_t *s3 = json_object_get(json_array_get(s, 2), "time_to_mitigation_s");
  CHECK_NEAR(num(json_array_get(s, 0), "start_s"), 3600, 1e-9);
  CHECK(json_object_get(s1, "fault-free") == NULL);
  CHECK_EQ(strcmp(json_string_value(json_object_get(s1, "no-action")), "never"), 0);
  CHECK_NEAR(num(s1, "oracle"), 60, 1e-9);
  CHECK_NEAR(num(s1, "rules"), 600, 1e-9);
  CHECK_EQ(strcmp(json_string_value(json_object_get(s1, "salad")), "never"), 0);
  CHECK_NEAR(num(s2, "oracle"), 300, 1e-9);
  CHECK_EQ(strcmp(json_string_value(json_object_get(s2, "rules")), "never"), 0);
  CHECK(json_is_null(json_object_get(s3, "oracle")) && json_is_null(json_object_get(s3, "rules")));
}

static char *read_all(const char *path) {
  FILE *fp = fopen(path, "r");
  CHECK(fp != NULL);
  static char buf[16384];
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return buf;
}

static void check_markdown(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/results/outcomes.md", dir);
  const char *md = read_all(path);
  CHECK(strstr(md, "Made by `fleetsim run --closed-loop --hours 3`.") != NULL);
  CHECK(strstr(md, "rules 1.5.") != NULL);
  CHECK(strstr(md, "| fault-free | fault-free | 100.0% | 100.0% | 100.0% | 90.0% / 80.0% / "
                   "100.0% | 0.0 | 0.0 | 0 | 0.0 | 3 (1) | n/a | n/a |") != NULL);
  CHECK(strstr(md, "| oracle | oracle | 95.8% | 100.0% | 95.0% |") != NULL);
  CHECK(strstr(md, "| 2/2 | 100% |") != NULL);
  CHECK(strstr(md, "| scenario | kind | start | no-action | oracle | rules | salad |") != NULL);
  CHECK(strstr(md, "| S1 | training_straggler | 01:00 | never | 1.0 | 10.0 | never |") != NULL);
  CHECK(strstr(md, "| S3 | storage_slowdown | 02:00 | n/a | n/a | n/a | n/a |") != NULL);
  CHECK(strstr(md, "- `salad` (null): salad twin") != NULL);
  CHECK(strstr(md, "fault-free") < strstr(md, "| no-action |"));
}

/* outcomes_write fails with FS_EINVAL and a message holding want. */
static void expect_error(const fleet *f, const scn_set *set, const char *const *pol, int npol,
                         const char *want) {
  diag_clear();
  int rc = outcomes_write(dir, f, set, pol, npol, NULL);
  if (rc != FS_EINVAL || !strstr(diag_first(), want))
    CHECK_FAIL("rc %d, message '%s', wanted '%s'", rc, diag_first(), want);
}

static void test_errors(const fleet *f, const scn_set *set) {
  const char *const rules[] = {"rules"};
  char path[256], want[300];
  snprintf(path, sizeof path, "%s/closed_loop/fault-free.json", dir);
  CHECK_EQ(unlink(path), 0);
  snprintf(want, sizeof want, "%s: missing", path);
  expect_error(f, set, rules, 1, want);
  put_record("fault-free", "fault-free", 0, 7200, 0, 2000, "[]", "[]");
  snprintf(path, sizeof path, "%s/closed_loop/no-action.json", dir);
  CHECK_EQ(unlink(path), 0);
  snprintf(want, sizeof want, "%s: missing", path);
  expect_error(f, set, NULL, 0, want);
  put_record("no-action", "no-action", 0, 6000, 0, 1500, "[]", "[]");

  put("rules", "{\"policy\": \"rules\",");
  expect_error(f, set, rules, 1, "closed_loop/rules.json: not a JSON object");
  put_record("rules", "backend", 1, 6500, 0, 1700, "[]", "[]");
  char text[4096];
  snprintf(path, sizeof path, "%s/closed_loop/rules.json", dir);
  snprintf(text, sizeof text, "%s", read_all(path));
  static const struct {
    const char *from, *to, *want;
  } cases[] = {
      {"\"decisions\": 3", "\"decision\": 3",
       "rules.json: field 'decisions': missing or not a whole number"},
      {"\"steps\": 6500", "\"step\": 6500", "rules.json: field 'jobs[0].steps': missing"},
      {"\"train-000\"", "\"train-009\"", "field 'jobs[0].job': 'train-009' is not a training job"},
      {"\"role\": \"backend\"", "\"role\": \"referee\"", "field 'role': 'referee' is not"},
      {"\"role\": \"backend\"", "\"role\": \"no-action\"",
       "field 'role': 'no-action': only no-action.json has role no-action"},
      {"\"policy\": \"rules\"", "\"policy\": \"rule\"", "field 'policy': 'rule' is not the file"},
      {"\"scrape_interval_s\": 15", "\"scrape_interval_s\": 30",
       "field 'scrape_interval_s': 30 is not the run's 15"},
      {"\"tenant\": \"training\"", "\"tenant\": \"batch\"", "field 'tenants[2].tenant': 'batch'"},
      {"\"gpu_s_out\": []", "\"gpu_s_out\": [{\"node\": \"node-0012\", \"gpu_s\": 1}]",
       "field 'gpu_s_out[0].node': 'node-0012' is not a node of the run"},
      {"\"actions\": []",
       "\"actions\": [{\"t_s\": 1, \"call_id\": null, \"action\": \"drain_node\", \"target\": "
       "\"rack-01\"}]",
       "field 'actions[0]': drain_node: target 'rack-01' is not node-NNNN"},
      {"\"actions\": []", "\"actions\": [{\"t_s\": 1, \"action\": \"no_op\", \"target\": \"\"}]",
       "field 'actions[0].call_id': missing or not a string or null"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char bad[4096];
    const char *at = strstr(text, cases[i].from);
    CHECK(at != NULL);
    snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - text), text, cases[i].to,
             at + strlen(cases[i].from));
    put("rules", bad);
    expect_error(f, set, rules, 1, cases[i].want);
  }
  put("rules", text);
  const char *const odd[] = {"../x"};
  expect_error(f, set, odd, 1, "policy '../x' is not a name");
}

int main(void) {
  fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  scn_set *set = NULL;
  if (scn_parse(&set, SCENARIOS, "test.json", f) != 0)
    CHECK_FAIL("scenarios: %s", diag_first());
  CHECK(set->s[0].nnodes == 1 && set->s[0].nodes[0] == 5);
  CHECK_EQ(set->s[0].t_start, 240);

  snprintf(dir, sizeof dir, "/tmp/unit_outcomes.XXXXXX");
  CHECK(mkdtemp(dir) != NULL);
  char sub[128];
  snprintf(sub, sizeof sub, "%s/closed_loop", dir);
  CHECK_EQ(mkdir(sub, 0755), 0);
  put_all();
  const char *const given[] = {"salad", "rules", "oracle"};
  const char *cmd = "fleetsim run --closed-loop --hours 3";
  if (outcomes_write(dir, f, set, given, 3, cmd) != 0)
    CHECK_FAIL("outcomes_write: %s", diag_first());
  json_t *j = load_outcomes();
  check_figures(j);
  check_markdown();
  json_decref(j);

  /* every record of the folder (NULL): the same table */
  if (outcomes_write(dir, f, set, NULL, 0, cmd) != 0)
    CHECK_FAIL("outcomes_write (all): %s", diag_first());
  j = load_outcomes();
  check_figures(j);
  json_decref(j);

  /* an oracle that gains nothing: no share anywhere */
  put_record("oracle", "oracle", 0, 6000, 0, 1500, "[]", "[]");
  CHECK_EQ(outcomes_write(dir, f, set, given, 3, cmd), 0);
  j = load_outcomes();
  json_t *p = json_object_get(j, "policies");
  for (size_t i = 0; i < json_array_size(p); i++)
    CHECK(json_is_null(json_object_get(json_array_get(p, i), "oracle_gain_recovered_percent")));
  json_decref(j);

  test_errors(f, set);

  char cmdline[300];
  snprintf(cmdline, sizeof cmdline, "rm -rf %s", dir);
  CHECK_EQ(system(cmdline), 0);
  scn_destroy(&set);
  fleet_destroy(&f);
  printf("unit_outcomes: %ld checks passed\n", check_count);
  return 0;
}
