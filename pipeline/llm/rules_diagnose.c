/* The rules backend's L3 answer (see rules_diagnose.h): the family its
 * catalogue recognises in the context, answered with that family's clauses
 * (a label, then text whose every number is a context value printed at a
 * fixed precision and every entity a name the context gives); the generic
 * answer for an event that shows no known family. */
#include "pipeline/llm/rules_diagnose.h"

#include <stdlib.h>
#include <string.h>

#include "src/core/strbuf.h"

typedef struct {
  strbuf root, cross, scope;
  json_t *chain, *actions, *tenants;
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
  const json_t *t = rx_eval(fam->tenants, &e.env);
  for (size_t i = 0; i < json_array_size(t); i++)
    if (json_is_string(json_array_get(t, i)))
      json_array_append(a->tenants, json_array_get(t, i));
  a->priority = fam->priority;
  a->confidence = fam->confidence;
  rc_eval_free(&e);
  return 1;
}

/* An event that shows no known family: isolated, normal variation. */
static void rd_generic(rd_answer *a, const json_t *ctx) {
  const json_t *ev = json_object_get(ctx, "event"), *trig = json_object_get(ev, "trigger");
  const char *node =
      rx_str(json_object_get(ev, "node"))[0] ? rx_str(json_object_get(ev, "node")) : "the node";
  const char *tenant = rx_str(json_object_get(ev, "tenant"));
  sb_addf(&a->root,
          "Normal variation of the workload: the deviation on %s is isolated, with no "
          "known failure signature and no corroborating signal.",
          node);
  strbuf b = {0};
  sb_addf(&b, "%s on %s: z=%.1f, %.4g against a baseline of %.4g",
          rx_str(json_object_get(trig, "metric")), node, rx_num(json_object_get(trig, "z")),
          rx_num(json_object_get(trig, "value")), rx_num(json_object_get(trig, "baseline")));
  char *s = sb_take(&b);
  if (s)
    json_array_append_new(a->chain, json_string(s));
  free(s);
  sb_addf(&b,
          "Keep watching %s; escalate if the deviation persists over the next detection "
          "steps",
          node);
  s = sb_take(&b);
  if (s)
    json_array_append_new(a->actions, json_string(s));
  free(s);
  if (tenant[0])
    json_array_append_new(a->tenants, json_string(tenant));
  sb_addf(&a->cross, "None observed.");
  sb_addf(&a->scope, "%s", node);
  a->priority = "P4";
  a->confidence = 0.5;
}

char *rules_l3(const rc_catalogue *c, const json_t *ctx) {
  rd_answer a = {.chain = json_array(), .actions = json_array(), .tenants = json_array()};
  int f = rc_recognise(c, ctx), done = 0;
  if (f >= 0 && a.chain && a.actions && a.tenants)
    done = rd_family(&a, c, f, ctx);
  if (done == 0)
    rd_generic(&a, ctx);
  char *root = sb_take(&a.root), *cross = sb_take(&a.cross), *scope = sb_take(&a.scope);
  json_t *o = done >= 0 && root && cross && scope && a.chain && a.actions && a.tenants
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
  }
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
