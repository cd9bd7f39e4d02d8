/* The rules backend's catalogue of failure patterns: what it knows about each
 * fault family, like an LLM's training, as data compiled into the binary
 * (the "reasoning" object of every scenarios/kinds/<kind>.json, gathered by
 * CMakeLists.txt into one array). The backend reads this catalogue and the
 * context it is given, never a scenario, a kind or a scenario file. One
 * family (all keys but l4_risk and l3.when required):
 *   "label"      the phrase that names it; an L3 root cause starts with it
 *   "metrics"    parts of metric names that speak for it alone
 *                ("inlet_temp"; may be empty); a metric belongs to the first
 *                family (in catalogue order) with a part of its name
 *   "precedence" recognition order: the family with the lowest number whose
 *                "recognise" holds is the one an event is about (ties: the
 *                catalogue order), unless the trigger's own metric speaks for
 *                a family with |z| > 3
 *   "facts"      {"name": "expression", ...} (pipeline/llm/rules_expr.h),
 *                evaluated when used; besides them every expression may use
 *                node, rack_name (the event's, or "the node"/"the rack"),
 *                tenant (the event's), job (tenant_context.job), job_name and
 *                label
 *   "recognise"  an expression: the context shows this family
 *   "l2"         {"scope": [scopes: the event's when listed, else the
 *                first], "tenant": template, "evidence": clauses (why it is
 *                real when nothing else corroborates it)}
 *   "l3"         {"when": expression (else the generic answer), "root_cause",
 *                "cross_tenant_impact", "affected_scope": clauses joined into
 *                one text (root_cause after the label), "causal_chain",
 *                "recommended_actions": clauses, one item each,
 *                "tenant_types": expression (an array of strings),
 *                "priority": "P1".."P4", "confidence": number}
 *   "l4_risk"    optional: a slow burn; the shift report names it as an
 *                emerging risk with this text while it is active
 *   "actions"    optional: what its L3 answer asks the fleet to do (the
 *                answer's `actions`, pipeline/llm/llm_schema.h), in order:
 *                [{"action": a name of src/model/actions.h, "target":
 *                expression (a string naming the entity: rack_name, job_name,
 *                a fact; not for no_op), "if": optional expression}, ...];
 *                an action whose condition fails, or whose target is not a
 *                string of the action's form (an entity the context does not
 *                give), is left out
 * A clause is a template, or {"if": expression, "text": template}. Every
 * number and entity a template prints must come from the context. */
#ifndef FLEETSIM_RULES_CATALOGUE_H
#define FLEETSIM_RULES_CATALOGUE_H
#include <jansson.h>

#include "pipeline/llm/rules_expr.h"
#include "src/core/strbuf.h"

enum { RC_MAX_FAMILIES = 32 };

typedef struct {
  rx_node *when; /* NULL: always */
  rx_tpl *text;
} rc_clause;

typedef struct {
  rc_clause *v;
  int n;
} rc_clauses;

/* One action of a family's answer. */
typedef struct {
  int kind;        /* act_kind */
  rx_node *when;   /* NULL: always */
  rx_node *target; /* NULL for no_op */
} rc_action;

typedef struct {
  const char *label;
  const char **metrics; /* [nmetrics] name parts */
  int nmetrics;
  double precedence;
  char **fact_names; /* [nfacts] */
  rx_node **facts;
  int nfacts;
  rx_node *recognise;
  const char **l2_scopes; /* [nl2_scopes] */
  int nl2_scopes;
  rx_tpl *l2_tenant;
  rc_clauses l2_evidence;
  rx_node *l3_when;
  rc_clauses root, cross, scope, chain, actions;
  rx_node *tenants;
  const char *priority;
  double confidence;
  const char *l4_risk; /* NULL: not a slow burn */
  rc_action *acts;     /* [nacts] */
  int nacts;
} rc_family;

typedef struct {
  json_t *root; /* the parsed catalogue; the strings above live in it */
  rc_family *f; /* [n], in catalogue order */
  int n;
  int order[RC_MAX_FAMILIES]; /* family indexes by precedence */
} rc_catalogue;

/* Parses and compiles catalogue text (a JSON array of 0 to RC_MAX_FAMILIES
 * families: a kind's JSON may leave its "reasoning" out, and an event of a
 * kind without one gets the generic answer of rules_diagnose.h); source
 * names it in messages, which go to diag naming the family (its position
 * and label), the key and the problem. 0, FS_EINVAL or FS_ENOMEM. */
int rc_parse(rc_catalogue **out, const char *text, const char *source);

/* Frees; accepts NULL and clears the pointer. */
void rc_destroy(rc_catalogue **c);

/* The built-in catalogue, parsed once; NULL (the reason in diag) when it
 * does not compile, which is a build's bug. */
const rc_catalogue *rules_catalogue(void);

/* The family a metric speaks for, or -1 when it is only a symptom. */
int rc_family_of_metric(const rc_catalogue *c, const char *metric);

/* The family the evidence of an L2 or L3 context points to, or -1. */
int rc_recognise(const rc_catalogue *c, const json_t *ctx);

/* One family's reasoning over one context: its facts evaluated on demand,
 * once. */
typedef struct {
  rx_env env;
  const rc_catalogue *c;
  int family;
  const json_t *base[6]; /* node, rack_name, tenant, job, job_name, label */
  const json_t **fact;   /* [nfacts] values once evaluated */
  unsigned char *state;  /* [nfacts] 0 not yet, 1 evaluating, 2 done */
} rc_eval;

/* Starts evaluating family f over ctx. 0 or FS_ENOMEM. */
int rc_eval_init(rc_eval *e, const rc_catalogue *c, int f, const json_t *ctx);

/* Frees what rc_eval_init and the evaluation allocated. */
void rc_eval_free(rc_eval *e);

/* Appends the text of every clause whose condition holds. */
void rc_clauses_text(const rc_clauses *cl, rc_eval *e, strbuf *b);

/* Appends one string per clause whose condition holds to arr. */
void rc_clauses_list(const rc_clauses *cl, rc_eval *e, json_t *arr);

/* Appends {"action": name, "target": entity} to arr for every action of the
 * family being evaluated whose condition holds and whose target evaluates
 * to a string of the action's form ("" for no_op). */
void rc_actions_list(rc_eval *e, json_t *arr);

#endif
