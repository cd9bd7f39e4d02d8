/* L2/L3/L4 context builders (see context.h): a ring of the last 13 detection
 * blocks (features of every node and GPU, class medians, candidates) plus a
 * per-step history of cluster metrics and job health, rendered as JSON. */
#include "pipeline/detect/context.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/checkpoint.h"
#include "src/core/errors.h"
#include "src/model/actions.h"
#include "src/model/metrics.h"
#include "src/model/telemetry.h"

enum { CTX_RING = 2 * CTX_SERIES_HALF + 1 };

/* Job health of one step: the job's step time and its most suspicious nodes. */
typedef struct {
  float step_ms;          /* class median of step_time_ms */
  float replay_max;       /* highest NVLink replays per block on any GPU of the job */
  int32_t replay_node;    /* ... and its node */
  float wait_min;         /* lowest all-reduce wait: the node everyone waits for */
  int32_t wait_node;
} ctx_job_health;

typedef struct {
  int32_t step;           /* -1 when empty */
  double t_end_s;
  float *nfeat;           /* [NM][N] */
  float *gfeat;           /* [GM][N*8] */
  float *nmed, *gmed;     /* [ncls][NM], [ncls][GM] */
  det_candidate *cands;
  int ncands, cap;
} ctx_slot;

/* Per step and rack: what a shift report shows about the rack. */
enum { RACK_INLET_MAX, RACK_GPU_TEMP_MAX, RACK_IB_ERRORS, RACK_THROTTLED, RACK_NVALS };

struct ctx_builder {
  const fleet *f;
  int nclasses, total_steps;
  ctx_slot ring[CTX_RING];
  float *cluster;         /* [total_steps][CM_COUNT] */
  float *racks;           /* [total_steps][racks][RACK_NVALS] */
  ctx_job_health *jobs;   /* [total_steps][njobs] */
  double *t_end;          /* [total_steps] */
  int32_t last_step;
};

/* ---- lifecycle and recording ------------------------------------------- */

int ctx_init(ctx_builder **out, const fleet *f, int total_steps) {
  *out = NULL;
  ctx_builder *b = calloc(1, sizeof *b);
  if (!b)
    return FS_ENOMEM;
  b->f = f;
  b->nclasses = 3 + f->njobs;
  b->total_steps = total_steps > 0 ? total_steps : 1;
  b->last_step = -1;
  size_t N = (size_t)f->nodes, nc = (size_t)b->nclasses, T = (size_t)b->total_steps;
  int ok = 1;
  for (int i = 0; i < CTX_RING; i++) {
    ctx_slot *s = &b->ring[i];
    s->step = -1;
    ok &= (s->nfeat = malloc(sizeof(float) * N * NM_COUNT)) != NULL;
    ok &= (s->gfeat = malloc(sizeof(float) * N * FLEET_GPUS * GM_COUNT)) != NULL;
    ok &= (s->nmed = malloc(sizeof(float) * nc * NM_COUNT)) != NULL;
    ok &= (s->gmed = malloc(sizeof(float) * nc * GM_COUNT)) != NULL;
  }
  ok &= (b->cluster = calloc(T * CM_COUNT, sizeof(float))) != NULL;
  ok &= (b->racks = calloc(T * (size_t)f->racks * RACK_NVALS, sizeof(float))) != NULL;
  ok &= (b->jobs = calloc(T * ((size_t)f->njobs + 1), sizeof(ctx_job_health))) != NULL;
  ok &= (b->t_end = calloc(T, sizeof(double))) != NULL;
  if (!ok) {
    ctx_destroy(&b);
    return FS_ENOMEM;
  }
  *out = b;
  return 0;
}

void ctx_destroy(ctx_builder **bp) {
  if (!bp || !*bp)
    return;
  ctx_builder *b = *bp;
  for (int i = 0; i < CTX_RING; i++) {
    free(b->ring[i].nfeat);
    free(b->ring[i].gfeat);
    free(b->ring[i].nmed);
    free(b->ring[i].gmed);
    free(b->ring[i].cands);
  }
  free(b->cluster);
  free(b->racks);
  free(b->jobs);
  free(b->t_end);
  free(b);
  *bp = NULL;
}

static const ctx_slot *ctx_slot_of(const ctx_builder *b, int32_t step) {
  if (step < 0)
    return NULL;
  const ctx_slot *s = &b->ring[step % CTX_RING];
  return s->step == step ? s : NULL;
}

static void ctx_job_health_of(const fleet *f, const det_state *d, ctx_job_health *h) {
  for (int j = 0; j < f->njobs; j++) {
    ctx_job_health *x = &h[j];
    x->step_ms = det_class_node_median(d, 3 + j, NM_STEP_TIME);
    x->replay_max = -1;
    x->wait_min = INFINITY;
    x->replay_node = x->wait_node = -1;
    for (int k = f->job_offset[j]; k < f->job_offset[j + 1]; k++) {
      int n = f->job_nodes[k];
      for (int g = 0; g < FLEET_GPUS; g++) {
        float r = det_gpu_feature(d, GM_NVLINK_REPLAY, n, g);
        if (r > x->replay_max) {
          x->replay_max = r;
          x->replay_node = n;
        }
      }
      float w = det_node_feature(d, NM_ALLREDUCE_WAIT, n);
      if (w < x->wait_min) {
        x->wait_min = w;
        x->wait_node = n;
      }
    }
  }
}

int ctx_record_step(ctx_builder *b, const det_state *d, int32_t step, double t_end_s,
                    const det_candidate *cands, int ncands, const float *cluster) {
  const fleet *f = b->f;
  ctx_slot *s = &b->ring[step % CTX_RING];
  size_t N = (size_t)f->nodes;
  for (int k = 0; k < NM_COUNT; k++)
    memcpy(&s->nfeat[k * N], det_node_features(d, k), sizeof(float) * N);
  for (int k = 0; k < GM_COUNT; k++)
    memcpy(&s->gfeat[k * N * FLEET_GPUS], det_gpu_features(d, k), sizeof(float) * N * FLEET_GPUS);
  for (int c = 0; c < b->nclasses; c++) {
    for (int k = 0; k < NM_COUNT; k++)
      s->nmed[c * NM_COUNT + k] = det_class_node_median(d, c, k);
    for (int k = 0; k < GM_COUNT; k++)
      s->gmed[c * GM_COUNT + k] = det_class_gpu_median(d, c, k);
  }
  if (ncands > s->cap) {
    det_candidate *nc = realloc(s->cands, sizeof *nc * (size_t)ncands);
    if (!nc)
      return FS_ENOMEM;
    s->cands = nc;
    s->cap = ncands;
  }
  if (ncands > 0)
    memcpy(s->cands, cands, sizeof *cands * (size_t)ncands);
  s->ncands = ncands;
  s->step = step;
  s->t_end_s = t_end_s;
  if (step < b->total_steps) {
    memcpy(&b->cluster[(size_t)step * CM_COUNT], cluster, sizeof(float) * CM_COUNT);
    ctx_job_health_of(f, d, &b->jobs[(size_t)step * (size_t)(f->njobs + 1)]);
    float *r = &b->racks[(size_t)step * (size_t)f->racks * RACK_NVALS];
    const float *inlet = det_node_features(d, NM_INLET_TEMP), *ib = det_node_features(d, NM_IB_RCV_ERR);
    const float *temp = det_gpu_features(d, GM_TEMP), *thr = det_gpu_features(d, GM_CLOCK_EVENTS);
    for (int n = 0; n < f->nodes; n++) {
      float *x = &r[(size_t)f->node_rack[n] * RACK_NVALS];
      x[RACK_INLET_MAX] = fmaxf(x[RACK_INLET_MAX], inlet[n]);
      x[RACK_IB_ERRORS] += ib[n];
      for (int g = 0; g < FLEET_GPUS; g++) {
        x[RACK_GPU_TEMP_MAX] = fmaxf(x[RACK_GPU_TEMP_MAX], temp[(size_t)n * FLEET_GPUS + (size_t)g]);
        x[RACK_THROTTLED] += thr[(size_t)n * FLEET_GPUS + (size_t)g] > 0;
      }
    }
    b->t_end[step] = t_end_s;
  }
  b->last_step = step;
  return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

/* A number rounded to 4 significant digits, or null for NaN. */
static json_t *ctx_num(double x) {
  if (!isfinite(x))
    return json_null();
  if (x == 0)
    return json_integer(0);
  double mag = pow(10.0, 3 - (int)floor(log10(fabs(x))));
  double r = round(x * mag) / mag;
  if (r == floor(r) && fabs(r) < 9e15)
    return json_integer((json_int_t)r);
  return json_real(r);
}

static void ctx_set(json_t *o, const char *key, json_t *v) { json_object_set_new(o, key, v); }

static json_t *ctx_node_name(int n) {
  char s[16];
  snprintf(s, sizeof s, "node-%04d", n);
  return json_string(s);
}

static json_t *ctx_rack_name(int r) {
  char s[16];
  snprintf(s, sizeof s, "rack-%02d", r);
  return json_string(s);
}

static json_t *ctx_gpu_name(int n, int g) {
  char s[24];
  snprintf(s, sizeof s, "node-%04d/gpu%d", n, g);
  return json_string(s);
}

static json_t *ctx_clock(const fleet *f, double t_s) {
  double h = fmod(f->cfg->start_hour + t_s / 3600.0, 24.0);
  int minutes = (int)floor(h * 60.0 + 0.5) % (24 * 60);
  char s[16];
  snprintf(s, sizeof s, "%02d:%02d", minutes / 60, minutes % 60);
  return json_string(s);
}

static json_t *ctx_job_name(const fleet *f, int j) {
  return j >= 0 && j < f->njobs ? json_string(f->cfg->jobs[j].id) : json_null();
}

/* Finds a metric by name: returns its index and sets *gpu_level. */
static int ctx_metric(const char *name, int *gpu_level) {
  for (int k = 0; k < GM_COUNT; k++)
    if (strcmp(metric_gpu[k].name, name) == 0) {
      *gpu_level = 1;
      return k;
    }
  for (int k = 0; k < NM_COUNT; k++)
    if (strcmp(metric_node[k].name, name) == 0) {
      *gpu_level = 0;
      return k;
    }
  return -1;
}

static const char *ctx_units(const char *metric) {
  int gpu;
  int k = ctx_metric(metric, &gpu);
  if (k < 0)
    return "";
  return gpu ? metric_gpu[k].units : metric_node[k].units;
}

static json_t *ctx_signal(const ev_signal *s, int node) {
  json_t *o = json_object();
  ctx_set(o, "metric", json_string(s->metric));
  ctx_set(o, "gpu", s->gpu >= 0 ? ctx_gpu_name(node, s->gpu) : json_null());
  ctx_set(o, "z", ctx_num(s->z));
  ctx_set(o, "value", ctx_num(s->value));
  ctx_set(o, "baseline", ctx_num(s->baseline));
  ctx_set(o, "units", json_string(ctx_units(s->metric)));
  return o;
}

static json_t *ctx_event(const ctx_builder *b, const ev_event *e) {
  const fleet *f = b->f;
  json_t *o = json_object();
  ctx_set(o, "id", json_integer(e->event_id));
  ctx_set(o, "time", ctx_clock(f, e->t_s));
  ctx_set(o, "scope", json_string(ev_scope_name(e->scope)));
  ctx_set(o, "node", ctx_node_name(e->node));
  ctx_set(o, "rack", ctx_rack_name(f->node_rack[e->node]));
  ctx_set(o, "job", ctx_job_name(f, e->scope == EV_SCOPE_JOB ? e->job : f->node_job[e->node]));
  ctx_set(o, "tenant", json_string(fleet_tenant_name(f->node_tenant[e->node])));
  ctx_set(o, "nodes_affected", json_integer(e->nodes));
  ctx_set(o, "trigger", ctx_signal(&e->top, e->node));
  if (e->trend_z != 0)
    ctx_set(o, "class_trend_z", ctx_num(e->trend_z));
  json_t *co = json_array();
  for (int i = 0; i < e->ncooccur; i++)
    json_array_append_new(co, ctx_signal(&e->cooccur[i], e->node));
  ctx_set(o, "cooccurring", co);
  ctx_set(o, "escalated_by_detector", json_boolean(e->escalated));
  return o;
}

/* The node's metrics of one block next to its workload class's median. */
static json_t *ctx_node_metrics(const ctx_builder *b, const ctx_slot *s, int n) {
  size_t N = (size_t)b->f->nodes;
  int c = det_class_of(b->f, n);
  json_t *o = json_object();
  for (int k = 0; k < NM_COUNT; k++) {
    float v = s->nfeat[k * N + (size_t)n];
    if (isnan(v))
      continue;
    json_t *m = json_object();
    ctx_set(m, "value", ctx_num(v));
    ctx_set(m, "peer_median", ctx_num(s->nmed[c * NM_COUNT + k]));
    ctx_set(o, metric_node[k].name, m);
  }
  return o;
}

/* GPU metrics summarised for triage, with short keys. */
static const struct {
  int metric;
  const char *key;
} ctx_gpu_summary[] = {
    {GM_TEMP, "temp_c"},        {GM_POWER, "power_w"},          {GM_SM_UTIL, "sm_util_pct"},
    {GM_MEM_BW_UTIL, "mem_bw_pct"}, {GM_SM_CLOCK, "sm_clock_mhz"}, {GM_CLOCK_EVENTS, "throttled_share"},
    {GM_ECC_SBE, "sbe_per_5min"}, {GM_ECC_DBE, "dbe_per_5min"}, {GM_NVLINK_REPLAY, "nvlink_replays_per_5min"},
    {GM_XID, "xid"},
};
enum { CTX_GPU_SUMMARY = sizeof ctx_gpu_summary / sizeof ctx_gpu_summary[0] };

static json_t *ctx_gpus(const ctx_builder *b, const ctx_slot *s, int n) {
  size_t N = (size_t)b->f->nodes;
  json_t *a = json_array();
  for (int g = 0; g < FLEET_GPUS; g++) {
    json_t *o = json_object();
    ctx_set(o, "gpu", ctx_gpu_name(n, g));
    ctx_set(o, "silicon_lot", json_integer(b->f->gpu_lot[(size_t)n * FLEET_GPUS + (size_t)g]));
    for (int i = 0; i < CTX_GPU_SUMMARY; i++) {
      int k = ctx_gpu_summary[i].metric;
      ctx_set(o, ctx_gpu_summary[i].key, ctx_num(s->gfeat[(k * N + (size_t)n) * FLEET_GPUS + (size_t)g]));
    }
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *ctx_gpu_peers(const ctx_builder *b, const ctx_slot *s, int n) {
  int c = det_class_of(b->f, n);
  json_t *o = json_object();
  for (int i = 0; i < CTX_GPU_SUMMARY; i++)
    ctx_set(o, ctx_gpu_summary[i].key, ctx_num(s->gmed[c * GM_COUNT + ctx_gpu_summary[i].metric]));
  return o;
}

static json_t *ctx_node_identity(const ctx_builder *b, int n) {
  const fleet *f = b->f;
  json_t *o = json_object();
  ctx_set(o, "name", ctx_node_name(n));
  ctx_set(o, "tenant", json_string(fleet_tenant_name(f->node_tenant[n])));
  ctx_set(o, "rack", ctx_rack_name(f->node_rack[n]));
  ctx_set(o, "job", ctx_job_name(f, f->node_job[n]));
  return o;
}

static char *ctx_dump(json_t *root) {
  char *s = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))
                 : NULL;
  json_decref(root);
  return s;
}

/* ---- L2 ----------------------------------------------------------------- */

/* What L2 and L3 share: the event, the node against its peers, its GPUs. */
static json_t *ctx_base(const ctx_builder *b, const ev_event *e, const ctx_slot *s,
                        const char *layer) {
  json_t *root = json_object();
  ctx_set(root, "layer", json_string(layer));
  ctx_set(root, "event", ctx_event(b, e));
  json_t *node = ctx_node_identity(b, e->node);
  ctx_set(node, "metrics", ctx_node_metrics(b, s, e->node));
  ctx_set(root, "node", node);
  ctx_set(root, "gpus", ctx_gpus(b, s, e->node));
  ctx_set(root, "gpu_peer_median", ctx_gpu_peers(b, s, e->node));
  return root;
}

char *ctx_l2(const ctx_builder *b, const ev_event *e) {
  const ctx_slot *s = ctx_slot_of(b, e->step);
  return s ? ctx_dump(ctx_base(b, e, s, "L2")) : NULL;
}

/* ---- L3 ----------------------------------------------------------------- */

/* Key metrics an operator reads first, per tenant. GPU metrics are the node's
 * maximum over its GPUs. */
static const char *const ctx_key_training[] = {"step_time_ms", "allreduce_wait_ms",
                                               "nccl_allreduce_latency_us", "inlet_temp_celsius",
                                               "gpu_temp_celsius", "gpu_nvlink_replay_total",
                                               "gpu_clock_event_reasons", NULL};
static const char *const ctx_key_dense[] = {"ttft_ms", "itl_ms", "kv_cache_hit_ratio",
                                            "tokens_per_second", "prompt_tokens_mean",
                                            "inlet_temp_celsius", "gpu_temp_celsius", NULL};
static const char *const ctx_key_moe[] = {"expert_selection_entropy_nats", "ttft_ms", "itl_ms",
                                          "tokens_per_second", "rdma_bytes_per_second",
                                          "ib_port_rcv_errors_total", "gpu_sm_util_percent", NULL};

/* Value of a metric for node n (GPU metrics: GPU gpu, or the node's maximum
 * when gpu < 0) in slot s, and the class median. */
static void ctx_value(const ctx_builder *b, const ctx_slot *s, int k, int gpu_level, int n,
                      int gpu, float *value, float *median) {
  size_t N = (size_t)b->f->nodes;
  int c = det_class_of(b->f, n);
  if (!gpu_level) {
    *value = s->nfeat[k * N + (size_t)n];
    *median = s->nmed[c * NM_COUNT + k];
    return;
  }
  *median = s->gmed[c * GM_COUNT + k];
  if (gpu >= 0) {
    *value = s->gfeat[(k * N + (size_t)n) * FLEET_GPUS + (size_t)gpu];
    return;
  }
  float mx = -INFINITY;
  for (int g = 0; g < FLEET_GPUS; g++)
    mx = fmaxf(mx, s->gfeat[(k * N + (size_t)n) * FLEET_GPUS + (size_t)g]);
  *value = mx;
}

/* Adds one series (node value and peer median per block) unless present. */
static void ctx_add_series(const ctx_builder *b, json_t *series, const char *metric, int n,
                           int gpu, int32_t from, int32_t to) {
  int gpu_level;
  int k = ctx_metric(metric, &gpu_level);
  if (k < 0)
    return;
  char key[EV_METRIC_LEN + 8];
  if (gpu_level && gpu >= 0)
    snprintf(key, sizeof key, "%s/gpu%d", metric, gpu);
  else
    snprintf(key, sizeof key, "%s", metric);
  if (json_object_get(series, key))
    return;
  json_t *vals = json_array(), *meds = json_array();
  int any = 0;
  for (int32_t st = from; st <= to; st++) {
    const ctx_slot *s = ctx_slot_of(b, st);
    float v = NAN, m = NAN;
    if (s)
      ctx_value(b, s, k, gpu_level, n, gpu, &v, &m);
    any |= !isnan(v);
    json_array_append_new(vals, ctx_num(v));
    json_array_append_new(meds, ctx_num(m));
  }
  if (!any) {
    json_decref(vals);
    json_decref(meds);
    return;
  }
  json_t *o = json_object();
  ctx_set(o, "units", json_string(ctx_units(metric)));
  ctx_set(o, "node", vals);
  ctx_set(o, "peer_median", meds);
  ctx_set(series, key, o);
}

/* Mean (max_not_mean = 0) or maximum over a node's GPUs of a GPU metric. */
static float ctx_gpu_agg(const ctx_builder *b, const ctx_slot *s, int k, int n, int max) {
  size_t N = (size_t)b->f->nodes;
  const float *v = &s->gfeat[(k * N + (size_t)n) * FLEET_GPUS];
  float acc = max ? -INFINITY : 0.0f;
  for (int g = 0; g < FLEET_GPUS; g++)
    acc = max ? fmaxf(acc, v[g]) : acc + v[g] / FLEET_GPUS;
  return acc;
}

/* A compact table (column names, then one row per node) of what an
 * operator scans next to the event: thermal state, the tenant's own metric,
 * NVLink and fabric errors, all-reduce wait. */
static json_t *ctx_node_table(const ctx_builder *b, const ctx_slot *s, const int32_t *nodes,
                              int n) {
  size_t N = (size_t)b->f->nodes;
  json_t *o = json_object();
  json_t *cols = json_array();
  static const char *const names[] = {"node", "tenant", "inlet_c", "gpu_temp_mean_c",
                                      "throttled_share_max", "nvlink_replays_per_5min_max",
                                      "ib_rcv_errors_per_5min", "allreduce_wait_ms", "ttft_ms",
                                      "sbe_per_5min_max"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    json_array_append_new(cols, json_string(names[i]));
  ctx_set(o, "columns", cols);
  json_t *rows = json_array();
  for (int i = 0; i < n; i++) {
    int node = nodes[i];
    json_t *r = json_array();
    json_array_append_new(r, ctx_node_name(node));
    json_array_append_new(r, json_string(fleet_tenant_name(b->f->node_tenant[node])));
    json_array_append_new(r, ctx_num(s->nfeat[NM_INLET_TEMP * N + (size_t)node]));
    json_array_append_new(r, ctx_num(ctx_gpu_agg(b, s, GM_TEMP, node, 0)));
    json_array_append_new(r, ctx_num(ctx_gpu_agg(b, s, GM_CLOCK_EVENTS, node, 1)));
    json_array_append_new(r, ctx_num(ctx_gpu_agg(b, s, GM_NVLINK_REPLAY, node, 1)));
    json_array_append_new(r, ctx_num(s->nfeat[NM_IB_RCV_ERR * N + (size_t)node]));
    json_array_append_new(r, ctx_num(s->nfeat[NM_ALLREDUCE_WAIT * N + (size_t)node]));
    json_array_append_new(r, ctx_num(s->nfeat[NM_TTFT * N + (size_t)node]));
    json_array_append_new(r, ctx_num(ctx_gpu_agg(b, s, GM_ECC_SBE, node, 1)));
    json_array_append_new(rows, r);
  }
  ctx_set(o, "rows", rows);
  return o;
}

static json_t *ctx_series(const ctx_builder *b, const ev_event *e) {
  int32_t from = e->step - CTX_SERIES_HALF, to = e->step + CTX_SERIES_HALF;
  if (to > b->last_step)
    to = b->last_step;
  json_t *o = json_object();
  json_t *minutes = json_array();
  for (int32_t st = from; st <= to; st++)
    json_array_append_new(minutes, json_integer((st - e->step) * 5));
  ctx_set(o, "minutes_from_event", minutes);
  json_t *series = json_object();
  ctx_add_series(b, series, e->top.metric, e->node, e->top.gpu, from, to);
  for (int i = 0; i < e->ncooccur; i++)
    ctx_add_series(b, series, e->cooccur[i].metric, e->node, e->cooccur[i].gpu, from, to);
  int tenant = b->f->node_tenant[e->node];
  const char *const *keys = tenant == TENANT_TRAINING ? ctx_key_training
                            : tenant == TENANT_DENSE  ? ctx_key_dense
                                                      : ctx_key_moe;
  for (int i = 0; keys[i]; i++)
    ctx_add_series(b, series, keys[i], e->node, -1, from, to);
  ctx_set(o, "series", series);
  return o;
}

/* Neighbours flagged by the detector in the event's block, and the rack's
 * medians of thermal and fabric metrics against the whole fleet. */
static json_t *ctx_rack(const ctx_builder *b, const ev_event *e) {
  const fleet *f = b->f;
  const ctx_slot *s = ctx_slot_of(b, e->step);
  int rack = f->node_rack[e->node];
  json_t *o = json_object();
  ctx_set(o, "rack", ctx_rack_name(rack));
  ctx_set(o, "row", json_integer(fleet_rack_row(f, rack)));
  ctx_set(o, "nodes", json_integer(f->nodes_per_rack));
  json_t *flagged = json_array();
  int nflagged = 0;
  for (int i = 0; s && i < s->ncands; i++) {
    const det_candidate *c = &s->cands[i];
    if (c->trend_member || f->node_rack[c->node] != rack || c->node == e->node)
      continue;
    if (nflagged++ < f->cfg->det.l3_neighbours) {
      json_t *x = json_object();
      ctx_set(x, "node", ctx_node_name(c->node));
      ctx_set(x, "tenant", json_string(fleet_tenant_name(f->node_tenant[c->node])));
      ctx_set(x, "metric", json_string(c->top.metric));
      ctx_set(x, "z", ctx_num(c->top.z));
      json_array_append_new(flagged, x);
    }
  }
  ctx_set(o, "neighbours_flagged", json_integer(nflagged));
  ctx_set(o, "flagged", flagged);
  static const char *const compare[] = {"inlet_temp_celsius", "gpu_temp_celsius",
                                        "ib_port_rcv_errors_total", "rdma_retransmits_total",
                                        "pdu_phase_imbalance_percent"};
  json_t *cmp = json_object();
  size_t N = (size_t)f->nodes;
  for (size_t i = 0; s && i < sizeof compare / sizeof compare[0]; i++) {
    int gpu_level;
    int k = ctx_metric(compare[i], &gpu_level);
    double rack_sum = 0, fleet_sum = 0;
    for (size_t n = 0; n < N; n++) {
      float v = gpu_level ? s->gfeat[(k * N + n) * FLEET_GPUS] : s->nfeat[k * N + n];
      if (gpu_level)
        for (int g = 1; g < FLEET_GPUS; g++)
          v += s->gfeat[(k * N + n) * FLEET_GPUS + (size_t)g];
      if (gpu_level)
        v /= FLEET_GPUS;
      fleet_sum += v;
      if (f->node_rack[n] == rack)
        rack_sum += v;
    }
    json_t *x = json_object();
    ctx_set(x, "rack_mean", ctx_num(rack_sum / f->nodes_per_rack));
    ctx_set(x, "fleet_mean", ctx_num(fleet_sum / (double)N));
    ctx_set(cmp, compare[i], x);
  }
  ctx_set(o, "rack_vs_fleet", cmp);
  if (s) {
    int32_t *members = malloc(sizeof *members * (size_t)f->nodes_per_rack);
    if (members) {
      for (int i = 0; i < f->nodes_per_rack; i++)
        members[i] = rack * f->nodes_per_rack + i;
      ctx_set(o, "node_table", ctx_node_table(b, s, members, f->nodes_per_rack));
      free(members);
    }
  }
  return o;
}

/* Other nodes the detector flagged on the event's trigger metric in the
 * series' hour (the ring): where else the same signal shows, with each
 * node's tenant and, for a GPU signal, the GPU and its silicon lot. A node
 * once, at its first block; nodes in ascending order within a block; class
 * trends' members left out (the candidates' order and those members depend
 * on the rank count, this list does not). */
typedef struct {
  int32_t step, node, gpu;
  float z;
} ctx_sighting;

static int ctx_cmp_sighting(const void *a, const void *b) {
  const ctx_sighting *x = a, *y = b;
  if (x->step != y->step)
    return x->step < y->step ? -1 : 1;
  return (x->node > y->node) - (x->node < y->node);
}

static json_t *ctx_same_signal(const ctx_builder *b, const ev_event *e) {
  const fleet *f = b->f;
  size_t n = 0, cap = 0;
  ctx_sighting *v = NULL;
  for (int32_t st = e->step - CTX_SERIES_HALF; st <= e->step + CTX_SERIES_HALF; st++) {
    const ctx_slot *s = ctx_slot_of(b, st);
    for (int i = 0; s && i < s->ncands; i++) {
      const det_candidate *c = &s->cands[i];
      /* a class trend's member is one per rank: which nodes depends on the rank count */
      if (c->trend_member || c->node == e->node || strcmp(c->top.metric, e->top.metric) != 0)
        continue;
      if (n == cap) {
        ctx_sighting *nv = realloc(v, sizeof *v * (cap = cap ? 2 * cap : 32));
        if (!nv)
          break;
        v = nv;
      }
      v[n++] = (ctx_sighting){st, c->node, c->top.gpu, c->top.z};
    }
  }
  if (n > 0) /* v is NULL when nothing else was flagged */
    qsort(v, n, sizeof *v, ctx_cmp_sighting);
  json_t *list = json_array();
  int kept = 0;
  for (size_t i = 0; i < n && kept < f->cfg->det.l3_neighbours; i++) {
    int seen = 0;
    for (size_t k = 0; k < i; k++)
      seen |= v[k].node == v[i].node;
    if (seen)
      continue;
    json_t *x = json_object();
    ctx_set(x, "node", ctx_node_name(v[i].node));
    ctx_set(x, "tenant", json_string(fleet_tenant_name(f->node_tenant[v[i].node])));
    ctx_set(x, "minutes_from_event", json_integer((v[i].step - e->step) * 5));
    ctx_set(x, "z", ctx_num(v[i].z));
    if (v[i].gpu >= 0) {
      char g[40];
      snprintf(g, sizeof g, "node-%04d/gpu%d", v[i].node, v[i].gpu);
      ctx_set(x, "gpu", json_string(g));
      ctx_set(x, "silicon_lot",
              json_integer(f->gpu_lot[(size_t)v[i].node * FLEET_GPUS + (size_t)v[i].gpu]));
    }
    json_array_append_new(list, x);
    kept++;
  }
  free(v);
  json_t *o = json_object();
  ctx_set(o, "metric", json_string(e->top.metric));
  ctx_set(o, "nodes", list);
  return o;
}

/* The job of the event's node (or of a job event): size, model, step time
 * against its configured baseline, and the nodes that stand out. */
static json_t *ctx_job(const ctx_builder *b, const ev_event *e) {
  const fleet *f = b->f;
  int j = e->scope == EV_SCOPE_JOB ? e->job : f->node_job[e->node];
  if (j < 0 || j >= f->njobs)
    return json_null();
  const cfg_job *cj = &f->cfg->jobs[j];
  json_t *o = json_object();
  ctx_set(o, "id", json_string(cj->id));
  ctx_set(o, "model", json_string(cj->model));
  ctx_set(o, "nodes", json_integer(cj->nodes));
  ctx_set(o, "baseline_step_ms", ctx_num(cj->step_time_s * 1000.0));
  int32_t from = e->step - CTX_SERIES_HALF, to = e->step + CTX_SERIES_HALF;
  if (to > b->last_step)
    to = b->last_step;
  json_t *steps = json_array();
  for (int32_t st = from; st <= to; st++) {
    const ctx_job_health *h = st >= 0 && st < b->total_steps
                                  ? &b->jobs[(size_t)st * (size_t)(f->njobs + 1) + (size_t)j]
                                  : NULL;
    json_array_append_new(steps, ctx_num(h ? h->step_ms : NAN));
  }
  ctx_set(o, "step_time_ms_series", steps);
  const ctx_job_health *h = &b->jobs[(size_t)e->step * (size_t)(f->njobs + 1) + (size_t)j];
  json_t *rep = json_object();
  ctx_set(rep, "node", h->replay_node >= 0 ? ctx_node_name(h->replay_node) : json_null());
  ctx_set(rep, "nvlink_replays_per_5min", ctx_num(h->replay_max));
  ctx_set(o, "most_nvlink_replays", rep);
  /* the same over the series' hour, so a recovered straggler is still named */
  int32_t best = -1;
  for (int32_t st = from < 0 ? 0 : from; st <= to && st < b->total_steps; st++) {
    const ctx_job_health *x = &b->jobs[(size_t)st * (size_t)(f->njobs + 1) + (size_t)j];
    if (x->replay_node >= 0 &&
        (best < 0 || x->replay_max >
                         b->jobs[(size_t)best * (size_t)(f->njobs + 1) + (size_t)j].replay_max))
      best = st;
  }
  json_t *rep_hour = json_object();
  const ctx_job_health *hb =
      best >= 0 ? &b->jobs[(size_t)best * (size_t)(f->njobs + 1) + (size_t)j] : NULL;
  ctx_set(rep_hour, "node", hb ? ctx_node_name(hb->replay_node) : json_null());
  ctx_set(rep_hour, "nvlink_replays_per_5min", ctx_num(hb ? hb->replay_max : NAN));
  ctx_set(rep_hour, "minutes_from_event", hb ? json_integer((best - e->step) * 5) : json_null());
  ctx_set(o, "most_nvlink_replays_in_series", rep_hour);
  json_t *wait = json_object();
  ctx_set(wait, "node", h->wait_node >= 0 ? ctx_node_name(h->wait_node) : json_null());
  ctx_set(wait, "allreduce_wait_ms", ctx_num(h->wait_min));
  ctx_set(o, "least_allreduce_wait", wait);
  json_t *racks = json_array();
  int last = -1;
  for (int k = f->job_offset[j]; k < f->job_offset[j + 1]; k++)
    if (f->node_rack[f->job_nodes[k]] != last) {
      last = f->node_rack[f->job_nodes[k]];
      json_array_append_new(racks, ctx_rack_name(last));
    }
  ctx_set(o, "racks", racks);
  const ctx_slot *s = ctx_slot_of(b, e->step);
  if (s)
    ctx_set(o, "node_table", ctx_node_table(b, s, &f->job_nodes[f->job_offset[j]], cj->nodes));
  return o;
}

/* The actions an L3 or L4 answer may take (src/model/actions.h), one short
 * string each: the name and its target's form up to any remark
 * ("drain_node node-NNNN", "no_op"). */
static json_t *ctx_actions(void) {
  json_t *a = json_array();
  for (int k = 0; a && k < ACT_COUNT; k++) {
    act_target_kind t = act_target_of((act_kind)k);
    const char *form = act_target_form(t), *cut = strstr(form, " (");
    char line[128];
    if (t == ACT_TARGET_NONE)
      snprintf(line, sizeof line, "%s", act_name((act_kind)k));
    else
      snprintf(line, sizeof line, "%s %.*s", act_name((act_kind)k),
               (int)(cut ? (size_t)(cut - form) : strlen(form)), form);
    json_array_append_new(a, json_string(line));
  }
  return a;
}

char *ctx_l3(const ctx_builder *b, const ev_event *e) {
  const ctx_slot *s = ctx_slot_of(b, e->step);
  if (!s)
    return NULL;
  json_t *root = ctx_base(b, e, s, "L3");
  ctx_set(root, "timeline", ctx_series(b, e));
  ctx_set(root, "rack", ctx_rack(b, e));
  ctx_set(root, "same_signal_elsewhere", ctx_same_signal(b, e));
  json_t *tenant = json_object();
  int t = b->f->node_tenant[e->node];
  ctx_set(tenant, "tenant", json_string(fleet_tenant_name(t)));
  ctx_set(tenant, "nodes", json_integer(t == TENANT_MOE     ? b->f->cfg->moe_nodes
                                        : t == TENANT_DENSE ? b->f->cfg->dense_nodes
                                                            : b->f->cfg->training_nodes));
  ctx_set(tenant, "job", ctx_job(b, e));
  ctx_set(root, "tenant_context", tenant);
  ctx_set(root, "actions_available", ctx_actions());
  return ctx_dump(root);
}

/* ---- L4 ----------------------------------------------------------------- */

/* One row per hour of the window: cluster power, PUE, throughput, SLA
 * budgets and the detector's activity, so the report can show trends. */
static json_t *ctx_hourly(const ctx_builder *b, int32_t first, int32_t to, const ev_event *events,
                          int n) {
  const fleet *f = b->f;
  json_t *cols = json_array(), *rows = json_array();
  static const char *const names[] = {"hour_ending", "it_power_mw", "pue", "outdoor_c",
                                      "tokens_per_s_moe", "tokens_per_s_dense", "sla_moe",
                                      "sla_dense", "sla_training", "l1_events", "escalated"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    json_array_append_new(cols, json_string(names[i]));
  const int per_hour = 12; /* 5-minute steps */
  for (int32_t st = first + per_hour - 1; st <= to; st += per_hour) {
    const float *c = &b->cluster[(size_t)st * CM_COUNT];
    int ev = 0, esc = 0;
    for (int i = 0; i < n; i++)
      if (events[i].step > st - per_hour && events[i].step <= st) {
        ev++;
        esc += events[i].escalated != 0;
      }
    json_t *r = json_array();
    json_array_append_new(r, ctx_clock(f, b->t_end[st]));
    json_array_append_new(r, ctx_num(c[CM_IT_POWER] / 1e6));
    json_array_append_new(r, ctx_num(c[CM_PUE]));
    json_array_append_new(r, ctx_num(c[CM_OUTDOOR_TEMP]));
    json_array_append_new(r, ctx_num(c[CM_TOKENS_MOE]));
    json_array_append_new(r, ctx_num(c[CM_TOKENS_DENSE]));
    json_array_append_new(r, ctx_num(c[CM_SLA_MOE]));
    json_array_append_new(r, ctx_num(c[CM_SLA_DENSE]));
    json_array_append_new(r, ctx_num(c[CM_SLA_TRAIN]));
    json_array_append_new(r, json_integer(ev));
    json_array_append_new(r, json_integer(esc));
    json_array_append_new(rows, r);
  }
  json_t *o = json_object();
  ctx_set(o, "columns", cols);
  ctx_set(o, "rows", rows);
  return o;
}

/* Per rack over the window: hottest inlet and GPU, IB errors, and the most
 * GPUs throttled at once. */
static json_t *ctx_rack_table(const ctx_builder *b, int32_t first, int32_t to) {
  const fleet *f = b->f;
  json_t *cols = json_array(), *rows = json_array();
  static const char *const names[] = {"rack", "row", "inlet_max_c", "gpu_temp_max_c",
                                      "ib_rcv_errors", "gpus_throttled_max"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    json_array_append_new(cols, json_string(names[i]));
  for (int r = 0; r < f->racks; r++) {
    float inlet = -INFINITY, temp = -INFINITY, ib = 0, thr = 0;
    for (int32_t st = first; st <= to; st++) {
      const float *x = &b->racks[((size_t)st * (size_t)f->racks + (size_t)r) * RACK_NVALS];
      inlet = fmaxf(inlet, x[RACK_INLET_MAX]);
      temp = fmaxf(temp, x[RACK_GPU_TEMP_MAX]);
      ib += x[RACK_IB_ERRORS];
      thr = fmaxf(thr, x[RACK_THROTTLED]);
    }
    json_t *row = json_array();
    json_array_append_new(row, ctx_rack_name(r));
    json_array_append_new(row, json_integer(fleet_rack_row(f, r)));
    json_array_append_new(row, ctx_num(inlet));
    json_array_append_new(row, ctx_num(temp));
    json_array_append_new(row, ctx_num(ib));
    json_array_append_new(row, ctx_num(thr));
    json_array_append_new(rows, row);
  }
  json_t *o = json_object();
  ctx_set(o, "columns", cols);
  ctx_set(o, "rows", rows);
  return o;
}

char *ctx_l4(const ctx_builder *b, int32_t from, int32_t to, const ev_event *events, int n) {
  const fleet *f = b->f;
  if (to > b->last_step)
    to = b->last_step;
  if (to < 0 || to >= b->total_steps)
    return NULL;
  int32_t first = from + 1 >= 0 ? from + 1 : 0;
  const float *now = &b->cluster[(size_t)to * CM_COUNT];
  const float *start = &b->cluster[(size_t)first * CM_COUNT];
  json_t *root = json_object();
  ctx_set(root, "layer", json_string("L4"));
  json_t *win = json_object();
  double t0 = first > 0 ? b->t_end[first - 1] : 0.0;
  ctx_set(win, "from", ctx_clock(f, t0));
  ctx_set(win, "to", ctx_clock(f, b->t_end[to]));
  ctx_set(win, "hours", ctx_num((b->t_end[to] - t0) / 3600.0));
  ctx_set(root, "window", win);
  json_t *cl = json_object();
  ctx_set(cl, "it_power_mw", ctx_num(now[CM_IT_POWER] / 1e6));
  ctx_set(cl, "facility_pue", ctx_num(now[CM_PUE]));
  ctx_set(cl, "outdoor_temp_celsius", ctx_num(now[CM_OUTDOOR_TEMP]));
  ctx_set(cl, "spare_gpus", ctx_num(now[CM_SPARE_GPUS]));
  ctx_set(cl, "nodes", json_integer(f->nodes));
  ctx_set(cl, "gpus", json_integer(f->nodes * FLEET_GPUS));
  json_t *tok = json_object();
  ctx_set(tok, "moe-inference", ctx_num(now[CM_TOKENS_MOE]));
  ctx_set(tok, "dense-inference", ctx_num(now[CM_TOKENS_DENSE]));
  ctx_set(cl, "tokens_per_second", tok);
  ctx_set(root, "cluster", cl);
  json_t *sla = json_object();
  for (int t = 0; t < TENANT_COUNT; t++) {
    int k = CM_SLA_MOE + t; /* CM_SLA_* follow fleet_tenant order */
    json_t *x = json_object();
    ctx_set(x, "start", ctx_num(start[k]));
    ctx_set(x, "end", ctx_num(now[k]));
    ctx_set(x, "burned", ctx_num(start[k] - now[k]));
    ctx_set(sla, fleet_tenant_name(t), x);
  }
  ctx_set(root, "sla_budget_remaining", sla);
  /* detector incidents of the window as one-liners: the first l4_incidents
   * escalated events, and (context_l4_events > 0) the first l4_events others */
  const cfg_detect *t = &f->cfg->det;
  json_t *inc = json_array(), *other = json_array();
  int nevents = 0, nesc = 0, nother = 0;
  for (int i = 0; i < n; i++) {
    const ev_event *e = &events[i];
    if (e->step <= from || e->step > to)
      continue;
    nevents++;
    if (e->escalated ? nesc++ >= t->l4_incidents : nother++ >= t->l4_events)
      continue;
    char line[256];
    snprintf(line, sizeof line, "%s event on node-%04d (%s): %s z=%.1f",
             ev_scope_name(e->scope), e->node, fleet_tenant_name(f->node_tenant[e->node]),
             e->top.metric, e->top.z);
    json_t *x = json_object();
    ctx_set(x, "event_id", json_integer(e->event_id));
    ctx_set(x, "time", ctx_clock(f, e->t_s));
    ctx_set(x, "summary", json_string(line));
    json_array_append_new(e->escalated ? inc : other, x);
  }
  json_t *l1 = json_object();
  ctx_set(l1, "events", json_integer(nevents));
  ctx_set(l1, "escalated", json_integer(nesc));
  ctx_set(root, "l1", l1);
  ctx_set(root, "escalated_incidents", inc);
  if (t->l4_events > 0)
    ctx_set(root, "other_events", other);
  else
    json_decref(other);
  json_t *jobs = json_array();
  for (int j = 0; j < f->njobs; j++) {
    const cfg_job *cj = &f->cfg->jobs[j];
    float worst = 0, last = NAN;
    int worst_node = -1;
    float replay_worst = -1;
    for (int32_t st = first; st <= to; st++) {
      const ctx_job_health *h = &b->jobs[(size_t)st * (size_t)(f->njobs + 1) + (size_t)j];
      if (h->step_ms > worst)
        worst = h->step_ms;
      last = h->step_ms;
      if (h->replay_max > replay_worst) {
        replay_worst = h->replay_max;
        worst_node = h->replay_node;
      }
    }
    double base = cj->step_time_s * 1000.0;
    json_t *x = json_object();
    ctx_set(x, "job", json_string(cj->id));
    ctx_set(x, "model", json_string(cj->model));
    ctx_set(x, "nodes", json_integer(cj->nodes));
    ctx_set(x, "baseline_step_ms", ctx_num(base));
    ctx_set(x, "step_ms_now", ctx_num(last));
    ctx_set(x, "step_ms_window_max", ctx_num(worst));
    ctx_set(x, "slowdown_now_pct", ctx_num(100.0 * (last / base - 1.0)));
    json_t *wn = json_object();
    ctx_set(wn, "node", worst_node >= 0 ? ctx_node_name(worst_node) : json_null());
    ctx_set(wn, "nvlink_replays_per_5min", ctx_num(replay_worst));
    ctx_set(x, "most_nvlink_replays", wn);
    json_array_append_new(jobs, x);
  }
  ctx_set(root, "training_jobs", jobs);
  ctx_set(root, "hourly", ctx_hourly(b, first, to, events, n));
  ctx_set(root, "racks", ctx_rack_table(b, first, to));
  ctx_set(root, "actions_available", ctx_actions());
  return ctx_dump(root);
}

/* ---- checkpoint (resume) -------------------------------------------------
 * The ring of recent blocks (the L2/L3 evidence of events still to be
 * written) and the per-step history up to the last recorded step (the L4
 * tables). */

void ctx_save(const ctx_builder *b, ckpt_file *f) {
  const fleet *fl = b->f;
  size_t N = (size_t)fl->nodes, nc = (size_t)b->nclasses;
  int32_t used = 0;
  ckpt_tag(f, "CTX1");
  ckpt_put_i32(f, b->nclasses);
  ckpt_put_i32(f, b->total_steps);
  ckpt_put_i32(f, b->last_step);
  for (int i = 0; i < CTX_RING; i++)
    used += b->ring[i].step >= 0;
  ckpt_put_i32(f, used);
  for (int i = 0; i < CTX_RING; i++) {
    const ctx_slot *s = &b->ring[i];
    if (s->step < 0)
      continue;
    ckpt_put_i32(f, i);
    ckpt_put_i32(f, s->step);
    ckpt_put_i32(f, s->ncands);
    ckpt_put_f64(f, s->t_end_s);
    ckpt_put_array(f, s->nfeat, sizeof(float), N * NM_COUNT);
    ckpt_put_array(f, s->gfeat, sizeof(float), N * FLEET_GPUS * GM_COUNT);
    ckpt_put_array(f, s->nmed, sizeof(float), nc * NM_COUNT);
    ckpt_put_array(f, s->gmed, sizeof(float), nc * GM_COUNT);
    ckpt_put_array(f, s->cands, sizeof *s->cands, (size_t)s->ncands);
  }
  size_t steps = b->last_step < 0 ? 0 : (size_t)b->last_step + 1;
  if (steps > (size_t)b->total_steps)
    steps = (size_t)b->total_steps;
  ckpt_put_array(f, b->cluster, sizeof(float), steps * CM_COUNT);
  ckpt_put_array(f, b->racks, sizeof(float), steps * (size_t)fl->racks * RACK_NVALS);
  ckpt_put_array(f, b->jobs, sizeof(ctx_job_health), steps * ((size_t)fl->njobs + 1));
  ckpt_put_array(f, b->t_end, sizeof(double), steps);
}

/* One ring slot of a checkpoint into b (its index, step and candidates
 * checked first). 0, FS_EIO or FS_ENOMEM. */
static int ctx_load_slot(ctx_builder *b, ckpt_file *f) {
  size_t N = (size_t)b->f->nodes, nc = (size_t)b->nclasses;
  int32_t index = -1, step = -1, ncands = -1;
  if (ckpt_get_i32(f, "ring slot", &index) || ckpt_get_i32(f, "slot step", &step) ||
      ckpt_get_i32(f, "slot candidates", &ncands))
    return FS_EIO;
  if (index < 0 || index >= CTX_RING || step < 0 || step > b->last_step ||
      step % CTX_RING != index || ncands < 0 ||
      ncands > b->f->nodes + b->nclasses * NM_COUNT * 64) {
    ckpt_fail(f, "field 'ring slot': slot %d of step %d with %d candidates is impossible",
              (int)index, (int)step, (int)ncands);
    return FS_EIO;
  }
  ctx_slot *s = &b->ring[index];
  if (ncands > s->cap) {
    det_candidate *c = realloc(s->cands, sizeof *c * (size_t)ncands);
    if (!c)
      return FS_ENOMEM;
    s->cands = c;
    s->cap = ncands;
  }
  s->step = step;
  s->ncands = ncands;
  if (ckpt_get_f64(f, "slot t_end_s", &s->t_end_s) ||
      ckpt_get_array(f, "slot node features", s->nfeat, sizeof(float), N * NM_COUNT) ||
      ckpt_get_array(f, "slot GPU features", s->gfeat, sizeof(float), N * FLEET_GPUS * GM_COUNT) ||
      ckpt_get_array(f, "slot node medians", s->nmed, sizeof(float), nc * NM_COUNT) ||
      ckpt_get_array(f, "slot GPU medians", s->gmed, sizeof(float), nc * GM_COUNT) ||
      ckpt_get_array(f, "slot candidates", s->cands, sizeof *s->cands, (size_t)ncands))
    return FS_EIO;
  return 0;
}

int ctx_load(ctx_builder *b, ckpt_file *f) {
  const fleet *fl = b->f;
  int32_t nclasses = -1, total_steps = -1, last_step = -2, used = -1;
  if (ckpt_expect(f, "CTX1") || ckpt_get_i32(f, "classes", &nclasses) ||
      ckpt_get_i32(f, "total_steps", &total_steps) || ckpt_get_i32(f, "last_step", &last_step) ||
      ckpt_get_i32(f, "ring slots used", &used))
    return FS_EIO;
  if (nclasses != b->nclasses || total_steps != b->total_steps) {
    ckpt_fail(f, "fields 'classes', 'total_steps': %d classes and %d steps, this run has %d and %d",
              (int)nclasses, (int)total_steps, b->nclasses, b->total_steps);
    return FS_EIO;
  }
  if (last_step < -1 || last_step >= b->total_steps || used < 0 || used > CTX_RING) {
    ckpt_fail(f, "fields 'last_step', 'ring slots used': %d and %d are impossible", (int)last_step,
              (int)used);
    return FS_EIO;
  }
  b->last_step = last_step;
  for (int k = 0; k < used; k++) {
    int rc = ctx_load_slot(b, f);
    if (rc)
      return rc;
  }
  size_t steps = b->last_step < 0 ? 0 : (size_t)b->last_step + 1;
  if (ckpt_get_array(f, "cluster history", b->cluster, sizeof(float), steps * CM_COUNT) ||
      ckpt_get_array(f, "rack history", b->racks, sizeof(float),
                     steps * (size_t)fl->racks * RACK_NVALS) ||
      ckpt_get_array(f, "job history", b->jobs, sizeof(ctx_job_health),
                     steps * ((size_t)fl->njobs + 1)) ||
      ckpt_get_array(f, "t_end history", b->t_end, sizeof(double), steps))
    return FS_EIO;
  return 0;
}
