/* The L1 quality report (results/detection.json and its table): scores the
 * root's final event list against the resolved scenarios. It is the scorer's
 * business, so it reads ground truth; nothing here feeds back into detection.
 *
 * Matching rules: pipeline/score/truth_map.h (time, place and the kind's signature
 * metrics). An event may match several scenarios; one that matches none is
 * "unmatched".
 *
 * Per scenario: detected (at least one matching event);
 * first_detection_latency_s (earliest matching t_s minus start_s, up to 300 s
 * from block stamping alone; null when not detected); localized (a matching
 * event whose node is a root-cause node, or a rack-scope event on a rack
 * holding one, or a job-scope event on a job holding one); escalated (a
 * matching event with escalated != 0); events (matching events);
 * first_metric (the trigger metric of the first matching event).
 *
 * Global: events_total, events_per_day (scaled by the run length),
 * escalated_events, escalation_rate (escalated / total), unmatched_events and
 * unmatched_share, escalated_matching_share (escalated events that match some
 * scenario / escalated events), scenarios_total / _detected / _localized /
 * _escalated, and detected_within_10_min_share (scenarios whose first
 * detection came at most 600 s after start / scenarios). A share whose
 * denominator is zero is null in the JSON and "n/a" in the table. */
#ifndef FLEETSIM_DETECTION_REPORT_H
#define FLEETSIM_DETECTION_REPORT_H
#include <stdio.h>

#include "pipeline/score/checklist.h"
#include "src/model/events.h"
#include "scenarios/scenario.h"
#include "src/model/fleet.h"

typedef struct detrep detrep;

/* Builds the report from the root's final event list (events[n]; NULL when
 * n is 0) and the resolved scenarios (NULL: none) of fleet f, for a run of
 * run_seconds with scrapes every scrape_interval_s; knowledge gives each
 * kind's signature metrics. Reads the inputs only. Returns 0, FS_EINVAL
 * (with the reason in diag) or FS_ENOMEM. Local. */
int detrep_build(detrep **out, const ev_event *events, int n, const scn_set *scenarios,
                 const fleet *f, const chk_set *knowledge, double scrape_interval_s,
                 double run_seconds);

/* Writes the report as JSON (2-space indent, keys in a fixed order) to path,
 * e.g. "DIR/results/detection.json"; the directory must exist. Returns 0,
 * FS_EINVAL or FS_EIO (message in diag naming the path and the reason). */
int detrep_write_json(const detrep *r, const char *path);

/* Prints a markdown table, one row per scenario in file order:
 *   | scenario | kind | detected | first detection (min) | by | localized | escalated | events |
 * ("by": the trigger metric of the first detection)
 * then one "- name: value" line per global figure. Deterministic. */
void detrep_print_table(const detrep *r, FILE *out);

/* Frees the report; accepts NULL and clears the pointer. */
void detrep_destroy(detrep **r);

#endif
