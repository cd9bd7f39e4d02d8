/* The telemetry model's state and constants, shared by the files that make
 * up the model (telemetry.c: state, windows, records; node_physics.c: one
 * node's and its GPUs' advance; telemetry_stage.c: the scrape in
 * cache-sized chunks; telemetry_aggregate.c: jobs, racks, cluster;
 * background.c: background operations). Private to them: everything
 * else goes through telemetry.h. No MPI, no I/O. */
#ifndef FLEETSIM_TELEMETRY_MODEL_H
#define FLEETSIM_TELEMETRY_MODEL_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "src/core/rng.h"
#include "src/model/background.h"
#include "src/model/telemetry.h"

/* ---- model constants (H100 SXM5 80 GB, the seed's figures) ------------- */
#define TEL_PI 3.14159265358979323846
static const double TEL_HBM_BYTES = 85899345920.0; /* 80 GiB */
static const float TEL_IDLE_W = 70.0f;             /* GPU idle power */
static const float TEL_DYN_W = 600.0f;             /* power at 100% util, above idle */
/* workload profiles: dynamic power per busy percent against TEL_DYN_W
 * (training's dense GEMMs run closest to the power cap; decode-heavy dense
 * inference is memory-bound; MoE's expert GEMMs and all-to-all between) */
static const float TEL_DYN_TRAIN = 1.0f, TEL_DYN_MOE = 0.85f, TEL_DYN_DENSE = 0.72f;
static const float TEL_POWER_CAP_W = TEL_BOARD_TDP_W;
static const float TEL_BOOST_MHZ = 1980.0f;
static const float TEL_MEM_MHZ = 2619.0f;
static const float TEL_BOOST_KNEE_C = 74.0f; /* boost clocks start to fall */
static const float TEL_THROTTLE_C = 83.0f;   /* software thermal slowdown */
static const float TEL_HW_THROTTLE_C = 88.0f;
static const float TEL_CRAH_SUPPLY_C = 21.0f;
static const float TEL_THERMAL_TAU_S = 45.0f; /* junction temperature lag */
static const float TEL_NVLINK_REPLAY_MS = 7.0f; /* step slowdown per excess replay */
/* The BMC drives a GPU zone's fans from the GPU temperature it reads: a
 * reading that is low by e under-cools the GPU by TEL_FAN_ZONE_GAIN * e, at
 * most TEL_FAN_ZONE_MAX_C (the fans at their floor speed). */
static const float TEL_FAN_ZONE_GAIN = 0.4f;
static const float TEL_FAN_ZONE_MAX_C = 16.0f;
static const float TEL_CAP_FLOOR_MHZ = 900.0f; /* lowest clock a power limit drives to */
static const float TEL_PCIE_BPS = 6.4e10f; /* PCIe Gen5 x16, one direction (~64 GB/s) */
static const float TEL_PCIE_NEED = 0.8f;   /* share of it the job's GPUDirect traffic uses */

/* Noise channels: per GPU and per node, each an AR(1) process. */
enum { GN_UTIL, GN_POWER, GN_TEMP, GN_COUNT };
enum {
  NN_INLET, NN_LOAD, NN_TTFT, NN_ITL, NN_KV, NN_ENTROPY, NN_RDMA, NN_STEP, NN_NCCL,
  NN_PROMPT, NN_GRAD, NN_COUNT
};
static const float tel_gpu_phi[GN_COUNT] = {0.90f, 0.85f, 0.95f};
static const float tel_node_phi[NN_COUNT] = {0.98f, 0.97f, 0.80f, 0.80f, 0.70f, 0.90f,
                                             0.85f, 0.70f, 0.75f, 0.95f, 0.90f};
/* Event streams (Poisson counts, checkpoints) use counter = t * 16 + slot. */
enum { EV_SBE, EV_REPLAY, EV_RECOVERY, EV_PCIE, EV_REMAP, EV_RETX, EV_RCV_ERR, EV_XMIT,
       EV_JITTER, EV_COUNT };
_Static_assert(EV_COUNT <= 16, "event slots of one scrape: counter t * 16 + slot");
/* Fault-free Poisson rates per interval; exp(-rate) is taken once in tel_init. */
enum { PR_SBE, PR_PCIE, PR_RETX, PR_RCV_ERR, PR_XMIT, PR_COUNT };
static const double tel_base_rate[PR_COUNT] = {2e-4, 0.002, 0.4, 0.01, 4.0};
enum { TEL_POISSON_KMAX = 200 }; /* inverse-CDF Poisson counts stop here */

/* Reporter indices: bit 1 << index of a reporter mask (RM_MOE .. RM_POOL). */
enum { TEL_REPORTERS = 4 };
_Static_assert(RM_ALL == (1u << TEL_REPORTERS) - 1, "one index per reporter bit");

/* GPU counter metrics whose accumulator is a double (time and energy);
 * every other counter of the catalogue counts whole events in uint32.
 * Defined in node_physics.c, next to the physics that adds to them. */
extern const int tel_gpu_real_ctr[];
extern const int tel_gpu_real_ctr_count;

/* The counter halves of every draw of one scrape (rng_counter), shared by
 * all entities: each draw in the loop is then a single mix. */
typedef struct {
  uint64_t noise;          /* AR(1) channels: counter t */
  uint64_t ev[EV_COUNT];   /* event streams: counter t * 16 + slot */
} tel_scrape_rng;

/* Per-node quantities computed once and shared by its GPUs. */
typedef struct {
  int tenant, job;
  float nscale;      /* the node's own noise level (bg_noise_scale) */
  int status;        /* BG_NODE_* of this scrape */
  float load;        /* inference traffic 0..1 */
  float util_base;   /* SM util of a GPU at uniform load, % */
  float share[FLEET_GPUS]; /* MoE expert load shares (sum 1) */
  float moe_thr;     /* MoE throughput fraction under skew */
  float inlet_c;
  float stall_s;     /* training checkpoint stall in this scrape */
  float down_s;      /* job hung or restarting in this scrape (tel_job_drivers) */
} tel_node_ctx;

/* What the node part needs from its GPUs. */
typedef struct {
  float power_sum, power_sq, clock_sum, clock_min, replay_max;
  int hung; /* a GPU of the node is stuck in a kernel (tel_drivers.hung_gpu_mask) */
} tel_gpu_sums;

/* What every node of one scrape shares. */
typedef struct {
  int64_t t;               /* global scrape index */
  float load;              /* inference traffic before node jitter, 0..1 */
  float outdoor_c;         /* outdoor air, noise-free part */
  tel_scrape_rng sr;
} tel_scrape_ctx;

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
  uint8_t *reporter;            /* [nn] reporter index (bit 1 << index of metric_reporter) */
  float *noise_scale;           /* [nn] the node's own noise level (bg_noise_scale) */
  bg_plan bg;                   /* background operations' rates */
  uint64_t *bg_gpu_key;         /* [nn*8] background stream of each GPU */
  uint64_t *bg_bits;            /* [nn*8] per scrape: the GPU's background draw */
  uint32_t *gpu_down;           /* [nn*8] scrapes the GPU stays without samples */
  /* state */
  float *temp_c;                /* [nn*8] lagged junction temperature */
  float *min_clock_mhz;         /* [nn] slowest GPU clock of the last scrape */
  double *gpu_acc[GM_COUNT];    /* [nn*8] time/energy counters (tel_gpu_real_ctr) */
  uint32_t *gpu_cnt[GM_COUNT];  /* [nn*8] event counters (the other GPU counters) */
  uint32_t *node_cnt[NM_COUNT]; /* [nn] event counters (every node counter) */
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
  tel_job_drivers *jobd;        /* [njobs] job drivers of the next scrape (tel_job_drivers_of) */
  tel_window stage;             /* one row of TEL_STAGE_NODES nodes (tel_scrape) */
  /* constants, set once */
  double base_cdf[PR_COUNT][TEL_POISSON_KMAX + 1]; /* Poisson CDF of tel_base_rate[k] */
  uint64_t base_zero[PR_COUNT]; /* a draw's bits >> 11 above this: a count above 0 */
  float gpu_innov[GN_COUNT];    /* sqrtf(1 - phi^2) of each GPU noise channel */
  float node_innov[NN_COUNT];   /* the same per node channel */
  uint8_t unreported[TEL_REPORTERS][NM_COUNT]; /* per reporter index: the node metrics */
  uint8_t nunreported[TEL_REPORTERS];          /* it does not report (NaN), from metrics.h */
};

/* tel_scrape writes the nodes in chunks of this many into a one-row stage
 * that stays in L2 (about 360 KB), then copies each metric's chunk into the
 * window: ~60 long sequential copies instead of ~60 interleaved store
 * streams (measured: 256 beat 64, 128 and a whole row). */
enum { TEL_STAGE_NODES = 256 };

/* ---- small helpers ----------------------------------------------------- */

static inline float tel_clampf(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* Advances an AR(1) state one scrape with a unit-variance stationary law at
 * scrape t (outside the per-node loops, which advance whole channels). */
static inline float tel_ar1(float *state, uint64_t key, int64_t t, float phi) {
  float eps = rng_normal(rng_bits_at(key, rng_counter((uint64_t)t)));
  *state = phi * *state + sqrtf(1.0f - phi * phi) * eps;
  return *state;
}

/* Inference traffic: diurnal sine, peak 14:00 (0.9), trough 02:00 (0.2). */
static inline float tel_inference_load(double hour) {
  return (float)(0.55 + 0.35 * cos(2.0 * TEL_PI * (hour - 14.0) / 24.0));
}

/* Outdoor air: peak 15:00, 16 +- 6 C (noise-free part; nodes see this). */
static inline float tel_outdoor_base(double hour) {
  return (float)(16.0 + 6.0 * cos(2.0 * TEL_PI * (hour - 15.0) / 24.0));
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
static inline uint32_t tel_poisson(double lambda, uint64_t bits) {
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

/* ---- shared between the model's files ----------------------------------- */

/* Allocates w for `capacity` rows of nnodes nodes from node0 on (one block,
 * the arrays staggered so the same cell of different metrics does not map
 * to one L1 set). 0 or FS_ENOMEM. (telemetry.c) */
int tel_window_alloc(tel_window *w, int node0, int nnodes, int capacity);

/* Seconds of checkpoint stall of job j inside scrape t, and the duration of
 * the job's most recent checkpoint (started at or before the scrape), its
 * write time scaled by `scale` (the storage's slowdown, 1 nominal).
 * (telemetry.c) */
void tel_job_checkpoint(const tel_model *m, int j, int64_t t, double scale, float *stall_s,
                        float *last_s);

/* Phase one of a scrape, over every GPU and node of the rank: the AR(1)
 * noise states advance one step and the event draws land in gpu_bits and
 * node_bits. (node_physics.c) */
void tel_scrape_draws(tel_model *m, const tel_scrape_rng *sr);

/* Advances local node i (drivers d) one scrape after tel_scrape_draws:
 * its 8 GPUs and the node, their state in m, the scrape's values into slot
 * o of the one-row stage st (GPU cells from o * FLEET_GPUS on). Writes
 * every GPU metric and every node metric the node reports, except
 * step_time_ms and allreduce_wait_ms (tel_finish_training), and the node's
 * own step time into st->step_own_ms[o]; a GPU without samples (XID 79, a
 * reset) has NaN gauges. Returns the node's BG_NODE_* status: the caller
 * blanks the node's gauges when it is not BG_NODE_OK. (node_physics.c) */
int tel_node_advance(tel_model *m, const tel_scrape_ctx *sc, size_t i, const tel_drivers *d,
                      tel_window *st, size_t o);

#endif
