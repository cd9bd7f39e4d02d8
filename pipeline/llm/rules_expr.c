/* The rules catalogue's expression language (see rules_expr.h): a
 * recursive-descent compiler to a small tree, its evaluator over a context's
 * JSON, and text templates. Knows nothing of any fault kind. */
#include "pipeline/llm/rules_expr.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/errors.h"

enum { RX_MAX_ARGS = 16, RX_SERIES_MAX = 32, RX_TOP_MAX = 8 };

typedef enum {
  RX_LIT,
  RX_CTX,
  RX_NAME,
  RX_ELEM,
  RX_MEMBER,
  RX_INDEX,
  RX_CALL,
  RX_NOT,
  RX_NEG,
  RX_OR,
  RX_AND,
  RX_EQ,
  RX_NE,
  RX_LT,
  RX_LE,
  RX_GT,
  RX_GE,
  RX_ADD,
  RX_SUB,
  RX_MUL,
  RX_DIV,
  RX_COND
} rx_op;

struct rx_node {
  rx_op op;
  json_t *lit;    /* RX_LIT (owned) */
  int index;      /* RX_NAME: the name; RX_CALL: the function */
  char *member;   /* RX_MEMBER */
  rx_node *a[3];  /* operands */
  rx_node **args; /* RX_CALL: [nargs] */
  int nargs;
  rx_tpl *tpl; /* join's template */
};

typedef struct {
  char *text;   /* literal text, or NULL for a placeholder */
  rx_node *x;   /* the placeholder's value */
  char fmt[16]; /* printf format of a number, "" for s and d */
  char conv;    /* 's', 'd' or 'n' (number through fmt) */
} rx_part;

struct rx_tpl {
  rx_part *parts;
  int n;
};

/* ---- values --------------------------------------------------------------- */

int rx_truthy(const json_t *v) {
  if (!v || json_is_null(v) || json_is_false(v))
    return 0;
  if (json_is_number(v))
    return json_number_value(v) != 0;
  if (json_is_string(v))
    return json_string_length(v) > 0;
  if (json_is_array(v))
    return json_array_size(v) > 0;
  if (json_is_object(v))
    return json_object_size(v) > 0;
  return 1;
}

double rx_num(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

const char *rx_str(const json_t *v) {
  const char *s = json_string_value(v);
  return s ? s : "";
}

/* v owned by the arena (NULL when v is). */
static const json_t *rx_keep(rx_env *e, json_t *v) {
  if (!v)
    return NULL;
  return json_array_append_new(e->arena, v) == 0 ? v : NULL;
}

static const json_t *rx_number(rx_env *e, double x) {
  return isfinite(x) ? rx_keep(e, json_real(x)) : NULL;
}

static const json_t *rx_bool(int b) { return b ? json_true() : json_false(); }

/* A JSON null is absent. */
static const json_t *rx_present(const json_t *v) { return json_is_null(v) ? NULL : v; }

static int rx_equal(const json_t *a, const json_t *b) {
  if (json_is_string(a) || json_is_string(b)) {
    if (json_is_number(a) || json_is_number(b))
      return 0;
    return strcmp(rx_str(a), rx_str(b)) == 0;
  }
  if (json_is_number(a) && json_is_number(b))
    return json_number_value(a) == json_number_value(b);
  if (!a || !b)
    return !a && !b;
  return json_equal((json_t *)a, (json_t *)b);
}

/* ---- functions ------------------------------------------------------------ */

typedef const json_t *(*rx_fn)(rx_env *e, const json_t **v, int n, const rx_node *call);

static const json_t *fn_finite(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  return rx_bool(isfinite(rx_num(v[0])));
}

static const json_t *fn_exists(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  return rx_bool(v[0] != NULL);
}

static const json_t *fn_is_int(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  return rx_bool(json_is_integer(v[0]));
}

static const json_t *fn_is_str(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  return rx_bool(json_is_string(v[0]));
}

static const json_t *fn_abs(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_number(e, fabs(rx_num(v[0])));
}

static const json_t *fn_len(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  size_t len = json_is_array(v[0]) ? json_array_size(v[0]) : json_object_size(v[0]);
  return rx_keep(e, json_integer((json_int_t)len));
}

static const json_t *fn_last(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  size_t len = json_array_size(v[0]);
  return len ? rx_present(json_array_get(v[0], len - 1)) : NULL;
}

/* Index of the first smallest (most = 0) or largest number of a, -1 if none. */
static long rx_extreme(const json_t *a, int most) {
  long best = -1;
  double bv = 0;
  for (size_t i = 0; i < json_array_size(a); i++) {
    const json_t *x = json_array_get(a, i);
    if (!json_is_number(x))
      continue;
    double v = json_number_value(x);
    if (best < 0 || (most ? v > bv : v < bv)) {
      best = (long)i;
      bv = v;
    }
  }
  return best;
}

static const json_t *fn_numbers(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(v[0]); i++)
    if (json_is_number(json_array_get(v[0], i)) &&
        json_array_append(out, json_array_get(v[0], i))) {
      json_decref(out);
      out = NULL;
    }
  return rx_keep(e, out);
}

static const json_t *fn_min(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  long i = rx_extreme(v[0], 0);
  return i < 0 ? NULL : rx_number(e, rx_num(json_array_get(v[0], (size_t)i)));
}

static const json_t *fn_max(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  long i = rx_extreme(v[0], 1);
  return i < 0 ? NULL : rx_number(e, rx_num(json_array_get(v[0], (size_t)i)));
}

static const json_t *fn_argmin(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_keep(e, json_integer(rx_extreme(v[0], 0)));
}

static const json_t *fn_argmax(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_keep(e, json_integer(rx_extreme(v[0], 1)));
}

/* {"v": the numbers, "minute": their minutes from the event} of metric's
 * node values or peer medians in the context's timeline (at most 32). */
static const json_t *rx_series(rx_env *e, const char *metric, int peer) {
  const json_t *tl = json_object_get(e->ctx, "timeline");
  const json_t *minutes = json_object_get(tl, "minutes_from_event");
  const json_t *vals = json_object_get(json_object_get(json_object_get(tl, "series"), metric),
                                       peer ? "peer_median" : "node");
  json_t *o = json_object(), *v = json_array(), *m = json_array();
  int bad = !o || !v || !m, n = 0;
  for (size_t i = 0; !bad && i < json_array_size(vals) && i < json_array_size(minutes); i++) {
    json_t *x = json_array_get(vals, i);
    if (!json_is_number(x) || n == RX_SERIES_MAX)
      continue;
    bad |=
        json_array_append(v, x) ||
        json_array_append_new(m, json_integer((int)json_integer_value(json_array_get(minutes, i))));
    n++;
  }
  bad |= !o || json_object_set(o, "v", v) || json_object_set(o, "minute", m);
  json_decref(v);
  json_decref(m);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return rx_keep(e, o);
}

static const json_t *fn_series(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_series(e, rx_str(v[0]), 0);
}

static const json_t *fn_peer_series(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_series(e, rx_str(v[0]), 1);
}

static const json_t *fn_now_index(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  const json_t *m = json_object_get(v[0], "minute");
  long now = (long)json_array_size(m) - 1;
  for (size_t i = 0; i < json_array_size(m); i++)
    if (json_integer_value(json_array_get(m, i)) <= 0)
      now = (long)i;
  return rx_keep(e, json_integer(now));
}

static const json_t *fn_rows(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  const json_t *cols = json_object_get(v[0], "columns"), *rows = json_object_get(v[0], "rows");
  json_t *out = json_array();
  for (size_t r = 0; out && r < json_array_size(rows); r++) {
    json_t *row = json_array_get(rows, r), *o = json_object();
    for (size_t k = 0; o && k < json_array_size(cols); k++) {
      const char *name = json_string_value(json_array_get(cols, k));
      json_t *cell = json_array_get(row, k);
      if (name && cell && !json_object_get(o, name)) /* the first column of a name */
        json_object_set(o, name, cell);
    }
    if (!o || json_array_append_new(out, o)) {
      json_decref(out);
      out = NULL;
    }
  }
  return rx_keep(e, out);
}

static const json_t *fn_field(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  const char *k = rx_str(v[1]);
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(v[0]); i++) {
    json_t *x = json_object_get(json_array_get(v[0], i), k);
    if (json_array_append(out, x ? x : json_null())) {
      json_decref(out);
      out = NULL;
    }
  }
  return rx_keep(e, out);
}

static const json_t *rx_where(rx_env *e, const json_t **v, int keep) {
  const char *k = rx_str(v[1]);
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(v[0]); i++) {
    json_t *x = json_array_get(v[0], i);
    if (rx_equal(rx_present(json_object_get(x, k)), v[2]) == keep && json_array_append(out, x)) {
      json_decref(out);
      out = NULL;
    }
  }
  return rx_keep(e, out);
}

static const json_t *fn_where(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_where(e, v, 1);
}

static const json_t *fn_where_not(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  return rx_where(e, v, 0);
}

/* The `want` elements of a with the largest finite member k, largest first
 * (an element displaces another only when strictly larger); returns how
 * many were found. */
static int rx_top(const json_t *a, const char *k, int want, const json_t **top) {
  int have = 0;
  for (size_t i = 0; i < json_array_size(a); i++) {
    const json_t *x = json_array_get(a, i);
    double u = rx_num(json_object_get(x, k));
    if (!isfinite(u))
      continue;
    int j = 0;
    while (j < have && !(u > rx_num(json_object_get(top[j], k))))
      j++;
    if (j >= want)
      continue;
    if (have < want)
      have++;
    for (int m = have - 1; m > j; m--)
      top[m] = top[m - 1];
    top[j] = x;
  }
  return have;
}

static const json_t *fn_top(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)e, (void)n, (void)c;
  double i = rx_num(v[2]);
  if (!(i >= 0 && i < RX_TOP_MAX))
    return NULL;
  const json_t *top[RX_TOP_MAX];
  int have = rx_top(v[0], rx_str(v[1]), (int)i + 1, top);
  return (int)i < have ? top[(int)i] : NULL;
}

static const json_t *fn_rest(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  double want = rx_num(v[2]);
  if (!(want >= 0 && want <= RX_TOP_MAX))
    return NULL;
  const char *k = rx_str(v[1]);
  const json_t *top[RX_TOP_MAX];
  int have = rx_top(v[0], k, (int)want, top);
  json_t *out = json_array();
  for (size_t i = 0; out && i < json_array_size(v[0]); i++) {
    json_t *x = json_array_get(v[0], i);
    int in_top = 0;
    for (int t = 0; t < have; t++)
      in_top |= top[t] == x;
    if (!in_top && isfinite(rx_num(json_object_get(x, k))) && json_array_append(out, x)) {
      json_decref(out);
      out = NULL;
    }
  }
  return rx_keep(e, out);
}

static int rx_unique_add(json_t *out, const json_t *s) {
  if (!json_is_string(s) || json_string_length(s) == 0)
    return 0;
  for (size_t i = 0; i < json_array_size(out); i++)
    if (strcmp(json_string_value(json_array_get(out, i)), json_string_value(s)) == 0)
      return 0;
  return json_array_append(out, (json_t *)s);
}

static const json_t *fn_unique(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)c;
  json_t *out = json_array();
  int bad = !out;
  for (int k = 0; !bad && k < n; k++) {
    if (json_is_array(v[k]))
      for (size_t i = 0; !bad && i < json_array_size(v[k]); i++)
        bad |= rx_unique_add(out, json_array_get(v[k], i));
    else
      bad |= rx_unique_add(out, v[k]);
  }
  if (bad) {
    json_decref(out);
    return NULL;
  }
  return rx_keep(e, out);
}

static const json_t *fn_join(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n;
  strbuf b = {0};
  const json_t *outer = e->elem;
  for (size_t i = 0; i < json_array_size(v[0]); i++) {
    if (i)
      sb_addf(&b, "%s", rx_str(v[2]));
    e->elem = json_array_get(v[0], i);
    rx_tpl_render(c->tpl, e, &b);
  }
  e->elem = outer;
  char *s = sb_take(&b);
  const json_t *r = s ? rx_keep(e, json_string(s)) : NULL;
  free(s);
  return r;
}

static const json_t *fn_after(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)n, (void)c;
  const char *s = rx_str(v[0]), *sep = rx_str(v[1]);
  const char *p = sep[0] ? strrchr(s, sep[0]) : NULL;
  return rx_keep(e, json_string(p ? p + 1 : ""));
}

static const json_t *fn_family_z(rx_env *e, const json_t **v, int n, const rx_node *c) {
  (void)v, (void)n, (void)c;
  return rx_number(e, e->family_z);
}

static const struct {
  const char *name;
  int min, max;
  rx_fn fn;
} rx_fns[] = {
    {"finite", 1, 1, fn_finite},
    {"exists", 1, 1, fn_exists},
    {"is_int", 1, 1, fn_is_int},
    {"is_str", 1, 1, fn_is_str},
    {"abs", 1, 1, fn_abs},
    {"len", 1, 1, fn_len},
    {"last", 1, 1, fn_last},
    {"numbers", 1, 1, fn_numbers},
    {"min", 1, 1, fn_min},
    {"max", 1, 1, fn_max},
    {"argmin", 1, 1, fn_argmin},
    {"argmax", 1, 1, fn_argmax},
    {"series", 1, 1, fn_series},
    {"peer_series", 1, 1, fn_peer_series},
    {"now_index", 1, 1, fn_now_index},
    {"rows", 1, 1, fn_rows},
    {"field", 2, 2, fn_field},
    {"where", 3, 3, fn_where},
    {"where_not", 3, 3, fn_where_not},
    {"top", 3, 3, fn_top},
    {"rest", 3, 3, fn_rest},
    {"unique", 1, RX_MAX_ARGS, fn_unique},
    {"join", 3, 3, fn_join},
    {"after", 2, 2, fn_after},
    {"family_z", 0, 0, fn_family_z},
};
enum { RX_NFNS = sizeof rx_fns / sizeof rx_fns[0] };

/* ---- evaluation ------------------------------------------------------------- */

const json_t *rx_eval(const rx_node *x, rx_env *e) {
  const json_t *a, *b;
  switch (x->op) {
  case RX_LIT:
    return x->lit;
  case RX_CTX:
    return e->ctx;
  case RX_NAME:
    return rx_present(e->name(e, x->index));
  case RX_ELEM:
    return e->elem;
  case RX_MEMBER:
    return rx_present(json_object_get(rx_eval(x->a[0], e), x->member));
  case RX_INDEX: {
    a = rx_eval(x->a[0], e);
    double i = rx_num(rx_eval(x->a[1], e));
    return i >= 0 && i < (double)json_array_size(a) ? rx_present(json_array_get(a, (size_t)i))
                                                    : NULL;
  }
  case RX_CALL: {
    const json_t *v[RX_MAX_ARGS];
    for (int i = 0; i < x->nargs; i++)
      v[i] = rx_eval(x->args[i], e);
    return rx_fns[x->index].fn(e, v, x->nargs, x);
  }
  case RX_NOT:
    return rx_bool(!rx_truthy(rx_eval(x->a[0], e)));
  case RX_NEG:
    return rx_number(e, -rx_num(rx_eval(x->a[0], e)));
  case RX_OR:
    return rx_bool(rx_truthy(rx_eval(x->a[0], e)) || rx_truthy(rx_eval(x->a[1], e)));
  case RX_AND:
    return rx_bool(rx_truthy(rx_eval(x->a[0], e)) && rx_truthy(rx_eval(x->a[1], e)));
  case RX_COND:
    return rx_eval(x->a[rx_truthy(rx_eval(x->a[0], e)) ? 1 : 2], e);
  default:
    break;
  }
  a = rx_eval(x->a[0], e);
  b = rx_eval(x->a[1], e);
  double p = rx_num(a), q = rx_num(b);
  switch (x->op) {
  case RX_EQ:
    return rx_bool(rx_equal(a, b));
  case RX_NE:
    return rx_bool(!rx_equal(a, b));
  case RX_LT:
    return rx_bool(p < q);
  case RX_LE:
    return rx_bool(p <= q);
  case RX_GT:
    return rx_bool(p > q);
  case RX_GE:
    return rx_bool(p >= q);
  case RX_ADD:
    if (json_is_string(a) || json_is_string(b)) {
      size_t n = strlen(rx_str(a)) + strlen(rx_str(b)) + 1;
      char *s = malloc(n);
      const json_t *r = NULL;
      if (s) {
        snprintf(s, n, "%s%s", rx_str(a), rx_str(b));
        r = rx_keep(e, json_string(s));
      }
      free(s);
      return r;
    }
    return rx_number(e, p + q);
  case RX_SUB:
    return rx_number(e, p - q);
  case RX_MUL:
    return rx_number(e, p * q);
  case RX_DIV:
    return rx_number(e, p / q);
  default:
    return NULL;
  }
}

/* ---- compiling ---------------------------------------------------------------- */

typedef struct {
  const char *text, *p;
  rx_names names;
  void *arg;
  int elem; /* names are members of join's element */
  int depth;
  char *err;
  size_t errlen;
  int rc; /* 0, FS_EINVAL or FS_ENOMEM */
} rx_parser;

static void rx_fail(rx_parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rx_fail(rx_parser *ps, const char *fmt, ...) {
  if (ps->rc)
    return;
  ps->rc = FS_EINVAL;
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(ps->err, ps->errlen, "'%.80s' at column %d: %s", ps->text, (int)(ps->p - ps->text) + 1,
           what);
}

static rx_node *rx_new(rx_parser *ps, rx_op op) {
  rx_node *x = calloc(1, sizeof *x);
  if (!x && !ps->rc)
    ps->rc = FS_ENOMEM;
  if (x)
    x->op = op;
  return x;
}

static void rx_skip(rx_parser *ps) {
  while (isspace((unsigned char)*ps->p))
    ps->p++;
}

/* Consumes token tok (after spaces) when it is next. */
static int rx_accept(rx_parser *ps, const char *tok) {
  rx_skip(ps);
  size_t n = strlen(tok);
  if (strncmp(ps->p, tok, n) != 0)
    return 0;
  ps->p += n;
  return 1;
}

static int rx_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static rx_node *rx_expr(rx_parser *ps);
static rx_node *rx_postfix(rx_parser *ps);
static int rx_tpl_parse(rx_tpl **out, const char *text, rx_parser *outer, int elem);

static rx_node *rx_binary(rx_parser *ps, rx_op op, rx_node *l, rx_node *r) {
  rx_node *x = l && r ? rx_new(ps, op) : NULL;
  if (!x) {
    rx_free(&l);
    rx_free(&r);
    return NULL;
  }
  x->a[0] = l;
  x->a[1] = r;
  return x;
}

static rx_node *rx_call(rx_parser *ps, const char *name, size_t len) {
  int f = -1;
  for (int i = 0; i < RX_NFNS; i++)
    if (strlen(rx_fns[i].name) == len && strncmp(rx_fns[i].name, name, len) == 0)
      f = i;
  if (f < 0) {
    ps->p = name; /* point at the name */
    rx_fail(ps, "unknown function '%.*s'", (int)len, name);
    return NULL;
  }
  rx_node *x = rx_new(ps, RX_CALL);
  if (!x)
    return NULL;
  x->index = f;
  if (!(x->args = calloc(RX_MAX_ARGS, sizeof *x->args)) && !ps->rc)
    ps->rc = FS_ENOMEM;
  if (!rx_accept(ps, ")")) {
    do {
      if (x->nargs == RX_MAX_ARGS) {
        rx_fail(ps, "more than %d arguments", RX_MAX_ARGS);
        break;
      }
      rx_node *a = x->args ? rx_expr(ps) : NULL;
      if (!a)
        break;
      x->args[x->nargs++] = a;
    } while (rx_accept(ps, ","));
    if (!ps->rc && !rx_accept(ps, ")"))
      rx_fail(ps, "expected ',' or ')' in the arguments of %s", rx_fns[f].name);
  }
  if (!ps->rc && (x->nargs < rx_fns[f].min || x->nargs > rx_fns[f].max))
    rx_fail(ps, "%s takes %d to %d arguments, not %d", rx_fns[f].name, rx_fns[f].min, rx_fns[f].max,
            x->nargs);
  if (!ps->rc && rx_fns[f].fn == fn_join) {
    if (x->args[1]->op != RX_LIT || !json_is_string(x->args[1]->lit))
      rx_fail(ps, "join's second argument must be a template text in quotes");
    else
      rx_tpl_parse(&x->tpl, json_string_value(x->args[1]->lit), ps, 1);
  }
  if (ps->rc)
    rx_free(&x);
  return x;
}

static rx_node *rx_primary(rx_parser *ps) {
  rx_skip(ps);
  const char *p = ps->p;
  if (++ps->depth > 64) {
    rx_fail(ps, "nested too deeply");
    return NULL;
  }
  rx_node *x = NULL;
  if (*p == '(') {
    ps->p++;
    x = rx_expr(ps);
    if (x && !rx_accept(ps, ")")) {
      rx_fail(ps, "expected ')'");
      rx_free(&x);
    }
  } else if (*p == '\'') {
    const char *end = strchr(p + 1, '\'');
    if (!end) {
      rx_fail(ps, "text without its closing quote");
    } else if ((x = rx_new(ps, RX_LIT))) {
      char *s = strndup(p + 1, (size_t)(end - p - 1));
      x->lit = s ? json_string(s) : NULL;
      free(s);
      if (!x->lit) {
        ps->rc = ps->rc ? ps->rc : FS_ENOMEM;
        rx_free(&x);
      }
      ps->p = end + 1;
    }
  } else if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
    char *end;
    double v = strtod(p, &end);
    int integer = strspn(p, "0123456789") == (size_t)(end - p);
    if ((x = rx_new(ps, RX_LIT)) &&
        !(x->lit = integer ? json_integer(strtoll(p, NULL, 10)) : json_real(v))) {
      ps->rc = ps->rc ? ps->rc : FS_ENOMEM;
      rx_free(&x);
    }
    ps->p = end;
  } else if (*p == '@') {
    ps->p++;
    x = rx_new(ps, RX_CTX);
    if (x && rx_ident_char(*ps->p)) { /* @name: a member of the context */
      const char *s = ps->p;
      while (rx_ident_char(*ps->p))
        ps->p++;
      rx_node *m = rx_new(ps, RX_MEMBER);
      if (m && (m->member = strndup(s, (size_t)(ps->p - s)))) {
        m->a[0] = x;
        x = m;
      } else {
        rx_free(&m);
        rx_free(&x);
        ps->rc = ps->rc ? ps->rc : FS_ENOMEM;
      }
    }
  } else if (rx_ident_char(*p)) {
    const char *s = p;
    while (rx_ident_char(*ps->p))
      ps->p++;
    size_t len = (size_t)(ps->p - s);
    if (rx_accept(ps, "(")) {
      x = rx_call(ps, s, len);
    } else if ((len == 4 && strncmp(s, "null", 4) == 0) ||
               (len == 4 && strncmp(s, "true", 4) == 0) ||
               (len == 5 && strncmp(s, "false", 5) == 0)) {
      if ((x = rx_new(ps, RX_LIT)))
        x->lit = s[0] == 'n' ? NULL : s[0] == 't' ? json_true() : json_false();
    } else if (ps->elem) { /* in join's template: a member of the element */
      rx_node *el = rx_new(ps, RX_ELEM);
      if (el && (x = rx_new(ps, RX_MEMBER)) && (x->member = strndup(s, len)))
        x->a[0] = el;
      else {
        rx_free(&el);
        rx_free(&x);
        ps->rc = ps->rc ? ps->rc : FS_ENOMEM;
      }
    } else {
      int i = ps->names ? ps->names(ps->arg, s, len) : -1;
      if (i < 0) {
        ps->p = s; /* point at the name */
        rx_fail(ps, "unknown name '%.*s'", (int)len, s);
      } else if ((x = rx_new(ps, RX_NAME))) {
        x->index = i;
      }
    }
  } else {
    if (*p)
      rx_fail(ps, "unexpected '%c'", *p);
    else
      rx_fail(ps, "unexpected end");
  }
  ps->depth--;
  return x;
}

static rx_node *rx_postfix(rx_parser *ps) {
  rx_node *x = rx_primary(ps);
  while (x) {
    if (rx_accept(ps, ".")) {
      const char *s = ps->p;
      while (rx_ident_char(*ps->p))
        ps->p++;
      if (ps->p == s) {
        rx_fail(ps, "expected a member name after '.'");
        rx_free(&x);
        break;
      }
      rx_node *m = rx_new(ps, RX_MEMBER);
      if (!m || !(m->member = strndup(s, (size_t)(ps->p - s)))) {
        rx_free(&m);
        rx_free(&x);
        ps->rc = ps->rc ? ps->rc : FS_ENOMEM;
        break;
      }
      m->a[0] = x;
      x = m;
    } else if (rx_accept(ps, "[")) {
      rx_node *i = rx_expr(ps);
      if (i && !rx_accept(ps, "]")) {
        rx_fail(ps, "expected ']'");
        rx_free(&i);
      }
      x = rx_binary(ps, RX_INDEX, x, i);
    } else {
      break;
    }
  }
  return x;
}

static rx_node *rx_unary(rx_parser *ps) {
  rx_skip(ps);
  if ((*ps->p == '!' && ps->p[1] != '=') || *ps->p == '-') {
    rx_op op = *ps->p == '!' ? RX_NOT : RX_NEG;
    ps->p++;
    rx_node *a = rx_unary(ps), *x = a ? rx_new(ps, op) : NULL;
    if (!x) {
      rx_free(&a);
      return NULL;
    }
    x->a[0] = a;
    return x;
  }
  return rx_postfix(ps);
}

static rx_node *rx_mul(rx_parser *ps) {
  rx_node *x = rx_unary(ps);
  for (;;) {
    if (rx_accept(ps, "*"))
      x = rx_binary(ps, RX_MUL, x, rx_unary(ps));
    else if (rx_accept(ps, "/"))
      x = rx_binary(ps, RX_DIV, x, rx_unary(ps));
    else
      return x;
  }
}

static rx_node *rx_add(rx_parser *ps) {
  rx_node *x = rx_mul(ps);
  for (;;) {
    if (rx_accept(ps, "+"))
      x = rx_binary(ps, RX_ADD, x, rx_mul(ps));
    else if (rx_accept(ps, "-"))
      x = rx_binary(ps, RX_SUB, x, rx_mul(ps));
    else
      return x;
  }
}

static rx_node *rx_cmp(rx_parser *ps) {
  static const struct {
    const char *tok;
    rx_op op;
  } ops[] = {{"==", RX_EQ}, {"!=", RX_NE}, {"<=", RX_LE},
             {">=", RX_GE}, {"<", RX_LT},  {">", RX_GT}};
  rx_node *x = rx_add(ps);
  for (size_t i = 0; x && i < sizeof ops / sizeof ops[0]; i++)
    if (rx_accept(ps, ops[i].tok))
      return rx_binary(ps, ops[i].op, x, rx_add(ps));
  return x;
}

static rx_node *rx_and(rx_parser *ps) {
  rx_node *x = rx_cmp(ps);
  while (x && rx_accept(ps, "&&"))
    x = rx_binary(ps, RX_AND, x, rx_cmp(ps));
  return x;
}

static rx_node *rx_or(rx_parser *ps) {
  rx_node *x = rx_and(ps);
  while (x && rx_accept(ps, "||"))
    x = rx_binary(ps, RX_OR, x, rx_and(ps));
  return x;
}

static rx_node *rx_expr(rx_parser *ps) {
  rx_node *c = rx_or(ps);
  if (!c || !rx_accept(ps, "?"))
    return c;
  rx_node *a = rx_expr(ps), *b = NULL;
  if (a && !rx_accept(ps, ":"))
    rx_fail(ps, "expected ':' of 'c ? a : b'");
  else if (a)
    b = rx_expr(ps);
  rx_node *x = b ? rx_new(ps, RX_COND) : NULL;
  if (!x) {
    rx_free(&c);
    rx_free(&a);
    rx_free(&b);
    return NULL;
  }
  x->a[0] = c;
  x->a[1] = a;
  x->a[2] = b;
  return x;
}

int rx_compile(rx_node **out, const char *text, rx_names names, void *arg, char *err,
               size_t errlen) {
  rx_parser ps = {text, text, names, arg, 0, 0, err, errlen, 0};
  *out = rx_expr(&ps);
  rx_skip(&ps);
  if (*out && *ps.p)
    rx_fail(&ps, "unexpected '%c' after the expression", *ps.p);
  if (!ps.rc && !*out)
    ps.rc = FS_ENOMEM;
  if (ps.rc) {
    rx_free(out);
    if (ps.rc == FS_ENOMEM)
      snprintf(err, errlen, "out of memory");
  }
  return ps.rc;
}

void rx_free(rx_node **np) {
  if (!np || !*np)
    return;
  rx_node *x = *np;
  json_decref(x->lit);
  free(x->member);
  for (int i = 0; i < 3; i++)
    rx_free(&x->a[i]);
  for (int i = 0; i < x->nargs; i++)
    rx_free(&x->args[i]);
  free(x->args);
  rx_tpl_free(&x->tpl);
  free(x);
  *np = NULL;
}

void rx_each_name(const rx_node *x, void (*fn)(void *arg, int index), void *arg) {
  if (!x)
    return;
  if (x->op == RX_NAME)
    fn(arg, x->index);
  for (int i = 0; i < 3; i++)
    rx_each_name(x->a[i], fn, arg);
  for (int i = 0; i < x->nargs; i++)
    rx_each_name(x->args[i], fn, arg);
  rx_tpl_each_name(x->tpl, fn, arg);
}

/* ---- templates ------------------------------------------------------------------- */

/* Parses the format after ':' of a placeholder into part. 0, or 1 when bad. */
static int rx_format(rx_part *part, const char *f, size_t len) {
  if (len == 0 || (len == 1 && f[0] == 's')) {
    part->conv = 's';
    return 0;
  }
  if (len == 1 && f[0] == 'd') {
    part->conv = 'd';
    return 0;
  }
  if (len >= 3 && len <= 4 && f[0] == '.' && strspn(f + 1, "0123456789") == len - 2 &&
      strchr("fge", f[len - 1])) {
    part->conv = 'n';
    snprintf(part->fmt, sizeof part->fmt, "%%%.*s", (int)len, f);
    return 0;
  }
  return 1;
}

static int rx_tpl_parse(rx_tpl **out, const char *text, rx_parser *outer, int elem) {
  rx_tpl *t = calloc(1, sizeof *t);
  size_t cap = 2 * strlen(text) + 2; /* at most a literal and a placeholder per character */
  if (!t || !(t->parts = calloc(cap, sizeof *t->parts))) {
    free(t);
    outer->rc = outer->rc ? outer->rc : FS_ENOMEM;
    return outer->rc;
  }
  rx_parser ps = {text, text, outer->names, outer->arg, elem, 0, outer->err, outer->errlen, 0};
  while (*ps.p && !ps.rc) {
    size_t lit = strcspn(ps.p, "{");
    if (lit) {
      if (!(t->parts[t->n++].text = strndup(ps.p, lit)))
        ps.rc = FS_ENOMEM;
      ps.p += lit;
      continue;
    }
    ps.p++;
    rx_part *part = &t->parts[t->n++];
    if (!(part->x = rx_postfix(&ps)))
      break;
    rx_skip(&ps);
    if (*ps.p != ':' && *ps.p != '}') {
      rx_fail(&ps, *ps.p ? "expected ':' or '}' after a placeholder's value"
                         : "a placeholder without its closing '}'");
      break;
    }
    const char *f = *ps.p == ':' ? ps.p + 1 : ps.p;
    size_t flen = strcspn(f, "}");
    if (!f[flen])
      rx_fail(&ps, "a placeholder without its closing '}'");
    else if (rx_format(part, f, flen))
      rx_fail(&ps, "format '%.*s' is not s, d or .Nf/.Ng/.Ne", (int)flen, f);
    ps.p = f + flen + (f[flen] ? 1 : 0);
  }
  if (ps.rc) {
    if (!outer->rc) {
      outer->rc = ps.rc;
      if (ps.rc == FS_ENOMEM)
        snprintf(outer->err, outer->errlen, "out of memory");
    }
    rx_tpl_free(&t);
    return outer->rc;
  }
  *out = t;
  return 0;
}

int rx_tpl_compile(rx_tpl **out, const char *text, rx_names names, void *arg, char *err,
                   size_t errlen) {
  rx_parser ps = {text, text, names, arg, 0, 0, err, errlen, 0};
  *out = NULL;
  return rx_tpl_parse(out, text, &ps, 0);
}

void rx_tpl_free(rx_tpl **tp) {
  if (!tp || !*tp)
    return;
  for (int i = 0; i < (*tp)->n; i++) {
    free((*tp)->parts[i].text);
    rx_free(&(*tp)->parts[i].x);
  }
  free((*tp)->parts);
  free(*tp);
  *tp = NULL;
}

void rx_tpl_each_name(const rx_tpl *t, void (*fn)(void *arg, int index), void *arg) {
  for (int i = 0; t && i < t->n; i++)
    rx_each_name(t->parts[i].x, fn, arg);
}

void rx_tpl_render(const rx_tpl *t, rx_env *env, strbuf *b) {
  for (int i = 0; i < t->n; i++) {
    const rx_part *p = &t->parts[i];
    if (p->text) {
      sb_addf(b, "%s", p->text);
      continue;
    }
    const json_t *v = rx_eval(p->x, env);
    if (p->conv == 'n')
      sb_addf(b, p->fmt, rx_num(v));
    else if (p->conv == 'd')
      sb_addf(b, "%lld", (long long)json_integer_value(v));
    else
      sb_addf(b, "%s", rx_str(v));
  }
}
