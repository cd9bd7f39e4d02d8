/* The rules backend's L3 answer (see rules_diagnose.h): the family its
 * catalogue recognises in the context, answered with that family's clauses
 * (a label, then text whose every number is a context value printed at a
 * fixed precision and every entity a name the context gives); for an event
 * that shows no known family the generic answer: an unexplained anomaly with
 * the evidence the context gives when that evidence says it is real, else
 * normal variation. Its `actions` are the family's (rc_actions_list: entities
 * of the context only), or no_op for the generic answer. */
#include "pipeline/llm/rules_diagnose.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/strbuf.h"

typedef struct {
  strbuf root, cross, scope;
  json_t *chain, *actions, *tenants;
  json_t *acts; /* the answer's `actions` */
  const char *priority;
  double confidence;
} rd_answer;

/* The answer of family f when its l3.when holds: 1, else 0 (-1: no memory). */
static int rd_family(rd_answer *a, const rc_catalogue *c, int f, const json_t *ctx) {
  const rc_family *fam = &c->f[f];
  rc_eval e;
  if (rc_eval_init(&e, c, f, ctx))
    return -1;
  if (fam->l3_when && !rx_truthy(rx_eval(fam->l3_when, &e.env))) {
    rc_eval_free(&e);
    return 0;
  }
  sb_addf(&a->root, "%s", fam->label);
  rc_clauses_text(&fam->root, &e, &a->root);
  rc_clauses_text(&fam->cross, &e, &a->cross);
  rc_clauses_text(&fam->scope, &e, &a->scope);
  rc_clauses_list(&fam->chain, &e, a->chain);
  rc_clauses_list(&fam->actions, &e, a->actions);
  rc_actions_list(&e, a->acts);
  const json_t *t = rx_eval(fam->tenants, &e.env);
  for (size_t i = 0; i < json_array_size(t); i++)
    if (json_is_string(json_array_get(t, i)))
      json_array_append(a->tenants, json_array_get(t, i));
  a->priority = fam->priority;
  a->confidence = fam->confidence;
  rc_eval_free(&e);
  return 1;
}

/* 1 when an event that shows no known family is still real by the generic
 * evidence the context gives (the test of the L2 triage, backend_rules.c):
 * a group-wide event, a trigger far above its peers, or two corroborating
 * signals. */
static int rd_evidence_real(const json_t *ev) {
  const char *scope = rx_str(json_object_get(ev, "scope"));
  double z = rx_num(json_object_get(json_object_get(ev, "trigger"), "z"));
  const json_t *co = json_object_get(ev, "cooccurring");
  int corroborating = 0;
  for (size_t i = 0; i < json_array_size(co); i++) {
    double cz = rx_num(json_object_get(json_array_get(co, i), "z"));
    corroborating += isfinite(cz) && fabs(cz) >= 3.0;
  }
  return strcmp(scope, "job") == 0 || strcmp(scope, "rack") == 0 ||
         strcmp(scope, "cluster") == 0 || (isfinite(z) && fabs(z) >= 8.0) || corroborating >= 2;
}

/* "metric z=Z (value units against a baseline of b)" of one signal. */
static void rd_signal(strbuf *b, const json_t *sig) {
  sb_addf(b, "%s z=%.1f (%.4g %s against a baseline of %.4g)",
          rx_str(json_object_get(sig, "metric")), rx_num(json_object_get(sig, "z")),
          rx_num(json_object_get(sig, "value")), rx_str(json_object_get(sig, "units")),
          rx_num(json_object_get(sig, "baseline")));
}

/* Appends item text to arr (a failed allocation leaves the item out). */
static void rd_item(json_t *arr, strbuf *b) {
  char *s = sb_take(b);
  if (s)
    json_array_append_new(arr, json_string(s));
  free(s);
}

/* An event that shows no known family but is real by the generic evidence:
 * an unexplained anomaly, stated with the evidence and extent the context
 * gives (the trigger, its strongest co-occurring signals, the node metrics
 * furthest from their peers, the entity and the nodes affected), and no
 * claim of a cause. */
static void rd_unexplained(rd_answer *a, const json_t *ctx, const char *node) {
  const json_t *ev = json_object_get(ctx, "event"), *trig = json_object_get(ev, "trigger");
  const char *scope = rx_str(json_object_get(ev, "scope")), *rack = rx_str(json_object_get(ev, "rack"));
  const char *job = rx_str(json_object_get(ev, "job")), *gpu = rx_str(json_object_get(trig, "gpu"));
  const char *tenant = rx_str(json_object_get(ev, "tenant"));
  long long nodes = (long long)json_integer_value(json_object_get(ev, "nodes_affected"));
  const char *where = gpu[0] ? gpu : node;
  sb_addf(&a->root, "Unexplained anomaly (no known failure signature matches): ");
  rd_signal(&a->root, trig);
  sb_addf(&a->root, " on %s", where);
  const json_t *co = json_object_get(ev, "cooccurring");
  for (size_t i = 0; i < json_array_size(co) && i < 3; i++) {
    sb_addf(&a->root, i ? ", " : ", with ");
    rd_signal(&a->root, json_array_get(co, i));
  }
  sb_addf(&a->root, "; a %s-scope event over %lld node%s. The evidence does not establish a "
                    "cause.",
          scope[0] ? scope : "node", nodes, nodes == 1 ? "" : "s");
  /* the node metrics furthest from their peers' median, by relative gap */
  const json_t *nm = json_object_get(json_object_get(ctx, "node"), "metrics");
  const char *top[3] = {0};
  double gap[3] = {0};
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)nm, k, v) {
    double x = rx_num(json_object_get(v, "value")), p = rx_num(json_object_get(v, "peer_median"));
    double g = isfinite(x) && isfinite(p) ? fabs(x - p) / fmax(fabs(p), 1e-9) : 0;
    for (int i = 0; i < 3 && g > 0.1; i++)
      if (g > gap[i]) {
        for (int j = 2; j > i; j--) {
          top[j] = top[j - 1];
          gap[j] = gap[j - 1];
        }
        top[i] = k;
        gap[i] = g;
        break;
      }
  }
  strbuf b = {0};
  sb_addf(&b, "%s deviates on %s: ", rx_str(json_object_get(trig, "metric")), where);
  rd_signal(&b, trig);
  rd_item(a->chain, &b);
  for (int i = 0; i < 3 && top[i]; i++) {
    const json_t *m = json_object_get(nm, top[i]);
    sb_addf(&b, "%s of %s is %.4g against a peer median of %.4g", top[i], node,
            rx_num(json_object_get(m, "value")), rx_num(json_object_get(m, "peer_median")));
    rd_item(a->chain, &b);
  }
  sb_addf(&b, "no known failure signature matches: the cause is not identified");
  rd_item(a->chain, &b);
  sb_addf(&b, "Investigate %s: compare its telemetry with its peers over the event window and "
              "read its host and GPU logs",
          where);
  rd_item(a->actions, &b);
  sb_addf(&b, "Escalate to the owners of %s with this evidence if the deviation persists",
          job[0] ? job : node);
  rd_item(a->actions, &b);
  if (tenant[0])
    json_array_append_new(a->tenants, json_string(tenant));
  sb_addf(&a->cross, "Not established: the event covers %lld node%s of the %s tenant.", nodes,
          nodes == 1 ? "" : "s", tenant[0] ? tenant : "unknown");
  sb_addf(&a->scope, "%s", where);
  if (strcmp(where, node) != 0)
    sb_addf(&a->scope, " on %s", node);
  if (rack[0])
    sb_addf(&a->scope, " (%s%s%s)", rack, job[0] ? ", " : "", job);
  a->priority = "P3";
  a->confidence = 0.3;
}

/* An event that shows no known family: an unexplained anomaly when the
 * generic evidence says it is real, else isolated, normal variation. */
static void rd_generic(rd_answer *a, const json_t *ctx) {
  const json_t *ev = json_object_get(ctx, "event"), *trig = json_object_get(ev, "trigger");
  /* no known cause: nothing to act on yet */
  json_array_append_new(a->acts, json_pack("{s:s,s:s}", "action", "no_op", "target", ""));
  const char *node =
      rx_str(json_object_get(ev, "node"))[0] ? rx_str(json_object_get(ev, "node")) : "the node";
  if (rd_evidence_real(ev)) {
    rd_unexplained(a, ctx, node);
    return;
  }
  const char *tenant = rx_str(json_object_get(ev, "tenant"));
  sb_addf(&a->root,
          "Normal variation of the workload: the deviation on %s is isolated, with no "
          "known failure signature and no corroborating signal.",
          node);
  strbuf b = {0};
  sb_addf(&b, "%s on %s: z=%.1f, %.4g against a baseline of %.4g",
          rx_str(json_object_get(trig, "metric")), node, rx_num(json_object_get(trig, "z")),
          rx_num(json_object_get(trig, "value")), rx_num(json_object_get(trig, "baseline")));
  rd_item(a->chain, &b);
  sb_addf(&b,
          "Keep watching %s; escalate if the deviation persists over the next detection "
          "steps",
          node);
  rd_item(a->actions, &b);
  if (tenant[0])
    json_array_append_new(a->tenants, json_string(tenant));
  sb_addf(&a->cross, "None observed.");
  sb_addf(&a->scope, "%s", node);
  a->priority = "P4";
  a->confidence = 0.5;
}

char *rules_l3(const rc_catalogue *c, const json_t *ctx) {
  rd_answer a = {.chain = json_array(),
                 .actions = json_array(),
                 .tenants = json_array(),
                 .acts = json_array()};
  int f = rc_recognise(c, ctx), done = 0;
  if (f >= 0 && a.chain && a.actions && a.tenants && a.acts)
    done = rd_family(&a, c, f, ctx);
  if (done == 0)
    rd_generic(&a, ctx);
  char *root = sb_take(&a.root), *cross = sb_take(&a.cross), *scope = sb_take(&a.scope);
  json_t *o = done >= 0 && root && cross && scope && a.chain && a.actions && a.tenants && a.acts
                  ? json_object()
                  : NULL;
  if (o) {
    json_object_set_new(o, "root_cause", json_string(root));
    json_object_set_new(o, "confidence", json_real(a.confidence));
    json_object_set_new(o, "affected_scope", json_string(scope));
    json_object_set(o, "tenant_types", a.tenants);
    json_object_set_new(o, "cross_tenant_impact", json_string(cross));
    json_object_set(o, "causal_chain", a.chain);
    json_object_set(o, "recommended_actions", a.actions);
    json_object_set_new(o, "priority", json_string(a.priority));
    json_object_set(o, "actions", a.acts);
  }
  json_decref(a.acts);
  json_decref(a.tenants);
  json_decref(a.chain);
  json_decref(a.actions);
  free(root);
  free(cross);
  free(scope);
  char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(3)) : NULL;
  json_decref(o);
  return s;
}
