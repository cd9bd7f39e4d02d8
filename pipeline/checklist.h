/* Ground-truth checklists (seed "Scoring Methodology"): scenarios/
 * checklists.json loaded and validated, its patterns compiled with the
 * scenario's ground-truth names substituted, and one answer scored as the
 * share of items matched. Scorer side only: nothing here feeds back into
 * detection or into what a backend is asked.
 *
 * File layout: {"kinds": {KIND: {"L2": [items], "L3": [items], "L4": [items]}
 * for every scenario kind}, "none": {"L2": [items]}, "shift": {"L4": [items]}}.
 * An item is {"id", "text", "patterns": [regex, ...]} plus, in L2 lists only,
 * "field": classification | scope | tenant_type | rationale. Patterns are
 * POSIX extended regexes compiled REG_EXTENDED | REG_ICASE | REG_NOSUB; an
 * item is matched when any of its patterns matches. The placeholders {node},
 * {rack}, {job} and {tenant} are replaced before compiling (see chk_subst);
 * any other "{letters}" is an error, "{0,200}" stays an interval.
 *
 * What a pattern is matched against:
 *   L2  the named field of the parsed answer (llm_answer_parse); an answer
 *       that does not parse scores 0 with every item unmatched and the reason
 *       in chk_result.note.
 *   L3  the string and number values of the answer's JSON object, one per
 *       line, so field names ("cross_tenant_impact") never earn an item; the
 *       raw text when it holds no JSON object (noted).
 *   L4  the markdown as written. */
#ifndef FLEETSIM_CHECKLIST_H
#define FLEETSIM_CHECKLIST_H

enum { CHK_ITEM_LEN = 64, CHK_NOTE_LEN = 160 };

typedef struct chk_set chk_set;   /* a validated checklists file */
typedef struct chk_list chk_list; /* one compiled list of items */

/* Path of the checklists file in the source tree
 * (FLEETSIM_SOURCE_DIR "/scenarios/checklists.json"). */
const char *chk_default_path(void);

/* Parses and validates checklist text; source names it in messages. Every
 * problem is added to diag naming the source, kind, layer, item and pattern,
 * e.g. "checklists.json: kind 'thermal_cascade' L3 item 'rack_scope'
 * pattern 2 '(rack': regcomp: Unmatched ( or \\(". Checks: every scenario
 * kind present with non-empty L2, L3 and L4 lists, "none" L2 and "shift" L4
 * present, no unknown kind, unique non-empty ids, non-empty text, a "field"
 * on exactly the L2 items, every pattern compiles (placeholders filled with
 * sample names) and does not match empty text. 0, FS_EINVAL or FS_ENOMEM. */
int chk_parse(chk_set **out, const char *text, const char *source);

/* chk_parse on a file's contents. 0, FS_EIO (path in diag), FS_EINVAL or
 * FS_ENOMEM. */
int chk_load(chk_set **out, const char *path);

/* The built-in scenarios/checklists.json, compiled in. */
const char *chk_default_text(void);

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

/* Items in a list, and an item's id and seed wording (0 <= i < count). */
int chk_list_count(const chk_list *l);
const char *chk_list_item_id(const chk_list *l, int i);
const char *chk_list_item_text(const chk_list *l, int i);

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

/* Scores one answer of `layer` (2, 3 or 4) against the items of lists[0..n)
 * in order; prefixes (NULL, or one per list, each NULL or e.g. "S1") name
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
