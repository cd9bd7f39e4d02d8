/* The benchmark's tiered-economics figures of one scored backend (its table
 * "The Economics of Tiered Architecture"): per layer L2, L3, L4 and in
 * total, calls, tokens and cost per day (the run's counts scaled from its
 * simulated length to 24 h), the service latency of the answered calls
 * (mean, p50, p95, p99), the strict accuracy, tokens sent per call and the
 * mean context size; the share of L2 events resolved at L2 and the mix of
 * L2 classifications; for paced transcripts (escalate --pace) the pace and
 * the queueing delay. Computed from the scored calls alone (scorer.h);
 * formatting of its JSON object and markdown tables. No ground truth read
 * here beyond the scores.
 *
 * Definitions. Calls per day = calls * 86400 / run seconds, likewise tokens
 * and cost. Latency: calls with status ok (as the scorer's latency). Tokens
 * in per call: the transcript's tokens_in over all calls of the layer
 * (system prompt, context and the backend's additions); context tokens:
 * the estimate (4 characters a token) of the context in contexts.jsonl, the
 * same for every backend. Accuracy: the layer's strict per-call mean
 * (errors score 0); the total's is the mean over the layers with calls (the
 * Pareto table's mean accuracy). An L2 event is resolved at L2 when its L2
 * call was answered (status ok) and it has no L3 call (escalation is the
 * detector's decision). The L2 mix counts the classification of every
 * answered L2 call whose answer validates; the rest (errors, missing or
 * invalid answers) count as "no_valid_answer". Queueing delay: queue_s of
 * the lines that have one (release to start). */
#ifndef FLEETSIM_ECONOMICS_H
#define FLEETSIM_ECONOMICS_H
#include <jansson.h>
#include <stdio.h>

#include "pipeline/score/scorer.h"

enum { ECO_LAYERS = 3, ECO_TOTAL = 3 /* index of the total in eco_figures.layer */ };

/* L2 classifications, and the calls without one. */
typedef enum { ECO_REAL, ECO_NOISE, ECO_TRANSIENT, ECO_NO_ANSWER, ECO_CLASSES } eco_class;

/* One layer's (or the total's) figures; NAN where undefined. */
typedef struct {
  int calls;
  double calls_per_day, tokens_in_per_day, tokens_out_per_day, cost_per_day_usd;
  double tokens_in_per_call, context_tokens_mean;     /* NAN without calls */
  double lat_mean_s, lat_p50_s, lat_p95_s, lat_p99_s; /* ok calls; NAN without */
  double accuracy;                                    /* strict, 0..1 */
  int paced_calls;                                    /* lines with a queue_s */
  double queue_mean_s, queue_p95_s;                   /* NAN without paced calls */
} eco_layer;

typedef struct {
  double per_day;                  /* 86400 / run seconds */
  double pace;                     /* the pace of the paced lines; 0: none; NAN: several */
  eco_layer layer[ECO_LAYERS + 1]; /* L2, L3, L4, total */
  int l2_events;                   /* L2 calls */
  int resolved_at_l2;              /* of them: answered, no L3 call for the event */
  int l2_class[ECO_CLASSES];       /* of them: by classification */
} eco_figures;

/* "real_anomaly", "noise", "transient", "no_valid_answer". */
const char *eco_class_name(eco_class k);

/* The figures of scored backend b into *out. 0 or FS_ENOMEM. */
int eco_compute(const scr_backend *b, eco_figures *out);

/* The figures as a new JSON object (caller decrefs), NULL on allocation
 * failure: {per_day_factor, pace (null when none or several), paced_calls,
 * layers: {L2|L3|L4|total: {calls, calls_per_day, tokens_in_per_day,
 * tokens_out_per_day, tokens_in_per_call, context_tokens_mean,
 * latency_mean_s, latency_p50_s, latency_p95_s, latency_p99_s, accuracy,
 * cost_per_day_usd, queue_mean_s, queue_p95_s}}, l2_events,
 * resolved_at_l2, resolved_at_l2_share, l2_classification: {real_anomaly,
 * noise, transient, no_valid_answer}}; undefined figures are null. */
json_t *eco_json(const eco_figures *f);

/* "## Tiered Economics" for backends b[0..n) (scored against one truth):
 * one table | Backend | Layer | Calls/day | Tokens/day in | Tokens/day out
 * | Tokens in/call | Context tokens | Latency mean | p50 | p95 | p99 |
 * Accuracy | Cost/day | with rows "L2 (triage)", "L3 (root cause)", "L4
 * (shift summary)", "Total" per backend; "### L2 Triage" (| Backend | L2
 * events | Resolved at L2 | real_anomaly | noise | transient | no valid
 * answer |) and "### Pacing" (| Backend | Pace | queueing delay mean/p95 per
 * layer |). 0, or FS_ENOMEM. */
int eco_markdown(FILE *out, const scr_backend *const *b, int n);

#endif
