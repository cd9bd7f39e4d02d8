/* The L1 statistical detector, run on every rank every detection block (20
 * scrapes = 5 minutes) over the rank's own nodes. It sees telemetry only.
 *
 * Baselines, all learned from telemetry as the run goes:
 *  - peer baseline: for each workload class (MoE inference, dense inference,
 *    idle training pool, and each training job separately) and each feature,
 *    the median and MAD over all nodes (or GPUs) of the class in the same
 *    block. Being taken at the same moment, it is per tenant and per hour of
 *    day by construction, and for job nodes it is the comparison with job
 *    peers. Peers on other ranks come in through one allgather per block.
 *  - own history: an EWMA mean and variance per node (and GPU) and feature.
 *  - class trend: the block-to-block change of each class median against an
 *    EWMA of its typical change (rate of change), which catches shifts that
 *    move a whole tenant or job at once (peers move together).
 * Thresholds, and why they are not the seed's plain |z| > 3: a 1,000-node
 * fleet runs about 260 tests per node and block (20 node metrics, 30 x 8 GPU
 * metrics), 75 million a day; at |z| > 3 noise alone would raise tens of
 * thousands of events. So a node metric triggers at |z_peer| > 4.5 and a GPU
 * metric at |z_peer| > 5.5 (Bonferroni for 260 tests at the 3-sigma level),
 * and in both cases the node's own EWMA deviation, in units of the peers'
 * sigma, must exceed 3 in the same direction: it must have moved, not just
 * sit a little apart (a warm slot at the top of a rack). A class trend
 * triggers at |z| > 5 with sigma floored at 5% of the median (checkpoint
 * durations and the diurnal curve move that much). These are the defaults:
 * every threshold, EWMA weight, floor and the warm-up (3 blocks) are
 * settings (fs_config.det, the detect_* keys of the config table). */
#ifndef FLEETSIM_DETECT_H
#define FLEETSIM_DETECT_H
#include <stddef.h>
#include <stdint.h>

#include "src/model/events.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"

enum { DET_BLOCK_SCRAPES = 20 };

/* One node's anomaly in a block, produced on the rank that owns the node. */
typedef struct {
  int32_t node;
  int32_t cls;           /* workload class (det_class_of) */
  int32_t trend_member;  /* 1: chosen as the most-moved node of an anomalous class trend */
  ev_signal top;         /* largest |z| */
  ev_signal cooccur[EV_COOCCUR];
  int32_t ncooccur;
} det_candidate;

/* A class-level (tenant-wide or job-wide) shift, identical on every rank. */
typedef struct {
  int32_t cls;
  ev_signal top;
  ev_signal more[EV_COOCCUR];
  int32_t nmore;
} det_trend;

typedef struct det_state det_state;

/* Prepares detector state for nodes [node0, node0 + nnodes) of fleet f and
 * windows of window_rows rows (a multiple of DET_BLOCK_SCRAPES, or the whole
 * run when shorter). Returns 0 or FS_ENOMEM. */
int det_init(det_state **out, const fleet *f, int node0, int nnodes, int window_rows);

/* Sets keep[k] for every GPU metric k that det_block_gather reads from the
 * window's rows (the counters); it reads the others from its fold. */
void det_window_metrics(const det_state *s, unsigned char keep[GM_COUNT]);

/* A tel_chunk_fn (ctx: the det_state): folds a chunk of one scrape's GPU
 * cells into the block features of the gauge, throttle and code metrics
 * (sums and maxima in row order, the same floats as a pass over the rows).
 * Every row of the window must pass through it, in order, before
 * det_block_gather reads that block; counters are read from the window. */
void det_fold_chunk(void *ctx, int row, size_t i0, size_t n, tel_cell *const *gpu);

/* Frees the state; accepts NULL and clears the pointer. */
void det_destroy(det_state **s);

/* Class of node n: 0 moe, 1 dense, 2 idle training pool, 3 + j for job j. */
int det_class_of(const fleet *f, int n);

/* One detection block in two collective calls. det_block_gather computes
 * this rank's features of rows [row0, row0 + DET_BLOCK_SCRAPES) of window w
 * (folded by det_fold_chunk as they were simulated)
 * and gathers every rank's; it changes nothing the readers below, the
 * candidates or the trends of the previous block show, so a rank may still
 * use those between the two calls (the time it spends there is balanced by
 * the class-statistics split). det_block_finish analyses the block: on
 * return cands (ncands of them) are this rank's candidates and trends
 * (ntrends) the class trends, the same on all ranks; both stay valid until
 * the next det_block_finish.
 * Each returns 0 or a negative FS_* code on all ranks. */
int det_block_gather(det_state *s, const tel_window *w, int row0);
int det_block_finish(det_state *s, const det_candidate **cands, int *ncands,
                     const det_trend **trends, int *ntrends);

/* After det_block_finish, every rank holds the block features of every node. These
 * read them (NaN where a metric does not apply to the node's tenant). */
float det_node_feature(const det_state *s, int metric, int node);
float det_gpu_feature(const det_state *s, int metric, int node, int gpu);

/* The same, whole: one metric's features of every node, [nodes] or
 * [nodes][FLEET_GPUS] in global node order, valid until the next det_block_finish.
 * Example: det_gpu_features(d, GM_TEMP)[n * FLEET_GPUS + g]. */
const float *det_node_features(const det_state *s, int metric);
const float *det_gpu_features(const det_state *s, int metric);

/* Class medians of the last block for a node or a GPU metric. */
float det_class_node_median(const det_state *s, int cls, int metric);
float det_class_gpu_median(const det_state *s, int cls, int metric);

/* ---- checkpoint (resume) ---------------------------------------------------
 * Per-node state as fixed-size records (rank-count independent), and the
 * global part (identical on every rank) through a checkpoint stream. */
typedef struct ckpt_file ckpt_file;
size_t det_node_state_bytes(const det_state *s);
void det_save_node(const det_state *s, int i, void *rec); /* local node i */
void det_load_node(det_state *s, int i, const void *rec);
void det_save_global(const det_state *s, ckpt_file *f);
int det_load_global(det_state *s, ckpt_file *f); /* 0 or FS_EIO */

#endif
