/* `fleetsim export --format openmetrics`: a finished archive's telemetry as
 * OpenMetrics text, the input of `promtool tsdb create-blocks-from
 * openmetrics`, under one of three namings (openmetrics_names.h), followed
 * by the annotation families fleetsim_scenario_active (ground truth) and
 * fleetsim_l1_event (the L1 events). Reads fleet.h5 serially in bounded
 * hyperslabs (never a whole dataset), streams the text through a buffered
 * FILE* into FILE.partial and renames it to FILE only when complete.
 * Serial: call on one process. */
#ifndef FLEETSIM_OPENMETRICS_H
#define FLEETSIM_OPENMETRICS_H
#include <stdint.h>
#include <stdio.h>

#include "io/openmetrics_names.h"

typedef struct {
  const char *run_dir;  /* DIR holding a complete fleet.h5 */
  const char *out_path; /* FILE to write */
  const char *nodes;    /* --nodes "0-7,40", or NULL for every node */
  const char *metrics;  /* --metrics "gpu_temp_celsius,ttft_ms", or NULL for all; archive
                           names, the naming's names and the annotation families */
  om_naming naming;     /* --naming: series names, labels and units (openmetrics_names.h) */
  double from_h, to_h;  /* simulated hours [from, to); NAN = start / end of the run */
  int has_start_epoch;  /* 1: start_epoch is the Unix time of t = 0 */
  int64_t start_epoch;  /* else the default of om_default_epoch */
  int progress;         /* 1: the estimate, then progress lines on stderr */
  long read_budget;     /* bytes per hyperslab read; 0 = 8 MiB. When one node's
                           rows do not fit, series are read one at a time in
                           time slices (same text; tests use a small budget) */
} om_options;

typedef struct {
  int families;        /* metric families written */
  int64_t series;      /* series with at least one sample */
  int64_t samples;     /* sample lines written */
  int64_t nan_skipped; /* NaN values left out (metric not applicable) */
  int64_t bytes;       /* size of FILE */
  int64_t est_samples; /* samples the selection holds (NaN ones included) */
  int64_t est_bytes;   /* estimated size of FILE, checked against the free space */
  int64_t start_epoch; /* Unix time given to t = 0 */
  double wall_s;       /* seconds the export took */
} om_stats;

/* Writes o->out_path. Every problem with the input is collected in diag
 * before anything is written: archive missing or not complete, unknown
 * metric names (with the valid ones; a name is the archive's, the naming's
 * or an annotation family's), bad or out-of-range --nodes, a
 * --from/--to outside the run or selecting no scrape, an unreadable
 * created_utc without --start-epoch (all FS_EUSAGE); FS_EIO when FILE cannot
 * be written (nothing is left behind: FILE.partial is removed), FS_EHDF5 when
 * the archive cannot be read (or its compression filter cannot be loaded:
 * the message says how to get it), FS_ENOMEM. Before writing, the size of FILE is
 * estimated (printed when o->progress) and an export larger than the free
 * space of FILE's file system is refused (FS_EIO, nothing written). Returns
 * 0 and fills *st on success. */
int om_export(const om_options *o, om_stats *st);

/* One summary line: families, series, samples, size, time, samples/s. */
void om_print_summary(const om_options *o, const om_stats *st, FILE *out);

#endif
