/* Operators' actions (src/model/mitigation.c) on the 12-node test fleet
 * (tests/lib_fleet.h: racks of 4, node i of tenant i % 3 (moe, dense,
 * training), job train-000 on nodes 2 and 5), background operations off:
 * for every action its drivers and, where it shows there, its effect on the
 * telemetry against the same run without it (same seed, so the same noise);
 * mit_node_out and restarts' rollback seconds against the checkpoint
 * schedule; the same drivers for a node whichever nodes a call covers
 * (rank-count invariance); bad actions refused. */
#include <string.h>

#include "src/core/errors.h"
#include "src/model/fleet.h"
#include "src/model/mitigation.h"
#include "src/model/telemetry.h"
#include "tests/check.h"
#include "tests/lib_fleet.h"

enum { NN = 12 };

/* A fault injector stand-in: sets drivers of every node at scrape t. */
typedef void (*fault_fn)(int64_t t, tel_drivers *d);

/* One simulated run up to a scrape: its window row 0 holds that scrape,
 * d and jd the drivers it ran with. */
typedef struct {
  tel_model *m;
  tel_window w;
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  int changed; /* mit_drive's answer at the last scrape */
} run_t;

static void run_to(const fleet *f, const mit_state *mit, fault_fn fault, int64_t last, run_t *r) {
  CHECK_EQ(f->nodes, NN);
  CHECK_EQ(tel_init(&r->m, f, 0, NN), 0);
  CHECK_EQ(tel_window_init(&r->w, r->m, 1), 0);
  tel_job_drivers *jd = tel_job_drivers_of(r->m);
  for (int64_t t = 0; t <= last; t++) {
    tel_drivers_reset(r->d, NN);
    tel_job_drivers_reset(jd, f->njobs);
    if (fault)
      fault(t, r->d);
    r->changed = mit ? mit_drive(mit, t, 0, NN, r->d, jd) : 0;
    tel_scrape(r->m, t, r->d, &r->w, 0, NULL, NULL);
  }
  memcpy(r->jd, jd, sizeof *jd * (size_t)f->njobs);
  double jm[CFG_MAX_JOBS];
  tel_job_local_max(r->m, &r->w, 1, jm); /* one instance holds every node */
  tel_finish_training(r->m, &r->w, 1, jm);
}

static void run_free(run_t *r) {
  tel_window_destroy(&r->w);
  tel_destroy(&r->m);
}

static float node_val(const run_t *r, int k, int n) { return r->w.node[k][n].f; }
static float gpu_val(const run_t *r, int k, int n, int g) {
  return r->w.gpu[k][n * FLEET_GPUS + g].f;
}
static float gpu_mean(const run_t *r, int k, int n) {
  float s = 0;
  for (int g = 0; g < FLEET_GPUS; g++)
    s += gpu_val(r, k, n, g);
  return s / FLEET_GPUS;
}

static act_action action(act_kind k) {
  return (act_action){.kind = k, .node = -1, .gpu = -1, .rack = -1, .job = -1, .tenant = -1};
}

static act_action on_node(const fleet *f, act_kind k, int n) {
  act_action a = action(k);
  a.node = n;
  a.rack = f->node_rack[n];
  if (k == ACT_RESTART_JOB_WITHOUT_NODE)
    a.job = f->node_job[n];
  return a;
}

static act_action on_rack(act_kind k, int rack) {
  act_action a = action(k);
  a.rack = rack;
  return a;
}

/* The whole fleet's drivers at scrape t after faults and the actions. */
static int drive_all(const mit_state *mit, const fleet *f, fault_fn fault, int64_t t,
                     tel_drivers *d, tel_job_drivers *jd) {
  tel_drivers_reset(d, NN);
  tel_job_drivers_reset(jd, f->njobs);
  if (fault)
    fault(t, d);
  return mit_drive(mit, t, 0, NN, d, jd);
}

/* ---- faults the tests lay under the actions ----------------------------- */

static void fault_none(int64_t t, tel_drivers *d) { (void)t, (void)d; }

static void fault_collapse(int64_t t, tel_drivers *d) { /* MoE nodes 0 and 3 */
  (void)t;
  d[0].routing_collapse = d[3].routing_collapse = 0.9f;
}

static void fault_context(int64_t t, tel_drivers *d) { /* long prompts on nodes 0, 1, 4 */
  (void)t;
  d[0].context_scale = d[1].context_scale = d[4].context_scale = 3.0f;
}

static void fault_heat(int64_t t, tel_drivers *d) { /* hot aisle on node 5, a limit on 1 */
  (void)t;
  d[5].inlet_delta_c = 6.0f;
  d[1].gpu_power_limit_w = 400.0f;
}

static void fault_gpu(int64_t t, tel_drivers *d) { /* node 1: GPU 3 SBE + sag, GPU 4 sag */
  (void)t;
  d[1].sbe_per_interval[3] = 5.0f;
  d[1].clock_sag_mhz[3] = 400.0f;
  d[1].clock_sag_mhz[4] = 400.0f;
  d[1].gpu_off_bus_mask = 0x08;
  d[5].sbe_per_interval[0] = 5.0f; /* job node 5, GPU 0 */
  d[0].sbe_per_interval[2] = 50.0f; /* the MoE node a test drains */
}

/* ---- tests -------------------------------------------------------------- */

static void test_empty_and_no_op(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  tel_drivers d[NN], ref[NN];
  tel_job_drivers jd[CFG_MAX_JOBS], jref[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, fault_context, 5, d, jd), 0); /* empty: nothing at once */
  CHECK_EQ(mit_count(mit), 0);
  act_action a = action(ACT_NO_OP);
  CHECK_EQ(mit_apply(mit, &a, 10), 0);
  a = on_node(f, ACT_CORDON_NODE, 4);
  CHECK_EQ(mit_apply(mit, &a, 10), 0);
  CHECK_EQ(mit_count(mit), 2);
  for (int64_t t = 10; t < 400; t += 37) {
    CHECK_EQ(drive_all(mit, f, fault_context, t, d, jd), 0);
    tel_drivers_reset(ref, NN);
    fault_context(t, ref);
    tel_job_drivers_reset(jref, f->njobs);
    CHECK(memcmp(d, ref, sizeof d) == 0);
    CHECK(memcmp(jd, jref, sizeof *jd * (size_t)f->njobs) == 0);
    for (int n = 0; n < NN; n++)
      CHECK_EQ(mit_node_out(mit, n, t), 0);
    CHECK_EQ(mit_job_rollback_s(mit, 0, t), 0);
  }
  /* the telemetry is the run's without actions, cell for cell */
  run_t with, without;
  run_to(f, mit, fault_context, 200, &with);
  run_to(f, NULL, fault_context, 200, &without);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK(memcmp(with.w.node[k], without.w.node[k], NN * sizeof(tel_cell)) == 0);
  for (int k = 0; k < GM_COUNT; k++)
    CHECK(memcmp(with.w.gpu[k], without.w.gpu[k], NN * FLEET_GPUS * sizeof(tel_cell)) == 0);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
  CHECK(mit == NULL);
  mit_destroy(&mit); /* NULL is fine */
}

static void test_bad_actions(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_node(f, ACT_DRAIN_NODE, 3);
  a.node = NN; /* outside the fleet */
  CHECK_EQ(mit_apply(mit, &a, 5), FS_EINVAL);
  a = on_rack(ACT_POWER_CAP_RACK, 3);
  CHECK_EQ(mit_apply(mit, &a, 5), FS_EINVAL);
  a = action(ACT_CHECKPOINT_JOB);
  a.job = 1;
  CHECK_EQ(mit_apply(mit, &a, 5), FS_EINVAL);
  a = action(ACT_COUNT);
  CHECK_EQ(mit_apply(mit, &a, 5), FS_EINVAL);
  a = action(ACT_NO_OP);
  CHECK_EQ(mit_apply(mit, &a, -1), FS_EINVAL);
  CHECK_EQ(mit_apply(mit, &a, 8), 0);
  CHECK_EQ(mit_apply(mit, &a, 7), FS_EINVAL); /* earlier than the last */
  CHECK_EQ(mit_count(mit), 1);
  mit_destroy(&mit);
}

static void test_drain(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_node(f, ACT_DRAIN_NODE, 0); /* MoE */
  CHECK_EQ(mit_apply(mit, &a, 100), 0);
  a = on_node(f, ACT_DRAIN_NODE, 2); /* job node */
  CHECK_EQ(mit_apply(mit, &a, 100), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, NULL, 99, d, jd), 0);
  CHECK_EQ(mit_node_out(mit, 0, 99), 0);
  CHECK_EQ(drive_all(mit, f, NULL, 100, d, jd), 1);
  CHECK_EQ(d[0].drained, 1);
  CHECK_EQ(d[2].drained, 1);
  CHECK_EQ(d[2].job_excluded, 1);
  for (int n = 3; n < NN; n += 3) /* the MoE tenant's other nodes carry 4/3 */
    CHECK_NEAR(d[n].load_scale, 4.0 / 3.0, 1e-6);
  for (int n = 1; n < NN; n += 3) /* dense: nothing */
    CHECK(d[n].load_scale == 0 && d[n].drained == 0);
  CHECK_NEAR(jd[0].restart_s, 15.0, 1e-6); /* the job relaunches without node 2 */
  CHECK_EQ(mit_node_out(mit, 0, 100), 1);
  CHECK_EQ(mit_node_out(mit, 2, 5000), 1);
  CHECK_EQ(mit_node_out(mit, 3, 100), 0);
  CHECK(mit_job_rollback_s(mit, 0, 100) > 0);
  CHECK_EQ(mit_job_rollback_s(mit, 0, 101), 0);

  run_t with, without;
  run_to(f, mit, fault_gpu, 200, &with);
  run_to(f, NULL, fault_gpu, 200, &without);
  CHECK(isnan(node_val(&with, NM_TOKENS, 0)));
  CHECK(isnan(node_val(&with, NM_TTFT, 0)));
  CHECK(isnan(node_val(&with, NM_ENTROPY, 0)));
  CHECK(isnan(node_val(&with, NM_NCCL_LAT, 0)));
  CHECK(!isnan(node_val(&with, NM_INLET_TEMP, 0)));
  CHECK(node_val(&without, NM_TOKENS, 0) > 0);
  CHECK_NEAR(gpu_mean(&with, GM_SM_UTIL, 0), 0.0, 1e-9);
  CHECK_RANGE(gpu_mean(&with, GM_POWER, 0), 50, 100); /* near idle */
  CHECK(gpu_mean(&without, GM_POWER, 0) > 150);
  CHECK_GT(with.w.gpu[GM_ECC_SBE][0 * FLEET_GPUS + 2].u, 1000); /* a fault without load shows */
  /* the MoE peers serve 4/3 of their traffic (same noise, load below 1) */
  for (int n = 3; n < NN; n += 3)
    CHECK_NEAR(node_val(&with, NM_REQ_RATE, n) / node_val(&without, NM_REQ_RATE, n),
               4.0 / 3.0, 1e-4);
  CHECK(node_val(&with, NM_REQ_RATE, 1) == node_val(&without, NM_REQ_RATE, 1));
  /* the drained job node is out of its job */
  CHECK(isnan(node_val(&with, NM_STEP_TIME, 2)));
  CHECK(!isnan(node_val(&with, NM_STEP_TIME, 5)));
  CHECK_NEAR(gpu_mean(&with, GM_SM_UTIL, 2), 0.0, 1e-9);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_cordon(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_node(f, ACT_CORDON_NODE, 2);
  CHECK_EQ(mit_apply(mit, &a, 50), 0);
  run_t with, without;
  run_to(f, mit, fault_none, 120, &with);
  run_to(f, NULL, fault_none, 120, &without);
  CHECK_EQ(with.changed, 0);
  CHECK_EQ(mit_node_out(mit, 2, 120), 0);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK(memcmp(with.w.node[k], without.w.node[k], NN * sizeof(tel_cell)) == 0);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_power_cap(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_rack(ACT_POWER_CAP_RACK, 0);
  CHECK_EQ(mit_apply(mit, &a, 60), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, fault_heat, 60, d, jd), 1);
  CHECK_NEAR(d[0].gpu_power_limit_w, 0.8 * 700, 1e-3);
  CHECK_NEAR(d[2].gpu_power_limit_w, 0.8 * 700, 1e-3);
  CHECK_NEAR(d[1].gpu_power_limit_w, 400, 1e-3); /* a lower limit stays */
  CHECK(d[4].gpu_power_limit_w == 0);
  run_t with, without;
  run_to(f, mit, fault_none, 110, &with); /* not a checkpoint scrape */
  run_to(f, NULL, fault_none, 110, &without);
  /* the training node at full load: 640+ W a GPU, now held at 560 W */
  CHECK(gpu_mean(&without, GM_POWER, 2) > 600);
  CHECK(gpu_mean(&with, GM_POWER, 2) <= 560.5f);
  CHECK(gpu_mean(&with, GM_SM_CLOCK, 2) < gpu_mean(&without, GM_SM_CLOCK, 2));
  CHECK(gpu_mean(&with, GM_POWER, 5) == gpu_mean(&without, GM_POWER, 5)); /* rack 1 */
  /* held for action_hold_hours (2 h) from the action, extended when issued again */
  const int64_t hold = (int64_t)(2 * 3600 / f->cfg->scrape_interval_s);
  CHECK_EQ(drive_all(mit, f, fault_none, 60 + hold - 1, d, jd), 1);
  CHECK_NEAR(d[0].gpu_power_limit_w, 0.8 * 700, 1e-3);
  CHECK_EQ(drive_all(mit, f, fault_none, 60 + hold, d, jd), 0);
  CHECK(d[0].gpu_power_limit_w == 0);
  CHECK_EQ(mit_apply(mit, &a, 60 + hold / 2), 0);
  CHECK_EQ(drive_all(mit, f, fault_none, 60 + hold, d, jd), 1);
  CHECK_EQ(drive_all(mit, f, fault_none, 60 + hold / 2 + hold, d, jd), 0);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_cooling(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_rack(ACT_RAISE_COOLING, 1); /* nodes 4..7 */
  CHECK_EQ(mit_apply(mit, &a, 40), 0);
  CHECK_EQ(mit_apply(mit, &a, 50), 0); /* twice: no colder than the floor */
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, fault_heat, 60, d, jd), 1);
  CHECK_NEAR(d[4].inlet_delta_c, -4.0, 1e-6);
  CHECK_NEAR(d[5].inlet_delta_c, 2.0, 1e-6); /* the hot aisle, 4 C cooler */
  CHECK(d[3].inlet_delta_c == 0 && d[8].inlet_delta_c == 0);
  run_t with, without;
  run_to(f, mit, fault_none, 120, &with);
  run_to(f, NULL, fault_none, 120, &without);
  for (int n = 4; n < 8; n++)
    CHECK_NEAR(node_val(&without, NM_INLET_TEMP, n) - node_val(&with, NM_INLET_TEMP, n),
               4.0, 1e-3);
  CHECK(node_val(&with, NM_INLET_TEMP, 3) == node_val(&without, NM_INLET_TEMP, 3));
  CHECK(gpu_mean(&with, GM_TEMP, 5) < gpu_mean(&without, GM_TEMP, 5) - 2.0f);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

/* Checks the replicated checkpoint schedule against the model's stall:
 * train-000 (offset 0, 30 min period) writes at scrape 120 (1800 s). */
static void test_checkpoint_schedule(const fleet *f) {
  run_t r;
  run_to(f, NULL, fault_none, 120, &r);
  CHECK(r.w.job_stall_s[0] > 0);
  const double write = tel_job_checkpoint_write_s(f->cfg, 0);
  CHECK_NEAR(write, 15.0 + 30.0 * 2 / 128.0, 1e-9);
  run_free(&r);
  run_to(f, NULL, fault_none, 119, &r);
  CHECK(r.w.job_stall_s[0] == 0);
  run_free(&r);
  CHECK(tel_job_last_checkpoint_s(f->cfg, 0, 1799.0) == 0);
  CHECK(tel_job_last_checkpoint_s(f->cfg, 0, 1805.0) == 0); /* 1800's write not done */
  CHECK(tel_job_last_checkpoint_s(f->cfg, 0, 1950.0) == 1800.0);
  CHECK(tel_job_last_checkpoint_s(f->cfg, 0, 6000.0) == 5400.0);
}

static void test_restart(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 5);
  CHECK_EQ(mit_apply(mit, &a, 130), 0); /* 1950 s: 150 s after the 1800 s checkpoint */
  CHECK_EQ(mit_apply(mit, &a, 131), 0); /* the node is already out: no new restart */
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, NULL, 129, d, jd), 0);
  CHECK_EQ(drive_all(mit, f, NULL, 130, d, jd), 1);
  CHECK_EQ(d[5].job_excluded, 1);
  CHECK_EQ(d[5].drained, 0);
  CHECK_EQ(d[2].job_excluded, 0);
  CHECK_NEAR(jd[0].restart_s, 15.0, 1e-6);
  drive_all(mit, f, NULL, 169, d, jd); /* 10 min = 40 scrapes of relaunch */
  CHECK_NEAR(jd[0].restart_s, 15.0, 1e-6);
  drive_all(mit, f, NULL, 170, d, jd);
  CHECK(jd[0].restart_s == 0);
  CHECK_EQ(d[5].job_excluded, 1);
  CHECK_NEAR(mit_job_rollback_s(mit, 0, 130), 150.0, 1e-9);
  CHECK_EQ(mit_job_rollback_s(mit, 0, 131), 0);
  CHECK_EQ(mit_node_out(mit, 5, 130), 1);
  CHECK_EQ(mit_node_out(mit, 5, 129), 0);
  run_t with, without;
  run_to(f, mit, fault_none, 150, &with);
  run_to(f, NULL, fault_none, 150, &without);
  CHECK(isnan(node_val(&with, NM_STEP_TIME, 5)));
  CHECK(isnan(node_val(&with, NM_GRAD_NORM, 5)));
  CHECK(gpu_mean(&with, GM_SM_UTIL, 2) < 20.0f); /* relaunching */
  CHECK(gpu_mean(&without, GM_SM_UTIL, 2) > 80.0f);
  run_free(&with);
  run_free(&without);
  /* a later restart of the same job rolls back again: at 6000 s, 600 s
   * after the 5400 s checkpoint */
  a = on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 2);
  CHECK_EQ(mit_apply(mit, &a, 400), 0);
  CHECK_NEAR(mit_job_rollback_s(mit, 0, 400), 600.0, 1e-9);
  CHECK_NEAR(mit_job_rollback_s(mit, 0, 130), 150.0, 1e-9);
  mit_destroy(&mit);
  /* a restart while the job still relaunches loses nothing more */
  CHECK_EQ(mit_init(&mit, f), 0);
  a = on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 5);
  CHECK_EQ(mit_apply(mit, &a, 130), 0);
  a = on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 2);
  CHECK_EQ(mit_apply(mit, &a, 150), 0);
  CHECK_EQ(mit_job_rollback_s(mit, 0, 150), 0);
  drive_all(mit, f, NULL, 185, d, jd); /* the union: relaunching until 150 + 40 */
  CHECK_NEAR(jd[0].restart_s, 15.0, 1e-6);
  drive_all(mit, f, NULL, 190, d, jd);
  CHECK(jd[0].restart_s == 0);
  mit_destroy(&mit);
}

static void test_checkpoint_job(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = action(ACT_CHECKPOINT_JOB);
  a.job = 0;
  CHECK_EQ(mit_apply(mit, &a, 150), 0); /* 2250 s */
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  const double write = tel_job_checkpoint_write_s(f->cfg, 0);
  CHECK_EQ(drive_all(mit, f, NULL, 150, d, jd), 1);
  CHECK_NEAR(jd[0].extra_stall_s, 15.0, 1e-6);
  drive_all(mit, f, NULL, 151, d, jd);
  CHECK_NEAR(jd[0].extra_stall_s, write - 15.0, 1e-5);
  CHECK_EQ(drive_all(mit, f, NULL, 152, d, jd), 0);
  run_t r;
  run_to(f, mit, fault_none, 150, &r);
  CHECK(r.w.job_stall_s[0] == 15.0f);
  CHECK(r.w.node[NM_STEP_TIME][2].f > 2 * 1500.0f); /* the interval stalled */
  run_free(&r);
  run_to(f, NULL, fault_none, 150, &r);
  CHECK(r.w.job_stall_s[0] == 0);
  run_free(&r);
  /* a restart at 2400 s now loses 150 s, not the 600 s since 1800 s */
  a = on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 5);
  CHECK_EQ(mit_apply(mit, &a, 160), 0);
  CHECK_NEAR(mit_job_rollback_s(mit, 0, 160), 150.0, 1e-9);
  mit_destroy(&mit);
  CHECK_EQ(mit_init(&mit, f), 0);
  CHECK_EQ(mit_apply(mit, &a, 160), 0);
  CHECK_NEAR(mit_job_rollback_s(mit, 0, 160), 600.0, 1e-9);
  mit_destroy(&mit);
}

static void test_rebalance(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = action(ACT_REBALANCE_EXPERTS);
  a.tenant = TENANT_MOE;
  CHECK_EQ(mit_apply(mit, &a, 100), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  drive_all(mit, f, fault_collapse, 107, d, jd); /* 105 s: the experts still move */
  CHECK_NEAR(d[0].routing_collapse, 0.9, 1e-6);
  CHECK_EQ(drive_all(mit, f, fault_collapse, 108, d, jd), 1); /* 120 s */
  CHECK_NEAR(d[0].routing_collapse, 0.09, 1e-6);
  CHECK_NEAR(d[3].routing_collapse, 0.09, 1e-6);
  run_t with, without;
  run_to(f, mit, fault_collapse, 160, &with);
  run_to(f, NULL, fault_collapse, 160, &without);
  CHECK(node_val(&with, NM_ENTROPY, 0) > node_val(&without, NM_ENTROPY, 0) + 0.5f);
  /* the hot experts' GPUs (0 and 1) no longer take most of the tokens */
  CHECK(gpu_val(&with, GM_SM_UTIL, 0, 0) < gpu_val(&without, GM_SM_UTIL, 0, 0) - 10.0f);
  CHECK(node_val(&with, NM_TTFT, 1) == node_val(&without, NM_TTFT, 1)); /* dense */
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_kv_capacity(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_node(f, ACT_RAISE_KV_CAPACITY, 1); /* node scope */
  CHECK_EQ(mit_apply(mit, &a, 60), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, fault_context, 60, d, jd), 1);
  CHECK_NEAR(d[1].kv_capacity_scale, 2.0, 1e-6);
  CHECK_NEAR(d[1].capacity_share, 0.9, 1e-6);
  CHECK(d[1].load_scale == 0);
  CHECK(d[4].kv_capacity_scale == 0 && d[4].capacity_share == 0);
  run_t with, without;
  run_to(f, mit, fault_context, 120, &with);
  run_to(f, NULL, fault_context, 120, &without);
  CHECK(node_val(&with, NM_KV_HIT, 1) > node_val(&without, NM_KV_HIT, 1) + 0.1f);
  CHECK(node_val(&with, NM_TTFT, 1) < node_val(&without, NM_TTFT, 1));
  CHECK(node_val(&with, NM_PROMPT_TOKENS, 1) == node_val(&without, NM_PROMPT_TOKENS, 1));
  CHECK(node_val(&with, NM_KV_HIT, 4) == node_val(&without, NM_KV_HIT, 4));
  /* the smaller capacity serves no more than the traffic it had: no extra tokens */
  CHECK(node_val(&with, NM_REQ_RATE, 1) <= node_val(&without, NM_REQ_RATE, 1) * 1.0001f);
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_cap_context(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_rack(ACT_CAP_CONTEXT_LENGTH, 0); /* rack scope: nodes 0..3 */
  CHECK_EQ(mit_apply(mit, &a, 60), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, fault_context, 60, d, jd), 1);
  CHECK_NEAR(d[0].context_scale, 1.0, 1e-9);
  CHECK_NEAR(d[1].context_scale, 1.0, 1e-9);
  CHECK_NEAR(d[4].context_scale, 3.0, 1e-9); /* rack 1 */
  CHECK(d[1].load_scale == 0);               /* no throughput cost */
  run_t with, without;
  run_to(f, mit, fault_context, 120, &with);
  run_to(f, NULL, fault_context, 120, &without);
  CHECK(node_val(&with, NM_KV_HIT, 1) > node_val(&without, NM_KV_HIT, 1) + 0.2f);
  CHECK(node_val(&with, NM_PROMPT_TOKENS, 1) < node_val(&without, NM_PROMPT_TOKENS, 1) / 2);
  CHECK(node_val(&with, NM_KV_HIT, 4) == node_val(&without, NM_KV_HIT, 4));
  run_free(&with);
  run_free(&without);
  mit_destroy(&mit);
}

static void test_migrate(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action a = on_rack(ACT_MIGRATE_TENANT, 2); /* nodes 8 (job-free training), 9, 10, 11 */
  CHECK_EQ(mit_apply(mit, &a, 30), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, f, NULL, 30, d, jd), 1);
  CHECK(d[9].drained == 1 && d[10].drained == 1);
  CHECK(d[8].drained == 0 && d[11].drained == 0);
  CHECK_NEAR(d[0].load_scale, 4.0 / 3.0, 1e-6);
  CHECK_NEAR(d[1].load_scale, 4.0 / 3.0, 1e-6);
  CHECK(mit_node_out(mit, 9, 30) && mit_node_out(mit, 10, 30));
  CHECK(!mit_node_out(mit, 8, 30) && !mit_node_out(mit, 11, 30) && !mit_node_out(mit, 9, 29));
  run_t r;
  run_to(f, mit, fault_none, 60, &r);
  CHECK(isnan(node_val(&r, NM_TOKENS, 9)) && isnan(node_val(&r, NM_TOKENS, 10)));
  CHECK(!isnan(node_val(&r, NM_TOKENS, 0)));
  run_free(&r);
  mit_destroy(&mit);
}

static void test_rma(const fleet *f) {
  /* half an hour of repair (120 scrapes) to fit the 3 h run */
  fs_config cfg = *f->cfg;
  CHECK_EQ(cfg_set(&cfg, "action_rma_hours", "0.5", "test"), 0);
  fleet *g = NULL;
  CHECK_EQ(fleet_init(&g, &cfg), 0);
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, g), 0);
  act_action a = on_node(g, ACT_RMA_GPU, 1); /* dense node 1, GPU 3 */
  a.gpu = 3;
  CHECK_EQ(mit_apply(mit, &a, 100), 0);
  a = on_node(g, ACT_RMA_GPU, 5); /* job node 5, the whole node */
  CHECK_EQ(mit_apply(mit, &a, 100), 0);
  tel_drivers d[NN];
  tel_job_drivers jd[CFG_MAX_JOBS];
  CHECK_EQ(drive_all(mit, g, fault_gpu, 150, d, jd), 1);
  CHECK(d[1].drained == TEL_DRAINED_AWAY && d[5].drained == TEL_DRAINED_AWAY &&
        d[5].job_excluded == 1);
  CHECK_NEAR(d[4].load_scale, 4.0 / 3.0, 1e-6);
  CHECK(mit_node_out(mit, 1, 219) && mit_node_out(mit, 5, 219));
  CHECK(mit_job_rollback_s(mit, 0, 100) > 0);
  drive_all(mit, g, fault_gpu, 220, d, jd); /* repaired */
  CHECK_EQ(mit_node_out(mit, 1, 220), 0);
  CHECK_EQ(mit_node_out(mit, 5, 220), 1); /* back, but not in its job */
  CHECK(d[1].drained == 0 && d[5].drained == 0 && d[5].job_excluded == 1);
  CHECK(d[4].load_scale == 0);
  CHECK(d[1].sbe_per_interval[3] == 0 && d[1].clock_sag_mhz[3] == 0);
  CHECK(d[1].gpu_off_bus_mask == 0);
  CHECK_NEAR(d[1].clock_sag_mhz[4], 400.0, 1e-6); /* another GPU: not repaired */
  CHECK(d[5].sbe_per_interval[0] == 0);
  run_t r;
  run_to(g, mit, fault_gpu, 150, &r); /* in repair: away, no samples at all */
  CHECK(isnan(node_val(&r, NM_TOKENS, 1)));
  CHECK(isnan(node_val(&r, NM_INLET_TEMP, 1)) && isnan(gpu_val(&r, GM_POWER, 1, 0)));
  run_free(&r);
  run_to(g, mit, fault_gpu, 260, &r); /* back: GPU 3 at full clock, GPU 4 still sags */
  CHECK(!isnan(node_val(&r, NM_TOKENS, 1)));
  CHECK(!isnan(gpu_val(&r, GM_POWER, 1, 3)));
  CHECK(gpu_val(&r, GM_SM_CLOCK, 1, 3) > gpu_val(&r, GM_SM_CLOCK, 1, 4) + 300.0f);
  const uint32_t sbe_then = r.w.gpu[GM_ECC_SBE][1 * FLEET_GPUS + 3].u;
  run_free(&r);
  run_to(g, mit, fault_gpu, 300, &r); /* no more SBEs from the repaired GPU */
  CHECK_LE(r.w.gpu[GM_ECC_SBE][1 * FLEET_GPUS + 3].u, sbe_then + 1);
  CHECK(isnan(node_val(&r, NM_STEP_TIME, 5)));
  run_free(&r);
  mit_destroy(&mit);
  fleet_destroy(&g);
}

/* Drivers of a node are the same whichever nodes one call covers. */
static void test_split_invariance(const fleet *f) {
  mit_state *mit = NULL;
  CHECK_EQ(mit_init(&mit, f), 0);
  act_action list[12];
  int64_t at[12];
  int na = 0;
#define ADD(a_, t_) (list[na] = (a_), at[na++] = (t_))
  ADD(on_node(f, ACT_DRAIN_NODE, 0), 10);
  act_action rma = on_node(f, ACT_RMA_GPU, 4);
  rma.gpu = 2;
  ADD(rma, 12);
  ADD(on_rack(ACT_MIGRATE_TENANT, 2), 15);
  ADD(on_rack(ACT_POWER_CAP_RACK, 1), 15);
  act_action kv = action(ACT_RAISE_KV_CAPACITY);
  kv.tenant = TENANT_DENSE;
  ADD(kv, 20);
  act_action reb = on_rack(ACT_REBALANCE_EXPERTS, 0);
  ADD(reb, 20);
  ADD(on_node(f, ACT_CAP_CONTEXT_LENGTH, 3), 21);
  ADD(on_rack(ACT_RAISE_COOLING, 0), 22);
  ADD(on_node(f, ACT_RESTART_JOB_WITHOUT_NODE, 5), 25);
  act_action ck = action(ACT_CHECKPOINT_JOB);
  ck.job = 0;
  ADD(ck, 25);
#undef ADD
  for (int i = 0; i < na; i++)
    CHECK_EQ(mit_apply(mit, &list[i], at[i]), 0);
  static const int splits[][4] = {{4, 4, 4, 0}, {5, 7, 0, 0}, {1, 11, 0, 0}, {7, 2, 3, 0},
                                  {3, 3, 3, 3}};
  for (int64_t t = 5; t < 700; t += 41) {
    tel_drivers whole[NN], part[NN];
    tel_job_drivers jw[CFG_MAX_JOBS], jp[CFG_MAX_JOBS];
    drive_all(mit, f, fault_collapse, t, whole, jw);
    for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
      tel_drivers_reset(part, NN);
      fault_collapse(t, part);
      for (int k = 0, node0 = 0; k < 4 && splits[s][k] > 0; node0 += splits[s][k++]) {
        tel_job_drivers_reset(jp, f->njobs); /* every rank sets every job's */
        mit_drive(mit, t, node0, splits[s][k], &part[node0], jp);
        CHECK(memcmp(jp, jw, sizeof *jp * (size_t)f->njobs) == 0);
      }
      CHECK(memcmp(part, whole, sizeof part) == 0);
    }
  }
  mit_destroy(&mit);
}

int main(void) {
  fs_config cfg;
  fleet12_config(&cfg, 0);
  cfg.background_ops = 0; /* the actions' effects alone */
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, &cfg), 0);
  CHECK_EQ(f->node_job[2], 0);
  CHECK_EQ(f->node_job[5], 0);
  CHECK_EQ(f->node_tenant[0], TENANT_MOE);
  test_empty_and_no_op(f);
  test_bad_actions(f);
  test_drain(f);
  test_cordon(f);
  test_power_cap(f);
  test_cooling(f);
  test_checkpoint_schedule(f);
  test_restart(f);
  test_checkpoint_job(f);
  test_rebalance(f);
  test_kv_capacity(f);
  test_cap_context(f);
  test_migrate(f);
  test_rma(f);
  test_split_invariance(f);
  fleet_destroy(&f);
  printf("unit_mitigation: %ld checks passed\n", check_count);
  return 0;
}
