/* The rules backend's catalogue (see rules_catalogue.h): parsing and
 * compiling the families, recognising the family of a context, and
 * evaluating one family's facts and clauses over it. Generic code over the
 * catalogue's data: no family is named here. */
#include "pipeline/llm/rules_catalogue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/actions.h"

/* The compiled-in catalogue (CMakeLists.txt). */
const char *rules_catalogue_text(void);

static const char *const rc_base_names[] = {"node", "rack_name", "tenant",
                                            "job",  "job_name",  "label"};
enum { RC_NBASE = sizeof rc_base_names / sizeof rc_base_names[0] };

static const char *const rc_scopes[] = {"gpu", "node", "rack", "job", "cluster"};

/* ---- parsing ------------------------------------------------------------------ */

typedef struct {
  const char *source;
  char where[160]; /* "SOURCE: family N ('label')" */
  rc_family *f;
  int bad, nomem;
} rc_parser;

static void rc_problem(rc_parser *p, const char *key, const char *what) {
  diag_addf("%s: %s: %s", p->where, key, what);
  p->bad++;
}

static int rc_names(void *arg, const char *name, size_t len) {
  const rc_family *f = arg;
  for (int i = 0; i < RC_NBASE; i++)
    if (strlen(rc_base_names[i]) == len && strncmp(rc_base_names[i], name, len) == 0)
      return i;
  for (int i = 0; i < f->nfacts; i++)
    if (strlen(f->fact_names[i]) == len && strncmp(f->fact_names[i], name, len) == 0)
      return RC_NBASE + i;
  return -1;
}

static void rc_compile_rc(rc_parser *p, const char *key, int rc, const char *err) {
  if (rc == FS_ENOMEM)
    p->nomem = 1;
  else if (rc)
    rc_problem(p, key, err);
}

/* The expression at o.key (required unless optional) into *out. */
static void rc_expr(rc_parser *p, json_t *o, const char *key, int optional, rx_node **out,
                    const char *shown) {
  json_t *v = json_object_get(o, key);
  if (!v && optional)
    return;
  if (!json_is_string(v)) {
    rc_problem(p, shown, "must be an expression in a string");
    return;
  }
  char err[256];
  rc_compile_rc(p, shown, rx_compile(out, json_string_value(v), rc_names, p->f, err, sizeof err),
                err);
}

static void rc_tpl(rc_parser *p, json_t *v, rx_tpl **out, const char *shown) {
  if (!json_is_string(v)) {
    rc_problem(p, shown, "must be a template in a string");
    return;
  }
  char err[256];
  rc_compile_rc(p, shown,
                rx_tpl_compile(out, json_string_value(v), rc_names, p->f, err, sizeof err), err);
}

/* Clauses: an array of templates and {"if": expression, "text": template}. */
static void rc_clause_list(rc_parser *p, json_t *a, rc_clauses *out, const char *shown) {
  if (!json_is_array(a)) {
    rc_problem(p, shown, "must be an array of clauses (templates or {\"if\", \"text\"})");
    return;
  }
  if (!(out->v = calloc(json_array_size(a) + 1, sizeof *out->v))) {
    p->nomem = 1;
    return;
  }
  size_t i;
  json_t *c;
  json_array_foreach(a, i, c) {
    char w[96];
    snprintf(w, sizeof w, "%s[%zu]", shown, i);
    rc_clause *cl = &out->v[out->n++];
    if (json_is_object(c)) {
      const char *k;
      json_t *x;
      json_object_foreach(c, k, x) if (strcmp(k, "if") != 0 && strcmp(k, "text") != 0) {
        char what[96];
        snprintf(what, sizeof what, "unknown key '%s' (a clause has \"if\" and \"text\")", k);
        rc_problem(p, w, what);
      }
      char wi[112];
      snprintf(wi, sizeof wi, "%s.if", w);
      rc_expr(p, c, "if", 0, &cl->when, wi);
      c = json_object_get(c, "text");
    }
    rc_tpl(p, c, &cl->text, w);
  }
}

static void rc_clauses_free(rc_clauses *cl) {
  for (int i = 0; i < cl->n; i++) {
    rx_free(&cl->v[i].when);
    rx_tpl_free(&cl->v[i].text);
  }
  free(cl->v);
  memset(cl, 0, sizeof *cl);
}

/* Unknown keys of o, besides those of the NULL-terminated list. */
static void rc_keys(rc_parser *p, json_t *o, const char *const *known, const char *shown) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    int ok = 0;
    for (int i = 0; known[i]; i++)
      ok |= strcmp(k, known[i]) == 0;
    if (!ok) {
      char what[96];
      snprintf(what, sizeof what, "unknown key '%s'", k);
      rc_problem(p, shown, what);
    }
  }
}

/* An array of non-empty strings (non-empty unless may_be_empty) into a
 * malloc'd list. */
static void rc_strings(rc_parser *p, json_t *a, const char ***out, int *n, const char *shown,
                       int may_be_empty) {
  if (!json_is_array(a) || (json_array_size(a) == 0 && !may_be_empty)) {
    rc_problem(p, shown, may_be_empty ? "must be an array of strings"
                                      : "must be a non-empty array of strings");
    return;
  }
  if (!(*out = calloc(json_array_size(a) + 1, sizeof **out))) {
    p->nomem = 1;
    return;
  }
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    if (!json_is_string(v) || !json_string_value(v)[0]) {
      rc_problem(p, shown, "must hold non-empty strings only");
      return;
    }
    (*out)[(*n)++] = json_string_value(v);
  }
}

/* Depth-first search for a fact that depends on itself. */
typedef struct {
  const rc_family *f;
  unsigned char *mark; /* 0 new, 1 on the path, 2 done */
  int cycle;           /* a fact on a cycle, or -1 */
} rc_dfs;

static void rc_visit(void *arg, int index);
static void rc_visit_fact(rc_dfs *d, int k) {
  if (d->mark[k] == 2 || d->cycle >= 0)
    return;
  if (d->mark[k] == 1) {
    d->cycle = k;
    return;
  }
  d->mark[k] = 1;
  rx_each_name(d->f->facts[k], rc_visit, d);
  d->mark[k] = 2;
}

static void rc_visit(void *arg, int index) {
  if (index >= RC_NBASE)
    rc_visit_fact(arg, index - RC_NBASE);
}

static void rc_facts(rc_parser *p, json_t *facts) {
  rc_family *f = p->f;
  if (!json_is_object(facts)) {
    rc_problem(p, "facts", "must be an object of named expressions");
    return;
  }
  size_t n = json_object_size(facts);
  if (!(f->fact_names = calloc(n + 1, sizeof *f->fact_names)) ||
      !(f->facts = calloc(n + 1, sizeof *f->facts))) {
    p->nomem = 1;
    return;
  }
  const char *k;
  json_t *v;
  json_object_foreach(facts, k, v) {
    if (rc_names(f, k, strlen(k)) >= 0) {
      char what[96];
      snprintf(what, sizeof what,
               "'%s' is already a name (node, rack_name, tenant, job, "
               "job_name, label or another fact)",
               k);
      rc_problem(p, "facts", what);
      continue;
    }
    if (!(f->fact_names[f->nfacts++] = strdup(k)))
      p->nomem = 1;
  }
  for (int i = 0; i < f->nfacts && !p->nomem; i++) {
    char shown[96];
    snprintf(shown, sizeof shown, "facts.%s", f->fact_names[i]);
    rc_expr(p, facts, f->fact_names[i], 0, &f->facts[i], shown);
  }
  if (p->bad || p->nomem)
    return;
  rc_dfs d = {f, calloc((size_t)f->nfacts + 1, 1), -1};
  if (!d.mark) {
    p->nomem = 1;
    return;
  }
  for (int i = 0; i < f->nfacts; i++)
    rc_visit_fact(&d, i);
  if (d.cycle >= 0) {
    char what[96];
    snprintf(what, sizeof what, "'%s' depends on itself", f->fact_names[d.cycle]);
    rc_problem(p, "facts", what);
  }
  free(d.mark);
}

static void rc_l2(rc_parser *p, json_t *l2) {
  static const char *const keys[] = {"scope", "tenant", "evidence", NULL};
  rc_family *f = p->f;
  if (!json_is_object(l2)) {
    rc_problem(p, "l2", "must be an object (scope, tenant, evidence)");
    return;
  }
  rc_keys(p, l2, keys, "l2");
  rc_strings(p, json_object_get(l2, "scope"), &f->l2_scopes, &f->nl2_scopes, "l2.scope", 0);
  for (int i = 0; i < f->nl2_scopes; i++) {
    int ok = 0;
    for (size_t s = 0; s < sizeof rc_scopes / sizeof rc_scopes[0]; s++)
      ok |= strcmp(f->l2_scopes[i], rc_scopes[s]) == 0;
    if (!ok)
      rc_problem(p, "l2.scope", "holds a scope that is not gpu, node, rack, job or cluster");
  }
  rc_tpl(p, json_object_get(l2, "tenant"), &f->l2_tenant, "l2.tenant");
  rc_clause_list(p, json_object_get(l2, "evidence"), &f->l2_evidence, "l2.evidence");
}

static void rc_l3(rc_parser *p, json_t *l3) {
  static const char *const keys[] = {"when",
                                     "root_cause",
                                     "cross_tenant_impact",
                                     "affected_scope",
                                     "causal_chain",
                                     "recommended_actions",
                                     "tenant_types",
                                     "priority",
                                     "confidence",
                                     NULL};
  rc_family *f = p->f;
  if (!json_is_object(l3)) {
    rc_problem(p, "l3", "must be an object (the root-cause answer)");
    return;
  }
  rc_keys(p, l3, keys, "l3");
  rc_expr(p, l3, "when", 1, &f->l3_when, "l3.when");
  rc_clause_list(p, json_object_get(l3, "root_cause"), &f->root, "l3.root_cause");
  rc_clause_list(p, json_object_get(l3, "cross_tenant_impact"), &f->cross,
                 "l3.cross_tenant_impact");
  rc_clause_list(p, json_object_get(l3, "affected_scope"), &f->scope, "l3.affected_scope");
  rc_clause_list(p, json_object_get(l3, "causal_chain"), &f->chain, "l3.causal_chain");
  rc_clause_list(p, json_object_get(l3, "recommended_actions"), &f->actions,
                 "l3.recommended_actions");
  rc_expr(p, l3, "tenant_types", 0, &f->tenants, "l3.tenant_types");
  f->priority = json_string_value(json_object_get(l3, "priority"));
  if (!f->priority || strlen(f->priority) != 2 || f->priority[0] != 'P' || f->priority[1] < '1' ||
      f->priority[1] > '4')
    rc_problem(p, "l3.priority", "must be P1, P2, P3 or P4");
  json_t *conf = json_object_get(l3, "confidence");
  f->confidence = json_number_value(conf);
  if (!json_is_number(conf) || !(f->confidence >= 0 && f->confidence <= 1))
    rc_problem(p, "l3.confidence", "must be a number in [0, 1]");
}

/* "actions": [{"action", "target", "if"}, ...] (optional). */
static void rc_actions(rc_parser *p, json_t *a) {
  static const char *const keys[] = {"action", "target", "if", NULL};
  rc_family *f = p->f;
  if (!a)
    return;
  if (!json_is_array(a) || json_array_size(a) > LLM_ACTIONS_MAX) {
    rc_problem(p, "actions", "must be an array of at most 16 {\"action\", \"target\", \"if\"}");
    return;
  }
  if (!(f->acts = calloc(json_array_size(a) + 1, sizeof *f->acts))) {
    p->nomem = 1;
    return;
  }
  size_t i;
  json_t *o;
  json_array_foreach(a, i, o) {
    char w[64], wt[80], wi[80];
    snprintf(w, sizeof w, "actions[%zu]", i);
    snprintf(wt, sizeof wt, "%s.target", w);
    snprintf(wi, sizeof wi, "%s.if", w);
    rc_action *x = &f->acts[f->nacts++];
    if (!json_is_object(o)) {
      rc_problem(p, w, "must be an object {\"action\", \"target\", \"if\"}");
      continue;
    }
    rc_keys(p, o, keys, w);
    x->kind = act_by_name(json_string_value(json_object_get(o, "action")));
    if (x->kind == ACT_COUNT) {
      rc_problem(p, w, "\"action\" must name an action of src/model/actions.h (no_op, "
                       "drain_node, ...)");
      continue;
    }
    rc_expr(p, o, "if", 1, &x->when, wi);
    if (act_target_of((act_kind)x->kind) == ACT_TARGET_NONE) {
      if (json_object_get(o, "target"))
        rc_problem(p, wt, "no_op takes no target");
    } else {
      rc_expr(p, o, "target", 0, &x->target, wt);
    }
  }
}

static void rc_family_free(rc_family *f) {
  free(f->metrics);
  for (int i = 0; i < f->nfacts; i++) {
    free(f->fact_names[i]);
    rx_free(&f->facts[i]);
  }
  free(f->fact_names);
  free(f->facts);
  rx_free(&f->recognise);
  free(f->l2_scopes);
  rx_tpl_free(&f->l2_tenant);
  rc_clauses_free(&f->l2_evidence);
  rx_free(&f->l3_when);
  rc_clauses_free(&f->root);
  rc_clauses_free(&f->cross);
  rc_clauses_free(&f->scope);
  rc_clauses_free(&f->chain);
  rc_clauses_free(&f->actions);
  rx_free(&f->tenants);
  for (int i = 0; i < f->nacts; i++) {
    rx_free(&f->acts[i].when);
    rx_free(&f->acts[i].target);
  }
  free(f->acts);
}

static void rc_family_parse(rc_parser *p, json_t *o) {
  static const char *const keys[] = {"label", "metrics", "precedence", "facts",   "recognise",
                                     "l2",    "l3",      "l4_risk",    "actions", NULL};
  rc_family *f = p->f;
  if (!json_is_object(o)) {
    rc_problem(p, "reasoning", "must be an object");
    return;
  }
  rc_keys(p, o, keys, "reasoning");
  f->label = json_string_value(json_object_get(o, "label"));
  if (!f->label || !f->label[0])
    rc_problem(p, "label", "must be a non-empty string");
  rc_strings(p, json_object_get(o, "metrics"), &f->metrics, &f->nmetrics, "metrics", 1);
  json_t *prec = json_object_get(o, "precedence");
  f->precedence = json_number_value(prec);
  if (!json_is_number(prec))
    rc_problem(p, "precedence", "must be a number (lower: recognised first)");
  json_t *risk = json_object_get(o, "l4_risk");
  f->l4_risk = json_string_value(risk);
  if (risk && (!f->l4_risk || !f->l4_risk[0]))
    rc_problem(p, "l4_risk", "must be a non-empty string");
  rc_facts(p, json_object_get(o, "facts"));
  if (p->nomem)
    return;
  rc_expr(p, o, "recognise", 0, &f->recognise, "recognise");
  rc_l2(p, json_object_get(o, "l2"));
  rc_l3(p, json_object_get(o, "l3"));
  rc_actions(p, json_object_get(o, "actions"));
}

void rc_destroy(rc_catalogue **cp) {
  if (!cp || !*cp)
    return;
  for (int i = 0; i < (*cp)->n; i++)
    rc_family_free(&(*cp)->f[i]);
  free((*cp)->f);
  json_decref((*cp)->root);
  free(*cp);
  *cp = NULL;
}

int rc_parse(rc_catalogue **out, const char *text, const char *source) {
  *out = NULL;
  json_error_t err;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
  if (!json_is_array(root) || json_array_size(root) > RC_MAX_FAMILIES) {
    if (!root)
      diag_addf("%s: line %d: %s", source, err.line, err.text);
    else
      diag_addf("%s: expected an array of 0 to %d families", source, RC_MAX_FAMILIES);
    json_decref(root);
    return FS_EINVAL;
  }
  rc_catalogue *c = calloc(1, sizeof *c);
  /* no family (no kind has reasoning): every answer is the generic one */
  if (!c || !(c->f = calloc(json_array_size(root) + 1, sizeof *c->f))) {
    free(c);
    json_decref(root);
    return FS_ENOMEM;
  }
  c->root = root;
  int bad = 0, nomem = 0;
  for (size_t i = 0; i < json_array_size(root) && !nomem; i++) {
    json_t *o = json_array_get(root, i);
    rc_parser p = {source, "", &c->f[c->n++], 0, 0};
    const char *label = json_string_value(json_object_get(o, "label"));
    snprintf(p.where, sizeof p.where, "%s: family %zu ('%s')", source, i + 1,
             label ? label : "no label");
    rc_family_parse(&p, o);
    bad += p.bad;
    nomem |= p.nomem;
  }
  for (int i = 0; i < c->n && !bad; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(c->f[i].label, c->f[j].label) == 0) {
        diag_addf("%s: families %d and %d have the same label '%s'", source, j + 1, i + 1,
                  c->f[i].label);
        bad++;
      }
  if (bad || nomem) {
    rc_destroy(&c);
    return nomem ? FS_ENOMEM : FS_EINVAL;
  }
  /* precedence order, ties in catalogue order */
  for (int i = 0; i < c->n; i++) {
    int j = i;
    while (j > 0 && c->f[c->order[j - 1]].precedence > c->f[i].precedence) {
      c->order[j] = c->order[j - 1];
      j--;
    }
    c->order[j] = i;
  }
  *out = c;
  return 0;
}

const rc_catalogue *rules_catalogue(void) {
  static rc_catalogue *c; /* parsed once, kept for the process */
  if (!c)
    rc_parse(&c, rules_catalogue_text(),
             "built-in rules catalogue (the \"reasoning\" of scenarios/kinds/KIND.json)");
  return c;
}

/* ---- evaluation ------------------------------------------------------------------ */

int rc_family_of_metric(const rc_catalogue *c, const char *metric) {
  for (int f = 0; metric && f < c->n; f++)
    for (int i = 0; i < c->f[f].nmetrics; i++)
      if (strstr(metric, c->f[f].metrics[i]))
        return f;
  return -1;
}

/* Strongest |z| of the event's trigger and co-occurring signals whose
 * metric speaks for family f. */
static double rc_family_z(const rc_catalogue *c, const json_t *ev, int f) {
  double best = 0;
  const json_t *co = json_object_get(ev, "cooccurring");
  for (size_t i = 0; i <= json_array_size(co); i++) {
    const json_t *s = i == 0 ? json_object_get(ev, "trigger") : json_array_get(co, i - 1);
    double z = rx_num(json_object_get(s, "z"));
    if (s && rc_family_of_metric(c, rx_str(json_object_get(s, "metric"))) == f && isfinite(z) &&
        fabs(z) > best)
      best = fabs(z);
  }
  return best;
}

static const json_t *rc_name_value(rx_env *env, int i) {
  rc_eval *e = env->user;
  if (i < RC_NBASE)
    return e->base[i];
  int k = i - RC_NBASE;
  if (e->state[k] == 0) { /* facts form no cycle (rc_parse refuses one) */
    e->state[k] = 1;
    e->fact[k] = rx_eval(e->c->f[e->family].facts[k], env);
    e->state[k] = 2;
  }
  return e->state[k] == 2 ? e->fact[k] : NULL;
}

/* A string of the arena: the context's own when it has one, else text. */
static const json_t *rc_text(rx_env *env, const json_t *own, const char *text) {
  if (json_is_string(own) && json_string_length(own) > 0)
    return own;
  json_t *s = json_string(text);
  return s && json_array_append_new(env->arena, s) == 0 ? s : NULL;
}

int rc_eval_init(rc_eval *e, const rc_catalogue *c, int f, const json_t *ctx) {
  memset(e, 0, sizeof *e);
  const rc_family *fam = &c->f[f];
  const json_t *ev = json_object_get(ctx, "event");
  e->c = c;
  e->family = f;
  e->env.ctx = ctx;
  e->env.arena = json_array();
  e->env.name = rc_name_value;
  e->env.user = e;
  e->env.family_z = rc_family_z(c, ev, f);
  e->fact = calloc((size_t)fam->nfacts + 1, sizeof *e->fact);
  e->state = calloc((size_t)fam->nfacts + 1, 1);
  if (!e->env.arena || !e->fact || !e->state) {
    rc_eval_free(e);
    return FS_ENOMEM;
  }
  const json_t *job = json_object_get(json_object_get(ctx, "tenant_context"), "job");
  const json_t *tenant = json_object_get(ev, "tenant");
  e->base[0] = rc_text(&e->env, json_object_get(ev, "node"), "the node");
  e->base[1] = rc_text(&e->env, json_object_get(ev, "rack"), "the rack");
  e->base[2] = rc_text(&e->env, tenant, json_is_string(tenant) ? json_string_value(tenant) : "");
  e->base[3] = json_is_object(job) ? job : NULL;
  e->base[4] = rc_text(&e->env, json_is_object(job) ? json_object_get(job, "id") : NULL, "");
  e->base[5] = rc_text(&e->env, NULL, fam->label);
  return 0;
}

void rc_eval_free(rc_eval *e) {
  json_decref(e->env.arena);
  free(e->fact);
  free(e->state);
  memset(e, 0, sizeof *e);
}

int rc_recognise(const rc_catalogue *c, const json_t *ctx) {
  const json_t *trig = json_object_get(json_object_get(ctx, "event"), "trigger");
  int own = rc_family_of_metric(c, rx_str(json_object_get(trig, "metric")));
  if (own >= 0 && fabs(rx_num(json_object_get(trig, "z"))) > 3)
    return own;
  for (int i = 0; i < c->n; i++) {
    rc_eval e;
    int f = c->order[i], yes = 0;
    if (rc_eval_init(&e, c, f, ctx) == 0) {
      yes = rx_truthy(rx_eval(c->f[f].recognise, &e.env));
      rc_eval_free(&e);
    }
    if (yes)
      return f;
  }
  return -1;
}

void rc_clauses_text(const rc_clauses *cl, rc_eval *e, strbuf *b) {
  for (int i = 0; i < cl->n; i++)
    if (!cl->v[i].when || rx_truthy(rx_eval(cl->v[i].when, &e->env)))
      rx_tpl_render(cl->v[i].text, &e->env, b);
}

void rc_clauses_list(const rc_clauses *cl, rc_eval *e, json_t *arr) {
  for (int i = 0; i < cl->n; i++)
    if (!cl->v[i].when || rx_truthy(rx_eval(cl->v[i].when, &e->env))) {
      strbuf b = {0};
      rx_tpl_render(cl->v[i].text, &e->env, &b);
      char *s = sb_take(&b);
      if (s)
        json_array_append_new(arr, json_string(s));
      free(s);
    }
}

void rc_actions_list(rc_eval *e, json_t *arr) {
  const rc_family *fam = &e->c->f[e->family];
  for (int i = 0; i < fam->nacts; i++) {
    const rc_action *x = &fam->acts[i];
    if (x->when && !rx_truthy(rx_eval(x->when, &e->env)))
      continue;
    const char *target = x->target ? rx_str(rx_eval(x->target, &e->env)) : "";
    if (llm_action_target_ok(x->kind, target))
      json_array_append_new(arr, json_pack("{s:s,s:s}", "action", act_name((act_kind)x->kind),
                                           "target", target));
  }
}
