/* Root-side aggregation of L1 candidates into events (see aggregate.h). */
#include "pipeline/detect/aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/checkpoint.h"
#include "src/core/errors.h"

/* Detector-driven escalation: high-signal infrastructure metrics and the |z|
 * each needs (times the escalate_signal_scale setting). */
static const struct {
  const char *metric;
  float z;
} agg_high_signal[] = {
    {"gpu_nvlink_replay_total", 15.0f},       {"ib_port_rcv_errors_total", 15.0f},
    {"kv_cache_hit_ratio", 10.0f},            {"expert_selection_entropy_nats", 10.0f},
    {"gpu_ecc_sbe_total", 15.0f},             {"gpu_ecc_dbe_total", 3.0f},
};

/* Last event of one entity (node, job, rack or tenant): its step and metric. */
typedef struct {
  int32_t step;
  char metric[EV_METRIC_LEN];
} agg_last;

struct agg_state {
  const fleet *f;
  const cfg_detect *t; /* the tuning: f->cfg->det */
  agg_last *last_node, *last_job, *last_rack, *last_tenant;
  ev_event *events;
  int n, cap;
  /* per step scratch */
  int32_t *group_of;  /* [ncands] group index or -1 */
  int cap_scratch;
  ev_event *groups;
  int ngroups;
};

int agg_init(agg_state **out, const fleet *f) {
  *out = NULL;
  agg_state *a = calloc(1, sizeof *a);
  if (!a)
    return FS_ENOMEM;
  a->f = f;
  a->t = &f->cfg->det;
  a->last_node = calloc((size_t)f->nodes, sizeof *a->last_node);
  a->last_job = calloc((size_t)f->njobs + 1, sizeof *a->last_job);
  a->last_rack = calloc((size_t)f->racks, sizeof *a->last_rack);
  a->last_tenant = calloc(TENANT_COUNT, sizeof *a->last_tenant);
  if (!a->last_node || !a->last_job || !a->last_rack || !a->last_tenant) {
    agg_destroy(&a);
    return FS_ENOMEM;
  }
  for (int i = 0; i < f->nodes; i++)
    a->last_node[i].step = -1000;
  for (int i = 0; i <= f->njobs; i++)
    a->last_job[i].step = -1000;
  for (int i = 0; i < f->racks; i++)
    a->last_rack[i].step = -1000;
  for (int i = 0; i < TENANT_COUNT; i++)
    a->last_tenant[i].step = -1000;
  *out = a;
  return 0;
}

void agg_destroy(agg_state **ap) {
  if (!ap || !*ap)
    return;
  agg_state *a = *ap;
  free(a->last_node);
  free(a->last_job);
  free(a->last_rack);
  free(a->last_tenant);
  free(a->events);
  free(a->group_of);
  free(a->groups);
  free(a);
  *ap = NULL;
}

const ev_event *agg_events(const agg_state *a, int *n) {
  *n = a->n;
  return a->events;
}

static int agg_reserve(agg_state *a, int ncands, int ntrends) {
  int need = ncands + ntrends + 1;
  if (need <= a->cap_scratch)
    return 0;
  int32_t *g = realloc(a->group_of, sizeof *g * (size_t)need);
  if (!g)
    return FS_ENOMEM;
  a->group_of = g;
  ev_event *e = realloc(a->groups, sizeof *e * (size_t)need);
  if (!e)
    return FS_ENOMEM;
  a->groups = e;
  a->cap_scratch = need;
  return 0;
}

static float agg_severity(const ev_event *e) {
  return fmaxf(fabsf(e->top.z), fabsf(e->trend_z));
}

/* A new group with scope and entity; node fields set when candidates join. */
static ev_event *agg_new_group(agg_state *a, ev_scope scope, int node, int job, int rack,
                               int tenant) {
  ev_event *e = &a->groups[a->ngroups++];
  memset(e, 0, sizeof *e);
  e->scope = scope;
  e->node = node;
  e->job = job;
  e->rack = rack;
  e->tenant = tenant;
  return e;
}

/* Folds a candidate into a group: the most anomalous node represents it. */
static void agg_join(agg_state *a, ev_event *e, const det_candidate *c) {
  e->nodes++;
  int better = e->node < 0 || fabsf(c->top.z) > fabsf(e->top.z);
  if (e->node >= 0 && e->top.metric[0] == '\0')
    better = 1;
  if (!better)
    return;
  e->node = c->node;
  e->rack = a->f->node_rack[c->node];
  e->tenant = a->f->node_tenant[c->node];
  if (e->scope != EV_SCOPE_JOB && e->scope != EV_SCOPE_CLUSTER)
    e->job = a->f->node_job[c->node];
  e->top = c->top;
  e->ncooccur = c->ncooccur;
  memcpy(e->cooccur, c->cooccur, sizeof c->cooccur);
}

/* Whether candidate c raised metric m (as its top signal or a co-occurring one). */
static int agg_has_metric(const det_candidate *c, const char *m) {
  if (strcmp(c->top.metric, m) == 0)
    return 1;
  for (int k = 0; k < c->ncooccur; k++)
    if (strcmp(c->cooccur[k].metric, m) == 0)
      return 1;
  return 0;
}

static int agg_cmp_severity(const void *x, const void *y) {
  const ev_event *a = x, *b = y;
  float sa = agg_severity(a), sb = agg_severity(b);
  if (sa != sb)
    return sa > sb ? -1 : 1;
  return (a->node > b->node) - (a->node < b->node);
}

/* Sets e->escalated and the reason by the rules of the tuning t: group
 * scopes (escalate_groups), high-signal metrics, then any |z| (escalate_any_z). */
static void agg_escalate(const cfg_detect *t, ev_event *e) {
  if (t->escalate_groups && e->scope == EV_SCOPE_JOB) {
    e->escalated = 1;
    snprintf(e->escalation_reason, sizeof e->escalation_reason, "job_scope");
    return;
  }
  if (t->escalate_groups && (e->scope == EV_SCOPE_RACK || e->scope == EV_SCOPE_CLUSTER)) {
    /* a tenant-wide shift has 5+ anomalous nodes in every rack it touches */
    e->escalated = 1;
    snprintf(e->escalation_reason, sizeof e->escalation_reason, "%s",
             e->scope == EV_SCOPE_RACK ? "rack_scope" : "cluster_scope");
    return;
  }
  for (int i = -1; i < e->ncooccur; i++) {
    const ev_signal *s = i < 0 ? &e->top : &e->cooccur[i];
    for (size_t k = 0; k < sizeof agg_high_signal / sizeof agg_high_signal[0]; k++)
      if (strcmp(s->metric, agg_high_signal[k].metric) == 0 &&
          fabsf(s->z) > agg_high_signal[k].z * t->escalate_signal_scale) {
        e->escalated = 1;
        snprintf(e->escalation_reason, sizeof e->escalation_reason, "%s", s->metric);
        return;
      }
  }
  if (t->escalate_any_z > 0 && agg_severity(e) > t->escalate_any_z) {
    e->escalated = 1;
    snprintf(e->escalation_reason, sizeof e->escalation_reason, "any_z");
  }
}

/* The debounce record of the group's entity. */
static agg_last *agg_last_of(agg_state *a, const ev_event *e) {
  switch (e->scope) {
  case EV_SCOPE_JOB:
    return &a->last_job[e->job];
  case EV_SCOPE_RACK:
    return &a->last_rack[e->rack];
  case EV_SCOPE_CLUSTER:
    return &a->last_tenant[e->tenant];
  default:
    return &a->last_node[e->node];
  }
}

/* Whether the same alert (entity and metric) was raised within its window. */
static int agg_debounced(agg_state *a, const ev_event *e, int32_t step) {
  const agg_last *l = agg_last_of(a, e);
  int window = (e->scope == EV_SCOPE_GPU || e->scope == EV_SCOPE_NODE)
                   ? a->t->debounce_node_steps
                   : a->t->debounce_group_steps;
  return step - l->step <= window && strcmp(l->metric, e->top.metric) == 0;
}

static void agg_mark_one(agg_last *l, int32_t step, const char *metric) {
  l->step = step;
  snprintf(l->metric, sizeof l->metric, "%s", metric);
}

/* Records the event for its entity and for every node folded into it. */
static void agg_mark(agg_state *a, const ev_event *e, int32_t step, const det_candidate *cands,
                     int ncands, int group) {
  agg_mark_one(agg_last_of(a, e), step, e->top.metric);
  agg_mark_one(&a->last_node[e->node], step, e->top.metric);
  for (int i = 0; i < ncands; i++)
    if (a->group_of[i] == group)
      agg_mark_one(&a->last_node[cands[i].node], step, cands[i].top.metric);
}

int agg_step(agg_state *a, int32_t step, double t_s, const det_candidate *cands, int ncands,
             const det_trend *trends, int ntrends) {
  const fleet *f = a->f;
  if (agg_reserve(a, ncands, ntrends))
    return FS_ENOMEM;
  a->ngroups = 0;
  for (int i = 0; i < ncands; i++)
    a->group_of[i] = -1;

  /* 1. class trends: job-wide -> job event, tenant-wide -> cluster event.
   * The class-level change is the evidence (top); the node that stands out
   * most from its peers (or, if none does, moved most) names the event. */
  for (int t = 0; t < ntrends; t++) {
    const det_trend *tr = &trends[t];
    int job = tr->cls >= 3 ? tr->cls - 3 : -1;
    int tenant = tr->cls == 0 ? TENANT_MOE : (tr->cls == 1 ? TENANT_DENSE : TENANT_TRAINING);
    ev_event *e = agg_new_group(a, job >= 0 ? EV_SCOPE_JOB : EV_SCOPE_CLUSTER, -1, job, -1,
                                tenant);
    int g = a->ngroups - 1;
    for (int i = 0; i < ncands; i++)
      if (cands[i].cls == tr->cls && !cands[i].trend_member) {
        a->group_of[i] = g;
        agg_join(a, e, &cands[i]);
      }
    for (int i = 0; i < ncands && e->nodes == 0; i++)
      if (cands[i].cls == tr->cls && cands[i].trend_member &&
          (e->node < 0 || fabsf(cands[i].top.z) > fabsf(e->top.z))) {
        e->node = cands[i].node;
        e->top = cands[i].top;
        e->ncooccur = 0;
      }
    if (e->node < 0) {
      a->ngroups--;
      continue;
    }
    e->rack = f->node_rack[e->node];
    e->tenant = f->node_tenant[e->node];
    ev_signal node_sig[EV_COOCCUR + 1];
    int nnode_sig = 1 + e->ncooccur;
    node_sig[0] = e->top;
    memcpy(&node_sig[1], e->cooccur, sizeof e->cooccur[0] * (size_t)e->ncooccur);
    e->top = tr->top;
    e->trend_z = tr->top.z;
    e->ncooccur = 0;
    for (int k = 0; k < tr->nmore && e->ncooccur < EV_COOCCUR - 1; k++)
      e->cooccur[e->ncooccur++] = tr->more[k];
    for (int k = 0; k < nnode_sig && e->ncooccur < EV_COOCCUR; k++)
      e->cooccur[e->ncooccur++] = node_sig[k];
    if (e->nodes == 0)
      for (int n = 0; n < f->nodes; n++)
        e->nodes += det_class_of(f, n) == tr->cls;
  }
  /* 2. two or more nodes of one job, and 3. five or more nodes of one rack,
   * flagged on a common metric (the founding node's top signal) */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < ncands; i++) {
      if (a->group_of[i] >= 0 || cands[i].trend_member)
        continue;
      int n = cands[i].node;
      int key = pass == 0 ? f->node_job[n] : f->node_rack[n];
      if (key < 0)
        continue;
      const char *metric = cands[i].top.metric;
      int count = 0;
      for (int k = 0; k < ncands; k++) {
        int kk = pass == 0 ? f->node_job[cands[k].node] : f->node_rack[cands[k].node];
        count += a->group_of[k] < 0 && !cands[k].trend_member && kk == key &&
                 agg_has_metric(&cands[k], metric);
      }
      if (count < (pass == 0 ? a->t->job_min_nodes : a->t->rack_min_nodes))
        continue;
      ev_event *e = pass == 0 ? agg_new_group(a, EV_SCOPE_JOB, -1, key, -1, TENANT_TRAINING)
                              : agg_new_group(a, EV_SCOPE_RACK, -1, -1, key, 0);
      char m[EV_METRIC_LEN];
      snprintf(m, sizeof m, "%s", metric);
      for (int k = 0; k < ncands; k++) {
        int kk = pass == 0 ? f->node_job[cands[k].node] : f->node_rack[cands[k].node];
        if (a->group_of[k] < 0 && !cands[k].trend_member && kk == key &&
            agg_has_metric(&cands[k], m)) {
          a->group_of[k] = a->ngroups - 1;
          agg_join(a, e, &cands[k]);
        }
      }
      if (pass == 1)
        e->job = -1;
    }
  }
  /* 4. the rest: one event per node (GPU scope when one GPU metric stands alone) */
  for (int i = 0; i < ncands; i++) {
    if (a->group_of[i] >= 0 || cands[i].trend_member)
      continue;
    int gpu_only = cands[i].top.gpu >= 0;
    for (int k = 0; k < cands[i].ncooccur; k++)
      gpu_only &= cands[i].cooccur[k].gpu == cands[i].top.gpu;
    ev_event *e = agg_new_group(a, gpu_only ? EV_SCOPE_GPU : EV_SCOPE_NODE, -1, -1, -1, 0);
    a->group_of[i] = a->ngroups - 1;
    agg_join(a, e, &cands[i]);
  }
  /* 5. debounce, the most severe first, at most max_events_per_step */
  for (int g = 0; g < a->ngroups; g++)
    a->groups[g].step = g; /* remember the group index through the sort */
  qsort(a->groups, (size_t)a->ngroups, sizeof a->groups[0], agg_cmp_severity);
  int emitted = 0;
  for (int g = 0; g < a->ngroups && emitted < a->t->max_events_per_step; g++) {
    ev_event *e = &a->groups[g];
    int group = e->step;
    if (agg_debounced(a, e, step))
      continue;
    if (a->n == a->cap) {
      int cap = a->cap ? a->cap * 2 : 256;
      ev_event *ne = realloc(a->events, sizeof *ne * (size_t)cap);
      if (!ne)
        return FS_ENOMEM;
      a->events = ne;
      a->cap = cap;
    }
    agg_mark(a, e, step, cands, ncands, group);
    e->event_id = a->n;
    e->step = step;
    e->t_s = t_s;
    agg_escalate(a->t, e);
    a->events[a->n++] = *e;
    emitted++;
  }
  return 0;
}

/* ---- checkpoint (resume) -------------------------------------------------
 * The events so far and the debounce records of every node, job, rack and
 * tenant; the group scratch is rebuilt every step. */

void agg_save(const agg_state *a, ckpt_file *f) {
  const fleet *fl = a->f;
  ckpt_tag(f, "AGG1");
  ckpt_put_i32(f, a->n);
  ckpt_put_array(f, a->events, sizeof *a->events, (size_t)a->n);
  ckpt_put_array(f, a->last_node, sizeof *a->last_node, (size_t)fl->nodes);
  ckpt_put_array(f, a->last_job, sizeof *a->last_job, (size_t)fl->njobs + 1);
  ckpt_put_array(f, a->last_rack, sizeof *a->last_rack, (size_t)fl->racks);
  ckpt_put_array(f, a->last_tenant, sizeof *a->last_tenant, TENANT_COUNT);
}

int agg_load(agg_state *a, ckpt_file *f) {
  const fleet *fl = a->f;
  int32_t n = -1;
  if (ckpt_expect(f, "AGG1") || ckpt_get_i32(f, "events", &n))
    return FS_EIO;
  if (n < 0 || n > (1 << 28)) {
    ckpt_fail(f, "field 'events': %d events is impossible", (int)n);
    return FS_EIO;
  }
  if (n > a->cap) {
    ev_event *e = realloc(a->events, sizeof *e * (size_t)n);
    if (!e)
      return FS_ENOMEM;
    a->events = e;
    a->cap = n;
  }
  a->n = n;
  if (ckpt_get_array(f, "event records", a->events, sizeof *a->events, (size_t)n) ||
      ckpt_get_array(f, "last_node", a->last_node, sizeof *a->last_node, (size_t)fl->nodes) ||
      ckpt_get_array(f, "last_job", a->last_job, sizeof *a->last_job, (size_t)fl->njobs + 1) ||
      ckpt_get_array(f, "last_rack", a->last_rack, sizeof *a->last_rack, (size_t)fl->racks) ||
      ckpt_get_array(f, "last_tenant", a->last_tenant, sizeof *a->last_tenant, TENANT_COUNT))
    return FS_EIO;
  return 0;
}
