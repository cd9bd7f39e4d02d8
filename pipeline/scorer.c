/* Scoring of one backend's calls (see scorer.h): maps calls to ground-truth
 * scenarios, scores answers with the checklists, aggregates the seed's
 * figures and prints them. Reads ground truth; decides nothing upstream. */
#include "pipeline/scorer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/events.h"
#include "src/diag.h"
#include "src/runid.h"
#include "src/errors.h"

enum {
  SCR_GRACE_S = 600, /* as detection_report.h: events up to 10 min after the end count */
  SCR_ROOT = 1,
  SCR_IMPACTED = 2,
};

/* Compiled lists of one scenario: L2 per tenant of the event node (the last
 * for an unknown tenant: {tenant} absent), L3, L4. */
typedef struct {
  chk_list *l2[TENANT_COUNT + 1], *l3, *l4;
} scr_lists;

struct scr_backend {
  char name[SCR_NAME_LEN];
  int ncalls;
  scr_call *calls;
  int nscn;
  char (*scn_id)[SCN_ID_LEN];
  const char **scn_kind; /* static names */
  double run_seconds;
  scr_layer_stats layer[SCR_LAYERS];
  double cost_usd, gpu_hours;
  double *scn_sum; /* [nscn] score sums and counts for accuracy by scenario */
  int *scn_n;
};

/* ---- statistics --------------------------------------------------------- */

static int scr_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Mean and sample sd of v[n] (NAN when n is 0; sd 0 when n is 1). */
static void scr_mean_sd(const double *v, int n, double *mean, double *sd) {
  *mean = *sd = NAN;
  if (n <= 0)
    return;
  double s = 0;
  for (int i = 0; i < n; i++)
    s += v[i];
  *mean = s / n;
  double q = 0;
  for (int i = 0; i < n; i++)
    q += (v[i] - *mean) * (v[i] - *mean);
  *sd = n > 1 ? sqrt(q / (n - 1)) : 0.0;
}

/* Percentile p (0..100) of sorted v[n] by linear interpolation; NAN if n 0. */
static double scr_percentile(const double *v, int n, double p) {
  if (n <= 0)
    return NAN;
  double r = p / 100.0 * (n - 1);
  int lo = (int)floor(r);
  int hi = lo + 1 < n ? lo + 1 : lo;
  return v[lo] + (r - lo) * (v[hi] - v[lo]);
}

/* ---- context reading ---------------------------------------------------- */

/* The event's place from an L2/L3 context; -1 where absent or unknown. */
typedef struct {
  int scope; /* ev_scope */
  int node, rack, job, tenant;
} scr_place;

/* Number after prefix in name ("node-0042" -> 42), or -1. */
static int scr_name_number(const char *name, const char *prefix) {
  size_t n = strlen(prefix);
  if (!name || strncmp(name, prefix, n) != 0 || !name[n])
    return -1;
  char *end;
  errno = 0;
  long v = strtol(name + n, &end, 10);
  return *end || errno || v < 0 || v > 1000000000L ? -1 : (int)v;
}

static void scr_read_place(const char *context, const fleet *f, scr_place *p) {
  p->scope = p->node = p->rack = p->job = p->tenant = -1;
  json_t *root = context ? json_loads(context, 0, NULL) : NULL;
  json_t *e = json_object_get(root, "event");
  const char *scope = json_string_value(json_object_get(e, "scope"));
  for (int s = 0; scope && s < EV_SCOPE_COUNT; s++)
    if (strcmp(scope, ev_scope_name((ev_scope)s)) == 0)
      p->scope = s;
  p->node = scr_name_number(json_string_value(json_object_get(e, "node")), "node-");
  p->rack = scr_name_number(json_string_value(json_object_get(e, "rack")), "rack-");
  const char *job = json_string_value(json_object_get(e, "job"));
  for (int j = 0; job && j < f->njobs; j++)
    if (strcmp(job, f->cfg->jobs[j].id) == 0)
      p->job = j;
  const char *tenant = json_string_value(json_object_get(e, "tenant"));
  for (int t = 0; tenant && t < TENANT_COUNT; t++)
    if (strcmp(tenant, fleet_tenant_name(t)) == 0)
      p->tenant = t;
  if (p->node >= f->nodes)
    p->node = -1;
  if (p->rack >= f->racks)
    p->rack = -1;
  json_decref(root);
}

/* The L4 window length in seconds from a context (window.hours), or -1. */
static double scr_window_s(const char *context) {
  json_t *root = context ? json_loads(context, 0, NULL) : NULL;
  json_t *h = json_object_get(json_object_get(root, "window"), "hours");
  double s = json_is_number(h) && json_number_value(h) > 0 ? json_number_value(h) * 3600.0 : -1;
  json_decref(root);
  return s;
}

/* ---- mapping ------------------------------------------------------------ */

static int scr_has(const int32_t *v, int n, int x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x)
      return 1;
  return 0;
}

/* How place p relates to scenario s: 0 no match, else 3 (node is a
 * root-cause node), 2 (node impacted) or 1 (rack, job or cluster rule). */
static int scr_place_tier(const scn_def *s, const scr_place *p, const fleet *f) {
  if (p->node >= 0 && scr_has(s->nodes, s->nnodes, p->node))
    return 3;
  if (p->node >= 0 && scr_has(s->impacted, s->nimpacted, p->node))
    return 2;
  for (int i = 0; i < s->nnodes; i++) {
    int n = s->nodes[i];
    if (n < 0 || n >= f->nodes)
      continue;
    if ((p->scope == EV_SCOPE_RACK && p->rack >= 0 && f->node_rack[n] == p->rack) ||
        (p->scope == EV_SCOPE_JOB && p->job >= 0 && f->node_job[n] == p->job) ||
        (p->scope == EV_SCOPE_CLUSTER && p->tenant >= 0 && f->node_tenant[n] == p->tenant))
      return 1;
  }
  return 0;
}

/* The scenario an L2/L3 call at t_s with place p concerns, or -1. */
static int scr_map_event(const scr_truth *t, double t_s, const scr_place *p) {
  int best = -1, best_tier = 0;
  for (int k = 0; t->scenarios && k < t->scenarios->n; k++) {
    const scn_def *s = &t->scenarios->s[k];
    double start = (double)s->t_start * t->scrape_interval_s;
    double end = (double)s->t_end * t->scrape_interval_s;
    if (!(t_s >= start && t_s <= end + SCR_GRACE_S))
      continue;
    int tier = scr_place_tier(s, p, t->f);
    if (tier > best_tier ||
        (tier && tier == best_tier && s->t_start < t->scenarios->s[best].t_start)) {
      best = k;
      best_tier = tier;
    }
  }
  return best;
}

/* ---- substitutions ------------------------------------------------------ */

/* "(a|b|c)" from names (NULL when n is 0), every ERE metacharacter of a
 * name escaped so that it matches itself; caller frees. *bad on ENOMEM. */
static char *scr_alternation(const char *const *names, int n, int *bad) {
  if (n <= 0)
    return NULL;
  size_t cap = 3;
  for (int i = 0; i < n; i++)
    cap += 2 * strlen(names[i]) + 1;
  char *s = malloc(cap), *w = s;
  if (!s) {
    *bad = 1;
    return NULL;
  }
  *w++ = '(';
  for (int i = 0; i < n; i++) {
    for (const char *c = names[i]; *c; c++) {
      if (strchr(".[]()*+?{}|^$\\", *c))
        *w++ = '\\';
      *w++ = *c;
    }
    *w++ = i + 1 < n ? '|' : ')';
  }
  *w = '\0';
  return s;
}

/* Alternations of the root-cause nodes of s, their racks and their jobs
 * (each distinct, in order of first appearance). 0 or FS_ENOMEM. */
static int scr_subst_of(const scn_def *s, const fleet *f, char **node, char **rack, char **job) {
  int n = s->nnodes, bad = 0, nr = 0, nj = 0;
  char (*nn)[16] = calloc((size_t)n + 1, sizeof *nn), (*rn)[16] = calloc((size_t)n + 1, sizeof *rn);
  const char **np = calloc((size_t)n + 1, sizeof *np), **rp = calloc((size_t)n + 1, sizeof *rp);
  const char **jp = calloc((size_t)n + 1, sizeof *jp);
  *node = *rack = *job = NULL;
  if (!nn || !rn || !np || !rp || !jp)
    bad = 1;
  for (int i = 0; !bad && i < n; i++) {
    int x = s->nodes[i];
    snprintf(nn[i], sizeof nn[i], "node-%04d", x);
    np[i] = nn[i];
    if (x < 0 || x >= f->nodes)
      continue;
    char r[16];
    snprintf(r, sizeof r, "rack-%02d", f->node_rack[x]);
    int seen = 0;
    for (int k = 0; k < nr; k++)
      seen |= strcmp(rp[k], r) == 0;
    if (!seen) {
      snprintf(rn[nr], sizeof rn[nr], "%s", r);
      rp[nr] = rn[nr];
      nr++;
    }
    int j = f->node_job[x];
    seen = j < 0 || j >= f->njobs;
    for (int k = 0; !seen && k < nj; k++)
      seen = strcmp(jp[k], f->cfg->jobs[j].id) == 0;
    if (!seen)
      jp[nj++] = f->cfg->jobs[j].id;
  }
  if (!bad) {
    *node = scr_alternation(np, n, &bad);
    *rack = scr_alternation(rp, nr, &bad);
    *job = scr_alternation(jp, nj, &bad);
  }
  free(nn);
  free(rn);
  free(np);
  free(rp);
  free(jp);
  if (bad) {
    free(*node);
    free(*rack);
    free(*job);
    *node = *rack = *job = NULL;
    return FS_ENOMEM;
  }
  return 0;
}

static void scr_lists_free(scr_lists *l, int n) {
  for (int k = 0; l && k < n; k++) {
    for (int t = 0; t <= TENANT_COUNT; t++)
      chk_list_destroy(&l[k].l2[t]);
    chk_list_destroy(&l[k].l3);
    chk_list_destroy(&l[k].l4);
  }
  free(l);
}

/* Compiles every scenario's lists. 0, FS_EINVAL or FS_ENOMEM. */
static int scr_lists_build(scr_lists **out, const scr_truth *t) {
  int n = t->scenarios ? t->scenarios->n : 0, rc = 0;
  scr_lists *l = calloc((size_t)n + 1, sizeof *l);
  if (!l)
    return FS_ENOMEM;
  for (int k = 0; k < n && !rc; k++) {
    const scn_def *s = &t->scenarios->s[k];
    const char *kind = scn_kind_name(s->kind);
    char *node, *rack, *job;
    if ((rc = scr_subst_of(s, t->f, &node, &rack, &job)) != 0)
      break;
    chk_subst sub = {node, rack, job, NULL};
    for (int ten = 0; ten <= TENANT_COUNT && !rc; ten++) {
      char tn[32];
      snprintf(tn, sizeof tn, "(%s)", ten < TENANT_COUNT ? fleet_tenant_name(ten) : "");
      sub.tenant = ten < TENANT_COUNT ? tn : NULL;
      rc = chk_compile(&l[k].l2[ten], t->checklists, kind, 2, &sub);
    }
    sub.tenant = NULL;
    if (!rc)
      rc = chk_compile(&l[k].l3, t->checklists, kind, 3, &sub);
    if (!rc)
      rc = chk_compile(&l[k].l4, t->checklists, kind, 4, &sub);
    free(node);
    free(rack);
    free(job);
  }
  if (rc) {
    scr_lists_free(l, n);
    return rc;
  }
  *out = l;
  return 0;
}

/* ---- transcript --------------------------------------------------------- */

/* Why a parsed transcript line cannot be scored, or NULL when it can: it
 * has a string call_id, and the fields the scorer reads have their types
 * when present (an absent status or answer is a missed call; numbers are
 * finite and at most 1e15 in size, so they convert to integers safely). */
static const char *scr_check_line(const json_t *o) {
  if (!json_is_object(o))
    return "not a JSON object";
  if (!json_is_string(json_object_get(o, "call_id")))
    return "field 'call_id' is missing or not a string";
  json_t *st = json_object_get(o, "status");
  if (st && !(json_is_string(st) && (strcmp(json_string_value(st), "ok") == 0 ||
                                     strcmp(json_string_value(st), "error") == 0)))
    return "field 'status' is not \"ok\" or \"error\"";
  json_t *text = json_object_get(o, "response_text");
  if (text && !json_is_string(text) && !json_is_null(text))
    return "field 'response_text' is not a string or null";
  static const char *const nums[][2] = {
      {"latency_s", "field 'latency_s' is not a number of at most 1e15"},
      {"cost_usd", "field 'cost_usd' is not a number of at most 1e15"},
      {"gpu_hours", "field 'gpu_hours' is not a number of at most 1e15"},
      {"tokens_in", "field 'tokens_in' is not a number of at most 1e15"},
      {"tokens_out", "field 'tokens_out' is not a number of at most 1e15"}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    json_t *v = json_object_get(o, nums[i][0]);
    if (v && !json_is_null(v) && !(json_is_number(v) && fabs(json_number_value(v)) <= 1e15))
      return nums[i][1];
  }
  return NULL;
}

int scr_read_transcript(const char *path, json_t **lines) {
  if (!path || !lines)
    return FS_EINVAL;
  *lines = NULL;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    diag_addf("transcript %s: cannot open: %s", path, strerror(errno));
    return FS_EIO;
  }
  json_t *arr = json_array();
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = arr ? 0 : FS_ENOMEM, lineno = 0;
  while (!rc && (len = getline(&buf, &cap, fp)) >= 0) {
    lineno++;
    size_t k = (size_t)len;
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r' || buf[k - 1] == ' '))
      k--;
    if (k == 0)
      continue;
    if (lineno == 1 && runid_parse(buf, k, NULL) == 1)
      continue; /* the run header: score_run.c checks it */
    json_error_t err;
    json_t *o = json_loadb(buf, k, 0, &err);
    const char *bad = o ? scr_check_line(o) : err.text;
    if (bad) {
      diag_addf("transcript %s: line %d: %s", path, lineno, bad);
      json_decref(o);
      rc = FS_EINVAL;
    } else if (json_array_append_new(arr, o) != 0) {
      rc = FS_ENOMEM;
    }
  }
  if (!rc && ferror(fp)) {
    diag_addf("transcript %s: read error: %s", path, strerror(errno));
    rc = FS_EIO;
  }
  free(buf);
  fclose(fp);
  if (rc)
    json_decref(arr);
  else
    *lines = arr;
  return rc;
}

/* Index of the last transcript line with call_id id, or -1. */
typedef struct {
  const char *id;
  size_t line;
} scr_key;

static int scr_cmp_key(const void *a, const void *b) {
  const scr_key *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  return c ? c : (x->line > y->line) - (x->line < y->line);
}

static json_t *scr_find_line(const json_t *transcript, const scr_key *keys, size_t nkeys,
                             const char *id) {
  size_t lo = 0, hi = nkeys; /* first key > id, then step back */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (strcmp(keys[mid].id, id) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || strcmp(keys[lo - 1].id, id) != 0)
    return NULL;
  return json_array_get(transcript, keys[lo - 1].line);
}

/* ---- scoring ------------------------------------------------------------ */

void scr_backend_destroy(scr_backend **bp) {
  if (!bp || !*bp)
    return;
  scr_backend *b = *bp;
  for (int i = 0; i < b->ncalls; i++) {
    free(b->calls[i].scn);
    free(b->calls[i].response_text);
    chk_result_free(&b->calls[i].result);
  }
  free(b->calls);
  free(b->scn_id);
  free(b->scn_kind);
  free(b->scn_sum);
  free(b->scn_n);
  free(b);
  *bp = NULL;
}

static double scr_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Fills the transcript fields of c from line (NULL: no line). 0 or ENOMEM. */
static int scr_take_line(scr_call *c, const json_t *line) {
  const char *status = json_string_value(json_object_get(line, "status"));
  const char *text = json_string_value(json_object_get(line, "response_text"));
  c->ok = status && strcmp(status, "ok") == 0;
  c->latency_s = scr_num(line, "latency_s");
  c->cost_usd = scr_num(line, "cost_usd");
  c->gpu_hours = scr_num(line, "gpu_hours");
  c->tokens_in = (int64_t)scr_num(line, "tokens_in");
  c->tokens_out = (int64_t)scr_num(line, "tokens_out");
  if (text && !(c->response_text = strdup(text)))
    return FS_ENOMEM;
  return 0;
}

/* Maps and scores call c (from llm_call in). 0, FS_EINVAL or FS_ENOMEM. */
static int scr_score_call(scr_call *c, const llm_call *in, const scr_truth *t,
                          const scr_lists *lists, const chk_list *none, const chk_list *shift) {
  int nscn = t->scenarios ? t->scenarios->n : 0;
  const char *text = c->ok ? c->response_text : NULL; /* an error is a missed answer */
  snprintf(c->scenario, sizeof c->scenario, "none");
  if (in->layer == LLM_L4) {
    double win = scr_window_s(in->context);
    double t0 = win > 0 ? in->t_s - win : -INFINITY;
    const chk_list **l = calloc((size_t)nscn + 1, sizeof *l);
    const char **pre = calloc((size_t)nscn + 1, sizeof *pre);
    if (!l || !pre || !(c->scn = calloc((size_t)nscn + 1, sizeof *c->scn))) {
      free(l);
      free(pre);
      return FS_ENOMEM;
    }
    l[0] = shift;
    int nl = 1;
    size_t len = 0;
    for (int k = 0; k < nscn; k++) {
      const scn_def *s = &t->scenarios->s[k];
      double start = (double)s->t_start * t->scrape_interval_s;
      double end = (double)s->t_end * t->scrape_interval_s;
      if (!(start < in->t_s && end > t0))
        continue;
      c->scn[c->nscn++] = k;
      l[nl] = lists[k].l4;
      pre[nl++] = s->id;
      len += (size_t)snprintf(c->scenario + len, len < sizeof c->scenario ? sizeof c->scenario - len : 0,
                              "%s%s", c->nscn > 1 ? "+" : "", s->id);
      if (len >= sizeof c->scenario)
        len = sizeof c->scenario - 1;
    }
    if (c->nscn == 0)
      snprintf(c->scenario, sizeof c->scenario, "none");
    int rc = chk_score(&c->result, l, pre, nl, 4, text);
    free(l);
    free(pre);
    return rc;
  }
  scr_place p;
  scr_read_place(in->context, t->f, &p);
  int k = scr_map_event(t, in->t_s, &p);
  if (k < 0) {
    /* L2: noise or transient is right; L3 on no scenario has nothing to find */
    return chk_score(&c->result, &none, NULL, in->layer == LLM_L2 ? 1 : 0, (int)in->layer, text);
  }
  if (!(c->scn = malloc(sizeof *c->scn)))
    return FS_ENOMEM;
  c->scn[c->nscn++] = k;
  snprintf(c->scenario, sizeof c->scenario, "%s", t->scenarios->s[k].id);
  /* the event node's tenant; unknown: the list whose {tenant} patterns are left out */
  int ten = p.node >= 0 ? t->f->node_tenant[p.node] : p.tenant;
  const chk_list *l = in->layer == LLM_L3 ? lists[k].l3 : lists[k].l2[ten >= 0 ? ten : TENANT_COUNT];
  return chk_score(&c->result, &l, NULL, 1, (int)in->layer, text);
}

/* Fills the layer statistics, cost and accuracy by scenario. 0 or ENOMEM. */
static int scr_aggregate(scr_backend *b) {
  double *acc = malloc(sizeof(double) * ((size_t)b->ncalls + 1));
  double *lat = malloc(sizeof(double) * ((size_t)b->ncalls + 1));
  if (!acc || !lat) {
    free(acc);
    free(lat);
    return FS_ENOMEM;
  }
  for (int li = 0; li < SCR_LAYERS; li++) {
    scr_layer_stats *s = &b->layer[li];
    int na = 0, nl = 0;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < b->ncalls; i++) {
      const scr_call *c = &b->calls[i];
      if ((int)c->layer != li + 2)
        continue;
      s->calls++;
      s->errors += !c->ok;
      s->unparsable += c->ok && strncmp(c->result.note, "unparsable", 10) == 0;
      acc[na++] = c->result.score;
      if (c->ok)
        lat[nl++] = c->latency_s;
    }
    scr_mean_sd(acc, na, &s->acc_mean, &s->acc_sd);
    scr_mean_sd(lat, nl, &s->lat_mean_s, &s->lat_sd_s);
    qsort(lat, (size_t)nl, sizeof *lat, scr_cmp_double);
    s->lat_p50_s = scr_percentile(lat, nl, 50);
    s->lat_p95_s = scr_percentile(lat, nl, 95);
  }
  for (int i = 0; i < b->ncalls; i++) {
    const scr_call *c = &b->calls[i];
    b->cost_usd += c->cost_usd;
    b->gpu_hours += c->gpu_hours;
    for (int j = 0; j < c->nscn; j++) {
      b->scn_sum[c->scn[j]] += c->result.score;
      b->scn_n[c->scn[j]]++;
    }
  }
  free(acc);
  free(lat);
  return 0;
}

int scr_score_backend(scr_backend **out, const char *name, const scr_truth *t,
                      const llm_call *calls, int ncalls, const json_t *transcript) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (!name || !t || !t->f || !t->checklists || ncalls < 0 || (ncalls > 0 && !calls) ||
      !(t->scrape_interval_s > 0) || !(t->run_seconds > 0) ||
      (transcript && !json_is_array(transcript))) {
    diag_addf("scorer: invalid input for backend '%s'", name ? name : "(null)");
    return FS_EINVAL;
  }
  int nscn = t->scenarios ? t->scenarios->n : 0;
  size_t nlines = transcript ? json_array_size(transcript) : 0;
  scr_backend *b = calloc(1, sizeof *b);
  scr_key *keys = calloc(nlines + 1, sizeof *keys);
  scr_lists *lists = NULL;
  chk_list *none = NULL, *shift = NULL;
  int rc = 0;
  if (!b || !keys || !(b->calls = calloc((size_t)ncalls + 1, sizeof *b->calls)) ||
      !(b->scn_id = calloc((size_t)nscn + 1, sizeof *b->scn_id)) ||
      !(b->scn_kind = calloc((size_t)nscn + 1, sizeof *b->scn_kind)) ||
      !(b->scn_sum = calloc((size_t)nscn + 1, sizeof *b->scn_sum)) ||
      !(b->scn_n = calloc((size_t)nscn + 1, sizeof *b->scn_n))) {
    rc = FS_ENOMEM;
    goto done;
  }
  snprintf(b->name, sizeof b->name, "%s", name);
  b->nscn = nscn;
  b->run_seconds = t->run_seconds;
  for (int k = 0; k < nscn; k++) {
    snprintf(b->scn_id[k], SCN_ID_LEN, "%s", t->scenarios->s[k].id);
    b->scn_kind[k] = scn_kind_name(t->scenarios->s[k].kind);
  }
  if ((rc = scr_lists_build(&lists, t)) != 0 ||
      (rc = chk_compile(&none, t->checklists, "none", 2, NULL)) != 0 ||
      (rc = chk_compile(&shift, t->checklists, "shift", 4, NULL)) != 0)
    goto done;
  size_t nkeys = 0;
  for (size_t i = 0; i < nlines; i++) {
    const char *id = json_string_value(json_object_get(json_array_get(transcript, i), "call_id"));
    if (id)
      keys[nkeys++] = (scr_key){id, i};
  }
  qsort(keys, nkeys, sizeof *keys, scr_cmp_key);
  for (int i = 0; i < ncalls && !rc; i++) {
    const llm_call *in = &calls[i];
    scr_call *c = &b->calls[b->ncalls++];
    snprintf(c->call_id, sizeof c->call_id, "%s", in->call_id);
    c->layer = in->layer;
    c->event_id = in->layer == LLM_L4 ? -1 : in->event_id;
    c->t_s = in->t_s;
    if (in->layer != LLM_L2 && in->layer != LLM_L3 && in->layer != LLM_L4) {
      diag_addf("scorer: call %s has no layer L2, L3 or L4", in->call_id);
      rc = FS_EINVAL;
      break;
    }
    const json_t *line = scr_find_line(transcript, keys, nkeys, in->call_id);
    if ((rc = scr_take_line(c, line)) != 0 ||
        (rc = scr_score_call(c, in, t, lists, none, shift)) != 0)
      break;
    if (!line)
      snprintf(c->result.note, sizeof c->result.note, "no transcript line");
  }
  if (!rc)
    rc = scr_aggregate(b);
done:
  free(keys);
  scr_lists_free(lists, nscn);
  chk_list_destroy(&none);
  chk_list_destroy(&shift);
  if (rc)
    scr_backend_destroy(&b);
  *out = b;
  return rc;
}

/* ---- accessors ---------------------------------------------------------- */

const char *scr_backend_name(const scr_backend *b) { return b ? b->name : NULL; }
int scr_call_count(const scr_backend *b) { return b ? b->ncalls : 0; }

const scr_call *scr_call_at(const scr_backend *b, int i) {
  return b && i >= 0 && i < b->ncalls ? &b->calls[i] : NULL;
}

const scr_layer_stats *scr_layer(const scr_backend *b, int layer) {
  return b && layer >= 2 && layer <= 4 ? &b->layer[layer - 2] : NULL;
}

double scr_cost_per_24h_usd(const scr_backend *b) { return b->cost_usd * 86400.0 / b->run_seconds; }

double scr_mean_accuracy(const scr_backend *b) {
  double s = 0;
  int n = 0;
  for (int li = 0; li < SCR_LAYERS; li++)
    if (b->layer[li].calls > 0) {
      s += b->layer[li].acc_mean;
      n++;
    }
  return n ? s / n : NAN;
}

double scr_scenario_accuracy(const scr_backend *b, int k, int *ncalls) {
  if (!b || k < 0 || k >= b->nscn) {
    if (ncalls)
      *ncalls = 0;
    return NAN;
  }
  if (ncalls)
    *ncalls = b->scn_n[k];
  return b->scn_n[k] ? b->scn_sum[k] / b->scn_n[k] : NAN;
}

/* 1 when no other backend is at least as cheap and as accurate, and better
 * on one of the two. A backend without accuracy is never on the frontier. */
static int scr_on_frontier(const scr_backend *const *b, int n, int i) {
  double ci = scr_cost_per_24h_usd(b[i]), ai = scr_mean_accuracy(b[i]);
  if (isnan(ai))
    return 0;
  for (int j = 0; j < n; j++) {
    double cj = scr_cost_per_24h_usd(b[j]), aj = scr_mean_accuracy(b[j]);
    if (j != i && !isnan(aj) && cj <= ci && aj >= ai && (cj < ci || aj > ai))
      return 0;
  }
  return 1;
}

/* ---- output ------------------------------------------------------------- */

static json_t *scr_real(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* Sets key to a new value; a NULL value (allocation failure) marks *bad. */
static void scr_set(json_t *o, const char *key, json_t *v, int *bad) {
  if (!v || json_object_set_new(o, key, v) != 0)
    *bad = 1;
}

int scr_write_calls_jsonl(FILE *out, const scr_backend *b) {
  if (!out || !b)
    return FS_EINVAL;
  for (int i = 0; i < b->ncalls; i++) {
    const scr_call *c = &b->calls[i];
    int bad = 0;
    json_t *o = json_object(), *items = json_array();
    if (!o || !items) {
      json_decref(o);
      json_decref(items);
      return FS_ENOMEM;
    }
    scr_set(o, "backend", json_string(b->name), &bad);
    scr_set(o, "layer", json_string(llm_layer_name(c->layer)), &bad);
    scr_set(o, "call_id", json_string(c->call_id), &bad);
    scr_set(o, "event_id", c->layer == LLM_L4 ? json_null() : json_integer(c->event_id), &bad);
    scr_set(o, "t_s", json_real(c->t_s), &bad);
    scr_set(o, "scenario", json_string(c->scenario), &bad);
    scr_set(o, "status", json_string(c->ok ? "ok" : "error"), &bad);
    scr_set(o, "latency_s", json_real(c->latency_s), &bad);
    scr_set(o, "tokens_in", json_integer(c->tokens_in), &bad);
    scr_set(o, "tokens_out", json_integer(c->tokens_out), &bad);
    scr_set(o, "cost_usd", json_real(c->cost_usd), &bad);
    scr_set(o, "response_text", c->response_text ? json_string(c->response_text) : json_null(),
            &bad);
    for (int k = 0; k < c->result.nitems; k++) {
      json_t *it = json_object();
      if (!it || json_array_append_new(items, it) != 0) {
        bad = 1;
        break;
      }
      scr_set(it, "item", json_string(c->result.items[k].item), &bad);
      scr_set(it, "matched", json_boolean(c->result.items[k].matched), &bad);
    }
    scr_set(o, "items", items, &bad);
    scr_set(o, "score", json_real(c->result.score), &bad);
    int rc = bad ? FS_ENOMEM
                 : json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) ||
                           fputc('\n', out) == EOF
                       ? FS_EIO
                       : 0;
    json_decref(o);
    if (rc)
      return rc;
  }
  return 0;
}

static json_t *scr_layer_json(const scr_layer_stats *s, int *bad) {
  json_t *o = json_object();
  if (!o) {
    *bad = 1;
    return NULL;
  }
  scr_set(o, "calls", json_integer(s->calls), bad);
  scr_set(o, "errors", json_integer(s->errors), bad);
  scr_set(o, "unparsable", json_integer(s->unparsable), bad);
  scr_set(o, "accuracy_mean", scr_real(s->acc_mean), bad);
  scr_set(o, "accuracy_sd", scr_real(s->acc_sd), bad);
  scr_set(o, "latency_mean_s", scr_real(s->lat_mean_s), bad);
  scr_set(o, "latency_sd_s", scr_real(s->lat_sd_s), bad);
  scr_set(o, "latency_p50_s", scr_real(s->lat_p50_s), bad);
  scr_set(o, "latency_p95_s", scr_real(s->lat_p95_s), bad);
  return o;
}

json_t *scr_summary_json(const scr_backend *const *b, int n) {
  if (n < 0 || (n > 0 && !b))
    return NULL;
  int bad = 0;
  json_t *root = json_object(), *scns = json_array(), *list = json_array();
  if (!root || !scns || !list) {
    json_decref(root);
    json_decref(scns);
    json_decref(list);
    return NULL;
  }
  scr_set(root, "run_seconds", n > 0 ? json_real(b[0]->run_seconds) : json_null(), &bad);
  for (int k = 0; n > 0 && k < b[0]->nscn; k++) {
    json_t *s = json_object();
    if (!s || json_array_append_new(scns, s) != 0) {
      bad = 1;
      break;
    }
    scr_set(s, "id", json_string(b[0]->scn_id[k]), &bad);
    scr_set(s, "kind", json_string(b[0]->scn_kind[k]), &bad);
  }
  scr_set(root, "scenarios", scns, &bad);
  for (int i = 0; i < n && !bad; i++) {
    const scr_backend *x = b[i];
    json_t *o = json_object(), *layers = json_object(), *by = json_array();
    if (!o || json_array_append_new(list, o) != 0 || !layers || !by) {
      json_decref(layers);
      json_decref(by);
      bad = 1;
      break;
    }
    scr_set(o, "name", json_string(x->name), &bad);
    for (int li = 0; li < SCR_LAYERS; li++)
      scr_set(layers, llm_layer_name((llm_layer)(li + 2)), scr_layer_json(&x->layer[li], &bad),
              &bad);
    scr_set(o, "layers", layers, &bad);
    scr_set(o, "cost_usd", json_real(x->cost_usd), &bad);
    scr_set(o, "cost_per_24h_usd", json_real(scr_cost_per_24h_usd(x)), &bad);
    scr_set(o, "gpu_hours", json_real(x->gpu_hours), &bad);
    scr_set(o, "gpu_hours_per_24h", json_real(x->gpu_hours * 86400.0 / x->run_seconds), &bad);
    scr_set(o, "accuracy_mean", scr_real(scr_mean_accuracy(x)), &bad);
    scr_set(o, "pareto", json_boolean(scr_on_frontier(b, n, i)), &bad);
    for (int k = 0; k < x->nscn; k++) {
      int calls;
      double a = scr_scenario_accuracy(x, k, &calls);
      json_t *s = json_object();
      if (!s || json_array_append_new(by, s) != 0) {
        bad = 1;
        break;
      }
      scr_set(s, "id", json_string(x->scn_id[k]), &bad);
      scr_set(s, "kind", json_string(x->scn_kind[k]), &bad);
      scr_set(s, "calls", json_integer(calls), &bad);
      scr_set(s, "accuracy", scr_real(a), &bad);
    }
    scr_set(o, "accuracy_by_scenario", by, &bad);
  }
  scr_set(root, "backends", list, &bad);
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

/* "60.4% +/- 17.8%" or "n/a". */
static const char *scr_fmt_acc(const scr_layer_stats *s, char *buf, size_t cap) {
  if (s->calls == 0 || !isfinite(s->acc_mean))
    snprintf(buf, cap, "n/a");
  else
    snprintf(buf, cap, "%.1f%% +/- %.1f%%", 100 * s->acc_mean, 100 * s->acc_sd);
  return buf;
}

/* "0.73s +/- 0.07s" or "n/a". */
static const char *scr_fmt_lat(const scr_layer_stats *s, char *buf, size_t cap) {
  if (!isfinite(s->lat_mean_s))
    snprintf(buf, cap, "n/a");
  else
    snprintf(buf, cap, "%.2fs +/- %.2fs", s->lat_mean_s, s->lat_sd_s);
  return buf;
}

/* "%.2fs" of x or "n/a". */
static const char *scr_fmt_s(double x, char *buf, size_t cap) {
  if (isfinite(x))
    snprintf(buf, cap, "%.2fs", x);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

/* "| Metric | b1 | b2 |" and its rule. */
static void scr_header(FILE *out, const char *first, const scr_backend *const *b, int n) {
  fprintf(out, "| %s |", first);
  for (int i = 0; i < n; i++)
    fprintf(out, " %s |", b[i]->name);
  fprintf(out, "\n|---|");
  for (int i = 0; i < n; i++)
    fprintf(out, "---|");
  fprintf(out, "\n");
}

void scr_summary_markdown(FILE *out, const scr_backend *const *b, int n) {
  if (!out || n < 0 || (n > 0 && !b))
    return;
  char buf[64];
  fprintf(out, "## Performance Summary\n\n");
  scr_header(out, "Metric", b, n);
  for (int li = 0; li < SCR_LAYERS; li++) {
    fprintf(out, "| L%d accuracy |", li + 2);
    for (int i = 0; i < n; i++)
      fprintf(out, " %s |", scr_fmt_acc(&b[i]->layer[li], buf, sizeof buf));
    fprintf(out, "\n| L%d latency |", li + 2);
    for (int i = 0; i < n; i++)
      fprintf(out, " %s |", scr_fmt_lat(&b[i]->layer[li], buf, sizeof buf));
    fprintf(out, "\n");
  }
  fprintf(out, "| Cost (24h) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " $%.2f |", scr_cost_per_24h_usd(b[i]));
  fprintf(out, "\n| GPU-hours (24h) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " %.1f |", b[i]->gpu_hours * 86400.0 / b[i]->run_seconds);
  fprintf(out, "\n| Calls / errors (L2, L3, L4) |");
  for (int i = 0; i < n; i++)
    fprintf(out, " %d/%d, %d/%d, %d/%d |", b[i]->layer[0].calls, b[i]->layer[0].errors,
            b[i]->layer[1].calls, b[i]->layer[1].errors, b[i]->layer[2].calls,
            b[i]->layer[2].errors);
  fprintf(out, "\n\n## Accuracy by Scenario\n\n| Backend |");
  int nscn = n > 0 ? b[0]->nscn : 0;
  for (int k = 0; k < nscn; k++)
    fprintf(out, " %s: %s |", b[0]->scn_id[k], b[0]->scn_kind[k]);
  fprintf(out, "\n|---|");
  for (int k = 0; k < nscn; k++)
    fprintf(out, "---|");
  fprintf(out, "\n");
  for (int i = 0; i < n; i++) {
    fprintf(out, "| %s |", b[i]->name);
    for (int k = 0; k < nscn; k++) {
      double a = scr_scenario_accuracy(b[i], k, NULL);
      if (isfinite(a))
        fprintf(out, " %.0f%% |", 100 * a);
      else
        fprintf(out, " n/a |");
    }
    fprintf(out, "\n");
  }
  fprintf(out, "\n## Latency Distribution\n\n"
               "| Backend | L2 p50 | L2 p95 | L3 p50 | L3 p95 | L4 p50 | L4 p95 |\n"
               "|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    fprintf(out, "| %s |", b[i]->name);
    for (int li = 0; li < SCR_LAYERS; li++) {
      fprintf(out, " %s |", scr_fmt_s(b[i]->layer[li].lat_p50_s, buf, sizeof buf));
      fprintf(out, " %s |", scr_fmt_s(b[i]->layer[li].lat_p95_s, buf, sizeof buf));
    }
    fprintf(out, "\n");
  }
  fprintf(out, "\n## Cost-Accuracy Pareto Frontier\n\n"
               "| Backend | Cost (24h) | Mean accuracy (L2/L3/L4) | Frontier |\n"
               "|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    double a = scr_mean_accuracy(b[i]);
    if (isfinite(a))
      snprintf(buf, sizeof buf, "%.1f%%", 100 * a);
    else
      snprintf(buf, sizeof buf, "n/a");
    fprintf(out, "| %s | $%.2f | %s | %s |\n", b[i]->name, scr_cost_per_24h_usd(b[i]), buf,
            scr_on_frontier(b, n, i) ? "yes" : "no");
  }
}
