/* Sizes a run before it starts: the bytes it writes (archive, checkpoints,
 * the rest) and the memory of its ranks, from the config alone, so that
 * `validate` can print them and `run` can refuse a run that would not fit
 * (docs/operations.md "Sizing" explains the terms). Estimates, within about 10 % of
 * the measured sizes for the default and test fleets. */
#ifndef FLEETSIM_SIZING_H
#define FLEETSIM_SIZING_H
#include <stdio.h>

#include "src/model/config.h"

typedef struct {
  double archive_bytes;    /* fleet.h5 (chunks of whole windows, metadata) */
  double checkpoint_bytes; /* DIR/checkpoint at its largest (two checkpoints) */
  double other_bytes;      /* contexts, transcripts, results: a margin */
  double disk_bytes;       /* the sum: what DIR's file system must hold */
  double window_bytes;     /* the window buffer of the largest rank */
  double rank_bytes;       /* peak memory of the largest worker rank */
  double root_bytes;       /* peak memory of the printing rank */
  double node_scrape_bytes; /* one node's values of one scrape (every GPU and node
                               metric of the catalogue, 4 B each) */
  int local_nodes;         /* nodes of the largest rank */
} sizing;

/* The estimate for cfg (validated) run on `ranks` ranks. */
void sizing_estimate(const fs_config *cfg, int ranks, sizing *out);

/* "5.99 GB" style text of a byte count (decimal units, 3 digits). */
void sizing_bytes(double bytes, char *out, size_t cap);

/* The lines `validate` prints: the bytes written (archive and what drives
 * it, checkpoints) and the memory per rank for `ranks` ranks. */
void sizing_print(const sizing *s, const fs_config *cfg, int ranks, FILE *out);

/* Whether a run of estimate z fits: its bytes on the file system of
 * out_dir (statvfs) and node_ranks ranks' memory in this node's physical
 * memory. 0, or FS_EIO with the reason in diag: the size, what it has, the
 * config keys that drive it and --force. */
int sizing_check_fits(const sizing *z, const fs_config *cfg, const char *out_dir, int node_ranks);

#endif
