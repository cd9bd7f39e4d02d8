/* The telemetry model (see telemetry.h): workload load curves, the GPU
 * power/thermal/clock physics, inference latency and cache behaviour,
 * training step times and checkpoints, counters, and the cluster metrics.
 * Noise is AR(1) (temporally correlated) driven by counter-based draws keyed
 * by (seed, entity, channel, scrape), so values never depend on rank count. */
#include "src/model/telemetry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "src/core/checkpoint.h"
#include "src/core/errors.h"
#include "src/core/rng.h"
#include "src/core/simd.h"
#include "src/core/state_record.h"

/* ---- model constants (H100 SXM5 80 GB, the seed's figures) ------------- */
#define TEL_PI 3.14159265358979323846
static const double TEL_HBM_BYTES = 85899345920.0; /* 80 GiB */
static const float TEL_IDLE_W = 70.0f;             /* GPU idle power */
static const float TEL_DYN_W = 600.0f;             /* power at 100% util, above idle */
static const float TEL_POWER_CAP_W = 700.0f;
static const float TEL_BOOST_MHZ = 1980.0f;
static const float TEL_MEM_MHZ = 2619.0f;
static const float TEL_BOOST_KNEE_C = 74.0f; /* boost clocks start to fall */
static const float TEL_THROTTLE_C = 83.0f;   /* software thermal slowdown */
static const float TEL_HW_THROTTLE_C = 88.0f;
static const float TEL_CRAH_SUPPLY_C = 21.0f;
static const float TEL_THERMAL_TAU_S = 45.0f; /* junction temperature lag */
static const float TEL_NVLINK_REPLAY_MS = 7.0f; /* step slowdown per excess replay */
static const double TEL_SLA_WINDOW_S = 30.0 * 86400.0; /* error budget period */
static const double TEL_SLA_START = 0.80;               /* budget left at t = 0 */

/* Noise channels: per GPU and per node, each an AR(1) process. */
enum { GN_UTIL, GN_POWER, GN_TEMP, GN_COUNT };
enum {
  NN_INLET, NN_LOAD, NN_TTFT, NN_ITL, NN_KV, NN_ENTROPY, NN_RDMA, NN_STEP, NN_NCCL,
  NN_PROMPT, NN_GRAD, NN_COUNT
};
static const float tel_gpu_phi[GN_COUNT] = {0.90f, 0.85f, 0.95f};
static const float tel_node_phi[NN_COUNT] = {0.98f, 0.97f, 0.80f, 0.80f, 0.90f, 0.90f,
                                             0.85f, 0.70f, 0.75f, 0.95f, 0.90f};
/* Event streams (Poisson counts, checkpoints) use counter = t * 16 + slot. */
enum { EV_SBE, EV_REPLAY, EV_RECOVERY, EV_PCIE, EV_REMAP, EV_RETX, EV_RCV_ERR, EV_XMIT,
       EV_JITTER, EV_COUNT };
/* Fault-free Poisson rates per interval; exp(-rate) is taken once in tel_init. */
enum { PR_SBE, PR_PCIE, PR_RETX, PR_RCV_ERR, PR_XMIT, PR_COUNT };
static const double tel_base_rate[PR_COUNT] = {2e-4, 0.002, 0.4, 0.01, 4.0};
enum { TEL_POISSON_KMAX = 200 }; /* inverse-CDF Poisson counts stop here */
/* tel_scrape writes the nodes in chunks of this many into a one-row stage
 * that stays in L2 (about 360 KB), then copies each metric's chunk into the
 * window: ~60 long sequential copies instead of ~60 interleaved store
 * streams (measured: 256 beat 64, 128 and a whole row). */
enum { TEL_STAGE_NODES = 256 };
/* Counter metrics by accumulator: sums of whole counts per scrape in uint32,
 * time and energy in double. tel_init checks that these cover every
 * "_total" metric of metrics.h. */
static const int tel_gpu_int_ctr[] = {GM_ECC_SBE,         GM_ECC_DBE,     GM_NVLINK_REPLAY,
                                      GM_NVLINK_CRC,      GM_NVLINK_RECOVERY, GM_PCIE_REPLAY,
                                      GM_REMAP_CORR,      GM_REMAP_UNCORR};
static const int tel_gpu_real_ctr[] = {GM_ENERGY, GM_THERMAL_VIOL, GM_POWER_VIOL};
static const int tel_node_int_ctr[] = {NM_RDMA_RETX, NM_IB_RCV_ERR, NM_IB_XMIT_WAIT};
#define TEL_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
_Static_assert(TEL_NELEM(tel_gpu_int_ctr) == 8, "tel_node_gpus stores each GPU counter by name");

/* The counter halves of every draw of one scrape (rng_counter), shared by
 * all entities: each draw in the loop is then a single mix. */
typedef struct {
  uint64_t noise;          /* AR(1) channels: counter t */
  uint64_t ev[EV_COUNT];   /* event streams: counter t * 16 + slot */
} tel_scrape_rng;

struct tel_model {
  const fleet *f;
  const fs_config *cfg;
  int node0, nnodes, rack0, nracks;
  float dt;                     /* scrape interval, s */
  float alpha;                  /* thermal lag blend per scrape */
  /* static per node / GPU */
  float *inlet_offset_c;        /* [nn] rack slot and rack position */
  float *gpu_temp_offset_c;     /* [nn*8] airflow position in the chassis */
  float *gpu_power_scale;       /* [nn*8] silicon variation */
  /* state */
  float *temp_c;                /* [nn*8] lagged junction temperature */
  float *min_clock_mhz;         /* [nn] slowest GPU clock of the last scrape */
  double *gpu_acc[GM_COUNT];    /* [nn*8] time/energy counters (tel_gpu_real_ctr) */
  uint32_t *gpu_cnt[GM_COUNT];  /* [nn*8] event counters (tel_gpu_int_ctr) */
  uint32_t *node_cnt[NM_COUNT]; /* [nn] event counters (all node counters) */
  uint32_t *xid;                /* [nn*8] last XID code */
  float *gpu_noise[GN_COUNT];   /* [nn*8] AR states */
  uint64_t *gpu_key[GN_COUNT];
  float *node_noise[NN_COUNT];  /* [nn] AR states */
  uint64_t *node_key[NN_COUNT];
  uint64_t *gpu_event_key;      /* [nn*8] */
  uint64_t *gpu_bits[3];        /* [nn*8] per scrape: SBE, replay, PCIe event draws */
  uint64_t *node_bits[4];       /* [nn] per scrape: RETX, RCV_ERR, XMIT, JITTER draws */
  uint64_t *node_event_key;     /* [nn] */
  uint64_t *job_key;            /* [njobs] */
  /* per scrape scratch, per job */
  float *job_stall_s;           /* checkpoint stall inside this scrape */
  float *job_ckpt_last_s;       /* duration of the last checkpoint */
  tel_window stage;             /* one row of TEL_STAGE_NODES nodes (tel_scrape) */
  /* constants, set once */
  double base_cdf[PR_COUNT][TEL_POISSON_KMAX + 1]; /* Poisson CDF of tel_base_rate[k] */
  uint64_t base_zero[PR_COUNT]; /* a draw's bits >> 11 above this: a count above 0 */
  float gpu_innov[GN_COUNT];    /* sqrtf(1 - phi^2) of each GPU noise channel */
  float node_innov[NN_COUNT];   /* the same per node channel */
};

struct tel_cluster {
  const fleet *f;
  float outdoor_noise;
  uint64_t outdoor_key;
  double sla[TENANT_COUNT];
};

/* ---- small helpers ----------------------------------------------------- */

static inline float tel_clampf(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* Advances an AR(1) state one scrape with a unit-variance stationary law;
 * cm is rng_counter(t) of the scrape. */
static inline float tel_ar1_at(float *state, uint64_t key, uint64_t cm, float phi) {
  float eps = rng_normal(rng_bits_at(key, cm));
  *state = phi * *state + sqrtf(1.0f - phi * phi) * eps;
  return *state;
}

/* The same at scrape t (outside the per-node loop). */
static inline float tel_ar1(float *state, uint64_t key, int64_t t, float phi) {
  return tel_ar1_at(state, key, rng_counter((uint64_t)t), phi);
}

/* Inverse-CDF Poisson count for uniform u, given p0 = exp(-lambda). */
static inline uint32_t tel_poisson_cdf(double lambda, double p0, double u) {
  double p = p0, cdf = p;
  uint32_t k = 0;
  while (u > cdf && k < TEL_POISSON_KMAX) {
    k++;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

/* Poisson(lambda) count from one 64-bit draw (inverse CDF below 30, normal
 * approximation above). */
static uint32_t tel_poisson(double lambda, uint64_t bits) {
  if (lambda <= 0)
    return 0;
  if (lambda >= 30) {
    double k = lambda + sqrt(lambda) * rng_normal(bits) + 0.5;
    return k < 0 ? 0 : (uint32_t)k;
  }
  return tel_poisson_cdf(lambda, exp(-lambda), rng_uniform(bits));
}

/* tel_poisson, without exp() and divisions when lambda is the fault-free
 * rate k (nearly always): the CDF was tabulated in tel_init by the same
 * recurrence, so the same count for the same draw. */
static inline uint32_t tel_poisson_base(const tel_model *m, int k, double lambda, uint64_t bits) {
  if (lambda != tel_base_rate[k])
    return tel_poisson(lambda, bits);
  const double u = rng_uniform(bits), *cdf = m->base_cdf[k];
  uint32_t j = 0;
  while (u > cdf[j] && j < TEL_POISSON_KMAX)
    j++;
  return j;
}

static inline uint64_t tel_event_bits(uint64_t key, const tel_scrape_rng *sr, int slot) {
  return rng_bits_at(key, sr->ev[slot]);
}

double tel_hour_of_day(const fs_config *cfg, int64_t t) {
  double h = cfg->start_hour + (double)t * cfg->scrape_interval_s / 3600.0;
  return fmod(h, 24.0);
}

/* Inference traffic: diurnal sine, peak 14:00 (0.9), trough 02:00 (0.2). */
static inline float tel_inference_load(double hour) {
  return (float)(0.55 + 0.35 * cos(2.0 * TEL_PI * (hour - 14.0) / 24.0));
}

/* Outdoor air: peak 15:00, 16 +- 6 C (noise-free part; nodes see this). */
static inline float tel_outdoor_base(double hour) {
  return (float)(16.0 + 6.0 * cos(2.0 * TEL_PI * (hour - 15.0) / 24.0));
}

/* Seconds of checkpoint stall of job j inside scrape t, and the duration of
 * the job's most recent checkpoint (started at or before the scrape). */
static void tel_checkpoint(const tel_model *m, int j, int64_t t, float *stall_s,
                           float *last_s) {
  double period = m->cfg->checkpoint_every_min * 60.0;
  double offset = fmod(j * 420.0, period); /* jobs checkpoint 7 min apart */
  double t0 = (double)t * m->dt, t1 = t0 + m->dt;
  double k = floor((t0 - offset) / period);
  double stall = 0;
  float last = 0;
  for (int d = 0; d <= 1; d++) {
    double kk = k + d, start = offset + kk * period;
    uint64_t bits = rng_bits(m->job_key[j], (uint64_t)(int64_t)(kk + 1e6));
    /* write time grows with job size: 15-45 s, +-5% per checkpoint */
    double base = 15.0 + 30.0 * fmin(1.0, m->cfg->jobs[j].nodes / 128.0);
    double write = base * (1.0 + 0.05 * rng_normal(bits));
    double lo = fmax(t0, start), hi = fmin(t1, start + write);
    if (hi > lo)
      stall += hi - lo;
    if (start <= t1)
      last = (float)write;
  }
  *stall_s = (float)fmin(stall, m->dt);
  *last_s = last;
}

/* ---- lifecycle --------------------------------------------------------- */

static int tel_window_alloc(tel_window *w, int node0, int nnodes, int capacity);

int tel_init(tel_model **out, const fleet *f, int node0, int nnodes) {
  *out = NULL;
  tel_model *m = calloc(1, sizeof *m);
  if (!m)
    return FS_ENOMEM;
  m->f = f;
  m->cfg = f->cfg;
  m->node0 = node0;
  m->nnodes = nnodes;
  m->rack0 = node0 / f->nodes_per_rack;
  m->nracks = nnodes / f->nodes_per_rack;
  m->dt = (float)f->cfg->scrape_interval_s;
  m->alpha = 1.0f - expf(-m->dt / TEL_THERMAL_TAU_S);
  size_t nn = (size_t)nnodes, ng = nn * FLEET_GPUS, nj = (size_t)f->njobs + 1;
  int ok = 1;
#define TEL_ALLOC(p, n) ok &= ((p) = calloc((n), sizeof *(p))) != NULL
  TEL_ALLOC(m->inlet_offset_c, nn);
  TEL_ALLOC(m->gpu_temp_offset_c, ng);
  TEL_ALLOC(m->gpu_power_scale, ng);
  TEL_ALLOC(m->temp_c, ng);
  TEL_ALLOC(m->min_clock_mhz, nn);
  TEL_ALLOC(m->xid, ng);
  TEL_ALLOC(m->gpu_event_key, ng);
  for (int k = 0; k < 3; k++)
    TEL_ALLOC(m->gpu_bits[k], ng);
  for (int k = 0; k < 4; k++)
    TEL_ALLOC(m->node_bits[k], nn);
  TEL_ALLOC(m->node_event_key, nn);
  TEL_ALLOC(m->job_key, nj);
  TEL_ALLOC(m->job_stall_s, nj);
  TEL_ALLOC(m->job_ckpt_last_s, nj);
  for (int c = 0; c < GN_COUNT; c++) {
    TEL_ALLOC(m->gpu_noise[c], ng);
    TEL_ALLOC(m->gpu_key[c], ng);
  }
  for (int c = 0; c < NN_COUNT; c++) {
    TEL_ALLOC(m->node_noise[c], nn);
    TEL_ALLOC(m->node_key[c], nn);
  }
  for (int c = 0; c < TEL_NELEM(tel_gpu_int_ctr); c++)
    TEL_ALLOC(m->gpu_cnt[tel_gpu_int_ctr[c]], ng);
  for (int c = 0; c < TEL_NELEM(tel_gpu_real_ctr); c++)
    TEL_ALLOC(m->gpu_acc[tel_gpu_real_ctr[c]], ng);
  for (int c = 0; c < TEL_NELEM(tel_node_int_ctr); c++)
    TEL_ALLOC(m->node_cnt[tel_node_int_ctr[c]], nn);
  /* the lists above must name exactly the counter metrics */
  for (int k = 0; k < GM_COUNT; k++)
    if (ok && metric_is_counter(&metric_gpu[k]) != (m->gpu_cnt[k] || m->gpu_acc[k])) {
      tel_destroy(&m);
      return FS_EINVAL;
    }
  for (int k = 0; k < NM_COUNT; k++)
    if (ok && metric_is_counter(&metric_node[k]) != (m->node_cnt[k] != NULL)) {
      tel_destroy(&m);
      return FS_EINVAL;
    }
  for (int k = 0; k < PR_COUNT; k++) { /* as tel_poisson_cdf adds them up */
    double lambda = tel_base_rate[k], p = exp(-lambda), cdf = p;
    m->base_cdf[k][0] = cdf;
    for (int j = 1; j <= TEL_POISSON_KMAX; j++) {
      p *= lambda / j;
      cdf += p;
      m->base_cdf[k][j] = cdf;
    }
    /* u = (bits >> 11) 2^-53 <= cdf[0] exactly when bits >> 11 <= floor(cdf[0] 2^53) */
    m->base_zero[k] = (uint64_t)ldexp(m->base_cdf[k][0], 53);
  }
  for (int c = 0; c < GN_COUNT; c++)
    m->gpu_innov[c] = sqrtf(1.0f - tel_gpu_phi[c] * tel_gpu_phi[c]);
  for (int c = 0; c < NN_COUNT; c++)
    m->node_innov[c] = sqrtf(1.0f - tel_node_phi[c] * tel_node_phi[c]);
#undef TEL_ALLOC
  if (!ok || tel_window_alloc(&m->stage, node0, TEL_STAGE_NODES, 1) != 0) {
    tel_destroy(&m);
    return FS_ENOMEM;
  }
  uint64_t seed = f->cfg->seed;
  uint64_t static_key = rng_key(seed, RNG_STREAM_TELEMETRY, 0);
  for (size_t i = 0; i < nn; i++) {
    int n = node0 + (int)i;
    uint64_t nb = rng_bits(static_key, (uint64_t)n);
    m->inlet_offset_c[i] = 0.04f * fleet_rack_slot(f, n) + 0.6f * (float)(rng_uniform(nb) - 0.5);
    m->node_event_key[i] = rng_key(seed, RNG_STREAM_TELEMETRY + 1, (uint64_t)n);
    for (int c = 0; c < NN_COUNT; c++) {
      m->node_key[c][i] = rng_key(seed, RNG_STREAM_TELEMETRY + 2 + c, (uint64_t)n);
      m->node_noise[c][i] = rng_normal(rng_bits(m->node_key[c][i], UINT64_MAX));
    }
    m->min_clock_mhz[i] = TEL_BOOST_MHZ;
    for (int g = 0; g < FLEET_GPUS; g++) {
      size_t gi = i * FLEET_GPUS + (size_t)g;
      uint64_t gid = (uint64_t)n * FLEET_GPUS + (uint64_t)g;
      uint64_t gb = rng_bits(static_key, gid + ((uint64_t)1 << 40));
      /* GPUs further down the airflow run warmer */
      m->gpu_temp_offset_c[gi] = 0.5f * (float)(g % 4) + 1.0f * (float)rng_uniform(gb);
      m->gpu_power_scale[gi] = 1.0f + 0.02f * rng_normal(rng_bits(static_key, gid + ((uint64_t)2 << 40)));
      m->gpu_event_key[gi] = rng_key(seed, RNG_STREAM_TELEMETRY + 20, gid);
      for (int c = 0; c < GN_COUNT; c++) {
        m->gpu_key[c][gi] = rng_key(seed, RNG_STREAM_TELEMETRY + 21 + c, gid);
        m->gpu_noise[c][gi] = rng_normal(rng_bits(m->gpu_key[c][gi], UINT64_MAX));
      }
      m->temp_c[gi] = NAN; /* set from the first scrape's target */
    }
  }
  for (int j = 0; j < f->njobs; j++)
    m->job_key[j] = rng_key(seed, RNG_STREAM_TELEMETRY + 30, (uint64_t)j);
  *out = m;
  return 0;
}

void tel_destroy(tel_model **mp) {
  if (!mp || !*mp)
    return;
  tel_model *m = *mp;
  free(m->inlet_offset_c);
  free(m->gpu_temp_offset_c);
  free(m->gpu_power_scale);
  free(m->temp_c);
  free(m->min_clock_mhz);
  free(m->xid);
  free(m->gpu_event_key);
  for (int k = 0; k < 3; k++)
    free(m->gpu_bits[k]);
  for (int k = 0; k < 4; k++)
    free(m->node_bits[k]);
  free(m->node_event_key);
  free(m->job_key);
  free(m->job_stall_s);
  free(m->job_ckpt_last_s);
  tel_window_destroy(&m->stage);
  for (int c = 0; c < GN_COUNT; c++) {
    free(m->gpu_noise[c]);
    free(m->gpu_key[c]);
  }
  for (int c = 0; c < NN_COUNT; c++) {
    free(m->node_noise[c]);
    free(m->node_key[c]);
  }
  for (int k = 0; k < GM_COUNT; k++) {
    free(m->gpu_acc[k]);
    free(m->gpu_cnt[k]);
  }
  for (int k = 0; k < NM_COUNT; k++)
    free(m->node_cnt[k]);
  free(m);
  *mp = NULL;
}

/* Allocates w for `capacity` rows of nnodes nodes from node0 on: one block,
 * the metric arrays 64-byte aligned and each a further 64 + 64 k bytes from
 * a 4 KiB boundary, so the same cell of different metrics does not map to
 * one L1 set (separate large mallocs all start at one page offset). */
static int tel_window_alloc(tel_window *w, int node0, int nnodes, int capacity) {
  memset(w, 0, sizeof *w);
  w->capacity = capacity;
  w->node0 = node0;
  w->nnodes = nnodes;
  const size_t cells = (size_t)capacity * (size_t)nnodes, narr = GM_COUNT + NM_COUNT + 1;
  const size_t gbytes = cells * FLEET_GPUS * sizeof(tel_cell), nbytes = cells * sizeof(tel_cell);
  /* each array: its bytes rounded up to 4 KiB, plus one 4 KiB slot for the stagger */
  size_t total = 0;
  for (size_t k = 0; k < narr; k++)
    total += ((k < GM_COUNT ? gbytes : nbytes) + 8191) / 4096 * 4096;
  unsigned char *base = aligned_alloc(4096, total);
  if (!base)
    return FS_ENOMEM;
  w->block = base;
  size_t off = 0;
  for (size_t k = 0; k < narr; k++) {
    const size_t bytes = k < GM_COUNT ? gbytes : nbytes, stagger = (64 + 64 * k) % 4096;
    void *p = base + off + stagger;
    if (k < GM_COUNT)
      w->gpu[k] = p;
    else if (k < GM_COUNT + NM_COUNT)
      w->node[k - GM_COUNT] = p;
    else
      w->step_own_ms = p;
    off += (bytes + 8191) / 4096 * 4096;
  }
  memset(w->step_own_ms, 0, nbytes);
  return 0;
}

int tel_window_init(tel_window *w, const tel_model *m, int capacity) {
  int rc = tel_window_alloc(w, m->node0, m->nnodes, capacity);
  memset(w->gpu_kept, 1, sizeof w->gpu_kept);
  return rc;
}

void tel_window_keep(tel_window *w, const unsigned char keep[GM_COUNT]) {
  for (int k = 0; k < GM_COUNT; k++)
    w->gpu_kept[k] = keep[k] || k == GM_CLOCK_EVENTS || k == GM_ECC_DBE;
}

void tel_window_destroy(tel_window *w) {
  free(w->block);
  memset(w, 0, sizeof *w);
}

void tel_drivers_reset(tel_drivers *d, int n) {
  memset(d, 0, sizeof *d * (size_t)n);
  for (int i = 0; i < n; i++) {
    d[i].context_scale = 1.0f;
    d[i].entropy_to_nats = 0.8f;
    d[i].hot_share = 0.6f;
    d[i].hot_gpu_mask = 0x3;
  }
}

/* ---- one scrape -------------------------------------------------------- */

/* Per-node quantities computed once and shared by its GPUs. */
typedef struct {
  int tenant, job;
  float load;        /* inference traffic 0..1 */
  float util_base;   /* SM util of a GPU at uniform load, % */
  float share[FLEET_GPUS]; /* MoE expert load shares (sum 1) */
  float moe_thr;     /* MoE throughput fraction under skew */
  float inlet_c;
  float stall_s;     /* training checkpoint stall in this scrape */
} tel_node_ctx;

static void tel_moe_shares(const tel_drivers *d, tel_node_ctx *nc) {
  int nhot = __builtin_popcount(d->hot_gpu_mask);
  float c = tel_clampf(d->routing_collapse, 0.0f, 1.0f);
  if (nhot == 0 || nhot == FLEET_GPUS || c <= 0.0f) {
    for (int g = 0; g < FLEET_GPUS; g++)
      nc->share[g] = 1.0f / FLEET_GPUS;
    nc->moe_thr = 1.0f;
    return;
  }
  float uniform_hot = (float)nhot / FLEET_GPUS;
  float hot = uniform_hot + (d->hot_share - uniform_hot) * c;
  float peak = 0;
  for (int g = 0; g < FLEET_GPUS; g++) {
    int is_hot = (d->hot_gpu_mask >> g) & 1;
    nc->share[g] = is_hot ? hot / nhot : (1.0f - hot) / (FLEET_GPUS - nhot);
    float demand = nc->util_base * nc->share[g] * FLEET_GPUS;
    if (demand > peak)
      peak = demand;
  }
  /* hot experts saturate; the all-to-all makes everyone wait on them */
  nc->moe_thr = peak > 95.0f ? powf(95.0f / peak, 0.6f) : 1.0f;
}

/* Per-node constants of the GPU model (from the node's tenant and drivers),
 * so that one loop over the 8 GPUs serves every tenant. */
typedef struct {
  float ubase[FLEET_GPUS]; /* SM util before noise, %; 0 = idle */
  float unoise;            /* util noise, % per unit draw */
  float dyn_w;             /* TEL_DYN_W x workload intensity */
  float target0;           /* inlet + 25 C */
  float board_c;           /* driver: added junction temperature */
  int membw_job;           /* training job: membw = 62 util / 96 */
  float membw_a, membw_b, membw_k; /* otherwise membw = a + (b util) k */
  float tensor_k;          /* tensor active per % util */
  float fb_used, fb_free;
  float nvlink_k;          /* NVLink bytes/s at 100% util */
  int pcie_ckpt;           /* a checkpoint write: pcie_tx is the constant below */
  float pcie_tx, pcie_rx_k;
} tel_gpu_ctx;

/* What the node part needs from its GPUs. */
typedef struct {
  float power_sum, power_sq, clock_sum, clock_min, replay_max;
} tel_gpu_sums;

static void tel_gpu_ctx_set(const tel_model *m, const tel_drivers *d, const tel_node_ctx *nc,
                            int in_job, float kv_hit, tel_gpu_ctx *gc) {
  const int inference = nc->tenant != TENANT_TRAINING, moe = nc->tenant == TENANT_MOE;
  for (int g = 0; g < FLEET_GPUS; g++) {
    float util = nc->util_base;
    if (moe) {
      float stall = ((d->hot_gpu_mask >> g) & 1) ? 1.0f : (nc->moe_thr < 1.0f ? 0.75f : 1.0f);
      util = nc->util_base * nc->share[g] * FLEET_GPUS * nc->moe_thr * stall;
      if (util > 95.0f) /* a saturated expert GPU: the router queues the rest */
        util = 95.0f;
    }
    gc->ubase[g] = util;
  }
  gc->unoise = in_job ? 1.2f : 2.5f;
  /* decode-heavy inference is memory-bound: fewer watts per busy percent */
  gc->dyn_w = TEL_DYN_W * (inference ? 0.8f : 1.0f);
  gc->target0 = nc->inlet_c + 25.0f;
  gc->board_c = d->board_delta_c;
  gc->membw_job = in_job;
  gc->membw_a = nc->tenant == TENANT_DENSE ? 18.0f : 12.0f;
  gc->membw_b = nc->tenant == TENANT_DENSE ? 0.6f : 0.55f;
  gc->membw_k = nc->tenant == TENANT_DENSE ? 1.0f + 0.25f * (1.0f - kv_hit / 0.94f) : 1.0f;
  gc->tensor_k = in_job ? 0.0066f : 0.0047f;
  if (nc->tenant == TENANT_TRAINING)
    gc->fb_used = in_job ? (float)(0.905 * TEL_HBM_BYTES) : (float)(0.006 * TEL_HBM_BYTES);
  else
    gc->fb_used = (float)((moe ? 0.93 : 0.90) * TEL_HBM_BYTES);
  gc->fb_free = (float)TEL_HBM_BYTES - gc->fb_used;
  gc->nvlink_k = in_job ? 1.6e11f : (moe ? 9.0e10f : 5.5e10f);
  gc->pcie_ckpt = in_job && nc->stall_s > 0;
  gc->pcie_tx = gc->pcie_ckpt ? 1.2e10f * nc->stall_s / m->dt : 0.0f;
  gc->pcie_rx_k = inference ? 1.5e9f : 6.0e8f;
}

/* out[i] = rng_bits_at(keys[i], cm) for n keys. Integer only, so every
 * clone gives the same bits; AVX-512 and AVX2 mix 8 or 4 keys at once where
 * the CPU has them (the draws are a third of the model's instructions). */
FS_SIMD_CLONES
static void tel_mix_keys(uint64_t *restrict out, const uint64_t *restrict keys, uint64_t cm,
                         size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = rng_bits_at(keys[i], cm);
}

/* One AR(1) step for n entities of one noise channel: st = phi * st +
 * innov * N(0, 1), the normals drawn at counter cm of each key (bits is
 * scratch for n draws). */
FS_SIMD_CLONES
static void tel_ar1_step(float *restrict st, const uint64_t *restrict bits, float phi, float innov,
                         size_t n) {
  for (size_t i = 0; i < n; i++)
    st[i] = phi * st[i] + innov * rng_normal(bits[i]);
}

static void tel_ar1_advance(float *restrict st, const uint64_t *keys, uint64_t cm, float phi,
                            float innov, uint64_t *bits, size_t n) {
  tel_mix_keys(bits, keys, cm, n);
  tel_ar1_step(st, bits, phi, innov, n);
}

/* Phase one of a scrape, over every GPU of the rank: the AR(1) noise states
 * advance one step and the event draws land in gpu_bits. */
static void tel_gpu_draws(tel_model *m, const tel_scrape_rng *sr) {
  const size_t ng = (size_t)m->nnodes * FLEET_GPUS;
  for (int c = 0; c < GN_COUNT; c++) /* gpu_bits[0] is scratch here, refilled below */
    tel_ar1_advance(m->gpu_noise[c], m->gpu_key[c], sr->noise, tel_gpu_phi[c], m->gpu_innov[c],
                    m->gpu_bits[0], ng);
  tel_mix_keys(m->gpu_bits[0], m->gpu_event_key, sr->ev[EV_SBE], ng);
  tel_mix_keys(m->gpu_bits[1], m->gpu_event_key, sr->ev[EV_REPLAY], ng);
  tel_mix_keys(m->gpu_bits[2], m->gpu_event_key, sr->ev[EV_PCIE], ng);
}

/* The same for the nodes: every channel of every node advances, also those
 * a node's tenant never reads (its tenant is fixed, so the values it does
 * read are the same), which keeps the loops branch-free. */
static void tel_node_draws(tel_model *m, const tel_scrape_rng *sr) {
  const size_t nn = (size_t)m->nnodes;
  for (int c = 0; c < NN_COUNT; c++) /* node_bits[0] is scratch here, refilled below */
    tel_ar1_advance(m->node_noise[c], m->node_key[c], sr->noise, tel_node_phi[c],
                    m->node_innov[c], m->node_bits[0], nn);
  tel_mix_keys(m->node_bits[0], m->node_event_key, sr->ev[EV_RETX], nn);
  tel_mix_keys(m->node_bits[1], m->node_event_key, sr->ev[EV_RCV_ERR], nn);
  tel_mix_keys(m->node_bits[2], m->node_event_key, sr->ev[EV_XMIT], nn);
  tel_mix_keys(m->node_bits[3], m->node_event_key, sr->ev[EV_JITTER], nn);
}

/* The scalar path of one GPU's event counts at one scrape (global index gi
 * on this rank): the SBE and PCIe replay counts from the same draws as
 * tel_poisson_base, the remapped rows an SBE burst brings, and the NVLink
 * recovery (XID 74) a replay burst can trigger, added to the model. */
static void tel_gpu_rare_events(tel_model *m, size_t gi, double lambda_sbe, uint64_t b_sbe,
                                uint64_t b_pcie, uint32_t replays, const tel_scrape_rng *sr,
                                uint32_t *sbe, uint32_t *pcie) {
  *sbe = tel_poisson_base(m, PR_SBE, lambda_sbe, b_sbe);
  if (*sbe > 0)
    m->gpu_cnt[GM_REMAP_CORR][gi] +=
        tel_poisson(*sbe / 60.0, tel_event_bits(m->gpu_event_key[gi], sr, EV_REMAP));
  if (replays > 50 && rng_uniform(tel_event_bits(m->gpu_event_key[gi], sr, EV_RECOVERY)) < 0.08) {
    m->gpu_cnt[GM_NVLINK_RECOVERY][gi] += 1;
    m->xid[gi] = 74; /* NVLink error */
  }
  *pcie = tel_poisson_base(m, PR_PCIE, 0.002, b_pcie);
}

/* The 8 GPUs of local node i at one scrape, in phases: the draws (done for
 * the whole rank by tel_gpu_draws), the physics as branch-free loops over the 8 GPUs
 * (selects, so GCC vectorises them; IEEE single precision without
 * contraction gives the same bits as scalar code), the window stores, then
 * the event counters (rare branches, scalar). o is the window offset of GPU 0. */
static void tel_node_gpus(tel_model *m, size_t i, const tel_drivers *d, const tel_gpu_ctx *gc,
                          const tel_scrape_rng *sr, tel_window *w, size_t o, tel_gpu_sums *sum) {
  enum { G = FLEET_GPUS };
  const size_t gi = i * G;
  const float dt = m->dt;
  /* this scrape's AR(1) states and event draws (tel_gpu_draws) */
  const float *z[GN_COUNT] = {&m->gpu_noise[GN_UTIL][gi], &m->gpu_noise[GN_POWER][gi],
                              &m->gpu_noise[GN_TEMP][gi]};
  const uint64_t *b_sbe = &m->gpu_bits[0][gi], *b_replay = &m->gpu_bits[1][gi];
  const uint64_t *b_pcie = &m->gpu_bits[2][gi];

  float util[G], clock[G], power[G], temp[G], membw[G];
  uint32_t events[G];
  /* local copies: a loop over locals only needs no run-time alias checks */
  float zu[G], zp[G], zt[G], scale[G], toff[G], temp_c[G];
  memcpy(zu, z[GN_UTIL], sizeof zu);
  memcpy(zp, z[GN_POWER], sizeof zp);
  memcpy(zt, z[GN_TEMP], sizeof zt);
  memcpy(scale, &m->gpu_power_scale[gi], sizeof scale);
  memcpy(toff, &m->gpu_temp_offset_c[gi], sizeof toff);
  memcpy(temp_c, &m->temp_c[gi], sizeof temp_c);
  float ubase[G];
  memcpy(ubase, gc->ubase, sizeof ubase);
  /* locals, not loads in the arms of a select: those would keep the loops scalar */
  const float unoise = gc->unoise, dyn_w = gc->dyn_w, target0 = gc->target0, board_c = gc->board_c;
  const float alpha = m->alpha, membw_a = gc->membw_a, membw_b = gc->membw_b, membw_k = gc->membw_k;
  const int membw_job = gc->membw_job;
  for (int g = 0; g < G; g++) {
    const float u0 = ubase[g];
    const float u = u0 > 0 ? tel_clampf(u0 + unoise * zu[g], 0.5f, 100.0f) : 0.0f;
    /* clocks follow the lagged temperature: boost drops above 74 C, the
     * thermal slowdown cuts hard above 83 C (NaN before the first scrape:
     * every comparison is false, so boost clocks and no events) */
    const float tp = temp_c[g];
    const float c1 = tp > TEL_BOOST_KNEE_C ? TEL_BOOST_MHZ - 6.0f * (tp - TEL_BOOST_KNEE_C) : TEL_BOOST_MHZ;
    const int sw = tp >= TEL_THROTTLE_C;
    const float c2 = sw ? c1 - 110.0f * (tp - TEL_THROTTLE_C + 1.0f) : c1;
    const float ck = tel_clampf(c2, 900.0f, TEL_BOOST_MHZ);
    const float speed = ck / TEL_BOOST_MHZ;
    const float p0 = (TEL_IDLE_W + dyn_w * (u / 100.0f) * (0.55f + 0.45f * speed)) * scale[g] +
                     6.0f * zp[g];
    const int capped = p0 > TEL_POWER_CAP_W;
    const float p = capped ? TEL_POWER_CAP_W : p0;
    const float target = target0 + 0.04f * p + toff[g] + board_c + 0.3f * zt[g];
    const float tn = tp != tp ? target : tp + alpha * (target - tp);
    const float mb0 = membw_job ? 62.0f * u / 96.0f : membw_a + membw_b * u * membw_k;
    events[g] = (sw ? CLOCK_EVENT_SW_THERMAL : 0u) | (tp >= TEL_HW_THROTTLE_C ? CLOCK_EVENT_HW_THERMAL : 0u) |
                (capped ? CLOCK_EVENT_SW_POWER_CAP : 0u) | (u < 5.0f ? CLOCK_EVENT_IDLE : 0u);
    util[g] = u;
    clock[g] = ck;
    power[g] = p;
    temp[g] = tn;
    membw[g] = tel_clampf(mb0 + 1.5f * zu[g], 0.0f, 100.0f);
  }
  memcpy(&m->temp_c[gi], temp, sizeof temp);

  const float nvlink_k = gc->nvlink_k, tensor_k = gc->tensor_k, fb_used = gc->fb_used;
  const float fb_free = gc->fb_free, pcie_tx = gc->pcie_tx, pcie_rx_k = gc->pcie_rx_k;
  const int pcie_ckpt = gc->pcie_ckpt;
  float nvlink_bps[G];
  for (int g = 0; g < G; g++)
    nvlink_bps[g] = nvlink_k * (util[g] / 100.0f) * (0.9f + 0.1f * (clock[g] / TEL_BOOST_MHZ));
  /* one loop per metric: each stores through one pointer and reads only
   * locals, so no run-time alias checks keep it from vectorising */
#define TEL_STORE(k, field, expr)                                                                \
  do {                                                                                           \
    tel_cell *out_ = &w->gpu[k][o];                                                              \
    for (int g = 0; g < G; g++)                                                                  \
      out_[g].field = (expr);                                                                    \
  } while (0)
  TEL_STORE(GM_TEMP, f, temp[g]);
  TEL_STORE(GM_MEM_TEMP, f, temp[g] + 1.5f + 0.05f * membw[g]);
  TEL_STORE(GM_POWER, f, power[g]);
  TEL_STORE(GM_SM_CLOCK, f, util[g] < 5.0f ? 345.0f : clock[g]);
  TEL_STORE(GM_MEM_CLOCK, f, TEL_MEM_MHZ);
  TEL_STORE(GM_SM_UTIL, f, util[g]);
  TEL_STORE(GM_MEM_BW_UTIL, f, membw[g]);
  TEL_STORE(GM_SM_ACTIVE, f, 0.0095f * util[g]);
  TEL_STORE(GM_SM_OCCUPANCY, f, 0.0052f * util[g]);
  TEL_STORE(GM_TENSOR_ACTIVE, f, tensor_k * util[g]);
  TEL_STORE(GM_DRAM_ACTIVE, f, 0.009f * membw[g]);
  TEL_STORE(GM_FB_USED, f, fb_used);
  TEL_STORE(GM_FB_FREE, f, fb_free);
  TEL_STORE(GM_PCIE_TX, f, pcie_ckpt ? pcie_tx : 4.0e8f * util[g] / 100.0f);
  TEL_STORE(GM_PCIE_RX, f, pcie_rx_k * util[g] / 100.0f);
  TEL_STORE(GM_NVLINK_TX, f, nvlink_bps[g]);
  TEL_STORE(GM_NVLINK_RX, f, nvlink_bps[g]);
  TEL_STORE(GM_CLOCK_EVENTS, u, events[g]);

  /* Event counters, one scalar pass per GPU. The fault-free case has no
   * branch taken: a draw at a fault-free Poisson rate is 0 when its 53
   * uniform bits are at most base_zero (the integer form of u <= P(0)),
   * baseline replays are 1-3. A GPU with a nonzero draw, a fault's SBE rate
   * or a replay burst takes tel_gpu_rare_events with the same draws. Every
   * counter cell is stored as it is updated: no wide load of values just
   * written by narrow stores (a store-forwarding stall). */
  uint32_t *restrict sbe_c = &m->gpu_cnt[GM_ECC_SBE][gi], *restrict pcie_c = &m->gpu_cnt[GM_PCIE_REPLAY][gi];
  uint32_t *restrict replay_c = &m->gpu_cnt[GM_NVLINK_REPLAY][gi], *restrict crc_c = &m->gpu_cnt[GM_NVLINK_CRC][gi];
  const uint32_t *dbe_c = &m->gpu_cnt[GM_ECC_DBE][gi], *remap_c = &m->gpu_cnt[GM_REMAP_CORR][gi];
  const uint32_t *unc_c = &m->gpu_cnt[GM_REMAP_UNCORR][gi], *recov_c = &m->gpu_cnt[GM_NVLINK_RECOVERY][gi];
  double *restrict energy = &m->gpu_acc[GM_ENERGY][gi], *restrict thermal_v = &m->gpu_acc[GM_THERMAL_VIOL][gi];
  double *restrict power_v = &m->gpu_acc[GM_POWER_VIOL][gi];
  tel_cell *const *wg = w->gpu;
  const uint64_t sbe0 = m->base_zero[PR_SBE], pcie0 = m->base_zero[PR_PCIE];
  const unsigned nvl_mask = d->nvlink_gpu_mask;
  const long nvl = lrintf(d->nvlink_replays);
  /* a failing link's count replaces the baseline r (1-3) when nvl > r */
  const uint32_t nvl_val = (uint32_t)nvl, nvl_cmp = nvl >= 4 ? UINT32_MAX : (nvl >= 2 ? (uint32_t)nvl : 0u);
  uint32_t replay_hi = 0;
  for (int g = 0; g < G; g++) {
    const size_t c = o + (size_t)g;
    const double lambda_sbe = 2e-4 + d->sbe_per_interval[g];
    const uint32_t r0 = 1u + (uint32_t)(b_replay[g] % 3u);
    const uint32_t replays = ((nvl_mask >> g) & 1u) && nvl_cmp > r0 ? nvl_val : r0;
    uint32_t sbe = 0, pcie = 0;
    if ((lambda_sbe != tel_base_rate[PR_SBE]) | ((b_sbe[g] >> 11) > sbe0) |
        ((b_pcie[g] >> 11) > pcie0) | (replays > 50))
      tel_gpu_rare_events(m, gi + (size_t)g, lambda_sbe, b_sbe[g], b_pcie[g], replays, sr, &sbe, &pcie);
    wg[GM_ECC_SBE][c].u = sbe_c[g] += sbe;
    wg[GM_PCIE_REPLAY][c].u = pcie_c[g] += pcie;
    wg[GM_NVLINK_REPLAY][c].u = replay_c[g] += replays;
    wg[GM_NVLINK_CRC][c].u = crc_c[g] += replays; /* each replay answers a CRC-failed flit */
    wg[GM_ECC_DBE][c].u = dbe_c[g];
    wg[GM_REMAP_CORR][c].u = remap_c[g];
    wg[GM_REMAP_UNCORR][c].u = unc_c[g];
    wg[GM_NVLINK_RECOVERY][c].u = recov_c[g];
    replay_hi = replays > replay_hi ? replays : replay_hi;
    energy[g] += power[g] * dt;
    if (events[g] & CLOCK_EVENT_SW_THERMAL)
      thermal_v[g] += 1000.0 * dt * tel_clampf((temp[g] - TEL_THROTTLE_C + 1.0f) / 3.0f, 0.2f, 1.0f);
    if (events[g] & CLOCK_EVENT_SW_POWER_CAP)
      power_v[g] += 1000.0 * dt * 0.5;
    wg[GM_ENERGY][c].u = (uint32_t)energy[g];
    wg[GM_THERMAL_VIOL][c].u = (uint32_t)thermal_v[g];
    wg[GM_POWER_VIOL][c].u = (uint32_t)power_v[g];
  }
  const float replay_max = (float)replay_hi; /* the conversion keeps the order */
#undef TEL_STORE
  memcpy(&w->gpu[GM_XID][o], &m->xid[gi], sizeof(uint32_t) * G);

  /* in GPU order, as the node's sums always were */
  float power_sum = 0, power_sq = 0, clock_min = TEL_BOOST_MHZ, clock_sum = 0;
  for (int g = 0; g < G; g++) {
    power_sum += power[g];
    power_sq += power[g] * power[g];
    clock_sum += clock[g];
    if (util[g] >= 5.0f && clock[g] < clock_min)
      clock_min = clock[g];
  }
  *sum = (tel_gpu_sums){power_sum, power_sq, clock_sum, clock_min, replay_max};
}

/* dst[0..n) = src[0..n) for n a multiple of 4 and dst 16-byte aligned, with
 * non-temporal stores where the CPU has them (SSE2): the window's GPU cells
 * go to memory without each line being read first, and they are next read
 * long after (the archive, two rows of the counters). */
static void tel_copy_stream(tel_cell *restrict dst, const tel_cell *restrict src, size_t n) {
#if defined(__SSE2__)
  for (size_t j = 0; j < n; j += 4)
    _mm_stream_si128((__m128i *)(void *)&dst[j], _mm_loadu_si128((const __m128i *)(const void *)&src[j]));
#else
  memcpy(dst, src, n * sizeof *dst);
#endif
}

/* Copies the stage's n nodes into window row `row` from local node i0 on. */
static void tel_stage_flush(const tel_window *st, tel_window *w, int row, size_t i0, size_t n) {
  const size_t o = (size_t)row * (size_t)w->nnodes + i0;
  for (int k = 0; k < GM_COUNT; k++)
    if (w->gpu_kept[k])
      tel_copy_stream(&w->gpu[k][o * FLEET_GPUS], st->gpu[k], n * FLEET_GPUS);
#if defined(__SSE2__)
  _mm_sfence(); /* the streamed stores are ordered before anything later */
#endif
  for (int k = 0; k < NM_COUNT; k++)
    memcpy(&w->node[k][o], st->node[k], n * sizeof(tel_cell));
  memcpy(&w->step_own_ms[o], st->step_own_ms, n * sizeof(float));
}

void tel_scrape(tel_model *m, int64_t t, const tel_drivers *drivers, tel_window *w, int row,
                tel_chunk_fn on_chunk, void *ctx) {
  const fleet *f = m->f;
  const double hour = tel_hour_of_day(m->cfg, t);
  const float load = tel_inference_load(hour);
  const float outdoor = tel_outdoor_base(hour);
  const float dt = m->dt;
  for (int j = 0; j < f->njobs; j++)
    tel_checkpoint(m, j, t, &m->job_stall_s[j], &m->job_ckpt_last_s[j]);
  tel_scrape_rng sr = {.noise = rng_counter((uint64_t)t)};
  for (int k = 0; k < EV_COUNT; k++)
    sr.ev[k] = rng_counter((uint64_t)t * 16u + (uint64_t)k);
  tel_gpu_draws(m, &sr);
  tel_node_draws(m, &sr);

  const size_t nn = (size_t)m->nnodes;
  tel_window *const st = &m->stage;
  for (size_t i0 = 0; i0 < nn; i0 += TEL_STAGE_NODES) {
  const size_t i1 = nn - i0 < TEL_STAGE_NODES ? nn : i0 + TEL_STAGE_NODES;
  for (size_t i = i0; i < i1; i++) {
    const int n = m->node0 + (int)i;
    const tel_drivers *d = &drivers[i];
    tel_node_ctx nc = {.tenant = f->node_tenant[n], .job = f->node_job[n]};
    float z_inlet = m->node_noise[NN_INLET][i];
    float z_load = m->node_noise[NN_LOAD][i];
    nc.inlet_c = TEL_CRAH_SUPPLY_C + m->inlet_offset_c[i] + 0.04f * (outdoor - 16.0f) +
                 0.25f * z_inlet + d->inlet_delta_c;
    int in_job = nc.tenant == TENANT_TRAINING && nc.job >= 0;
    int inference = nc.tenant != TENANT_TRAINING;
    if (inference) {
      nc.load = tel_clampf(load * (1.0f + 0.05f * z_load), 0.05f, 1.0f);
      nc.util_base = 100.0f * (0.15f + 0.75f * nc.load);
    } else if (in_job) {
      nc.stall_s = m->job_stall_s[nc.job];
      float busy = 1.0f - nc.stall_s / dt; /* GPUs idle while the checkpoint writes */
      nc.util_base = 96.0f * busy + 12.0f * (1.0f - busy);
    } else {
      nc.util_base = 0.0f; /* idle pool */
    }
    if (nc.tenant == TENANT_MOE)
      tel_moe_shares(d, &nc);
    else {
      for (int g = 0; g < FLEET_GPUS; g++)
        nc.share[g] = 1.0f / FLEET_GPUS;
      nc.moe_thr = 1.0f;
    }
    /* KV cache: a fixed pool against a working set that grows with context */
    float ctx = d->context_scale > 0 ? d->context_scale : 1.0f;
    float kv_hit = 0.94f / (1.0f + 0.363f * (ctx - 1.0f));
    float cong = tel_clampf(d->fabric_congestion, 0.0f, 1.0f);

    /* ---- GPUs ---- */
    tel_gpu_ctx gc;
    tel_gpu_ctx_set(m, d, &nc, in_job, kv_hit, &gc);
    tel_gpu_sums sum;
    tel_node_gpus(m, i, d, &gc, &sr, st, (i - i0) * FLEET_GPUS, &sum);
    float power_sum = sum.power_sum, power_sq = sum.power_sq, clock_min = sum.clock_min;
    float clock_sum = sum.clock_sum, replay_max = sum.replay_max;
    m->min_clock_mhz[i] = clock_min;
    float clock_mean = clock_sum / FLEET_GPUS;
    float slow = TEL_BOOST_MHZ / clock_mean; /* latency grows as clocks fall */

    /* ---- node ---- */
    const size_t o = i - i0; /* in the stage */
    float mean_p = power_sum / FLEET_GPUS;
    float var_p = fmaxf(0.0f, power_sq / FLEET_GPUS - mean_p * mean_p);
    float cv = mean_p > 0 ? sqrtf(var_p) / mean_p : 0.0f;
    float host_w = 850.0f + (inference ? 250.0f * nc.load : 300.0f);
    st->node[NM_INLET_TEMP][o].f = nc.inlet_c;
    st->node[NM_PDU_IMBALANCE][o].f = 3.0f + 30.0f * cv + 0.4f * z_inlet;
    st->node[NM_POWER][o].f = power_sum + host_w;
    float z_rdma = m->node_noise[NN_RDMA][i];
    float rdma;
    if (nc.tenant == TENANT_MOE)
      rdma = 2.6e10f * nc.load * nc.moe_thr;
    else if (nc.tenant == TENANT_DENSE)
      rdma = 1.5e9f * nc.load;
    else
      rdma = in_job ? 3.4e10f * (1.0f - nc.stall_s / dt) : 2.0e7f;
    /* Microbursts: MoE all-to-all surges overflow the leaf's buffers. The
     * senders (MoE) stall on PFC pauses (xmit wait) and push more bytes;
     * every port behind the leaf drops packets (receive errors, retransmits). */
    int moe_node = nc.tenant == TENANT_MOE;
    float surge = moe_node ? 1.0f + 0.35f * cong : 1.0f - 0.12f * cong;
    st->node[NM_RDMA_BYTES][o].f = rdma * (1.0f + 0.04f * z_rdma) * surge;
    st->node[NM_RDMA_RETX][o].u = m->node_cnt[NM_RDMA_RETX][i] +=
        tel_poisson_base(m, PR_RETX, 0.4 + 900.0 * cong, m->node_bits[0][i]);
    st->node[NM_IB_RCV_ERR][o].u = m->node_cnt[NM_IB_RCV_ERR][i] +=
        tel_poisson_base(m, PR_RCV_ERR, 0.01 + 160.0 * cong, m->node_bits[1][i]);
    st->node[NM_IB_XMIT_WAIT][o].u = m->node_cnt[NM_IB_XMIT_WAIT][i] +=
        tel_poisson_base(m, PR_XMIT, 4.0 + (moe_node ? 4000.0 : 600.0) * cong, m->node_bits[2][i]);
    float z_nccl = m->node_noise[NN_NCCL][i];
    float jitter = cong * (300.0f + 500.0f * (float)rng_uniform(m->node_bits[3][i]));
    float nccl_us = (in_job ? 950.0f : (nc.tenant == TENANT_MOE ? 70.0f : 45.0f)) *
                        (1.0f + 0.04f * z_nccl) + jitter;
    st->node[NM_NCCL_LAT][o].f = (nc.tenant == TENANT_TRAINING && !in_job) ? NAN : nccl_us;

    const float nan = NAN;
    if (inference) {
      int moe = nc.tenant == TENANT_MOE;
      float z_ttft = m->node_noise[NN_TTFT][i];
      float z_itl = m->node_noise[NN_ITL][i];
      float z_kv = m->node_noise[NN_KV][i];
      float z_prompt = m->node_noise[NN_PROMPT][i];
      float hit = tel_clampf(kv_hit + 0.006f * z_kv, 0.0f, 1.0f);
      float miss_growth = (1.0f - hit / 0.94f) / (1.0f - 0.45f / 0.94f); /* 1 at hit 0.45 */
      float ttft0 = moe ? 220.0f + 160.0f * nc.load : 180.0f + 140.0f * nc.load;
      float itl0 = moe ? 28.0f + 16.0f * nc.load : 22.0f + 14.0f * nc.load;
      float skew_wait = 1.0f / nc.moe_thr;
      float tail_ms = 3.0f * fminf(1.0f, cong / 0.6f); /* RDMA retransmits behind a congested leaf */
      float ttft = ttft0 * slow * skew_wait * (1.0f + miss_growth) * (1.0f + 0.03f * z_ttft) + tail_ms;
      float itl = itl0 * slow * skew_wait * (1.0f + 0.02f * z_itl) + tail_ms;
      float tokens = (moe ? 8.0f * 520.0f : 8.0f * 450.0f) * nc.load * nc.moe_thr / slow *
                     (0.85f + 0.15f * hit / 0.94f);
      st->node[NM_REQ_RATE][o].f = (moe ? 11.0f : 9.0f) * nc.load * (1.0f + 0.03f * z_load);
      st->node[NM_PROMPT_TOKENS][o].f = 1800.0f * ctx * (1.0f + 0.04f * z_prompt);
      st->node[NM_TTFT][o].f = ttft;
      st->node[NM_ITL][o].f = itl;
      st->node[NM_KV_HIT][o].f = hit;
      st->node[NM_TOKENS][o].f = tokens;
      if (moe) {
        float z_ent = m->node_noise[NN_ENTROPY][i];
        float c = tel_clampf(d->routing_collapse, 0.0f, 1.0f);
        float ent = 2.0f + (d->entropy_to_nats - 2.0f) * c + 0.012f * z_ent;
        st->node[NM_ENTROPY][o].f = tel_clampf(ent, 0.0f, 2.0794f);
      } else {
        st->node[NM_ENTROPY][o].f = nan;
      }
    } else {
      st->node[NM_REQ_RATE][o].f = nan;
      st->node[NM_PROMPT_TOKENS][o].f = nan;
      st->node[NM_TTFT][o].f = nan;
      st->node[NM_ITL][o].f = nan;
      st->node[NM_KV_HIT][o].f = nan;
      st->node[NM_TOKENS][o].f = nan;
      st->node[NM_ENTROPY][o].f = nan;
    }
    /* training: own step time now, the job's (slowest node's) after the
     * all-reduce in tel_finish_training */
    if (in_job) {
      const cfg_job *job = &m->cfg->jobs[nc.job];
      float z_step = m->node_noise[NN_STEP][i];
      float z_grad = m->node_noise[NN_GRAD][i];
      float base_ms = (float)(job->step_time_s * 1000.0);
      float compute = base_ms * 0.92f * powf(TEL_BOOST_MHZ / clock_min, 0.85f);
      float excess = replay_max > 3.0f ? replay_max - 2.0f : 0.0f;
      float comm = base_ms * 0.08f + TEL_NVLINK_REPLAY_MS * excess +
                   cong * (40.0f + 160.0f * (float)rng_uniform(m->node_bits[3][i] >> 1));
      float own = (compute + comm) * (1.0f + 0.002f * z_step);
      /* a checkpoint stalls the interval: fewer steps, so a longer mean step */
      float busy = dt - nc.stall_s;
      float step_s = own / 1000.0f;
      if (nc.stall_s > 0)
        own *= dt / fmaxf(busy, step_s);
      st->step_own_ms[o] = own;
      double hours = (double)t * dt / 3600.0;
      st->node[NM_CKPT_WRITE][o].f = m->job_ckpt_last_s[nc.job];
      st->node[NM_GRAD_NORM][o].f = (float)(0.35 + 0.9 * exp(-hours / 36.0)) * (1.0f + 0.03f * z_grad);
      st->node[NM_RESERVED_MEM][o].f = (float)(FLEET_GPUS * 0.88 * TEL_HBM_BYTES);
      st->node[NM_STEP_TIME][o].f = nan; /* set in tel_finish_training */
      st->node[NM_ALLREDUCE_WAIT][o].f = nan;
    } else {
      st->step_own_ms[o] = 0.0f;
      st->node[NM_CKPT_WRITE][o].f = nan;
      st->node[NM_GRAD_NORM][o].f = nan;
      st->node[NM_RESERVED_MEM][o].f = nan;
      st->node[NM_STEP_TIME][o].f = nan;
      st->node[NM_ALLREDUCE_WAIT][o].f = nan;
    }
  }
  if (on_chunk)
    on_chunk(ctx, row, i0, i1 - i0, st->gpu);
  tel_stage_flush(st, w, row, i0, i1 - i0);
  }
}

/* ---- after the scrape: jobs, racks, cluster ---------------------------- */

void tel_job_local_max(const tel_model *m, const tel_window *w, int rows, double *job_max_ms) {
  const int nj = m->f->njobs;
  memset(job_max_ms, 0, sizeof *job_max_ms * (size_t)rows * (size_t)nj);
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < m->nnodes; i++) {
      int j = m->f->node_job[m->node0 + i];
      if (j < 0)
        continue;
      double v = w->step_own_ms[(size_t)r * m->nnodes + i];
      if (v > job_max_ms[(size_t)r * nj + j])
        job_max_ms[(size_t)r * nj + j] = v;
    }
}

void tel_finish_training(tel_model *m, tel_window *w, int rows, const double *job_max_ms) {
  const int nj = m->f->njobs;
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < m->nnodes; i++) {
      int j = m->f->node_job[m->node0 + i];
      if (j < 0)
        continue;
      size_t o = (size_t)r * m->nnodes + i;
      float job_ms = (float)job_max_ms[(size_t)r * nj + j];
      float own = w->step_own_ms[o];
      float base_ms = (float)(m->cfg->jobs[j].step_time_s * 1000.0);
      w->node[NM_STEP_TIME][o].f = job_ms;
      w->node[NM_ALLREDUCE_WAIT][o].f = 0.08f * base_ms + (job_ms - own);
    }
}

void tel_rack_aggregates(tel_model *m, const tel_window *w, int64_t t0, int rows,
                         double *out) {
  const fleet *f = m->f;
  memset(out, 0, sizeof *out * (size_t)m->nracks * (size_t)rows * TEL_AGG_COUNT);
  for (int r = 0; r < rows; r++) {
    /* checkpoint stalls of this row, once per job (not once per node) */
    for (int j = 0; j < f->njobs; j++) {
      float last_s;
      tel_checkpoint(m, j, t0 + r, &m->job_stall_s[j], &last_s);
    }
    for (int i = 0; i < m->nnodes; i++) {
      int n = m->node0 + i;
      int lr = f->node_rack[n] - m->rack0;
      double *a = &out[((size_t)lr * rows + r) * TEL_AGG_COUNT];
      size_t o = (size_t)r * m->nnodes + i;
      a[TEL_AGG_POWER_W] += w->node[NM_POWER][o].f;
      int tenant = f->node_tenant[n];
      if (tenant == TENANT_TRAINING) {
        int j = f->node_job[n];
        if (j < 0) {
          for (int g = 0; g < FLEET_GPUS; g++) {
            size_t go = o * FLEET_GPUS + (size_t)g;
            if (!(w->gpu[GM_CLOCK_EVENTS][go].u & CLOCK_EVENT_HW_THERMAL) &&
                w->gpu[GM_ECC_DBE][go].u == 0)
              a[TEL_AGG_SPARE_GPUS] += 1;
          }
        } else {
          /* checkpoint stalls are planned, not SLO breaches */
          if (m->job_stall_s[j] == 0 &&
              w->node[NM_STEP_TIME][o].f > 1.15f * 1000.0f * m->cfg->jobs[j].step_time_s)
            a[TEL_AGG_VIOL_TRAIN] += 1;
        }
      } else {
        int moe = tenant == TENANT_MOE;
        float ttft = w->node[NM_TTFT][o].f, itl = w->node[NM_ITL][o].f;
        if (ttft > (moe ? 600.0f : 520.0f) || itl > (moe ? 55.0f : 45.0f))
          a[moe ? TEL_AGG_VIOL_MOE : TEL_AGG_VIOL_DENSE] += 1;
        a[moe ? TEL_AGG_TOK_MOE : TEL_AGG_TOK_DENSE] += w->node[NM_TOKENS][o].f;
      }
    }
  }
}

int tel_cluster_init(tel_cluster **out, const fleet *f) {
  *out = calloc(1, sizeof **out);
  if (!*out)
    return FS_ENOMEM;
  (*out)->f = f;
  (*out)->outdoor_key = rng_key(f->cfg->seed, RNG_STREAM_TELEMETRY + 40, 0);
  for (int k = 0; k < TENANT_COUNT; k++)
    (*out)->sla[k] = TEL_SLA_START;
  return 0;
}

void tel_cluster_destroy(tel_cluster **c) {
  if (!c || !*c)
    return;
  free(*c);
  *c = NULL;
}

void tel_cluster_window(tel_cluster *c, int64_t t0, int rows, const double *agg,
                        float *const cluster[CM_COUNT]) {
  const fleet *f = c->f;
  const double dt = f->cfg->scrape_interval_s;
  int tenant_nodes[TENANT_COUNT] = {f->cfg->moe_nodes, f->cfg->dense_nodes, 0};
  for (int j = 0; j < f->njobs; j++)
    tenant_nodes[TENANT_TRAINING] += f->cfg->jobs[j].nodes;
  for (int r = 0; r < rows; r++) {
    int64_t t = t0 + r;
    double sum[TEL_AGG_COUNT] = {0};
    for (int rack = 0; rack < f->racks; rack++)
      for (int k = 0; k < TEL_AGG_COUNT; k++)
        sum[k] += agg[((size_t)rack * rows + r) * TEL_AGG_COUNT + k];
    double hour = tel_hour_of_day(f->cfg, t);
    float z = tel_ar1(&c->outdoor_noise, c->outdoor_key, t, 0.995f);
    float outdoor = tel_outdoor_base(hour) + 0.8f * z;
    float pue = 1.12f + 0.008f * fmaxf(0.0f, outdoor - 5.0f);
    const int viol_k[TENANT_COUNT] = {TEL_AGG_VIOL_MOE, TEL_AGG_VIOL_DENSE, TEL_AGG_VIOL_TRAIN};
    for (int k = 0; k < TENANT_COUNT; k++) {
      double frac = tenant_nodes[k] > 0 ? sum[viol_k[k]] / tenant_nodes[k] : 0.0;
      /* steady burn of 0.6x budget pace, plus breaches at 25x pace */
      c->sla[k] -= dt / TEL_SLA_WINDOW_S * (0.6 + 25.0 * frac);
      if (c->sla[k] < 0)
        c->sla[k] = 0;
    }
    cluster[CM_OUTDOOR_TEMP][r] = outdoor;
    cluster[CM_PUE][r] = pue;
    cluster[CM_IT_POWER][r] = (float)sum[TEL_AGG_POWER_W];
    cluster[CM_FACILITY_POWER][r] = (float)(sum[TEL_AGG_POWER_W] * pue);
    cluster[CM_SPARE_GPUS][r] = (float)sum[TEL_AGG_SPARE_GPUS];
    cluster[CM_SLA_MOE][r] = (float)c->sla[TENANT_MOE];
    cluster[CM_SLA_DENSE][r] = (float)c->sla[TENANT_DENSE];
    cluster[CM_SLA_TRAIN][r] = (float)c->sla[TENANT_TRAINING];
    cluster[CM_TOKENS_MOE][r] = (float)sum[TEL_AGG_TOK_MOE];
    cluster[CM_TOKENS_DENSE][r] = (float)sum[TEL_AGG_TOK_DENSE];
  }
}

/* ---- checkpoint (resume) ------------------------------------------------
 * What evolves between scrapes, per node: lagged junction temperatures,
 * slowest clock, last XID, AR(1) noise states, counter accumulators. Keys,
 * offsets and power scales are derived from the seed at tel_init; the
 * per-job checkpoint stall is recomputed at the start of every scrape. */

/* Visits every evolving field of local node i in a fixed order: copies it
 * to (save) or from the record at rec, or only counts when rec is NULL.
 * Returns the record's size in bytes. */
static size_t tel_node_walk(tel_model *m, int i, unsigned char *rec, int save) {
  const size_t gi = (size_t)i * FLEET_GPUS, fg = sizeof(float) * FLEET_GPUS;
  size_t bytes = 0;
#define TEL_ITEM(p, n) state_record_item(rec, &bytes, (p), (n), save)
  TEL_ITEM(&m->temp_c[gi], fg);
  TEL_ITEM(&m->min_clock_mhz[i], sizeof(float));
  TEL_ITEM(&m->xid[gi], sizeof(uint32_t) * FLEET_GPUS);
  for (int c = 0; c < GN_COUNT; c++)
    TEL_ITEM(&m->gpu_noise[c][gi], fg);
  for (int c = 0; c < NN_COUNT; c++)
    TEL_ITEM(&m->node_noise[c][i], sizeof(float));
  for (int k = 0; k < GM_COUNT; k++) {
    if (m->gpu_acc[k])
      TEL_ITEM(&m->gpu_acc[k][gi], sizeof(double) * FLEET_GPUS);
    if (m->gpu_cnt[k])
      TEL_ITEM(&m->gpu_cnt[k][gi], sizeof(uint32_t) * FLEET_GPUS);
  }
  for (int k = 0; k < NM_COUNT; k++)
    if (m->node_cnt[k])
      TEL_ITEM(&m->node_cnt[k][i], sizeof(uint32_t));
#undef TEL_ITEM
  return bytes;
}

size_t tel_node_state_bytes(const tel_model *m) {
  return tel_node_walk((tel_model *)m, 0, NULL, 1); /* counts only: nothing is written */
}

void tel_save_node(const tel_model *m, int i, void *rec) {
  tel_node_walk((tel_model *)m, i, rec, 1); /* save: reads m, writes rec */
}

void tel_load_node(tel_model *m, int i, const void *rec) {
  tel_node_walk(m, i, (unsigned char *)rec, 0); /* load: reads rec only */
}

void tel_cluster_save(const tel_cluster *c, ckpt_file *f) {
  ckpt_tag(f, "TCLU");
  ckpt_put(f, &c->outdoor_noise, sizeof c->outdoor_noise);
  ckpt_put(f, c->sla, sizeof c->sla);
}

int tel_cluster_load(tel_cluster *c, ckpt_file *f) {
  if (ckpt_expect(f, "TCLU") || ckpt_get(f, &c->outdoor_noise, sizeof c->outdoor_noise) ||
      ckpt_get(f, c->sla, sizeof c->sla))
    return FS_EIO;
  return 0;
}
