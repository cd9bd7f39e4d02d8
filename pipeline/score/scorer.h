/* Deterministic scoring of one backend's LLM calls against the ground truth
 * (the benchmark's "Scoring Methodology" and "Results"): every call of DIR/llm/
 * contexts.jsonl is mapped to the scenario it concerns, its answer (from
 * DIR/llm/<backend>.jsonl) is scored twice with the checklists, strictly
 * (pipeline/score/strict_score.h: the default in every table) and the benchmark's way
 * (chk_score: the benchmark's regex score), and the benchmark's figures are
 * aggregated for both. Scorer side only: reads ground truth, feeds nothing
 * back into detection or escalation.
 *
 * Mapping (pipeline/score/truth_map.h, the rule of the detection report). An
 * L2/L3 call's event comes from its context's "event" (scope, node
 * "node-NNNN", rack "rack-NN", job, tenant name, trigger metric) and its time
 * is the call's t_s (the event's); it is about the scenario tmap_best picks,
 * or "none". An L2 call about none is right when it says noise or transient;
 * an L3 call about none is scored with the "none" L3 list (no invented fault,
 * no intrusive action) strictly, and against no items (0) the benchmark's way.
 *
 * L4: a shift summary covers [t_s - window.hours, t_s] (window from its
 * context; the whole run when absent). It covers every scenario active in
 * the window (start_s < t_s and end_s > window start) that L1 had detected
 * by t_s (an L2 call about it at or before t_s); each is active at the
 * window's end (end_s > t_s), resolved (end_s + 30 min <= t_s) or either.
 * It is scored ONCE against the "shift" list plus the kind's L4 list of
 * every covered scenario, each item prefixed with the scenario id
 * ("S1/incident"). Its "scenario" is the ids joined with '+' ("S1+S3"), or
 * "none"; in accuracy by scenario it counts once for each scenario it
 * covers, or for "none".
 *
 * Errors: a call whose transcript line has status "error", or that has no
 * transcript line, scores 0 with every item unmatched and counts in the
 * accuracy figures: an error is a missed answer. Latency figures use the
 * "ok" calls only. When a call_id appears on several lines the last wins.
 *
 * Statistics per layer: mean and sample standard deviation over calls (n -
 * 1; 0 for one value), and the macro average: the mean over the scenarios
 * (and "none") of the mean of their calls, so a long scenario does not
 * outweigh the others. Percentiles by linear interpolation between order
 * statistics (numpy's default). Cost per 24 h = total cost * 86400 / run
 * seconds; GPU-hours are reported as totals and per 24 h. A backend's mean
 * accuracy is the mean of its strict L2, L3 and L4 per-call means over the
 * layers that have calls; the Pareto frontier holds the backends that no
 * other backend beats on cost per 24 h and mean accuracy (at least as good on
 * both, better on one). */
#ifndef FLEETSIM_SCORER_H
#define FLEETSIM_SCORER_H
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/score/checklist.h"
#include "pipeline/detect/contexts_file.h"
#include "scenarios/scenario.h"
#include "src/model/fleet.h"

enum { SCR_NAME_LEN = 64, SCR_SCENARIO_LEN = 128, SCR_LAYERS = 3 /* L2, L3, L4 */ };

/* What the scores are measured against; everything borrowed. */
typedef struct {
  const scn_set *scenarios; /* resolved scenarios of the run (NULL: none) */
  const fleet *f;
  const chk_set *checklists; /* checklists and the kinds' knowledge */
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
  int nscn;                         /* 0: it counts for "none" */
  int ok;                           /* transcript status "ok" */
  double latency_s, cost_usd, gpu_hours;
  int64_t tokens_in, tokens_out;
  double pace;                      /* transcript "pace" (escalate --pace); 0 when absent */
  double queue_s;                   /* transcript "queue_s" (paced lines); NAN when absent */
  int64_t context_tokens;           /* estimated tokens of its context (contexts.jsonl) */
  char *response_text;              /* NULL when none */
  chk_result result;                /* strict: items, score, note */
  chk_result regex;                  /* benchmark's regex score */
} scr_call;

/* Figures of one layer. Means and percentiles are NAN when undefined. */
typedef struct {
  int calls, errors, unparsable; /* unparsable: ok calls whose answer did not parse */
  double acc_mean, acc_sd, acc_macro;    /* strict, 0..1, every call (errors score 0) */
  double regex_mean, regex_sd, regex_macro; /* the benchmark's regex score */
  double lat_mean_s, lat_sd_s, lat_p50_s, lat_p95_s; /* ok calls */
} scr_layer_stats;

typedef struct scr_backend scr_backend;

/* Reads a transcript (DIR/llm/<backend>.jsonl) into a new JSON array of its
 * line objects (caller json_decref()s). Blank lines are skipped. 0, FS_EIO
 * (path in diag) or FS_EINVAL (a malformed line, named by number). */
int scr_read_transcript(const char *path, json_t **lines);

/* Percentile p (0..100) of sorted v[n] by linear interpolation between
 * order statistics (numpy's default); NAN when n is 0. */
double scr_percentile(const double *v, int n, double p);

/* Scores backend `name` on calls[0..ncalls) with its transcript (a JSON
 * array of line objects, NULL: no lines). 0, FS_EINVAL (reason in diag) or
 * FS_ENOMEM. One scr_judge_new, scr_judge_backend and scr_judge_free. */
int scr_score_backend(scr_backend **out, const char *name, const scr_truth *truth,
                      const llm_call *calls, int ncalls, const json_t *transcript);

/* What scoring on one truth and one list of calls needs whatever the
 * backend: every scenario's compiled checklists, the none and shift lists,
 * each call's parsed context and each scenario's first detection. Built
 * once and shared by every backend scored on those calls (the run's, the
 * calibration's operators), so the patterns are compiled and the contexts
 * parsed once. Borrows truth and calls, which must outlive it. */
typedef struct scr_judge scr_judge;

/* Builds the judge of truth and calls[0..ncalls). 0, FS_EINVAL (reason in
 * diag) or FS_ENOMEM. */
int scr_judge_new(scr_judge **out, const scr_truth *truth, const llm_call *calls, int ncalls);

/* Frees a judge; accepts NULL and clears the pointer. */
void scr_judge_free(scr_judge **j);

/* The truth and the calls a judge was built on (*ncalls gets their number). */
const scr_truth *scr_judge_truth(const scr_judge *j);
const llm_call *scr_judge_calls(const scr_judge *j, int *ncalls);

/* Scores backend `name` with its transcript (as scr_score_backend) on the
 * judge's truth and calls. 0, FS_EINVAL (reason in diag) or FS_ENOMEM. */
int scr_judge_backend(scr_backend **out, const char *name, const scr_judge *j,
                      const json_t *transcript);

/* Frees a backend's scores; accepts NULL and clears the pointer. */
void scr_backend_destroy(scr_backend **b);

/* The backend's name, its scored calls (in contexts order) and figures. */
const char *scr_backend_name(const scr_backend *b);
int scr_call_count(const scr_backend *b);
const scr_call *scr_call_at(const scr_backend *b, int i);
/* layer: 2, 3 or 4. */
const scr_layer_stats *scr_layer(const scr_backend *b, int layer);
double scr_cost_per_24h_usd(const scr_backend *b);
double scr_cost_usd(const scr_backend *b);  /* total over the calls */
double scr_gpu_hours(const scr_backend *b); /* total over the calls */
double scr_run_seconds(const scr_backend *b);
double scr_mean_accuracy(const scr_backend *b); /* NAN when no calls */
/* Accuracy at layer (2, 3 or 4) over the calls counted for scenario k (k ==
 * the number of scenarios: the calls about none), strict or the regex score (regex != 0);
 * NAN when there are none. *ncalls (if not NULL) gets their number. */
double scr_scenario_accuracy(const scr_backend *b, int layer, int k, int regex, int *ncalls);

/* The scenarios of the truth the backend was scored against, and one's id
 * and kind name (0 <= k < count; k == count: "none"). */
int scr_scenario_count(const scr_backend *b);
const char *scr_scenario_id(const scr_backend *b, int k);
const char *scr_scenario_kind(const scr_backend *b, int k);

/* 1 when no other of backends b[0..n) is at least as cheap (cost per 24 h)
 * and as accurate (scr_mean_accuracy), and better on one of the two; a
 * backend without accuracy is never on the frontier. */
int scr_on_frontier(const scr_backend *const *b, int n, int i);

/* Writes one JSON line per call (docs/design.md results/calls.jsonl:
 * backend, layer, call_id, event_id, t_s, scenario, status, latency_s,
 * tokens_in, tokens_out, cost_usd, response_text, items, score (strict),
 * note (why the strict score forfeited items, or ""), items_regex,
 * score_regex). 0 or FS_EIO. */
int scr_write_calls_jsonl(FILE *out, const scr_backend *b);

/* The figures of backends b[0..n) as a new JSON object (caller decrefs):
 * {"run_seconds", "scenarios": [{id, kind}], "backends": [{name, layers:
 * {L2|L3|L4: {calls, errors, unparsable, accuracy_mean, accuracy_sd,
 * accuracy_macro, accuracy_regex_mean, accuracy_regex_sd, accuracy_regex_macro,
 * latency_mean_s, latency_sd_s, latency_p50_s, latency_p95_s,
 * by_scenario: [{id, kind, calls, accuracy, accuracy_regex}] (the last one
 * id "none")}}, cost_usd, cost_per_24h_usd, gpu_hours, gpu_hours_per_24h,
 * accuracy_mean, pareto, economics (pipeline/score/economics.h: eco_json)}]};
 * accuracies are strict unless named regex;
 * undefined figures are null. All backends must have been scored against
 * the same truth. NULL on allocation failure. */
json_t *scr_summary_json(const scr_backend *const *b, int n);

/* Prints the benchmark's tables with the backends side by side: "## Performance
 * Summary" (| Metric | b1 | ... with rows L2/L3/L4 accuracy "60.4% +/-
 * 17.8%" (strict), L2/L3/L4 accuracy, macro over scenarios, L2/L3/L4
 * accuracy, benchmark regex, L2/L3/L4 latency "0.73s +/- 0.07s",
 * Cost (24h) "$8.08", GPU-hours (24h) "0.5"), "## Accuracy by Scenario"
 * with one table per layer (| Backend | S1: thermal_cascade | ... | none |
 * macro | per call |, cells "62% (regex 80%, 3)"), "## Latency Distribution"
 * (| Backend | L2 p50 | L2 p95 | L3 p50 | L3 p95 | L4 p50 | L4 p95 |) and
 * "## Cost-Accuracy Pareto Frontier" (| Backend | Cost (24h) | Mean
 * accuracy | Frontier |), then the tiered economics (eco_markdown). "n/a"
 * where a figure is undefined. Deterministic. 0, FS_EINVAL or FS_ENOMEM. */
int scr_summary_markdown(FILE *out, const scr_backend *const *b, int n);

#endif
