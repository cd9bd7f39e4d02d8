/* The scorer's outputs (see scorer.h): results/calls.jsonl lines, the
 * summary JSON and the benchmark's markdown tables, from the scored backends'
 * accessors. Formatting only; no scoring decisions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/economics.h"
#include "pipeline/score/scorer.h"
#include "src/core/errors.h"


static json_t *scr_real(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* Sets key to a new value; a NULL value (allocation failure) marks *bad. */
static void scr_set(json_t *o, const char *key, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, key, v) != 0)
    *bad = 1;
}

/* [{item, matched}] of a result. */
static json_t *scr_items_json(const chk_result *r, int *bad) {
  json_t *items = json_array();
  if (!items) {
    *bad = 1;
    return NULL;
  }
  for (int k = 0; k < r->nitems; k++) {
    json_t *it = json_object();
    if (!it || json_array_append_new(items, it) != 0) {
      *bad = 1;
      break;
    }
    scr_set(it, "item", json_string(r->items[k].item), bad);
    scr_set(it, "matched", json_boolean(r->items[k].matched), bad);
  }
  return items;
}

int scr_write_calls_jsonl(FILE *out, const scr_backend *b) {
  if (!out || !b)
    return FS_EINVAL;
  for (int i = 0; i < scr_call_count(b); i++) {
    const scr_call *c = scr_call_at(b, i);
    int bad = 0;
    json_t *o = json_object();
    if (!o)
      return FS_ENOMEM;
    scr_set(o, "backend", json_string(scr_backend_name(b)), &bad);
    scr_set(o, "layer", json_string(llm_layer_name(c->layer)), &bad);
    scr_set(o, "call_id", json_string(c->call_id), &bad);
    scr_set(o, "event_id", c->layer == LLM_L4 ? json_null() : json_integer(c->event_id), &bad);
    scr_set(o, "t_s", json_real(c->t_s), &bad);
    scr_set(o, "scenario", json_string(c->scenario), &bad);
    scr_set(o, "status", json_string(c->ok ? "ok" : "error"), &bad);
    scr_set(o, "latency_s", json_real(c->latency_s), &bad);
    scr_set(o, "tokens_in", json_integer(c->tokens_in), &bad);
    scr_set(o, "tokens_out", json_integer(c->tokens_out), &bad);
    scr_set(o, "cost_usd", json_real(c->cost_usd), &bad);
    scr_set(o, "response_text", c->response_text ? json_string(c->response_text) : json_null(),
            &bad);
    scr_set(o, "items", scr_items_json(&c->result, &bad), &bad);
    scr_set(o, "score", json_real(c->result.score), &bad);
    scr_set(o, "note", json_string(c->result.note), &bad);
    scr_set(o, "items_regex", scr_items_json(&c->regex, &bad), &bad);
    scr_set(o, "score_regex", json_real(c->regex.score), &bad);
    int rc = bad ? FS_ENOMEM
                 : json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) ||
                           fputc('\n', out) == EOF
                       ? FS_EIO
                       : 0;
    json_decref(o);
    if (rc)
      return rc;
  }
  return 0;
}

static json_t *scr_layer_json(const scr_backend *x, int li, int *bad) {
  const scr_layer_stats *s = scr_layer(x, li + 2);
  json_t *o = json_object(), *by = json_array();
  if (!o || !by) {
    json_decref(o);
    json_decref(by);
    *bad = 1;
    return NULL;
  }
  scr_set(o, "calls", json_integer(s->calls), bad);
  scr_set(o, "errors", json_integer(s->errors), bad);
  scr_set(o, "unparsable", json_integer(s->unparsable), bad);
  scr_set(o, "accuracy_mean", scr_real(s->acc_mean), bad);
  scr_set(o, "accuracy_sd", scr_real(s->acc_sd), bad);
  scr_set(o, "accuracy_macro", scr_real(s->acc_macro), bad);
  scr_set(o, "accuracy_regex_mean", scr_real(s->regex_mean), bad);
  scr_set(o, "accuracy_regex_sd", scr_real(s->regex_sd), bad);
  scr_set(o, "accuracy_regex_macro", scr_real(s->regex_macro), bad);
  scr_set(o, "latency_mean_s", scr_real(s->lat_mean_s), bad);
  scr_set(o, "latency_sd_s", scr_real(s->lat_sd_s), bad);
  scr_set(o, "latency_p50_s", scr_real(s->lat_p50_s), bad);
  scr_set(o, "latency_p95_s", scr_real(s->lat_p95_s), bad);
  for (int k = 0; k <= scr_scenario_count(x); k++) {
    int calls;
    double a = scr_scenario_accuracy(x, li + 2, k, 0, &calls);
    json_t *e = json_object();
    if (!e || json_array_append_new(by, e) != 0) {
      *bad = 1;
      break;
    }
    scr_set(e, "id", json_string(scr_scenario_id(x, k)), bad);
    scr_set(e, "kind", json_string(scr_scenario_kind(x, k)), bad);
    scr_set(e, "calls", json_integer(calls), bad);
    scr_set(e, "accuracy", scr_real(a), bad);
    scr_set(e, "accuracy_regex", scr_real(scr_scenario_accuracy(x, li + 2, k, 1, NULL)), bad);
  }
  scr_set(o, "by_scenario", by, bad);
  return o;
}

json_t *scr_summary_json(const scr_backend *const *b, int n) {
  if (n < 0 || (n > 0 && !b))
    return NULL;
  int bad = 0;
  json_t *root = json_object(), *scns = json_array(), *list = json_array();
  if (!root || !scns || !list) {
    json_decref(root);
    json_decref(scns);
    json_decref(list);
    return NULL;
  }
  scr_set(root, "run_seconds", n > 0 ? json_real(scr_run_seconds(b[0])) : json_null(), &bad);
  for (int k = 0; n > 0 && k < scr_scenario_count(b[0]); k++) {
    json_t *s = json_object();
    if (!s || json_array_append_new(scns, s) != 0) {
      bad = 1;
      break;
    }
    scr_set(s, "id", json_string(scr_scenario_id(b[0], k)), &bad);
    scr_set(s, "kind", json_string(scr_scenario_kind(b[0], k)), &bad);
  }
  scr_set(root, "scenarios", scns, &bad);
  for (int i = 0; i < n && !bad; i++) {
    const scr_backend *x = b[i];
    json_t *o = json_object(), *layers = json_object();
    if (!o || json_array_append_new(list, o) != 0 || !layers) {
      json_decref(layers);
      bad = 1;
      break;
    }
    scr_set(o, "name", json_string(scr_backend_name(x)), &bad);
    for (int li = 0; li < SCR_LAYERS; li++)
      scr_set(layers, llm_layer_name((llm_layer)(li + 2)), scr_layer_json(x, li, &bad), &bad);
    scr_set(o, "layers", layers, &bad);
    scr_set(o, "cost_usd", json_real(scr_cost_usd(x)), &bad);
    scr_set(o, "cost_per_24h_usd", json_real(scr_cost_per_24h_usd(x)), &bad);
    scr_set(o, "gpu_hours", json_real(scr_gpu_hours(x)), &bad);
    scr_set(o, "gpu_hours_per_24h", json_real(scr_gpu_hours(x) * 86400.0 / scr_run_seconds(x)), &bad);
    scr_set(o, "accuracy_mean", scr_real(scr_mean_accuracy(x)), &bad);
    scr_set(o, "pareto", json_boolean(scr_on_frontier(b, n, i)), &bad);
    eco_figures fig;
    scr_set(o, "economics", eco_compute(x, &fig) == 0 ? eco_json(&fig) : NULL, &bad);
  }
  scr_set(root, "backends", list, &bad);
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

/* "60.4% +/- 17.8%" or "n/a". */
static const char *scr_fmt_acc(int calls, double mean, double sd, char *buf, size_t cap) {
  if (calls == 0 || !isfinite(mean))
    snprintf(buf, cap, "n/a");
  else
    snprintf(buf, cap, "%.1f%% +/- %.1f%%", 100 * mean, 100 * sd);
  return buf;
}

/* "%.1f%%" of x or "n/a". */
static const char *scr_fmt_pct(double x, char *buf, size_t cap) {
  if (isfinite(x))
    snprintf(buf, cap, "%.1f%%", 100 * x);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

/* "0.73s +/- 0.07s" or "n/a". */
static const char *scr_fmt_lat(const scr_layer_stats *s, char *buf, size_t cap) {
  if (!isfinite(s->lat_mean_s))
    snprintf(buf, cap, "n/a");
  else
    snprintf(buf, cap, "%.2fs +/- %.2fs", s->lat_mean_s, s->lat_sd_s);
  return buf;
}

/* "%.2fs" of x or "n/a". */
static const char *scr_fmt_s(double x, char *buf, size_t cap) {
  if (isfinite(x))
    snprintf(buf, cap, "%.2fs", x);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

/* "| Metric | b1 | b2 |" and its rule. */
static void scr_header(FILE *out, const char *first, const scr_backend *const *b, int n) {
  fprintf(out, "| %s |", first);
  for (int i = 0; i < n; i++)
    fprintf(out, " %s |", scr_backend_name(b[i]));
  fprintf(out, "\n|---|");
  for (int i = 0; i < n; i++)
    fprintf(out, "---|");
  fprintf(out, "\n");
}

/* The accuracy-by-scenario table of one layer. */
static void scr_by_scenario_md(FILE *out, const scr_backend *const *b, int n, int li) {
  int nscn = scr_scenario_count(b[0]);
  fprintf(out, "### L%d\n\n| Backend |", li + 2);
  for (int k = 0; k <= nscn; k++)
    fprintf(out, " %s: %s |", scr_scenario_id(b[0], k), scr_scenario_kind(b[0], k));
  fprintf(out, " macro | per call |\n|---|");
  for (int k = 0; k <= nscn + 2; k++)
    fprintf(out, "---|");
  fprintf(out, "\n");
  for (int i = 0; i < n; i++) {
    const scr_layer_stats *s = &(*scr_layer(b[i], li + 2));
    fprintf(out, "| %s |", scr_backend_name(b[i]));
    for (int k = 0; k <= nscn; k++) {
      int calls;
      double a = scr_scenario_accuracy(b[i], li + 2, k, 0, &calls);
      if (calls)
        fprintf(out, " %.0f%% (regex %.0f%%, %d) |", 100 * a,
                100 * scr_scenario_accuracy(b[i], li + 2, k, 1, NULL), calls);
      else
        fprintf(out, " n/a |");
    }
    char m1[32], m2[32], p1[32], p2[32];
    fprintf(out, " %s (regex %s) | %s (regex %s) |\n", scr_fmt_pct(s->acc_macro, m1, sizeof m1),
            scr_fmt_pct(s->regex_macro, m2, sizeof m2), scr_fmt_pct(s->acc_mean, p1, sizeof p1),
            scr_fmt_pct(s->regex_mean, p2, sizeof p2));
  }
  fprintf(out, "\n");
}

int scr_summary_markdown(FILE *out, const scr_backend *const *b, int n) {
  if (!out || n < 0 || (n > 0 && !b))
    return FS_EINVAL;
  char buf[64];
  fprintf(out, "## Performance Summary\n\n"
               "Accuracy is the strict score (items met inside the answer field they are "
               "about, negated mentions not counting, checked against the ground truth); "
               "\"macro\" averages over scenarios; \"benchmark regex\" is the benchmark's own "
               "score (its keyword patterns over the whole answer), kept for comparison.\n\n");
  scr_header(out, "Metric", b, n);
  for (int li = 0; li < SCR_LAYERS; li++) {
    fprintf(out, "| L%d accuracy |", li + 2);
    for (int i = 0; i < n; i++) {
      const scr_layer_stats *s = &(*scr_layer(b[i], li + 2));
      fprintf(out, " %s |", scr_fmt_acc(s->calls, s->acc_mean, s->acc_sd, buf, sizeof buf));
    }
    fprintf(out, "\n| L%d accuracy, macro over scenarios |", li + 2);
    for (int i = 0; i < n; i++)
      fprintf(out, " %s |", scr_fmt_pct((*scr_layer(b[i], li + 2)).acc_macro, buf, sizeof buf));
    fprintf(out, "\n| L%d accuracy, benchmark regex |", li + 2);
    for (int i = 0; i < n; i++) {
      const scr_layer_stats *s = &(*scr_layer(b[i], li + 2));
      fprintf(out, " %s |", scr_fmt_acc(s->calls, s->regex_mean, s->regex_sd, buf, sizeof buf));
    }
    fprintf(out, "\n| L%d latency |", li + 2);
    for (int i = 0; i < n; i++)
      fprintf(out, " %s |", scr_fmt_lat(&(*scr_layer(b[i], li + 2)), buf, sizeof buf));
    fprintf(out, "\n");
  }
  fprintf(out, "| Cost (24h) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " $%.2f |", scr_cost_per_24h_usd(b[i]));
  fprintf(out, "\n| GPU-hours (24h) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " %.1f |", scr_gpu_hours(b[i]) * 86400.0 / scr_run_seconds(b[i]));
  fprintf(out, "\n| Calls / errors (L2, L3, L4) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " %d/%d, %d/%d, %d/%d |", (*scr_layer(b[i], 0 + 2)).calls, (*scr_layer(b[i], 0 + 2)).errors,
            (*scr_layer(b[i], 1 + 2)).calls, (*scr_layer(b[i], 1 + 2)).errors, (*scr_layer(b[i], 2 + 2)).calls,
            (*scr_layer(b[i], 2 + 2)).errors);
  fprintf(out, "\n\n## Accuracy by Scenario\n\nStrict score per scenario (benchmark's regex score "
               "and number of calls in parentheses).\n\n");
  for (int li = 0; n > 0 && li < SCR_LAYERS; li++)
    scr_by_scenario_md(out, b, n, li);
  fprintf(out, "## Latency Distribution\n\n"
               "| Backend | L2 p50 | L2 p95 | L3 p50 | L3 p95 | L4 p50 | L4 p95 |\n"
               "|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    fprintf(out, "| %s |", scr_backend_name(b[i]));
    for (int li = 0; li < SCR_LAYERS; li++) {
      fprintf(out, " %s |", scr_fmt_s((*scr_layer(b[i], li + 2)).lat_p50_s, buf, sizeof buf));
      fprintf(out, " %s |", scr_fmt_s((*scr_layer(b[i], li + 2)).lat_p95_s, buf, sizeof buf));
    }
    fprintf(out, "\n");
  }
  fprintf(out, "\n## Cost-Accuracy Pareto Frontier\n\n"
               "| Backend | Cost (24h) | Mean accuracy (L2/L3/L4, strict) | Frontier |\n"
               "|---|---|---|---|\n");
  for (int i = 0; i < n; i++)
    fprintf(out, "| %s | $%.2f | %s | %s |\n", scr_backend_name(b[i]), scr_cost_per_24h_usd(b[i]),
            scr_fmt_pct(scr_mean_accuracy(b[i]), buf, sizeof buf),
            scr_on_frontier(b, n, i) ? "yes" : "no");
  return eco_markdown(out, b, n);
}
