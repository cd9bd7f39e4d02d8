/* The LLM context builders (pipeline/detect/context.c) on the 12-node fleet
 * of lib_fleet.h, fed by the detector and the aggregation over 24 blocks of
 * lib_detect.h's synthetic telemetry (one process: MPI at np 1). What an
 * operator sees, value by value: L2 (the event, the node against its peers,
 * its GPUs), L3 (the hour's series, the rack, where else the signal shows,
 * the tenant), L4 (cluster, SLA, incidents, jobs, hourly and rack tables).
 * No key anywhere speaks of scenarios, faults or causes: contexts carry
 * evidence, never ground truth. The builder saved to memory and loaded into
 * a fresh one renders the same text. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/detect/aggregate.h"
#include "pipeline/detect/context.h"
#include "pipeline/detect/detect.h"
#include "src/core/checkpoint.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/actions.h"
#include "tests/check.h"
#include "tests/lib_detect.h"
#include "tests/lib_fleet.h"

enum { STEPS = 24 };

static json_t *parse(char *text) {
  CHECK(text != NULL);
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  if (!o)
    CHECK_FAIL("not JSON (%s): %s", err.text, text);
  free(text);
  return o;
}

/* The value at a path of object keys and array indices ("a.b.3.c"). */
static json_t *at(json_t *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
    json_t *next =
        json_is_array(o) ? json_array_get(o, strtoul(k, NULL, 10)) : json_object_get(o, k);
    if (!next)
      CHECK_FAIL("no '%s' in path %s", k, path);
    o = next;
  }
  return o;
}

static void check_str(json_t *o, const char *path, const char *want) {
  json_t *v = at(o, path);
  if (!json_is_string(v))
    CHECK_FAIL("%s is not a string", path);
  CHECK_STREQ(json_string_value(v), want);
}

static void check_num(json_t *o, const char *path, double want, double tol) {
  json_t *v = at(o, path);
  if (!json_is_number(v))
    CHECK_FAIL("%s is not a number", path);
  CHECK_NEAR(json_number_value(v), want, tol);
}

static void check_null(json_t *o, const char *path) { CHECK(json_is_null(at(o, path))); }

/* Exactly these keys (in this order). */
static void check_keys(json_t *o, const char *const *keys) {
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!keys[n])
      CHECK_FAIL("unexpected key '%s'", k);
    CHECK_STREQ(k, keys[n]);
    n++;
  }
  CHECK(keys[n] == NULL);
}

/* actions_available: one short line per action of src/model/actions.h. */
static void check_actions(json_t *o) {
  json_t *a = json_object_get(o, "actions_available");
  CHECK_EQ(json_array_size(a), ACT_COUNT);
  check_str(o, "actions_available.0", "no_op");
  check_str(o, "actions_available.1", "drain_node node-NNNN");
  check_str(o, "actions_available.3", "checkpoint_job a training job id");
  check_str(o, "actions_available.5", "rebalance_experts node-NNNN, rack-NN or a tenant");
  check_str(o, "actions_available.8", "power_cap_rack rack-NN");
  check_str(o, "actions_available.11", "rma_gpu node-NNNN/gpuK");
}

/* No key at any depth names ground truth. */
static void check_no_truth(json_t *o) {
  static const char *const words[] = {"scenario", "truth", "fault", "inject", "kind", "cause"};
  if (json_is_array(o)) {
    for (size_t i = 0; i < json_array_size(o); i++)
      check_no_truth(json_array_get(o, i));
    return;
  }
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
      if (strstr(k, words[i]))
        CHECK_FAIL("key '%s' speaks of %s", k, words[i]);
    check_no_truth(v);
  }
  check_count++;
}

static void check_l2(json_t *o, const fleet *f) {
  static const char *const root[] = {"layer", "event", "node", "gpus", "gpu_peer_median", NULL};
  static const char *const ev[] = {"id",
                                   "time",
                                   "scope",
                                   "node",
                                   "rack",
                                   "job",
                                   "tenant",
                                   "nodes_affected",
                                   "trigger",
                                   "cooccurring",
                                   "escalated_by_detector",
                                   NULL};
  check_keys(o, root);
  check_keys(at(o, "event"), ev);
  check_str(o, "layer", "L2");
  check_num(o, "event.id", 0, 0);
  check_str(o, "event.time", "00:25"); /* the end of block 4 */
  check_str(o, "event.scope", "gpu");
  check_str(o, "event.node", "node-0003");
  check_str(o, "event.rack", "rack-00");
  check_null(o, "event.job");
  check_str(o, "event.tenant", "moe-inference");
  check_num(o, "event.nodes_affected", 1, 0);
  check_str(o, "event.trigger.metric", "gpu_temp_celsius");
  check_str(o, "event.trigger.gpu", "node-0003/gpu5");
  check_num(o, "event.trigger.z", 10, 0);
  check_num(o, "event.trigger.value", 72, 0);
  check_num(o, "event.trigger.baseline", 60, 0);
  check_str(o, "event.trigger.units", "C");
  CHECK_EQ(json_array_size(at(o, "event.cooccurring")), 0);
  CHECK(json_is_false(at(o, "event.escalated_by_detector")));
  check_str(o, "node.name", "node-0003");
  check_str(o, "node.tenant", "moe-inference");
  check_num(o, "node.metrics.ttft_ms.value", 200, 0);
  check_num(o, "node.metrics.ttft_ms.peer_median", 200, 0);
  CHECK(json_object_get(at(o, "node.metrics"), "step_time_ms") == NULL); /* not a MoE metric */
  CHECK(json_object_get(at(o, "node.metrics"), "expert_selection_entropy_nats") != NULL);
  CHECK_EQ(json_array_size(at(o, "gpus")), FLEET_GPUS);
  check_str(o, "gpus.5.gpu", "node-0003/gpu5");
  check_num(o, "gpus.5.temp_c", 72, 0);
  check_num(o, "gpus.4.temp_c", 60, 0);
  check_num(o, "gpus.5.silicon_lot", f->gpu_lot[3 * FLEET_GPUS + 5], 0);
  check_num(o, "gpus.5.xid", 0, 0);
  check_num(o, "gpu_peer_median.temp_c", 60, 0);
  /* the rest as measured, to 4 significant digits */
  float inlet = syn_node_feature(f, NM_INLET_TEMP, 3, SYN_HOT_BLOCK);
  check_num(o, "node.metrics.inlet_temp_celsius.value", inlet, 1e-3 * inlet);
  float power = syn_gpu_feature(f, GM_POWER, 3, 6, SYN_HOT_BLOCK);
  check_num(o, "gpus.6.power_w", power, 1e-3 * power);
  check_no_truth(o);
}

/* L3 of the ECC event (node 7 GPU 2, block 5), built 30 minutes after it. */
static void check_l3(json_t *o) {
  static const char *const root[] = {"layer",
                                     "event",
                                     "node",
                                     "gpus",
                                     "gpu_peer_median",
                                     "timeline",
                                     "rack",
                                     "same_signal_elsewhere",
                                     "tenant_context",
                                     "actions_available",
                                     NULL};
  check_keys(o, root);
  check_actions(o);
  check_str(o, "layer", "L3");
  check_str(o, "event.trigger.metric", "gpu_ecc_sbe_total");
  check_num(o, "event.trigger.z", 16.05, 0);
  CHECK(json_is_true(at(o, "event.escalated_by_detector")));
  json_t *minutes = at(o, "timeline.minutes_from_event");
  CHECK_EQ(json_array_size(minutes), 2 * CTX_SERIES_HALF + 1);
  check_num(minutes, "0", -30, 0);
  check_num(minutes, "12", 30, 0);
  json_t *sbe = at(o, "timeline.series.gpu_ecc_sbe_total/gpu2");
  check_str(sbe, "units", "errors");
  check_null(sbe, "node.0"); /* 30 minutes before block 5: before the run */
  check_null(sbe, "peer_median.0");
  for (int i = 1; i < 2 * CTX_SERIES_HALF + 1; i++) {
    char p[32];
    snprintf(p, sizeof p, "node.%d", i);
    check_num(sbe, p, i < CTX_SERIES_HALF ? 0 : 60, 0); /* 3 a scrape from the event on */
    snprintf(p, sizeof p, "peer_median.%d", i);
    check_num(sbe, p, 0, 0);
  }
  /* the dense tenant's key metrics: TTFT steps up one block after the event */
  json_t *ttft = at(o, "timeline.series.ttft_ms");
  check_num(ttft, "node.6", 200, 0);
  check_num(ttft, "node.7", 300, 0);
  check_num(ttft, "peer_median.7", 300, 0);
  check_str(o, "rack.rack", "rack-01");
  check_num(o, "rack.row", 0, 0);
  check_num(o, "rack.nodes", 4, 0);
  check_num(o, "rack.neighbours_flagged", 0, 0);
  CHECK_EQ(json_array_size(at(o, "rack.node_table.rows")), 4);
  check_str(o, "rack.node_table.columns.0", "node");
  check_str(o, "rack.node_table.rows.3.0", "node-0007");
  check_num(o, "rack.node_table.rows.3.9", 60, 0); /* sbe_per_5min_max */
  check_str(o, "same_signal_elsewhere.metric", "gpu_ecc_sbe_total");
  CHECK_EQ(json_array_size(at(o, "same_signal_elsewhere.nodes")), 0);
  check_str(o, "tenant_context.tenant", "dense-inference");
  check_num(o, "tenant_context.nodes", 4, 0);
  check_null(o, "tenant_context.job");
  check_no_truth(o);
}

/* L4 of the whole run: 24 steps, two hours. */
static void check_l4(json_t *o, const float *cluster, float step_ms_now) {
  static const char *const root[] = {"layer",
                                     "window",
                                     "cluster",
                                     "sla_budget_remaining",
                                     "l1",
                                     "escalated_incidents",
                                     "training_jobs",
                                     "hourly",
                                     "racks",
                                     "actions_available",
                                     NULL};
  check_keys(o, root);
  check_actions(o);
  check_str(o, "window.from", "00:00");
  check_str(o, "window.to", "02:00");
  check_num(o, "window.hours", 2, 0);
  const float *now = &cluster[(STEPS - 1) * CM_COUNT];
  check_num(o, "cluster.it_power_mw", now[CM_IT_POWER] / 1e6, 1e-3);
  check_num(o, "cluster.facility_pue", now[CM_PUE], 1e-3);
  check_num(o, "cluster.nodes", 12, 0);
  check_num(o, "cluster.gpus", 96, 0);
  check_num(o, "sla_budget_remaining.training.start", cluster[CM_SLA_TRAIN], 1e-4);
  check_num(o, "sla_budget_remaining.training.end", now[CM_SLA_TRAIN], 1e-4);
  check_num(o, "sla_budget_remaining.training.burned", cluster[CM_SLA_TRAIN] - now[CM_SLA_TRAIN],
            1e-4);
  check_num(o, "l1.events", 3, 0);
  check_num(o, "l1.escalated", 2, 0);
  check_str(o, "escalated_incidents.0.summary",
            "gpu event on node-0007 (dense-inference): gpu_ecc_sbe_total z=16.0");
  check_str(o, "escalated_incidents.1.summary",
            "cluster event on node-0001 (dense-inference): ttft_ms z=10.0");
  check_str(o, "training_jobs.0.job", "train-000");
  check_str(o, "training_jobs.0.model", "tiny");
  check_num(o, "training_jobs.0.baseline_step_ms", 1500, 0);
  check_num(o, "training_jobs.0.step_ms_now", step_ms_now, 1e-3 * step_ms_now);
  CHECK_EQ(json_array_size(at(o, "hourly.rows")), 2);
  check_str(o, "hourly.rows.0.0", "01:00");
  check_num(o, "hourly.rows.0.1", cluster[11 * CM_COUNT + CM_IT_POWER] / 1e6, 1e-3);
  check_num(o, "hourly.rows.0.9", 3, 0);  /* events in the first hour */
  check_num(o, "hourly.rows.0.10", 2, 0); /* escalated */
  check_num(o, "hourly.rows.1.9", 0, 0);
  CHECK_EQ(json_array_size(at(o, "racks.rows")), 3);
  for (int r = 0; r < 3; r++) { /* every rack has one GPU running 12 C hot */
    char p[32];
    snprintf(p, sizeof p, "racks.rows.%d.3", r);
    check_num(o, p, 72, 0);
  }
  check_no_truth(o);
}

/* Cluster metrics of step s: power growing, SLA budgets burning. */
static void cluster_of(int s, float *c) {
  for (int k = 0; k < CM_COUNT; k++)
    c[k] = 1.0f + (float)k;
  c[CM_IT_POWER] = 1.2e6f + 1000.0f * (float)s;
  c[CM_PUE] = 1.3f;
  c[CM_OUTDOOR_TEMP] = 20.0f + 0.1f * (float)s;
  c[CM_SLA_MOE] = 1.0f - 0.001f * (float)s;
  c[CM_SLA_DENSE] = 1.0f - 0.002f * (float)s;
  c[CM_SLA_TRAIN] = 1.0f - 0.003f * (float)s;
}

static void save(const ctx_builder *b, ckpt_buf *img) {
  ckpt_file *f = NULL;
  CHECK_EQ(ckpt_create_mem(&f, img, "mem:contexts"), 0);
  ctx_save(b, f);
  CHECK_EQ(ckpt_commit(&f), 0);
}

static void check_checkpoint(const ctx_builder *b, const fleet *f, const ev_event *ev, int n) {
  ckpt_buf img = {0}, again = {0};
  save(b, &img);
  ctx_builder *c = NULL;
  CHECK_EQ(ctx_init(&c, f, STEPS), 0);
  ckpt_file *r = NULL;
  CHECK_EQ(ckpt_open_mem(&r, img.data, img.len, "mem:contexts"), 0);
  CHECK_EQ(ctx_load(c, r), 0);
  CHECK_EQ(ckpt_close(&r), 0);
  save(c, &again);
  CHECK(again.len == img.len && memcmp(again.data, img.data, img.len) == 0);
  ev_event late = ev[0]; /* the ring now holds the last 13 blocks: an event among them */
  late.step = STEPS - 3;
  char *x = ctx_l3(b, &late), *y = ctx_l3(c, &late);
  CHECK(x && y);
  CHECK_STREQ(x, y);
  free(x);
  free(y);
  x = ctx_l4(b, -1, STEPS - 1, ev, n);
  y = ctx_l4(c, -1, STEPS - 1, ev, n);
  CHECK(x && y);
  CHECK_STREQ(x, y);
  free(x);
  free(y);
  /* a builder for another run length refuses it, naming the fields */
  ctx_destroy(&c);
  CHECK_EQ(ctx_init(&c, f, STEPS + 1), 0);
  diag_clear();
  CHECK_EQ(ckpt_open_mem(&r, img.data, img.len, "mem:contexts"), 0);
  CHECK_EQ(ctx_load(c, r), FS_EIO);
  CHECK_EQ(ckpt_close(&r), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:contexts: section 'CTX1', fields 'classes', "
                            "'total_steps': 4 classes and 24 steps, this run has 4 and 25");
  ctx_destroy(&c);
  ckpt_buf_free(&img);
  ckpt_buf_free(&again);
  printf("ok: the builder round trips in memory and renders the same L3 and L4\n");
}

int main(int argc, char **argv) {
  CHECK_EQ(par_init(&argc, &argv), 0);
  CHECK_EQ(par_size(), 1);
  static fs_config cfg;
  fleet12_config(&cfg, 0);
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  syn_window s;
  syn_window_init(&s, f);
  det_state *d = NULL;
  agg_state *a = NULL;
  ctx_builder *b = NULL;
  CHECK_EQ(det_init(&d, f, s.node0, s.nnodes, SYN_B), 0);
  CHECK_EQ(agg_init(&a, f), 0);
  CHECK_EQ(ctx_init(&b, f, STEPS), 0);
  static float cluster[STEPS * CM_COUNT];
  float step_ms_now = 0;
  for (int step = 0; step < STEPS; step++) {
    syn_fill(&s, f, step, &d, 1);
    syn_block_out out = {0};
    syn_detect(d, &s, &out);
    double t_end = (double)(step + 1) * SYN_B * cfg.scrape_interval_s;
    cluster_of(step, &cluster[step * CM_COUNT]);
    CHECK_EQ(agg_step(a, step, t_end, out.all, out.nall, out.trends, out.ntrends), 0);
    CHECK_EQ(ctx_record_step(b, d, step, t_end, out.all, out.nall, &cluster[step * CM_COUNT]), 0);
    free(out.all);
    int n;
    const ev_event *ev = agg_events(a, &n);
    if (step == SYN_HOT_BLOCK) {
      CHECK_EQ(n, 1);
      json_t *o = parse(ctx_l2(b, &ev[0]));
      check_l2(o, f);
      json_decref(o);
      printf("ok: L2 of the GPU event: the trigger, the node against its peers, its GPUs\n");
    }
    if (step == SYN_SBE_BLOCK + CTX_SERIES_HALF) {
      json_t *o = parse(ctx_l3(b, &ev[1]));
      check_l3(o);
      json_decref(o);
      printf("ok: L3 of the ECC event: the hour's series, the rack, the tenant\n");
    }
    step_ms_now = det_class_node_median(d, 3, NM_STEP_TIME);
  }
  int n;
  const ev_event *ev = agg_events(a, &n);
  CHECK_EQ(n, 3);
  CHECK(ctx_l2(b, &ev[0]) == NULL); /* block 4 has left the ring of recent blocks */
  json_t *o = parse(ctx_l4(b, -1, STEPS - 1, ev, n));
  check_l4(o, cluster, step_ms_now);
  json_decref(o);
  printf("ok: L4 of the run: cluster, SLA, incidents, jobs, hourly and rack tables\n");
  check_checkpoint(b, f, ev, n);
  ctx_destroy(&b);
  CHECK(b == NULL);
  ctx_destroy(&b);
  agg_destroy(&a);
  det_destroy(&d);
  syn_window_destroy(&s);
  fleet_destroy(&f);
  printf("unit_context: %ld checks passed\n", check_count);
  par_finalize();
  return 0;
}
