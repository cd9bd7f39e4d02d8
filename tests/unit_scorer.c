/* Unit tests of the scorer (pipeline/score/scorer.c, score_tables.c): a
 * hand-built 12-node fleet with four scenarios from an inline scenario file
 * (two overlapping on rack 1), hand-written contexts and transcript lines.
 * Checks the mapping (root before rack rule, earliest start on a tie,
 * impacted, a trigger outside the kind's signature, none, L4 windows and
 * detection), the benchmark's regex per-call scores (full, partial, error,
 * missing line, duplicate line) beside the strict ones, the aggregates (per
 * call and macro), calls.jsonl, summary.json and the markdown rows. No MPI.
 * The strict checks themselves are tested in unit_strict_score.c. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/score/checklist.h"
#include "pipeline/detect/contexts_file.h"
#include "pipeline/score/scorer.h"
#include "scenarios/scenario.h"
#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"


/* S1 [1800, 3600) roots 6, 7; S2 [4500, 5100) root 5, impacted 2, 5;
 * S3 [6300, 7500) roots 1, 4, 7, 10; S4 [2160, 2760) roots 4-7 (rack 1). */
static const char *const SCENARIOS =
    "{\"scenarios\": [\n"
    " {\"id\": \"S1\", \"kind\": \"thermal_cascade\", \"start_h\": 0.5, \"duration_min\": 30,"
    " \"racks\": [1], \"nodes_per_rack\": 2},\n"
    " {\"id\": \"S2\", \"kind\": \"training_straggler\", \"start_h\": 1.25, \"duration_min\": 10,"
    " \"job\": \"train-000\", \"job_node\": 1},\n"
    " {\"id\": \"S3\", \"kind\": \"kv_cache_eviction_storm\", \"start_h\": 1.75,"
    " \"duration_min\": 20},\n"
    " {\"id\": \"S4\", \"kind\": \"fabric_microburst\", \"start_h\": 0.6, \"duration_min\": 10,"
    " \"racks\": [1]}\n"
    "]}\n";

static const char *const TENANTS[] = {"moe-inference", "dense-inference", "training"};

/* An L2/L3 call on node at t_s with scope and trigger metric (job-scope
 * calls name train-000). */
static llm_call mk_event(llm_layer layer, int64_t id, double t_s, const char *scope, int node,
                         const char *metric) {
  llm_call c;
  memset(&c, 0, sizeof c);
  llm_call_id(&c, layer, id);
  c.layer = layer;
  c.event_id = id;
  c.t_s = t_s;
  char ctx[512];
  int job = node == 2 || node == 5;
  snprintf(ctx, sizeof ctx,
           "{\"layer\": \"%s\", \"event\": {\"id\": %lld, \"scope\": \"%s\", \"node\": "
           "\"node-%04d\", \"rack\": \"rack-%02d\", \"job\": %s, \"tenant\": \"%s\", "
           "\"trigger\": {\"metric\": \"%s\"}}}",
           llm_layer_name(layer), (long long)id, scope, node, node / 4,
           job ? "\"train-000\"" : "null", TENANTS[node % 3], metric);
  c.context = strdup(ctx);
  CHECK(c.context != NULL);
  return c;
}

static llm_call mk_l4(int64_t idx, double t_s, double hours) {
  llm_call c;
  memset(&c, 0, sizeof c);
  llm_call_id(&c, LLM_L4, idx);
  c.layer = LLM_L4;
  c.event_id = -1;
  c.t_s = t_s;
  char ctx[256];
  snprintf(ctx, sizeof ctx, "{\"layer\": \"L4\", \"window\": {\"hours\": %.9g}}", hours);
  c.context = strdup(ctx);
  CHECK(c.context != NULL);
  return c;
}

enum { NCALLS = 11 };

static void make_calls(llm_call *c) {
  c[0] = mk_event(LLM_L2, 0, 900, "node", 9, "gradient_norm"); /* noise: before any scenario */
  c[1] = mk_event(LLM_L2, 1, 2100, "node", 7, "inlet_temp_celsius"); /* S1 (S4 not yet) */
  c[2] = mk_event(LLM_L3, 1, 2100, "node", 7, "inlet_temp_celsius"); /* same, L3 */
  c[3] = mk_event(LLM_L2, 2, 4800, "node", 2, "allreduce_wait_ms"); /* S2 impacted; failed */
  c[4] = mk_event(LLM_L3, 3, 4800, "job", 2, "allreduce_wait_ms");  /* S2 */
  c[5] = mk_event(LLM_L2, 4, 2400, "rack", 4, "ttft_ms"); /* S1 by rack, S4 by root: S4 */
  c[6] = mk_event(LLM_L2, 5, 6600, "node", 1, "kv_cache_hit_ratio"); /* S3 root; no line */
  c[7] = mk_l4(0, 3600, 1.0);                    /* [0, 3600]: S1 and S4, both detected */
  c[8] = mk_l4(1, 10800, (10800 - 7600) / 3600.0); /* [7600, 10800]: none */
  c[9] = mk_event(LLM_L3, 6, 9000, "node", 3, "gradient_norm"); /* L3 on nothing */
  /* S1's root node in S1's time, but an SBE signal: not what a cooling failure moves */
  c[10] = mk_event(LLM_L2, 7, 2100, "node", 7, "gpu_ecc_sbe_total");
}

static const char *const A_L2_NOISE =
    "{\"classification\": \"noise\", \"scope\": \"node\", \"tenant_type\": \"unknown\","
    " \"confidence\": 0.8, \"rationale\": \"single blip\"}";
static const char *const A_L2_THERMAL =
    "{\"classification\": \"real_anomaly\", \"scope\": \"rack\", \"tenant_type\":"
    " \"dense-inference\", \"confidence\": 0.9, \"rationale\": \"inlet temperature z=9\"}";
static const char *const A_L2_HALF = /* for S4 (fabric) on a dense node: 2 of 4 */
    "{\"classification\": \"real_anomaly\", \"scope\": \"rack\", \"tenant_type\": \"training\","
    " \"confidence\": 0.6, \"rationale\": \"inlet temperature\"}";
static const char *const A_L3_THERMAL = /* 3 of 8 */
    "{\"root_cause\": \"CRAH cooling failure raises inlet temperature on rack-01\","
    " \"confidence\": 0.7, \"affected_scope\": \"rack-01\", \"tenant_types\": [],"
    " \"cross_tenant_impact\": \"none\", \"causal_chain\": [], \"recommended_actions\":"
    " [\"page facilities\"], \"priority\": \"P1\"}";
static const char *const A_L3_STRAGGLER = /* 9 of 9 */
    "{\"root_cause\": \"node-0005 has NVLink CRC errors (replay count 150) from thermal "
    "expansion\", \"confidence\": 0.8, \"affected_scope\": \"train-000\", \"tenant_types\":"
    " [\"training\"], \"cross_tenant_impact\": \"none\", \"causal_chain\": [\"the other node is "
    "healthy but waits at the barrier\", \"step time up 30%\"], \"recommended_actions\":"
    " [\"checkpoint\", \"drain node-0005\", \"job completion will slip\"], \"priority\": \"P1\"}";
static const char *const A_L4_0 = /* 7 of 8: all but S4/incident */
    "## Active incidents\n- CRAH failure on rack-01\n## Resolved incidents\n- none\n"
    "## SLA status\n- budget 99% remaining\n## Training health\n- train-000 step time nominal\n"
    "## Emerging risks\n- watch ECC trend\n## Next-shift recommendations\n- drain hot nodes\n";
static const char *const A_L4_1 = "## SLA status\nall tenants within budget\n"; /* 1 of 4 */

/* A transcript line. */
static json_t *line(const char *id, const char *status, double lat, double cost, const char *text) {
  json_t *o = json_pack("{s:s, s:s, s:f, s:i, s:i, s:f, s:f}", "call_id", id, "status", status,
                        "latency_s", lat, "tokens_in", 1000, "tokens_out", 100, "cost_usd", cost,
                        "gpu_hours", 0.0);
  CHECK(o != NULL);
  json_object_set_new(o, "response_text", text ? json_string(text) : json_null());
  return o;
}

static json_t *transcript_a(double l3l4_cost) {
  json_t *t = json_array();
  json_array_append_new(t, line("L2-000000", "ok", 0.5, 0.01, A_L2_NOISE));
  json_array_append_new(t, line("L2-000001", "ok", 1.0, 0.01, A_L2_THERMAL));
  json_array_append_new(t, line("L3-000001", "ok", 5.0, l3l4_cost, A_L3_THERMAL));
  json_array_append_new(t, line("L2-000002", "error", 30.0, 0.0, NULL));
  json_array_append_new(t, line("L3-000003", "ok", 7.0, l3l4_cost, A_L3_STRAGGLER));
  json_array_append_new(t, line("L2-000004", "error", 9.0, 0.0, NULL)); /* superseded */
  json_array_append_new(t, line("L2-000004", "ok", 1.5, 0.01, A_L2_HALF));
  json_array_append_new(t, line("L4-00", "ok", 20.0, 2 * l3l4_cost, A_L4_0));
  json_array_append_new(t, line("L4-01", "ok", 40.0, 2 * l3l4_cost, A_L4_1));
  json_array_append_new(t, line("L3-000006", "ok", 6.0, 0.0, A_L3_STRAGGLER));
  json_array_append_new(t, line("L2-000007", "ok", 0.5, 0.0, A_L2_NOISE));
  json_array_append_new(t, line("L9-unknown", "ok", 1.0, 5.0, "ignored"));
  return t;
}

/* The strict score of each call (unit_strict_score.c tests why). */
static const double STRICT[NCALLS] = {1.0, 0.6, 1.0 / 3, 0.0, 1.0, 0.25, 0.0, 4.0 / 6, 0.0, 0.0, 1.0};

static void check_calls(const scr_backend *b) {
  static const struct {
    const char *id, *scenario;
    int ok, nitems;
    double score;
  } want[NCALLS] = {
      {"L2-000000", "none", 1, 1, 1.0},      {"L2-000001", "S1", 1, 4, 1.0},
      {"L3-000001", "S1", 1, 8, 3.0 / 8},    {"L2-000002", "S2", 0, 4, 0.0},
      {"L3-000003", "S2", 1, 9, 1.0},        {"L2-000004", "S4", 1, 4, 0.5},
      {"L2-000005", "S3", 0, 4, 0.0},        {"L4-00", "S1+S4", 1, 8, 7.0 / 8},
      {"L4-01", "none", 1, 4, 0.25},         {"L3-000006", "none", 1, 0, 0.0},
      {"L2-000007", "none", 1, 1, 1.0},
  };
  CHECK_EQ(scr_call_count(b), NCALLS);
  for (int i = 0; i < NCALLS; i++) {
    const scr_call *c = scr_call_at(b, i);
    CHECK_STREQ(c->call_id, want[i].id);
    CHECK_STREQ(c->scenario, want[i].scenario);
    CHECK_EQ(c->ok, want[i].ok);
    CHECK_EQ(c->regex.nitems, want[i].nitems);
    if (fabs(c->regex.score - want[i].score) > 1e-12)
      CHECK_FAIL("%s: regex score %g, want %g (note '%s')", c->call_id, c->regex.score,
                 want[i].score, c->regex.note);
    if (fabs(c->result.score - STRICT[i]) > 1e-12)
      CHECK_FAIL("%s: strict score %g, want %g (note '%s')", c->call_id, c->result.score,
                 STRICT[i], c->result.note);
  }
  CHECK(scr_call_at(b, NCALLS) == NULL);
  CHECK_STREQ(scr_call_at(b, 6)->result.note, "no transcript line");
  CHECK_STREQ(scr_call_at(b, 3)->result.note, "no answer");
  CHECK_EQ(scr_call_at(b, 7)->nscn, 2);
  CHECK_STREQ(scr_call_at(b, 7)->regex.items[4].item, "S1/incident");
  CHECK_STREQ(scr_call_at(b, 7)->regex.items[6].item, "S4/incident");
  CHECK_EQ(scr_call_at(b, 7)->regex.items[6].matched, 0);
  CHECK_EQ(scr_call_at(b, 7)->event_id, -1);
  CHECK_EQ(scr_call_at(b, 4)->event_id, 3);
}

/* Mean and sample sd of the scores of the calls of layer in v. */
static void layer_mean_sd(const double *v, int layer, double *mean, double *sd) {
  static const int layer_of[NCALLS] = {2, 2, 3, 2, 3, 2, 2, 4, 4, 3, 2};
  double sum = 0, q = 0;
  int n = 0;
  for (int i = 0; i < NCALLS; i++)
    if (layer_of[i] == layer) {
      sum += v[i];
      n++;
    }
  *mean = sum / n;
  for (int i = 0; i < NCALLS; i++)
    if (layer_of[i] == layer)
      q += (v[i] - *mean) * (v[i] - *mean);
  *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

static void check_stats(const scr_backend *a) {
  static const double SEED[NCALLS] = {1.0, 1.0, 3.0 / 8, 0.0, 1.0, 0.5, 0.0, 7.0 / 8, 0.25, 0.0, 1.0};
  const scr_layer_stats *l2 = scr_layer(a, 2), *l3 = scr_layer(a, 3), *l4 = scr_layer(a, 4);
  double m, sd;
  CHECK_EQ(l2->calls, 6);
  CHECK_EQ(l2->errors, 2);
  CHECK_EQ(l2->unparsable, 0);
  for (int layer = 2; layer <= 4; layer++) {
    const scr_layer_stats *l = scr_layer(a, layer);
    layer_mean_sd(STRICT, layer, &m, &sd);
    CHECK_NEAR(l->acc_mean, m, 1e-12);
    CHECK_NEAR(l->acc_sd, sd, 1e-12);
    layer_mean_sd(SEED, layer, &m, &sd);
    CHECK_NEAR(l->regex_mean, m, 1e-12);
    CHECK_NEAR(l->regex_sd, sd, 1e-12);
  }
  /* macro: the mean over S1 (c1), S2 (c3), S3 (c6), S4 (c5) and none (c0, c10) */
  CHECK_NEAR(l2->acc_macro, (0.6 + 0 + 0 + 0.25 + 1.0) / 5, 1e-12);
  CHECK_NEAR(l2->regex_macro, (1.0 + 0 + 0 + 0.5 + 1.0) / 5, 1e-12);
  /* L3: S1 (c2), S2 (c4), none (c9) */
  CHECK_NEAR(l3->acc_macro, (1.0 / 3 + 1.0 + 0.0) / 3, 1e-12);
  /* L4: c7 counts for S1 and S4, c8 for none */
  CHECK_NEAR(l4->acc_macro, (4.0 / 6 + 4.0 / 6 + 0.0) / 3, 1e-12);
  CHECK_NEAR(l2->lat_mean_s, 0.875, 1e-12); /* ok calls: 0.5, 1.0, 1.5, 0.5 */
  CHECK_NEAR(l2->lat_p50_s, 0.75, 1e-12);
  CHECK_EQ(l3->calls, 3);
  CHECK_EQ(l3->errors, 0);
  CHECK_NEAR(l3->lat_p50_s, 6.0, 1e-12);
  CHECK_NEAR(l3->lat_p95_s, 5.0 + 0.95 * 2 * 1.0, 1e-12);
  CHECK_EQ(l4->calls, 2);
  CHECK_NEAR(l4->lat_p95_s, 39.0, 1e-12);
  CHECK(scr_layer(a, 5) == NULL);
  /* cost 0.03 (L2) + 2 x 0.1 (L3) + 2 x 0.2 (L4) = 0.63 in 3 h; L9-unknown ignored */
  CHECK_NEAR(scr_cost_per_24h_usd(a), 0.63 * 8, 1e-9);
  CHECK_NEAR(scr_mean_accuracy(a), (l2->acc_mean + l3->acc_mean + l4->acc_mean) / 3, 1e-12);
  int n;
  CHECK_NEAR(scr_scenario_accuracy(a, 2, 0, 0, &n), 0.6, 1e-12); /* S1 at L2 */
  CHECK_EQ(n, 1);
  CHECK_NEAR(scr_scenario_accuracy(a, 2, 0, 1, &n), 1.0, 1e-12); /* regex */
  CHECK_NEAR(scr_scenario_accuracy(a, 3, 1, 0, &n), 1.0, 1e-12); /* S2 at L3 */
  CHECK_NEAR(scr_scenario_accuracy(a, 4, 3, 0, &n), 4.0 / 6, 1e-12); /* S4 at L4 */
  CHECK_NEAR(scr_scenario_accuracy(a, 2, 4, 0, &n), 1.0, 1e-12); /* none at L2 */
  CHECK_EQ(n, 2);
  CHECK(isnan(scr_scenario_accuracy(a, 3, 2, 0, &n))); /* S3 has no L3 call */
  CHECK_EQ(n, 0);
  CHECK(isnan(scr_scenario_accuracy(a, 2, 5, 0, &n)));
  CHECK(isnan(scr_scenario_accuracy(a, 5, 0, 0, &n)));
  CHECK_STREQ(scr_scenario_id(a, 4), "none");
  CHECK_STREQ(scr_scenario_kind(a, 0), "thermal_cascade");
  CHECK(scr_scenario_id(a, 5) == NULL);
}

static void check_jsonl(const scr_backend *a) {
  FILE *fp = tmpfile();
  CHECK(fp != NULL);
  CHECK_EQ(scr_write_calls_jsonl(fp, a), 0);
  rewind(fp);
  char buf[8192];
  int n = 0;
  static const char *const keys[] = {"backend",    "layer",      "call_id",  "event_id",
                                     "t_s",        "scenario",   "status",   "latency_s",
                                     "tokens_in",  "tokens_out", "cost_usd", "response_text",
                                     "items",      "score",      "note",     "items_regex",
                                     "score_regex"};
  while (fgets(buf, sizeof buf, fp)) {
    json_t *o = json_loads(buf, 0, NULL);
    CHECK(json_is_object(o));
    int k = 0;
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), k++)
      CHECK_STREQ(json_object_iter_key(it), keys[k]);
    CHECK_EQ(k, 17);
    if (n == 7) {
      CHECK_STREQ(json_string_value(json_object_get(o, "layer")), "L4");
      CHECK(json_is_null(json_object_get(o, "event_id")));
      CHECK_STREQ(json_string_value(json_object_get(o, "scenario")), "S1+S4");
      CHECK_NEAR(json_number_value(json_object_get(o, "score")), 4.0 / 6, 1e-8);
      CHECK_NEAR(json_number_value(json_object_get(o, "score_regex")), 0.875, 1e-12);
      json_t *it0 = json_array_get(json_object_get(o, "items_regex"), 0);
      CHECK_STREQ(json_string_value(json_object_get(it0, "item")), "sla_status");
      CHECK(json_is_true(json_object_get(it0, "matched")));
      it0 = json_array_get(json_object_get(o, "items"), 0); /* no SLA figures: n/a strictly */
      CHECK_STREQ(json_string_value(json_object_get(it0, "item")), "training_health");
    }
    if (n == 3) {
      CHECK_STREQ(json_string_value(json_object_get(o, "status")), "error");
      CHECK(json_is_null(json_object_get(o, "response_text")));
      CHECK_EQ(json_integer_value(json_object_get(o, "event_id")), 2);
    }
    CHECK_STREQ(json_string_value(json_object_get(o, "backend")), "A");
    json_decref(o);
    n++;
  }
  CHECK_EQ(n, NCALLS);
  fclose(fp);
}

static void check_summary(const scr_backend *const *b, int n) {
  json_t *s = scr_summary_json(b, n);
  CHECK(s != NULL);
  CHECK_NEAR(json_number_value(json_object_get(s, "run_seconds")), 10800, 0);
  CHECK_EQ(json_array_size(json_object_get(s, "scenarios")), 4);
  json_t *bs = json_object_get(s, "backends");
  CHECK_EQ(json_array_size(bs), 3);
  json_t *a = json_array_get(bs, 0), *empty = json_array_get(bs, 1), *dear = json_array_get(bs, 2);
  CHECK_STREQ(json_string_value(json_object_get(a, "name")), "A");
  CHECK(json_is_true(json_object_get(a, "pareto")));
  CHECK(json_is_true(json_object_get(empty, "pareto"))); /* $0, 0% */
  CHECK(json_is_false(json_object_get(dear, "pareto"))); /* A is cheaper, as accurate */
  json_t *l2 = json_object_get(json_object_get(a, "layers"), "L2");
  CHECK_NEAR(json_number_value(json_object_get(l2, "accuracy_mean")), scr_layer(b[0], 2)->acc_mean,
             1e-12);
  CHECK_NEAR(json_number_value(json_object_get(l2, "accuracy_macro")), 0.37, 1e-12);
  CHECK_NEAR(json_number_value(json_object_get(l2, "accuracy_regex_macro")), 0.5, 1e-12);
  CHECK_EQ(json_integer_value(json_object_get(l2, "errors")), 2);
  json_t *el2 = json_object_get(json_object_get(empty, "layers"), "L2");
  CHECK(json_is_null(json_object_get(el2, "latency_p50_s")));
  CHECK_EQ(json_integer_value(json_object_get(el2, "errors")), 6);
  json_t *by = json_object_get(l2, "by_scenario");
  CHECK_EQ(json_array_size(by), 5);
  CHECK_STREQ(json_string_value(json_object_get(json_array_get(by, 3), "kind")),
              "fabric_microburst");
  CHECK_STREQ(json_string_value(json_object_get(json_array_get(by, 4), "id")), "none");
  CHECK_EQ(json_integer_value(json_object_get(json_array_get(by, 4), "calls")), 2);
  CHECK_NEAR(json_number_value(json_object_get(json_array_get(by, 0), "accuracy_regex")), 1.0,
             1e-12);
  json_decref(s);

  FILE *fp = tmpfile();
  CHECK(fp != NULL);
  scr_summary_markdown(fp, b, n);
  rewind(fp);
  static char md[32768];
  size_t len = fread(md, 1, sizeof md - 1, fp);
  md[len] = '\0';
  fclose(fp);
  static const char *const rows[] = {
      "## Performance Summary\n\n",
      "| Metric | A | empty | dear |\n|---|---|---|---|\n",
      "| L2 accuracy, macro over scenarios | 37.0% | 0.0% | 37.0% |\n",
      "| L2 accuracy, benchmark regex | 58.3% +/- 49.2% | 0.0% +/- 0.0% |",
      "| L2 latency | 0.88s +/- 0.48s | n/a | 0.88s +/- 0.48s |\n",
      "| Cost (24h) | $5.04 | $0.00 | $",
      "| GPU-hours (24h) | 0.0 | 0.0 | 0.0 |\n",
      "| Calls / errors (L2, L3, L4) | 6/2, 3/0, 2/0 | 6/6, 3/3, 2/2 |",
      "### L2\n\n| Backend | S1: thermal_cascade | S2: training_straggler | "
      "S3: kv_cache_eviction_storm | S4: fabric_microburst | none: none | macro | per call |\n",
      "| A | 60% (regex 100%, 1) | 0% (regex 0%, 1) | 0% (regex 0%, 1) | 25% (regex 50%, 1) | "
      "100% (regex 100%, 2) | 37.0% (regex 50.0%) | 47.5% (regex 58.3%) |\n",
      "### L3\n", "### L4\n",
      "| Backend | L2 p50 | L2 p95 | L3 p50 | L3 p95 | L4 p50 | L4 p95 |\n",
      "| A | 0.75s | 1.42s | 6.00s | 6.90s | 30.00s | 39.00s |\n",
      "| empty | n/a | n/a | n/a | n/a | n/a | n/a |\n",
      "| empty | $0.00 | 0.0% | yes |\n",
      "| dear | $",
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (!strstr(md, rows[i]))
      CHECK_FAIL("markdown lacks row %zu:\n%s\n--- markdown:\n%s", i, rows[i], md);
  CHECK(strstr(md, "| dear |") && strstr(strstr(md, "Pareto"), "| no |\n"));
}

int main(void) {
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  scn_set *set = NULL;
  chk_set *chk = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  if (scn_parse(&set, SCENARIOS, "inline.json", f) != 0)
    CHECK_FAIL("scenarios: %s", diag_first());
  if (chk_parse(&chk, chk_default_text(), "built-in checklists") != 0)
    CHECK_FAIL("checklists: %s", diag_first());
  CHECK_EQ(set->s[3].nnodes, 4); /* S4: rack 1 = nodes 4-7 */
  CHECK_EQ(set->s[3].nodes[0], 4);
  CHECK_EQ(set->s[1].nodes[0], 5);

  llm_call calls[NCALLS];
  make_calls(calls);
  const scr_truth truth = {set, f, chk, 15.0, 3 * 3600.0};
  json_t *ta = transcript_a(0.1), *td = transcript_a(1.0);
  scr_backend *a = NULL, *empty = NULL, *dear = NULL;
  CHECK_EQ(scr_score_backend(&a, "A", &truth, calls, NCALLS, ta), 0);
  CHECK_EQ(scr_score_backend(&empty, "empty", &truth, calls, NCALLS, NULL), 0);
  CHECK_EQ(scr_score_backend(&dear, "dear", &truth, calls, NCALLS, td), 0);
  CHECK_STREQ(scr_backend_name(a), "A");
  check_calls(a);
  check_stats(a);
  check_jsonl(a);
  const scr_backend *all[] = {a, empty, dear};
  check_summary(all, 3);

  /* transcript file round trip, and its errors */
  char path[] = "/tmp/unit_scorer_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *fp = fdopen(fd, "w");
  fprintf(fp, "{\"call_id\": \"L2-000000\", \"status\": \"ok\"}\n\n{\"call_id\": \"x\"}\n");
  fclose(fp);
  json_t *lines = NULL;
  CHECK_EQ(scr_read_transcript(path, &lines), 0);
  CHECK_EQ(json_array_size(lines), 2);
  json_decref(lines);
  fp = fopen(path, "a");
  fprintf(fp, "[1]\n");
  fclose(fp);
  diag_clear();
  CHECK_EQ(scr_read_transcript(path, &lines), FS_EINVAL);
  CHECK(lines == NULL);
  CHECK(strstr(diag_first(), "line 4") != NULL);
  remove(path);
  CHECK_EQ(scr_read_transcript("/nonexistent/x.jsonl", &lines), FS_EIO);
  diag_clear();
  scr_backend *bad = NULL;
  const scr_truth nochk = {set, f, NULL, 15.0, 3 * 3600.0};
  CHECK_EQ(scr_score_backend(&bad, "A", &nochk, calls, NCALLS, ta), FS_EINVAL);
  CHECK(bad == NULL);
  diag_clear();

  scr_backend_destroy(&a);
  scr_backend_destroy(&empty);
  scr_backend_destroy(&dear);
  CHECK(a == NULL);
  scr_backend_destroy(NULL);
  json_decref(ta);
  json_decref(td);
  for (int i = 0; i < NCALLS; i++)
    free(calls[i].context);
  chk_destroy(&chk);
  scn_destroy(&set);
  fleet_destroy(&f);
  printf("unit_scorer: %ld checks passed\n", check_count);
  return 0;
}
