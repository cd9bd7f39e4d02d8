/* Outcome scoring's tables (see outcomes.h): the computed figures written
 * to DIR/results/outcomes.md and DIR/results/outcomes.json. Used by
 * outcomes.c only. */
#ifndef FLEETSIM_OUTCOMES_REPORT_H
#define FLEETSIM_OUTCOMES_REPORT_H

#include "pipeline/score/outcomes.h"

/* Replaces DIR/results/outcomes.md and outcomes.json (making DIR/results
 * when missing) with the figures m[n] (fault-free first, then no-action,
 * in table order) and the per-scenario times to mitigation of truth (NULL:
 * none); command is quoted at the top of the Markdown (NULL: left out).
 * 0, FS_EIO (path in diag) or FS_ENOMEM. */
int oc_report_write(const char *run_dir, const oc_metrics *m, int n, const scn_set *truth,
                    const char *command);

#endif
