/* Scoring of one backend's calls (see scorer.h): maps calls to ground-truth
 * scenarios, scores answers strictly and the benchmark's way, aggregates the
 * benchmark's figures and prints them. Reads ground truth; decides nothing upstream. */
#include "pipeline/score/scorer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/model/events.h"
#include "pipeline/llm/llm_wire.h"
#include "pipeline/score/judge_internal.h"
#include "pipeline/score/strict_score.h"
#include "pipeline/score/truth_map.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/runid.h"

/* Score sums per layer and class (scenario k, or nscn for "none"). */
typedef struct {
  double *strict, *regex;
  int *n;
} scr_by;

struct scr_backend {
  char name[SCR_NAME_LEN];
  int ncalls;
  scr_call *calls;
  int nscn;
  char (*scn_id)[SCN_ID_LEN];
  const char **scn_kind; /* static names */
  double run_seconds;
  scr_layer_stats layer[SCR_LAYERS];
  scr_by by[SCR_LAYERS]; /* [nscn + 1] each */
  double cost_usd, gpu_hours;
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

double scr_percentile(const double *v, int n, double p) {
  if (n <= 0)
    return NAN;
  double r = p / 100.0 * (n - 1);
  int lo = (int)floor(r);
  int hi = lo + 1 < n ? lo + 1 : lo;
  return v[lo] + (r - lo) * (v[hi] - v[lo]);
}

/* ---- context reading ---------------------------------------------------- */

/* The L4 window length in seconds from a context (window.hours), or -1. */
static double scr_window_s(const json_t *root) {
  json_t *h = json_object_get(json_object_get(root, "window"), "hours");
  return json_is_number(h) && json_number_value(h) > 0 ? json_number_value(h) * 3600.0 : -1;
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
      {"tokens_out", "field 'tokens_out' is not a number of at most 1e15"},
      {"pace", "field 'pace' is not a number of at most 1e15"},
      {"queue_s", "field 'queue_s' is not a number of at most 1e15"}};
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
    chk_result_free(&b->calls[i].regex);
  }
  for (int li = 0; li < SCR_LAYERS; li++) {
    free(b->by[li].strict);
    free(b->by[li].regex);
    free(b->by[li].n);
  }
  free(b->calls);
  free(b->scn_id);
  free(b->scn_kind);
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
  c->pace = scr_num(line, "pace");
  c->queue_s = json_is_number(json_object_get(line, "queue_s")) ? scr_num(line, "queue_s") : NAN;
  if (text && !(c->response_text = strdup(text)))
    return FS_ENOMEM;
  return 0;
}

/* Scores an L4 call c: the scenarios the window covers. 0 or an FS_* code. */
static int scr_score_l4(scr_call *c, const llm_call *in, const json_t *ctx, const scr_judge *env,
                        const char *text) {
  const scr_truth *t = env->t;
  int nscn = t->scenarios ? t->scenarios->n : 0, rc = FS_ENOMEM;
  double win = scr_window_s(ctx);
  const chk_list **l = calloc((size_t)nscn + 1, sizeof *l);
  const char **pre = calloc((size_t)nscn + 1, sizeof *pre);
  tmap_state *st = calloc((size_t)nscn + 1, sizeof *st);
  if (!l || !pre || !st || !(c->scn = calloc((size_t)nscn + 1, sizeof *c->scn)))
    goto done;
  c->nscn = tmap_window(&env->tm, win > 0 ? in->t_s - win : -INFINITY, in->t_s, env->detected_s,
                        c->scn, st);
  l[0] = env->shift;
  size_t len = 0;
  for (int i = 0; i < c->nscn; i++) {
    const scn_def *s = &t->scenarios->s[c->scn[i]];
    l[1 + i] = env->lists[c->scn[i]].l4;
    pre[1 + i] = s->id;
    len += (size_t)snprintf(c->scenario + len, len < sizeof c->scenario ? sizeof c->scenario - len : 0,
                            "%s%s", i ? "+" : "", s->id);
    if (len >= sizeof c->scenario)
      len = sizeof c->scenario - 1;
  }
  if (c->nscn == 0)
    snprintf(c->scenario, sizeof c->scenario, "none");
  sct_call sc = {.truth = &env->tm, .scenario = -1, .incidents = c->scn, .states = st,
                 .nincidents = c->nscn, .context = ctx, .memo = env->memo};
  rc = sct_score(&c->result, l, pre, 1 + c->nscn, 4, text, &sc);
  if (rc == 0)
    rc = chk_score(&c->regex, l, pre, 1 + c->nscn, 4, text);
done:
  free(l);
  free(pre);
  free(st);
  return rc;
}

/* Maps and scores call c (from llm_call in). 0, FS_EINVAL or FS_ENOMEM. */
static int scr_score_call(scr_call *c, const llm_call *in, const json_t *ctx,
                          const scr_judge *env) {
  const scr_truth *t = env->t;
  const char *text = c->ok ? c->response_text : NULL; /* an error is a missed answer */
  snprintf(c->scenario, sizeof c->scenario, "none");
  int rc;
  if (in->layer == LLM_L4)
    return scr_score_l4(c, in, ctx, env, text);
  char metric[EV_METRIC_LEN];
  tmap_event ev = tmap_of_context(ctx, in->t_s, t->f, metric);
  int k = tmap_best(&env->tm, &ev);
  sct_call sc = {.truth = &env->tm, .scenario = k, .event = ev, .context = ctx, .memo = env->memo};
  const chk_list *l;
  if (k < 0) {
    l = in->layer == LLM_L2 ? env->none2 : env->none3;
    rc = sct_score(&c->result, &l, NULL, 1, (int)in->layer, text, &sc);
    /* the benchmark's way: L2 noise or transient is right; L3 on none has no items */
    if (rc == 0)
      rc = chk_score(&c->regex, &l, NULL, 1, (int)in->layer, text);
    return rc;
  }
  if (!(c->scn = malloc(sizeof *c->scn)))
    return FS_ENOMEM;
  c->scn[c->nscn++] = k;
  snprintf(c->scenario, sizeof c->scenario, "%s", t->scenarios->s[k].id);
  /* the event node's tenant; unknown: the list whose {tenant} patterns are left out */
  int ten = ev.node >= 0 ? t->f->node_tenant[ev.node] : ev.tenant;
  l = in->layer == LLM_L3 ? env->lists[k].l3 : env->lists[k].l2[ten >= 0 ? ten : TENANT_COUNT];
  sc.context = NULL;
  rc = sct_score(&c->result, &l, NULL, 1, (int)in->layer, text, &sc);
  if (rc == 0)
    rc = chk_score(&c->regex, &l, NULL, 1, (int)in->layer, text);
  return rc;
}

/* Strict and regex sums of the calls for each class at each layer. */
static void scr_sum_classes(scr_backend *b) {
  for (int i = 0; i < b->ncalls; i++) {
    const scr_call *c = &b->calls[i];
    scr_by *by = &b->by[c->layer - 2];
    for (int j = 0; j < (c->nscn ? c->nscn : 1); j++) {
      int k = c->nscn ? c->scn[j] : b->nscn;
      by->strict[k] += c->result.score;
      by->regex[k] += c->regex.score;
      by->n[k]++;
    }
  }
}

/* The mean over classes of their mean score (NAN without calls). */
static double scr_macro(const scr_by *by, int nclasses, int regex) {
  double s = 0;
  int n = 0;
  for (int k = 0; k < nclasses; k++)
    if (by->n[k] > 0) {
      s += (regex ? by->regex[k] : by->strict[k]) / by->n[k];
      n++;
    }
  return n ? s / n : NAN;
}

/* Fills the layer statistics, cost and accuracy by scenario. 0 or ENOMEM. */
static int scr_aggregate(scr_backend *b) {
  double *acc = malloc(sizeof(double) * ((size_t)b->ncalls + 1));
  double *regexs = malloc(sizeof(double) * ((size_t)b->ncalls + 1));
  double *lat = malloc(sizeof(double) * ((size_t)b->ncalls + 1));
  if (!acc || !regexs || !lat) {
    free(acc);
    free(regexs);
    free(lat);
    return FS_ENOMEM;
  }
  scr_sum_classes(b);
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
      s->unparsable += c->ok && strstr(c->result.note, "does not validate") != NULL;
      regexs[na] = c->regex.score;
      acc[na++] = c->result.score;
      if (c->ok)
        lat[nl++] = c->latency_s;
    }
    scr_mean_sd(acc, na, &s->acc_mean, &s->acc_sd);
    scr_mean_sd(regexs, na, &s->regex_mean, &s->regex_sd);
    s->acc_macro = scr_macro(&b->by[li], b->nscn + 1, 0);
    s->regex_macro = scr_macro(&b->by[li], b->nscn + 1, 1);
    scr_mean_sd(lat, nl, &s->lat_mean_s, &s->lat_sd_s);
    qsort(lat, (size_t)nl, sizeof *lat, scr_cmp_double);
    s->lat_p50_s = scr_percentile(lat, nl, 50);
    s->lat_p95_s = scr_percentile(lat, nl, 95);
  }
  for (int i = 0; i < b->ncalls; i++) {
    b->cost_usd += b->calls[i].cost_usd;
    b->gpu_hours += b->calls[i].gpu_hours;
  }
  free(acc);
  free(regexs);
  free(lat);
  return 0;
}

int scr_judge_backend(scr_backend **out, const char *name, const scr_judge *j,
                      const json_t *transcript) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (!name || !j || (transcript && !json_is_array(transcript))) {
    diag_addf("scorer: invalid input for backend '%s'", name ? name : "(null)");
    return FS_EINVAL;
  }
  const scr_truth *t = j->t;
  const llm_call *calls = j->calls;
  int ncalls = j->ncalls, nscn = t->scenarios ? t->scenarios->n : 0;
  size_t nlines = transcript ? json_array_size(transcript) : 0;
  scr_backend *b = calloc(1, sizeof *b);
  scr_key *keys = calloc(nlines + 1, sizeof *keys);
  int rc = 0;
  if (!b || !keys || !(b->calls = calloc((size_t)ncalls + 1, sizeof *b->calls)) ||
      !(b->scn_id = calloc((size_t)nscn + 1, sizeof *b->scn_id)) ||
      !(b->scn_kind = calloc((size_t)nscn + 1, sizeof *b->scn_kind))) {
    rc = FS_ENOMEM;
    goto done;
  }
  for (int li = 0; li < SCR_LAYERS; li++)
    if (!(b->by[li].strict = calloc((size_t)nscn + 1, sizeof(double))) ||
        !(b->by[li].regex = calloc((size_t)nscn + 1, sizeof(double))) ||
        !(b->by[li].n = calloc((size_t)nscn + 1, sizeof(int)))) {
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
    c->context_tokens = in->context ? llm_estimate_tokens(in->context) : 0;
    if (in->layer != LLM_L2 && in->layer != LLM_L3 && in->layer != LLM_L4) {
      diag_addf("scorer: call %s has no layer L2, L3 or L4", in->call_id);
      rc = FS_EINVAL;
      break;
    }
    const json_t *line = scr_find_line(transcript, keys, nkeys, in->call_id);
    if ((rc = scr_take_line(c, line)) != 0 || (rc = scr_score_call(c, in, j->ctx[i], j)) != 0)
      break;
    if (!line) {
      snprintf(c->result.note, sizeof c->result.note, "no transcript line");
      snprintf(c->regex.note, sizeof c->regex.note, "no transcript line");
    }
  }
  if (!rc)
    rc = scr_aggregate(b);
done:
  free(keys);
  if (rc)
    scr_backend_destroy(&b);
  *out = b;
  return rc;
}

int scr_score_backend(scr_backend **out, const char *name, const scr_truth *t,
                      const llm_call *calls, int ncalls, const json_t *transcript) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  scr_judge *j = NULL;
  int rc = scr_judge_new(&j, t, calls, ncalls);
  if (rc == 0)
    rc = scr_judge_backend(out, name, j, transcript);
  scr_judge_free(&j);
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

double scr_scenario_accuracy(const scr_backend *b, int layer, int k, int regex, int *ncalls) {
  if (ncalls)
    *ncalls = 0;
  if (!b || layer < 2 || layer > 4 || k < 0 || k > b->nscn)
    return NAN;
  const scr_by *by = &b->by[layer - 2];
  if (ncalls)
    *ncalls = by->n[k];
  return by->n[k] ? (regex ? by->regex[k] : by->strict[k]) / by->n[k] : NAN;
}

int scr_scenario_count(const scr_backend *b) { return b ? b->nscn : 0; }

const char *scr_scenario_id(const scr_backend *b, int k) {
  return !b || k < 0 || k > b->nscn ? NULL : k == b->nscn ? "none" : b->scn_id[k];
}

const char *scr_scenario_kind(const scr_backend *b, int k) {
  return !b || k < 0 || k > b->nscn ? NULL : k == b->nscn ? "none" : b->scn_kind[k];
}

int scr_on_frontier(const scr_backend *const *b, int n, int i) {
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

double scr_run_seconds(const scr_backend *b) { return b->run_seconds; }
double scr_cost_usd(const scr_backend *b) { return b->cost_usd; }
double scr_gpu_hours(const scr_backend *b) { return b->gpu_hours; }
