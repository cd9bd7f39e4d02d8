/* Synthetic telemetry for the detector tests (mpi_detect, unit_context) on
 * the 12-node fleet of lib_fleet.h: every metric at a fixed level, a small
 * jitter that changes from block to block (never more than 1% of a level,
 * so clean data must raise nothing), and five planted faults:
 *   - node 3 GPU 5 runs 12 C hotter from block 4 on (a jump after warm-up),
 *   - node 6 GPU 1 runs 12 C hotter from the start (always apart, never moved),
 *   - node 9 GPU 0 runs 12 C hotter from block 1 on (a jump during warm-up),
 *   - node 7 GPU 2 counts 3 single-bit ECC errors a scrape from block 5 on,
 *   - every dense-inference node's TTFT goes from 200 to 300 ms at block 6
 *     (a tenant-wide shift: a class trend, no node stands out);
 * and two background operations that must raise nothing:
 *   - node 0 misses scrapes 3 and 4 of block 5 (a scrape gap: its float
 *     metrics NaN, its counters as they were),
 *   - node 11 GPU 3's energy counter restarts from 0 at the middle of block 6
 *     (a GPU reset).
 * A driver runs one detection block of 20 scrapes through the public API
 * (det_fold_chunk, det_block_gather, det_block_finish) on the calling rank's
 * racks and gathers every rank's candidates, in node order, to rank 0.
 * syn_gpu_feature and syn_node_feature give the block features the detector
 * must find, computed here from the same values. */
#ifndef FLEETSIM_TESTS_LIB_DETECT_H
#define FLEETSIM_TESTS_LIB_DETECT_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/detect/detect.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"
#include "src/model/telemetry.h"
#include "tests/check.h"

enum {
  SYN_B = DET_BLOCK_SCRAPES,
  SYN_HOT_BLOCK = 4, /* node 3's jump */
  SYN_SBE_BLOCK = 5, /* node 7's ECC errors */
  SYN_TTFT_BLOCK = 6, /* the dense tenant's TTFT shift */
  SYN_GAP_NODE = 0, SYN_GAP_BLOCK = 5, /* scrapes 3 and 4 of the block missing */
  SYN_RESET_NODE = 11, SYN_RESET_GPU = 3, SYN_RESET_BLOCK = 6 /* at scrape 10 of the block */
};

/* 1 when node n has no sample at scrape t (the planted scrape gap). */
static int syn_missing(int n, int64_t t) {
  const int64_t t0 = (int64_t)SYN_GAP_BLOCK * SYN_B;
  return n == SYN_GAP_NODE && (t == t0 + 3 || t == t0 + 4);
}

/* A deterministic draw in [0, 1) for one (metric, node, GPU, time) cell. */
static double syn_u(int k, int n, int g, int64_t t) {
  uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull ^ (uint64_t)(n + 1) * 0xBF58476D1CE4E5B9ull ^
               (uint64_t)(g + 2) * 0x94D049BB133111EBull ^
               (uint64_t)(t + 3) * 0x2545F4914F6CDD1Dull;
  x ^= x >> 31;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return (double)(x >> 11) / 9007199254740992.0;
}

static unsigned syn_tenant_mask(const fleet *f, int n) {
  return f->node_tenant[n] == TENANT_MOE     ? TM_MOE
         : f->node_tenant[n] == TENANT_DENSE ? TM_DENSE
                                             : TM_TRAIN;
}

/* GPU metric k of node n, GPU g at scrape t. */
static tel_cell syn_gpu(const fleet *f, int k, int n, int g, int64_t t) {
  const int64_t block = t / SYN_B;
  tel_cell c = {.u = 0};
  if (k == GM_TEMP) {
    int hot = (n == 3 && g == 5 && block >= SYN_HOT_BLOCK) || (n == 6 && g == 1) ||
              (n == 9 && g == 0 && block >= 1);
    c.f = hot ? 72.0f : 60.0f;
  } else if (k == GM_ENERGY) {
    const int64_t reset = (int64_t)SYN_RESET_BLOCK * SYN_B + 10;
    const int64_t since = n == SYN_RESET_NODE && g == SYN_RESET_GPU && t >= reset ? t - reset : t;
    c.u = (uint32_t)(2 * since) + (syn_u(k, n, g, t) < 0.5);
  } else if (k == GM_ECC_SBE) {
    int64_t t0 = (int64_t)SYN_SBE_BLOCK * SYN_B;
    c.u = n == 7 && g == 2 && t >= t0 ? (uint32_t)(3 * (t - t0 + 1)) : 0u;
  } else if (metric_gpu[k].type == MT_F32) {
    double level = 100.0 + 10.0 * k + 3.0 * det_class_of(f, n);
    c.f = (float)(level * (1.0 + 0.02 * (syn_u(k, n, g, block) - 0.5)));
  }
  if (metric_gpu[k].type == MT_F32 && syn_missing(n, t))
    c.f = NAN;
  return c; /* other counters, codes and throttle reasons: 0 */
}

/* Node metric k of node n at scrape t (NaN where the tenant does not report it). */
static tel_cell syn_node(const fleet *f, int k, int n, int64_t t) {
  const int64_t block = t / SYN_B;
  tel_cell c = {.u = 0};
  if (!(metric_node[k].tenants & syn_tenant_mask(f, n)))
    c.f = NAN;
  else if (k == NM_TTFT)
    c.f = f->node_tenant[n] == TENANT_DENSE && block >= SYN_TTFT_BLOCK ? 300.0f : 200.0f;
  else if (k == NM_RDMA_RETX)
    c.u = (uint32_t)t;
  else if (metric_node[k].type == MT_F32)
    c.f = (float)((50.0 + 5.0 * k + 2.0 * det_class_of(f, n)) *
                  (1.0 + 0.02 * (syn_u(100 + k, n, 0, block) - 0.5)));
  if (metric_node[k].type == MT_F32 && syn_missing(n, t))
    c.f = NAN;
  return c;
}

/* 1 when node n misses a scrape of block `block`. */
static int syn_block_gap(int n, int block) {
  for (int64_t t = (int64_t)block * SYN_B; t < (int64_t)(block + 1) * SYN_B; t++)
    if (syn_missing(n, t))
      return 1;
  return 0;
}

/* The block feature the detector must compute: a gauge's mean (summed row
 * by row in float, as the fold does), a counter's increase (from the
 * block's first row in block 0), the codes' maximum; NaN for the means and
 * increases of a block with a missing scrape and for a counter that went
 * down (a restart). */
static float syn_gpu_feature(const fleet *f, int k, int n, int g, int block) {
  int64_t t0 = (int64_t)block * SYN_B, last = t0 + SYN_B - 1;
  if (metric_gpu[k].type == MT_U32 && !metric_is_counter(&metric_gpu[k]))
    return 0.0f; /* throttle share and codes: never set here */
  if (syn_block_gap(n, block))
    return NAN;
  if (metric_is_counter(&metric_gpu[k])) {
    double p = syn_gpu(f, k, n, g, block == 0 ? t0 : t0 - 1).u;
    double l = syn_gpu(f, k, n, g, last).u;
    return l < p ? NAN : (float)(l - p);
  }
  float sum = 0.0f;
  for (int64_t t = t0; t <= last; t++)
    sum = (t == t0 ? 0.0f : sum) + syn_gpu(f, k, n, g, t).f;
  return sum / SYN_B;
}

static float syn_node_feature(const fleet *f, int k, int n, int block) {
  int64_t t0 = (int64_t)block * SYN_B, last = t0 + SYN_B - 1;
  if (metric_is_counter(&metric_node[k])) {
    if (syn_block_gap(n, block))
      return NAN;
    double p = syn_node(f, k, n, block == 0 ? t0 : t0 - 1).u;
    return (float)((double)syn_node(f, k, n, last).u - p);
  }
  /* constant over the block: its median (the gap's scrapes are not t0) */
  return syn_node(f, k, n, t0).f;
}

/* One rank's window of SYN_B rows for its nodes [node0, node0 + nnodes). */
typedef struct {
  tel_window w;
  int node0, nnodes;
} syn_window;

static void syn_window_init(syn_window *s, const fleet *f) {
  memset(s, 0, sizeof *s);
  int first, count;
  par_rack_range_of(f->racks, par_rank(), par_size(), &first, &count);
  s->node0 = first * f->nodes_per_rack;
  s->nnodes = count * f->nodes_per_rack;
  s->w.capacity = SYN_B;
  s->w.node0 = s->node0;
  s->w.nnodes = s->nnodes;
  size_t nn = (size_t)s->nnodes;
  for (int k = 0; k < GM_COUNT; k++)
    CHECK((s->w.gpu[k] = calloc(SYN_B * nn * FLEET_GPUS, sizeof(tel_cell))) != NULL);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK((s->w.node[k] = calloc(SYN_B * nn, sizeof(tel_cell))) != NULL);
}

static void syn_window_destroy(syn_window *s) {
  for (int k = 0; k < GM_COUNT; k++)
    free(s->w.gpu[k]);
  for (int k = 0; k < NM_COUNT; k++)
    free(s->w.node[k]);
  memset(s, 0, sizeof *s);
}

/* Fills the window with block `block` and folds each row into every
 * detector of dets[ndets], as tel_scrape's chunk callback does. */
static void syn_fill(syn_window *s, const fleet *f, int block, det_state **dets, int ndets) {
  const size_t nn = (size_t)s->nnodes;
  for (int r = 0; r < SYN_B; r++) {
    int64_t t = (int64_t)block * SYN_B + r;
    tel_cell *row[GM_COUNT];
    for (int k = 0; k < GM_COUNT; k++) {
      row[k] = &s->w.gpu[k][(size_t)r * nn * FLEET_GPUS];
      for (size_t i = 0; i < nn; i++)
        for (int g = 0; g < FLEET_GPUS; g++)
          row[k][i * FLEET_GPUS + (size_t)g] = syn_gpu(f, k, s->node0 + (int)i, g, t);
    }
    for (int k = 0; k < NM_COUNT; k++)
      for (size_t i = 0; i < nn; i++)
        s->w.node[k][(size_t)r * nn + i] = syn_node(f, k, s->node0 + (int)i, t);
    for (int d = 0; d < ndets; d++)
      det_fold_chunk(dets[d], r, 0, nn, row);
  }
}

/* What one block gave: on rank 0 every rank's candidates in node order
 * (all, nall; NULL and 0 elsewhere), and the class trends (every rank). */
typedef struct {
  det_candidate *all;
  int nall;
  const det_trend *trends;
  int ntrends;
} syn_block_out;

/* Analyses the window's block with d (collective); out->all is malloc'd. */
static void syn_detect(det_state *d, const syn_window *s, syn_block_out *out) {
  const det_candidate *cands;
  int ncands = 0, bytes = 0;
  void *all = NULL;
  CHECK_EQ(det_block_gather(d, &s->w, 0), 0);
  CHECK_EQ(det_block_finish(d, &cands, &ncands, &out->trends, &out->ntrends), 0);
  CHECK_EQ(par_gather_bytes(cands, ncands * (int)sizeof *cands, &all, &bytes), 0);
  out->all = all;
  out->nall = bytes / (int)sizeof(det_candidate);
}

#endif
