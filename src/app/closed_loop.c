/* The closed loop's decisions (see closed_loop.h): a backend's answers
 * through the escalation engine's decider, a null operator's answers made
 * in-process, the oracle's remedies at first detection; their timing, the
 * wait at each block boundary, and the broadcast of the actions due. */
#include "src/app/closed_loop_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "pipeline/detect/detect.h"
#include "pipeline/llm/llm_actions.h"
#include "pipeline/score/calibration.h"
#include "pipeline/score/remedy.h"
#include "pipeline/score/truth_map.h"
#include "src/core/errors.h"
#include "src/core/grow.h"
#include "src/core/progress.h"

const char *cl_role_name(cl_role r) {
  static const char *const names[] = {"backend", "fault-free", "no-action", "oracle", "null"};
  return r >= CL_BACKEND && r <= CL_NULL ? names[r] : "unknown";
}

int cl_init(cl_state **out, const cl_policy *p, const fleet *f, const scn_set *scenarios) {
  *out = NULL;
  cl_state *c = calloc(1, sizeof *c);
  if (!c)
    return FS_ENOMEM;
  c->policy = *p;
  c->f = f;
  c->scn = scenarios;
  c->root = par_prints();
  c->dt = f->cfg->scrape_interval_s;
  c->block_s = c->dt * DET_BLOCK_SCRAPES;
  int rc = mit_init(&c->mit, f);
  if (rc == 0 && c->root) {
    int njobs = f->njobs > 0 ? f->njobs : 1;
    c->job_steps = calloc((size_t)njobs, sizeof *c->job_steps);
    c->job_lost = calloc((size_t)njobs, sizeof *c->job_lost);
    c->gpu_s_out = calloc((size_t)f->nodes, sizeof *c->gpu_s_out);
    c->remedied = calloc((size_t)(scenarios && scenarios->n ? scenarios->n : 1), 1);
    if (!c->job_steps || !c->job_lost || !c->gpu_s_out || !c->remedied)
      rc = FS_ENOMEM;
    if (rc == 0 && (p->role == CL_ORACLE || p->role == CL_NULL))
      rc = chk_parse(&c->kn, chk_default_text(), "the kinds' checklists");
  }
  if (rc != 0) {
    cl_destroy(&c);
    return rc;
  }
  *out = c;
  return 0;
}

void cl_destroy(cl_state **cp) {
  if (!cp || !*cp)
    return;
  cl_state *c = *cp;
  mit_destroy(&c->mit);
  chk_destroy(&c->kn);
  for (int i = 0; i < c->ncalls; i++)
    free(c->calls[i].context);
  free(c->calls);
  free(c->pend);
  free(c->q);
  free(c->remedied);
  free(c->job_steps);
  free(c->job_lost);
  free(c->gpu_s_out);
  free(c);
  *cp = NULL;
}

/* The first block boundary after due_s. */
static double cl_effect_s(const cl_state *c, double due_s) {
  return (floor(due_s / c->block_s + 1e-9) + 1.0) * c->block_s;
}

/* Queues the actions of one decision (seq: its order) taking effect at
 * apply_s. 0 or FS_ENOMEM. */
static int cl_queue(cl_state *c, const act_action *a, int n, double apply_s, int64_t seq,
                    const char *call_id) {
  if (fs_grow((void **)&c->q, &c->capq, c->nq + n, sizeof *c->q, 32) != 0)
    return FS_ENOMEM;
  for (int i = 0; i < n; i++) {
    cl_action *x = &c->q[c->nq++];
    *x = (cl_action){.a = a[i], .apply_s = apply_s, .seq = seq, .idx = i};
    snprintf(x->call_id, sizeof x->call_id, "%s", call_id ? call_id : "");
  }
  return 0;
}

/* The decision on one answer (NULL: none): its actions parsed against the
 * fleet (llm_answer_actions) and queued at apply_s; the decision object
 * gets apply_s, the actions (as applied), how many entries were rejected
 * and why the first was. 0 or FS_ENOMEM. */
static int cl_decide_answer(cl_state *c, const char *answer, int layer, double apply_s,
                            int64_t seq, const char *call_id, json_t *decision) {
  enum { CL_MAX_ACTIONS = 64 };
  act_action acts[CL_MAX_ACTIONS];
  char why[256] = "";
  int na = 0;
  int skipped = answer ? llm_answer_actions(answer, layer, c->f, acts, CL_MAX_ACTIONS, &na, why,
                                            sizeof why)
                       : 0;
  if (skipped < 0) /* an answer that failed the schema: no actions */
    skipped = na = 0;
  json_t *list = json_array();
  for (int i = 0; list && i < na; i++) {
    char shown[64];
    act_target_name(c->f, &acts[i], shown, sizeof shown);
    json_array_append_new(list, json_pack("{s:s,s:s}", "action", act_name(acts[i].kind),
                                          "target", shown));
  }
  json_object_set_new(decision, "apply_s", json_real(apply_s));
  json_object_set_new(decision, "actions", list ? list : json_null());
  json_object_set_new(decision, "rejected", json_integer(skipped));
  if (skipped > 0)
    json_object_set_new(decision, "rejected_why", json_string(why));
  c->rejected += skipped;
  c->decisions += na > 0;
  return list ? cl_queue(c, acts, na, apply_s, seq, call_id) : FS_ENOMEM;
}

/* The decider (esc_decide_fn) of a backend twin. */
static int cl_decide(void *ctx, const char *call_id, int layer, int ok, const char *answer,
                     const char *recorded, char **out) {
  cl_state *c = ctx;
  *out = NULL;
  int k = 0;
  while (k < c->npend && strcmp(c->pend[k].call_id, call_id) != 0)
    k++;
  if (k == c->npend) /* an L2 call, or one from before a resume: no decision */
    return 0;
  cl_pending p = c->pend[k];
  memmove(c->pend + k, c->pend + k + 1, (size_t)(c->npend - k - 1) * sizeof *c->pend);
  c->npend--;
  double wait_s = progress_now() - p.submit_wall;
  double due_s = p.issue_s + wait_s * CL_LATENCY_PACE;
  double apply_s = cl_effect_s(c, due_s);
  json_t *rec = recorded ? json_loads(recorded, 0, NULL) : NULL;
  double rec_apply = json_number_value(json_object_get(rec, "apply_s"));
  json_decref(rec);
  if (rec_apply > p.issue_s) /* a replay: the recorded effect time, so the run repeats */
    apply_s = rec_apply;
  json_t *d = json_pack("{s:f,s:f,s:f,s:f}", "issued_s", p.issue_s, "wait_s", wait_s,
                        "latency_pace", CL_LATENCY_PACE, "due_s", due_s);
  if (!d)
    return FS_ENOMEM;
  int rc = cl_decide_answer(c, ok ? answer : NULL, layer, apply_s, p.seq, call_id, d);
  if (rc == 0 && !(*out = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))))
    rc = FS_ENOMEM;
  json_decref(d);
  return rc;
}

void cl_attach(cl_state *c, esc_backend *b) {
  c->esc = b;
  esc_set_decider(b, cl_decide, c);
}

/* A null operator's answer to call (the calls so far kept for it). */
static int cl_null_answer(cl_state *c, const llm_call *call, double issue_s, int64_t seq) {
  if (fs_grow((void **)&c->calls, &c->capcalls, c->ncalls + 1, sizeof *c->calls, 32) != 0)
    return FS_ENOMEM;
  llm_call *k = &c->calls[c->ncalls];
  *k = *call;
  if (!(k->context = strdup(call->context)))
    return FS_ENOMEM;
  c->ncalls++;
  char *answer = NULL;
  int rc = cal_answer((cal_operator)c->policy.null_op, c->kn, c->calls, c->ncalls, c->ncalls - 1,
                      &answer);
  json_t *d = rc == 0 ? json_object() : NULL;
  if (rc == 0 && !d)
    rc = FS_ENOMEM;
  if (rc == 0)
    rc = cl_decide_answer(c, answer, (int)call->layer, cl_effect_s(c, issue_s), seq,
                          call->call_id, d);
  json_decref(d);
  free(answer);
  return rc;
}

int cl_on_call(cl_state *c, const llm_call *call, double issue_s) {
  if (call->layer == LLM_L2)
    return 0;
  int64_t seq = c->seq++;
  if (c->policy.role == CL_NULL)
    return cl_null_answer(c, call, issue_s, seq);
  if (c->policy.role != CL_BACKEND)
    return 0;
  if (fs_grow((void **)&c->pend, &c->cappend, c->npend + 1, sizeof *c->pend, 32) != 0)
    return FS_ENOMEM;
  cl_pending *p = &c->pend[c->npend++];
  *p = (cl_pending){.seq = seq, .issue_s = issue_s, .submit_wall = progress_now()};
  snprintf(p->call_id, sizeof p->call_id, "%s", call->call_id);
  return 0;
}

int cl_on_events(cl_state *c, const ev_event *ev, int first, int n, double t_end) {
  if (c->policy.role != CL_ORACLE || !c->scn)
    return 0;
  tmap_truth truth = {.scenarios = c->scn, .f = c->f, .knowledge = c->kn,
                      .scrape_interval_s = c->dt};
  int rc = 0;
  for (int i = first; rc == 0 && i < n; i++) {
    tmap_event te = tmap_of_event(&ev[i]);
    int k = tmap_best(&truth, &te);
    if (k < 0 || c->remedied[k])
      continue;
    c->remedied[k] = 1;
    act_action *acts = NULL;
    int na = 0;
    rc = rem_oracle_actions(&c->scn->s[k], c->f, &acts, &na);
    if (rc == 0 && na > 0) {
      c->decisions++;
      rc = cl_queue(c, acts, na, cl_effect_s(c, t_end), c->seq++, NULL);
    }
    free(acts);
  }
  return rc;
}

/* Printing rank: waits until no unanswered backend call could be due by
 * boundary_s (its elapsed wall time, paced, already puts it later). */
static int cl_wait(cl_state *c, double boundary_s) {
  int rc = 0;
  for (;;) {
    double now = progress_now();
    int need = 0;
    for (int i = 0; !need && i < c->npend; i++)
      need = c->pend[i].issue_s + (now - c->pend[i].submit_wall) * CL_LATENCY_PACE < boundary_s;
    if (!need || rc != 0)
      return rc;
    rc = esc_poll(c->esc, 20);
  }
}

static int cl_cmp_due(const void *pa, const void *pb) {
  const cl_action *a = *(const cl_action *const *)pa, *b = *(const cl_action *const *)pb;
  if (a->apply_s != b->apply_s)
    return a->apply_s < b->apply_s ? -1 : 1;
  if (a->seq != b->seq)
    return a->seq < b->seq ? -1 : 1;
  return a->idx - b->idx;
}

/* Printing rank: the actions taking effect by boundary_s, in their
 * canonical order (effect time, decision order, position), one line each
 * ("kind node gpu rack job tenant"), marked applied. NULL text: none. */
static int cl_due_text(cl_state *c, double boundary_s, char **text) {
  *text = NULL;
  const cl_action **due = NULL;
  int n = 0, cap = 0;
  for (int i = 0; i < c->nq; i++)
    if (!c->q[i].applied && c->q[i].apply_s <= boundary_s + 1e-6) {
      if (fs_grow((void **)&due, &cap, n + 1, sizeof *due, 32) != 0) {
        free(due);
        return FS_ENOMEM;
      }
      due[n++] = &c->q[i];
    }
  if (n == 0)
    return 0;
  qsort(due, (size_t)n, sizeof *due, cl_cmp_due);
  char *t = malloc((size_t)n * 80 + 1);
  if (!t) {
    free(due);
    return FS_ENOMEM;
  }
  size_t w = 0;
  for (int i = 0; i < n; i++) {
    const act_action *a = &due[i]->a;
    w += (size_t)sprintf(t + w, "%d %d %d %d %d %d\n", (int)a->kind, a->node, a->gpu, a->rack,
                         a->job, a->tenant);
    ((cl_action *)due[i])->applied = 1;
    ((cl_action *)due[i])->apply_s = boundary_s;
  }
  free(due);
  *text = t;
  return 0;
}

int cl_boundary(cl_state *c, int64_t t0) {
  double boundary_s = (double)t0 * c->dt;
  char *text = NULL;
  int rc = 0;
  if (c->root && c->esc)
    rc = cl_wait(c, boundary_s);
  if (rc == 0 && c->root)
    rc = cl_due_text(c, boundary_s, &text);
  rc = par_agree(rc);
  if (rc == 0)
    rc = par_bcast_text(&text);
  for (const char *p = text; rc == 0 && p && *p;) {
    act_action a;
    int kind, used = 0;
    if (sscanf(p, "%d %d %d %d %d %d\n%n", &kind, &a.node, &a.gpu, &a.rack, &a.job, &a.tenant,
               &used) != 6 || used == 0) {
      rc = FS_EINVAL;
      break;
    }
    a.kind = (act_kind)kind;
    rc = mit_apply(c->mit, &a, t0);
    p += used;
  }
  free(text);
  return par_agree(rc);
}

int cl_drive(const cl_state *c, int64_t t, int node0, int nnodes, tel_drivers *d,
             tel_job_drivers *jd) {
  return mit_drive(c->mit, t, node0, nnodes, d, jd);
}
