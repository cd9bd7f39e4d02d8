/* The strict score of one answer: the default score of every table. Each
 * checklist item is met only inside the answer field it is about (L2/L3
 * JSON fields, L4 sections by heading), by a positive mention (a negated or
 * ruled-out one does not count, answer_text.h), in order where it is an
 * ordered item, and by comparing structured fields with the ground truth
 * where it has a check. Scorer side only.
 *
 * Gates (the answer forfeits every item, with the reason in the note):
 *  - an item marked "gate" that is not met (L2 classification: real_anomaly
 *    exactly when the event is about a scenario, noise or transient when it
 *    is not; L3 on no scenario: the root cause invents no fault family);
 *  - L3 on a scenario: root_cause must name the scenario kind's family, and
 *    no family of another kind but the compatible ones. An answer naming
 *    several incompatible families, another family, or none, earns nothing.
 * L2 and L3 answers that do not validate against their schema score 0; an
 * L2 rationale that names two incompatible fault families (neither lists the
 * other as compatible), or names places of which fewer than half are the
 * event's or the fault's (an answer about another event), earns no item.
 *
 * Checks (truth for the call in sct_call):
 *   scope           L2 scope is one of the kind's l2_scopes (the fault's
 *                   extent, which may be wider than the event's)
 *   tenant          L2 tenant_type: for a fault localized to a GPU or node
 *                   (l2_scopes has gpu or node) the event node's tenant, if
 *                   the fault touches it; otherwise, and always allowed when
 *                   the fault spans tenants, "mixed" or its single tenant
 *                   Both are not applicable when the event itself states an
 *                   acceptable answer: copying it back is no triage.
 *   family          names the kind's family, and no incompatible family
 *   entity          L3: names the kind's entity for this event (rack: the
 *                   event's rack among the fault's, else any of them; node:
 *                   a root-cause node; gpu: a faulty GPU on the event's node,
 *                   job or rack, else any, node-NNNN/gpuK or its node;
 *                   hot_gpu: an over-selected GPU index), and at least half
 *                   of the entities of that type it names are the fault's
 *   entity_job      names the job of a root-cause node (same precision)
 *   lot             names "lot N" with the faulty GPUs' silicon lot N
 *   tenants         tenant_types is exactly the tenants of the root-cause
 *                   nodes
 *   cross_tenant    when those span tenants: tenant_types names two or more
 *                   of them and no other (a sample of a fault that spans
 *                   tenants shows its cross-tenant scope); else as tenants
 *   no_family       names no fault family at all (metric names, the
 *                   signals that fired, do not count: atx_blank_metric_names)
 *   absent          none of the patterns is mentioned positively
 *   incident        L4: a line names the kind's family, and no incompatible
 *                   family, under "Active incidents" when the fault is still
 *                   active at the window's end, under "Resolved incidents"
 *                   when it ended 30 min or more before, under either in
 *                   between; and that section names no family of a fault the
 *                   window does not cover
 *   incident_place  L4: a rack (rack entity), a root-cause node or its job
 *                   (node entity) or a faulty GPU or its node (gpu entity) is
 *                   named under the incident sections
 *   sla_figures     "SLA status" quotes every tenant's remaining budget of
 *                   the context (x% within 0.15 points, or a fraction within
 *                   0.0015) and gives each a verdict: a tenant burning fast
 *                   (its burn per hour in the window above 1.5 times the
 *                   slowest hourly burn of the context's hourly table) on a
 *                   line with a word such as fast, elevated, above, at risk,
 *                   breach; any other on a line with a word such as steady,
 *                   on track, normal, and on no line with a burn word
 *   jobs_health     "Training health": every job whose worst step time in
 *                   the window (the context's job table) is more than 3%
 *                   above its baseline is named on a line that says it is
 *                   degraded (slow, degraded, straggling, elevated ...); with
 *                   none, the section says the jobs are healthy and calls
 *                   none degraded
 *   risks           "Emerging risks" names every slow-burn fault still active
 *                   (a line with its family and no incompatible one; not
 *                   applicable when there is none)
 *   recommendations "Next-shift recommendations" names every fault still
 *                   active, by family (as for risks) or entity (not
 *                   applicable without one)
 *   Both also fail when the section names a family of a fault the window
 *   does not cover.
 * An item that is not applicable is left out of the call's items. */
#ifndef FLEETSIM_STRICT_SCORE_H
#define FLEETSIM_STRICT_SCORE_H
#include <jansson.h>

#include "pipeline/score/checklist.h"
#include "pipeline/score/family_memo.h"
#include "pipeline/score/truth_map.h"

/* The truth one call is scored against; everything borrowed. */
typedef struct {
  const tmap_truth *truth; /* scenarios, fleet, knowledge, scrape interval */
  /* L2, L3 */
  int scenario;            /* index of the scenario the call is about, or -1 */
  tmap_event event;        /* the call's event, from its context */
  /* L4 */
  const int *incidents;    /* [nincidents] scenario indices the window covers */
  const tmap_state *states; /* their states at the window's end */
  int nincidents;
  const json_t *context;   /* the call's context (L4: SLA figures), may be NULL */
  fam_memo *memo;          /* families named by texts, kept across calls (NULL: one
                              for this call only) */
} sct_call;

/* Scores text (an answer of `layer` 2, 3 or 4; NULL or empty: no answer)
 * strictly. L2/L3: lists[0] is the list of the call's scenario kind, or the
 * "none" list when c->scenario is -1 (n = 1). L4: lists[0] is the "shift"
 * list and lists[1 + i] the L4 list of c->incidents[i] (n = 1 +
 * nincidents); prefixes as in chk_score. Fills *out (chk_result_free it);
 * not applicable items are left out. 0, FS_EINVAL or FS_ENOMEM. */
int sct_score(chk_result *out, const chk_list *const *lists, const char *const *prefixes, int n,
              int layer, const char *text, const sct_call *c);

/* 1 when text names fault kind k's family (a positive mention). */
int sct_names_family(const chk_set *knowledge, int k, const char *text);

#endif
