/* The tiered-economics figures and tables (see economics.h): from a scored
 * backend's calls to per-day calls, tokens, cost, latency percentiles,
 * L2 resolution and classification mix, and the queueing delay of paced
 * escalation. Reads scores and transcripts' figures; decides no score. */
#include "pipeline/score/economics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/pace.h"
#include "src/core/errors.h"

static const char *const eco_class_names[ECO_CLASSES] = {"real_anomaly", "noise", "transient",
                                                         "no_valid_answer"};
static const char *const eco_layer_names[ECO_LAYERS + 1] = {"L2 (triage)", "L3 (root cause)",
                                                            "L4 (shift summary)", "Total"};

const char *eco_class_name(eco_class k) {
  return k >= 0 && k < ECO_CLASSES ? eco_class_names[k] : NULL;
}

/* ---- computation ---------------------------------------------------------- */

static int eco_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int eco_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Mean of v[n] (NAN when n is 0). */
static double eco_mean(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++)
    s += v[i];
  return n > 0 ? s / n : NAN;
}

/* The class of an L2 call: its validated answer's classification. */
static eco_class eco_classify(const scr_call *c) {
  if (!c->ok || !c->response_text)
    return ECO_NO_ANSWER;
  json_t *a = llm_answer_parse(2, c->response_text, NULL, 0);
  const char *cls = json_string_value(json_object_get(a, "classification"));
  eco_class k = ECO_NO_ANSWER;
  for (int i = 0; cls && i < ECO_NO_ANSWER; i++)
    if (strcmp(cls, eco_class_names[i]) == 0)
      k = (eco_class)i;
  json_decref(a);
  return k;
}

/* Figures of the calls of layer li (ECO_TOTAL: all) into *l; lat and queue
 * are scratch arrays of at least as many entries as calls. */
static void eco_layer_of(const scr_backend *b, int li, double per_day, double *lat, double *queue,
                         eco_layer *l) {
  double tin = 0, tout = 0, cost = 0, ctx = 0;
  int nl = 0;
  memset(l, 0, sizeof *l);
  for (int i = 0; i < scr_call_count(b); i++) {
    const scr_call *c = scr_call_at(b, i);
    if (li != ECO_TOTAL && (int)c->layer != li + 2)
      continue;
    l->calls++;
    tin += (double)c->tokens_in;
    tout += (double)c->tokens_out;
    cost += c->cost_usd;
    ctx += (double)c->context_tokens;
    if (c->ok)
      lat[nl++] = c->latency_s;
    if (isfinite(c->queue_s))
      queue[l->paced_calls++] = c->queue_s;
  }
  l->calls_per_day = l->calls * per_day;
  l->tokens_in_per_day = tin * per_day;
  l->tokens_out_per_day = tout * per_day;
  l->cost_per_day_usd = cost * per_day;
  l->tokens_in_per_call = l->calls ? tin / l->calls : NAN;
  l->context_tokens_mean = l->calls ? ctx / l->calls : NAN;
  qsort(lat, (size_t)nl, sizeof *lat, eco_cmp_double);
  l->lat_mean_s = eco_mean(lat, nl);
  l->lat_p50_s = scr_percentile(lat, nl, 50);
  l->lat_p95_s = scr_percentile(lat, nl, 95);
  l->lat_p99_s = scr_percentile(lat, nl, 99);
  qsort(queue, (size_t)l->paced_calls, sizeof *queue, eco_cmp_double);
  l->queue_mean_s = eco_mean(queue, l->paced_calls);
  l->queue_p95_s = scr_percentile(queue, l->paced_calls, 95);
  l->accuracy = li == ECO_TOTAL ? scr_mean_accuracy(b) : scr_layer(b, li + 2)->acc_mean;
}

int eco_compute(const scr_backend *b, eco_figures *out) {
  memset(out, 0, sizeof *out);
  int n = scr_call_count(b), nl3 = 0;
  double *lat = malloc(sizeof *lat * ((size_t)n + 1));
  double *queue = malloc(sizeof *queue * ((size_t)n + 1));
  int64_t *l3 = malloc(sizeof *l3 * ((size_t)n + 1));
  if (!lat || !queue || !l3) {
    free(lat);
    free(queue);
    free(l3);
    return FS_ENOMEM;
  }
  out->per_day = 86400.0 / scr_run_seconds(b);
  for (int li = 0; li <= ECO_TOTAL; li++)
    eco_layer_of(b, li, out->per_day, lat, queue, &out->layer[li]);
  for (int i = 0; i < n; i++) {
    const scr_call *c = scr_call_at(b, i);
    if (c->layer == LLM_L3)
      l3[nl3++] = c->event_id;
    if (c->pace > 0) /* one pace, or NAN when the lines differ */
      out->pace = out->pace == 0 || out->pace == c->pace ? c->pace : NAN;
  }
  qsort(l3, (size_t)nl3, sizeof *l3, eco_cmp_i64);
  for (int i = 0; i < n; i++) {
    const scr_call *c = scr_call_at(b, i);
    if (c->layer != LLM_L2)
      continue;
    out->l2_events++;
    out->l2_class[eco_classify(c)]++;
    out->resolved_at_l2 +=
        c->ok && !bsearch(&c->event_id, l3, (size_t)nl3, sizeof *l3, eco_cmp_i64);
  }
  free(lat);
  free(queue);
  free(l3);
  return 0;
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *eco_real(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static void eco_set(json_t *o, const char *key, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, key, v) != 0)
    *bad = 1;
}

static json_t *eco_layer_json(const eco_layer *l, int *bad) {
  json_t *o = json_object();
  if (!o) {
    *bad = 1;
    return NULL;
  }
  eco_set(o, "calls", json_integer(l->calls), bad);
  eco_set(o, "calls_per_day", eco_real(l->calls_per_day), bad);
  eco_set(o, "tokens_in_per_day", eco_real(l->tokens_in_per_day), bad);
  eco_set(o, "tokens_out_per_day", eco_real(l->tokens_out_per_day), bad);
  eco_set(o, "tokens_in_per_call", eco_real(l->tokens_in_per_call), bad);
  eco_set(o, "context_tokens_mean", eco_real(l->context_tokens_mean), bad);
  eco_set(o, "latency_mean_s", eco_real(l->lat_mean_s), bad);
  eco_set(o, "latency_p50_s", eco_real(l->lat_p50_s), bad);
  eco_set(o, "latency_p95_s", eco_real(l->lat_p95_s), bad);
  eco_set(o, "latency_p99_s", eco_real(l->lat_p99_s), bad);
  eco_set(o, "accuracy", eco_real(l->accuracy), bad);
  eco_set(o, "cost_per_day_usd", eco_real(l->cost_per_day_usd), bad);
  eco_set(o, "queue_mean_s", eco_real(l->queue_mean_s), bad);
  eco_set(o, "queue_p95_s", eco_real(l->queue_p95_s), bad);
  return o;
}

json_t *eco_json(const eco_figures *f) {
  int bad = 0;
  json_t *o = json_object(), *layers = json_object(), *mix = json_object();
  if (!o || !layers || !mix) {
    json_decref(o);
    json_decref(layers);
    json_decref(mix);
    return NULL;
  }
  eco_set(o, "per_day_factor", eco_real(f->per_day), &bad);
  eco_set(o, "pace", f->pace > 0 ? eco_real(f->pace) : json_null(), &bad);
  eco_set(o, "paced_calls", json_integer(f->layer[ECO_TOTAL].paced_calls), &bad);
  static const char *const keys[ECO_LAYERS + 1] = {"L2", "L3", "L4", "total"};
  for (int li = 0; li <= ECO_TOTAL; li++)
    eco_set(layers, keys[li], eco_layer_json(&f->layer[li], &bad), &bad);
  eco_set(o, "layers", layers, &bad);
  eco_set(o, "l2_events", json_integer(f->l2_events), &bad);
  eco_set(o, "resolved_at_l2", json_integer(f->resolved_at_l2), &bad);
  eco_set(o, "resolved_at_l2_share",
          f->l2_events ? json_real((double)f->resolved_at_l2 / f->l2_events) : json_null(), &bad);
  for (int k = 0; k < ECO_CLASSES; k++)
    eco_set(mix, eco_class_names[k], json_integer(f->l2_class[k]), &bad);
  eco_set(o, "l2_classification", mix, &bad);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* ---- markdown ---------------------------------------------------------------- */

/* A count as the benchmark writes it: "1.4M", "451K", "4.5K", "890", "n/a". */
static const char *eco_fmt_count(double x, char *buf, size_t cap) {
  if (!isfinite(x))
    snprintf(buf, cap, "n/a");
  else if (x >= 999500)
    snprintf(buf, cap, "%.1fM", x / 1e6);
  else if (x >= 9999.5)
    snprintf(buf, cap, "%.0fK", x / 1e3);
  else if (x >= 999.5)
    snprintf(buf, cap, "%.1fK", x / 1e3);
  else
    snprintf(buf, cap, "%.0f", x);
  return buf;
}

/* "%.0f" or "n/a". */
static const char *eco_fmt_int(double x, char *buf, size_t cap) {
  if (isfinite(x))
    snprintf(buf, cap, "%.0f", x);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

/* x seconds with `digits` decimals ("0.73s"), or "n/a". */
static const char *eco_fmt_s(double x, int digits, char *buf, size_t cap) {
  if (isfinite(x))
    snprintf(buf, cap, "%.*fs", digits, x);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

/* "88.5% (1275)" of k in n, or "n/a". */
static const char *eco_fmt_share(int k, int n, char *buf, size_t cap) {
  if (n > 0)
    snprintf(buf, cap, "%.1f%% (%d)", 100.0 * k / n, k);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

static void eco_table_rows(FILE *out, const char *name, const eco_figures *f) {
  for (int li = 0; li <= ECO_TOTAL; li++) {
    const eco_layer *l = &f->layer[li];
    char a[5][32], s[4][32], acc[32];
    if (isfinite(l->accuracy))
      snprintf(acc, sizeof acc, "%.1f%%", 100 * l->accuracy);
    else
      snprintf(acc, sizeof acc, "n/a");
    fprintf(out, "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | $%.2f |\n", name,
            eco_layer_names[li], l->calls_per_day,
            eco_fmt_count(l->tokens_in_per_day, a[0], sizeof a[0]),
            eco_fmt_count(l->tokens_out_per_day, a[1], sizeof a[1]),
            eco_fmt_int(l->tokens_in_per_call, a[2], sizeof a[2]),
            eco_fmt_int(l->context_tokens_mean, a[3], sizeof a[3]),
            eco_fmt_s(l->lat_mean_s, 2, s[0], sizeof s[0]),
            eco_fmt_s(l->lat_p50_s, 2, s[1], sizeof s[1]),
            eco_fmt_s(l->lat_p95_s, 2, s[2], sizeof s[2]),
            eco_fmt_s(l->lat_p99_s, 2, s[3], sizeof s[3]), acc, l->cost_per_day_usd);
  }
}

static void eco_triage_row(FILE *out, const char *name, const eco_figures *f) {
  char buf[32];
  fprintf(out, "| %s | %d | %s |", name, f->l2_events,
          eco_fmt_share(f->resolved_at_l2, f->l2_events, buf, sizeof buf));
  for (int k = 0; k < ECO_CLASSES; k++)
    fprintf(out, " %s |", eco_fmt_share(f->l2_class[k], f->l2_events, buf, sizeof buf));
  fprintf(out, "\n");
}

static void eco_pacing_row(FILE *out, const char *name, const eco_figures *f) {
  char pace[PACE_TEXT_LEN + 32], m[32], p[32];
  int paced = f->layer[ECO_TOTAL].paced_calls, calls = f->layer[ECO_TOTAL].calls;
  if (paced == 0)
    snprintf(pace, sizeof pace, "none: every call sent as soon as order and concurrency allow");
  else if (!isfinite(f->pace))
    snprintf(pace, sizeof pace, "mixed (%d of %d calls paced)", paced, calls);
  else
    pace_describe(f->pace, pace, sizeof pace);
  fprintf(out, "| %s | %s |", name, pace);
  for (int li = 0; li < ECO_LAYERS; li++)
    fprintf(out, " %s | %s |", eco_fmt_s(f->layer[li].queue_mean_s, 3, m, sizeof m),
            eco_fmt_s(f->layer[li].queue_p95_s, 3, p, sizeof p));
  fprintf(out, "\n");
}

int eco_markdown(FILE *out, const scr_backend *const *b, int n) {
  if (n <= 0)
    return 0;
  eco_figures *f = calloc((size_t)n, sizeof *f);
  if (!f)
    return FS_ENOMEM;
  for (int i = 0; i < n; i++)
    if (eco_compute(b[i], &f[i]) != 0) {
      free(f);
      return FS_ENOMEM;
    }
  double hours = scr_run_seconds(b[0]) / 3600.0;
  fprintf(out,
          "\n## Tiered Economics\n\n"
          "Per backend and layer, as the benchmark's table of the tiered architecture. Calls, "
          "tokens and cost per day are this run's, scaled from its %.4g simulated hours to 24 h "
          "(x %.4g). Latency is the service latency of the answered calls (request to answer); "
          "accuracy is the strict score (Total: the mean of the layers). Tokens in/call is what "
          "the backend was sent (system prompt, context and its own additions); context tokens "
          "is the mean size of the calls' contexts in llm/contexts.jsonl (estimated at 4 "
          "characters a token), the same for every backend.\n\n"
          "| Backend | Layer | Calls/day | Tokens/day in | Tokens/day out | Tokens in/call | "
          "Context tokens | Latency mean | p50 | p95 | p99 | Accuracy | Cost/day |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
          hours, f[0].per_day);
  for (int i = 0; i < n; i++)
    eco_table_rows(out, scr_backend_name(b[i]), &f[i]);
  fprintf(out, "\n### L2 Triage\n\n"
               "Resolved at L2: L2 events answered and not escalated to L3 (escalation is the "
               "detector's decision). The classifications are those of the valid L2 answers; "
               "errors and invalid answers count as no valid answer.\n\n"
               "| Backend | L2 events | Resolved at L2 | real_anomaly | noise | transient | "
               "no valid answer |\n|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++)
    eco_triage_row(out, scr_backend_name(b[i]), &f[i]);
  fprintf(out, "\n### Pacing\n\n"
               "The pace the calls were escalated at (escalate or run --pace X: each call "
               "released at its simulated time / X) and their queueing delay, release to start "
               "(for L3 and L4 it includes the wait for the calls submitted before them, which "
               "the order rules impose).\n\n"
               "| Backend | Pace | L2 queue mean | L2 queue p95 | L3 queue mean | L3 queue p95 | "
               "L4 queue mean | L4 queue p95 |\n|---|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++)
    eco_pacing_row(out, scr_backend_name(b[i]), &f[i]);
  free(f);
  return 0;
}
