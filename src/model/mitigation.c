/* What operators' actions do to the fleet (see mitigation.h): the actions
 * applied so far, indexed at mit_apply by the entity they touch (per node,
 * rack, tenant and job: the scrape an effect starts, the RMA repairs, each
 * job's restarts and extra checkpoints), and the drivers they lay over the
 * fault injectors' each scrape. Every effect is a pure function of (actions,
 * scrape, global node), so any split of the nodes over ranks gives the same
 * drivers. The effects (docs/closed-loop.md, "Actions"):
 * - drain_node: the node serves nothing from t on (drained); its inference
 *   load moves to its tenant's other nodes; its job restarts without it.
 * - cordon_node: nothing is placed in this model, so no driver changes.
 * - checkpoint_job: one extra checkpoint write's stall from t; a later
 *   restart rolls back only to it.
 * - restart_job_without_node: the job relaunches (restart_s for
 *   action_restart_min) without the node (job_excluded from t on).
 * - rebalance_experts: routing collapse divided by action_rebalance_factor
 *   on the target's MoE nodes, action_rebalance_min after t.
 * - raise_kv_capacity: KV pool x action_kv_capacity_scale on the target's
 *   inference nodes, whose serving capacity shrinks by
 *   action_kv_throughput_cost (capacity_share).
 * - cap_context_length: context_scale at most 1 on the target's inference
 *   nodes (truncated prompts; no throughput cost in the model).
 * - power_cap_rack: GPU power limit action_power_cap_share x the board TDP
 *   on the rack (a lower limit in force stays).
 * - raise_cooling: inlet air action_cooling_c colder on the rack, never more
 *   than that below nominal.
 * - migrate_tenant: the rack's inference nodes are out (as drained).
 * - rma_gpu: the node is away (no samples) for action_rma_hours, then back
 *   with the GPU's (or, for a node, every GPU's) faults cleared; a job node
 *   stays out of its job.
 * Power cap, cooling, migration, KV pool and context cap hold for
 * action_hold_hours from the scrape they take effect (issued again while
 * held: extended); the others last (drain, exclusion) or run once.
 * A node out of service (drained, in repair, migrated) adds to its tenant's
 * count k of nodes out; each other node of a tenant of N nodes then carries
 * N / (N - k) times its load. No MPI, no I/O. */
#include "src/model/mitigation.h"

#include <math.h>
#include <stdlib.h>

#include "src/core/errors.h"
#include "src/core/grow.h"

#define MIT_NEVER INT64_MAX

/* Effects that start at a scrape and last the rest of the run: the scoped
 * ones (node, rack or tenant) first, then the rack-only ones. */
enum { MIT_REBALANCE, MIT_KV, MIT_CAP_CONTEXT, MIT_SCOPED };
enum { MIT_POWER_CAP = MIT_SCOPED, MIT_COOLING, MIT_MIGRATE, MIT_RACK_EFFECTS };

/* One RMA of a node: out for scrapes [from, until), then the GPUs of mask
 * repaired; next: the node's previous RMA (-1). */
typedef struct {
  int64_t from, until;
  uint8_t mask;
  int32_t next;
} mit_rma;

/* A growing list of scrapes, ascending. */
typedef struct {
  int64_t *t;
  int n, cap;
} mit_times;

struct mit_state {
  const fleet *f;
  double dt;                        /* scrape interval, s */
  double restart_s, rebalance_s;    /* action_restart_min, action_rebalance_min, in s */
  int64_t rma_scrapes;              /* action_rma_hours, in scrapes (rounded up) */
  int64_t hold_scrapes;             /* action_hold_hours, in scrapes (rounded up) */
  float power_limit_w, cooling_c;   /* power_cap_rack's limit, raise_cooling's drop */
  float kv_scale, kv_capacity;      /* raise_kv_capacity: pool factor, capacity share left */
  float rebalance_factor;
  int count, last_t_set;            /* actions recorded; 1 once last_t holds one */
  int64_t last_t;                   /* scrape of the last action recorded */
  int64_t first_t;                  /* earliest scrape of an action with an effect */
  int tenant_nodes[TENANT_COUNT];   /* nodes of each tenant */
  /* per node (global index) */
  int64_t *drain_from;              /* drained from this scrape on */
  int64_t *excl_from;               /* left out of its job from this scrape on */
  int64_t *node_from[MIT_SCOPED];   /* a scoped effect targeting the node */
  int64_t *node_until[MIT_SCOPED];  /* ... in force until this scrape (held effects) */
  int32_t *rma_head;                /* newest RMA record, -1 */
  uint8_t *cand;                    /* 1: in cand_list */
  int32_t *cand_list;               /* inference nodes some action can take out */
  int ncand;
  /* per rack, per tenant */
  int64_t *rack_from[MIT_RACK_EFFECTS];
  int64_t *rack_until[MIT_RACK_EFFECTS];
  int64_t tenant_from[TENANT_COUNT][MIT_SCOPED];
  int64_t tenant_until[TENANT_COUNT][MIT_SCOPED];
  mit_rma *rma;
  int nrma, cap_rma;
  /* per job */
  mit_times *restarts; /* restarts actions start (one per scrape) */
  mit_times *ckpts;    /* checkpoint_job actions */
};

int mit_init(mit_state **out, const fleet *f) {
  *out = NULL;
  mit_state *m = calloc(1, sizeof *m);
  if (!m)
    return FS_ENOMEM;
  const cfg_actions *c = &f->cfg->act;
  m->f = f;
  m->dt = f->cfg->scrape_interval_s;
  m->restart_s = c->restart_min * 60.0;
  m->rebalance_s = c->rebalance_min * 60.0;
  m->rma_scrapes = (int64_t)ceil(c->rma_hours * 3600.0 / m->dt);
  m->hold_scrapes = (int64_t)ceil(c->hold_hours * 3600.0 / m->dt);
  m->power_limit_w = (float)(c->power_cap_share * TEL_BOARD_TDP_W);
  m->cooling_c = (float)c->cooling_c;
  m->kv_scale = (float)c->kv_capacity_scale;
  m->kv_capacity = (float)(1.0 - c->kv_throughput_cost);
  m->rebalance_factor = (float)c->rebalance_factor;
  m->first_t = MIT_NEVER;
  const size_t nn = (size_t)f->nodes, nj = (size_t)f->njobs + 1;
  int ok = (m->drain_from = malloc(nn * sizeof(int64_t))) != NULL;
  ok &= (m->excl_from = malloc(nn * sizeof(int64_t))) != NULL;
  for (int k = 0; k < MIT_SCOPED; k++) {
    ok &= (m->node_from[k] = malloc(nn * sizeof(int64_t))) != NULL;
    ok &= (m->node_until[k] = malloc(nn * sizeof(int64_t))) != NULL;
  }
  for (int k = 0; k < MIT_RACK_EFFECTS; k++) {
    ok &= (m->rack_from[k] = malloc((size_t)f->racks * sizeof(int64_t))) != NULL;
    ok &= (m->rack_until[k] = malloc((size_t)f->racks * sizeof(int64_t))) != NULL;
  }
  ok &= (m->rma_head = malloc(nn * sizeof(int32_t))) != NULL;
  ok &= (m->cand = calloc(nn, 1)) != NULL;
  ok &= (m->cand_list = malloc(nn * sizeof(int32_t))) != NULL;
  ok &= (m->restarts = calloc(nj, sizeof *m->restarts)) != NULL;
  ok &= (m->ckpts = calloc(nj, sizeof *m->ckpts)) != NULL;
  if (!ok) {
    mit_destroy(&m);
    return FS_ENOMEM;
  }
  for (size_t n = 0; n < nn; n++) {
    m->drain_from[n] = m->excl_from[n] = MIT_NEVER;
    for (int k = 0; k < MIT_SCOPED; k++) {
      m->node_from[k][n] = MIT_NEVER;
      m->node_until[k][n] = -1;
    }
    m->rma_head[n] = -1;
    m->tenant_nodes[f->node_tenant[n]]++;
  }
  for (int k = 0; k < MIT_RACK_EFFECTS; k++)
    for (int r = 0; r < f->racks; r++) {
      m->rack_from[k][r] = MIT_NEVER;
      m->rack_until[k][r] = -1;
    }
  for (int t = 0; t < TENANT_COUNT; t++)
    for (int k = 0; k < MIT_SCOPED; k++) {
      m->tenant_from[t][k] = MIT_NEVER;
      m->tenant_until[t][k] = -1;
    }
  *out = m;
  return 0;
}

void mit_destroy(mit_state **mp) {
  if (!mp || !*mp)
    return;
  mit_state *m = *mp;
  free(m->drain_from);
  free(m->excl_from);
  for (int k = 0; k < MIT_SCOPED; k++) {
    free(m->node_from[k]);
    free(m->node_until[k]);
  }
  for (int k = 0; k < MIT_RACK_EFFECTS; k++) {
    free(m->rack_from[k]);
    free(m->rack_until[k]);
  }
  free(m->rma_head);
  free(m->cand);
  free(m->cand_list);
  free(m->rma);
  for (int j = 0; m->restarts && j < m->f->njobs; j++)
    free(m->restarts[j].t);
  for (int j = 0; m->ckpts && j < m->f->njobs; j++)
    free(m->ckpts[j].t);
  free(m->restarts);
  free(m->ckpts);
  free(m);
  *mp = NULL;
}

int mit_count(const mit_state *m) { return m->count; }

/* ---- recording ---------------------------------------------------------- */

static void mit_earliest(int64_t *from, int64_t t) {
  if (t < *from)
    *from = t;
}

/* A held effect issued at t: it starts at t unless in force already, and
 * lasts hold scrapes from t (rebalance_experts: for good). */
static void mit_hold(int64_t *from, int64_t *until, int64_t t, int64_t hold) {
  if (t >= *until)
    *from = t;
  const int64_t end = hold == MIT_NEVER ? MIT_NEVER : t + hold;
  if (end > *until)
    *until = end;
}

/* 1 when a held effect is in force at t. */
static int mit_held(int64_t from, int64_t until, int64_t t) { return from <= t && t < until; }

/* Appends t to l unless it is already its last scrape. 0 or FS_ENOMEM. */
static int mit_times_add(mit_times *l, int64_t t) {
  if (l->n > 0 && l->t[l->n - 1] == t)
    return 0;
  if (fs_grow((void **)&l->t, &l->cap, l->n + 1, sizeof *l->t, 8) != 0)
    return FS_ENOMEM;
  l->t[l->n++] = t;
  return 0;
}

/* Node n (an inference node) may be out of service: its tenant's count of
 * nodes out looks at it. */
static void mit_candidate(mit_state *m, int n) {
  if (m->f->node_tenant[n] != TENANT_TRAINING && !m->cand[n]) {
    m->cand[n] = 1;
    m->cand_list[m->ncand++] = n;
  }
}

/* Node n leaves its job at scrape t (drained, sent to RMA, or restarted
 * without): the job restarts then, unless the node was already out of it. */
static int mit_leave_job(mit_state *m, int n, int64_t t) {
  const int j = m->f->node_job[n];
  if (j < 0 || m->excl_from[n] != MIT_NEVER)
    return 0;
  m->excl_from[n] = t;
  return mit_times_add(&m->restarts[j], t);
}

static int mit_add_rma(mit_state *m, const act_action *a, int64_t t) {
  if (fs_grow((void **)&m->rma, &m->cap_rma, m->nrma + 1, sizeof *m->rma, 16) != 0)
    return FS_ENOMEM;
  m->rma[m->nrma] = (mit_rma){.from = t, .until = t + m->rma_scrapes,
                              .mask = (uint8_t)(a->gpu >= 0 ? 1u << a->gpu : 0xffu),
                              .next = m->rma_head[a->node]};
  m->rma_head[a->node] = m->nrma++;
  mit_candidate(m, a->node);
  return mit_leave_job(m, a->node, t);
}

/* Records scoped effect k on a's target: the node's, else the rack's,
 * else the tenant's entry. */
static void mit_scope_hold(mit_state *m, const act_action *a, int k, int64_t t) {
  const int64_t hold = k == MIT_REBALANCE ? MIT_NEVER : m->hold_scrapes;
  if (a->node >= 0)
    mit_hold(&m->node_from[k][a->node], &m->node_until[k][a->node], t, hold);
  else if (a->rack >= 0)
    mit_hold(&m->rack_from[k][a->rack], &m->rack_until[k][a->rack], t, hold);
  else
    mit_hold(&m->tenant_from[a->tenant][k], &m->tenant_until[a->tenant][k], t, hold);
}

/* Records rack effect k on rack r. */
static void mit_rack_hold(mit_state *m, int k, int r, int64_t t) {
  mit_hold(&m->rack_from[k][r], &m->rack_until[k][r], t, m->hold_scrapes);
}

/* 1 when a's target fields are inside the fleet for its kind. */
static int mit_valid(const fleet *f, const act_action *a) {
  const int node = a->node >= 0 && a->node < f->nodes, rack = a->rack >= 0 && a->rack < f->racks;
  switch (act_target_of(a->kind)) {
  case ACT_TARGET_NONE: return a->kind == ACT_NO_OP;
  case ACT_TARGET_NODE: return node;
  case ACT_TARGET_GPU: return node && a->gpu < FLEET_GPUS;
  case ACT_TARGET_JOB: return a->job >= 0 && a->job < f->njobs;
  case ACT_TARGET_RACK: return rack;
  default: /* a scope: the node, else the rack, else the tenant */
    if (a->node >= 0 || a->rack >= 0)
      return a->node >= 0 ? node : rack;
    return a->tenant >= 0 && a->tenant < TENANT_COUNT;
  }
}

int mit_apply(mit_state *m, const act_action *a, int64_t t) {
  if (t < 0 || (m->last_t_set && t < m->last_t) || !mit_valid(m->f, a))
    return FS_EINVAL;
  int rc = 0;
  switch (a->kind) {
  case ACT_NO_OP:
  case ACT_CORDON_NODE: /* nothing new is placed in this model: no effect */
    break;
  case ACT_DRAIN_NODE:
    mit_earliest(&m->drain_from[a->node], t);
    mit_candidate(m, a->node);
    rc = mit_leave_job(m, a->node, t);
    break;
  case ACT_CHECKPOINT_JOB: rc = mit_times_add(&m->ckpts[a->job], t); break;
  case ACT_RESTART_JOB_WITHOUT_NODE: rc = mit_leave_job(m, a->node, t); break;
  case ACT_REBALANCE_EXPERTS: mit_scope_hold(m, a, MIT_REBALANCE, t); break;
  case ACT_RAISE_KV_CAPACITY: mit_scope_hold(m, a, MIT_KV, t); break;
  case ACT_CAP_CONTEXT_LENGTH: mit_scope_hold(m, a, MIT_CAP_CONTEXT, t); break;
  case ACT_POWER_CAP_RACK: mit_rack_hold(m, MIT_POWER_CAP, a->rack, t); break;
  case ACT_RAISE_COOLING: mit_rack_hold(m, MIT_COOLING, a->rack, t); break;
  case ACT_MIGRATE_TENANT: {
    mit_rack_hold(m, MIT_MIGRATE, a->rack, t);
    const int n0 = a->rack * m->f->nodes_per_rack;
    for (int n = n0; n < n0 + m->f->nodes_per_rack; n++)
      mit_candidate(m, n);
    break;
  }
  case ACT_RMA_GPU: rc = mit_add_rma(m, a, t); break;
  default: return FS_EINVAL;
  }
  if (rc)
    return rc;
  if (a->kind != ACT_NO_OP && a->kind != ACT_CORDON_NODE)
    mit_earliest(&m->first_t, t);
  m->count++;
  m->last_t = t;
  m->last_t_set = 1;
  return 0;
}

/* ---- effects ------------------------------------------------------------ */

/* Node n at scrape t: 1 when in repair; *repaired gets the GPUs whose
 * repair has ended. */
static int mit_rma_state(const mit_state *m, int n, int64_t t, unsigned *repaired) {
  int out = 0;
  *repaired = 0;
  for (int32_t r = m->rma_head[n]; r >= 0; r = m->rma[r].next) {
    const mit_rma *x = &m->rma[r];
    if (x->from <= t && t < x->until)
      out = 1;
    else if (x->until <= t)
      *repaired |= x->mask;
  }
  return out;
}

/* Whether node n serves nothing at scrape t: TEL_DRAINED_AWAY in repair,
 * TEL_DRAINED_IDLE drained or an inference node of a rack whose replicas
 * migrated, 0 in service. */
static int mit_out_of_service(const mit_state *m, int n, int64_t t, unsigned *repaired) {
  if (mit_rma_state(m, n, t, repaired))
    return TEL_DRAINED_AWAY;
  return m->drain_from[n] <= t ||
                 (m->f->node_tenant[n] != TENANT_TRAINING &&
                  mit_held(m->rack_from[MIT_MIGRATE][m->f->node_rack[n]],
                           m->rack_until[MIT_MIGRATE][m->f->node_rack[n]], t))
             ? TEL_DRAINED_IDLE
             : 0;
}

int mit_node_out(const mit_state *m, int n, int64_t t) {
  if (n < 0 || n >= m->f->nodes || m->count == 0)
    return 0;
  unsigned repaired;
  return mit_out_of_service(m, n, t, &repaired) ||
         (m->f->node_job[n] >= 0 && m->excl_from[n] <= t);
}

/* The scrape scoped effect k in force on node n at t started (through the
 * node, its rack or its tenant, the earliest), MIT_NEVER when none is. */
static int64_t mit_scoped_from(const mit_state *m, int k, int n, int64_t t) {
  const int r = m->f->node_rack[n], ten = m->f->node_tenant[n];
  int64_t first = MIT_NEVER;
  if (mit_held(m->node_from[k][n], m->node_until[k][n], t))
    first = m->node_from[k][n];
  if (mit_held(m->rack_from[k][r], m->rack_until[k][r], t) && m->rack_from[k][r] < first)
    first = m->rack_from[k][r];
  if (mit_held(m->tenant_from[ten][k], m->tenant_until[ten][k], t) &&
      m->tenant_from[ten][k] < first)
    first = m->tenant_from[ten][k];
  return first;
}

/* Seconds of [lo, hi) inside [a, b). */
static double mit_overlap(double lo, double hi, double a, double b) {
  const double x = fmax(lo, a), y = fmin(hi, b);
  return y > x ? y - x : 0.0;
}

/* The job drivers of job j at scrape t: relaunch time of the restarts in
 * progress (their union), the stall of extra checkpoint writes. */
static int mit_drive_job(const mit_state *m, int j, int64_t t, tel_job_drivers *jd) {
  const double a = (double)t * m->dt, b = a + m->dt;
  int changed = 0;
  const mit_times *r = &m->restarts[j];
  int i = r->n;
  while (i > 0 && (double)r->t[i - 1] * m->dt + m->restart_s > a)
    i--; /* restarts from i on end after a; those after t have not started */
  double down = 0, lo = -1, hi = -1;
  for (; i < r->n && r->t[i] <= t; i++) {
    const double s = (double)r->t[i] * m->dt, e = s + m->restart_s;
    if (s > hi) { /* a new stretch: close the last one */
      down += hi > lo ? mit_overlap(lo, hi, a, b) : 0.0;
      lo = s;
    }
    hi = e;
  }
  down += hi > lo ? mit_overlap(lo, hi, a, b) : 0.0;
  if (down > 0) {
    jd->restart_s += (float)down;
    changed = 1;
  }
  const mit_times *c = &m->ckpts[j];
  const double write = tel_job_checkpoint_write_s(m->f->cfg, j) * jd->ckpt_scale;
  double stall = 0;
  for (int k = c->n - 1; k >= 0 && (double)c->t[k] * m->dt + write > a; k--)
    if (c->t[k] <= t)
      stall += mit_overlap((double)c->t[k] * m->dt, (double)c->t[k] * m->dt + write, a, b);
  if (stall > 0) {
    jd->extra_stall_s += (float)stall;
    changed = 1;
  }
  return changed;
}

/* A repaired GPU (mask; 0xff: the whole node) comes back without its GPU
 * faults: its per-GPU fields and mask bits are cleared (and, for a whole
 * node, the node-wide GPU-side ones). The environment (inlet air, fabric,
 * power feed, traffic) and the fleet's firmware link speed stay. */
static void mit_repair(tel_drivers *x, unsigned mask) {
  for (int g = 0; g < FLEET_GPUS; g++)
    if ((mask >> g) & 1u) {
      x->sbe_per_interval[g] = 0;
      x->clock_sag_mhz[g] = 0;
      x->sensor_stuck_c[g] = 0;
      x->sensor_offset_c[g] = 0;
    }
  const uint8_t keep = (uint8_t)~mask;
  x->nvlink_gpu_mask &= keep;
  x->hung_gpu_mask &= keep;
  x->sensor_stuck_mask &= keep;
  x->gpu_off_bus_mask &= keep;
  x->dbe_gpu_mask &= keep;
  x->remap_gpu_mask &= keep;
  x->pcie_gpu_mask &= keep;
  if (mask == 0xffu) {
    x->board_delta_c = 0;
    x->nvlink_replays = 0;
    x->hung_power_w = 0;
    x->pcie_link_loss = 0;
    x->pcie_replays = 0;
  }
}

/* The node-level effects on node n at scrape t (out: its tenant's nodes out
 * of service now). 1 when it changed x. */
static int mit_drive_node(const mit_state *m, int n, int64_t t, const int out[TENANT_COUNT],
                          tel_drivers *x) {
  const fleet *f = m->f;
  const int tenant = f->node_tenant[n], rack = f->node_rack[n];
  int changed = 0;
  unsigned repaired;
  const int gone = mit_out_of_service(m, n, t, &repaired);
  if (gone) {
    x->drained = (uint8_t)gone;
    changed = 1;
  }
  if (f->node_job[n] >= 0 && m->excl_from[n] <= t) {
    x->job_excluded = 1;
    changed = 1;
  }
  if (repaired) {
    mit_repair(x, repaired);
    changed = 1;
  }
  if (mit_held(m->rack_from[MIT_POWER_CAP][rack], m->rack_until[MIT_POWER_CAP][rack], t)) {
    if (!(x->gpu_power_limit_w > 0 && x->gpu_power_limit_w < m->power_limit_w))
      x->gpu_power_limit_w = m->power_limit_w;
    changed = 1;
  }
  if (mit_held(m->rack_from[MIT_COOLING][rack], m->rack_until[MIT_COOLING][rack], t)) {
    x->inlet_delta_c = fmaxf(x->inlet_delta_c - m->cooling_c, -m->cooling_c);
    changed = 1;
  }
  if (tenant == TENANT_TRAINING || gone)
    return changed;
  float load = 1.0f;
  const int nt = m->tenant_nodes[tenant], k = out[tenant];
  if (k > 0 && k < nt)
    load = (float)nt / (float)(nt - k);
  if (mit_scoped_from(m, MIT_KV, n, t) <= t) {
    x->kv_capacity_scale = m->kv_scale;
    x->capacity_share = m->kv_capacity;
    changed = 1;
  }
  if (mit_scoped_from(m, MIT_CAP_CONTEXT, n, t) <= t) {
    if (!(x->context_scale > 0 && x->context_scale <= 1.0f))
      x->context_scale = 1.0f;
    changed = 1;
  }
  const int64_t rebalance = mit_scoped_from(m, MIT_REBALANCE, n, t);
  if (tenant == TENANT_MOE && rebalance <= t && (double)(t - rebalance) * m->dt >= m->rebalance_s) {
    x->routing_collapse /= m->rebalance_factor;
    changed = 1;
  }
  if (load != 1.0f) {
    x->load_scale = x->load_scale > 0 ? x->load_scale * load : load;
    changed = 1;
  }
  return changed;
}

int mit_drive(const mit_state *m, int64_t t, int node0, int nnodes, tel_drivers *d,
              tel_job_drivers *jd) {
  if (m->count == 0 || t < m->first_t)
    return 0;
  int changed = 0;
  for (int j = 0; j < m->f->njobs; j++)
    if (m->restarts[j].n > 0 || m->ckpts[j].n > 0)
      changed |= mit_drive_job(m, j, t, &jd[j]);
  /* every tenant's nodes out of service now, over the whole fleet */
  int out[TENANT_COUNT] = {0};
  unsigned repaired;
  for (int c = 0; c < m->ncand; c++)
    if (mit_out_of_service(m, m->cand_list[c], t, &repaired))
      out[m->f->node_tenant[m->cand_list[c]]]++;
  for (int i = 0; i < nnodes; i++)
    changed |= mit_drive_node(m, node0 + i, t, out, &d[i]);
  return changed;
}

double mit_job_rollback_s(const mit_state *m, int j, int64_t t) {
  if (j < 0 || j >= m->f->njobs)
    return 0.0;
  const mit_times *r = &m->restarts[j];
  int i = r->n - 1;
  while (i >= 0 && r->t[i] > t)
    i--;
  if (i < 0 || r->t[i] != t)
    return 0.0; /* no restart starts at t */
  const double now = (double)t * m->dt;
  /* the job's last saved state: its last periodic checkpoint, a later
   * checkpoint_job write that completed, or where the previous restart
   * left it (nothing trained while it relaunched) */
  double saved = tel_job_last_checkpoint_s(m->f->cfg, j, now);
  const mit_times *c = &m->ckpts[j];
  const double write = tel_job_checkpoint_write_s(m->f->cfg, j);
  for (int k = c->n - 1; k >= 0; k--) {
    const double s = (double)c->t[k] * m->dt;
    if (c->t[k] <= t && s + write <= now) {
      saved = fmax(saved, s);
      break;
    }
  }
  if (i > 0)
    saved = fmax(saved, (double)r->t[i - 1] * m->dt + m->restart_s);
  return now > saved ? now - saved : 0.0;
}
