/* What a run records about its scenarios and its detections, besides the
 * telemetry: the ground truth (the resolved scenarios, exactly as
 * injected) in the archive at the start, and at the end the L1 events in
 * the archive plus DIR/results/detection.json and the detection table. */
#ifndef FLEETSIM_RUN_RECORD_H
#define FLEETSIM_RUN_RECORD_H
#include "io/archive.h"
#include "pipeline/detect/aggregate.h"
#include "scenarios/scenario.h"
#include "src/model/config.h"
#include "src/model/fleet.h"

/* Collective: writes the scenarios of set to the archive's ground truth
 * (nothing with archive = 0). 0 or an FS_* code on every rank. */
int record_ground_truth(h5a_writer *archive, const scn_set *set, const fs_config *cfg);

/* Collective: archives the L1 events (agg: the printing rank's aggregation,
 * NULL elsewhere; nothing with archive = 0) and, on the printing rank,
 * writes out_dir/results/detection.json (the events against the scenarios)
 * and, unless quiet, prints the detection table. 0 or an FS_* code on every
 * rank. */
int record_events(h5a_writer *archive, const agg_state *agg, const scn_set *set, const fleet *f,
                  const char *out_dir, int quiet);

#endif
