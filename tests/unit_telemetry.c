/* Telemetry model checks without faults (and without background
 * operations, tests/unit_background.c): the seed's operating ranges
 * (training 72-78 C, inference 55-68 C, diurnal inference load peaking at
 * 14:00), monotonic counters, every GPU metric written, NaN exactly for the
 * node metrics the catalogue says a node does not report, and
 * identical values whichever node range a model instance owns (the property
 * that makes archives rank-count invariant). */
#include <math.h>

#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"
#include "tests/check.h"

enum { RACKS_SIMULATED = 3 };

typedef struct {
  double sum, n;
} mean_acc;

static void run_model(const fleet *f, int node0, int nnodes, int64_t scrapes, int rows,
                      void (*visit)(const tel_window *, int64_t t, int row, int node0, void *),
                      void *ctx) {
  tel_model *m = NULL;
  tel_window w;
  CHECK_EQ(tel_init(&m, f, node0, nnodes), 0);
  CHECK_EQ(tel_window_init(&w, m, rows), 0);
  tel_drivers *d = calloc((size_t)nnodes, sizeof *d);
  double *jm = calloc((size_t)rows * (size_t)(f->njobs + 1), sizeof *jm);
  CHECK(d && jm);
  for (int64_t t0 = 0; t0 < scrapes; t0 += rows) {
    int n = (int)(scrapes - t0 < rows ? scrapes - t0 : rows);
    for (int r = 0; r < n; r++) {
      tel_drivers_reset(d, nnodes);
      tel_scrape(m, t0 + r, d, &w, r, NULL, NULL);
    }
    /* single instance: its local job maxima are the global ones only when
     * it holds every node of the job; the visitors below skip step time */
    tel_job_local_max(m, &w, n, jm);
    tel_finish_training(m, &w, n, jm);
    for (int r = 0; r < n; r++)
      visit(&w, t0 + r, r, node0, ctx);
  }
  free(d);
  free(jm);
  tel_window_destroy(&w);
  tel_destroy(&m);
}

typedef struct {
  const fleet *f;
  int nnodes;
  mean_acc temp[TENANT_COUNT];
  double min_temp[TENANT_COUNT], max_temp[TENANT_COUNT];
  mean_acc util_14h, util_02h; /* inference SM utilisation at peak and trough */
  uint32_t last_counter[GM_COUNT];
  int counters_checked;
  int64_t scrapes_seen;
} range_ctx;

static void visit_ranges(const tel_window *w, int64_t t, int row, int node0, void *vctx) {
  range_ctx *c = vctx;
  const fleet *f = c->f;
  double hour = tel_hour_of_day(f->cfg, t);
  for (int i = 0; i < c->nnodes; i++) {
    int n = node0 + i, tenant = f->node_tenant[n];
    size_t o = (size_t)row * c->nnodes + i;
    int idle = tenant == TENANT_TRAINING && f->node_job[n] < 0;
    /* NaN exactly where the catalogue says the node does not report the
     * metric (a reported one left unwritten stays NaN from tel_init) */
    unsigned reporter = metric_reporter(tenant, f->node_job[n]);
    for (int k = 0; k < NM_COUNT; k++)
      if (metric_node[k].type == MT_F32)
        CHECK(isnan(w->node[k][o].f) != metric_reported(&metric_node[k], reporter));
    CHECK(isnan(w->node[NM_TTFT][o].f) == (tenant == TENANT_TRAINING));
    CHECK(isnan(w->node[NM_ENTROPY][o].f) == (tenant != TENANT_MOE));
    CHECK(isnan(w->node[NM_STEP_TIME][o].f) == (tenant != TENANT_TRAINING || idle));
    CHECK(isnan(w->node[NM_NCCL_LAT][o].f) == idle);
    CHECK_RANGE(w->node[NM_INLET_TEMP][o].f, 18.0, 26.0);
    for (int g = 0; g < FLEET_GPUS; g++) {
      size_t go = o * FLEET_GPUS + (size_t)g;
      /* every GPU reports every GPU metric: tel_init fills the stage with
       * NaN, so a metric the physics never writes shows here (no counter or
       * code of this run comes near the NaN bit patterns) */
      for (int k = 0; k < GM_COUNT; k++)
        CHECK(!isnan(w->gpu[k][go].f));
      float temp = w->gpu[GM_TEMP][go].f;
      float util = w->gpu[GM_SM_UTIL][go].f;
      CHECK_RANGE(util, 0.0, 100.0);
      CHECK_RANGE(w->gpu[GM_POWER][go].f, 40.0, 700.0);
      CHECK_EQ(w->gpu[GM_ECC_DBE][go].u, 0);
      if (!idle && t > 20) {
        mean_acc *a = &c->temp[tenant];
        a->sum += temp;
        a->n += 1;
        if (temp < c->min_temp[tenant])
          c->min_temp[tenant] = temp;
        if (temp > c->max_temp[tenant])
          c->max_temp[tenant] = temp;
      }
      if (tenant != TENANT_TRAINING && fabs(hour - 14.0) < 0.25) {
        c->util_14h.sum += util;
        c->util_14h.n += 1;
      }
      if (tenant != TENANT_TRAINING && fabs(hour - 2.0) < 0.25) {
        c->util_02h.sum += util;
        c->util_02h.n += 1;
      }
    }
  }
  /* counters of node 0 GPU 0 never decrease */
  for (int k = 0; k < GM_COUNT; k++) {
    if (!metric_is_counter(&metric_gpu[k]))
      continue;
    uint32_t v = w->gpu[k][(size_t)row * c->nnodes * FLEET_GPUS].u;
    CHECK_GE(v, c->last_counter[k]);
    c->last_counter[k] = v;
    c->counters_checked++;
  }
  c->scrapes_seen++;
}

static void test_operating_ranges(const fleet *f) {
  range_ctx c = {.f = f, .nnodes = RACKS_SIMULATED * f->nodes_per_rack};
  for (int k = 0; k < TENANT_COUNT; k++) {
    c.min_temp[k] = 1e9;
    c.max_temp[k] = -1e9;
  }
  run_model(f, 0, c.nnodes, cfg_scrapes(f->cfg), 240, visit_ranges, &c);
  CHECK_EQ(c.scrapes_seen, 5760);
  double train = c.temp[TENANT_TRAINING].sum / c.temp[TENANT_TRAINING].n;
  double moe = c.temp[TENANT_MOE].sum / c.temp[TENANT_MOE].n;
  double dense = c.temp[TENANT_DENSE].sum / c.temp[TENANT_DENSE].n;
  printf("mean junction temperature: training %.1f C, moe %.1f C, dense %.1f C\n", train, moe,
         dense);
  printf("training range %.1f..%.1f C, inference range %.1f..%.1f C\n",
         c.min_temp[TENANT_TRAINING], c.max_temp[TENANT_TRAINING], c.min_temp[TENANT_DENSE],
         c.max_temp[TENANT_DENSE]);
  CHECK_RANGE(train, 72.0, 78.0);
  CHECK_RANGE(moe, 55.0, 68.0);
  CHECK_RANGE(dense, 55.0, 68.0);
  /* training stays below the 83 C throttle point without a fault */
  CHECK_LT(c.max_temp[TENANT_TRAINING], 83.0);
  double u14 = c.util_14h.sum / c.util_14h.n, u02 = c.util_02h.sum / c.util_02h.n;
  printf("inference SM util: 14:00 %.1f %%, 02:00 %.1f %%\n", u14, u02);
  CHECK_GT(u14, u02 + 30.0);
  CHECK_GT(c.counters_checked, 0);
}

/* Two model instances over halves must reproduce one instance over the whole. */
typedef struct {
  int nnodes, total_nodes;
  float *store; /* [scrapes][total_nodes][8] gpu temp, [..] node ttft after */
  int64_t scrapes;
} split_ctx;

static void visit_store(const tel_window *w, int64_t t, int row, int node0, void *vctx) {
  split_ctx *c = vctx;
  for (int i = 0; i < c->nnodes; i++)
    for (int g = 0; g < FLEET_GPUS; g++) {
      size_t dst = ((size_t)t * c->total_nodes + (size_t)(node0 + i)) * FLEET_GPUS + (size_t)g;
      size_t src = ((size_t)row * c->nnodes + (size_t)i) * FLEET_GPUS + (size_t)g;
      c->store[dst] = w->gpu[GM_TEMP][src].f + (float)w->gpu[GM_NVLINK_REPLAY][src].u +
                      w->node[NM_INLET_TEMP][(size_t)row * c->nnodes + i].f;
    }
}

static void test_split_invariance(const fleet *f) {
  int npr = f->nodes_per_rack, total = 3 * npr;
  int64_t scrapes = 200;
  size_t n = (size_t)scrapes * total * FLEET_GPUS;
  split_ctx whole = {.nnodes = total, .total_nodes = total, .store = calloc(n, sizeof(float))};
  split_ctx part = {.total_nodes = total, .store = calloc(n, sizeof(float))};
  CHECK(whole.store && part.store);
  run_model(f, 0, total, scrapes, 64, visit_store, &whole);
  part.nnodes = npr;
  run_model(f, 0, npr, scrapes, 37, visit_store, &part);
  part.nnodes = 2 * npr;
  run_model(f, npr, 2 * npr, scrapes, 50, visit_store, &part);
  CHECK_EQ(memcmp(whole.store, part.store, n * sizeof(float)), 0);
  free(whole.store);
  free(part.store);
}

int main(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  test_split_invariance(f); /* background operations on (the default) */
  fleet_destroy(&f);
  /* the fault-free model alone: background operations (gaps, XIDs, counter
   * resets) are unit_background's */
  cfg.background_ops = 0;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  test_operating_ranges(f);
  fleet_destroy(&f);
  printf("unit_telemetry: %ld checks passed\n", check_count);
  return 0;
}
