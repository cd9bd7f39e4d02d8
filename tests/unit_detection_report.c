/* Unit tests of the L1 quality report (pipeline/score/detection_report.c): a
 * hand-built 12-node fleet, seven scenarios from an inline scenario file and
 * hand-written events that exercise every matching rule (time window and its
 * inclusive 10-minute grace, impacted vs root-cause nodes, rack, job and
 * cluster scope, the kind's signature metrics, overlapping scenarios, late
 * and noise events); every JSON
 * field read back with jansson, the markdown table, order independence,
 * rules that must not match, empty inputs and error paths. No MPI. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/score/checklist.h"
#include "pipeline/score/detection_report.h"
#include "src/model/events.h"
#include "scenarios/scenario.h"
#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"


enum { DT = 15 };
static const double RUN_S = 3 * 3600.0;
static chk_set *KN; /* the built-in checklists: signature metrics per kind */


/* Start and end in seconds: S1 [1800, 3600), S2 [4500, 5100), S3 [6300,
 * 7500), S4 [8100, 8220) (shorter than a detection block), S5 [9000, 9900),
 * S6 [2160, 2760) (overlaps S1 on rack 1), S7 [10440, 10740). */
static const char *const SCENARIOS =
    "{\"scenarios\": [\n"
    " {\"id\": \"S1\", \"kind\": \"thermal_cascade\", \"start_h\": 0.5, \"duration_min\": 30,"
    " \"racks\": [1], \"nodes_per_rack\": 2},\n"
    " {\"id\": \"S2\", \"kind\": \"training_straggler\", \"start_h\": 1.25, \"duration_min\": 10,"
    " \"job\": \"train-000\", \"job_node\": 1},\n"
    " {\"id\": \"S3\", \"kind\": \"kv_cache_eviction_storm\", \"start_h\": 1.75,"
    " \"duration_min\": 20},\n"
    " {\"id\": \"S4\", \"kind\": \"fabric_microburst\", \"start_h\": 2.25, \"duration_min\": 2,"
    " \"racks\": [0]},\n"
    " {\"id\": \"S5\", \"kind\": \"thermal_cascade\", \"start_h\": 2.5, \"duration_min\": 15,"
    " \"racks\": [2], \"nodes_per_rack\": 1},\n"
    " {\"id\": \"S6\", \"kind\": \"fabric_microburst\", \"start_h\": 0.6, \"duration_min\": 10,"
    " \"racks\": [1]},\n"
    " {\"id\": \"S7\", \"kind\": \"expert_routing_collapse\", \"start_h\": 2.9,"
    " \"duration_min\": 5}\n"
    "]}\n";

/* The ground truth the report relies on, as scn_parse resolves it. */
static void check_ground_truth(const fleet *f, const scn_set *set) {
  for (int n = 0; n < 12; n++) {
    CHECK_EQ(f->node_tenant[n], n % 3);
    CHECK_EQ(f->node_rack[n], n / 4);
    CHECK_EQ(f->node_job[n], n == 2 || n == 5 ? 0 : -1);
  }
  CHECK_EQ(set->n, 7);
  static const int32_t n1[] = {6, 7}, n2[] = {5}, i2[] = {2, 5}, n3[] = {1, 4, 7, 10};
  static const int32_t n4[] = {0, 1, 2, 3}, i4[] = {0, 1, 2, 3, 5}, n5[] = {11};
  static const int32_t n6[] = {4, 5, 6, 7}, i6[] = {2, 4, 5, 6, 7};
  const struct {
    const int32_t *nodes;
    int nnodes;
    const int32_t *impacted;
    int nimpacted;
  } want[6] = {{n1, 2, n1, 2}, {n2, 1, i2, 2}, {n3, 4, n3, 4},
               {n4, 4, i4, 5}, {n5, 1, n5, 1}, {n6, 4, i6, 5}};
  for (int k = 0; k < 6; k++) {
    const scn_def *s = &set->s[k];
    CHECK_EQ(s->nnodes, want[k].nnodes);
    CHECK_EQ(s->nimpacted, want[k].nimpacted);
    CHECK(memcmp(s->nodes, want[k].nodes, sizeof(int32_t) * (size_t)s->nnodes) == 0);
    CHECK(memcmp(s->impacted, want[k].impacted, sizeof(int32_t) * (size_t)s->nimpacted) == 0);
  }
  CHECK_EQ(set->s[3].t_end - set->s[3].t_start, 8); /* S4: two minutes */
}

/* One event triggered by metric; rack and tenant follow the node unless the
 * caller changes them. */
static ev_event evm(const fleet *f, int64_t id, double t_s, ev_scope scope, int node, int esc,
                    const char *metric) {
  ev_event e;
  memset(&e, 0, sizeof e);
  e.event_id = id;
  e.t_s = t_s;
  e.step = (int32_t)(t_s / 300.0) - 1;
  e.scope = scope;
  e.node = node;
  e.rack = node >= 0 && node < f->nodes ? f->node_rack[node] : -1;
  e.job = node >= 0 && node < f->nodes ? f->node_job[node] : -1;
  e.tenant = node >= 0 && node < f->nodes ? f->node_tenant[node] : -1;
  e.nodes = 1;
  snprintf(e.top.metric, sizeof e.top.metric, "%s", metric);
  e.top.gpu = -1;
  e.top.z = 9.5f;
  e.escalated = esc;
  if (esc)
    snprintf(e.escalation_reason, sizeof e.escalation_reason, "test");
  return e;
}

static ev_event ev(const fleet *f, int64_t id, double t_s, ev_scope scope, int node, int esc) {
  return evm(f, id, t_s, scope, node, esc, "inlet_temp_celsius");
}

enum { NEV = 12 };

static void make_events(const fleet *f, ev_event *e) {
  e[0] = ev(f, 0, 900, EV_SCOPE_NODE, 9, 0);    /* noise: no scenario yet */
  e[1] = ev(f, 1, 1785, EV_SCOPE_NODE, 6, 0);   /* S1's root node, before S1 starts */
  e[2] = ev(f, 2, 2100, EV_SCOPE_NODE, 7, 1);   /* S1 root: detected, localized, escalated */
  /* rack 1: S1 by rack, S6 by its root node 4 (a metric both kinds move) */
  e[3] = evm(f, 3, 2400, EV_SCOPE_RACK, 4, 0, "allreduce_wait_ms");
  e[4] = ev(f, 4, 4200, EV_SCOPE_NODE, 6, 0);   /* S1: exactly end + 10 min, still counts */
  e[5] = evm(f, 5, 4800, EV_SCOPE_NODE, 2, 0, "allreduce_wait_ms"); /* S2: impacted job peer */
  e[6] = evm(f, 6, 5715, EV_SCOPE_NODE, 5, 1, "gpu_nvlink_replay_total"); /* S2's root, late */
  e[7] = evm(f, 7, 6600, EV_SCOPE_CLUSTER, 0, 1, "kv_cache_hit_ratio"); /* S3 by tenant */
  e[7].tenant = TENANT_DENSE;
  e[7].job = -1;
  e[8] = evm(f, 8, 8400, EV_SCOPE_JOB, 8, 0, "allreduce_wait_ms"); /* S4 by job 0 (root node 2) */
  e[8].job = 0;
  e[9] = evm(f, 9, 8700, EV_SCOPE_NODE, 1, 0, "ib_port_rcv_errors_total"); /* S4 root node */
  e[10] = ev(f, 10, 9660, EV_SCOPE_NODE, 11, 0); /* S5 root, 11 min after start */
  /* S1's root node in S1's time, but an SBE signal: not what a cooling failure moves */
  e[11] = evm(f, 11, 2100, EV_SCOPE_GPU, 7, 0, "gpu_ecc_sbe_total");
}

/* ---- reading the JSON back -------------------------------------------------- */

static json_t *load(const char *path) {
  json_error_t err;
  json_t *root = json_load_file(path, 0, &err);
  if (!root)
    CHECK_FAIL("%s: line %d: %s", path, err.line, err.text);
  CHECK(json_is_object(root));
  return root;
}

static void check_int(json_t *o, const char *key, long long want) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v))
    CHECK_FAIL("key '%s' is not an integer", key);
  CHECK_EQ(json_integer_value(v), want);
}

static void check_num(json_t *o, const char *key, double want) {
  json_t *v = json_object_get(o, key);
  if (!json_is_number(v))
    CHECK_FAIL("key '%s' is not a number", key);
  CHECK_NEAR(json_number_value(v), want, 1e-9);
}

static void check_null(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!v || !json_is_null(v))
    CHECK_FAIL("key '%s' is not null", key);
  check_count++;
}

static void check_bool(json_t *o, const char *key, int want) {
  json_t *v = json_object_get(o, key);
  if (!json_is_boolean(v))
    CHECK_FAIL("key '%s' is not a boolean", key);
  CHECK_EQ(json_is_true(v), want);
}

/* The keys of o, in order, are exactly keys[n]. */
static void check_keys(json_t *o, const char *const *keys, int n) {
  int i = 0;
  for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), i++) {
    if (i >= n)
      CHECK_FAIL("unexpected key '%s'", json_object_iter_key(it));
    CHECK_STREQ(json_object_iter_key(it), keys[i]);
  }
  CHECK_EQ(i, n);
}

static const char *const TOP_KEYS[] = {
    "scenarios",          "events_total",         "events_per_day",
    "escalated_events",   "escalation_rate",      "unmatched_events",
    "unmatched_share",    "escalated_matching_share", "scenarios_total",
    "scenarios_detected", "scenarios_localized",  "scenarios_escalated",
    "detected_within_10_min_share", "run_seconds"};
static const char *const SCN_KEYS[] = {"id",       "kind",        "start_s",
                                       "end_s",    "detected",    "first_detection_latency_s",
                                       "localized", "escalated",  "events", "first_metric"};
enum { NTOP = sizeof TOP_KEYS / sizeof TOP_KEYS[0], NSCNK = sizeof SCN_KEYS / sizeof SCN_KEYS[0] };

typedef struct {
  const char *id, *kind;
  double start_s, end_s;
  int detected;
  double latency_s; /* < 0: null */
  int localized, escalated, events;
  const char *first_metric; /* NULL: null */
} want_scenario;

static void check_scenario(json_t *o, const want_scenario *w) {
  check_keys(o, SCN_KEYS, NSCNK);
  CHECK_STREQ(json_string_value(json_object_get(o, "id")), w->id);
  CHECK_STREQ(json_string_value(json_object_get(o, "kind")), w->kind);
  check_num(o, "start_s", w->start_s);
  check_num(o, "end_s", w->end_s);
  check_bool(o, "detected", w->detected);
  if (w->latency_s < 0)
    check_null(o, "first_detection_latency_s");
  else
    check_num(o, "first_detection_latency_s", w->latency_s);
  check_bool(o, "localized", w->localized);
  check_bool(o, "escalated", w->escalated);
  check_int(o, "events", w->events);
  if (w->first_metric)
    CHECK_STREQ(json_string_value(json_object_get(o, "first_metric")), w->first_metric);
  else
    check_null(o, "first_metric");
}

static char *slurp(const char *path) {
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  CHECK(fseek(fp, 0, SEEK_END) == 0);
  long n = ftell(fp);
  CHECK(n >= 0 && fseek(fp, 0, SEEK_SET) == 0);
  char *s = calloc((size_t)n + 1, 1);
  CHECK(s && fread(s, 1, (size_t)n, fp) == (size_t)n);
  fclose(fp);
  return s;
}

static char *table_text(const detrep *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  CHECK(mem != NULL);
  detrep_print_table(r, mem);
  CHECK(fclose(mem) == 0);
  return buf;
}

/* ---- the cases ------------------------------------------------------------ */

static void test_full(const fleet *f, const scn_set *set, const char *dir) {
  ev_event e[NEV];
  make_events(f, e);
  detrep *r = NULL;
  CHECK_EQ(detrep_build(&r, e, NEV, set, f, KN, DT, RUN_S), 0);
  CHECK(r != NULL);
  char path[512];
  snprintf(path, sizeof path, "%s/detection.json", dir);
  CHECK_EQ(detrep_write_json(r, path), 0);

  json_t *root = load(path);
  check_keys(root, TOP_KEYS, NTOP);
  json_t *list = json_object_get(root, "scenarios");
  CHECK(json_is_array(list));
  CHECK_EQ(json_array_size(list), 7);
  static const want_scenario want[7] = {
      {"S1", "thermal_cascade", 1800, 3600, 1, 300, 1, 1, 3, "inlet_temp_celsius"},
      {"S2", "training_straggler", 4500, 5100, 1, 300, 0, 0, 1, "allreduce_wait_ms"},
      {"S3", "kv_cache_eviction_storm", 6300, 7500, 1, 300, 0, 1, 1, "kv_cache_hit_ratio"},
      {"S4", "fabric_microburst", 8100, 8220, 1, 300, 1, 0, 2, "allreduce_wait_ms"},
      {"S5", "thermal_cascade", 9000, 9900, 1, 660, 1, 0, 1, "inlet_temp_celsius"},
      {"S6", "fabric_microburst", 2160, 2760, 1, 240, 1, 0, 1, "allreduce_wait_ms"},
      {"S7", "expert_routing_collapse", 10440, 10740, 0, -1, 0, 0, 0, NULL},
  };
  for (int k = 0; k < 7; k++)
    check_scenario(json_array_get(list, (size_t)k), &want[k]);
  check_int(root, "events_total", NEV);
  check_num(root, "events_per_day", NEV * 86400.0 / RUN_S); /* 96 */
  check_int(root, "escalated_events", 3);                    /* e2, e6, e7 */
  check_num(root, "escalation_rate", 3.0 / NEV);
  check_int(root, "unmatched_events", 4); /* e0, e1, e6, e11 */
  check_num(root, "unmatched_share", 4.0 / NEV);
  check_num(root, "escalated_matching_share", 2.0 / 3.0); /* e2, e7 of e2, e6, e7 */
  check_int(root, "scenarios_total", 7);
  check_int(root, "scenarios_detected", 6);
  check_int(root, "scenarios_localized", 4);
  check_int(root, "scenarios_escalated", 2);
  check_num(root, "detected_within_10_min_share", 5.0 / 7.0); /* not S5 (11 min), not S7 */
  check_num(root, "run_seconds", RUN_S);
  json_decref(root);

  char *text = slurp(path);
  CHECK(strncmp(text, "{\n  \"scenarios\": [\n    {\n      \"id\": \"S1\",", 40) == 0);

  /* the table */
  char *table = table_text(r);
  const char *want_table =
      "| scenario | kind | detected | first detection (min) | by | localized | escalated | "
      "events |\n"
      "|---|---|---|---|---|---|---|---|\n"
      "| S1 | thermal_cascade | yes | 5.0 | inlet_temp_celsius | yes | yes | 3 |\n"
      "| S2 | training_straggler | yes | 5.0 | allreduce_wait_ms | no | no | 1 |\n"
      "| S3 | kv_cache_eviction_storm | yes | 5.0 | kv_cache_hit_ratio | no | yes | 1 |\n"
      "| S4 | fabric_microburst | yes | 5.0 | allreduce_wait_ms | yes | no | 2 |\n"
      "| S5 | thermal_cascade | yes | 11.0 | inlet_temp_celsius | yes | no | 1 |\n"
      "| S6 | fabric_microburst | yes | 4.0 | allreduce_wait_ms | yes | no | 1 |\n"
      "| S7 | expert_routing_collapse | no | - | - | no | no | 0 |\n"
      "\n"
      "- events: 12 total, 96.0 per day\n"
      "- escalated events: 3 (25.0 % of events)\n"
      "- events matching no scenario: 4 (33.3 % of events)\n"
      "- escalated events matching a scenario: 66.7 %\n"
      "- scenarios: 6 of 7 detected, 4 localized, 2 escalated\n"
      "- detected within 10 min: 5 of 7 (71.4 %)\n";
  CHECK_STREQ(table, want_table);
  detrep_destroy(&r);
  CHECK(r == NULL);
  detrep_destroy(&r); /* accepts NULL */
  detrep_destroy(NULL);

  /* the same events in reverse order give the same report, byte for byte */
  ev_event rev[NEV];
  for (int i = 0; i < NEV; i++)
    rev[i] = e[NEV - 1 - i];
  CHECK_EQ(detrep_build(&r, rev, NEV, set, f, KN, DT, RUN_S), 0);
  char path2[600];
  snprintf(path2, sizeof path2, "%s/reversed.json", dir);
  CHECK_EQ(detrep_write_json(r, path2), 0);
  char *text2 = slurp(path2);
  CHECK_STREQ(text2, text);
  char *table2 = table_text(r);
  CHECK_STREQ(table2, want_table);
  detrep_destroy(&r);
  CHECK(unlink(path) == 0);
  CHECK(unlink(path2) == 0);
  free(text);
  free(text2);
  free(table);
  free(table2);
}

/* Events at the right time and near the right place that the rules must not
 * match: every clause needs its scope, racks/jobs/tenants count only through
 * root-cause nodes, and indexes out of range are ignored. */
static void test_no_match(const fleet *f, const scn_set *set, const char *dir) {
  const double t = 2000; /* S1 active, S6 not yet */
  ev_event e[8];
  e[0] = ev(f, 0, t, EV_SCOPE_NODE, 0, 0); /* node-scope on rack 1: no rack rule */
  e[0].rack = 1;
  e[1] = ev(f, 1, t, EV_SCOPE_GPU, 0, 0); /* moe tenant like root node 6, but not cluster scope */
  e[2] = ev(f, 2, t, EV_SCOPE_RACK, 0, 0);    /* rack 0 holds no root node of S1 */
  e[3] = ev(f, 3, t, EV_SCOPE_JOB, 2, 1);     /* job 0 holds no root node of S1 */
  e[4] = ev(f, 4, t, EV_SCOPE_CLUSTER, 2, 0); /* training: no root node of S1 */
  e[5] = ev(f, 5, t, EV_SCOPE_CLUSTER, -1, 0); /* out of range everywhere */
  e[5].rack = 99;
  e[5].job = 7;
  e[5].tenant = 9;
  e[6] = ev(f, 6, t, EV_SCOPE_RACK, 1, 0); /* a rack of out-of-range number */
  e[6].rack = -3;
  e[7] = ev(f, 7, t, EV_SCOPE_JOB, 1, 0); /* a job of out-of-range number */
  e[7].job = 1;
  detrep *r = NULL;
  CHECK_EQ(detrep_build(&r, e, 8, set, f, KN, DT, RUN_S), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/none.json", dir);
  CHECK_EQ(detrep_write_json(r, path), 0);
  json_t *root = load(path);
  json_t *list = json_object_get(root, "scenarios");
  for (size_t k = 0; k < json_array_size(list); k++) {
    check_bool(json_array_get(list, k), "detected", 0);
    check_null(json_array_get(list, k), "first_detection_latency_s");
    check_int(json_array_get(list, k), "events", 0);
  }
  check_int(root, "unmatched_events", 8);
  check_num(root, "unmatched_share", 1.0);
  check_int(root, "escalated_events", 1);
  check_num(root, "escalated_matching_share", 0.0);
  check_num(root, "detected_within_10_min_share", 0.0);
  json_decref(root);
  detrep_destroy(&r);
  CHECK(unlink(path) == 0);
}

/* No events, then no scenarios at all: shares with a zero denominator are null. */
static void test_empty(const fleet *f, const scn_set *set, const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/empty.json", dir);
  detrep *r = NULL;
  CHECK_EQ(detrep_build(&r, NULL, 0, set, f, KN, DT, RUN_S), 0);
  CHECK_EQ(detrep_write_json(r, path), 0);
  json_t *root = load(path);
  check_keys(root, TOP_KEYS, NTOP);
  check_int(root, "events_total", 0);
  check_num(root, "events_per_day", 0);
  check_null(root, "escalation_rate");
  check_null(root, "unmatched_share");
  check_null(root, "escalated_matching_share");
  check_int(root, "scenarios_detected", 0);
  check_num(root, "detected_within_10_min_share", 0);
  CHECK_EQ(json_array_size(json_object_get(root, "scenarios")), 7);
  json_decref(root);
  char *table = table_text(r);
  CHECK(strstr(table, "| S7 | expert_routing_collapse | no | - | - | no | no | 0 |\n") != NULL);
  CHECK(strstr(table, "- escalated events: 0 (n/a of events)\n") != NULL);
  CHECK(strstr(table, "- escalated events matching a scenario: n/a\n") != NULL);
  free(table);
  detrep_destroy(&r);

  scn_set *none = NULL;
  CHECK_EQ(scn_parse(&none, "{\"scenarios\": []}", "empty.json", f), 0);
  ev_event e = ev(f, 0, 60, EV_SCOPE_NODE, 3, 1);
  CHECK_EQ(detrep_build(&r, &e, 1, none, f, KN, DT, RUN_S), 0);
  CHECK_EQ(detrep_write_json(r, path), 0);
  root = load(path);
  CHECK_EQ(json_array_size(json_object_get(root, "scenarios")), 0);
  check_int(root, "unmatched_events", 1);
  check_num(root, "escalated_matching_share", 0.0);
  check_null(root, "detected_within_10_min_share");
  json_decref(root);
  table = table_text(r);
  CHECK(strstr(table, "- detected within 10 min: 0 of 0 (n/a)\n") != NULL);
  free(table);
  detrep_destroy(&r);
  /* NULL scenarios means none */
  CHECK_EQ(detrep_build(&r, &e, 1, NULL, f, KN, DT, RUN_S), 0);
  detrep_destroy(&r);
  scn_destroy(&none);
  CHECK(unlink(path) == 0);
}

static void test_errors(const fleet *f, const scn_set *set, const char *dir) {
  static char sentinel;
  detrep *r = (detrep *)&sentinel; /* not NULL: a failure must clear it */
  diag_clear();
  CHECK_EQ(detrep_build(&r, NULL, 0, set, f, KN, DT, 0), FS_EINVAL);
  CHECK(r == NULL);
  CHECK(diag_count() == 1 && strstr(diag_first(), "detection report") != NULL);
  CHECK_EQ(detrep_build(&r, NULL, 2, set, f, KN, DT, RUN_S), FS_EINVAL);
  CHECK_EQ(detrep_build(&r, NULL, 0, set, NULL, KN, DT, RUN_S), FS_EINVAL);
  CHECK_EQ(detrep_build(&r, NULL, 0, set, f, KN, 0, RUN_S), FS_EINVAL);
  CHECK_EQ(detrep_build(NULL, NULL, 0, set, f, KN, DT, RUN_S), FS_EINVAL);
  CHECK_EQ(detrep_build(&r, NULL, 0, set, f, NULL, DT, RUN_S), FS_EINVAL);
  diag_clear();

  CHECK_EQ(detrep_build(&r, NULL, 0, set, f, KN, DT, RUN_S), 0);
  char bad[600];
  snprintf(bad, sizeof bad, "%s/no-such-dir/detection.json", dir);
  CHECK_EQ(detrep_write_json(r, bad), FS_EIO);
  if (!strstr(diag_first(), bad) || !strstr(diag_first(), "No such file or directory"))
    CHECK_FAIL("diag_first() = \"%s\"", diag_first());
  printf("unit_detection_report: expected failure reads: %s\n", diag_first());
  diag_clear();
  CHECK_EQ(detrep_write_json(NULL, bad), FS_EINVAL);
  CHECK_EQ(detrep_write_json(r, NULL), FS_EINVAL);
  detrep_print_table(NULL, stdout); /* prints nothing, no crash */
  detrep_destroy(&r);
}

int main(void) {
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  scn_set *set = NULL;
  if (scn_parse(&set, SCENARIOS, "inline.json", f) != 0)
    CHECK_FAIL("scenarios: %s", diag_first());
  check_ground_truth(f, set);
  CHECK_EQ(chk_parse(&KN, chk_default_text(), "built-in checklists"), 0);
  CHECK_STREQ(ev_scope_name(EV_SCOPE_CLUSTER), "cluster");
  CHECK_STREQ(ev_scope_name(EV_SCOPE_GPU), "gpu");
  CHECK_STREQ(ev_scope_name(EV_SCOPE_COUNT), "unknown");

  char tmpl[] = "/tmp/fleetsim-detrep-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CHECK(dir != NULL);
  test_full(f, set, dir);
  test_no_match(f, set, dir);
  test_empty(f, set, dir);
  test_errors(f, set, dir);
  CHECK(rmdir(dir) == 0);

  scn_destroy(&set);
  chk_destroy(&KN);
  fleet_destroy(&f);
  printf("unit_detection_report: %ld checks passed\n", check_count);
  return 0;
}
