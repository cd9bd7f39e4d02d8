/* The small expression language of the rules backend's reasoning catalogue
 * (pipeline/llm/rules_catalogue.h): expressions over one context's JSON,
 * compiled once and evaluated per call, and text templates whose {name:fmt}
 * placeholders print them. Generic: it knows JSON, numbers and the shapes a
 * context has (series, tables, arrays of objects), nothing of any fault.
 *
 * Values are JSON values (NULL: absent; a number that is not finite is
 * absent). Syntax, loosest first:
 *   c ? a : b     a || b     a && b     a == b  a != b  a < b  a <= b  a > b  a >= b
 *   a + b  a - b  (+ joins text when either side is a string)   a * b  a / b
 *   !a  -a        x.member  x[index]  f(args)  (expr)
 *   42  0.15  'text'  null  true  false  @ (the context)  @event.trigger.z
 *   name          a fact of the catalogue, or a name the caller defines
 * Comparisons of numbers are false when either is absent; == compares text
 * as text (absent as ""), numbers by value. Truth: absent, false, 0, "" and
 * empty arrays are false. Functions:
 *   finite(x) exists(x) is_int(x) is_str(x) abs(x) len(a) last(a)
 *   numbers(a)           the numbers of a, in order
 *   min(a) max(a)        over the numbers of a (absent when none)
 *   argmin(a) argmax(a)  index of the first smallest/largest number, -1 if none
 *   series(m) peer_series(m)  the context timeline's node values (peer
 *                        medians) of metric m: {"v": [...], "minute": [...]}
 *   now_index(s)         index of the value at or just before minute 0, else the last
 *   rows(t)              a {"columns", "rows"} table as an array of objects
 *   field(a, k)          [x.k for x in a]
 *   where(a, k, v) where_not(a, k, v)   the elements whose x.k == v (!= v)
 *   top(a, k, i)         the element of a with the (i+1)-th largest finite x.k
 *   rest(a, k, n)        the elements with a finite x.k, less the top n
 *   unique(x, ...)       the distinct non-empty strings of its arguments and arrays
 *   join(a, 'tpl', sep)  each element through template tpl ({member}), joined
 *   after(s, c)          the text after the last c in s ("" when none)
 *   family_z()           the caller's number for it (the family's strongest |z|)
 * A template is text with placeholders {x} or {x:fmt}, x a name or @path
 * with members, fmt one of s (default: text; "" when not text), d (an
 * integer; 0 when not one), or .Nf .Ng .Ne as in printf for a number
 * (absent prints "nan"). */
#ifndef FLEETSIM_RULES_EXPR_H
#define FLEETSIM_RULES_EXPR_H
#include <jansson.h>
#include <stddef.h>

#include "src/core/strbuf.h"

typedef struct rx_node rx_node; /* a compiled expression */
typedef struct rx_tpl rx_tpl;   /* a compiled template */

/* Index of a name the expression may use (>= 0), or -1 when unknown. */
typedef int (*rx_names)(void *arg, const char *name, size_t len);

/* Evaluation over one context. The caller fills ctx, arena (a JSON array
 * that owns the values computed; it frees it afterwards), name (the value of
 * name index i), user and family_z. */
typedef struct rx_env {
  const json_t *ctx;
  json_t *arena;
  const json_t *(*name)(struct rx_env *env, int index);
  void *user;
  double family_z;
  const json_t *elem; /* join's current element */
} rx_env;

/* Compiles expression text; names are resolved through names(arg, ...).
 * 0, or FS_EINVAL with the reason (and where) in err; FS_ENOMEM. */
int rx_compile(rx_node **out, const char *text, rx_names names, void *arg, char *err,
               size_t errlen);

/* Compiles a template; its placeholders are resolved like rx_compile's. */
int rx_tpl_compile(rx_tpl **out, const char *text, rx_names names, void *arg, char *err,
                   size_t errlen);

/* Frees; accept NULL and clear the pointer. */
void rx_free(rx_node **n);
void rx_tpl_free(rx_tpl **t);

/* Calls fn(arg, index) for every name index n refers to (facts depend on
 * them). */
void rx_each_name(const rx_node *n, void (*fn)(void *arg, int index), void *arg);
void rx_tpl_each_name(const rx_tpl *t, void (*fn)(void *arg, int index), void *arg);

/* The value of n (NULL: absent), borrowed from the context or the arena. */
const json_t *rx_eval(const rx_node *n, rx_env *env);

/* Appends the template's text to b. */
void rx_tpl_render(const rx_tpl *t, rx_env *env, strbuf *b);

/* A value as truth, number (NAN when not one) and text ("" when not one). */
int rx_truthy(const json_t *v);
double rx_num(const json_t *v);
const char *rx_str(const json_t *v);

#endif
