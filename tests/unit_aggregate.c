/* The L1 aggregation (pipeline/detect/aggregate.c) on a 24-node fleet (3
 * racks of 8, tenants interleaved, job train-000 on nodes 2, 5, 8 and 11),
 * fed hand-made candidates and trends: GPU and node events; job events (2+
 * nodes of a job on a common metric, a co-occurring one included); rack
 * events (5+ nodes of a rack) and not for 4; tenant and job trends; the
 * debounce windows of nodes (5 min), racks and tenants (20 min), members of
 * a group included; the cap of 5 events per step, most severe first, with
 * debounced groups not counting; the escalation decisions; and the state
 * saved to memory and loaded into a fresh aggregation continuing alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/detect/aggregate.h"
#include "src/core/checkpoint.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "src/model/fleet.h"
#include "tests/check.h"

enum { MAXC = 16 };

static fleet *fleet24(fs_config *cfg) {
  cfg_defaults(cfg);
  static const char *const set[][2] = {{"nodes", "24"},         {"racks", "3"},
                                       {"moe_nodes", "8"},      {"dense_nodes", "8"},
                                       {"training_nodes", "8"}, {"hours", "3"}};
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
    if (cfg_set(cfg, set[i][0], set[i][1], "test") != 0)
      CHECK_FAIL("cfg_set %s: %s", set[i][0], diag_first());
  const char *jobs = "{\"jobs\": [{\"id\": \"train-000\", \"model\": \"m\", \"nodes\": 4, "
                     "\"step_time_s\": 1.5}]}";
  if (cfg_apply_json(cfg, jobs, "test.json") != 0 || cfg_validate(cfg) != 0)
    CHECK_FAIL("config: %s", diag_first());
  fleet *f = NULL;
  CHECK_EQ(fleet_init(&f, cfg), 0);
  /* the layout the cases below rely on */
  CHECK_EQ(f->nodes_per_rack, 8);
  for (int n = 0; n < 24; n++)
    CHECK_EQ(f->node_tenant[n], n % 3);
  CHECK(f->node_job[2] == 0 && f->node_job[5] == 0 && f->node_job[8] == 0 && f->node_job[11] == 0 &&
        f->node_job[14] == -1);
  return f;
}

static void check_has(const char *text, const char *part) {
  check_count++;
  if (!strstr(text, part))
    CHECK_FAIL("\"%s\" lacks \"%s\"", text, part);
}

static void signal(ev_signal *s, const char *metric, int gpu, float z) {
  memset(s, 0, sizeof *s);
  snprintf(s->metric, sizeof s->metric, "%s", metric);
  s->gpu = (int16_t)gpu;
  s->z = z;
  s->value = 100.0f + z;
  s->baseline = 100.0f;
}

/* One step's input: candidates in node order and class trends. */
typedef struct {
  const fleet *f;
  det_candidate c[MAXC];
  int n;
  det_trend t[4];
  int nt;
} step_in;

static det_candidate *cand(step_in *in, int node, const char *metric, int gpu, float z) {
  CHECK_LT(in->n, MAXC);
  CHECK(in->n == 0 || in->c[in->n - 1].node <= node);
  det_candidate *c = &in->c[in->n++];
  memset(c, 0, sizeof *c);
  c->node = node;
  c->cls = det_class_of(in->f, node);
  signal(&c->top, metric, gpu, z);
  return c;
}

static void also(det_candidate *c, const char *metric, int gpu, float z) {
  CHECK_LT(c->ncooccur, EV_COOCCUR);
  signal(&c->cooccur[c->ncooccur++], metric, gpu, z);
}

static det_trend *trend(step_in *in, int cls, const char *metric, float z) {
  det_trend *t = &in->t[in->nt++];
  memset(t, 0, sizeof *t);
  t->cls = cls;
  signal(&t->top, metric, -1, z);
  return t;
}

/* Runs one step and returns the events it added (*n of them). */
static const ev_event *step(agg_state *a, int32_t s, const step_in *in, int *n) {
  int before, after;
  agg_events(a, &before);
  CHECK_EQ(agg_step(a, s, 300.0 * (s + 1), in->c, in->n, in->t, in->nt), 0);
  const ev_event *e = agg_events(a, &after);
  *n = after - before;
  for (int i = before; i < after; i++) {
    CHECK_EQ(e[i].event_id, i);
    CHECK_EQ(e[i].step, s);
    CHECK_NEAR(e[i].t_s, 300.0 * (s + 1), 0);
  }
  return e + before;
}

static void test_node_gpu_job(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  cand(&in, 0, "gpu_temp_celsius", 3, 8);                                 /* a GPU metric */
  cand(&in, 1, "ttft_ms", -1, 6);                                         /* a node metric */
  cand(&in, 2, "step_time_ms", -1, 6);                                    /* job nodes ... */
  also(cand(&in, 3, "gpu_temp_celsius", 2, -7), "gpu_power_watts", 5, 4); /* two GPUs: node */
  cand(&in, 5, "gpu_temp_celsius", 1, 5); /* a job node on another metric */
  cand(&in, 8, "step_time_ms", -1, 9);
  also(cand(&in, 11, "allreduce_wait_ms", -1, -4), "step_time_ms", -1, 5); /* co-occurring */
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, 5);
  /* most severe first: job (9), GPU (8), node (-7), node (6), GPU (5) */
  CHECK_EQ(e[0].scope, EV_SCOPE_JOB);
  CHECK_EQ(e[0].job, 0);
  CHECK_EQ(e[0].nodes, 3);
  CHECK_EQ(e[0].node, 8);
  CHECK_EQ(e[0].rack, 1);
  CHECK_EQ(e[0].tenant, TENANT_TRAINING);
  CHECK_STREQ(e[0].top.metric, "step_time_ms");
  CHECK_NEAR(e[0].top.z, 9, 0);
  CHECK_EQ(e[0].escalated, 1);
  CHECK_STREQ(e[0].escalation_reason, "job_scope");
  CHECK_EQ(e[1].scope, EV_SCOPE_GPU);
  CHECK_EQ(e[1].node, 0);
  CHECK_EQ(e[1].rack, 0);
  CHECK_EQ(e[1].job, -1);
  CHECK_EQ(e[1].tenant, TENANT_MOE);
  CHECK_EQ(e[1].nodes, 1);
  CHECK_EQ(e[1].top.gpu, 3);
  CHECK_EQ(e[1].escalated, 0);
  CHECK_EQ(e[2].scope, EV_SCOPE_NODE);
  CHECK_EQ(e[2].node, 3);
  CHECK_EQ(e[2].ncooccur, 1);
  CHECK_STREQ(e[2].cooccur[0].metric, "gpu_power_watts");
  CHECK_EQ(e[3].scope, EV_SCOPE_NODE);
  CHECK_EQ(e[3].node, 1);
  CHECK_EQ(e[3].tenant, TENANT_DENSE);
  CHECK_EQ(e[4].scope, EV_SCOPE_GPU);
  CHECK_EQ(e[4].node, 5);
  CHECK_EQ(e[4].job, 0); /* a node event keeps its node's job */
  agg_destroy(&a);
  CHECK(a == NULL);
  agg_destroy(&a); /* NULL: nothing */
  printf("ok: GPU, node and job events (a co-occurring metric joins the job)\n");
}

static void test_rack(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  static const int four[] = {9, 10, 12, 13}; /* rack 1, no job node */
  for (int i = 0; i < 4; i++)
    cand(&in, four[i], "inlet_temp_celsius", -1, 5.0f + 0.1f * (float)i);
  for (int n = 16; n <= 20; n++) /* rack 2 */
    cand(&in, n, "inlet_temp_celsius", -1, (float)(n - 11));
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, 5);
  CHECK_EQ(e[0].scope, EV_SCOPE_RACK);
  CHECK_EQ(e[0].rack, 2);
  CHECK_EQ(e[0].nodes, 5);
  CHECK_EQ(e[0].node, 20);
  CHECK_EQ(e[0].job, -1);
  CHECK_NEAR(e[0].top.z, 9, 0);
  CHECK_EQ(e[0].escalated, 1);
  CHECK_STREQ(e[0].escalation_reason, "rack_scope");
  for (int i = 1; i < 5; i++) { /* four of rack 1 are no rack event */
    CHECK_EQ(e[i].scope, EV_SCOPE_NODE);
    CHECK_EQ(e[i].node, four[4 - i]);
    CHECK_EQ(e[i].escalated, 0);
  }
  agg_destroy(&a);
  printf("ok: five nodes of a rack on one metric are a rack event, four are not\n");
}

static void test_trends(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  det_trend *t = trend(&in, 0, "expert_selection_entropy_nats", -12);
  signal(&t->more[t->nmore++], "ttft_ms", -1, 6);
  trend(&in, 3, "step_time_ms", 7);
  trend(&in, 1, "ttft_ms", 6); /* no dense node among the candidates: no event */
  cand(&in, 0, "expert_selection_entropy_nats", -1, -7);
  det_candidate *m = cand(&in, 3, "expert_selection_entropy_nats", -1, -20);
  m->trend_member = 1; /* a member is only used when no peer stands out */
  m = cand(&in, 5, "step_time_ms", -1, 11);
  m->trend_member = 1;
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, 2);
  CHECK_EQ(e[0].scope, EV_SCOPE_CLUSTER);
  CHECK_EQ(e[0].tenant, TENANT_MOE);
  CHECK_EQ(e[0].node, 0);
  CHECK_EQ(e[0].nodes, 1);
  CHECK_NEAR(e[0].trend_z, -12, 0);
  CHECK_NEAR(e[0].top.z, -12, 0); /* the class-level change is the evidence */
  CHECK_EQ(e[0].ncooccur, 2);     /* the trend's other signal, then the node's */
  CHECK_STREQ(e[0].cooccur[0].metric, "ttft_ms");
  CHECK_STREQ(e[0].cooccur[1].metric, "expert_selection_entropy_nats");
  CHECK_NEAR(e[0].cooccur[1].z, -7, 0);
  CHECK_STREQ(e[0].escalation_reason, "cluster_scope");
  CHECK_EQ(e[1].scope, EV_SCOPE_JOB);
  CHECK_EQ(e[1].job, 0);
  CHECK_EQ(e[1].node, 5);
  CHECK_EQ(e[1].nodes, 4); /* no peer flagged: the whole class */
  CHECK_NEAR(e[1].trend_z, 7, 0);
  CHECK_STREQ(e[1].escalation_reason, "job_scope");
  agg_destroy(&a);
  printf("ok: tenant and job trends are cluster and job events; a trend without nodes is none\n");
}

/* The number of events one step of `in` adds at step s. */
static int count(agg_state *a, int32_t s, const step_in *in) {
  int n;
  step(a, s, in, &n);
  return n;
}

static void test_debounce(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in m = {.f = f}, m2 = {.f = f}, rack = {.f = f}, alone = {.f = f}, tenant = {.f = f};
  cand(&m, 0, "ttft_ms", -1, 6);
  cand(&m2, 0, "itl_ms", -1, 6);
  for (int n = 16; n <= 20; n++)
    cand(&rack, n, "inlet_temp_celsius", -1, 6);
  cand(&alone, 16, "inlet_temp_celsius", -1, 6);
  trend(&tenant, 0, "ttft_ms", 8);
  cand(&tenant, 0, "ttft_ms", -1, 6);
  /* a node: 5 minutes (one step), the same metric */
  CHECK_EQ(count(a, 10, &m), 1);
  CHECK_EQ(count(a, 11, &m), 0);
  CHECK_EQ(count(a, 12, &m), 1);  /* a suppressed event does not extend the window */
  CHECK_EQ(count(a, 13, &m2), 1); /* another metric */
  /* a rack: 20 minutes (four steps) */
  CHECK_EQ(count(a, 20, &rack), 1);
  CHECK_EQ(count(a, 24, &rack), 0);
  CHECK_EQ(count(a, 25, &rack), 1);
  /* the rack's nodes were marked too */
  CHECK_EQ(count(a, 26, &alone), 0);
  CHECK_EQ(count(a, 27, &alone), 1);
  /* a tenant: four steps */
  CHECK_EQ(count(a, 30, &tenant), 1);
  CHECK_EQ(count(a, 34, &tenant), 0);
  CHECK_EQ(count(a, 35, &tenant), 1);
  agg_destroy(&a);
  printf("ok: debounce: nodes 1 step, racks and tenants 4, members of a group marked\n");
}

static void test_cap(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  static const float z[8] = {3, -8, 5, 4, 8, 6, 7, -2};
  static const char *const metric[8] = {"ttft_ms",
                                        "itl_ms",
                                        "tokens_per_second",
                                        "kv_cache_hit_ratio",
                                        "inlet_temp_celsius",
                                        "node_power_watts",
                                        "rdma_bytes_per_second",
                                        "prompt_tokens_mean"};
  for (int i = 0; i < 8; i++) /* nodes 0, 3, 6, ...: distinct metrics, no groups */
    cand(&in, 3 * i, metric[i], -1, z[i]);
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, f->cfg->det.max_events_per_step);
  CHECK_EQ(n, 5);
  static const int want[5] = {3, 12, 18, 15, 6}; /* |z| 8 (ties: lower node), 8, 7, 6, 5 */
  for (int i = 0; i < 5; i++)
    CHECK_EQ(e[i].node, want[i]);
  /* the next step: those five are debounced, so the other three get in */
  e = step(a, 1, &in, &n);
  CHECK_EQ(n, 3);
  CHECK_EQ(e[0].node, 9);
  CHECK_EQ(e[1].node, 0);
  CHECK_EQ(e[2].node, 21);
  agg_destroy(&a);
  printf("ok: at most %d events a step, the most severe; debounced ones leave room\n",
         f->cfg->det.max_events_per_step);
}

static void test_escalation(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  cand(&in, 0, "gpu_nvlink_replay_total", 1, 15.5f);
  cand(&in, 1, "gpu_nvlink_replay_total", 1, 14.5f);
  cand(&in, 3, "gpu_ecc_dbe_total", 4, 3.5f);
  cand(&in, 4, "kv_cache_hit_ratio", -1, -10.5f);
  cand(&in, 6, "gpu_temp_celsius", 0, 50);
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, 5);
  /* by severity: temp 50, nvlink 15.5, nvlink 14.5, kv -10.5, dbe 3.5 */
  CHECK(e[0].node == 6 && e[0].escalated == 0);
  CHECK(e[1].node == 0 && e[1].escalated == 1);
  CHECK_STREQ(e[1].escalation_reason, "gpu_nvlink_replay_total");
  CHECK(e[2].node == 1 && e[2].escalated == 0);
  CHECK_STREQ(e[2].escalation_reason, "");
  CHECK(e[3].node == 4 && e[3].escalated == 1);
  CHECK_STREQ(e[3].escalation_reason, "kv_cache_hit_ratio");
  CHECK(e[4].node == 3 && e[4].escalated == 1);
  CHECK_STREQ(e[4].escalation_reason, "gpu_ecc_dbe_total");
  step_in co = {.f = f};
  also(cand(&co, 7, "gpu_temp_celsius", 2, 9), "ib_port_rcv_errors_total", -1, 16);
  e = step(a, 1, &co, &n);
  CHECK_EQ(n, 1);
  CHECK_EQ(e[0].escalated, 1); /* a co-occurring high-signal metric escalates */
  CHECK_STREQ(e[0].escalation_reason, "ib_port_rcv_errors_total");
  agg_destroy(&a);
  printf("ok: escalation by scope and by high-signal metrics over their thresholds\n");
}

/* The settings of fs_config.det (cfg is f's configuration): cap, debounce,
 * group sizes and the escalation rules take the configured values. */
static void test_settings(const fleet *f, fs_config *cfg) {
  const cfg_detect keep = cfg->det;
  CHECK_EQ(cfg_set(cfg, "detect_max_events_per_step", "7", "test"), 0);
  CHECK_EQ(cfg_set(cfg, "detect_debounce_node_steps", "0", "test"), 0);
  CHECK_EQ(cfg_set(cfg, "escalate_signal_scale", "2", "test"), 0);
  CHECK_EQ(cfg_set(cfg, "escalate_any_z", "7.5", "test"), 0);
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  step_in in = {.f = f};
  static const float z[8] = {3, -8, 5, 4, 8, 6, 7, -2};
  for (int i = 0; i < 8; i++) /* nodes 0, 3, 6, ...: one metric, no job or rack groups */
    cand(&in, 3 * i, "gpu_nvlink_replay_total", 0, z[i]);
  int n;
  const ev_event *e = step(a, 0, &in, &n);
  CHECK_EQ(n, 7); /* the cap */
  /* nvlink needs |z| > 30 now; any |z| > 7.5 escalates (8, -8) */
  for (int i = 0; i < n; i++) {
    CHECK_EQ(e[i].escalated, fabsf(e[i].top.z) > 7.5f);
    CHECK_STREQ(e[i].escalation_reason, fabsf(e[i].top.z) > 7.5f ? "any_z" : "");
  }
  e = step(a, 1, &in, &n); /* no debounce: the same seven again */
  CHECK_EQ(n, 7);
  agg_destroy(&a);
  /* a job of two flagged nodes is no job event when it takes three, and
   * group scopes escalate only when escalate_groups is 1 */
  cfg->det = keep;
  CHECK_EQ(cfg_set(cfg, "detect_job_min_nodes", "3", "test"), 0);
  CHECK_EQ(cfg_set(cfg, "escalate_groups", "0", "test"), 0);
  CHECK_EQ(agg_init(&a, f), 0);
  step_in two = {.f = f};
  cand(&two, 2, "step_time_ms", -1, 6);
  cand(&two, 5, "step_time_ms", -1, 7);
  e = step(a, 0, &two, &n);
  CHECK_EQ(n, 2);
  CHECK(e[0].scope == EV_SCOPE_NODE && e[1].scope == EV_SCOPE_NODE);
  cand(&two, 8, "step_time_ms", -1, 8);
  e = step(a, 5, &two, &n);
  CHECK_EQ(n, 1);
  CHECK(e[0].scope == EV_SCOPE_JOB && e[0].nodes == 3 && e[0].escalated == 0);
  agg_destroy(&a);
  cfg->det = keep;
  printf("ok: cap, debounce, job size and escalation rules follow the settings\n");
}

/* a's state into memory. */
static void save(const agg_state *a, ckpt_buf *b) {
  ckpt_file *f = NULL;
  CHECK_EQ(ckpt_create_mem(&f, b, "mem:aggregation"), 0);
  agg_save(a, f);
  CHECK_EQ(ckpt_commit(&f), 0);
}

/* Loads len bytes of b into a; 0 or the error, the message in diag. */
static int load(agg_state *a, const ckpt_buf *b, size_t len) {
  diag_clear();
  ckpt_file *f = NULL;
  int rc = ckpt_open_mem(&f, b->data, len, "mem:aggregation");
  if (rc)
    return rc;
  rc = agg_load(a, f);
  int rc2 = ckpt_close(&f);
  return rc ? rc : rc2;
}

static void test_checkpoint(const fleet *f) {
  agg_state *a = NULL, *b = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  CHECK_EQ(agg_init(&b, f), 0);
  step_in rack = {.f = f}, node = {.f = f};
  for (int n = 16; n <= 20; n++)
    cand(&rack, n, "inlet_temp_celsius", -1, 6);
  cand(&node, 1, "ttft_ms", -1, 6);
  int n;
  step(a, 0, &rack, &n);
  step(a, 1, &node, &n);
  CHECK_EQ(agg_events(a, &n) != NULL && n == 2, 1);
  ckpt_buf img = {0}, again = {0};
  save(a, &img);
  CHECK_EQ(load(b, &img, img.len), 0);
  const ev_event *ea = agg_events(a, &n), *eb = agg_events(b, &n);
  CHECK_EQ(n, 2);
  CHECK(memcmp(ea, eb, sizeof *ea * 2) == 0);
  save(b, &again);
  CHECK_EQ(again.len, img.len);
  CHECK(memcmp(again.data, img.data, img.len) == 0);
  /* the debounce state came along: both suppress the rack and the node */
  CHECK_EQ(count(a, 2, &rack), 0);
  CHECK_EQ(count(b, 2, &rack), 0);
  CHECK_EQ(count(a, 2, &node), 0);
  CHECK_EQ(count(b, 2, &node), 0);
  CHECK_EQ(count(a, 3, &node), 1);
  CHECK_EQ(count(b, 3, &node), 1);
  ea = agg_events(a, &n);
  eb = agg_events(b, &n);
  CHECK(n == 3 && memcmp(&ea[2], &eb[2], sizeof *ea) == 0);
  /* a cut stream names the field it ends in (the debounce records of the nodes) */
  size_t events_end = 16 + 4 + 4 + 2 * sizeof(ev_event);
  CHECK_EQ(load(b, &img, events_end + 10 + 16), FS_EIO);
  check_has(diag_first(), "checkpoint mem:aggregation: section 'AGG1', field 'last_node': the "
                          "stream ends early (");
  check_has(diag_first(), ", 10 left)");
  agg_destroy(&a);
  agg_destroy(&b);
  ckpt_buf_free(&img);
  ckpt_buf_free(&again);
  printf("ok: the aggregation's events and debounce state round trip in memory\n");
}

static void test_impossible_count(const fleet *f) {
  agg_state *a = NULL;
  CHECK_EQ(agg_init(&a, f), 0);
  ckpt_buf img = {0};
  ckpt_file *w = NULL;
  CHECK_EQ(ckpt_create_mem(&w, &img, "mem:aggregation"), 0);
  ckpt_tag(w, "AGG1");
  ckpt_put_i32(w, -5);
  CHECK_EQ(ckpt_commit(&w), 0);
  CHECK_EQ(load(a, &img, img.len), FS_EIO);
  CHECK_STREQ(diag_first(), "checkpoint mem:aggregation: section 'AGG1', field 'events': -5 "
                            "events is impossible");
  ckpt_buf_free(&img);
  agg_destroy(&a);
  printf("ok: an impossible event count is refused, naming the field and the value\n");
}

int main(void) {
  static fs_config cfg;
  fleet *f = fleet24(&cfg);
  test_node_gpu_job(f);
  test_rack(f);
  test_trends(f);
  test_debounce(f);
  test_cap(f);
  test_escalation(f);
  test_settings(f, &cfg);
  test_checkpoint(f);
  test_impossible_count(f);
  fleet_destroy(&f);
  printf("unit_aggregate: %ld checks passed\n", check_count);
  return 0;
}
