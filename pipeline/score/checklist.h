/* Ground-truth checklists and the scorer's knowledge of each fault kind
 * (the benchmark's "Scoring Methodology"): the checklists document loaded and
 * validated, its patterns compiled with the scenario's ground-truth names
 * substituted, and one answer scored the benchmark's way (its regex score;
 * pipeline/score/strict_score.h scores the same items strictly).
 * Scorer side only: nothing here feeds back into detection or into what a
 * backend is asked.
 *
 * Document layout (version 2): {"kinds": {KIND: {knowledge..., "L2": [items],
 * "L3": [items], "L4": [items], "oracle": {...}} for every scenario kind},
 * "none": {"L2": [items], "L3": [items]}, "shift": {"L4": [items]}}. The
 * built-in one (chk_default_text) is scenarios/checklists.json ("none",
 * "shift") with each kind's scenarios/kinds/<kind>.json under "kinds" (its
 * "reasoning", the rules backend's, left out). A kind's knowledge:
 *   "family"            regexes that name this fault family as a cause
 *   "compatible"        kinds whose family may be named beside it
 *   "signature_metrics" the metrics the fault moves (archive names), the most
 *                       specific first: an L1 event is about the fault only
 *                       if it triggers on one
 *   "entity"            what localizes it: "rack", "node", "gpu", "hot_gpu"
 *                       or null
 *   "l2_scopes"         L2 scopes that describe it (gpu node rack job cluster)
 *   "slow_burn"         optional true: a risk to name before it fails
 *   "about"             optional: what the file is, for its reader
 *   "oracle"            the calibration oracle's own wording of the fault
 *                       (chk_oracle below)
 *   "remedy"            optional here (every built-in kind has one): the
 *                       actions that mitigate it (pipeline/score/remedy.h)
 * An item is {"id", "text", "patterns": [regex, ...]} plus, in L2 lists,
 * "field": classification | scope | tenant_type | rationale, and optionally:
 *   "benchmark": false  strict-only (left out of the benchmark's regex score)
 *   "gate": true        strict: unmet, the whole answer scores 0
 *   "fields": [...]     strict, L3: the answer fields it is matched within
 *                       (root_cause, affected_scope, tenant_types,
 *                       cross_tenant_impact, causal_chain,
 *                       recommended_actions, priority)
 *   "order": {"first": [re], "then": [re], "patterns": [re]}  strict: a
 *                       positive "first" mention before a positive "then"
 *                       one in the fields, or one of "patterns" in one value
 *   "check": a ground-truth test in place of (or with) the patterns; per
 *            layer: L2 scope, tenant, family; L3 entity, entity_job,
 *            lot, tenants, cross_tenant, no_family, absent; L4 incident, incident_place,
 *            sla_figures, jobs_health, risks, recommendations (see
 *            strict_score.h).
 * Patterns are POSIX extended regexes compiled REG_EXTENDED | REG_ICASE; an
 * item's regex score is met when any pattern matches. The placeholders
 * {node}, {rack}, {job} and {tenant} are replaced before compiling (see
 * chk_subst); any other "{letters}" is an error, "{0,200}" an interval.
 *
 * What a pattern is matched against in the regex score:
 *   L2  the named field of the parsed answer (llm_answer_parse); an answer
 *       that does not parse scores 0 with every item unmatched and the reason
 *       in chk_result.note.
 *   L3  the string and number values of the answer's JSON object, one per
 *       line, so field names ("cross_tenant_impact") never earn an item; the
 *       raw text when it holds no JSON object (noted).
 *   L4  the markdown as written. */
#ifndef FLEETSIM_CHECKLIST_H
#define FLEETSIM_CHECKLIST_H
#include <regex.h>

enum { CHK_ITEM_LEN = 64, CHK_NOTE_LEN = 160 };

typedef struct chk_set chk_set;   /* a validated checklists file */
typedef struct chk_list chk_list; /* one compiled list of items */

/* Parses and validates checklist text; source names it in messages. Every
 * problem is added to diag naming the source, kind, layer, item and pattern,
 * e.g. "checklists.json: kind 'thermal_cascade' L3 item 'rack_scope'
 * pattern 2 '(rack': regcomp: Unmatched ( or \\(". Checks: every scenario
 * kind present with non-empty L2, L3 and L4 lists and its knowledge (family
 * regexes, known compatible kinds, signature metrics of the metric
 * catalogue, entity, L2 scopes), "none" L2 and L3 and "shift" L4 present, no
 * unknown kind or key, unique non-empty ids, non-empty text, a "field" on
 * exactly the L2 items, "fields" on every L3 item, a check known for the
 * layer, patterns where the check reads them, an order with both parts,
 * every pattern compiles (placeholders filled with sample names) and does
 * not match empty text. 0, FS_EINVAL or FS_ENOMEM. */
int chk_parse(chk_set **out, const char *text, const char *source);

/* chk_parse on a file's contents. 0, FS_EIO (path in diag), FS_EINVAL or
 * FS_ENOMEM. */
int chk_load(chk_set **out, const char *path);

/* The built-in document (see the layout above), assembled once from the
 * compiled-in scenarios/checklists.json and scenarios/kinds/<kind>.json;
 * NULL (the reason in diag) when they do not fit together, which is a
 * build's bug. */
const char *chk_default_text(void);

/* 1 when the built-in scenarios/kinds/<kind>.json of kind k has a
 * "reasoning" object, i.e. the rules reference has a rule for the kind; 0
 * when it has none (or k is out of range). The calibration report judges
 * the rules reference only on runs whose scenarios all have one. */
int chk_kind_has_rules(int k);

/* Frees a set; accepts NULL and clears the pointer. */
void chk_destroy(chk_set **set);

/* Placeholder values as regex fragments, normally an alternation of names
 * such as "(rack-03|rack-04)"; NULL where the ground truth has none. A
 * pattern that uses a NULL placeholder is left out (it can never match);
 * the item still counts. */
typedef struct {
  const char *node, *rack, *job, *tenant;
} chk_subst;

/* Compiles the list of `group` ("thermal_cascade" ... or "none" or "shift")
 * at layer 2, 3 or 4 with the substitutions sub (NULL: all absent).
 * 0, FS_EINVAL (no such list, or a pattern that fails after substitution;
 * reason in diag) or FS_ENOMEM. */
int chk_compile(chk_list **out, const chk_set *set, const char *group, int layer,
                const chk_subst *sub);

/* Frees a compiled list; accepts NULL and clears the pointer. */
void chk_list_destroy(chk_list **l);

/* Items in a list, and an item's id and the benchmark's wording (0 <= i < count). */
int chk_list_count(const chk_list *l);
const char *chk_list_item_id(const chk_list *l, int i);
const char *chk_list_item_text(const chk_list *l, int i);

/* The fields of an L2 answer an item can name (chk_item.field indexes it). */
enum { CHK_L2_NFIELDS = 4 };
extern const char *const chk_l2_fields[CHK_L2_NFIELDS];

/* The answer fields of an L3 answer, as bits of chk_item.fields. */
enum {
  CHK_F_ROOT_CAUSE = 1,
  CHK_F_AFFECTED_SCOPE = 2,
  CHK_F_TENANT_TYPES = 4,
  CHK_F_CROSS_TENANT = 8,
  CHK_F_CAUSAL_CHAIN = 16,
  CHK_F_ACTIONS = 32,
  CHK_F_PRIORITY = 64,
  CHK_L3_NFIELDS = 7
};
/* Field names in bit order ("root_cause", ... "priority"). */
extern const char *const chk_l3_fields[CHK_L3_NFIELDS];

/* X(ENUM, "name") of the strict checks ("" for plain patterns). */
#define CHK_CHECKS(X)                                                                         \
  X(CHK_PATTERNS, "") X(CHK_SCOPE, "scope") X(CHK_TENANT, "tenant")                           \
  X(CHK_FAMILY, "family") X(CHK_ENTITY, "entity") X(CHK_ENTITY_JOB, "entity_job")     \
  X(CHK_LOT, "lot") X(CHK_TENANTS, "tenants") X(CHK_CROSS_TENANT, "cross_tenant")         \
  X(CHK_NO_FAMILY, "no_family")                    \
  X(CHK_ABSENT, "absent") X(CHK_INCIDENT, "incident") X(CHK_INCIDENT_PLACE, "incident_place") \
  X(CHK_SLA_FIGURES, "sla_figures") X(CHK_JOBS_HEALTH, "jobs_health") X(CHK_RISKS, "risks")  \
  X(CHK_RECOMMENDATIONS, "recommendations")
#define CHK_CHECK_ENUM(e, s) e,
typedef enum { CHK_CHECKS(CHK_CHECK_ENUM) CHK_CHECK_COUNT } chk_check;
#undef CHK_CHECK_ENUM

/* One compiled item, read-only for the strict scorer. */
typedef struct {
  const char *id, *text; /* borrowed from the set's JSON */
  int benchmark;         /* 1: part of the benchmark's regex score */
  int gate;              /* strict: unmet, the answer scores 0 */
  int field;             /* L2: index of classification/scope/tenant_type/rationale; else -1 */
  unsigned fields;       /* L3: CHK_F_* bits the item is matched within */
  chk_check check;
  regex_t *re;           /* [nre] patterns, placeholders filled, with match offsets */
  int nre;
  regex_t *first, *then, *direct; /* order: [nfirst], [nthen], [ndirect] */
  int nfirst, nthen, ndirect;
} chk_item;

/* Item i of a list (0 <= i < chk_list_count), or NULL. */
const chk_item *chk_list_item(const chk_list *l, int i);

/* What localizes a fault of a kind. */
typedef enum { CHK_ENTITY_NONE, CHK_ENTITY_RACK, CHK_ENTITY_NODE, CHK_ENTITY_GPU,
               CHK_ENTITY_HOT_GPU } chk_entity;

/* The calibration oracle's own wording of a kind, its "oracle" object:
 * strings in which {place} (the fault's rack, node or GPU, else `place`),
 * {hot} ("GPUs 2 and 5"), {job} and {lot} stand for the scenario's. */
typedef struct {
  const char *phrase;     /* names the fault in a shift report line */
  const char *why;        /* L2 rationale */
  const char *place;      /* where it is when its entity does not say; NULL otherwise */
  const char *root_cause, *cross_tenant_impact, *affected_scope; /* L3 */
  const char **causal_chain, **recommended_actions;             /* L3, borrowed */
  int nchain, nactions;
} chk_oracle;

/* The scorer's knowledge of one fault kind (see the file layout above). */
typedef struct {
  regex_t *family; /* [nfamily], with match offsets */
  int nfamily;
  unsigned compatible;       /* bit per scn_kind */
  const char **signature;    /* [nsignature] metric names, borrowed */
  int nsignature;
  chk_entity entity;
  unsigned l2_scopes;        /* bit per ev_scope */
  int slow_burn;
  chk_oracle oracle;
} chk_kind_info;

/* The knowledge of kind k (a scn_kind), or NULL when k is out of range. */
const chk_kind_info *chk_kind(const chk_set *set, int k);

/* 1 when metric is one of kind k's signature metrics. */
int chk_is_signature(const chk_set *set, int k, const char *metric);

/* Position of metric in kind k's signature metrics (listed from the most to
 * the least specific), or -1 when it is not one. */
int chk_signature_rank(const chk_set *set, int k, const char *metric);

typedef struct {
  char item[CHK_ITEM_LEN]; /* item id, "PREFIX/id" when the list had a prefix */
  int matched;
} chk_item_result;

typedef struct {
  chk_item_result *items; /* [nitems] in list order (owned) */
  int nitems, nmatched;
  double score;             /* nmatched / nitems, 0 when there are no items */
  char note[CHK_NOTE_LEN];  /* "" or why the answer was not read as asked */
} chk_result;

/* The benchmark's regex score: one answer of `layer` (2, 3 or 4) against the
 * items of lists[0..n) that are part of it ("benchmark" not false), in order; prefixes (NULL, or one per list, each NULL or e.g. "S1") name
 * where an item came from. text NULL or empty (a failed call) matches
 * nothing, note "no answer". All lists must have been compiled for this
 * layer. Fills *out (free it with chk_result_free). 0, FS_EINVAL or
 * FS_ENOMEM. Example:
 *   chk_result r;
 *   if (chk_score(&r, &list, NULL, 1, 3, answer) == 0) { use(r.score); chk_result_free(&r); } */
int chk_score(chk_result *out, const chk_list *const *lists, const char *const *prefixes, int n,
              int layer, const char *text);

/* Frees the items of a result and zeroes it; accepts NULL. */
void chk_result_free(chk_result *r);

#endif
