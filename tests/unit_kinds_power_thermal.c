/* Physics of the power and thermal fault kinds (scenarios/kinds/
 * pdu_phase_loss, crah_failure, temp_sensor_fault, power_oversubscription)
 * through the injector and the telemetry model: each scenario runs on the
 * small fleet beside a fault-free twin with the same seed, so every
 * difference is the fault's. A lost PDU phase makes the rack's phase
 * imbalance jump and caps its GPUs (power at the limit, clocks down, the
 * power-cap reason, violation time, a slower job); a failed CRAH warms every
 * rack of its row, most mid-row and in the top slots, and nothing outside
 * it; a stuck temperature sensor reports a flat value while the GPU really
 * heats (memory temperature, thermal violation time, lower clocks), an
 * offset one reports low; a tenant's burst on shared racks raises its
 * request rate and caps its neighbours. Nodes the fault does not reach stay
 * bit-identical to the twin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/inject.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"
#include "tests/check.h"

enum { SCRAPES = 240, START = 60, END = 180, SETTLED = START + 20 };

static const char small_config[] =
    "{\"nodes\": 120, \"racks\": 6, \"racks_per_row\": 3, \"moe_nodes\": 36, "
    "\"dense_nodes\": 42, \"training_nodes\": 42, \"hours\": 1, \"start_hour\": 2, "
    "\"gpu_lots\": 20, \"jobs\": ["
    "{\"id\": \"train-000\", \"model\": \"a\", \"nodes\": 16, \"step_time_s\": 2.56},"
    "{\"id\": \"train-001\", \"model\": \"b\", \"nodes\": 12, \"step_time_s\": 3.01},"
    "{\"id\": \"train-002\", \"model\": \"c\", \"nodes\": 8, \"step_time_s\": 3.25}]}";

/* SCRAPES scrapes of every node with the scenarios of `text` (NULL: none)
 * active, into w (one row per scrape; the caller destroys it). */
static void run(const fleet *f, const char *text, tel_window *w, scn_set **set) {
  tel_model *m = NULL;
  CHECK_EQ(tel_init(&m, f, 0, f->nodes), 0);
  CHECK_EQ(tel_window_init(w, m, SCRAPES), 0);
  *set = NULL;
  if (text && scn_parse(set, text, "test.json", f) != 0)
    CHECK_FAIL("scenario: %s", diag_first());
  tel_drivers *d = calloc((size_t)f->nodes, sizeof *d);
  double *jm = calloc((size_t)SCRAPES * (size_t)(f->njobs + 1), sizeof *jm);
  CHECK(d && jm);
  for (int t = 0; t < SCRAPES; t++) {
    tel_drivers_reset(d, f->nodes);
    scn_drive(*set, f, t, 0, f->nodes, d);
    tel_scrape(m, t, d, w, t, NULL, NULL);
  }
  tel_job_local_max(m, w, SCRAPES, jm); /* one instance holds every node: global maxima */
  tel_finish_training(m, w, SCRAPES, jm);
  free(d);
  free(jm);
  tel_destroy(&m);
}

static float gpu_at(const tel_window *w, int k, int t, int node, int g) {
  return w->gpu[k][((size_t)t * w->nnodes + (size_t)node) * FLEET_GPUS + (size_t)g].f;
}
static uint32_t gpu_u(const tel_window *w, int k, int t, int node, int g) {
  return w->gpu[k][((size_t)t * w->nnodes + (size_t)node) * FLEET_GPUS + (size_t)g].u;
}
static float node_at(const tel_window *w, int k, int t, int node) {
  return w->node[k][(size_t)t * w->nnodes + (size_t)node].f;
}

/* Mean over the settled fault window of a node metric, minus the twin's. */
static double node_rise(const tel_window *a, const tel_window *b, int k, int node) {
  double s = 0;
  for (int t = SETTLED; t < END; t++)
    s += node_at(a, k, t, node) - node_at(b, k, t, node);
  return s / (END - SETTLED);
}

/* 1 when every GPU and node cell of node n equals the twin's at every scrape. */
static int untouched(const tel_window *a, const tel_window *b, int n) {
  for (int t = 0; t < SCRAPES; t++) {
    for (int k = 0; k < GM_COUNT; k++)
      for (int g = 0; g < FLEET_GPUS; g++)
        if (gpu_u(a, k, t, n, g) != gpu_u(b, k, t, n, g))
          return 0;
    for (int k = 0; k < NM_COUNT; k++)
      if (memcmp(&a->node[k][(size_t)t * a->nnodes + n], &b->node[k][(size_t)t * b->nnodes + n],
                 sizeof(tel_cell)) != 0)
        return 0;
  }
  return 1;
}

/* 1 when node n shares a job with a node of s (its step time follows theirs). */
static int job_peer(const fleet *f, const scn_def *s, int n) {
  for (int i = 0; i < s->nnodes; i++)
    if (f->node_job[n] >= 0 && f->node_job[s->nodes[i]] == f->node_job[n])
      return 1;
  return 0;
}

static void test_pdu_phase_loss(const fleet *f, const tel_window *base) {
  tel_window w;
  scn_set *set;
  run(f,
      "{\"scenarios\": [{\"id\": \"P\", \"kind\": \"pdu_phase_loss\", \"start_h\": 0.25, "
      "\"duration_min\": 30, \"racks\": [1], \"gpu_power_limit_w\": 560}]}",
      &w, &set);
  const scn_def *s = &set->s[0];
  CHECK_EQ(s->nnodes, f->nodes_per_rack);
  int train = 0;
  for (int i = 0; i < s->nnodes; i++) {
    const int n = s->nodes[i];
    CHECK_RANGE(node_rise(&w, base, NM_PDU_IMBALANCE, n), 80.0, 120.0); /* loads 0, 1.5, 1.5 */
    if (f->node_job[n] < 0)
      continue;
    train++;
    for (int g = 0; g < FLEET_GPUS; g++) {
      CHECK(gpu_at(&w, GM_POWER, SETTLED, n, g) <= 560.5f);
      CHECK(gpu_at(&w, GM_SM_CLOCK, SETTLED, n, g) < gpu_at(base, GM_SM_CLOCK, SETTLED, n, g) - 300);
      CHECK(gpu_u(&w, GM_CLOCK_EVENTS, SETTLED, n, g) & 0x4u); /* sw power cap */
      CHECK_GT(gpu_u(&w, GM_POWER_VIOL, END - 1, n, g), gpu_u(base, GM_POWER_VIOL, END - 1, n, g));
    }
    CHECK(node_rise(&w, base, NM_STEP_TIME, n) > 0.2 * node_at(base, NM_STEP_TIME, START, n));
  }
  CHECK_GT(train, 0);
  /* the fault's effects are over once the phase is back and the lag settles */
  CHECK_NEAR(node_at(&w, NM_PDU_IMBALANCE, SCRAPES - 1, s->nodes[0]),
             node_at(base, NM_PDU_IMBALANCE, SCRAPES - 1, s->nodes[0]), 2.0);
  for (int n = 0; n < f->nodes; n++)
    if (f->node_rack[n] != 1 && !job_peer(f, s, n))
      CHECK(untouched(&w, base, n));
  scn_destroy(&set);
  tel_window_destroy(&w);
}

static void test_crah_failure(const fleet *f, const tel_window *base) {
  tel_window w;
  scn_set *set;
  run(f,
      "{\"scenarios\": [{\"id\": \"C\", \"kind\": \"crah_failure\", \"start_h\": 0.25, "
      "\"duration_min\": 30, \"row\": 1, \"inlet_rise_c\": 8, \"creep_c_per_min\": 0}]}",
      &w, &set);
  const scn_def *s = &set->s[0];
  CHECK_EQ(s->nracks, 3);
  CHECK(s->racks[0] == 3 && s->racks[1] == 4 && s->racks[2] == 5);
  double rack_rise[3] = {0}, low = 0, high = 0;
  const int npr = f->nodes_per_rack;
  for (int i = 0; i < s->nnodes; i++) {
    const int n = s->nodes[i], slot = fleet_rack_slot(f, n);
    const double r = node_rise(&w, base, NM_INLET_TEMP, n);
    CHECK_RANGE(r, 1.0, 12.0);
    rack_rise[f->node_rack[n] - 3] += r / npr;
    if (slot < npr / 4)
      low += r;
    if (slot >= npr - npr / 4)
      high += r;
  }
  /* mid-row hottest, the ends spared half the rise; top slots warmer */
  CHECK_NEAR(rack_rise[1], 8.0, 1.0);
  CHECK(rack_rise[0] < rack_rise[1] - 2.5 && rack_rise[2] < rack_rise[1] - 2.5);
  CHECK(high > 1.3 * low);
  double gpu = 0;
  for (int i = 0; i < s->nnodes; i++)
    gpu += gpu_at(&w, GM_TEMP, END - 1, s->nodes[i], 0) - gpu_at(base, GM_TEMP, END - 1, s->nodes[i], 0);
  CHECK_GT(gpu / s->nnodes, 3.0); /* the GPUs follow the air */
  for (int n = 0; n < f->nodes; n++)
    if (fleet_rack_row(f, f->node_rack[n]) != 1 && !job_peer(f, s, n))
      CHECK(untouched(&w, base, n));
  scn_destroy(&set);
  tel_window_destroy(&w);
}

static void test_temp_sensor_fault(const fleet *f, const tel_window *base) {
  tel_window w;
  scn_set *set;
  run(f,
      "{\"scenarios\": [{\"id\": \"T\", \"kind\": \"temp_sensor_fault\", \"start_h\": 0.25, "
      "\"duration_min\": 30, \"gpu\": 3, \"stuck_c\": 38},"
      " {\"id\": \"U\", \"kind\": \"temp_sensor_fault\", \"start_h\": 0.25, "
      "\"duration_min\": 30, \"node\": 100, \"gpu\": 5, \"stuck_c\": -1, \"offset_c\": -18}]}",
      &w, &set);
  const scn_def *s = &set->s[0];
  CHECK_EQ(s->nnodes, 1);
  CHECK_EQ(s->ngpus, 1);
  const int n = s->nodes[0];
  CHECK(f->node_job[n] >= 0); /* by default, a training job's node */
  CHECK_EQ(s->gpus[0], n * FLEET_GPUS + 3);
  for (int t = START; t < END; t++)
    CHECK(gpu_at(&w, GM_TEMP, t, n, 3) == 38.0f); /* flat */
  /* the fans follow the low reading: the GPU really heats and throttles */
  CHECK_GT(gpu_at(&w, GM_MEM_TEMP, END - 1, n, 3), gpu_at(base, GM_MEM_TEMP, END - 1, n, 3) + 10);
  CHECK_GT(gpu_u(&w, GM_THERMAL_VIOL, END - 1, n, 3), gpu_u(base, GM_THERMAL_VIOL, END - 1, n, 3) + 1000);
  CHECK(gpu_u(&w, GM_CLOCK_EVENTS, END - 1, n, 3) & 0x20u);
  CHECK(gpu_at(&w, GM_SM_CLOCK, END - 1, n, 3) < gpu_at(base, GM_SM_CLOCK, END - 1, n, 3) - 200);
  CHECK(node_rise(&w, base, NM_STEP_TIME, n) > 0); /* the job waits for it */
  /* the node's other GPUs report their true temperature */
  CHECK(gpu_at(&w, GM_TEMP, END - 1, n, 2) == gpu_at(base, GM_TEMP, END - 1, n, 2));
  /* offset: reads low by 18 C, while the under-cooling (0.4 x 18) heats the GPU */
  const float rd = gpu_at(&w, GM_TEMP, END - 1, 100, 5), rd0 = gpu_at(base, GM_TEMP, END - 1, 100, 5);
  const float mem = gpu_at(&w, GM_MEM_TEMP, END - 1, 100, 5);
  const float mem0 = gpu_at(base, GM_MEM_TEMP, END - 1, 100, 5);
  CHECK_NEAR(rd - rd0, -18.0 + 7.2, 1.5);
  CHECK_NEAR(mem - mem0, 7.2, 1.5);
  CHECK(gpu_at(&w, GM_TEMP, SCRAPES - 1, n, 3) != 38.0f); /* the sensor recovers with the fault */
  scn_destroy(&set);
  tel_window_destroy(&w);
}

static void test_power_oversubscription(const fleet *f, const tel_window *base) {
  tel_window w;
  scn_set *set;
  run(f,
      "{\"scenarios\": [{\"id\": \"O\", \"kind\": \"power_oversubscription\", \"start_h\": 0.25, "
      "\"duration_min\": 30, \"racks\": [0, 1], \"tenant\": 1, \"gpu_power_limit_w\": 580}]}",
      &w, &set);
  const scn_def *s = &set->s[0];
  int dense = 0, train = 0;
  for (int i = 0; i < s->nnodes; i++) {
    const int n = s->nodes[i];
    if (f->node_tenant[n] == TENANT_DENSE) { /* the burst: traffic near saturation at 02:00 */
      dense++;
      CHECK(node_rise(&w, base, NM_REQ_RATE, n) > 0.5 * node_at(base, NM_REQ_RATE, START, n));
      CHECK(gpu_at(&w, GM_SM_UTIL, SETTLED, n, 0) > gpu_at(base, GM_SM_UTIL, SETTLED, n, 0) + 20);
    } else if (f->node_tenant[n] == TENANT_MOE) { /* the other tenant's traffic is its own */
      CHECK(node_rise(&w, base, NM_REQ_RATE, n) == 0.0);
    } else if (f->node_job[n] >= 0) { /* the neighbours pay */
      train++;
      for (int g = 0; g < FLEET_GPUS; g++) {
        CHECK(gpu_at(&w, GM_POWER, SETTLED, n, g) <= 580.5f);
        CHECK(gpu_u(&w, GM_CLOCK_EVENTS, SETTLED, n, g) & 0x4u);
        CHECK(gpu_at(&w, GM_SM_CLOCK, SETTLED, n, g) < gpu_at(base, GM_SM_CLOCK, SETTLED, n, g));
      }
      CHECK(node_rise(&w, base, NM_STEP_TIME, n) > 0);
    }
  }
  CHECK(dense > 0 && train > 0);
  for (int n = 0; n < f->nodes; n++)
    if (f->node_rack[n] > 1 && !job_peer(f, s, n))
      CHECK(untouched(&w, base, n));
  scn_destroy(&set);
  tel_window_destroy(&w);
}

int main(void) {
  fs_config cfg;
  cfg_defaults(&cfg);
  /* a kind against its fault-free twin: background operations (gaps, XIDs,
   * counter resets) would blur the comparison; unit_background has them */
  cfg.background_ops = 0;
  fleet *f = NULL;
  if (cfg_apply_json(&cfg, small_config, "small") || cfg_validate(&cfg) || fleet_init(&f, &cfg))
    CHECK_FAIL("config: %s", diag_first());
  tel_window base;
  scn_set *none;
  run(f, NULL, &base, &none);
  test_pdu_phase_loss(f, &base);
  test_crah_failure(f, &base);
  test_temp_sensor_fault(f, &base);
  test_power_oversubscription(f, &base);
  tel_window_destroy(&base);
  fleet_destroy(&f);
  printf("unit_kinds_power_thermal: %ld checks passed\n", check_count);
  return 0;
}
