/* Deterministic scoring of one backend's LLM calls against the ground truth
 * (seed "Scoring Methodology" and "Results"): every call of DIR/llm/
 * contexts.jsonl is mapped to the scenario it concerns, its answer (from
 * DIR/llm/<backend>.jsonl) is scored with the checklists, and the seed's
 * figures are aggregated. Scorer side only: reads ground truth, feeds nothing
 * back into detection or escalation.
 *
 * Mapping (the rules of detection_report.h, re-implemented here because its
 * helpers are static). An L2/L3 call's place comes from its context's
 * "event" (scope, node "node-NNNN", rack "rack-NN", job "train-NNN", tenant
 * name) and its time is the call's t_s (the event's). Scenario S matches when
 * start_s <= t_s <= end_s + 600 s and (node in S's root-cause nodes or
 * impacted nodes, or scope rack and a root-cause node in that rack, or scope
 * job and a root-cause node in that job, or scope cluster and a root-cause
 * node of that tenant). Of several matches the call goes to one whose
 * root-cause nodes hold the event node, else whose impacted nodes hold it,
 * else the earliest start (file order breaks ties). No match: "none", scored
 * with the "none" L2 list (noise or transient is right); an L3 call matching
 * nothing is scored against no items and gets 0.
 *
 * L4 (decision): a shift summary covers [t_s - window.hours, t_s] (window
 * from its context; the whole run when absent). It is scored ONCE against
 * the union of items: the "shift" list (SLA, training health, risks,
 * recommendations) plus the kind's L4 list of every scenario active in the
 * window (start_s < t_s and end_s > window start), each item prefixed with
 * the scenario id ("S1/incident"). Its "scenario" is the ids joined with
 * '+' ("S1+S3"), or "none" (then only the shift items count). In accuracy by
 * scenario the call's score counts once for each scenario it covers.
 *
 * Errors: a call whose transcript line has status "error", or that has no
 * transcript line, scores 0 with every item unmatched and counts in the
 * accuracy figures: an error is a missed answer. Latency figures use the
 * "ok" calls only. When a call_id appears on several lines the last wins.
 *
 * Statistics: mean and sample standard deviation (n - 1; 0 for one value);
 * percentiles by linear interpolation between order statistics (numpy's
 * default). Cost per 24 h = total cost * 86400 / run seconds; GPU-hours are
 * reported as totals and per 24 h. A backend's mean accuracy is the mean of
 * its L2, L3 and L4 accuracies over the layers that have calls; the Pareto
 * frontier holds the backends that no other backend beats on cost per 24 h
 * and mean accuracy (at least as good on both, better on one). */
#ifndef FLEETSIM_SCORER_H
#define FLEETSIM_SCORER_H
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/checklist.h"
#include "pipeline/contexts_file.h"
#include "scenarios/scenario.h"
#include "src/fleet.h"

enum { SCR_NAME_LEN = 64, SCR_SCENARIO_LEN = 128, SCR_LAYERS = 3 /* L2, L3, L4 */ };

/* What the scores are measured against; everything borrowed. */
typedef struct {
  const scn_set *scenarios; /* resolved scenarios of the run (NULL: none) */
  const fleet *f;
  const chk_set *checklists;
  double scrape_interval_s; /* seconds per scrape: t_start/t_end to seconds */
  double run_seconds;       /* run length, for per-24 h figures */
} scr_truth;

/* One scored call (a results/calls.jsonl line). */
typedef struct {
  char call_id[24];
  llm_layer layer;
  int64_t event_id; /* -1 for L4 */
  double t_s;
  char scenario[SCR_SCENARIO_LEN]; /* "S1", "S1+S3" (L4) or "none" */
  int *scn;                         /* indices into the scenario set it counts for */
  int nscn;
  int ok;                           /* transcript status "ok" */
  double latency_s, cost_usd, gpu_hours;
  int64_t tokens_in, tokens_out;
  char *response_text;              /* NULL when none */
  chk_result result;                /* items, score, note */
} scr_call;

/* Figures of one layer. Means and percentiles are NAN when undefined. */
typedef struct {
  int calls, errors, unparsable; /* unparsable: ok calls whose L2 answer did not parse */
  double acc_mean, acc_sd;       /* 0..1, over every call (errors score 0) */
  double lat_mean_s, lat_sd_s, lat_p50_s, lat_p95_s; /* ok calls */
} scr_layer_stats;

typedef struct scr_backend scr_backend;

/* Reads a transcript (DIR/llm/<backend>.jsonl) into a new JSON array of its
 * line objects (caller json_decref()s). Blank lines are skipped. 0, FS_EIO
 * (path in diag) or FS_EINVAL (a malformed line, named by number). */
int scr_read_transcript(const char *path, json_t **lines);

/* Scores backend `name` on calls[0..ncalls) with its transcript (a JSON
 * array of line objects, NULL: no lines). 0, FS_EINVAL (reason in diag) or
 * FS_ENOMEM. */
int scr_score_backend(scr_backend **out, const char *name, const scr_truth *truth,
                      const llm_call *calls, int ncalls, const json_t *transcript);

/* Frees a backend's scores; accepts NULL and clears the pointer. */
void scr_backend_destroy(scr_backend **b);

/* The backend's name, its scored calls (in contexts order) and figures. */
const char *scr_backend_name(const scr_backend *b);
int scr_call_count(const scr_backend *b);
const scr_call *scr_call_at(const scr_backend *b, int i);
/* layer: 2, 3 or 4. */
const scr_layer_stats *scr_layer(const scr_backend *b, int layer);
double scr_cost_per_24h_usd(const scr_backend *b);
double scr_mean_accuracy(const scr_backend *b); /* NAN when no calls */
/* Accuracy over the calls counted for scenario k (NAN when none), and their number. */
double scr_scenario_accuracy(const scr_backend *b, int k, int *ncalls);

/* Writes one JSON line per call (DESIGN.md section 4 results/calls.jsonl:
 * backend, layer, call_id, event_id, t_s, scenario, status, latency_s,
 * tokens_in, tokens_out, cost_usd, response_text, items, score). 0 or FS_EIO. */
int scr_write_calls_jsonl(FILE *out, const scr_backend *b);

/* The figures of backends b[0..n) as a new JSON object (caller decrefs):
 * {"run_seconds", "scenarios": [{id, kind}], "backends": [{name, layers:
 * {L2|L3|L4: {calls, errors, unparsable, accuracy_mean, accuracy_sd,
 * latency_mean_s, latency_sd_s, latency_p50_s, latency_p95_s}}, cost_usd,
 * cost_per_24h_usd, gpu_hours, gpu_hours_per_24h, accuracy_mean, pareto,
 * accuracy_by_scenario: [{id, kind, calls, accuracy}]}]}; undefined figures
 * are null. All backends must have been scored against the same truth.
 * NULL on allocation failure. */
json_t *scr_summary_json(const scr_backend *const *b, int n);

/* Prints the seed's tables with the backends side by side: "## Performance
 * Summary" (| Metric | b1 | ... with rows L2/L3/L4 accuracy "60.4% +/-
 * 17.8%", L2/L3/L4 latency "0.73s +/- 0.07s", Cost (24h) "$8.08",
 * GPU-hours (24h) "0.5"), "## Accuracy by Scenario" (| Backend | S1:
 * thermal_cascade | ...), "## Latency Distribution" (| Backend | L2 p50 |
 * L2 p95 | L3 p50 | L3 p95 | L4 p50 | L4 p95 |) and "## Cost-Accuracy
 * Pareto Frontier" (| Backend | Cost (24h) | Mean accuracy | Frontier |).
 * "n/a" where a figure is undefined. Deterministic. */
void scr_summary_markdown(FILE *out, const scr_backend *const *b, int n);

#endif
