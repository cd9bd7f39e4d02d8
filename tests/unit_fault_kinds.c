/* Physics of the fault kinds that take a GPU or a link away or stop and
 * stretch a training job (gpu_off_bus, hbm_uncorrectable, pcie_degradation,
 * storage_slowdown, nic_flap), through the path of a run: scenario file ->
 * scn_drive / scn_drive_jobs -> tel_scrape -> tel_finish_training, on a
 * small fleet held by one model instance (so its job maxima are the whole
 * job's). Each faulted run is compared with a run of the same fleet and seed
 * without the fault: same noise, so every difference is the fault's. */
#include <math.h>

#include "scenarios/inject.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "src/model/telemetry.h"
#include "tests/check.h"

/* Comparisons of doubles (check.h's CHECK_GT and kin compare integers). */
#define CHECK_ABOVE(a, b) CHECK_RANGE(a, b, INFINITY)
#define CHECK_BELOW(a, b) CHECK_RANGE(a, -INFINITY, b)

enum { SCRAPES = 600, ROWS = 64, T0 = 60 /* start_h 0.25 at 15 s scrapes */ };

/* tests/data/small.json's fleet: 120 nodes in 6 racks, 3 jobs, 3 h. */
static const char small_config[] =
    "{\"nodes\": 120, \"racks\": 6, \"racks_per_row\": 3, \"moe_nodes\": 36, "
    "\"dense_nodes\": 42, \"training_nodes\": 42, \"hours\": 3, \"gpu_lots\": 20, \"jobs\": ["
    "{\"id\": \"train-000\", \"model\": \"a\", \"nodes\": 16, \"step_time_s\": 2.56},"
    "{\"id\": \"train-001\", \"model\": \"b\", \"nodes\": 12, \"step_time_s\": 3.01},"
    "{\"id\": \"train-002\", \"model\": \"c\", \"nodes\": 8, \"step_time_s\": 3.25}]}";

/* Every cell of scrapes [0, SCRAPES) of the whole fleet, and the IB port
 * flaps the scenarios drove on each node. */
typedef struct {
  int nodes;
  tel_cell *gpu[GM_COUNT];  /* [SCRAPES][nodes][FLEET_GPUS] */
  tel_cell *node[NM_COUNT]; /* [SCRAPES][nodes] */
  float *flaps;             /* [SCRAPES][nodes] tel_drivers.nic_flaps */
} trace;

static float gf(const trace *x, int k, int64_t t, int n, int g) {
  return x->gpu[k][((size_t)t * (size_t)x->nodes + (size_t)n) * FLEET_GPUS + (size_t)g].f;
}
static uint32_t gu(const trace *x, int k, int64_t t, int n, int g) {
  return x->gpu[k][((size_t)t * (size_t)x->nodes + (size_t)n) * FLEET_GPUS + (size_t)g].u;
}
static float nf(const trace *x, int k, int64_t t, int n) {
  return x->node[k][(size_t)t * (size_t)x->nodes + (size_t)n].f;
}
static uint32_t nu(const trace *x, int k, int64_t t, int n) {
  return x->node[k][(size_t)t * (size_t)x->nodes + (size_t)n].u;
}

/* Runs the model over every node of f for SCRAPES scrapes with the
 * scenarios of set (NULL: none), as src/app/sim.c drives it, into x. */
static void run(const fleet *f, const scn_set *set, trace *x) {
  const int nn = f->nodes;
  const size_t gcells = (size_t)SCRAPES * (size_t)nn * FLEET_GPUS, ncells = gcells / FLEET_GPUS;
  x->nodes = nn;
  for (int k = 0; k < GM_COUNT; k++)
    CHECK((x->gpu[k] = malloc(gcells * sizeof(tel_cell))) != NULL);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK((x->node[k] = malloc(ncells * sizeof(tel_cell))) != NULL);
  CHECK((x->flaps = calloc(ncells, sizeof(float))) != NULL);
  tel_model *m = NULL;
  tel_window w;
  CHECK_EQ(tel_init(&m, f, 0, nn), 0);
  CHECK_EQ(tel_window_init(&w, m, ROWS), 0);
  tel_drivers *d = calloc((size_t)nn, sizeof *d);
  double *jm = calloc((size_t)ROWS * (size_t)(f->njobs + 1), sizeof *jm);
  CHECK(d && jm);
  tel_job_drivers *jd = tel_job_drivers_of(m);
  for (int64_t t0 = 0; t0 < SCRAPES; t0 += ROWS) {
    const int rows = (int)(SCRAPES - t0 < ROWS ? SCRAPES - t0 : ROWS);
    for (int r = 0; r < rows; r++) {
      tel_drivers_reset(d, nn);
      scn_drive(set, f, t0 + r, 0, nn, d);
      tel_job_drivers_reset(jd, f->njobs);
      scn_drive_jobs(set, f, t0 + r, jd);
      tel_scrape(m, t0 + r, d, &w, r, NULL, NULL);
      for (int n = 0; n < nn; n++)
        x->flaps[(size_t)(t0 + r) * (size_t)nn + (size_t)n] = d[n].nic_flaps;
    }
    tel_job_local_max(m, &w, rows, jm);
    tel_finish_training(m, &w, rows, jm);
    const size_t g0 = (size_t)t0 * (size_t)nn * FLEET_GPUS, n0 = (size_t)t0 * (size_t)nn;
    for (int k = 0; k < GM_COUNT; k++)
      memcpy(&x->gpu[k][g0], w.gpu[k], (size_t)rows * (size_t)nn * FLEET_GPUS * sizeof(tel_cell));
    for (int k = 0; k < NM_COUNT; k++)
      memcpy(&x->node[k][n0], w.node[k], (size_t)rows * (size_t)nn * sizeof(tel_cell));
  }
  free(d);
  free(jm);
  tel_window_destroy(&w);
  tel_destroy(&m);
}

static void trace_free(trace *x) {
  for (int k = 0; k < GM_COUNT; k++)
    free(x->gpu[k]);
  for (int k = 0; k < NM_COUNT; k++)
    free(x->node[k]);
  free(x->flaps);
  memset(x, 0, sizeof *x);
}

/* The one scenario of `text`, run into x; its definition in *out (freed by
 * the caller with scn_destroy). */
static const scn_def *run_scenario(const fleet *f, const char *text, scn_set **set, trace *x) {
  diag_clear();
  if (scn_parse(set, text, "faults.json", f) != 0)
    CHECK_FAIL("%s: %s", text, diag_first());
  CHECK_EQ((*set)->n, 1);
  const scn_def *s = &(*set)->s[0];
  CHECK_EQ(s->t_start, T0);
  CHECK_LE(s->t_end, SCRAPES - 8);
  run(f, *set, x);
  return s;
}

/* Before the fault starts nothing differs from the run without it. */
static void check_same_before(const trace *x, const trace *base, int64_t t) {
  for (int k = 0; k < GM_COUNT; k++)
    CHECK_EQ(memcmp(x->gpu[k], base->gpu[k],
                    (size_t)t * (size_t)x->nodes * FLEET_GPUS * sizeof(tel_cell)),
             0);
  for (int k = 0; k < NM_COUNT; k++)
    CHECK_EQ(memcmp(x->node[k], base->node[k], (size_t)t * (size_t)x->nodes * sizeof(tel_cell)), 0);
}

/* Mean SM utilisation of node n's GPUs at scrape t, GPU `skip` left out
 * (-1: none). */
static double node_util(const trace *x, int64_t t, int n, int skip) {
  double sum = 0;
  for (int g = 0; g < FLEET_GPUS; g++)
    sum += g == skip ? 0.0 : gf(x, GM_SM_UTIL, t, n, g);
  return sum / (FLEET_GPUS - (skip >= 0));
}

/* Another node of node n's job (its job peer). */
static int job_peer(const fleet *f, int n) {
  const int j = f->node_job[n];
  const int first = f->job_nodes[f->job_offset[j]], second = f->job_nodes[f->job_offset[j] + 1];
  return first == n ? second : first;
}

/* An off-bus GPU answers nothing: its float gauges are NaN, its last XID is
 * 79 and its counters hold; its node's other GPUs still report. The job
 * hangs in its collectives for hang_min (10: every node's step time and
 * NCCL latency explode), relaunches for restart_min (8: its GPUs idle), and
 * then runs without the node, whose job metrics are NaN from then on. */
static void test_gpu_off_bus_job(const fleet *f, const trace *base) {
  scn_set *set = NULL;
  trace x;
  const scn_def *s =
      run_scenario(f,
                   "{\"scenarios\": [{\"id\": \"K1\", \"kind\": \"gpu_off_bus\", "
                   "\"start_h\": 0.25, \"duration_min\": 60, \"job\": \"train-001\", "
                   "\"job_node\": 3, \"gpu\": 5}]}",
                   &set, &x);
  const int n = s->nodes[0], peer = job_peer(f, n), g = 5;
  const int64_t ts = s->t_start, te = s->t_end, hang_end = ts + 40, restarted = ts + 72;
  CHECK_EQ(f->node_job[n], 1);
  CHECK_EQ(s->gpu_mask, 1u << g);
  check_same_before(&x, base, ts);
  for (int64_t t = ts; t < te; t++) {
    for (int k = 0; k < GM_COUNT; k++) {
      if (metric_gpu[k].type == MT_F32)
        CHECK(isnan(gf(&x, k, t, n, g)));
      else if (metric_is_counter(&metric_gpu[k]))
        CHECK_EQ(gu(&x, k, t, n, g), gu(&x, k, ts - 1, n, g));
      for (int h = 0; h < FLEET_GPUS; h++)
        CHECK(h == g || metric_gpu[k].type != MT_F32 || !isnan(gf(&x, k, t, n, h)));
    }
    CHECK_EQ(gu(&x, GM_XID, t, n, g), 79);
    CHECK_EQ(gu(&x, GM_CLOCK_EVENTS, t, n, g), 0);
  }
  /* held, where the GPU left alone keeps counting */
  CHECK_GT(gu(base, GM_ENERGY, te - 1, n, g), gu(base, GM_ENERGY, ts - 1, n, g));
  CHECK_GT(gu(base, GM_NVLINK_REPLAY, te - 1, n, g), gu(base, GM_NVLINK_REPLAY, ts - 1, n, g));
  for (int64_t t = ts + 2; t < hang_end; t++) { /* the job hangs: no step completes */
    CHECK_ABOVE(nf(&x, NM_STEP_TIME, t, peer), 3.0 * nf(base, NM_STEP_TIME, t, peer));
    CHECK_ABOVE(nf(&x, NM_NCCL_LAT, t, peer), nf(base, NM_NCCL_LAT, t, peer) + 1.0e7);
    CHECK(!isnan(nf(&x, NM_STEP_TIME, t, n)));
  }
  for (int64_t t = hang_end + 1; t < restarted; t++) { /* relaunching: idle GPUs */
    CHECK_BELOW(node_util(&x, t, peer, -1), 15.0);
    CHECK_ABOVE(node_util(base, t, peer, -1), 80.0);
  }
  const int job_metrics[] = {NM_STEP_TIME,  NM_ALLREDUCE_WAIT, NM_NCCL_LAT,
                             NM_CKPT_WRITE, NM_GRAD_NORM,      NM_RESERVED_MEM};
  for (int64_t t = restarted + 1; t < te; t++) { /* running without the node */
    for (size_t i = 0; i < sizeof job_metrics / sizeof job_metrics[0]; i++) {
      CHECK(isnan(nf(&x, job_metrics[i], t, n)));
      CHECK(!isnan(nf(&x, job_metrics[i], t, peer)));
    }
    CHECK_BELOW(node_util(&x, t, n, g), 15.0);
    CHECK_RANGE(nf(&x, NM_STEP_TIME, t, peer) / nf(base, NM_STEP_TIME, t, peer), 0.9, 1.1);
  }
  trace_free(&x);
  scn_destroy(&set);
}

/* On an inference node the replica on the lost GPU is gone: the node serves
 * 7/8 of the requests and tokens, and the GPU's gauges are NaN. */
static void test_gpu_off_bus_inference(const fleet *f, const trace *base, int inf) {
  char text[256];
  snprintf(text, sizeof text,
           "{\"scenarios\": [{\"id\": \"K6\", \"kind\": \"gpu_off_bus\", \"start_h\": 0.25, "
           "\"duration_min\": 30, \"inference_node\": %d, \"gpu\": 3}]}",
           inf);
  scn_set *set = NULL;
  trace x;
  const scn_def *s = run_scenario(f, text, &set, &x);
  CHECK_EQ(s->nodes[0], inf);
  CHECK_EQ(s->job, -1);
  for (int64_t t = s->t_start; t < s->t_end; t++) {
    CHECK(isnan(gf(&x, GM_POWER, t, inf, 3)) && isnan(gf(&x, GM_TEMP, t, inf, 3)));
    CHECK_EQ(gu(&x, GM_XID, t, inf, 3), 79);
    CHECK_NEAR(nf(&x, NM_REQ_RATE, t, inf) / nf(base, NM_REQ_RATE, t, inf), 7.0 / 8.0, 1e-4);
    CHECK_NEAR(nf(&x, NM_TOKENS, t, inf) / nf(base, NM_TOKENS, t, inf), 7.0 / 8.0, 1e-4);
  }
  trace_free(&x);
  scn_destroy(&set);
}

/* An uncorrectable HBM error: the GPU's DBE counter +1 with XID 48 at once;
 * the job's ranks wait hang_min (1), then relaunch for restart_min (8), and
 * the GPU reset of the relaunch remaps the row (uncorrectable remapped rows
 * +1, XID 63). Steps stop meanwhile; afterwards the job runs as before. */
static void test_hbm_uncorrectable(const fleet *f, const trace *base) {
  scn_set *set = NULL;
  trace x;
  const scn_def *s = run_scenario(f,
                                  "{\"scenarios\": [{\"id\": \"K3\", \"kind\": "
                                  "\"hbm_uncorrectable\", \"start_h\": 0.25, \"duration_min\": 45, "
                                  "\"job\": \"train-000\", \"job_node\": 5, \"gpu\": 1}]}",
                                  &set, &x);
  const int n = s->nodes[0], peer = job_peer(f, n), g = 1;
  const int64_t ts = s->t_start, reset = ts + 4, back = reset + 32;
  check_same_before(&x, base, ts);
  for (int64_t t = ts; t < SCRAPES; t++) {
    CHECK_EQ(gu(&x, GM_ECC_DBE, t, n, g), gu(base, GM_ECC_DBE, t, n, g) + 1);
    CHECK_EQ(gu(&x, GM_REMAP_UNCORR, t, n, g), gu(base, GM_REMAP_UNCORR, t, n, g) + (t >= reset));
    CHECK_EQ(gu(&x, GM_XID, t, n, g), t < reset ? 48u : 63u);
    for (int h = 0; h < FLEET_GPUS; h++)
      CHECK(h == g || (gu(&x, GM_ECC_DBE, t, n, h) == gu(base, GM_ECC_DBE, t, n, h) &&
                       gu(&x, GM_REMAP_UNCORR, t, n, h) == gu(base, GM_REMAP_UNCORR, t, n, h)));
  }
  double steps = 0, base_steps = 0; /* steps of the job over the scenario */
  for (int64_t t = ts; t < s->t_end; t++) {
    steps += 15000.0 / nf(&x, NM_STEP_TIME, t, peer);
    base_steps += 15000.0 / nf(base, NM_STEP_TIME, t, peer);
    if (t < back) {
      CHECK_ABOVE(nf(&x, NM_STEP_TIME, t, peer), 3.0 * nf(base, NM_STEP_TIME, t, peer));
      CHECK_ABOVE(nf(&x, NM_STEP_TIME, t, n), 3.0 * nf(base, NM_STEP_TIME, t, n));
    }
    if (t > reset && t < back)
      CHECK_BELOW(node_util(&x, t, peer, -1), 15.0);
    if (t > back)
      CHECK_RANGE(nf(&x, NM_STEP_TIME, t, peer) / nf(base, NM_STEP_TIME, t, peer), 0.95, 1.05);
  }
  printf("hbm_uncorrectable: %.0f of %.0f steps in 45 min\n", steps, base_steps);
  CHECK_BELOW(steps, 0.85 * base_steps); /* 9 of 45 minutes lost, and some */
  trace_free(&x);
  scn_destroy(&set);
}

/* A PCIe link down to 1/8 of its bandwidth: the GPU's PCIe tx and rx never
 * exceed the link's share (a checkpoint write, 12 GB/s, would; a quarter
 * of the link, the default link_loss, would still carry it), replays rise by
 * replays_per_interval each scrape, and the node's share of the all-reduce
 * (GPUDirect RDMA crosses the link) slows the whole job. */
static void test_pcie_degradation(const fleet *f, const trace *base) {
  scn_set *set = NULL;
  trace x;
  const scn_def *s =
      run_scenario(f,
                   "{\"scenarios\": [{\"id\": \"K2\", \"kind\": \"pcie_degradation\", "
                   "\"start_h\": 0.25, \"duration_min\": 120, \"job\": \"train-002\", "
                   "\"job_node\": 2, \"gpu\": 2, \"link_loss\": 0.875}]}",
                   &set, &x);
  const int n = s->nodes[0], peer = job_peer(f, n), g = 2;
  const int64_t ts = s->t_start, te = s->t_end;
  const double cap = 6.4e10 * (1.0 - 0.875);
  check_same_before(&x, base, ts);
  int capped = 0;
  double slow = 0;
  for (int64_t t = ts; t < te; t++) {
    const float tx = gf(&x, GM_PCIE_TX, t, n, g), btx = gf(base, GM_PCIE_TX, t, n, g);
    CHECK_BELOW(tx, cap * (1 + 1e-6));
    CHECK_BELOW(gf(&x, GM_PCIE_RX, t, n, g), cap * (1 + 1e-6));
    if (btx > cap) {
      CHECK_NEAR(tx, cap, cap * 1e-6);
      capped++;
    } else {
      CHECK_EQ(tx, btx);
    }
    CHECK_EQ(gf(&x, GM_PCIE_TX, t, n, g ^ 1), gf(base, GM_PCIE_TX, t, n, g ^ 1));
    slow += nf(&x, NM_STEP_TIME, t, peer) / nf(base, NM_STEP_TIME, t, peer);
  }
  CHECK_GT(capped, 0); /* checkpoint writes of the window would exceed the link */
  const double replays = (double)(gu(&x, GM_PCIE_REPLAY, te - 1, n, g) -
                                  gu(&x, GM_PCIE_REPLAY, ts - 1, n, g)),
               expect = 20.0 * (double)(te - ts);
  printf("pcie_degradation: %d capped scrapes, %.0f replays (%.0f expected), step x%.3f\n", capped,
         replays, expect, slow / (double)(te - ts));
  CHECK_NEAR(replays, expect, 0.05 * expect);
  CHECK_LT(gu(base, GM_PCIE_REPLAY, te - 1, n, g) - gu(base, GM_PCIE_REPLAY, ts - 1, n, g), 10);
  CHECK_ABOVE(slow / (double)(te - ts), 1.2);
  trace_free(&x);
  scn_destroy(&set);
}

/* On an inference node prompts and KV blocks cross the slower link: TTFT
 * grows by half the lost share, over the node's 8 GPUs. */
static void test_pcie_inference(const fleet *f, const trace *base, int inf) {
  char text[256];
  snprintf(text, sizeof text,
           "{\"scenarios\": [{\"id\": \"K2\", \"kind\": \"pcie_degradation\", \"start_h\": 0.25, "
           "\"duration_min\": 30, \"inference_node\": %d, \"gpu\": 6}]}",
           inf);
  scn_set *set = NULL;
  trace x;
  const scn_def *s = run_scenario(f, text, &set, &x);
  for (int64_t t = s->t_start; t < s->t_end; t++)
    CHECK_NEAR(nf(&x, NM_TTFT, t, inf) / nf(base, NM_TTFT, t, inf), 1.0 + 0.5 * 0.75 / 8, 1e-4);
  trace_free(&x);
  scn_destroy(&set);
}

/* Slow shared storage: every training job's checkpoint write takes
 * write_scale (4) times as long once the onset is over, the jobs stall
 * longer at each checkpoint, and inference does not notice. */
static void test_storage_slowdown(const fleet *f, const trace *base) {
  scn_set *set = NULL;
  trace x;
  const scn_def *s =
      run_scenario(f,
                   "{\"scenarios\": [{\"id\": \"K4\", \"kind\": \"storage_slowdown\", "
                   "\"start_h\": 0.25, \"duration_min\": 120}]}",
                   &set, &x);
  const int64_t ts = s->t_start, te = s->t_end;
  check_same_before(&x, base, ts);
  CHECK_EQ(s->nnodes, f->job_offset[f->njobs]); /* the nodes of every job */
  for (int j = 0; j < f->njobs; j++) {
    const int n = f->job_nodes[f->job_offset[j]];
    CHECK_NEAR(nf(&x, NM_CKPT_WRITE, te - 1, n) / nf(base, NM_CKPT_WRITE, te - 1, n), 4.0, 1e-3);
    double steps = 0, base_steps = 0;
    for (int64_t t = ts; t < te; t++) {
      steps += 15000.0 / nf(&x, NM_STEP_TIME, t, n);
      base_steps += 15000.0 / nf(base, NM_STEP_TIME, t, n);
    }
    printf("storage_slowdown: %s %.0f of %.0f steps in 2 h\n", f->cfg->jobs[j].id, steps,
           base_steps);
    CHECK_BELOW(steps, 0.985 * base_steps); /* 19-45 s of 1800 s per checkpoint, x4 */
  }
  for (int n = 0; n < f->nodes; n++)
    if (f->node_tenant[n] != TENANT_TRAINING)
      for (int64_t t = ts; t < te; t++)
        CHECK(nf(&x, NM_TTFT, t, n) == nf(base, NM_TTFT, t, n));
  trace_free(&x);
  scn_destroy(&set);
}

/* A flapping IB port: each flap adds about 300 RDMA retransmits and 40 port
 * receive errors on the node (and nowhere else), an outage empties the
 * interval's RDMA traffic and stretches the NCCL latency by the seconds
 * lost; the first, long outage breaks the job's communicator, so its peers
 * hang in their collectives (NCCL latency spike) before the relaunch. */
static void test_nic_flap(const fleet *f, const trace *base) {
  scn_set *set = NULL;
  trace x;
  const scn_def *s =
      run_scenario(f,
                   "{\"scenarios\": [{\"id\": \"K5\", \"kind\": \"nic_flap\", "
                   "\"start_h\": 0.25, \"duration_min\": 60, \"job\": \"train-001\", "
                   "\"job_node\": 4}]}",
                   &set, &x);
  const int n = s->nodes[0], peer = job_peer(f, n);
  const int64_t ts = s->t_start, te = s->t_end;
  check_same_before(&x, base, ts);
  double flaps = 0;
  for (int64_t t = ts; t < te; t++)
    flaps += x.flaps[(size_t)t * (size_t)f->nodes + (size_t)n];
  const double retx =
      (double)(nu(&x, NM_RDMA_RETX, te - 1, n) - nu(&x, NM_RDMA_RETX, ts - 1, n)) -
      (double)(nu(base, NM_RDMA_RETX, te - 1, n) - nu(base, NM_RDMA_RETX, ts - 1, n));
  const double rcv =
      (double)(nu(&x, NM_IB_RCV_ERR, te - 1, n) - nu(&x, NM_IB_RCV_ERR, ts - 1, n)) -
      (double)(nu(base, NM_IB_RCV_ERR, te - 1, n) - nu(base, NM_IB_RCV_ERR, ts - 1, n));
  printf("nic_flap: %.0f flaps, %.0f extra retransmits, %.0f extra receive errors\n", flaps, retx,
         rcv);
  CHECK_ABOVE(flaps, 10); /* 30 per hour */
  CHECK_NEAR(retx, 300.0 * flaps, 0.1 * 300.0 * flaps);
  CHECK_NEAR(rcv, 40.0 * flaps, 0.15 * 40.0 * flaps);
  CHECK_EQ(nu(&x, NM_RDMA_RETX, te - 1, peer), nu(base, NM_RDMA_RETX, te - 1, peer));
  /* the first outage (30 s) takes the whole first scrape */
  CHECK(nf(&x, NM_RDMA_BYTES, ts, n) == 0.0f);
  CHECK_ABOVE(nf(&x, NM_NCCL_LAT, ts, n), nf(base, NM_NCCL_LAT, ts, n) + 1.0e7);
  for (int64_t t = ts + 3; t < ts + 10; t++) /* the job hangs from 30 s to 2.5 min */
    CHECK_ABOVE(nf(&x, NM_NCCL_LAT, t, peer), nf(base, NM_NCCL_LAT, t, peer) + 1.0e7);
  trace_free(&x);
  scn_destroy(&set);
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
  int inf = 0;
  while (f->node_tenant[inf] == TENANT_TRAINING)
    inf++;
  trace base;
  run(f, NULL, &base);
  test_gpu_off_bus_job(f, &base);
  test_gpu_off_bus_inference(f, &base, inf);
  test_hbm_uncorrectable(f, &base);
  test_pcie_degradation(f, &base);
  test_pcie_inference(f, &base, inf);
  test_storage_slowdown(f, &base);
  test_nic_flap(f, &base);
  trace_free(&base);
  fleet_destroy(&f);
  printf("unit_fault_kinds: %ld checks passed\n", check_count);
  return 0;
}
