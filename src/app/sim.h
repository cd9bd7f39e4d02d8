/* The run loop: owns the order of work in `fleetsim run` (topology, model,
 * per-window simulation, collectives, archive writes, progress, summary). */
#ifndef FLEETSIM_SIM_H
#define FLEETSIM_SIM_H
#include "pipeline/llm/llm_spec.h"
#include "src/app/closed_loop.h"
#include "src/model/config.h"

typedef struct {
  const char *out_dir; /* output directory; created if missing */
  const char *scenarios_text;   /* scenario file text (same on every rank) */
  const char *scenarios_source; /* its name, for messages */
  int quiet;           /* no progress lines */
  const llm_spec *backends; /* LLM backends the printing rank escalates to while
                               simulating (none: contexts.jsonl only, --no-llm) */
  int nbackends;
  int resume;          /* --resume: continue out_dir's interrupted run from its
                          last checkpoint (out_dir/checkpoint/) */
  int force;           /* --force: replace another run in out_dir (only
                          fleetsim's files of it are removed) and skip the
                          disk and memory checks */
  double pace;         /* --pace X: the backends release each call at its
                          simulated time / X (esc_set_pace); 0 = not paced */
  const cl_policy *closed_loop; /* one twin of `run --closed-loop` (closed_loop.h):
                                   who acts on the fleet; NULL: nobody (open loop) */
  int *keep_lock;      /* non-NULL: the run's lock of out_dir is handed over here
                          (rundir_unlock it) instead of released; -1 if not taken */
  int archive_window;  /* > window_scrapes: the archive is written in writes of this many
                          rows (staged, archive_stage.h); 0: one write per window */
  int parent_locked;   /* out_dir lies inside a run directory whose lock the caller
                          holds: it is not locked again */
} sim_options;

/* Runs the whole simulation for a validated config. Collective. The
 * printing rank holds out_dir/.lock for the whole run (src/core/rundir.h). A
 * fresh run refuses (FS_EUSAGE) a directory that holds another run and
 * (FS_EIO) a run whose estimated size does not fit on the file system or
 * in the node's memory, unless opt->force. Writes out_dir/fleet.h5
 * (complete = 1) on success, stamped like contexts.jsonl and the
 * transcripts with the run fingerprint (src/core/runid.h). After every archive window it
 * writes a checkpoint (out_dir/checkpoint/, removed when the run completes);
 * with opt->resume it continues from the last one instead of starting over,
 * with any rank count, and the result is bit-identical to an uninterrupted
 * run. A resume refuses (FS_EUSAGE, naming what differs or is missing) when
 * there is no checkpoint, the config, scenarios or fleetsim build differ,
 * or the archive, checkpoint or contexts belong to another run; for a run
 * that already completed (the same run) it says so and returns 0. Returns 0 or a
 * negative FS_* code on every rank, with the reason in diag on the printing
 * rank. */
int sim_run(const fs_config *cfg, const sim_options *opt);

#endif
