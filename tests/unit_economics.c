/* Unit tests of the tiered-economics figures (pipeline/score/economics.c):
 * a 3 h run of the 12-node test fleet without scenarios, hand-written
 * contexts and a paced transcript (answered, failed, invalid and missing
 * calls). Checks calls, tokens and cost per day (x 8), latency mean and
 * percentiles over answered calls, tokens per call, context size, accuracy
 * against the scorer's, L2 events resolved at L2, the L2 classification
 * mix, the pace (one, several, none) and queueing delay, the JSON object and
 * the markdown rows. No MPI. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/detect/contexts_file.h"
#include "pipeline/llm/llm_wire.h"
#include "pipeline/score/checklist.h"
#include "pipeline/score/economics.h"
#include "pipeline/score/scorer.h"
#include "src/core/diag.h"
#include "src/model/fleet.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"

enum { NCALLS = 9 };

static llm_call mk_call(llm_layer layer, int64_t id, double t_s, const char *context) {
  llm_call c;
  memset(&c, 0, sizeof c);
  llm_call_id(&c, layer, id);
  c.layer = layer;
  c.event_id = layer == LLM_L4 ? -1 : id;
  c.t_s = t_s;
  c.context = strdup(context);
  CHECK(c.context != NULL);
  return c;
}

static const char CTX_L2[] = "{\"layer\": \"L2\", \"event\": {\"scope\": \"node\", \"node\": "
                             "\"node-0009\", \"trigger\": {\"metric\": \"gradient_norm\"}}}";
static const char CTX_L3[] = "{\"layer\": \"L3\", \"event\": {\"scope\": \"node\", \"node\": "
                             "\"node-0009\", \"trigger\": {\"metric\": \"gradient_norm\"}}, "
                             "\"series\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}";
static const char CTX_L4[] = "{\"layer\": \"L4\", \"window\": {\"hours\": 3}}";

/* L2 events 0-5 (5 has no transcript line), L3 for events 1 and 4, one L4. */
static void make_calls(llm_call *c) {
  c[0] = mk_call(LLM_L2, 0, 600, CTX_L2);
  c[1] = mk_call(LLM_L2, 1, 1200, CTX_L2);
  c[2] = mk_call(LLM_L2, 2, 1200, CTX_L2);
  c[3] = mk_call(LLM_L2, 3, 1800, CTX_L2);
  c[4] = mk_call(LLM_L2, 4, 2400, CTX_L2);
  c[5] = mk_call(LLM_L3, 1, 1200, CTX_L3);
  c[6] = mk_call(LLM_L3, 4, 2400, CTX_L3);
  c[7] = mk_call(LLM_L4, 0, 10800, CTX_L4);
  c[8] = mk_call(LLM_L2, 5, 3000, CTX_L2);
}

static char *l2_answer(const char *cls) {
  static char buf[4][256];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, sizeof buf[0],
           "{\"classification\": \"%s\", \"scope\": \"node\", \"tenant_type\": \"training\", "
           "\"confidence\": 0.5, \"rationale\": \"r\"}",
           cls);
  return b;
}

static const char A_L3[] =
    "{\"root_cause\": \"unknown\", \"confidence\": 0.2, \"affected_scope\": \"node-0009\","
    " \"tenant_types\": [], \"cross_tenant_impact\": \"none\", \"causal_chain\": [],"
    " \"recommended_actions\": [\"watch\"], \"priority\": \"P4\"}";

/* A transcript line; pace <= 0: an unpaced line (no pace, no queue_s). */
static json_t *line(const char *id, const char *status, double lat, double cost, const char *text,
                    double pace, double queue) {
  json_t *o =
      json_pack("{s:s, s:s, s:f, s:i, s:i, s:f, s:f}", "call_id", id, "status", status, "latency_s",
                lat, "tokens_in", 1000, "tokens_out", 100, "cost_usd", cost, "gpu_hours", 0.0);
  CHECK(o != NULL);
  json_object_set_new(o, "response_text", text ? json_string(text) : json_null());
  if (pace > 0) {
    json_object_set_new(o, "pace", json_real(pace));
    json_object_set_new(o, "queue_s", json_real(queue));
  }
  return o;
}

/* The transcript; the L4 line's pace is l4_pace (60: every line at one pace). */
static json_t *transcript(double l4_pace) {
  json_t *t = json_array();
  json_array_append_new(t, line("L2-000000", "ok", 0.5, 0.01, l2_answer("noise"), 60, 0.1));
  json_array_append_new(t, line("L2-000001", "ok", 1.0, 0.01, l2_answer("real_anomaly"), 60, 0.2));
  json_array_append_new(t, line("L2-000002", "error", 30.0, 0.0, NULL, 60, 0.3));
  json_array_append_new(t, line("L2-000003", "ok", 1.5, 0.01, l2_answer("transient"), 60, 0.4));
  json_array_append_new(t, line("L2-000004", "ok", 2.0, 0.01, "not JSON at all", 60, 0.5));
  json_array_append_new(t, line("L3-000001", "ok", 5.0, 0.1, A_L3, 60, 2.0));
  json_array_append_new(t, line("L3-000004", "ok", 7.0, 0.1, A_L3, 60, 3.0));
  json_array_append_new(t, line("L4-00", "ok", 20.0, 0.2, "## SLA status\nfine\n", l4_pace, 0.0));
  return t;
}

static void check_figures(const scr_backend *b, const eco_figures *f) {
  CHECK_NEAR(f->per_day, 8.0, 1e-12);
  CHECK_NEAR(f->pace, 60, 0);
  const eco_layer *l2 = &f->layer[0], *l3 = &f->layer[1], *l4 = &f->layer[2];
  const eco_layer *all = &f->layer[ECO_TOTAL];
  CHECK_EQ(l2->calls, 6);
  CHECK_NEAR(l2->calls_per_day, 48, 1e-9);
  CHECK_NEAR(l2->tokens_in_per_day, 5 * 1000 * 8, 1e-9); /* the missing line has none */
  CHECK_NEAR(l2->tokens_out_per_day, 5 * 100 * 8, 1e-9);
  CHECK_NEAR(l2->tokens_in_per_call, 5000.0 / 6, 1e-9);
  CHECK_NEAR(l2->cost_per_day_usd, 0.04 * 8, 1e-9);
  CHECK_NEAR(l2->context_tokens_mean, (double)llm_estimate_tokens(CTX_L2), 1e-9);
  /* answered L2 calls: 0.5, 1.0, 1.5, 2.0 (the error's 30 s is not service) */
  CHECK_NEAR(l2->lat_mean_s, 1.25, 1e-12);
  CHECK_NEAR(l2->lat_p50_s, 1.25, 1e-12);
  CHECK_NEAR(l2->lat_p95_s, 1.5 + 0.85 * 0.5, 1e-12);
  CHECK_NEAR(l2->lat_p99_s, 1.5 + 0.97 * 0.5, 1e-12);
  CHECK_NEAR(l2->accuracy, scr_layer(b, 2)->acc_mean, 0);
  CHECK_EQ(l2->paced_calls, 5);
  CHECK_NEAR(l2->queue_mean_s, 0.3, 1e-12);
  CHECK_NEAR(l2->queue_p95_s, 0.4 + 0.8 * 0.1, 1e-12);
  CHECK_EQ(l3->calls, 2);
  CHECK_NEAR(l3->calls_per_day, 16, 1e-9);
  CHECK_NEAR(l3->cost_per_day_usd, 0.2 * 8, 1e-9);
  CHECK_NEAR(l3->context_tokens_mean, (double)llm_estimate_tokens(CTX_L3), 1e-9);
  CHECK_NEAR(l3->lat_p50_s, 6.0, 1e-12);
  CHECK_NEAR(l3->queue_mean_s, 2.5, 1e-12);
  CHECK_EQ(l4->calls, 1);
  CHECK_NEAR(l4->lat_p99_s, 20.0, 0);
  CHECK_EQ(all->calls, NCALLS);
  CHECK_NEAR(all->calls_per_day, NCALLS * 8, 1e-9);
  CHECK_NEAR(all->cost_per_day_usd, (0.04 + 0.2 + 0.2) * 8, 1e-9);
  CHECK_NEAR(all->tokens_in_per_call, 8000.0 / NCALLS, 1e-9);
  CHECK_NEAR(all->lat_mean_s, (0.5 + 1 + 1.5 + 2 + 5 + 7 + 20) / 7, 1e-12);
  CHECK_NEAR(all->lat_p50_s, 2.0, 1e-12);
  CHECK_NEAR(all->accuracy, scr_mean_accuracy(b), 0);
  CHECK_EQ(all->paced_calls, 8);
  /* L2 events 0-5; 1 and 4 escalated; 2 failed and 5 has no line: 0 and 3 resolved */
  CHECK_EQ(f->l2_events, 6);
  CHECK_EQ(f->resolved_at_l2, 2);
  CHECK_EQ(f->l2_class[ECO_REAL], 1);
  CHECK_EQ(f->l2_class[ECO_NOISE], 1);
  CHECK_EQ(f->l2_class[ECO_TRANSIENT], 1);
  CHECK_EQ(f->l2_class[ECO_NO_ANSWER], 3); /* the error, the invalid answer, the missing line */
}

static void check_json(const eco_figures *f) {
  json_t *o = eco_json(f);
  CHECK(o != NULL);
  CHECK_NEAR(json_number_value(json_object_get(o, "pace")), 60, 0);
  CHECK_EQ(json_integer_value(json_object_get(o, "paced_calls")), 8);
  CHECK_NEAR(json_number_value(json_object_get(o, "resolved_at_l2_share")), 2.0 / 6, 1e-12);
  json_t *l2 = json_object_get(json_object_get(o, "layers"), "L2");
  CHECK_NEAR(json_number_value(json_object_get(l2, "calls_per_day")), 48, 1e-9);
  CHECK_NEAR(json_number_value(json_object_get(l2, "latency_p99_s")), 1.985, 1e-12);
  CHECK(json_object_get(json_object_get(o, "layers"), "total") != NULL);
  json_t *mix = json_object_get(o, "l2_classification");
  CHECK_EQ(json_integer_value(json_object_get(mix, "no_valid_answer")), 3);
  CHECK_EQ(json_object_size(mix), ECO_CLASSES);
  json_decref(o);
}

static void check_markdown(const scr_backend *const *b, int n) {
  FILE *fp = tmpfile();
  CHECK(fp != NULL);
  CHECK_EQ(eco_markdown(fp, b, n), 0);
  rewind(fp);
  static char md[16384];
  size_t len = fread(md, 1, sizeof md - 1, fp);
  md[len] = '\0';
  fclose(fp);
  static const char *const rows[] = {
      "## Tiered Economics\n\n",
      "scaled from its 3 simulated hours to 24 h (x 8)",
      "| A | L2 (triage) | 48 | 40K | 4.0K | 833 | 26 | 1.25s | 1.25s | 1.92s | 1.98s | ",
      "| A | L3 (root cause) | 16 | 16K | 1.6K | 1000 | 37 | ",
      "| A | Total | 72 | 64K | 6.4K | 889 | 27 | ",
      "| $3.52 |\n",
      "| A | 6 | 33.3% (2) | 16.7% (1) | 16.7% (1) | 16.7% (1) | 50.0% (3) |\n",
      "| A | 60 (a simulated day in 0:24:00) | 0.300s | 0.480s | 2.500s | 2.950s | 0.000s | "
      "0.000s |\n",
      "| mixed | mixed (8 of 9 calls paced) |",
      "| none | none: every call sent as soon as order and concurrency allow | n/a | n/a |",
      "| none | 6 | 0.0% (0) | 0.0% (0) | 0.0% (0) | 0.0% (0) | 100.0% (6) |\n",
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (!strstr(md, rows[i]))
      CHECK_FAIL("markdown lacks row %zu:\n%s\n--- markdown:\n%s", i, rows[i], md);
}

int main(void) {
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  chk_set *chk = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  const char *text = chk_default_text();
  if (!text || chk_parse(&chk, text, "built-in checklists") != 0)
    CHECK_FAIL("checklists: %s", diag_first());
  llm_call calls[NCALLS];
  make_calls(calls);
  const scr_truth truth = {NULL, f, chk, 15.0, 3 * 3600.0};
  json_t *ta = transcript(60), *tm = transcript(30);
  scr_backend *a = NULL, *mixed = NULL, *none = NULL;
  CHECK_EQ(scr_score_backend(&a, "A", &truth, calls, NCALLS, ta), 0);
  CHECK_EQ(scr_score_backend(&mixed, "mixed", &truth, calls, NCALLS, tm), 0);
  CHECK_EQ(scr_score_backend(&none, "none", &truth, calls, NCALLS, NULL), 0);
  eco_figures fa, fm, fn;
  CHECK_EQ(eco_compute(a, &fa), 0);
  check_figures(a, &fa);
  check_json(&fa);
  CHECK_EQ(eco_compute(mixed, &fm), 0);
  CHECK(isnan(fm.pace)); /* the L4 line at 30, the rest at 60 */
  json_t *jm = eco_json(&fm);
  CHECK(json_is_null(json_object_get(jm, "pace")));
  json_decref(jm);
  CHECK_EQ(eco_compute(none, &fn), 0);
  CHECK_NEAR(fn.pace, 0, 0);
  CHECK_EQ(fn.layer[ECO_TOTAL].paced_calls, 0);
  CHECK(isnan(fn.layer[0].queue_mean_s) && isnan(fn.layer[0].lat_p99_s));
  CHECK_EQ(fn.resolved_at_l2, 0);
  const scr_backend *all[] = {a, mixed, none};
  check_markdown(all, 3);
  /* a pace that is not a number is refused with the line's number */
  char path[] = "/tmp/unit_economics_XXXXXX";
  FILE *fp = fdopen(mkstemp(path), "w");
  CHECK(fp != NULL);
  fprintf(fp, "{\"call_id\": \"L2-000000\", \"status\": \"ok\", \"pace\": \"fast\"}\n");
  fclose(fp);
  json_t *lines = NULL;
  CHECK_EQ(scr_read_transcript(path, &lines), -1 /* FS_EINVAL */);
  CHECK(strstr(diag_first(), "line 1: field 'pace' is not a number") != NULL);
  diag_clear();
  remove(path);
  scr_backend_destroy(&a);
  scr_backend_destroy(&mixed);
  scr_backend_destroy(&none);
  json_decref(ta);
  json_decref(tm);
  for (int i = 0; i < NCALLS; i++)
    free(calls[i].context);
  chk_destroy(&chk);
  fleet_destroy(&f);
  printf("unit_economics: %ld checks passed\n", check_count);
  return 0;
}
