/* The actions of a finished L3 answer or L4 report as the fleet can apply
 * them: the answer's `actions` (validated by llm_schema.h) parsed against
 * one fleet (src/model/actions.h), entry by entry. No I/O. */
#ifndef FLEETSIM_LLM_ACTIONS_H
#define FLEETSIM_LLM_ACTIONS_H
#include <stddef.h>

#include "src/model/actions.h"
#include "src/model/fleet.h"

/* Parses the actions of answer_text (raw model text of layer 2, 3 or 4;
 * L2 answers have none) against fleet f into out[0..max), in the answer's
 * order, and sets *n to how many were written. An entry that names an
 * entity this fleet does not have (node-9999, a job it does not run, the
 * node of restart_job_without_node running no job), or that does not fit
 * in out, is skipped. Returns the number of entries skipped (0 when all
 * were written), with the first skipped entry's reason in why[len], e.g.
 * "actions[2]: drain_node: target 'node-9999' is not node-NNNN of this
 * fleet (...)" or "actions[16]: more than 4 actions"; or FS_EINVAL (< 0)
 * when the answer itself does not validate (llm_validate_answer's reason in
 * why, or "out of memory"; *n = 0). why may be NULL when len is 0. */
int llm_answer_actions(const char *answer_text, int layer, const fleet *f, act_action *out,
                       int max, int *n, char *why, size_t len);

#endif
