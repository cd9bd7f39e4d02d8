/* The `rules` backend (see backend_rules.h): a rule-based reference tuned to
 * the known fault families, not an LLM. It reads the context JSON only (which
 * metrics moved, by how much, on which node, rack, job and tenant, and what
 * the series, neighbours and job table show) and its own catalogue of failure
 * patterns (rules_catalogue.h), and answers from that evidence: L2 triage
 * here, L3 root cause and L4 shift report in rules_diagnose.c and
 * rules_report.c. Every number and entity it states comes from the context. */
#include "pipeline/llm/backend_rules.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/rules_diagnose.h"
#include "pipeline/llm/rules_read.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

/* Metrics that only count hardware errors: any clear rise is real. An XID
 * is not one of them: healthy fleets log XIDs every day (application
 * faults, recovered links, single ECC events), so a code by itself says
 * nothing; what moves with it does. */
static int rules_is_error_counter(const char *m) {
  return strstr(m, "ecc_") || strstr(m, "nvlink_replay") || strstr(m, "nvlink_crc") ||
         strstr(m, "rcv_errors") || strstr(m, "retransmits") || strstr(m, "remapped_rows") ||
         strstr(m, "thermal_violation");
}

/* The scope and tenant of the fault family f (-1: none) an event is about:
 * the family's (its L2 scopes: the event's when listed, else the first; its
 * tenant template), else the event's own. tenant_out is malloc'd (NULL on
 * allocation failure). */
static void rules_extent(const rc_catalogue *c, int f, const json_t *ctx, const char **scope_out,
                         char **tenant_out) {
  const json_t *ev = json_object_get(ctx, "event");
  const char *scope = rr_str(ev, "scope"), *tenant = rr_str(ev, "tenant");
  static const char *const scopes[] = {"gpu", "node", "rack", "job", "cluster"};
  if (f >= 0) {
    const rc_family *fam = &c->f[f];
    *scope_out = fam->l2_scopes[0];
    for (int i = 0; i < fam->nl2_scopes; i++)
      if (strcmp(scope, fam->l2_scopes[i]) == 0)
        *scope_out = fam->l2_scopes[i];
    rc_eval e;
    strbuf b = {0};
    if (rc_eval_init(&e, c, f, ctx) == 0) {
      rx_tpl_render(fam->l2_tenant, &e.env, &b);
      rc_eval_free(&e);
    } else {
      b.failed = 1;
    }
    *tenant_out = sb_take(&b);
    return;
  }
  *scope_out = "node";
  for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
    if (strcmp(scope, scopes[i]) == 0)
      *scope_out = scopes[i];
  *tenant_out = strdup(strcmp(tenant, "moe-inference") == 0 ||
                               strcmp(tenant, "dense-inference") == 0 ||
                               strcmp(tenant, "training") == 0
                           ? tenant
                           : "unknown");
}

/* The family's own evidence that it is real, as clauses of the rationale. */
static void rules_evidence(strbuf *r, const rc_catalogue *c, int f, const json_t *ctx) {
  rc_eval e;
  if (rc_eval_init(&e, c, f, ctx) != 0) {
    r->failed = 1;
    return;
  }
  rc_clauses_text(&c->f[f].l2_evidence, &e, r);
  rc_eval_free(&e);
}

static char *rules_l2(const rc_catalogue *c, const json_t *ctx) {
  const json_t *ev = json_object_get(ctx, "event"), *trig = json_object_get(ev, "trigger");
  const char *metric = rr_str(trig, "metric"), *scope = rr_str(ev, "scope");
  double z = rr_num(trig, "z");
  /* an XID's z is its code over a unit floor, not a distance from peers */
  const int xid = strstr(metric, "xid") != NULL;
  double az = isfinite(z) && !xid ? fabs(z) : 0;
  int fam = rc_recognise(c, ctx);
  /* co-occurring signals of the same family corroborate the trigger */
  const json_t *co = json_object_get(ev, "cooccurring");
  int corroborating = 0;
  for (size_t i = 0; i < json_array_size(co); i++) {
    const json_t *x = json_array_get(co, i);
    double cz = rr_num(x, "z");
    corroborating += isfinite(cz) && fabs(cz) >= 3.0 &&
                     (fam < 0 || rc_family_of_metric(c, rr_str(x, "metric")) == fam);
  }
  long long nodes = (long long)json_integer_value(json_object_get(ev, "nodes_affected"));
  int group = strcmp(scope, "job") == 0 || strcmp(scope, "rack") == 0 ||
              strcmp(scope, "cluster") == 0;
  const char *cls;
  if (fam >= 0 || group || az >= 8.0 || corroborating >= 2 ||
      (rules_is_error_counter(metric) && az >= 5.0))
    cls = "real_anomaly";
  else if (az >= 5.0 || corroborating == 1)
    cls = "transient";
  else
    cls = "noise";
  const char *scope_out;
  char *tenant_out = NULL;
  rules_extent(c, fam, ctx, &scope_out, &tenant_out);
  strbuf r = {0};
  const char *where = rr_str(trig, "gpu")[0] ? rr_str(trig, "gpu") : rr_str(ev, "node");
  sb_addf(&r, "%s: %s z=%.1f on %s (%.4g %s against a baseline of %.4g)",
          fam >= 0 ? c->f[fam].label : "No known failure signature", metric, z, where,
          rr_num(trig, "value"), rr_str(trig, "units"), rr_num(trig, "baseline"));
  if (strcmp(cls, "real_anomaly") == 0) {
    for (size_t i = 0, n = 0; i < json_array_size(co) && n < 3; i++) {
      const json_t *x = json_array_get(co, i);
      if (fam >= 0 && rc_family_of_metric(c, rr_str(x, "metric")) != fam)
        continue;
      sb_addf(&r, "%s %s z=%.1f", n++ ? "," : "; corroborated by", rr_str(x, "metric"),
              rr_num(x, "z"));
    }
    if (group)
      sb_addf(&r, "; a %s-wide event over %lld nodes", scope, nodes);
    if (az >= 8.0)
      sb_addf(&r, "; far above its peers");
    if (fam >= 0 && !group && corroborating == 0)
      rules_evidence(&r, c, fam, ctx);
  } else if (strcmp(cls, "transient") == 0) {
    sb_addf(&r, "; a single corroborating signal and no known failure pattern: likely a "
                "short-lived transient");
  } else if (xid) {
    sb_addf(&r, "; isolated: a single XID with no corroborating signal (no ECC, NVLink or "
                "step-time change with it), as healthy GPUs log every day: a one-off to watch");
  } else {
    sb_addf(&r, "; isolated: no corroborating signal, within the normal variation of its peers");
  }
  sb_addf(&r, ".");
  char *rationale = sb_take(&r);
  double conf = strcmp(cls, "real_anomaly") == 0 ? fmin(0.95, 0.6 + 0.02 * az + 0.05 * corroborating)
                                                 : (strcmp(cls, "transient") == 0 ? 0.6 : 0.7);
  json_t *o = rationale && tenant_out
                  ? json_pack("{s:s,s:s,s:s,s:f,s:s}", "classification", cls, "scope", scope_out,
                              "tenant_type", tenant_out, "confidence", round(conf * 100) / 100,
                              "rationale", rationale)
                  : NULL;
  free(rationale);
  free(tenant_out);
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3)) : NULL;
  json_decref(o);
  return s;
}

int rules_answer(llm_layer layer, const char *context, char **answer) {
  *answer = NULL;
  const rc_catalogue *c = rules_catalogue();
  if (!c)
    return FS_EINVAL;
  json_error_t err;
  json_t *ctx = json_loads(context, 0, &err);
  if (!json_is_object(ctx)) {
    json_decref(ctx);
    return FS_EINVAL;
  }
  *answer = layer == LLM_L2   ? rules_l2(c, ctx)
            : layer == LLM_L3 ? rules_l3(c, ctx)
                              : rules_l4(c, ctx);
  json_decref(ctx);
  return *answer ? 0 : FS_ENOMEM;
}

int rules_ready(void) { return rules_catalogue() ? 0 : FS_EINVAL; }
