/* The closed loop's outcome accounting and record (see closed_loop.h):
 * per window, each job's steps (interval / the job's step time) and the
 * steps its action-caused restarts threw away, each inference tenant's
 * tokens, the SLA budgets, and the GPU-seconds actions kept out of service
 * per node; at the end, DIR/closed_loop/<policy>.json. */
#include "src/app/closed_loop_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

void cl_account(cl_state *c, int64_t t0, int rows, const double *job_max_ms,
                float *const *cluster) {
  const fleet *f = c->f;
  const int acting = mit_count(c->mit) > 0;
  for (int r = 0; r < rows; r++) {
    int64_t t = t0 + r;
    for (int j = 0; j < f->njobs; j++) {
      double ms = job_max_ms[(size_t)r * f->njobs + j];
      if (ms > 0)
        c->job_steps[j] += c->dt * 1000.0 / ms;
      if (acting)
        c->job_lost[j] += mit_job_rollback_s(c->mit, j, t) / f->cfg->jobs[j].step_time_s;
    }
    c->tokens[TENANT_MOE] += cluster[CM_TOKENS_MOE][r] * c->dt;
    c->tokens[TENANT_DENSE] += cluster[CM_TOKENS_DENSE][r] * c->dt;
    for (int n = 0; acting && n < f->nodes; n++)
      if (mit_node_out(c->mit, n, t))
        c->gpu_s_out[n] += FLEET_GPUS * c->dt;
  }
  if (rows > 0) {
    c->sla[TENANT_MOE] = cluster[CM_SLA_MOE][rows - 1];
    c->sla[TENANT_DENSE] = cluster[CM_SLA_DENSE][rows - 1];
    c->sla[TENANT_TRAINING] = cluster[CM_SLA_TRAIN][rows - 1];
  }
  c->scrapes += rows;
}

/* The record as a JSON object (NULL: out of memory). */
static json_t *cl_record_json(const cl_state *c) {
  const fleet *f = c->f;
  static const char *const about[] = {
      [CL_BACKEND] = "the run's backend: its L3/L4 answers' actions take effect",
      [CL_FAULT_FREE] = "no faults, no actions: the reference for every loss",
      [CL_NO_ACTION] = "the faults, and nobody acts",
      [CL_ORACLE] = "each fault's remedy on its ground-truth entities at its first detection",
      [CL_NULL] = "a calibration null operator: its L3/L4 answers' actions take effect"};
  json_t *o = json_object(), *jobs = json_array(), *ten = json_array(), *out = json_array(),
         *acts = json_array();
  if (!o || !jobs || !ten || !out || !acts) {
    json_decref(o), json_decref(jobs), json_decref(ten), json_decref(out), json_decref(acts);
    return NULL;
  }
  json_object_set_new(o, "policy", json_string(c->policy.name));
  json_object_set_new(o, "role", json_string(cl_role_name(c->policy.role)));
  json_object_set_new(o, "about", json_string(about[c->policy.role]));
  json_object_set_new(o, "hours", json_real((double)c->scrapes * c->dt / 3600.0));
  json_object_set_new(o, "scrape_interval_s", json_integer((json_int_t)c->dt));
  json_object_set_new(o, "latency_pace",
                      json_real(c->policy.role == CL_BACKEND ? CL_LATENCY_PACE : 0.0));
  for (int j = 0; j < f->njobs; j++)
    json_array_append_new(
        jobs, json_pack("{s:s,s:i,s:f,s:f,s:f}", "job", f->cfg->jobs[j].id, "gpus",
                        f->cfg->jobs[j].nodes * FLEET_GPUS, "step_time_s",
                        f->cfg->jobs[j].step_time_s, "steps", c->job_steps[j], "steps_lost",
                        c->job_lost[j]));
  for (int k = 0; k < TENANT_COUNT; k++)
    json_array_append_new(ten, json_pack("{s:s,s:f,s:f}", "tenant", fleet_tenant_name(k),
                                         "tokens", c->tokens[k], "sla_budget_left_percent",
                                         100.0 * c->sla[k]));
  for (int n = 0; n < f->nodes; n++)
    if (c->gpu_s_out[n] > 0) {
      char name[16];
      snprintf(name, sizeof name, "node-%04d", n);
      json_array_append_new(out, json_pack("{s:s,s:f}", "node", name, "gpu_s", c->gpu_s_out[n]));
    }
  int late = 0;
  for (int i = 0; i < c->nq; i++) {
    const cl_action *x = &c->q[i];
    if (!x->applied) {
      late++;
      continue;
    }
    char target[64];
    act_target_name(f, &x->a, target, sizeof target);
    json_array_append_new(acts, json_pack("{s:f,s:o,s:s,s:s}", "t_s", x->apply_s, "call_id",
                                          x->call_id[0] ? json_string(x->call_id) : json_null(),
                                          "action", act_name(x->a.kind), "target", target));
  }
  json_object_set_new(o, "jobs", jobs);
  json_object_set_new(o, "tenants", ten);
  json_object_set_new(o, "gpu_s_out", out);
  json_object_set_new(o, "actions", acts);
  json_object_set_new(o, "decisions", json_integer(c->decisions));
  json_object_set_new(o, "rejected", json_integer(c->rejected));
  json_object_set_new(o, "after_the_end", json_integer(late));
  return o;
}

int cl_write_record(const cl_state *c) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.json", c->policy.record_dir, c->policy.name);
  json_t *o = cl_record_json(c);
  char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))
                 : NULL;
  json_decref(o);
  if (!text)
    return FS_ENOMEM;
  sf_replace r;
  int rc = sf_mkdir(c->policy.record_dir, "closed-loop directory", 0);
  if (rc == 0)
    rc = sf_replace_open(&r, path);
  else
    r.fp = NULL;
  if (rc == 0 && (fputs(text, r.fp) < 0 || fputc('\n', r.fp) == EOF)) {
    diag_addf("%s: cannot write: %s", path, strerror(errno));
    rc = FS_EIO;
  }
  free(text);
  return sf_replace_finish(&r, rc);
}
