/* When the run asks the LLM tiers, on the printing rank: after each
 * detection step an L2 context for every new event, an L3 context
 * CTX_SERIES_HALF steps (30 min) after each escalated event, an L4 shift
 * summary every l4_every_steps steps (the setting; default 48 = 4 h) and
 * once more at the end. Each
 * context goes to DIR/llm/contexts.jsonl and is queued on every backend
 * (never waiting on the network while the simulation runs); after the
 * simulation the schedule drains the backends. No MPI. */
#ifndef FLEETSIM_LLM_SCHEDULE_H
#define FLEETSIM_LLM_SCHEDULE_H
#include <stdint.h>
#include <stdio.h>

#include "pipeline/detect/aggregate.h"
#include "pipeline/detect/context.h"
#include "pipeline/llm/escalate.h"
#include "src/app/closed_loop.h"
#include "src/app/sim.h"
#include "src/core/runid.h"

/* The schedule's state; zero-initialise, lsched_open on the printing rank.
 * next_l3 and next_l4 carry over a restart (src/app/restart.c saves them). */
typedef struct {
  FILE *contexts; /* DIR/llm/contexts.jsonl */
  char contexts_path[4200];
  esc_backend **esc; /* [nesc] the run's backends */
  int nesc;
  int esc_rc;  /* first escalation failure (a transcript write): ends the run */
  int next_l3; /* first event whose L3 context is not written yet */
  int next_l4; /* index of the next L4 shift summary */
  int l4_steps; /* detection steps between L4 shift summaries */
  cl_state *cl; /* closed loop: told of every call before it is submitted; NULL: open loop */
} lsched;

/* Printing rank: makes DIR/llm and opens contexts.jsonl (a fresh run
 * creates it with the run header of `run`; opt->resume cuts it back to
 * contexts_bytes, the checkpoint's length, and appends), opens every
 * backend of opt, and on resume gives them the calls already written again
 * (their transcripts skip the answered ones). l4_steps (>= 1) is the
 * L4 cadence in detection steps. 0 or a negative FS_* code
 * (the reason in diag); lsched_close frees what was opened either way. */
int lsched_open(lsched *s, const sim_options *opt, const runid *run, int64_t contexts_bytes,
                int l4_steps);

/* Printing rank, after detection step `step` was aggregated (agg) and
 * recorded (ctx): the L2 contexts of events [first_new, ...), the L3
 * contexts now due, the L4 summary when one is due; then one poll of every
 * backend without waiting. scrape_interval_s dates the L4 window. 0, or the
 * first FS_* code of a context or of a backend (a transcript that cannot
 * be written ends the run at this block). */
int lsched_block(lsched *s, const agg_state *agg, const ctx_builder *ctx, int32_t step,
                 int first_new, int scrape_interval_s);

/* Printing rank, after the last detection step (last_step): every L3
 * context still owed and the final L4 summary, then waits until every
 * backend has answered every call; a wait over a second gets a progress
 * line unless quiet. 0 or the first FS_* code. */
int lsched_finish(lsched *s, const agg_state *agg, const ctx_builder *ctx, int32_t last_step,
                  int scrape_interval_s, int quiet);

/* Printing rank, for a checkpoint: flushes and fsyncs contexts.jsonl and
 * sets *bytes to its length. 0 or FS_EIO (the path in diag). */
int lsched_sync(lsched *s, int64_t *bytes);

/* Prints every backend's summary line (esc_print_summary). */
void lsched_print_summaries(const lsched *s, FILE *out);

/* Closes the backends and contexts.jsonl; safe on a zeroed or closed schedule. */
void lsched_close(lsched *s);

#endif
