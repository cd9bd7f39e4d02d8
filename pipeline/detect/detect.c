/* The L1 detector on every rank (see detect.h): block features from the
 * telemetry window, peer statistics per workload class over the whole fleet
 * (allgather), own-history EWMA confirmation, class trends, and the list of
 * this rank's candidate signals. Deterministic for any rank count: every
 * statistic is computed from arrays in global node order. */
#include "pipeline/detect/detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/checkpoint.h"
#include "mpi/par.h"
#include "pipeline/detect/robust.h"
#include "src/core/errors.h"
#include "src/model/metrics.h"
#include "src/core/state_record.h"

static const float DET_SCRAPE_MS_NOMINAL = 15000.0f; /* floors of time counters */
/* The fold's slots per GPU cell: one per GPU metric, then the count of rows
 * with samples (a GPU's gauges are all NaN in a scrape gap or while it is
 * down, so GM_TEMP's count stands for every gauge). */
enum { DET_FOLD_SLOTS = GM_COUNT + 1 };

/* How a metric becomes a block feature (set once from the catalogue). */
typedef enum {
  DET_F_MEAN,     /* gauge: GPU mean over the block */
  DET_F_MEDIAN,   /* node gauge: median over the block (ignores stalls) */
  DET_F_COUNTER,  /* *_total: increase over the block */
  DET_F_THROTTLE, /* clock event reasons: share of thermally throttled scrapes */
  DET_F_MAX,      /* other codes: largest value */
} det_feature_kind;

struct det_state {
  const fleet *f;
  /* the tuning (f->cfg->det, docs/design.md) in the precision it is used in */
  float z_own, z_node, z_gpu, z_trend;  /* thresholds */
  float alpha, trend_alpha;             /* EWMA weights per block */
  float rel_floor, trend_rel_floor;     /* sigma floors, shares of the median */
  int warmup_blocks;
  uint8_t gkind[GM_COUNT], nkind[NM_COUNT];   /* det_feature_kind per metric */
  float *med_rows;                /* [DET_BLOCK_SCRAPES][nn] scratch */
  tel_cell *fold; /* [window blocks][DET_FOLD_SLOTS][nn*8] det_fold_chunk's sums, maxima, counts */
  float gfloor[GM_COUNT], nfloor[NM_COUNT];   /* det_abs_floor per metric */
  int node0, nnodes, nranks, nclasses;
  int64_t blocks;                 /* blocks analysed so far */
  int *rank_node0, *rank_nnodes;  /* [nranks] */
  int *gather_counts;             /* [nranks] floats per rank */
  int32_t *cls;                   /* [nodes] class of every node */
  int32_t *class_offset;          /* [nclasses + 1] into class_nodes */
  int32_t *class_nodes;           /* nodes grouped by class */
  /* local state */
  double *gpu_prev[GM_COUNT];     /* [nn*8] last counter value (counters only) */
  double *node_prev[NM_COUNT];    /* [nn] */
  float *gpu_mu[GM_COUNT], *gpu_var[GM_COUNT]; /* [nn*8] own EWMA */
  float *node_mu[NM_COUNT], *node_var[NM_COUNT], *node_dev[NM_COUNT]; /* [nn] */
  /* gathered features, global feature-major */
  float *local_pack, *all_pack;
  int32_t *fire;                  /* [GM][nn*8] then [NM][nn]: this block's tests (0 or -1) */
  float *test_med, *test_sig, *test_dev; /* [nn*8] scratch of det_node_signals */
  float *gfeat;                   /* [GM_COUNT][nodes*8] */
  float *nfeat;                   /* [NM_COUNT][nodes] */
  /* class statistics of this block */
  float *gmed, *gsig;             /* [nclasses][GM_COUNT] */
  float *nmed, *nsig;             /* [nclasses][NM_COUNT] */
  float *prev_med, *trend_var;    /* [nclasses][NM_COUNT] */
  int32_t *trend_n;               /* diffs seen */
  float *scratch;                 /* [nodes*8] */
  float *select_a, *select_b;     /* [nodes*8] each: robust_median_mad_finite's buffers */
  /* class statistics are split over the ranks: pair p = c * (GM + NM) + j
   * (j < GM: GPU metric j, else node metric j - GM); rank r computes pairs
   * [stat_first[r], stat_first[r + 1]) and one allgather shares them, each
   * rank's part followed by its seconds from the features' allgather to the
   * statistics' one; the shares move work from the slower ranks (the root
   * does its per-block aggregation in that interval) to the faster ones.
   * Only the schedule depends on the timings, never a value. */
  int *stat_first;                /* [nranks + 1] */
  int *stat_counts;               /* [nranks] floats per rank (2 per pair + 1) */
  float *stat_local, *stat_all;   /* (median, sigma) per pair, then the seconds */
  double *stat_share;             /* [nranks] fraction of the work, sum 1 */
  float *stat_secs;               /* [nranks] the intervals of the last block */
  double t_gathered;              /* par_wtime when the features' allgather returned */
  det_candidate *cands;
  int ncands, cap_cands;
  det_trend *trends;
  int ntrends;
};

int det_class_of(const fleet *f, int n) {
  int t = f->node_tenant[n];
  if (t == TENANT_MOE)
    return 0;
  if (t == TENANT_DENSE)
    return 1;
  return f->node_job[n] < 0 ? 2 : 3 + f->node_job[n];
}

/* Smallest sigma worth believing for a metric, from its units. */
static float det_abs_floor(const metric_def *m) {
  static const struct {
    const char *units;
    float floor;
  } t[] = {{"%", 1.0f},     {"C", 0.5f},   {"1", 0.01f},   {"W", 5.0f},    {"MHz", 15.0f},
           {"B/s", 1e6f},   {"B", 1e6f},   {"ms", 0.5f},   {"us", 5.0f},   {"nats", 0.02f},
           {"tokens", 20.0f}, {"1/s", 0.5f}, {"s", 0.5f},  {"bitmask", 0.05f}, {"code", 1.0f}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(m->units, t[i].units) == 0)
      return t[i].floor;
  return 0.01f;
}

/* Smallest believable sigma of a feature whose class median is med and mean
 * is mean: counts are Poisson-like (1 + 2 sqrt(mean)), throttle time has a
 * floor of 5% of the block, gauges max(unit floor, 2% of the median).
 * kind and abs_floor are the metric's det_feature_kind and det_abs_floor. */
static float det_sigma_floor(const metric_def *m, int kind, float abs_floor, float rel_floor,
                             float med, float mean) {
  if (kind == DET_F_COUNTER && strcmp(m->units, "ms") == 0)
    return 0.05f * DET_BLOCK_SCRAPES * DET_SCRAPE_MS_NOMINAL;
  if (kind == DET_F_COUNTER)
    return 1.0f + 2.0f * sqrtf(fabsf(mean));
  return fmaxf(abs_floor, rel_floor * fabsf(med));
}

/* The feature kind of a metric of scope gpu (per_gpu) or node. */
static det_feature_kind det_kind_of(const metric_def *m, int per_gpu, int k) {
  if (metric_is_counter(m))
    return DET_F_COUNTER;
  if (per_gpu && k == GM_CLOCK_EVENTS)
    return DET_F_THROTTLE;
  if (per_gpu && m->type == MT_U32)
    return DET_F_MAX;
  return per_gpu ? DET_F_MEAN : DET_F_MEDIAN;
}

/* Splits the (class, metric) statistics over the ranks in contiguous pair
 * ranges, rank r about stat_share[r] of the work (values to select from:
 * class size, times 8 for a GPU metric). Every rank computes the same split. */
static void det_split_stats(det_state *s) {
  const int per_class = GM_COUNT + NM_COUNT, npairs = s->nclasses * per_class;
  double total = 0;
  for (int p = 0; p < npairs; p++) {
    int c = p / per_class, j = p % per_class;
    total += (double)(s->class_offset[c + 1] - s->class_offset[c]) * (j < GM_COUNT ? FLEET_GPUS : 1);
  }
  double acc = 0, cut = s->stat_share[0] * total;
  int r = 0;
  s->stat_first[0] = 0;
  for (int p = 0; p < npairs; p++) {
    int c = p / per_class, j = p % per_class;
    acc += (double)(s->class_offset[c + 1] - s->class_offset[c]) * (j < GM_COUNT ? FLEET_GPUS : 1);
    while (r + 1 < s->nranks && acc >= cut) {
      s->stat_first[++r] = p + 1;
      cut += s->stat_share[r] * total;
    }
  }
  while (r < s->nranks)
    s->stat_first[++r] = npairs;
  for (int q = 0; q < s->nranks; q++)
    s->stat_counts[q] = 2 * (s->stat_first[q + 1] - s->stat_first[q]) + 1;
}

/* Moves share towards the ranks that reached the statistics' allgather
 * first (secs[r]: rank r's interval), half the gap per block, then re-splits.
 * Every rank holds the same secs, so every rank computes the same shares. */
static void det_rebalance(det_state *s, const float *secs) {
  double mean = 0;
  for (int r = 0; r < s->nranks; r++)
    mean += secs[r];
  mean /= s->nranks;
  if (!(mean > 0))
    return;
  double sum = 0;
  for (int r = 0; r < s->nranks; r++) {
    double x = s->stat_share[r] + 0.5 * (mean - secs[r]) / (s->nranks * mean);
    s->stat_share[r] = x < 0 ? 0 : x;
    sum += s->stat_share[r];
  }
  for (int r = 0; r < s->nranks; r++)
    s->stat_share[r] /= sum;
  det_split_stats(s);
}

int det_init(det_state **out, const fleet *f, int node0, int nnodes, int window_rows) {
  *out = NULL;
  det_state *s = calloc(1, sizeof *s);
  if (!s)
    return FS_ENOMEM;
  s->f = f;
  const cfg_detect *t = &f->cfg->det;
  s->z_own = (float)t->z_own;
  s->z_node = (float)t->z_node;
  s->z_gpu = (float)t->z_gpu;
  s->z_trend = (float)t->z_trend;
  s->alpha = (float)t->ewma_alpha;
  s->trend_alpha = (float)t->trend_alpha;
  s->rel_floor = (float)t->sigma_rel_floor;
  s->trend_rel_floor = (float)t->trend_rel_floor;
  s->warmup_blocks = t->warmup_blocks;
  s->node0 = node0;
  s->nnodes = nnodes;
  s->nranks = par_size();
  s->nclasses = 3 + f->njobs;
  size_t nn = (size_t)nnodes, ng = nn * FLEET_GPUS, N = (size_t)f->nodes;
  size_t nc = (size_t)s->nclasses;
  int ok = 1;
#define DET_ALLOC(p, n) ok &= ((p) = calloc((n), sizeof *(p))) != NULL
  DET_ALLOC(s->rank_node0, (size_t)s->nranks);
  DET_ALLOC(s->rank_nnodes, (size_t)s->nranks);
  DET_ALLOC(s->gather_counts, (size_t)s->nranks);
  DET_ALLOC(s->cls, N);
  DET_ALLOC(s->class_offset, nc + 1);
  DET_ALLOC(s->class_nodes, N);
  for (int k = 0; k < GM_COUNT; k++) {
    s->gkind[k] = (uint8_t)det_kind_of(&metric_gpu[k], 1, k);
    s->gfloor[k] = det_abs_floor(&metric_gpu[k]);
    if (s->gkind[k] == DET_F_COUNTER)
      DET_ALLOC(s->gpu_prev[k], ng);
    DET_ALLOC(s->gpu_mu[k], ng);
    DET_ALLOC(s->gpu_var[k], ng);
  }
  for (int k = 0; k < NM_COUNT; k++) {
    s->nkind[k] = (uint8_t)det_kind_of(&metric_node[k], 0, k);
    s->nfloor[k] = det_abs_floor(&metric_node[k]);
    if (s->nkind[k] == DET_F_COUNTER)
      DET_ALLOC(s->node_prev[k], nn);
    DET_ALLOC(s->node_mu[k], nn);
    DET_ALLOC(s->node_var[k], nn);
    DET_ALLOC(s->node_dev[k], nn);
  }
  DET_ALLOC(s->local_pack, (ng * GM_COUNT + nn * NM_COUNT));
  DET_ALLOC(s->fire, (ng * GM_COUNT + nn * NM_COUNT));
  DET_ALLOC(s->test_med, ng);
  DET_ALLOC(s->med_rows, nn * DET_BLOCK_SCRAPES);
  DET_ALLOC(s->fold, (size_t)(window_rows / DET_BLOCK_SCRAPES + 1) * DET_FOLD_SLOTS * ng);
  DET_ALLOC(s->test_sig, ng);
  DET_ALLOC(s->test_dev, ng);
  DET_ALLOC(s->all_pack, (N * FLEET_GPUS * GM_COUNT + N * NM_COUNT));
  DET_ALLOC(s->gfeat, N * FLEET_GPUS * GM_COUNT);
  DET_ALLOC(s->nfeat, N * NM_COUNT);
  DET_ALLOC(s->gmed, nc * GM_COUNT);
  DET_ALLOC(s->gsig, nc * GM_COUNT);
  DET_ALLOC(s->nmed, nc * NM_COUNT);
  DET_ALLOC(s->nsig, nc * NM_COUNT);
  DET_ALLOC(s->prev_med, nc * NM_COUNT);
  DET_ALLOC(s->trend_var, nc * NM_COUNT);
  DET_ALLOC(s->trend_n, nc * NM_COUNT);
  DET_ALLOC(s->scratch, N * FLEET_GPUS);
  DET_ALLOC(s->select_a, N * FLEET_GPUS);
  DET_ALLOC(s->select_b, N * FLEET_GPUS);
  size_t npairs = nc * (GM_COUNT + NM_COUNT);
  DET_ALLOC(s->stat_first, (size_t)s->nranks + 1);
  DET_ALLOC(s->stat_counts, (size_t)s->nranks);
  DET_ALLOC(s->stat_local, 2 * npairs + 1);
  DET_ALLOC(s->stat_all, 2 * npairs + (size_t)s->nranks);
  DET_ALLOC(s->stat_share, (size_t)s->nranks);
  DET_ALLOC(s->stat_secs, (size_t)s->nranks);
  s->cap_cands = nnodes + s->nclasses * NM_COUNT;
  DET_ALLOC(s->cands, (size_t)s->cap_cands);
  DET_ALLOC(s->trends, nc);
#undef DET_ALLOC
  if (!ok) {
    det_destroy(&s);
    return FS_ENOMEM;
  }
  for (int r = 0; r < s->nranks; r++) {
    int first, count;
    par_rack_range_of(f->racks, r, s->nranks, &first, &count);
    s->rank_node0[r] = first * f->nodes_per_rack;
    s->rank_nnodes[r] = count * f->nodes_per_rack;
    s->gather_counts[r] = s->rank_nnodes[r] * (FLEET_GPUS * GM_COUNT + NM_COUNT);
  }
  /* class membership, nodes grouped by class in ascending order */
  for (int n = 0; n < f->nodes; n++) {
    s->cls[n] = det_class_of(f, n);
    s->class_offset[s->cls[n] + 1]++;
  }
  for (int c = 0; c < s->nclasses; c++)
    s->class_offset[c + 1] += s->class_offset[c];
  int32_t *fill = calloc(nc, sizeof *fill);
  if (!fill) {
    det_destroy(&s);
    return FS_ENOMEM;
  }
  for (int n = 0; n < f->nodes; n++)
    s->class_nodes[s->class_offset[s->cls[n]] + fill[s->cls[n]]++] = n;
  free(fill);
  for (size_t i = 0; i < nc * NM_COUNT; i++)
    s->prev_med[i] = NAN;
  for (int r = 0; r < s->nranks; r++)
    s->stat_share[r] = 1.0 / s->nranks;
  det_split_stats(s);
  *out = s;
  return 0;
}

void det_destroy(det_state **sp) {
  if (!sp || !*sp)
    return;
  det_state *s = *sp;
  free(s->rank_node0);
  free(s->rank_nnodes);
  free(s->gather_counts);
  free(s->cls);
  free(s->class_offset);
  free(s->class_nodes);
  for (int k = 0; k < GM_COUNT; k++) {
    free(s->gpu_prev[k]);
    free(s->gpu_mu[k]);
    free(s->gpu_var[k]);
  }
  for (int k = 0; k < NM_COUNT; k++) {
    free(s->node_prev[k]);
    free(s->node_mu[k]);
    free(s->node_var[k]);
    free(s->node_dev[k]);
  }
  free(s->fold);
  free(s->local_pack);
  free(s->fire);
  free(s->test_med);
  free(s->med_rows);
  free(s->test_sig);
  free(s->test_dev);
  free(s->all_pack);
  free(s->gfeat);
  free(s->nfeat);
  free(s->gmed);
  free(s->gsig);
  free(s->nmed);
  free(s->nsig);
  free(s->prev_med);
  free(s->trend_var);
  free(s->trend_n);
  free(s->scratch);
  free(s->select_a);
  free(s->select_b);
  free(s->stat_first);
  free(s->stat_counts);
  free(s->stat_local);
  free(s->stat_all);
  free(s->stat_share);
  free(s->stat_secs);
  free(s->cands);
  free(s->trends);
  free(s);
  *sp = NULL;
}

/* ---- features ----------------------------------------------------------- */

/* The fold's loops see the cells as plain floats or words (a pointer to a
 * union points to each of its members; tel_cell has no padding), so GCC
 * vectorises them: it does not for loads of union members. */
_Static_assert(sizeof(tel_cell) == sizeof(float) && sizeof(tel_cell) == sizeof(uint32_t),
               "tel_cell is one float or one word");

/* a[j] = (first ? 0.0f : a[j]) + x[j] (NaN, a missing sample, adds 0), or
 * + whether x[j]'s word has a bit of bit_mask set (bit_mask != 0: the
 * throttle share's count). */
static void det_fold_sum(float *restrict a, const float *restrict x, const uint32_t *restrict u,
                         size_t len, int first, uint32_t bit_mask) {
  if (bit_mask && first)
    for (size_t j = 0; j < len; j++)
      a[j] = 0.0f + (float)((u[j] & bit_mask) != 0);
  else if (bit_mask)
    for (size_t j = 0; j < len; j++)
      a[j] += (float)((u[j] & bit_mask) != 0);
  else if (first)
    for (size_t j = 0; j < len; j++)
      a[j] = 0.0f + (x[j] == x[j] ? x[j] : 0.0f);
  else
    for (size_t j = 0; j < len; j++)
      a[j] += x[j] == x[j] ? x[j] : 0.0f;
}

/* a[j] = (first ? 0 : a[j]) + whether x[j] is a sample (not NaN). */
static void det_fold_count(float *restrict a, const float *restrict x, size_t len, int first) {
  for (size_t j = 0; j < len; j++)
    a[j] = (first ? 0.0f : a[j]) + (float)(x[j] == x[j]);
}

/* a[j] = the largest of 0 and every row's x[j] so far. */
static void det_fold_max(uint32_t *restrict a, const uint32_t *restrict x, size_t len, int first) {
  if (first)
    memcpy(a, x, len * sizeof *a);
  else
    for (size_t j = 0; j < len; j++)
      a[j] = x[j] > a[j] ? x[j] : a[j];
}

void det_window_metrics(const det_state *s, unsigned char keep[GM_COUNT]) {
  for (int k = 0; k < GM_COUNT; k++)
    keep[k] = s->gkind[k] == DET_F_COUNTER;
}

void det_fold_chunk(void *ctx, int row, size_t i0, size_t n, tel_cell *const *gpu) {
  det_state *s = ctx;
  const size_t ng = (size_t)s->nnodes * FLEET_GPUS, len = n * FLEET_GPUS;
  const int first = row % DET_BLOCK_SCRAPES == 0;
  tel_cell *fold =
      s->fold + (size_t)(row / DET_BLOCK_SCRAPES) * DET_FOLD_SLOTS * ng + i0 * FLEET_GPUS;
  det_fold_count((float *)(fold + (size_t)GM_COUNT * ng), (const float *)gpu[GM_TEMP], len, first);
  /* each sum starts from 0.0f, as a loop over the rows would (0 + -0 is +0) */
  for (int k = 0; k < GM_COUNT; k++) {
    tel_cell *acc = fold + (size_t)k * ng;
    switch ((det_feature_kind)s->gkind[k]) {
    case DET_F_MEAN:
      det_fold_sum((float *)acc, (const float *)gpu[k], (const uint32_t *)gpu[k], len, first, 0u);
      break;
    case DET_F_THROTTLE:
      det_fold_sum((float *)acc, (const float *)gpu[k], (const uint32_t *)gpu[k], len, first,
                   CLOCK_EVENT_SW_THERMAL | CLOCK_EVENT_HW_THERMAL);
      break;
    case DET_F_MAX:
      det_fold_max((uint32_t *)acc, (const uint32_t *)gpu[k], len, first);
      break;
    default: /* counters: the increase is read from the window's rows */
      break;
    }
  }
}

/* out[i] = the increase of counter cell i over the block whose first row
 * is blk (n cells a row): from the block's first row in the run's first
 * block, else from prev[i], the value at the end of the block before (NaN
 * when the last value is lower: the counter was reset in between); then
 * prev[i] = the block's last value. */
static void det_counter_increase(float *out, const tel_cell *blk, size_t n, double *prev,
                                 int first_block) {
  const tel_cell *last = blk + (size_t)(DET_BLOCK_SCRAPES - 1) * n;
  for (size_t i = 0; i < n; i++) {
    double l = last[i].u, p = first_block ? blk[i].u : prev[i];
    /* a counter below its last value restarted from 0 (a reboot or a GPU
     * reset): the block's increase is unknown, not a fault (NaN: skipped) */
    out[i] = l < p ? NAN : (float)(l - p);
    prev[i] = l;
  }
}

/* Block features of the local nodes into local_pack: [GM][nn*8] then
 * [NM][nn]. Gauges: GPU mean, node median of the samples there are
 * (robust to checkpoint stalls); GPU means and every counter's increase
 * are NaN (not tested) when a scrape of the block had no sample (a scrape
 * gap, a reboot, a GPU down: inlet or GPU temperature NaN);
 * counters: increase over the block; throttle bits: fraction of scrapes.
 * The GPU gauges, throttle shares and codes come from det_fold_chunk's
 * sums and maxima (added row by row, the same floats as a pass over the
 * window), the rest from the window's rows. */
static void det_features(det_state *s, const tel_window *w, int row0) {
  const int B = DET_BLOCK_SCRAPES, nn = s->nnodes, ng = nn * FLEET_GPUS;
  float *out = s->local_pack;
  const tel_cell *fold = s->fold + (size_t)(row0 / B) * DET_FOLD_SLOTS * (size_t)ng;
  const tel_cell *count = fold + (size_t)GM_COUNT * ng; /* rows with samples */
  for (int k = 0; k < GM_COUNT; k++, out += ng, fold += ng) {
    switch ((det_feature_kind)s->gkind[k]) {
    case DET_F_COUNTER: /* not tested either when a scrape had no sample */
      det_counter_increase(out, &w->gpu[k][(size_t)row0 * ng], (size_t)ng, s->gpu_prev[k],
                           s->blocks == 0);
      for (int gi = 0; gi < ng; gi++)
        out[gi] = count[gi].f == (float)B ? out[gi] : NAN;
      break;
    case DET_F_MAX:
      for (int gi = 0; gi < ng; gi++)
        out[gi] = (float)fold[gi].u;
      break;
    case DET_F_THROTTLE: /* the share of the block's scrapes */
      for (int gi = 0; gi < ng; gi++)
        out[gi] = fold[gi].f / B;
      break;
    default: /* DET_F_MEAN: the block's mean; NaN (not tested) when a scrape of
              * the block has no sample: the mean of the rest is biased by what
              * the block holds (a checkpoint's PCIe burst in one scrape) */
      for (int gi = 0; gi < ng; gi++)
        out[gi] = count[gi].f == (float)B ? fold[gi].f / B : NAN;
      break;
    }
  }
  float vals[DET_BLOCK_SCRAPES];
  for (int k = 0; k < NM_COUNT; k++, out += nn) {
    const tel_cell *blk = &w->node[k][(size_t)row0 * nn];
    if (s->nkind[k] == DET_F_COUNTER) {
      det_counter_increase(out, blk, (size_t)nn, s->node_prev[k], s->blocks == 0);
      const tel_cell *inlet = &w->node[NM_INLET_TEMP][(size_t)row0 * nn]; /* every node's */
      for (int i = 0; i < nn; i++)
        for (int r = 0; r < B; r++)
          out[i] = isnan(inlet[(size_t)r * nn + i].f) ? NAN : out[i];
      continue;
    }
    /* the element a sort puts at (B - 1) / 2, for all local nodes at once */
    float *rows = s->med_rows;
    memcpy(rows, blk, sizeof *rows * (size_t)B * (size_t)nn);
    const float *med = robust_median_columns(rows, B, (size_t)nn);
    for (int i = 0; i < nn; i++) {
      int nan_rows = 0;
      for (int r = 0; r < B; r++)
        nan_rows += isnan(blk[(size_t)r * nn + i].f);
      if (nan_rows == B) { /* the metric does not apply to this node's tenant */
        out[i] = NAN;
      } else if (nan_rows > 0) { /* a scrape gap: the median of the samples there are */
        int nv = 0;
        for (int r = 0; r < B; r++)
          if (!isnan(blk[(size_t)r * nn + i].f))
            vals[nv++] = blk[(size_t)r * nn + i].f;
        out[i] = robust_median(vals, nv);
      } else {
        out[i] = med[i];
      }
    }
  }
}

/* Reorders the rank-major gathered pack into global feature-major arrays. */
static void det_unpack(det_state *s) {
  const float *p = s->all_pack;
  const size_t N = (size_t)s->f->nodes;
  for (int r = 0; r < s->nranks; r++) {
    size_t n0 = (size_t)s->rank_node0[r], nn = (size_t)s->rank_nnodes[r];
    for (int k = 0; k < GM_COUNT; k++, p += nn * FLEET_GPUS)
      memcpy(&s->gfeat[k * N * FLEET_GPUS + n0 * FLEET_GPUS], p, nn * FLEET_GPUS * sizeof *p);
    for (int k = 0; k < NM_COUNT; k++, p += nn)
      memcpy(&s->nfeat[k * N + n0], p, nn * sizeof *p);
  }
}

/* Median and robust sigma (floored) of one feature over one class. */
static void det_class_stat(det_state *s, const float *feat, int per_node, int c,
                           const metric_def *m, int kind, float abs_floor, float *med,
                           float *sig) {
  int n = 0;
  double sum = 0;
  uint32_t first = 0, differ = 0; /* bit patterns: all the same value? */
  int special = 0;                 /* an infinity or a -0 among them */
  for (int k = s->class_offset[c]; k < s->class_offset[c + 1]; k++) {
    int node = s->class_nodes[k];
    for (int g = 0; g < per_node; g++) {
      float v = feat[(size_t)node * per_node + (size_t)g];
      if (!isnan(v)) {
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        first = n == 0 ? bits : first;
        differ |= bits ^ first;
        special |= (bits & 0x7f800000u) == 0x7f800000u || bits == 0x80000000u;
        s->scratch[n++] = v;
        sum += v;
      }
    }
  }
  if (n == 0) {
    *med = NAN;
    *sig = NAN;
    return;
  }
  float mad;
  if (!differ) { /* a constant over the class (clocks, sizes, idle counters) */
    *med = s->scratch[0];
    mad = 0.0f; /* fabsf(v - v) */
  } else if (!special) {
    *med = robust_median_mad_finite(s->scratch, n, s->select_a, s->select_b, &mad);
  } else {
    *med = robust_median(s->scratch, n);
    mad = robust_mad(s->scratch, n, *med);
  }
  *sig = fmaxf(1.4826f * mad,
               det_sigma_floor(m, kind, abs_floor, s->rel_floor, *med, (float)(sum / n)));
}

/* Class medians and sigmas: this rank's share of the pairs, then one
 * allgather, so every rank holds all of them (each pair is computed from the
 * same gathered features wherever it runs: rank-count invariant). Collective. */
static int det_class_stats(det_state *s) {
  const size_t N = (size_t)s->f->nodes;
  const int per_class = GM_COUNT + NM_COUNT, rank = par_rank();
  float *out = s->stat_local;
  for (int p = s->stat_first[rank]; p < s->stat_first[rank + 1]; p++, out += 2) {
    int c = p / per_class, j = p % per_class;
    if (j < GM_COUNT)
      det_class_stat(s, &s->gfeat[j * N * FLEET_GPUS], FLEET_GPUS, c, &metric_gpu[j],
                     s->gkind[j], s->gfloor[j], &out[0], &out[1]);
    else
      det_class_stat(s, &s->nfeat[(j - GM_COUNT) * N], 1, c, &metric_node[j - GM_COUNT],
                     s->nkind[j - GM_COUNT], s->nfloor[j - GM_COUNT], &out[0], &out[1]);
  }
  *out = (float)(par_wtime() - s->t_gathered);
  int rc = par_allgather_floats(s->stat_local, s->stat_counts, s->stat_all);
  if (rc)
    return rc;
  const float *all = s->stat_all;
  float *secs = s->stat_secs;
  for (int r = 0; r < s->nranks; r++) {
    for (int p = s->stat_first[r]; p < s->stat_first[r + 1]; p++, all += 2) {
      int c = p / per_class, j = p % per_class;
      if (j < GM_COUNT) {
        s->gmed[c * GM_COUNT + j] = all[0];
        s->gsig[c * GM_COUNT + j] = all[1];
      } else {
        s->nmed[c * NM_COUNT + j - GM_COUNT] = all[0];
        s->nsig[c * NM_COUNT + j - GM_COUNT] = all[1];
      }
    }
    secs[r] = *all++;
  }
  det_rebalance(s, secs);
  return 0;
}

/* ---- signals ------------------------------------------------------------ */

/* Keeps the strongest signals of one node, one per metric, top first. */
typedef struct {
  ev_signal sig[EV_COOCCUR + 1];
  int n;
} det_top;

static void det_top_add(det_top *t, const ev_signal *x) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->sig[i].metric, x->metric) == 0) {
      if (fabsf(x->z) <= fabsf(t->sig[i].z))
        return;
      memmove(&t->sig[i], &t->sig[i + 1], sizeof t->sig[0] * (size_t)(t->n - i - 1));
      t->n--;
      break;
    }
  int pos = t->n;
  while (pos > 0 && fabsf(t->sig[pos - 1].z) < fabsf(x->z))
    pos--;
  if (pos > EV_COOCCUR)
    return;
  int keep = t->n < EV_COOCCUR + 1 ? t->n : EV_COOCCUR;
  memmove(&t->sig[pos + 1], &t->sig[pos], sizeof t->sig[0] * (size_t)(keep - pos));
  t->sig[pos] = *x;
  if (t->n < EV_COOCCUR + 1)
    t->n++;
}

static void det_signal(ev_signal *sig, const char *metric, int gpu, float z, float value,
                       float baseline) {
  memset(sig, 0, sizeof *sig);
  snprintf(sig->metric, sizeof sig->metric, "%s", metric);
  sig->gpu = (int16_t)gpu;
  sig->z = z;
  sig->value = value;
  sig->baseline = baseline;
}

/* Peer z and own-history deviation of n values x against their class
 * medians med[i] and sigmas sig[i]; updates the EWMAs mu/var (weight alpha). The deviation
 * is measured in the larger of the node's own spread and the peers' sigma:
 * a node must both stand out from its peers and have moved away from its
 * own recent level by as much. fire[i] is -1 (all ones) when both exceed their
 * thresholds (zmin, zown) in the same direction; dev[i] gets the
 * deviation, 0 where x or med is missing or in the first block (which only
 * seeds the EWMA). Branch-free, so GCC vectorises it; the same floats as a
 * scalar test (sig is never NaN where med is not: det_class_stat). */
__attribute__((noinline)) static void det_test_n(const float *restrict x, int n, const float *restrict med,
                              const float *restrict sig, float *restrict mu, float *restrict var,
                              int warm, float zmin, float zown, float alpha, int32_t *restrict fire,
                              float *restrict dev_out) {
  if (!warm) {
    for (int i = 0; i < n; i++) {
      const int ok = (x[i] == x[i]) & (med[i] == med[i]);
      mu[i] = ok ? x[i] : mu[i];
      var[i] = ok ? 0.0f : var[i];
      fire[i] = 0;
      dev_out[i] = 0;
    }
    return;
  }
  for (int i = 0; i < n; i++) {
    const float xi = x[i], m0 = mu[i], v0 = var[i], md = med[i], sg = sig[i];
    const float z = (xi - md) / sg;
    const float sd = sqrtf(v0);
    const float dev = (xi - m0) / (sd > sg ? sd : sg);
    const float d = xi - m0;
    const float mu1 = m0 + alpha * d, var1 = (1.0f - alpha) * (v0 + alpha * d * d);
    /* all-ones masks, in the form GCC if-converts */
    const int32_t ok = -((xi == xi) & (md == md));
    const int32_t f = ok & -(fabsf(z) > zmin) & -(fabsf(dev) > zown) & -((z > 0) == (dev > 0));
    mu[i] = ok ? mu1 : m0;
    var[i] = ok ? var1 : v0;
    fire[i] = f;
    dev_out[i] = ok ? dev : 0.0f;
  }
}

static void det_node_signals(det_state *s) {
  const int warm = s->blocks > 0;
  const int can_fire = s->blocks >= s->warmup_blocks;
  const int nn = s->nnodes, ng = nn * FLEET_GPUS;
  const float *gl = s->local_pack, *nl = s->local_pack + (size_t)ng * GM_COUNT;
  int32_t *gfire = s->fire, *nfire = s->fire + (size_t)ng * GM_COUNT;
  /* pass 1, per metric over all local values: tests and EWMA updates */
  float *medv = s->test_med, *sigv = s->test_sig;
  for (int k = 0; k < GM_COUNT; k++) {
    for (int i = 0; i < nn; i++) {
      const int c = s->cls[s->node0 + i];
      for (int g = 0; g < FLEET_GPUS; g++) {
        medv[i * FLEET_GPUS + g] = s->gmed[c * GM_COUNT + k];
        sigv[i * FLEET_GPUS + g] = s->gsig[c * GM_COUNT + k];
      }
    }
    const size_t o = (size_t)k * ng;
    det_test_n(&gl[o], ng, medv, sigv, s->gpu_mu[k], s->gpu_var[k], warm, s->z_gpu, s->z_own,
               s->alpha, &gfire[o], s->test_dev);
  }
  for (int k = 0; k < NM_COUNT; k++) {
    for (int i = 0; i < nn; i++) {
      const int c = s->cls[s->node0 + i];
      medv[i] = s->nmed[c * NM_COUNT + k];
      sigv[i] = s->nsig[c * NM_COUNT + k];
    }
    const size_t o = (size_t)k * nn;
    det_test_n(&nl[o], nn, medv, sigv, s->node_mu[k], s->node_var[k], warm, s->z_node,
               s->z_own, s->alpha, &nfire[o], s->node_dev[k]);
  }
  /* pass 2, per node: its signals in metric (then GPU) order */
  s->ncands = 0;
  if (!can_fire)
    return;
  for (int i = 0; i < nn; i++) {
    const int n = s->node0 + i, c = s->cls[n];
    det_top top = {.n = 0};
    for (int k = 0; k < GM_COUNT; k++) {
      const size_t o = (size_t)k * ng + (size_t)i * FLEET_GPUS;
      for (int g = 0; g < FLEET_GPUS; g++)
        if (gfire[o + (size_t)g]) {
          float x = gl[o + (size_t)g], med = s->gmed[c * GM_COUNT + k];
          ev_signal e;
          det_signal(&e, metric_gpu[k].name, g, (x - med) / s->gsig[c * GM_COUNT + k], x, med);
          det_top_add(&top, &e);
        }
    }
    for (int k = 0; k < NM_COUNT; k++) {
      const size_t o = (size_t)k * nn + (size_t)i;
      if (nfire[o]) {
        float x = nl[o], med = s->nmed[c * NM_COUNT + k];
        ev_signal e;
        det_signal(&e, metric_node[k].name, -1, (x - med) / s->nsig[c * NM_COUNT + k], x, med);
        det_top_add(&top, &e);
      }
    }
    if (top.n == 0)
      continue;
    det_candidate *cd = &s->cands[s->ncands++];
    memset(cd, 0, sizeof *cd);
    cd->node = n;
    cd->cls = c;
    cd->top = top.sig[0];
    cd->ncooccur = top.n - 1;
    memcpy(cd->cooccur, &top.sig[1], sizeof top.sig[0] * (size_t)cd->ncooccur);
  }
}

/* Class trends on node features: block-to-block change of the class median
 * against the EWMA of its usual change. */
static void det_trends(det_state *s) {
  s->ntrends = 0;
  for (int c = 0; c < s->nclasses; c++) {
    det_top top = {.n = 0};
    for (int k = 0; k < NM_COUNT; k++) {
      const metric_def *m = &metric_node[k];
      size_t i = (size_t)c * NM_COUNT + k;
      float med = s->nmed[i], prev = s->prev_med[i];
      s->prev_med[i] = med;
      if (isnan(med) || isnan(prev))
        continue;
      float diff = med - prev;
      float sig_floor = det_sigma_floor(m, s->nkind[k], s->nfloor[k], s->rel_floor, prev, prev);
      float sig = fmaxf(sqrtf(s->trend_var[i]), fmaxf(sig_floor, s->trend_rel_floor * fabsf(prev)));
      float z = diff / sig;
      int learning = s->trend_n[i] < s->warmup_blocks;
      if (learning || fabsf(z) <= s->z_trend)
        s->trend_var[i] = s->trend_n[i] == 0
                              ? diff * diff
                              : (1.0f - s->trend_alpha) * s->trend_var[i] +
                                    s->trend_alpha * diff * diff;
      s->trend_n[i]++;
      if (!learning && fabsf(z) > s->z_trend) {
        ev_signal e;
        det_signal(&e, m->name, -1, z, med, prev);
        det_top_add(&top, &e);
      }
    }
    if (top.n == 0)
      continue;
    det_trend *tr = &s->trends[s->ntrends++];
    tr->cls = c;
    tr->top = top.sig[0];
    tr->nmore = top.n - 1;
    memcpy(tr->more, &top.sig[1], sizeof top.sig[0] * (size_t)tr->nmore);
  }
}

/* For each class trend, this rank's node of the class that moved most on the
 * trend's metric becomes a candidate (so the event names a real node). */
static void det_trend_members(det_state *s) {
  for (int t = 0; t < s->ntrends; t++) {
    const det_trend *tr = &s->trends[t];
    int k = 0;
    while (k < NM_COUNT && strcmp(metric_node[k].name, tr->top.metric) != 0)
      k++;
    int best = -1;
    float best_dev = 0;
    for (int i = 0; i < s->nnodes; i++) {
      float dev = s->node_dev[k][i];
      if (s->cls[s->node0 + i] == tr->cls && fabsf(dev) > fabsf(best_dev)) {
        best = i;
        best_dev = dev;
      }
    }
    if (best < 0 || s->ncands >= s->cap_cands)
      continue;
    det_candidate *cd = &s->cands[s->ncands++];
    memset(cd, 0, sizeof *cd);
    cd->node = s->node0 + best;
    cd->cls = tr->cls;
    cd->trend_member = 1;
    const float *nl = s->local_pack + (size_t)s->nnodes * FLEET_GPUS * GM_COUNT;
    det_signal(&cd->top, tr->top.metric, -1, best_dev, nl[(size_t)k * s->nnodes + best],
               s->node_mu[k][best]);
  }
}

int det_block_gather(det_state *s, const tel_window *w, int row0) {
  det_features(s, w, row0);
  int rc = par_allgather_floats(s->local_pack, s->gather_counts, s->all_pack);
  s->t_gathered = par_wtime();
  return rc;
}

int det_block_finish(det_state *s, const det_candidate **cands, int *ncands,
                     const det_trend **trends, int *ntrends) {
  det_unpack(s);
  int rc;
  if ((rc = det_class_stats(s)) != 0)
    return rc;
  det_node_signals(s);
  det_trends(s);
  det_trend_members(s);
  s->blocks++;
  *cands = s->cands;
  *ncands = s->ncands;
  *trends = s->trends;
  *ntrends = s->ntrends;
  return 0;
}

float det_node_feature(const det_state *s, int metric, int node) {
  return s->nfeat[(size_t)metric * (size_t)s->f->nodes + (size_t)node];
}

float det_gpu_feature(const det_state *s, int metric, int node, int gpu) {
  return s->gfeat[((size_t)metric * (size_t)s->f->nodes + (size_t)node) * FLEET_GPUS + (size_t)gpu];
}

const float *det_node_features(const det_state *s, int metric) {
  return &s->nfeat[(size_t)metric * (size_t)s->f->nodes];
}

const float *det_gpu_features(const det_state *s, int metric) {
  return &s->gfeat[(size_t)metric * (size_t)s->f->nodes * FLEET_GPUS];
}

float det_class_node_median(const det_state *s, int cls, int metric) {
  return s->nmed[cls * NM_COUNT + metric];
}

float det_class_gpu_median(const det_state *s, int cls, int metric) {
  return s->gmed[cls * GM_COUNT + metric];
}

/* ---- checkpoint (resume) -------------------------------------------------
 * Evolving per-node state: last counter values and the own-history EWMAs
 * (node_dev is rewritten every block before it is read). Global and the same
 * on every rank: the block count and the class-trend history. Features,
 * class statistics, candidates and trends are per-block scratch. */

/* Visits node i's evolving fields in a fixed order (see tel_node_walk). */
static size_t det_node_walk(det_state *s, int i, unsigned char *rec, int save) {
  const size_t gi = (size_t)i * FLEET_GPUS;
  size_t bytes = 0;
#define DET_ITEM(p, n) state_record_item(rec, &bytes, (p), (n), save)
  for (int k = 0; k < GM_COUNT; k++) {
    if (s->gpu_prev[k])
      DET_ITEM(&s->gpu_prev[k][gi], sizeof(double) * FLEET_GPUS);
    DET_ITEM(&s->gpu_mu[k][gi], sizeof(float) * FLEET_GPUS);
    DET_ITEM(&s->gpu_var[k][gi], sizeof(float) * FLEET_GPUS);
  }
  for (int k = 0; k < NM_COUNT; k++) {
    if (s->node_prev[k])
      DET_ITEM(&s->node_prev[k][i], sizeof(double));
    DET_ITEM(&s->node_mu[k][i], sizeof(float));
    DET_ITEM(&s->node_var[k][i], sizeof(float));
  }
#undef DET_ITEM
  return bytes;
}

size_t det_node_state_bytes(const det_state *s) {
  return det_node_walk((det_state *)s, 0, NULL, 1); /* counts only */
}

void det_save_node(const det_state *s, int i, void *rec) {
  det_node_walk((det_state *)s, i, rec, 1); /* save: reads s only */
}

void det_load_node(det_state *s, int i, const void *rec) {
  det_node_walk(s, i, (unsigned char *)rec, 0); /* load: reads rec only */
}

void det_save_global(const det_state *s, ckpt_file *f) {
  size_t n = (size_t)s->nclasses * NM_COUNT;
  ckpt_tag(f, "DETG");
  ckpt_put_i32(f, s->nclasses);
  ckpt_put_i64(f, s->blocks);
  ckpt_put_array(f, s->prev_med, sizeof *s->prev_med, n);
  ckpt_put_array(f, s->trend_var, sizeof *s->trend_var, n);
  ckpt_put_array(f, s->trend_n, sizeof *s->trend_n, n);
}

int det_load_global(det_state *s, ckpt_file *f) {
  size_t n = (size_t)s->nclasses * NM_COUNT;
  int32_t nclasses = 0;
  if (ckpt_expect(f, "DETG") || ckpt_get_i32(f, "classes", &nclasses))
    return FS_EIO;
  if (nclasses != s->nclasses) {
    ckpt_fail(f, "field 'classes': %d workload classes, this run has %d", (int)nclasses,
              s->nclasses);
    return FS_EIO;
  }
  int64_t blocks = -1;
  if (ckpt_get_i64(f, "blocks", &blocks))
    return FS_EIO;
  if (blocks < 0) {
    ckpt_fail(f, "field 'blocks': %lld blocks analysed is impossible", (long long)blocks);
    return FS_EIO;
  }
  s->blocks = blocks;
  if (ckpt_get_array(f, "prev_med", s->prev_med, sizeof *s->prev_med, n) ||
      ckpt_get_array(f, "trend_var", s->trend_var, sizeof *s->trend_var, n) ||
      ckpt_get_array(f, "trend_n", s->trend_n, sizeof *s->trend_n, n))
    return FS_EIO;
  return 0;
}
