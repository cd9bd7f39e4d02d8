/* One node's advance at one scrape, its GPUs included (see
 * telemetry_model.h): the rank-wide noise and event draws of the scrape;
 * per node its workload (inference load, training checkpoint stalls, MoE
 * routing skew), inlet air and KV cache; its 8 GPUs (power, junction
 * temperature with thermal lag, clocks that sag at the thermal and power
 * limits with their throttle reasons, utilisation per tenant profile,
 * memory, PCIe and NVLink traffic, the event counters: ECC, NVLink replays
 * and recoveries, PCIe replays, remapped rows, throttle time, energy) as
 * branch-free loops over the 8 GPUs that GCC vectorises (IEEE single
 * precision without contraction gives the same bits as scalar code); then
 * the node metrics it reports: power, PDU imbalance, RDMA and InfiniBand
 * counters, NCCL latency, inference latency and throughput, training step
 * time. Background operations (background.c) come in as the node's noise
 * level, its status (a gap or a reboot) and, rarely, a GPU event (an XID,
 * a reset) with its counters and missing samples. Which node metrics a node
 * does not report is the catalogue's (metrics.h); telemetry_stage.c writes
 * their NaN. Operators' actions come in as drivers too: a drained node runs
 * as an idle-pool node, a load multiplier, a larger KV pool. Hot path: no allocation, no I/O, no indirect call. */
#include "src/model/telemetry_model.h"

#include <string.h>

#include "src/core/simd.h"

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
  tel_mix_keys(m->bg_bits, m->bg_gpu_key, sr->noise, ng);
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

/* ---- the GPUs of one node ---------------------------------------------- */

/* The GPU counters accumulated in double: time and energy (the others
 * count whole events in uint32). */
const int tel_gpu_real_ctr[] = {GM_ENERGY, GM_THERMAL_VIOL, GM_POWER_VIOL};
const int tel_gpu_real_ctr_count = (int)(sizeof tel_gpu_real_ctr / sizeof tel_gpu_real_ctr[0]);

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
  float plim;                  /* driver: enforced GPU power limit, W */
  float stuck[FLEET_GPUS];     /* driver: 1 where the temperature reading is stuck */
  float stuck_c[FLEET_GPUS], off_c[FLEET_GPUS]; /* the stuck reading, else its offset */
  float nscale;            /* the node's own noise level */
  int status;              /* BG_NODE_* of this scrape */
} tel_gpu_ctx;

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
    gc->ubase[g] = ((d->gpu_off_bus_mask >> g) & 1) ? 0.0f : util; /* gone: no work */
  }
  /* decode batches of dense inference are steadier than MoE's */
  gc->unoise = in_job ? 1.2f : (inference && !moe ? 2.0f : 2.5f);
  gc->dyn_w = TEL_DYN_W * (moe ? TEL_DYN_MOE : (inference ? TEL_DYN_DENSE : TEL_DYN_TRAIN));
  gc->target0 = nc->inlet_c + 25.0f;
  gc->board_c = d->board_delta_c;
  gc->membw_job = in_job;
  gc->membw_a = nc->tenant == TENANT_DENSE ? 18.0f : 12.0f;
  gc->membw_b = nc->tenant == TENANT_DENSE ? 0.6f : 0.55f;
  gc->membw_k = nc->tenant == TENANT_DENSE ? 1.0f + 0.25f * (1.0f - kv_hit / 0.94f) : 1.0f;
  gc->tensor_k = in_job ? 0.0066f : (moe ? 0.0052f : 0.0041f);
  if (nc->tenant == TENANT_TRAINING)
    gc->fb_used = in_job ? (float)(0.905 * TEL_HBM_BYTES) : (float)(0.006 * TEL_HBM_BYTES);
  else
    gc->fb_used = (float)((moe ? 0.93 : 0.90) * TEL_HBM_BYTES);
  gc->fb_free = (float)TEL_HBM_BYTES - gc->fb_used;
  gc->nvlink_k = in_job ? 1.6e11f : (moe ? 9.0e10f : 5.5e10f);
  gc->pcie_ckpt = in_job && nc->stall_s > 0;
  gc->pcie_tx = gc->pcie_ckpt ? 1.2e10f * nc->stall_s / m->dt : 0.0f;
  gc->pcie_rx_k = inference ? 1.5e9f : 6.0e8f;
  const float lim = d->gpu_power_limit_w;
  gc->plim = lim > 0 && lim < TEL_POWER_CAP_W ? lim : TEL_POWER_CAP_W;
  for (int g = 0; g < FLEET_GPUS; g++) {
    gc->stuck[g] = (d->sensor_stuck_mask >> g) & 1 ? 1.0f : 0.0f;
    gc->stuck_c[g] = d->sensor_stuck_c[g];
    gc->off_c[g] = d->sensor_offset_c[g];
  }
  gc->nscale = nc->nscale;
  gc->status = nc->status;
}

/* The counters a GPU reset restarts from 0 (the volatile ECC counts, link
 * and PCIe counters, energy and throttle time; remapped rows live in the
 * InfoROM and stay), and its last XID. */
static void tel_gpu_reset(tel_model *m, size_t x) {
  for (int k = 0; k < GM_COUNT; k++) {
    if (k == GM_REMAP_CORR || k == GM_REMAP_UNCORR)
      continue;
    if (m->gpu_cnt[k])
      m->gpu_cnt[k][x] = 0;
    if (m->gpu_acc[k])
      m->gpu_acc[k][x] = 0;
  }
  m->xid[x] = 0;
}

/* The background operations of the 8 GPUs from local GPU index gi at one
 * scrape (node status: BG_NODE_*): a reboot resets every GPU; otherwise a
 * GPU whose draw is below the plan's threshold gets an XID or a driver
 * reset with its consequences, and a GPU that is down counts down to its
 * reset. Returns the mask of GPUs without samples this scrape. Scalar: it
 * is called only when something happens. */
static unsigned tel_gpu_background(tel_model *m, size_t gi, int status) {
  if (status == BG_NODE_REBOOT) {
    for (int g = 0; g < FLEET_GPUS; g++) {
      tel_gpu_reset(m, gi + (size_t)g);
      m->gpu_down[gi + (size_t)g] = 0;
    }
    return 0xffu;
  }
  unsigned miss = status == BG_NODE_GAP ? 0xffu : 0u;
  for (int g = 0; g < FLEET_GPUS; g++) {
    const size_t x = gi + (size_t)g;
    if (m->gpu_down[x] == 0 && (m->bg_bits[x] >> 11) < m->bg.gpu_thr) {
      bg_gpu_event ev;
      bg_gpu_event_draw(&m->bg, m->bg_bits[x], m->cfg->scrape_interval_s, &ev);
      m->gpu_cnt[GM_ECC_SBE][x] += ev.sbe;
      m->gpu_cnt[GM_ECC_DBE][x] += ev.dbe;
      m->gpu_cnt[GM_REMAP_CORR][x] += ev.remap_corr;
      m->gpu_cnt[GM_REMAP_UNCORR][x] += ev.remap_uncorr;
      m->gpu_cnt[GM_NVLINK_RECOVERY][x] += ev.nvlink_recovery;
      m->gpu_cnt[GM_NVLINK_REPLAY][x] += ev.nvlink_replays;
      m->gpu_cnt[GM_NVLINK_CRC][x] += ev.nvlink_replays;
      if (ev.xid)
        m->xid[x] = ev.xid;
      m->gpu_down[x] = ev.down_scrapes;
    }
    if (m->gpu_down[x] > 0) {
      miss |= 1u << g;
      if (--m->gpu_down[x] == 0) /* back after the reset: counters from 0 */
        tel_gpu_reset(m, x);
    }
  }
  return miss;
}

/* The scalar path of one GPU's event counts at one scrape (global index gi
 * on this rank): the SBE and PCIe replay counts from the same draws as
 * tel_poisson_base, the remapped rows an SBE burst brings, and the NVLink
 * recovery (XID 74) a replay burst can trigger, added to the model. */
static void tel_gpu_rare_events(tel_model *m, size_t gi, double lambda_sbe, double lambda_pcie,
                                uint64_t b_sbe, uint64_t b_pcie, uint32_t replays,
                                const tel_scrape_rng *sr, uint32_t *sbe, uint32_t *pcie) {
  *sbe = tel_poisson_base(m, PR_SBE, lambda_sbe, b_sbe);
  if (*sbe > 0)
    m->gpu_cnt[GM_REMAP_CORR][gi] +=
        tel_poisson(*sbe / 60.0, tel_event_bits(m->gpu_event_key[gi], sr, EV_REMAP));
  if (replays > 50 && rng_uniform(tel_event_bits(m->gpu_event_key[gi], sr, EV_RECOVERY)) < 0.08) {
    m->gpu_cnt[GM_NVLINK_RECOVERY][gi] += 1;
    m->xid[gi] = 74; /* NVLink error */
  }
  *pcie = tel_poisson_base(m, PR_PCIE, lambda_pcie, b_pcie);
}

/* The faults that leave a mark on a GPU for good, at the scrape they happen
 * (local node i's GPUs from gi on): an uncorrectable HBM error (a DBE, XID
 * 48), the row remap it brings at the next GPU reset (an uncorrectable
 * remapped row, XID 63), and a GPU fallen off the bus (XID 79, the last code
 * it ever reports). */
static void tel_gpu_fatal_events(tel_model *m, size_t gi, const tel_drivers *d) {
  for (int g = 0; g < FLEET_GPUS; g++) {
    if ((d->dbe_gpu_mask >> g) & 1) {
      m->gpu_cnt[GM_ECC_DBE][gi + g] += 1;
      m->xid[gi + g] = 48; /* double-bit ECC error */
    }
    if ((d->remap_gpu_mask >> g) & 1) {
      m->gpu_cnt[GM_REMAP_UNCORR][gi + g] += 1;
      m->xid[gi + g] = 63; /* ECC page retirement or row remapping event */
    }
    if ((d->gpu_off_bus_mask >> g) & 1)
      m->xid[gi + g] = 79; /* GPU has fallen off the bus */
  }
}

/* A GPU off the bus answers no query: every float gauge of its cells from
 * o on is NaN (a missing sample), its clock event reasons 0; its counters
 * stay where they were and its last XID is 79 (a uint32 has no NaN). */
static void tel_gpu_off_bus_cells(tel_window *w, size_t o, unsigned mask) {
  for (int k = 0; k < GM_COUNT; k++)
    for (int g = 0; g < FLEET_GPUS; g++)
      if ((mask >> g) & 1) {
        if (metric_gpu[k].type == MT_F32)
          w->gpu[k][o + (size_t)g].f = NAN;
        else if (k == GM_CLOCK_EVENTS)
          w->gpu[k][o + (size_t)g].u = 0;
      }
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
  float pover[G]; /* watts the workload asks above the cap (0: under it) */
  /* local copies: a loop over locals only needs no run-time alias checks */
  float zu[G], zp[G], zt[G], scale[G], toff[G], temp_c[G], reading[G];
  float stuck[G], stuck_c[G], off_c[G];
  memcpy(stuck, gc->stuck, sizeof stuck);
  memcpy(stuck_c, gc->stuck_c, sizeof stuck_c);
  memcpy(off_c, gc->off_c, sizeof off_c);
  memcpy(zu, z[GN_UTIL], sizeof zu);
  memcpy(zp, z[GN_POWER], sizeof zp);
  memcpy(zt, z[GN_TEMP], sizeof zt);
  memcpy(scale, &m->gpu_power_scale[gi], sizeof scale);
  memcpy(toff, &m->gpu_temp_offset_c[gi], sizeof toff);
  memcpy(temp_c, &m->temp_c[gi], sizeof temp_c);
  float ubase[G], cap[G], hung_w[G];
  memcpy(ubase, gc->ubase, sizeof ubase);
  memcpy(cap, d->clock_sag_mhz, sizeof cap); /* the sag below boost, then the ceiling */
  int hung[G];
  for (int g = 0; g < G; g++) { /* a stuck GPU: no work, its clocks up, extra watts */
    cap[g] = cap[g] > 0 ? TEL_BOOST_MHZ - cap[g] : 0.0f;
    hung[g] = (d->hung_gpu_mask >> g) & 1;
    hung_w[g] = hung[g] ? d->hung_power_w : 0.0f;
  }
  /* locals, not loads in the arms of a select: those would keep the loops scalar */
  /* the node's noise level scales its sensors' noise (power, temperature);
   * utilisation follows the workload's batches, the fleet's */
  const float unoise = gc->unoise, dyn_w = gc->dyn_w, target0 = gc->target0;
  const float board_c = gc->board_c, pnoise = 6.0f * gc->nscale, tnoise = 0.3f * gc->nscale;
  const float alpha = m->alpha, membw_a = gc->membw_a, membw_b = gc->membw_b, membw_k = gc->membw_k;
  const int membw_job = gc->membw_job;
  const float plim = gc->plim;
  for (int g = 0; g < G; g++) {
    const float u0 = ubase[g];
    const float u = u0 > 0 && !hung[g] ? tel_clampf(u0 + unoise * zu[g], 0.5f, 100.0f) : 0.0f;
    /* clocks follow the lagged temperature: boost drops above 74 C, the
     * thermal slowdown cuts hard above 83 C (NaN before the first scrape:
     * every comparison is false, so boost clocks and no events); then the
     * power cap below */
    const float tp = temp_c[g];
    const float c1 = tp > TEL_BOOST_KNEE_C ? TEL_BOOST_MHZ - 6.0f * (tp - TEL_BOOST_KNEE_C) : TEL_BOOST_MHZ;
    const int sw = tp >= TEL_THROTTLE_C;
    const float c2 = sw ? c1 - 110.0f * (tp - TEL_THROTTLE_C + 1.0f) : c1;
    const float ck0 = tel_clampf(c2, 900.0f, TEL_BOOST_MHZ);
    const float ckt = cap[g] > 0 && cap[g] < ck0 ? cap[g] : ck0; /* fail-slow, firmware */
    const float du = dyn_w * (u / 100.0f);
    const float p0 = (TEL_IDLE_W + du * (0.55f + 0.45f * (ckt / TEL_BOOST_MHZ))) * scale[g] +
                     pnoise * zp[g] + hung_w[g];
    /* at the power limit (the board's cap, or a lowered one) the governor
     * lowers the SM clock until the board draws the limit: the power law
     * above solved for the speed, not below the floor */
    const int capped = p0 > plim;
    const float headroom = (plim - pnoise * zp[g] - hung_w[g]) / scale[g] - TEL_IDLE_W;
    const float f_lim = du > 0 ? headroom / du : 1.0f;
    const float ck_lim = tel_clampf(TEL_BOOST_MHZ * (f_lim - 0.55f) / 0.45f, TEL_CAP_FLOOR_MHZ, ckt);
    const float ck = capped ? ck_lim : ckt;
    const float p1 = (TEL_IDLE_W + du * (0.55f + 0.45f * (ck / TEL_BOOST_MHZ))) * scale[g] +
                     pnoise * zp[g] + hung_w[g];
    /* held at the limit, or above it where the clock floor binds */
    const float p = capped ? (ck > TEL_CAP_FLOOR_MHZ ? plim : p1) : p0;
    /* the BMC sets the zone's fans from the reading: one too low under-cools */
    const float rd = stuck[g] > 0 ? stuck_c[g] : tp + off_c[g];
    const float fan = tp == tp ? tel_clampf(TEL_FAN_ZONE_GAIN * (tp - rd), 0.0f, TEL_FAN_ZONE_MAX_C)
                               : 0.0f;
    const float target = target0 + 0.04f * p + toff[g] + board_c + tnoise * zt[g] + fan;
    const float tn = tp != tp ? target : tp + alpha * (target - tp);
    const float mb0 = membw_job ? 62.0f * u / 96.0f : membw_a + membw_b * u * membw_k;
    events[g] = (sw ? CLOCK_EVENT_SW_THERMAL : 0u) | (tp >= TEL_HW_THROTTLE_C ? CLOCK_EVENT_HW_THERMAL : 0u) |
                (capped ? CLOCK_EVENT_SW_POWER_CAP : 0u) | (u < 5.0f && !hung[g] ? CLOCK_EVENT_IDLE : 0u);
    util[g] = u;
    pover[g] = capped ? p0 - plim : 0.0f;
    clock[g] = ck;
    power[g] = p;
    temp[g] = tn;
    reading[g] = stuck[g] > 0 ? stuck_c[g] : tn + off_c[g]; /* what the sensor reports */
    membw[g] = tel_clampf(mb0 + 1.5f * zu[g], 0.0f, 100.0f);
  }
  memcpy(&m->temp_c[gi], temp, sizeof temp);

  const float nvlink_k = gc->nvlink_k, tensor_k = gc->tensor_k, fb_used = gc->fb_used;
  const float fb_free = gc->fb_free, pcie_tx = gc->pcie_tx, pcie_rx_k = gc->pcie_rx_k;
  const int pcie_ckpt = gc->pcie_ckpt;
  float pcie_cap[G]; /* a link retrained to a lower gen or width caps host-device traffic */
  for (int g = 0; g < G; g++)
    pcie_cap[g] = ((d->pcie_gpu_mask >> g) & 1) ? TEL_PCIE_BPS * (1.0f - d->pcie_link_loss)
                                                : TEL_PCIE_BPS;
  float nvlink_bps[G];
  const float link = d->link_scale > 0 ? d->link_scale : 1.0f;
  for (int g = 0; g < G; g++)
    nvlink_bps[g] =
        nvlink_k * (util[g] / 100.0f) * (0.9f + 0.1f * (clock[g] / TEL_BOOST_MHZ)) * link;
  /* one loop per metric: each stores through one pointer and reads only
   * locals, so no run-time alias checks keep it from vectorising */
#define TEL_STORE(k, field, expr)                                                                \
  do {                                                                                           \
    tel_cell *out_ = &w->gpu[k][o];                                                              \
    for (int g = 0; g < G; g++)                                                                  \
      out_[g].field = (expr);                                                                    \
  } while (0)
  TEL_STORE(GM_TEMP, f, reading[g]);
  TEL_STORE(GM_MEM_TEMP, f, temp[g] + 1.5f + 0.05f * membw[g]);
  TEL_STORE(GM_POWER, f, power[g]);
  TEL_STORE(GM_SM_CLOCK, f, util[g] < 5.0f && !hung[g] ? 345.0f : clock[g]);
  TEL_STORE(GM_MEM_CLOCK, f, TEL_MEM_MHZ);
  TEL_STORE(GM_SM_UTIL, f, util[g]);
  TEL_STORE(GM_MEM_BW_UTIL, f, membw[g]);
  TEL_STORE(GM_SM_ACTIVE, f, 0.0095f * util[g]);
  TEL_STORE(GM_SM_OCCUPANCY, f, 0.0052f * util[g]);
  TEL_STORE(GM_TENSOR_ACTIVE, f, tensor_k * util[g]);
  TEL_STORE(GM_DRAM_ACTIVE, f, 0.009f * membw[g]);
  TEL_STORE(GM_FB_USED, f, fb_used);
  TEL_STORE(GM_FB_FREE, f, fb_free);
  TEL_STORE(GM_PCIE_TX, f,
            fminf((pcie_ckpt ? pcie_tx : 4.0e8f * util[g] / 100.0f) * link, pcie_cap[g]));
  TEL_STORE(GM_PCIE_RX, f, fminf(pcie_rx_k * util[g] / 100.0f * link, pcie_cap[g]));
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
  const unsigned nvl_mask = d->nvlink_gpu_mask, pcie_mask = d->pcie_gpu_mask;
  const unsigned off_mask = d->gpu_off_bus_mask;
  if (d->dbe_gpu_mask | d->remap_gpu_mask | off_mask)
    tel_gpu_fatal_events(m, gi, d);
  const long nvl = lrintf(d->nvlink_replays);
  /* a failing link's count replaces the baseline r (1-3) when nvl > r */
  const uint32_t nvl_val = (uint32_t)nvl, nvl_cmp = nvl >= 4 ? UINT32_MAX : (nvl >= 2 ? (uint32_t)nvl : 0u);
  uint32_t replay_hi = 0;
  /* background operations: rare, so one cheap test decides the scalar pass */
  int bg_any = gc->status != BG_NODE_OK;
  for (int g = 0; g < G; g++)
    bg_any |= ((m->bg_bits[gi + (size_t)g] >> 11) < m->bg.gpu_thr) |
              (m->gpu_down[gi + (size_t)g] != 0);
  const unsigned miss = bg_any ? tel_gpu_background(m, gi, gc->status) : 0u;
  for (int g = 0; g < G; g++) {
    const size_t c = o + (size_t)g;
    const double lambda_sbe = 2e-4 + d->sbe_per_interval[g];
    const double lambda_pcie = 0.002 + (((pcie_mask >> g) & 1u) ? d->pcie_replays : 0.0f);
    const uint32_t live = !((off_mask >> g) & 1u); /* a GPU off the bus counts nothing */
    const uint32_t r0 = 1u + (uint32_t)(b_replay[g] % 3u);
    const uint32_t replays = live * (((nvl_mask >> g) & 1u) && nvl_cmp > r0 ? nvl_val : r0);
    uint32_t sbe = 0, pcie = 0;
    if ((lambda_sbe != tel_base_rate[PR_SBE]) | (lambda_pcie != tel_base_rate[PR_PCIE]) |
        ((b_sbe[g] >> 11) > sbe0) | ((b_pcie[g] >> 11) > pcie0) | (replays > 50))
      tel_gpu_rare_events(m, gi + (size_t)g, lambda_sbe, lambda_pcie, b_sbe[g], b_pcie[g], replays,
                          sr, &sbe, &pcie);
    sbe *= live;
    pcie *= live;
    wg[GM_ECC_SBE][c].u = sbe_c[g] += sbe;
    wg[GM_PCIE_REPLAY][c].u = pcie_c[g] += pcie;
    wg[GM_NVLINK_REPLAY][c].u = replay_c[g] += replays;
    wg[GM_NVLINK_CRC][c].u = crc_c[g] += replays; /* each replay answers a CRC-failed flit */
    wg[GM_ECC_DBE][c].u = dbe_c[g];
    wg[GM_REMAP_CORR][c].u = remap_c[g];
    wg[GM_REMAP_UNCORR][c].u = unc_c[g];
    wg[GM_NVLINK_RECOVERY][c].u = recov_c[g];
    replay_hi = replays > replay_hi ? replays : replay_hi;
    energy[g] += power[g] * dt * (float)live;
    if (events[g] & CLOCK_EVENT_SW_THERMAL)
      thermal_v[g] += 1000.0 * dt * tel_clampf((temp[g] - TEL_THROTTLE_C + 1.0f) / 3.0f, 0.2f, 1.0f);
    if (events[g] & CLOCK_EVENT_SW_POWER_CAP) /* held down longer the further above */
      power_v[g] += 1000.0 * dt * tel_clampf(0.3f + pover[g] / 40.0f, 0.3f, 1.0f);
    wg[GM_ENERGY][c].u = (uint32_t)energy[g];
    wg[GM_THERMAL_VIOL][c].u = (uint32_t)thermal_v[g];
    wg[GM_POWER_VIOL][c].u = (uint32_t)power_v[g];
  }
  const float replay_max = (float)replay_hi; /* the conversion keeps the order */
#undef TEL_STORE
  memcpy(&w->gpu[GM_XID][o], &m->xid[gi], sizeof(uint32_t) * G);
  if (off_mask)
    tel_gpu_off_bus_cells(w, o, off_mask);
  /* a GPU without samples this scrape: its gauges are missing (NaN); the
   * integer counters and codes keep the value the exporter last had */
  for (int g = 0; miss && g < G; g++)
    if ((miss >> g) & 1u)
      for (int k = 0; k < GM_COUNT; k++)
        if (metric_gpu[k].type == MT_F32)
          w->gpu[k][o + (size_t)g].f = NAN;

  /* in GPU order, as the node's sums always were */
  float power_sum = 0, power_sq = 0, clock_min = TEL_BOOST_MHZ, clock_sum = 0;
  int hung_any = 0;
  for (int g = 0; g < G; g++) {
    power_sum += power[g];
    power_sq += power[g] * power[g];
    clock_sum += clock[g];
    if (util[g] >= 5.0f && clock[g] < clock_min)
      clock_min = clock[g];
    hung_any |= hung[g];
  }
  *sum = (tel_gpu_sums){power_sum, power_sq, clock_sum, clock_min, replay_max, hung_any};
}

/* Advances the 8 GPUs of local node i (drivers d, node quantities nc, a
 * training node in a job: in_job, KV hit ratio before noise: kv_hit) one
 * scrape: their state in m, every GPU metric into the stage st from cell o
 * on, and the sums the node part needs into *sum. */
static void tel_gpu_advance(tel_model *m, size_t i, const tel_drivers *d, const tel_node_ctx *nc,
                            int in_job, float kv_hit, const tel_scrape_rng *sr, tel_window *st,
                            size_t o, tel_gpu_sums *sum) {
  tel_gpu_ctx gc;
  tel_gpu_ctx_set(m, d, nc, in_job, kv_hit, &gc);
  tel_node_gpus(m, i, d, &gc, sr, st, o, sum);
}

/* ---- the node ---------------------------------------------------------- */

void tel_scrape_draws(tel_model *m, const tel_scrape_rng *sr) {
  tel_gpu_draws(m, sr);
  tel_node_draws(m, sr);
}

int tel_node_advance(tel_model *m, const tel_scrape_ctx *sc, size_t i, const tel_drivers *d,
                     tel_window *st, size_t o) {
  const fleet *f = m->f;
  const float dt = m->dt;
  const int n = m->node0 + (int)i;
  const float ns = m->noise_scale[i];
  /* a node out of service (an operator's action) runs as an idle-pool node:
   * no workload, idle GPUs; its GPU faults that need no load still show */
  const int drained = d->drained != 0;
  tel_node_ctx nc = {.tenant = drained ? TENANT_TRAINING : f->node_tenant[n],
                     .job = drained ? -1 : f->node_job[n], .nscale = ns,
                     .status = bg_node_status(&m->bg, n, sc->t)};
  if (d->drained == TEL_DRAINED_AWAY && nc.status == BG_NODE_OK) /* out for repair */
    nc.status = BG_NODE_GAP;
  if (nc.status == BG_NODE_REBOOT) /* the node's counters restart with it */
    for (int k = 0; k < NM_COUNT; k++)
      if (m->node_cnt[k])
        m->node_cnt[k][i] = 0;
  /* the node's own noise level scales its instruments' and hardware's
   * channels; traffic (load, prompt mix), routing and the job's gradient
   * are the fleet's and keep the fleet's level */
  float z_inlet = ns * m->node_noise[NN_INLET][i];
  float z_load = m->node_noise[NN_LOAD][i];
  nc.inlet_c = TEL_CRAH_SUPPLY_C + m->inlet_offset_c[i] + 0.04f * (sc->outdoor_c - 16.0f) +
               0.25f * z_inlet + d->inlet_delta_c;
  /* a node its job restarted without: its GPUs idle, it reports no job metrics */
  const int left_out = nc.tenant == TENANT_TRAINING && nc.job >= 0 && d->job_excluded;
  int in_job = nc.tenant == TENANT_TRAINING && nc.job >= 0 && !left_out;
  int inference = nc.tenant != TENANT_TRAINING;
  float hang_s = 0.0f, flap_s = d->nic_down_share * dt;
  if (inference) {
    float load = sc->load * (1.0f + 0.05f * z_load);
    if (d->load_scale > 0) /* its tenant's traffic over fewer nodes */
      load *= d->load_scale;
    load += tel_clampf(d->load_burst, 0.0f, 1.0f) * (1.0f - load); /* a traffic burst */
    if (d->capacity_share > 0) /* less capacity: busier for the same traffic */
      load /= d->capacity_share;
    nc.load = tel_clampf(load, 0.05f, 1.0f);
    nc.util_base = 100.0f * (0.15f + 0.75f * nc.load);
  } else if (in_job) {
    const tel_job_drivers *jd = &m->jobd[nc.job];
    nc.stall_s = m->job_stall_s[nc.job];
    hang_s = fminf(jd->hang_s, dt);
    nc.down_s = fminf(dt, jd->hang_s + jd->restart_s);
    /* GPUs near idle while the checkpoint writes or the job hangs in a
     * collective, idle while it restarts (without a restart: the same
     * float operations as before the job drivers, bit for bit) */
    float busy = 1.0f - fminf(dt, nc.stall_s + nc.down_s) / dt;
    float restart_share = (nc.down_s - hang_s) / dt;
    nc.util_base = 96.0f * busy + 12.0f * fmaxf(0.0f, 1.0f - busy - restart_share);
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
  /* KV cache: a fixed pool against a working set that grows with context;
   * a larger pool (kv_capacity_scale) divides the working set's excess */
  float ctx = d->context_scale > 0 ? d->context_scale : 1.0f;
  float kv_excess = ctx - 1.0f;
  if (kv_excess > 0 && d->kv_capacity_scale > 0)
    kv_excess /= d->kv_capacity_scale;
  float kv_hit = 0.94f / (1.0f + 0.363f * kv_excess);
  float cong = tel_clampf(d->fabric_congestion, 0.0f, 1.0f);

  /* ---- GPUs ---- */
  tel_gpu_sums sum;
  tel_gpu_advance(m, i, d, &nc, in_job, kv_hit, &sc->sr, st, o * FLEET_GPUS, &sum);
  float power_sum = sum.power_sum, power_sq = sum.power_sq, clock_min = sum.clock_min;
  float clock_sum = sum.clock_sum, replay_max = sum.replay_max;
  m->min_clock_mhz[i] = clock_min;
  float clock_mean = clock_sum / FLEET_GPUS;
  float slow = TEL_BOOST_MHZ / clock_mean; /* latency grows as clocks fall */

  /* ---- node: what every node reports ---- */
  float mean_p = power_sum / FLEET_GPUS;
  float var_p = fmaxf(0.0f, power_sq / FLEET_GPUS - mean_p * mean_p);
  float cv = mean_p > 0 ? sqrtf(var_p) / mean_p : 0.0f;
  float host_w = 850.0f + (inference ? 250.0f * nc.load : 300.0f);
  /* what the node serves: its load, times the capacity it has left */
  const float served = d->capacity_share > 0 ? d->capacity_share : 1.0f;
  st->node[NM_INLET_TEMP][o].f = nc.inlet_c;
  /* a lost phase: its share x moves onto the other two, loads (1 - x, 1 + x/2,
   * 1 + x/2) of mean 1, so the largest deviation from the mean is 100 x % */
  st->node[NM_PDU_IMBALANCE][o].f =
      3.0f + 30.0f * cv + 0.4f * z_inlet + 100.0f * tel_clampf(d->phase_loss, 0.0f, 1.0f);
  st->node[NM_POWER][o].f = power_sum + host_w;
  float z_rdma = ns * m->node_noise[NN_RDMA][i];
  float rdma;
  if (nc.tenant == TENANT_MOE)
    rdma = 2.6e10f * nc.load * nc.moe_thr * served;
  else if (nc.tenant == TENANT_DENSE)
    rdma = 1.5e9f * nc.load * served;
  else
    rdma = in_job ? 3.4e10f * (1.0f - fminf(dt, nc.stall_s + nc.down_s) / dt) : 2.0e7f;
  rdma *= 1.0f - tel_clampf(d->nic_down_share, 0.0f, 1.0f); /* a port that is down carries nothing */
  /* Microbursts: MoE all-to-all surges overflow the leaf's buffers. The
   * senders (MoE) stall on PFC pauses (xmit wait) and push more bytes;
   * every port behind the leaf drops packets (receive errors, retransmits). */
  int moe_node = nc.tenant == TENANT_MOE;
  float surge = moe_node ? 1.0f + 0.35f * cong : 1.0f - 0.12f * cong;
  st->node[NM_RDMA_BYTES][o].f = rdma * (1.0f + 0.04f * z_rdma) * surge;
  /* a flapping port: each down/up transition drops the packets in flight
   * (retransmits) and receives symbol-corrupted ones while it retrains */
  const double flaps = d->nic_flaps;
  st->node[NM_RDMA_RETX][o].u = m->node_cnt[NM_RDMA_RETX][i] +=
      tel_poisson_base(m, PR_RETX, 0.4 + 900.0 * cong + 300.0 * flaps, m->node_bits[0][i]);
  st->node[NM_IB_RCV_ERR][o].u = m->node_cnt[NM_IB_RCV_ERR][i] +=
      tel_poisson_base(m, PR_RCV_ERR, 0.01 + 160.0 * cong + 40.0 * flaps, m->node_bits[1][i]);
  st->node[NM_IB_XMIT_WAIT][o].u = m->node_cnt[NM_IB_XMIT_WAIT][i] +=
      tel_poisson_base(m, PR_XMIT, 4.0 + (moe_node ? 4000.0 : 600.0) * cong, m->node_bits[2][i]);
  float z_nccl = ns * m->node_noise[NN_NCCL][i];
  float jitter = cong * (300.0f + 500.0f * (float)rng_uniform(m->node_bits[3][i]));
  /* a hung collective or a port down stretches the mean all-reduce latency
   * by the seconds it lost (in us) */
  st->node[NM_NCCL_LAT][o].f = (in_job ? 950.0f : (nc.tenant == TENANT_MOE ? 70.0f : 45.0f)) *
                                   (1.0f + 0.04f * z_nccl) +
                               jitter + 1.0e6f * (hang_s + flap_s);

  /* ---- inference ---- */
  if (inference) {
    int moe = nc.tenant == TENANT_MOE;
    float z_ttft = ns * m->node_noise[NN_TTFT][i];
    float z_itl = ns * m->node_noise[NN_ITL][i];
    float z_kv = ns * m->node_noise[NN_KV][i];
    float z_prompt = m->node_noise[NN_PROMPT][i];
    /* the prefix cache's hit ratio drifts with the traffic mix: busier
     * hours bring more distinct prompts */
    float hit = tel_clampf(kv_hit - 0.02f * (nc.load - 0.55f) + 0.008f * z_kv, 0.0f, 1.0f);
    float miss_growth = (1.0f - hit / 0.94f) / (1.0f - 0.45f / 0.94f); /* 1 at hit 0.45 */
    float ttft0 = moe ? 220.0f + 160.0f * nc.load : 180.0f + 140.0f * nc.load;
    float itl0 = moe ? 28.0f + 16.0f * nc.load : 22.0f + 14.0f * nc.load;
    float skew_wait = 1.0f / nc.moe_thr;
    float tail_ms = 3.0f * fminf(1.0f, cong / 0.6f); /* RDMA retransmits behind a congested leaf */
    float ttft = ttft0 * slow * skew_wait * (1.0f + miss_growth) * (1.0f + 0.03f * z_ttft) + tail_ms;
    float itl = itl0 * slow * skew_wait * (1.0f + 0.02f * z_itl) + tail_ms;
    float tokens = (moe ? 8.0f * 520.0f : 8.0f * 450.0f) * nc.load * served * nc.moe_thr / slow *
                   (0.85f + 0.15f * hit / 0.94f);
    /* replicas on GPUs off the bus are gone: the router sends them nothing */
    const float live = (float)(FLEET_GPUS - __builtin_popcount(d->gpu_off_bus_mask)) / FLEET_GPUS;
    /* prompts and KV blocks cross a downgraded PCIe link more slowly */
    ttft *= 1.0f + 0.5f * d->pcie_link_loss * (float)__builtin_popcount(d->pcie_gpu_mask) / FLEET_GPUS;
    tokens *= live;
    st->node[NM_REQ_RATE][o].f =
        (moe ? 11.0f : 9.0f) * nc.load * served * live * (1.0f + 0.03f * z_load);
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
    }
  }

  /* ---- training: own step time now; step_time_ms (the job's slowest
   * node) and allreduce_wait_ms after the all-reduce, in
   * tel_finish_training (their stage cells are left NaN) ---- */
  if (left_out) { /* no training process: no job metrics, no share of the job's step */
    st->node[NM_NCCL_LAT][o].f = NAN;
    st->node[NM_CKPT_WRITE][o].f = NAN;
    st->node[NM_GRAD_NORM][o].f = NAN;
    st->node[NM_RESERVED_MEM][o].f = NAN;
    st->step_own_ms[o] = -1.0f;
    return nc.status;
  }
  if (!in_job) { /* a drained job node is left out of its job's step */
    st->step_own_ms[o] = drained && f->node_job[n] >= 0 ? -1.0f : 0.0f;
    return nc.status;
  }
  const cfg_job *job = &m->cfg->jobs[nc.job];
  float z_step = ns * m->node_noise[NN_STEP][i];
  float z_grad = m->node_noise[NN_GRAD][i];
  float base_ms = (float)(job->step_time_s * 1000.0);
  float compute = base_ms * 0.92f * powf(TEL_BOOST_MHZ / clock_min, 0.85f);
  float excess = replay_max > 3.0f ? replay_max - 2.0f : 0.0f;
  const float link = d->link_scale > 0 ? d->link_scale : 1.0f;
  /* GPUDirect RDMA crosses each GPU's PCIe link: a downgraded one slows the
   * node's share of the all-reduce once it carries less than the job needs */
  float pcie_link = d->pcie_gpu_mask ? 1.0f - d->pcie_link_loss : 1.0f;
  float pcie_slow = pcie_link < TEL_PCIE_NEED ? TEL_PCIE_NEED / pcie_link : 1.0f;
  float comm = base_ms * 0.08f * pcie_slow / link + TEL_NVLINK_REPLAY_MS * excess +
               cong * (40.0f + 160.0f * (float)rng_uniform(m->node_bits[3][i] >> 1));
  float own = (compute + comm) * (1.0f + 0.002f * z_step);
  if (sum.hung) /* a stuck GPU: no step completes in the interval */
    own = fmaxf(own, 1000.0f * dt);
  /* a checkpoint, a hang, a restart or a port down stalls the interval:
   * fewer steps, so a longer mean step */
  float lost = fminf(dt, nc.stall_s + nc.down_s + flap_s);
  float busy = dt - lost;
  float step_s = own / 1000.0f;
  if (lost > 0)
    own *= dt / fmaxf(busy, step_s);
  st->step_own_ms[o] = own;
  double hours = (double)sc->t * dt / 3600.0;
  st->node[NM_CKPT_WRITE][o].f = m->job_ckpt_last_s[nc.job];
  st->node[NM_GRAD_NORM][o].f = (float)(0.35 + 0.9 * exp(-hours / 36.0)) * (1.0f + 0.03f * z_grad);
  st->node[NM_RESERVED_MEM][o].f = (float)(FLEET_GPUS * 0.88 * TEL_HBM_BYTES);
  return nc.status;
}
