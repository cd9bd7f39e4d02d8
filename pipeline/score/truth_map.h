/* Which ground-truth scenario an L1 event (or the LLM call made for it) is
 * about: one rule for the detection report and the scorer. Scorer side
 * only: reads ground truth, decides nothing upstream.
 *
 * Scenario S is active over [start_s, end_s) (its scrapes times the scrape
 * interval). Event e is about S when all three hold:
 *  - time: start_s <= e.t_s <= end_s + 10 min (events are stamped at the end
 *    of their 5-minute block, so the first block that sees S may be stamped
 *    up to 5 min after start_s; the grace also covers the symptoms' decay);
 *  - place: e.node is one of S's root-cause nodes or impacted nodes, or e is
 *    rack-scoped on a rack holding a root-cause node, or job-scoped on a job
 *    holding one, or cluster-scoped on the tenant of one;
 *  - evidence: e's trigger metric is one of the signature metrics of S's
 *    kind (scenarios/checklists.json), so an SBE event on a node that a KV
 *    storm happens to cover is not the storm's.
 * The relation says how the place matched: TMAP_ROOT_NODE (e.node is a root-
 * cause node), TMAP_ROOT_GROUP (e's rack or job holds one), TMAP_IMPACTED
 * (e.node feels it), TMAP_TENANT (cluster rule). */
#ifndef FLEETSIM_TRUTH_MAP_H
#define FLEETSIM_TRUTH_MAP_H
#include <jansson.h>

#include "pipeline/score/checklist.h"
#include "pipeline/detect/contexts_file.h"
#include "src/model/events.h"
#include "scenarios/scenario.h"
#include "src/model/fleet.h"

enum { TMAP_GRACE_S = 600, TMAP_RESOLVED_AFTER_S = 1800 };

enum { TMAP_ROOT_NODE = 1, TMAP_ROOT_GROUP = 2, TMAP_IMPACTED = 4, TMAP_TENANT = 8 };

/* An event as the truth map sees it; -1 where unknown. */
typedef struct {
  double t_s;
  int scope; /* ev_scope, or -1 */
  int node, rack, job, tenant;
  const char *metric; /* trigger metric (NULL: unknown, matches no signature) */
} tmap_event;

/* What the rules are evaluated against; everything borrowed. */
typedef struct {
  const scn_set *scenarios; /* NULL: none */
  const fleet *f;
  const chk_set *knowledge; /* signature metrics per kind */
  double scrape_interval_s;
} tmap_truth;

/* Start and end of scenario s in seconds. */
double tmap_start_s(const tmap_truth *t, const scn_def *s);
double tmap_end_s(const tmap_truth *t, const scn_def *s);

/* The TMAP_* bits of how e relates to s; 0 when e is not about s. */
unsigned tmap_relation(const tmap_truth *t, const scn_def *s, const tmap_event *e);

/* The scenario e is most about, or -1: a root-cause node beats an impacted
 * node, which beats the rack, job and cluster rules; then the kind that
 * lists e's trigger metric earlier among its signature metrics (a TTFT event
 * on a node both a KV storm and a microburst touch is the storm's); then the
 * earliest start, then file order. */
int tmap_best(const tmap_truth *t, const tmap_event *e);

/* How an L4 window sees a fault it covers at its end: still active, over
 * for 30 min or more (resolved), or in between (either). */
typedef enum { TMAP_ACTIVE = 1, TMAP_RESOLVED = 2, TMAP_EITHER = 3 } tmap_state;

/* The first detection of every scenario: the earliest of calls[0..n) at L2
 * (one per L1 event) about it, INFINITY when none; detected_s[scenarios]. */
void tmap_first_detections(const tmap_truth *t, const llm_call *calls, int n, double *detected_s);

/* The scenarios an L4 window (t0, t1] covers: active in it (start < t1 and
 * end > t0) and detected by t1. Writes their indices and states to idx and
 * state (room for every scenario) and returns how many. */
int tmap_window(const tmap_truth *t, double t0, double t1, const double *detected_s, int *idx,
                tmap_state *state);

/* e as a tmap_event. */
tmap_event tmap_of_event(const ev_event *e);

/* The event of an L2/L3 context ({"event": {scope, node "node-NNNN", rack
 * "rack-NN", job, tenant, trigger: {metric}}}) at t_s, as the truth map sees
 * it; the metric is copied into metric[EV_METRIC_LEN]. -1 (NULL metric)
 * where absent or unknown. */
tmap_event tmap_of_context(const json_t *ctx, double t_s, const fleet *f,
                           char metric[EV_METRIC_LEN]);

#endif
