/* `fleetsim score` and the end of `fleetsim run`: scores every backend
 * transcript of a run directory (DIR/llm/<backend>.jsonl) against the
 * checklists and the run's ground truth, and writes DIR/results/calls.jsonl,
 * summary.json, summary.md and judgment packages (DIR/judgment/<backend>/
 * <scenario>_<layer>_<n>.md). The scorer is the only reader of ground truth. */
#ifndef FLEETSIM_SCORE_RUN_H
#define FLEETSIM_SCORE_RUN_H
#include "scenarios/scenario.h"
#include "src/model/fleet.h"

/* Scores the run in dir for fleet f with resolved scenarios scn (the run's
 * own, or rebuilt from the archive). print: also print summary.md to stdout.
 * Serial (one process). 0, or FS_EIO/FS_EINVAL/FS_ENOMEM with the reason in diag. */
int score_run_dir(const char *dir, const fleet *f, const scn_set *scn, int print);

/* Rebuilds the config, fleet and resolved scenarios of the finished archive
 * DIR/fleet.h5 (from its `config` and `scenarios` attributes) and scores it;
 * a closed-loop run's (DIR/closed_loop/fault-free.json exists) outcomes are
 * written again from its twins' records (pipeline/score/outcomes.h).
 * 0, FS_EUSAGE (not a complete run) or another FS_* code, reason in diag. */
int score_run_archive(const char *dir, int print);

#endif
