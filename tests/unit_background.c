/* Background operations (src/model/background.c) through the telemetry
 * model: the rates the plan turns into per-slot draws come out as set;
 * scrape gaps and reboots leave the node's gauges NaN and its counters
 * readable, a reboot restarts them from 0; XIDs come with their
 * consequences (48: a DBE; 79: the GPU's gauges NaN while others report);
 * drains take idle-pool nodes out of the spare capacity; background_ops
 * off turns all of it off; and everything is the same whichever node
 * range a model instance owns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/model/background.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"
#include "tests/check.h"

/* Rates and the off switch of the plan, straight from the draws. */
static void test_plan_rates(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  bg_plan p;
  bg_plan_init(&p, &cfg);
  const int nodes = 1000;
  const int64_t scrapes = 5760; /* one day at 15 s */
  long gap_starts = 0, reboot_starts = 0, drained = 0;
  for (int n = 0; n < nodes; n++)
    for (int64_t t = 0; t < scrapes; t++) {
      int s = bg_node_status(&p, n, t), prev = t > 0 ? bg_node_status(&p, n, t - 1) : BG_NODE_OK;
      gap_starts += s == BG_NODE_GAP && prev != BG_NODE_GAP;
      reboot_starts += s == BG_NODE_REBOOT && prev != BG_NODE_REBOOT;
      drained += bg_node_drained(&p, n, t);
    }
  printf("per node-day: %.3f gaps, %.4f reboots; drained share %.4f\n",
         (double)gap_starts / nodes, (double)reboot_starts / nodes,
         (double)drained / ((double)nodes * scrapes));
  /* Poisson counts: within 4 sigma of the configured rate */
  const double gaps = nodes * cfg.bg_gaps_per_day, reboots = nodes * cfg.bg_reboots_per_day;
  CHECK_RANGE((double)gap_starts, gaps - 4 * sqrt(gaps), gaps + 4 * sqrt(gaps));
  CHECK_RANGE((double)reboot_starts, 0.0, reboots + 4 * sqrt(reboots) + 1);
  CHECK_GT(reboot_starts, 0);
  CHECK_GT(drained, 0);
  /* GPU events: the threshold is the per-scrape probability of the sum of the rates */
  double per_scrape = ldexp((double)p.gpu_thr, -53);
  printf("GPU events per GPU-day: %.5f\n", per_scrape * 5760);
  CHECK_RANGE(per_scrape * 5760, 1e-3, 1e-2);
  cfg.background_ops = 0;
  bg_plan_init(&p, &cfg);
  CHECK_EQ(p.gpu_thr, 0);
  for (int n = 0; n < 50; n++)
    for (int64_t t = 0; t < scrapes; t += 7) {
      CHECK_EQ(bg_node_status(&p, n, t), BG_NODE_OK);
      CHECK_EQ(bg_node_drained(&p, n, t), 0);
    }
  CHECK(bg_noise_scale(&cfg, 3) == 1.0f);
}

typedef struct {
  const fleet *f;
  int node0, nnodes;
  int gaps, reboots_seen, counter_drops, xid48_with_dbe, xid_seen, one_gpu_missing;
  uint32_t *last_energy; /* [nnodes*8] */
  uint32_t *last_dbe;
  float *store;          /* [scrapes][nodes*8] temp + counters, for the split test */
} bg_ctx;

static void visit(const tel_window *w, int64_t t, int row, bg_ctx *c) {
  for (int i = 0; i < c->nnodes; i++) {
    size_t o = (size_t)row * c->nnodes + i;
    int missing = isnan(w->node[NM_INLET_TEMP][o].f);
    if (missing) {
      c->gaps++;
      for (int k = 0; k < NM_COUNT; k++)
        if (metric_node[k].type == MT_F32)
          CHECK(isnan(w->node[k][o].f));
    }
    int gpu_missing = 0;
    for (int g = 0; g < FLEET_GPUS; g++) {
      size_t go = o * FLEET_GPUS + (size_t)g, x = (size_t)i * FLEET_GPUS + (size_t)g;
      int gm = isnan(w->gpu[GM_TEMP][go].f);
      gpu_missing += gm;
      if (missing)
        CHECK(gm);
      for (int k = 0; k < GM_COUNT; k++) /* gauges all missing or all there */
        if (metric_gpu[k].type == MT_F32)
          CHECK_EQ(isnan(w->gpu[k][go].f), gm);
      uint32_t e = w->gpu[GM_ENERGY][go].u, dbe = w->gpu[GM_ECC_DBE][go].u;
      if (t > 0 && e < c->last_energy[x]) {
        c->counter_drops++;
        CHECK_LT(e, 700u * 15u * 4u); /* restarted from 0 a few scrapes ago at most */
      }
      uint32_t xid = w->gpu[GM_XID][go].u;
      c->xid_seen += xid != 0;
      if (xid == 48 && dbe > c->last_dbe[x])
        c->xid48_with_dbe++;
      c->last_energy[x] = e;
      c->last_dbe[x] = dbe;
      if (c->store)
        c->store[((size_t)t * (size_t)c->f->nodes + (size_t)c->node0) * FLEET_GPUS + x] =
            w->gpu[GM_TEMP][go].f + (float)w->gpu[GM_ENERGY][go].u + (float)xid +
            (float)w->node[NM_RDMA_RETX][o].u;
    }
    c->one_gpu_missing += !missing && gpu_missing > 0 && gpu_missing < FLEET_GPUS;
  }
}

static void run_model(const fleet *f, int node0, int nnodes, int64_t scrapes, int rows, bg_ctx *c) {
  tel_model *m = NULL;
  tel_window w;
  CHECK_EQ(tel_init(&m, f, node0, nnodes), 0);
  CHECK_EQ(tel_window_init(&w, m, rows), 0);
  tel_drivers *d = calloc((size_t)nnodes, sizeof *d);
  c->last_energy = calloc((size_t)nnodes * FLEET_GPUS, sizeof *c->last_energy);
  c->last_dbe = calloc((size_t)nnodes * FLEET_GPUS, sizeof *c->last_dbe);
  CHECK(d && c->last_energy && c->last_dbe);
  c->f = f;
  c->node0 = node0;
  c->nnodes = nnodes;
  tel_drivers_reset(d, nnodes);
  for (int64_t t0 = 0; t0 < scrapes; t0 += rows) {
    int n = (int)(scrapes - t0 < rows ? scrapes - t0 : rows);
    for (int r = 0; r < n; r++)
      tel_scrape(m, t0 + r, d, &w, r, NULL, NULL);
    for (int r = 0; r < n; r++)
      visit(&w, t0 + r, r, c);
  }
  free(d);
  free(c->last_energy);
  free(c->last_dbe);
  tel_window_destroy(&w);
  tel_destroy(&m);
}

/* High rates, so that a short run shows every kind of operation. */
static void busy_config(fs_config *cfg) {
  cfg_defaults(cfg);
  cfg->nodes = 200;
  cfg->racks = 5;
  cfg->moe_nodes = 60;
  cfg->dense_nodes = 70;
  cfg->training_nodes = 70;
  cfg->njobs = 1;
  cfg->jobs[0].nodes = 32;
  cfg->bg_gaps_per_day = 200;
  cfg->bg_reboots_per_day = 20;
  cfg->bg_xid_scale = 300;
  cfg->bg_gpu_resets_per_day = 0.5;
}

static void test_model_effects(void) {
  fs_config cfg;
  busy_config(&cfg);
  CHECK_EQ(cfg_validate(&cfg), 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  bg_ctx c = {0};
  run_model(f, 0, cfg.nodes, 1440, 240, &c);
  printf("gap scrapes %d, counter drops %d, GPU-scrapes with an XID %d, XID 48 with a DBE %d, "
         "node-scrapes with some GPUs missing %d\n",
         c.gaps, c.counter_drops, c.xid_seen, c.xid48_with_dbe, c.one_gpu_missing);
  CHECK_GT(c.gaps, 0);
  CHECK_GT(c.counter_drops, 0);
  CHECK_GT(c.xid_seen, 0);
  CHECK_GT(c.xid48_with_dbe, 0);
  CHECK_GT(c.one_gpu_missing, 0);
  fleet_destroy(&f);

  /* off: nothing of it */
  cfg.background_ops = 0;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  bg_ctx off = {0};
  run_model(f, 0, cfg.nodes, 480, 240, &off);
  CHECK_EQ(off.gaps, 0);
  CHECK_EQ(off.counter_drops, 0);
  CHECK_EQ(off.xid_seen, 0);
  CHECK_EQ(off.one_gpu_missing, 0);
  fleet_destroy(&f);
}

/* Two instances over parts of the fleet give the bits of one over all of it. */
static void test_split_invariance(void) {
  fs_config cfg;
  busy_config(&cfg);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  const int64_t scrapes = 600;
  const size_t n = (size_t)scrapes * (size_t)cfg.nodes * FLEET_GPUS;
  float *whole = calloc(n, sizeof *whole), *part = calloc(n, sizeof *part);
  CHECK(whole && part);
  bg_ctx a = {.store = whole}, b = {.store = part}, b2 = {.store = part};
  run_model(f, 0, cfg.nodes, scrapes, 64, &a);
  run_model(f, 0, 2 * f->nodes_per_rack, scrapes, 37, &b);
  run_model(f, 2 * f->nodes_per_rack, cfg.nodes - 2 * f->nodes_per_rack, scrapes, 50, &b2);
  CHECK_EQ(memcmp(whole, part, n * sizeof *whole), 0);
  free(whole);
  free(part);
  fleet_destroy(&f);
}

int main(void) {
  test_plan_rates();
  test_model_effects();
  test_split_invariance();
  printf("unit_background: %ld checks passed\n", check_count);
  return 0;
}
