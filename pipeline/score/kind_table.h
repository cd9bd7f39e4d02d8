/* The per-kind tables of a scored run (results/kinds.json and kinds.md):
 * per fault kind, in registry order, the scenarios the run has of it, how
 * many L1 detected and localized, the mean first-detection latency, and
 * each backend's strict L2 and L3 accuracy over the calls about them, so
 * the six built-in kinds and the added ones stand side by side. Built from
 * the two JSON documents the run and the scorer write (detection.json and
 * summary.json); formatting only. */
#ifndef FLEETSIM_KIND_TABLE_H
#define FLEETSIM_KIND_TABLE_H
#include <jansson.h>
#include <stdio.h>

/* The kinds document from detection (results/detection.json) and summary
 * (scr_summary_json): {"kinds": [{"kind", "scenarios", "detected",
 * "localized", "first_detection_latency_s_mean" (null when none detected),
 * "backends": [{"name", "L2": {"calls", "strict_mean"}, "L3": {...}}]}]},
 * only kinds with a scenario in the run; strict_mean is null without
 * calls. NULL on allocation failure. */
json_t *ktab_json(const json_t *detection, const json_t *summary);

/* The Markdown table of a kinds document. 0 or FS_EIO. */
int ktab_markdown(FILE *out, const json_t *kinds);

#endif
