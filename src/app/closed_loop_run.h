/* `fleetsim run --closed-loop`: the fleet run once per policy ("twins")
 * with the same seed and scenarios, each policy acting on what it sees
 * (closed_loop.h), then the outcomes compared (pipeline/score/outcomes.h).
 * The run's backend drives the main twin, which writes the run directory
 * as usual (archive, contexts, transcripts with their decisions, results);
 * the fault-free, no-action, oracle and two null-operator twins
 * (calibration's salad, which acts on everything its context names, and
 * pasted) run without an archive in DIR/closed_loop/<policy>/. */
#ifndef FLEETSIM_CLOSED_LOOP_RUN_H
#define FLEETSIM_CLOSED_LOOP_RUN_H
#include "src/app/sim.h"

/* Runs every twin and writes DIR/closed_loop/<policy>.json and
 * DIR/results/outcomes.{json,md} (command: the command line, quoted there). opt holds exactly one backend and no
 * --resume or --pace (FS_EUSAGE otherwise); cfg's window_scrapes and
 * restart_every_windows are replaced (one detection block per window, so
 * actions take effect every 5 min; no restart checkpoints). DIR stays
 * locked from the main twin to the outcomes. Collective; 0 or an FS_* code
 * on every rank. */
int clr_run(const fs_config *cfg, const sim_options *opt, const char *command);

#endif
