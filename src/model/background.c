/* Background operations (see background.h): the rates, the per-slot draws
 * of scrape gaps, reboots and drains, the per-node noise level and the
 * table of GPU events (XIDs and driver resets) with their consequences.
 *
 * Rates per GPU-day of the XIDs. The serious ones follow the largest public
 * H100 figures: the Llama 3 paper (Meta, "The Llama 3 Herd of Models", 2024,
 * table 5) counts, over 54 days on 16,384 H100 GPUs (884,736 GPU-days), 148
 * interruptions from faulty GPUs (1.7e-4 per GPU-day), 72 from HBM3 memory
 * (8.1e-5), 19 from GPU SRAM (2.1e-5) and 17 from the GPU system processor
 * (1.9e-5). We map faulty GPUs to XID 79 (fell off the bus), HBM to 48, 94,
 * 95 and 64 (uncorrectable ECC, contained and uncontained, remap failure),
 * SRAM and GSP to 95 and 74. The benign and application XIDs (13 graphics
 * engine exception, 31 MMU fault, 43 stopped channel: user code; 63 a row
 * remapped after correctable errors; 92 a high single-bit rate; 74 an
 * NVLink error the link recovers from) are not in that table, which counts
 * only job interruptions: their rates below are ASSUMED, about ten times the
 * hardware rates, as operators of shared GPU clusters see application XIDs
 * far more often than hardware ones. Driver resets: bg_gpu_resets_per_day. */
#include "src/model/background.h"

#include <math.h>

#include "src/core/rng.h"

/* Streams of the range [RNG_STREAM_BACKGROUND, + 64). */
enum {
  BG_STREAM_GAP = RNG_STREAM_BACKGROUND,     /* per node, counter = gap slot */
  BG_STREAM_REBOOT = RNG_STREAM_BACKGROUND + 1, /* per node, counter = reboot slot */
  BG_STREAM_DRAIN = RNG_STREAM_BACKGROUND + 2,  /* per node, counter = drain slot */
  BG_STREAM_NOISE = RNG_STREAM_BACKGROUND + 3,  /* per node, counter 0 */
};

/* The GPU events: XID code, rate per GPU-day (see above), what follows. */
static const struct {
  uint32_t xid;
  double per_gpu_day;
  uint32_t sbe, dbe, remap_corr, remap_uncorr, recovery, replays, down_min, down_max;
} bg_xid_table[] = {
    {13, 1.0e-3, 0, 0, 0, 0, 0, 0, 0, 0},    /* graphics engine exception (application) */
    {31, 1.0e-3, 0, 0, 0, 0, 0, 0, 0, 0},    /* MMU fault (application) */
    {43, 5.0e-4, 0, 0, 0, 0, 0, 0, 0, 0},    /* GPU stopped processing (application) */
    {63, 2.0e-4, 0, 0, 1, 0, 0, 0, 0, 0},    /* row remapped after correctable errors */
    {92, 1.0e-4, 40, 0, 0, 0, 0, 0, 0, 0},   /* high single-bit ECC error rate */
    {74, 1.0e-4, 0, 0, 0, 0, 1, 20, 0, 0},   /* NVLink error, the link recovers */
    {48, 3.0e-5, 0, 1, 0, 1, 0, 0, 0, 0},    /* double-bit ECC error */
    {94, 4.0e-5, 0, 1, 0, 0, 0, 0, 0, 0},    /* contained uncorrectable ECC error */
    {95, 1.0e-5, 0, 1, 0, 1, 0, 0, 4, 12},   /* uncontained ECC error: GPU reset */
    {64, 1.0e-5, 0, 0, 0, 0, 0, 0, 0, 0},    /* row remapper failure */
    {79, 1.7e-4, 0, 0, 0, 0, 0, 0, 20, 80},  /* fell off the bus: gone until reset */
};
enum { BG_NXID = sizeof bg_xid_table / sizeof bg_xid_table[0] };
_Static_assert(BG_NXID + 1 <= 16, "bg_plan.gpu_cum holds every kind and the reset");

void bg_plan_init(bg_plan *p, const fs_config *cfg) {
  const double dt = cfg->scrape_interval_s, day = 86400.0;
  *p = (bg_plan){.on = cfg->background_ops != 0, .seed = cfg->seed};
  p->gap_slot = 16;
  p->reboot_slot = (int)fmax(1.0, 3600.0 / dt);
  p->reboot_len = (int)fmax(1.0, fmin(p->reboot_slot, 300.0 / dt));
  p->drain_slot = (int)fmax(1.0, 6.0 * 3600.0 / dt);
  p->p_gap = fmin(1.0, cfg->bg_gaps_per_day * p->gap_slot * dt / day);
  p->p_reboot = fmin(1.0, cfg->bg_reboots_per_day * p->reboot_slot * dt / day);
  p->p_drain = fmin(1.0, cfg->bg_drains_per_day * p->drain_slot * dt / day);
  double rate[BG_NXID + 1], total = 0;
  for (int k = 0; k < BG_NXID; k++)
    total += rate[k] = bg_xid_table[k].per_gpu_day * cfg->bg_xid_scale;
  total += rate[BG_NXID] = cfg->bg_gpu_resets_per_day;
  double acc = 0;
  for (int k = 0; k <= BG_NXID; k++)
    p->gpu_cum[k] = total > 0 ? (acc += rate[k]) / total : 1.0;
  p->ngpu_kinds = BG_NXID + 1;
  double per_scrape = fmin(1.0, total * dt / day);
  p->gpu_thr = p->on ? (uint64_t)ldexp(per_scrape, 53) : 0;
}

/* Whether scrape t falls in the event of slot length `slot`, probability
 * prob, lasting len(bits) scrapes from a drawn offset: 0 no, 1 its first
 * scrape, 2 a later one. */
static int bg_in_slot(uint64_t key, int64_t t, int slot, double prob, int len_min, int len_max) {
  const uint64_t k = (uint64_t)(t / slot);
  const int at = (int)(t % slot);
  const uint64_t bits = rng_bits(key, k);
  if (rng_uniform(bits) >= prob)
    return 0;
  const uint64_t b2 = rng_bits(key, k ^ 0x8000000000000000ULL);
  const int start = (int)(b2 % (uint64_t)slot);
  const int len = len_min + (int)((b2 >> 32) % (uint64_t)(len_max - len_min + 1));
  if (at < start || at >= start + len)
    return 0;
  return at == start ? 1 : 2;
}

int bg_node_status(const bg_plan *p, int n, int64_t t) {
  if (!p->on)
    return BG_NODE_OK;
  if (p->p_reboot > 0 &&
      bg_in_slot(rng_key(p->seed, BG_STREAM_REBOOT, (uint64_t)n), t, p->reboot_slot, p->p_reboot,
                 p->reboot_len, p->reboot_len))
    return BG_NODE_REBOOT;
  if (p->p_gap > 0 &&
      bg_in_slot(rng_key(p->seed, BG_STREAM_GAP, (uint64_t)n), t, p->gap_slot, p->p_gap, 1, 3))
    return BG_NODE_GAP;
  return BG_NODE_OK;
}

int bg_node_drained(const bg_plan *p, int n, int64_t t) {
  if (!p->on || p->p_drain <= 0)
    return 0;
  const int hour = p->drain_slot / 6 > 0 ? p->drain_slot / 6 : 1;
  return bg_in_slot(rng_key(p->seed, BG_STREAM_DRAIN, (uint64_t)n), t, p->drain_slot, p->p_drain,
                    hour, p->drain_slot) != 0;
}

float bg_noise_scale(const fs_config *cfg, int n) {
  if (!cfg->background_ops || cfg->bg_noise_spread <= 0)
    return 1.0f;
  const float z = rng_normal(rng_bits(rng_key(cfg->seed, BG_STREAM_NOISE, (uint64_t)n), 0));
  return expf((float)cfg->bg_noise_spread * z);
}

void bg_gpu_event_draw(const bg_plan *p, uint64_t bits, int dt_s, bg_gpu_event *ev) {
  *ev = (bg_gpu_event){0};
  const double u = rng_uniform(rng_mix64(bits ^ 0x2545f4914f6cdd1dULL)); /* the kind */
  int k = 0;
  while (k < p->ngpu_kinds - 1 && u >= p->gpu_cum[k])
    k++;
  const uint64_t b2 = rng_mix64(bits ^ 0x5851f42d4c957f2dULL);
  if (k == BG_NXID) { /* a plain driver reset: 1-3 scrapes without samples */
    ev->down_scrapes = 1 + (uint32_t)(b2 % 3u);
    return;
  }
  ev->xid = bg_xid_table[k].xid;
  const uint32_t sbe = bg_xid_table[k].sbe;
  ev->sbe = sbe ? sbe / 2 + (uint32_t)(b2 % sbe) : 0;
  ev->dbe = bg_xid_table[k].dbe;
  ev->remap_corr = bg_xid_table[k].remap_corr;
  ev->remap_uncorr = bg_xid_table[k].remap_uncorr;
  ev->nvlink_recovery = bg_xid_table[k].recovery;
  ev->nvlink_replays = bg_xid_table[k].replays ? bg_xid_table[k].replays + (uint32_t)(b2 % 20u) : 0;
  if (bg_xid_table[k].down_max > 0) {
    /* the table is in scrapes at 15 s; other intervals keep the minutes */
    const uint32_t span = bg_xid_table[k].down_max - bg_xid_table[k].down_min + 1;
    const double scrapes = (bg_xid_table[k].down_min + (double)((b2 >> 20) % span)) * 15.0 / dt_s;
    ev->down_scrapes = scrapes < 1 ? 1u : (uint32_t)scrapes;
  }
}
