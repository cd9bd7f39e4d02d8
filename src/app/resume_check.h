/* `fleetsim run --resume`: whether the output directory holds this
 * invocation's run and where it stands (a checkpoint to continue from, or
 * a run already complete), checked before anything is loaded or written.
 * Loading the checkpoint is src/app/restart.c's. */
#ifndef FLEETSIM_RESUME_CHECK_H
#define FLEETSIM_RESUME_CHECK_H
#include "src/app/sim.h"
#include "src/core/checkpoint.h"
#include "src/core/runid.h"
#include "src/model/config.h"

/* Collective. Checks opt->out_dir against this invocation (config_json and
 * run are this invocation's) and sets *m to the checked manifest on every
 * rank (free with ckpt_manifest_free); or sets *complete = 1 when
 * out_dir/fleet.h5 is this run, already complete. Refuses (FS_EUSAGE, every
 * difference named in diag) archive = 0, a missing checkpoint or archive,
 * an archive through a link, another build, config or scenarios, and an
 * archive, checkpoint or contexts.jsonl of another run. 0 or an FS_* code
 * on every rank. */
int resume_check(const fs_config *cfg, const sim_options *opt, const char *config_json,
                 const runid *run, ckpt_manifest *m, int *complete);

/* Printing rank, --resume of a completed run: says so; if the finish was
 * cut short after fleet.h5 was renamed (the checkpoint is still there),
 * scores the run again (with backends) and removes the checkpoint. 0 or an
 * FS_* code. */
int resume_finish_complete(const sim_options *opt);

#endif
