/* The telemetry model's state (see telemetry.h, telemetry_model.h): its
 * creation from the fleet and the seed (static offsets, noise keys, which
 * node metrics each node reports, which counters it accumulates), the
 * window buffers, the drivers' neutral values, the job checkpoint schedule
 * (and the last checkpoint before a time, for a restart's rollback) and the
 * per-node state records of restart checkpoints. The per-scrape
 * work is in node_physics.c and telemetry_stage.c, what follows a window's
 * scrapes in telemetry_aggregate.c. */
#include "src/model/telemetry_model.h"

#include <stdlib.h>
#include <string.h>

#include "src/core/errors.h"
#include "src/core/state_record.h"

double tel_hour_of_day(const fs_config *cfg, int64_t t) {
  double h = cfg->start_hour + (double)t * cfg->scrape_interval_s / 3600.0;
  return fmod(h, 24.0);
}

/* Jobs checkpoint every checkpoint_every_min, 7 min apart (the offset of
 * job j in the period); each write takes 15-45 s by job size (+-5 % per
 * checkpoint, drawn from the job's key), times the storage's slowdown. */
static double tel_ckpt_offset(const fs_config *cfg, int j) {
  return fmod(j * 420.0, cfg->checkpoint_every_min * 60.0); /* jobs checkpoint 7 min apart */
}

double tel_job_checkpoint_write_s(const fs_config *cfg, int j) {
  return 15.0 + 30.0 * fmin(1.0, cfg->jobs[j].nodes / 128.0);
}

/* Write time of job j's checkpoint number kk at nominal storage speed (key:
 * the job's telemetry key). */
static double tel_ckpt_write(const fs_config *cfg, uint64_t key, int j, double kk) {
  uint64_t bits = rng_bits(key, (uint64_t)(int64_t)(kk + 1e6));
  /* write time grows with job size: 15-45 s, +-5% per checkpoint */
  return tel_job_checkpoint_write_s(cfg, j) * (1.0 + 0.05 * rng_normal(bits));
}

void tel_job_checkpoint(const tel_model *m, int j, int64_t t, double scale, float *stall_s,
                        float *last_s) {
  double period = m->cfg->checkpoint_every_min * 60.0;
  double offset = tel_ckpt_offset(m->cfg, j);
  double t0 = (double)t * m->dt, t1 = t0 + m->dt;
  double k = floor((t0 - offset) / period);
  double stall = 0;
  float last = 0;
  for (int d = 0; d <= 1; d++) {
    double kk = k + d, start = offset + kk * period;
    double write = tel_ckpt_write(m->cfg, m->job_key[j], j, kk) * scale;
    double lo = fmax(t0, start), hi = fmin(t1, start + write);
    if (hi > lo)
      stall += hi - lo;
    if (start <= t1)
      last = (float)write;
  }
  *stall_s = (float)fmin(stall, m->dt);
  *last_s = last;
}

double tel_job_last_checkpoint_s(const fs_config *cfg, int j, double time_s) {
  const double period = cfg->checkpoint_every_min * 60.0, offset = tel_ckpt_offset(cfg, j);
  const uint64_t key = rng_key(cfg->seed, RNG_STREAM_TELEMETRY + 30, (uint64_t)j); /* job_key */
  /* the latest start at or before time_s, then earlier ones until a write
   * has completed (a write is shorter than the period: at most one step) */
  for (double k = floor((time_s - offset) / period); k >= 0; k--) {
    const double start = offset + k * period;
    if (start + tel_ckpt_write(cfg, key, j, k) <= time_s)
      return start;
  }
  return 0.0;
}

/* ---- lifecycle --------------------------------------------------------- */

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
  TEL_ALLOC(m->jobd, nj);
  for (int c = 0; c < GN_COUNT; c++) {
    TEL_ALLOC(m->gpu_noise[c], ng);
    TEL_ALLOC(m->gpu_key[c], ng);
  }
  for (int c = 0; c < NN_COUNT; c++) {
    TEL_ALLOC(m->node_noise[c], nn);
    TEL_ALLOC(m->node_key[c], nn);
  }
  TEL_ALLOC(m->reporter, nn);
  TEL_ALLOC(m->noise_scale, nn);
  TEL_ALLOC(m->bg_gpu_key, ng);
  TEL_ALLOC(m->bg_bits, ng);
  TEL_ALLOC(m->gpu_down, ng);
  /* an accumulator for every counter of the catalogue: a double for the
   * time and energy counters of tel_gpu_real_ctr, else uint32 */
  for (int c = 0; c < tel_gpu_real_ctr_count; c++)
    TEL_ALLOC(m->gpu_acc[tel_gpu_real_ctr[c]], ng);
  for (int k = 0; k < GM_COUNT; k++)
    if (metric_is_counter(&metric_gpu[k]) && !m->gpu_acc[k])
      TEL_ALLOC(m->gpu_cnt[k], ng);
  for (int k = 0; k < NM_COUNT; k++)
    if (metric_is_counter(&metric_node[k]))
      TEL_ALLOC(m->node_cnt[k], nn);
  /* the double accumulators must be counters' (a gauge has none), and a
   * node metric some nodes do not report is a float (its NaN) */
  int valid = 1;
  for (int c = 0; c < tel_gpu_real_ctr_count; c++)
    valid &= metric_is_counter(&metric_gpu[tel_gpu_real_ctr[c]]);
  for (int k = 0; k < NM_COUNT; k++)
    valid &= metric_node[k].reporters == RM_ALL || metric_node[k].type == MT_F32;
  if (ok && !valid) {
    tel_destroy(&m);
    return FS_EINVAL;
  }
  for (int r = 0; r < TEL_REPORTERS; r++) /* the NaN cells of each reporter */
    for (int k = 0; k < NM_COUNT; k++)
      if (!metric_reported(&metric_node[k], 1u << r))
        m->unreported[r][m->nunreported[r]++] = (uint8_t)k;
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
  /* NaN in every stage cell until the physics writes it: a metric it never
   * writes for a node stays NaN, where unit_telemetry finds it */
  for (int k = 0; k < GM_COUNT; k++)
    for (size_t c = 0; c < (size_t)TEL_STAGE_NODES * FLEET_GPUS; c++)
      m->stage.gpu[k][c].f = NAN;
  for (int k = 0; k < NM_COUNT; k++)
    for (size_t c = 0; c < TEL_STAGE_NODES; c++)
      m->stage.node[k][c].f = NAN;
  uint64_t seed = f->cfg->seed;
  bg_plan_init(&m->bg, f->cfg);
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
    m->noise_scale[i] = bg_noise_scale(f->cfg, n);
    m->reporter[i] = (uint8_t)__builtin_ctz(metric_reporter(f->node_tenant[n], f->node_job[n]));
    for (int g = 0; g < FLEET_GPUS; g++) {
      size_t gi = i * FLEET_GPUS + (size_t)g;
      uint64_t gid = (uint64_t)n * FLEET_GPUS + (uint64_t)g;
      uint64_t gb = rng_bits(static_key, gid + ((uint64_t)1 << 40));
      /* GPUs further down the airflow run warmer */
      m->gpu_temp_offset_c[gi] = 0.5f * (float)(g % 4) + 1.0f * (float)rng_uniform(gb);
      m->gpu_power_scale[gi] = 1.0f + 0.02f * rng_normal(rng_bits(static_key, gid + ((uint64_t)2 << 40)));
      m->gpu_event_key[gi] = rng_key(seed, RNG_STREAM_TELEMETRY + 20, gid);
      m->bg_gpu_key[gi] = rng_key(seed, BG_STREAM_GPU, gid);
      for (int c = 0; c < GN_COUNT; c++) {
        m->gpu_key[c][gi] = rng_key(seed, RNG_STREAM_TELEMETRY + 21 + c, gid);
        m->gpu_noise[c][gi] = rng_normal(rng_bits(m->gpu_key[c][gi], UINT64_MAX));
      }
      m->temp_c[gi] = NAN; /* set from the first scrape's target */
    }
  }
  for (int j = 0; j < f->njobs; j++)
    m->job_key[j] = rng_key(seed, RNG_STREAM_TELEMETRY + 30, (uint64_t)j);
  tel_job_drivers_reset(m->jobd, f->njobs);
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
  free(m->reporter);
  free(m->noise_scale);
  free(m->bg_gpu_key);
  free(m->bg_bits);
  free(m->gpu_down);
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
  free(m->jobd);
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
int tel_window_alloc(tel_window *w, int node0, int nnodes, int capacity) {
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
  if (rc)
    return rc;
  memset(w->gpu_kept, 1, sizeof w->gpu_kept);
  w->job_stall_s = calloc((size_t)capacity * (size_t)(m->f->njobs + 1), sizeof *w->job_stall_s);
  if (!w->job_stall_s) {
    tel_window_destroy(w);
    return FS_ENOMEM;
  }
  return 0;
}

void tel_window_keep(tel_window *w, const unsigned char keep[GM_COUNT]) {
  for (int k = 0; k < GM_COUNT; k++)
    w->gpu_kept[k] = keep[k] || k == GM_CLOCK_EVENTS || k == GM_ECC_DBE;
}

void tel_window_destroy(tel_window *w) {
  free(w->block);
  free(w->job_stall_s);
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

void tel_job_drivers_reset(tel_job_drivers *jd, int n) {
  for (int j = 0; j < n; j++)
    jd[j] = (tel_job_drivers){
        .hang_s = 0.0f, .restart_s = 0.0f, .ckpt_scale = 1.0f, .extra_stall_s = 0.0f};
}

tel_job_drivers *tel_job_drivers_of(tel_model *m) {
  return m->jobd;
}

/* ---- checkpoint (resume) ------------------------------------------------
 * What evolves between scrapes, per node: lagged junction temperatures,
 * slowest clock, last XID, scrapes a GPU stays without samples, AR(1)
 * noise states, counter accumulators. Keys,
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
  TEL_ITEM(&m->gpu_down[gi], sizeof(uint32_t) * FLEET_GPUS);
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
