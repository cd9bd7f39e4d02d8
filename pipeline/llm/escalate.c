/* The escalation engine (see escalate.h): call queue with the L2 -> L3 -> L4
 * ordering rule, per-backend context additions, the four backends, and the
 * transcript DIR/llm/<name>.jsonl. It must never write an API key, a header
 * or a prompt, and every submitted call ends as exactly one line. */
#include "pipeline/llm/escalate.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "src/core/checkpoint.h"
#include "pipeline/llm/backend_rules.h"
#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/llm_wire.h"
#include "pipeline/llm/pace.h"
#include "pipeline/llm/prompts.h"
#include "pipeline/llm/transport.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

enum {
  ESC_L3_WINDOW_S = 1800, /* recent_l2_decisions: L2 calls this long before an L3 call */
  ESC_ROOT_CAUSE_MAX = 200, /* bytes of an L3 root cause kept for the L4 one-liners */
  ESC_WHY_LEN = 256,
};

/* ---- a small string map (call_id -> text or NULL) ----------------------- */

typedef struct {
  char **key;
  char **val;
  size_t cap, n;
} esc_map;

static uint64_t esc_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static size_t esc_map_slot(const esc_map *m, const char *k) {
  size_t i = (size_t)esc_hash(k) & (m->cap - 1);
  while (m->key[i] && strcmp(m->key[i], k) != 0)
    i = (i + 1) & (m->cap - 1);
  return i;
}

/* Stores copies of k and v (v may be NULL), replacing an old value. */
static int esc_map_put(esc_map *m, const char *k, const char *v) {
  if ((m->n + 1) * 2 > m->cap) {
    esc_map big = {.cap = m->cap ? m->cap * 2 : 64};
    big.key = calloc(big.cap, sizeof *big.key);
    big.val = calloc(big.cap, sizeof *big.val);
    if (!big.key || !big.val) {
      free(big.key);
      free(big.val);
      return FS_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->key[i]) {
        size_t j = esc_map_slot(&big, m->key[i]);
        big.key[j] = m->key[i];
        big.val[j] = m->val[i];
      }
    big.n = m->n;
    free(m->key);
    free(m->val);
    *m = big;
  }
  size_t i = esc_map_slot(m, k);
  char *nv = v ? strdup(v) : NULL;
  if (v && !nv)
    return FS_ENOMEM;
  if (m->key[i]) {
    free(m->val[i]);
    m->val[i] = nv;
    return 0;
  }
  if (!(m->key[i] = strdup(k))) {
    free(nv);
    return FS_ENOMEM;
  }
  m->val[i] = nv;
  m->n++;
  return 0;
}

/* 1 and *v (borrowed, may be NULL) when k is present, else 0. */
static int esc_map_get(const esc_map *m, const char *k, const char **v) {
  if (m->cap == 0)
    return 0;
  size_t i = esc_map_slot(m, k);
  if (!m->key[i])
    return 0;
  if (v)
    *v = m->val[i];
  return 1;
}

static void esc_map_free(esc_map *m) {
  for (size_t i = 0; i < m->cap; i++) {
    free(m->key[i]);
    free(m->val[i]);
  }
  free(m->key);
  free(m->val);
  memset(m, 0, sizeof *m);
}

/* ---- engine state -------------------------------------------------------- */

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE } esc_job_state;

typedef struct {
  char call_id[24];
  llm_layer layer;
  int64_t event_id;
  double t_s;
  char time[8];     /* "HH:MM" from the context's event, "" when none */
  char node[16];    /* "node-NNNN" from the context's event, "" when none */
  double hours;     /* L4: window.hours from the context */
  esc_job_state state;
  char *context;    /* until the call starts */
  char *user;       /* HTTP: the user message, while in flight (for the re-ask) */
  int reasked;
  int attempts;
  double latency_s;
  long tokens_in, tokens_out;
  double due_s, release_s, start_s; /* paced: wall seconds after the first release */
} esc_job;

/* One finished L2 answer (or error) for the L3/L4 additions. */
typedef struct {
  double t_s;
  int64_t event_id;
  char time[8];
  int cls; /* 0 real_anomaly, 1 noise, 2 transient, 3 error */
  char scope[12];
  double confidence;
} esc_l2rec;

/* One finished L3 answer for the L4 one-liners. */
typedef struct {
  double t_s;
  char time[8];
  char node[16];
  char *root_cause;
} esc_l3rec;

static const char *const esc_cls_names[4] = {"real_anomaly", "noise", "transient", "error"};

struct esc_backend {
  llm_spec spec;
  FILE *out;            /* the transcript */
  char path[4200];      /* its path */
  char *system[3];      /* system prompts of L2, L3, L4 */
  long system_tokens[3];
  tx_engine *tx;        /* openai/anthropic */
  esc_map done;         /* resume: call_id -> prior answer text (ok) or NULL (error) */
  esc_map replay;       /* replay: call_id -> response_text */
  esc_map replay_decisions; /* replay: call_id -> its line's closed-loop decision (JSON) */
  esc_decide_fn decide; /* closed loop: esc_set_decider */
  void *decide_ctx;
  esc_job **q;          /* submitted, unfinished, in submission order from qhead */
  size_t qhead, qlen, qcap;
  int running;
  esc_l2rec *l2;
  size_t nl2, capl2;
  esc_l3rec *l3;
  size_t nl3, capl3;
  double *lat;          /* latencies of finished calls */
  size_t nlat, caplat;
  pace_clock pace;      /* esc_set_pace; pace 0: not paced */
  double *queue;        /* paced: queueing delays (release to start) of finished calls */
  size_t nqueue, capqueue;
  long ok, error, skipped, tokens_in, tokens_out;
  double cost_usd, gpu_hours;
  double t_first, t_last; /* monotonic seconds; t_first < 0 until a call starts */
  int io_failed;
  int io_errno;         /* why the transcript write failed */
  char first_error[200]; /* the first failed call's error (redacted) */
};

static double esc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int esc_grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t nc = *cap ? *cap * 2 : 64;
  while (nc < need)
    nc *= 2;
  void *np = realloc(*p, nc * size);
  if (!np)
    return FS_ENOMEM;
  *p = np;
  *cap = nc;
  return 0;
}

static int esc_is_http(const esc_backend *b) {
  return b->spec.kind == LLM_KIND_OPENAI || b->spec.kind == LLM_KIND_ANTHROPIC;
}

/* ---- transcript lines ---------------------------------------------------- */

/* A valid UTF-8 copy of s (invalid bytes become U+FFFD), at most max bytes
 * of input, malloc'd. */
static char *esc_utf8_clean(const char *s, size_t max) {
  size_t n = strnlen(s, max);
  char *o = malloc(n * 3 + 1);
  if (!o)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    int good = len > 0 && i + len <= n;
    for (size_t k = 1; good && k < len; k++)
      good = ((unsigned char)s[i + k] >> 6) == 2;
    if (good && len == 2 && c < 0xC2)
      good = 0; /* overlong */
    if (good && len == 3) {
      unsigned cp = ((c & 0x0Fu) << 12) | (((unsigned char)s[i + 1] & 0x3Fu) << 6);
      good = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (good && len == 4) {
      unsigned cp = ((c & 0x07u) << 18) | (((unsigned char)s[i + 1] & 0x3Fu) << 12);
      good = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (good) {
      memcpy(o + j, s + i, len);
      j += len;
      i += len;
    } else {
      memcpy(o + j, "\xEF\xBF\xBD", 3);
      j += 3;
      i++;
    }
  }
  o[j] = '\0';
  return o;
}

static json_t *esc_text_or_null(const char *s) {
  if (!s)
    return json_null();
  char *c = esc_utf8_clean(s, LLM_ANSWER_MAX_BYTES);
  json_t *j = c ? json_string(c) : NULL;
  free(c);
  return j ? j : json_null();
}

/* A copy of s (NULL: NULL) with every occurrence of key replaced by
 * "[REDACTED]"; key NULL or empty: a plain copy. *bad on ENOMEM. */
static char *esc_redact(const char *s, const char *key, int *bad) {
  if (!s)
    return NULL;
  size_t klen = key ? strlen(key) : 0, n = 0;
  for (const char *p = s; klen && (p = strstr(p, key)) != NULL; p += klen)
    n++;
  static const char mark[] = "[REDACTED]";
  char *out = malloc(strlen(s) + n * sizeof mark + 1), *w = out;
  if (!out) {
    *bad = 1;
    return NULL;
  }
  for (const char *p = s;;) {
    const char *hit = klen ? strstr(p, key) : NULL;
    size_t take = hit ? (size_t)(hit - p) : strlen(p);
    memcpy(w, p, take);
    w += take;
    if (!hit)
      break;
    memcpy(w, mark, sizeof mark - 1);
    w += sizeof mark - 1;
    p = hit + klen;
  }
  *w = '\0';
  return out;
}

char *esc_format_line(const esc_line *l) {
  json_t *o = json_object();
  if (!o)
    return NULL;
  json_object_set_new(o, "call_id", json_string(l->call_id));
  json_object_set_new(o, "layer", json_string(llm_layer_name(l->layer)));
  json_object_set_new(o, "event_id",
                      l->layer == LLM_L4 || l->event_id < 0 ? json_null()
                                                            : json_integer(l->event_id));
  json_object_set_new(o, "t_s", json_real(l->t_s));
  json_object_set_new(o, "backend", json_string(l->backend));
  json_object_set_new(o, "kind", json_string(l->kind));
  json_object_set_new(o, "model", l->model && l->model[0] ? json_string(l->model) : json_null());
  json_object_set_new(o, "status", json_string(l->ok ? "ok" : "error"));
  json_object_set_new(o, "latency_s", json_real(l->latency_s));
  json_object_set_new(o, "tokens_in", json_integer(l->tokens_in));
  json_object_set_new(o, "tokens_out", json_integer(l->tokens_out));
  json_object_set_new(o, "cost_usd", json_real(l->cost_usd));
  json_object_set_new(o, "gpu_hours", json_real(l->gpu_hours));
  json_object_set_new(o, "attempts", json_integer(l->attempts));
  json_object_set_new(o, "error", esc_text_or_null(l->error));
  json_object_set_new(o, "response_text", esc_text_or_null(l->response_text));
  json_t *decision = l->decision ? json_loads(l->decision, 0, NULL) : NULL;
  if (decision) /* closed-loop lines only */
    json_object_set_new(o, "decision", decision);
  if (l->pace > 0) { /* paced lines only: unpaced ones stay as they always were */
    json_object_set_new(o, "pace", json_real(l->pace));
    json_object_set_new(o, "due_s", json_real(l->due_s));
    json_object_set_new(o, "release_s", json_real(l->release_s));
    json_object_set_new(o, "start_s", json_real(l->start_s));
    json_object_set_new(o, "queue_s", json_real(l->start_s - l->release_s));
  }
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
  json_decref(o);
  return s;
}

/* ---- history for the per-backend additions ------------------------------ */

static void esc_copy(char *dst, size_t len, const char *src) {
  snprintf(dst, len, "%s", src ? src : "");
}

/* Records a finished call's answer (text NULL or invalid: an error). */
static int esc_remember(esc_backend *b, const esc_job *j, int ok, const char *text) {
  if (j->layer == LLM_L2) {
    if (esc_grow((void **)&b->l2, &b->capl2, b->nl2 + 1, sizeof *b->l2))
      return FS_ENOMEM;
    esc_l2rec *r = &b->l2[b->nl2++];
    memset(r, 0, sizeof *r);
    r->t_s = j->t_s;
    r->event_id = j->event_id;
    esc_copy(r->time, sizeof r->time, j->time);
    r->cls = 3;
    json_t *a = ok && text ? llm_answer_parse(LLM_LAYER_L2, text, NULL, 0) : NULL;
    if (a) {
      const char *cls = json_string_value(json_object_get(a, "classification"));
      for (int k = 0; k < 3 && cls; k++)
        if (strcmp(cls, esc_cls_names[k]) == 0)
          r->cls = k;
      esc_copy(r->scope, sizeof r->scope, json_string_value(json_object_get(a, "scope")));
      r->confidence = json_number_value(json_object_get(a, "confidence"));
      json_decref(a);
    }
  } else if (j->layer == LLM_L3 && ok && text) {
    json_t *a = llm_answer_parse(LLM_LAYER_L3, text, NULL, 0);
    const char *rc = json_string_value(json_object_get(a, "root_cause"));
    if (rc) {
      if (esc_grow((void **)&b->l3, &b->capl3, b->nl3 + 1, sizeof *b->l3)) {
        json_decref(a);
        return FS_ENOMEM;
      }
      esc_l3rec *r = &b->l3[b->nl3];
      r->t_s = j->t_s;
      esc_copy(r->time, sizeof r->time, j->time);
      esc_copy(r->node, sizeof r->node, j->node);
      r->root_cause = strndup(rc, ESC_ROOT_CAUSE_MAX);
      if (r->root_cause)
        b->nl3++;
    }
    json_decref(a);
  }
  return 0;
}

static int esc_cmp_l2(const void *a, const void *b) {
  const esc_l2rec *x = *(esc_l2rec *const *)a, *y = *(esc_l2rec *const *)b;
  if (x->t_s != y->t_s)
    return x->t_s < y->t_s ? -1 : 1;
  return (x->event_id > y->event_id) - (x->event_id < y->event_id);
}

static int esc_cmp_l3(const void *a, const void *b) {
  const esc_l3rec *x = *(esc_l3rec *const *)a, *y = *(esc_l3rec *const *)b;
  if (x->t_s != y->t_s)
    return x->t_s < y->t_s ? -1 : 1;
  return strcmp(x->node, y->node);
}

/* The context text j is sent with: as stored for L2; for L3 with
 * "recent_l2_decisions", for L4 with "l2_counts" and "l3_analyses" from this
 * backend's answers. malloc'd. */
static char *esc_context_for(const esc_backend *b, const esc_job *j) {
  if (j->layer == LLM_L2)
    return strdup(j->context);
  json_error_t err;
  json_t *root = json_loads(j->context, 0, &err);
  if (!json_is_object(root)) {
    json_decref(root);
    return strdup(j->context);
  }
  if (j->layer == LLM_L3) {
    const esc_l2rec **sel = malloc(sizeof *sel * (b->nl2 + 1));
    size_t n = 0;
    for (size_t i = 0; sel && i < b->nl2; i++)
      if (b->l2[i].cls < 3 && b->l2[i].t_s <= j->t_s && b->l2[i].t_s >= j->t_s - ESC_L3_WINDOW_S)
        sel[n++] = &b->l2[i];
    if (sel)
      qsort(sel, n, sizeof *sel, esc_cmp_l2);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(
          arr, json_pack("{s:I,s:s,s:s,s:s,s:f}", "event_id", (json_int_t)sel[i]->event_id,
                         "time", sel[i]->time, "classification", esc_cls_names[sel[i]->cls],
                         "scope", sel[i]->scope, "confidence", sel[i]->confidence));
    free(sel);
    json_object_set_new(root, "recent_l2_decisions", arr);
  } else {
    double from = j->t_s - j->hours * 3600.0 - 1e-6;
    long counts[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < b->nl2; i++)
      if (b->l2[i].t_s > from && b->l2[i].t_s <= j->t_s + 1e-6)
        counts[b->l2[i].cls]++;
    json_t *c = json_object();
    for (int k = 0; k < 4; k++)
      json_object_set_new(c, k == 3 ? "errors" : esc_cls_names[k], json_integer(counts[k]));
    json_object_set_new(root, "l2_counts", c);
    const esc_l3rec **sel = malloc(sizeof *sel * (b->nl3 + 1));
    size_t n = 0;
    for (size_t i = 0; sel && i < b->nl3; i++)
      if (b->l3[i].t_s > from && b->l3[i].t_s <= j->t_s + 1e-6)
        sel[n++] = &b->l3[i];
    if (sel)
      qsort(sel, n, sizeof *sel, esc_cmp_l3);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
      char line[ESC_ROOT_CAUSE_MAX + 64];
      snprintf(line, sizeof line, "%s %s: %s", sel[i]->time, sel[i]->node[0] ? sel[i]->node : "-",
               sel[i]->root_cause);
      json_array_append_new(arr, esc_text_or_null(line));
    }
    free(sel);
    json_object_set_new(root, "l3_analyses", arr);
  }
  char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  json_decref(root);
  return s;
}

/* ---- finishing a call ---------------------------------------------------- */

static void esc_finish(esc_backend *b, esc_job *j, int ok, const char *error, const char *text) {
  double now = esc_now();
  if (b->t_first < 0)
    b->t_first = now;
  b->t_last = now;
  double cost = llm_cost_usd(&b->spec, j->tokens_in, j->tokens_out);
  double gpu_h = b->spec.gpu_hour_usd > 0 ? j->latency_s / 3600.0 : 0.0;
  /* an endpoint may echo the key (an error page quoting the request): it
   * never reaches the transcript, nor anything built from it */
  int bad = 0;
  const char *key = esc_is_http(b) ? llm_spec_api_key(&b->spec) : NULL;
  char *red_error = esc_redact(error, key, &bad), *red_text = esc_redact(text, key, &bad);
  error = red_error;
  text = red_text;
  esc_line l = {.call_id = j->call_id,
                .layer = j->layer,
                .event_id = j->event_id,
                .t_s = j->t_s,
                .backend = b->spec.name,
                .kind = llm_kind_name(b->spec.kind),
                .model = esc_is_http(b) ? b->spec.model : NULL,
                .ok = ok,
                .latency_s = j->latency_s,
                .tokens_in = j->tokens_in,
                .tokens_out = j->tokens_out,
                .cost_usd = cost,
                .gpu_hours = gpu_h,
                .attempts = j->attempts,
                .error = ok ? NULL : error,
                .response_text = text,
                .pace = b->pace.pace,
                .due_s = j->due_s,
                .release_s = j->release_s,
                .start_s = j->start_s};
  char *decision = NULL;
  if (b->decide && !bad) { /* closed loop: the run decides what the answer does */
    const char *recorded = NULL;
    esc_map_get(&b->replay_decisions, j->call_id, &recorded);
    bad = b->decide(b->decide_ctx, j->call_id, (int)j->layer, ok, text, recorded, &decision) != 0;
  }
  l.decision = decision;
  char *line = bad ? NULL : esc_format_line(&l);
  free(decision);
  if (!line || fputs(line, b->out) < 0 || fputc('\n', b->out) == EOF || fflush(b->out) != 0) {
    b->io_failed = 1;
    b->io_errno = line ? errno : ENOMEM;
  }
  free(line);
  if (ok)
    b->ok++;
  else if (b->error++ == 0)
    snprintf(b->first_error, sizeof b->first_error, "%s", error ? error : "(none)");
  b->tokens_in += j->tokens_in;
  b->tokens_out += j->tokens_out;
  b->cost_usd += cost;
  b->gpu_hours += gpu_h;
  if (esc_grow((void **)&b->lat, &b->caplat, b->nlat + 1, sizeof *b->lat) == 0)
    b->lat[b->nlat++] = j->latency_s;
  if (b->pace.pace > 0 &&
      esc_grow((void **)&b->queue, &b->capqueue, b->nqueue + 1, sizeof *b->queue) == 0)
    b->queue[b->nqueue++] = j->start_s - j->release_s;
  esc_remember(b, j, ok, text);
  free(red_error);
  free(red_text);
  if (j->state == JOB_RUNNING)
    b->running--;
  j->state = JOB_DONE;
  free(j->context);
  free(j->user);
  j->context = j->user = NULL;
}

/* Validates an answer of j's layer; finishes the call (ok or "parse: why"). */
static void esc_finish_checked(esc_backend *b, esc_job *j, const char *text) {
  char why[ESC_WHY_LEN], err[ESC_WHY_LEN + 16];
  if (llm_validate_answer((int)j->layer, text, why, sizeof why) == 0) {
    esc_finish(b, j, 1, NULL, text);
    return;
  }
  snprintf(err, sizeof err, "parse: %s", why);
  esc_finish(b, j, 0, err, text);
}

/* j starts now: running, and (paced) when, after the first release. */
static void esc_mark_start(esc_backend *b, esc_job *j) {
  double now = esc_now();
  j->state = JOB_RUNNING;
  b->running++;
  if (b->t_first < 0)
    b->t_first = now;
  j->start_s = pace_elapsed_s(&b->pace, now);
}

/* ---- in-process backends (rules, replay) -------------------------------- */

static void esc_run_local(esc_backend *b, esc_job *j) {
  esc_mark_start(b, j);
  char *ctx = esc_context_for(b, j);
  j->attempts = 1;
  if (!ctx) {
    esc_finish(b, j, 0, "out of memory", NULL);
    return;
  }
  j->tokens_in = b->system_tokens[j->layer - 2] + llm_estimate_tokens(ctx) + 4;
  double t0 = esc_now();
  if (b->spec.kind == LLM_KIND_RULES) {
    char *ans = NULL;
    int rc = rules_answer(j->layer, ctx, &ans);
    j->latency_s = esc_now() - t0;
    free(ctx);
    if (rc != 0 || !ans) {
      char err[96];
      snprintf(err, sizeof err, "rules: %s", fs_strerror(rc ? rc : FS_ENOMEM));
      esc_finish(b, j, 0, err, NULL);
    } else {
      j->tokens_out = llm_estimate_tokens(ans);
      esc_finish_checked(b, j, ans);
    }
    free(ans);
    return;
  }
  free(ctx);
  const char *text = NULL;
  int found = esc_map_get(&b->replay, j->call_id, &text) && text;
  j->latency_s = esc_now() - t0;
  if (!found) {
    char err[64];
    snprintf(err, sizeof err, "replay: no answer for %s", j->call_id);
    esc_finish(b, j, 0, err, NULL);
    return;
  }
  j->tokens_out = llm_estimate_tokens(text);
  esc_finish_checked(b, j, text);
}

/* ---- HTTP backends (openai, anthropic) ---------------------------------- */

/* Sends j with user message `user` (not kept). 0, or an error text in err. */
static int esc_send(esc_backend *b, esc_job *j, const char *user, char *err, size_t errlen) {
  const char *system = b->system[j->layer - 2];
  char *body = b->spec.kind == LLM_KIND_OPENAI
                   ? llm_wire_openai_request(&b->spec, (int)j->layer, system, user)
                   : llm_wire_anthropic_request(&b->spec, (int)j->layer, system, user);
  char url[LLM_SPEC_URL_LEN + 32];
  if (!body || llm_wire_endpoint(&b->spec, url, sizeof url) != 0) {
    free(body);
    snprintf(err, errlen, "request: cannot build the request body or URL");
    return FS_EINVAL;
  }
  llm_wire_headers h = {0};
  const char *key = llm_spec_api_key(&b->spec);
  int rc = b->spec.kind == LLM_KIND_OPENAI ? llm_wire_openai_headers(key, &h)
                                           : llm_wire_anthropic_headers(key, &h);
  if (rc != 0) {
    free(body);
    snprintf(err, errlen, "request: the API key in $%s is not usable in a header",
             b->spec.api_key_env);
    return rc;
  }
  const char *lines[LLM_WIRE_MAX_HEADERS + 1];
  for (int i = 0; i < h.n; i++)
    lines[i] = h.line[i];
  lines[h.n] = NULL;
  rc = tx_submit(b->tx, &(tx_request){.url = url, .headers = lines, .body = body, .user = j});
  llm_wire_headers_clear(&h);
  free(body);
  if (rc != 0)
    snprintf(err, errlen, "request: %s", fs_strerror(rc));
  return rc;
}

static void esc_start_http(esc_backend *b, esc_job *j) {
  esc_mark_start(b, j);
  char *ctx = esc_context_for(b, j);
  free(j->context);
  j->context = NULL;
  j->user = ctx ? prompt_user(ctx) : NULL;
  free(ctx);
  char err[ESC_WHY_LEN];
  if (!j->user) {
    esc_finish(b, j, 0, "out of memory", NULL);
    return;
  }
  if (esc_send(b, j, j->user, err, sizeof err) != 0)
    esc_finish(b, j, 0, err, NULL);
}

/* A failed parse or validation: one re-ask, then the error line. */
static void esc_reask_or_fail(esc_backend *b, esc_job *j, const char *why, const char *text) {
  char err[ESC_WHY_LEN + 16];
  if (!j->reasked) {
    j->reasked = 1;
    char *again = prompt_reask(j->user, why);
    if (again) {
      char serr[ESC_WHY_LEN];
      int rc = esc_send(b, j, again, serr, sizeof serr);
      free(again);
      if (rc == 0)
        return;
    }
  }
  snprintf(err, sizeof err, "parse: %s", why);
  esc_finish(b, j, 0, err, text);
}

static void esc_http_result(esc_backend *b, tx_result *r) {
  esc_job *j = r->user;
  j->attempts += r->attempts;
  j->latency_s += r->latency_s;
  if (!r->ok) {
    esc_finish(b, j, 0, r->error[0] ? r->error : "request failed",
               r->body_len > 0 ? r->body : NULL);
    return;
  }
  char *text = NULL, why[ESC_WHY_LEN];
  long tin = -1, tout = -1;
  int rc = b->spec.kind == LLM_KIND_OPENAI
               ? llm_wire_openai_parse(r->body, &text, &tin, &tout, why, sizeof why)
               : llm_wire_anthropic_parse(r->body, &text, &tin, &tout, why, sizeof why);
  j->tokens_in += tin >= 0 ? tin
                           : b->system_tokens[j->layer - 2] + llm_estimate_tokens(j->user);
  j->tokens_out += tout >= 0 ? tout : llm_estimate_tokens(text);
  if (rc != 0 || !text) {
    esc_reask_or_fail(b, j, why, r->body_len > 0 ? r->body : NULL);
  } else if (llm_validate_answer((int)j->layer, text, why, sizeof why) != 0) {
    esc_reask_or_fail(b, j, why, text);
  } else {
    esc_finish(b, j, 1, NULL, text);
  }
  free(text);
}

/* ---- queue ---------------------------------------------------------------- */

/* Drops finished jobs at the head of the queue. */
static void esc_compact(esc_backend *b) {
  while (b->qhead < b->qlen && b->q[b->qhead]->state == JOB_DONE)
    free(b->q[b->qhead++]);
  if (b->qhead > 0 && b->qhead * 2 >= b->qlen) {
    memmove(b->q, b->q + b->qhead, (b->qlen - b->qhead) * sizeof *b->q);
    b->qlen -= b->qhead;
    b->qhead = 0;
  }
}

/* 1 when j is due by the pace (always when not paced). */
static int esc_due(const esc_backend *b, const esc_job *j) {
  return b->pace.pace <= 0 || pace_elapsed_s(&b->pace, esc_now()) >= j->due_s;
}

/* Starts every queued call the ordering rule, the pace and free slots allow. */
static void esc_dispatch(esc_backend *b) {
  int l2_open = 0, any_open = 0, http = esc_is_http(b);
  for (size_t i = b->qhead; i < b->qlen; i++) {
    if (http && b->running >= b->spec.concurrency)
      break;
    esc_job *j = b->q[i];
    if (j->state == JOB_QUEUED) {
      int may = (j->layer == LLM_L2 || (j->layer == LLM_L3 && !l2_open) ||
                 (j->layer == LLM_L4 && !any_open)) &&
                esc_due(b, j);
      if (may) {
        if (http)
          esc_start_http(b, j);
        else
          esc_run_local(b, j);
      }
    }
    if (j->state != JOB_DONE) {
      any_open = 1;
      if (j->layer == LLM_L2)
        l2_open = 1;
    }
  }
  esc_compact(b);
}

/* ---- public interface --------------------------------------------------- */

/* Reads the transcript at path: every finished call's id (and, for ok
 * lines, its answer) into m; with all = 0 only ok lines with an answer. */
static int esc_load_transcript(esc_map *m, esc_map *decisions, const char *path, int all,
                               int must_exist) {
  FILE *fp = must_exist ? fopen(path, "r") : NULL; /* the run's own: never through a link */
  if (!must_exist) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && !(fp = fdopen(fd, "r")))
      close(fd);
  }
  if (!fp) {
    if (errno == ENOENT && !must_exist)
      return 0;
    diag_addf("%s %s: cannot open: %s", must_exist ? "replay: transcript" : "transcript", path,
              sf_reason(errno));
    return must_exist ? FS_EUSAGE : FS_EIO;
  }
  char *line = NULL;
  size_t cap = 0;
  int rc = 0;
  while (rc == 0 && getline(&line, &cap, fp) > 0) {
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    const char *id = json_string_value(json_object_get(o, "call_id"));
    const char *st = json_string_value(json_object_get(o, "status"));
    const char *text = json_string_value(json_object_get(o, "response_text"));
    if (id && st && strlen(id) < 24) {
      int ok = strcmp(st, "ok") == 0;
      if (all && (ok || strcmp(st, "error") == 0))
        rc = esc_map_put(m, id, ok ? (text ? text : "") : NULL);
      else if (!all && ok && text)
        rc = esc_map_put(m, id, text);
      json_t *dec = json_object_get(o, "decision");
      char *dtext = decisions && json_is_object(dec) ? json_dumps(dec, JSON_COMPACT) : NULL;
      if (rc == 0 && dtext)
        rc = esc_map_put(decisions, id, dtext);
      free(dtext);
    }
    json_decref(o);
  }
  free(line);
  fclose(fp);
  return rc;
}

void esc_close(esc_backend **bp) {
  if (!bp || !*bp)
    return;
  esc_backend *b = *bp;
  tx_destroy(&b->tx);
  for (size_t i = b->qhead; i < b->qlen; i++) {
    free(b->q[i]->context);
    free(b->q[i]->user);
    free(b->q[i]);
  }
  free(b->q);
  if (b->out)
    fclose(b->out);
  for (int k = 0; k < 3; k++)
    free(b->system[k]);
  esc_map_free(&b->done);
  esc_map_free(&b->replay);
  esc_map_free(&b->replay_decisions);
  for (size_t i = 0; i < b->nl3; i++)
    free(b->l3[i].root_cause);
  free(b->l2);
  free(b->l3);
  free(b->lat);
  free(b->queue);
  free(b);
  *bp = NULL;
}

/* Opens b->path, exclusively locked, with the run header of `run` as its
 * first line (written when the file is new or empty; an existing one must
 * be the same run). resume = 0 (a fresh run) needs a new file. */
static int esc_open_transcript(esc_backend *b, int resume, const runid *run) {
  int created = !resume; /* a fresh run's transcript is a new file */
  int rc = resume ? sf_append(b->path, 1, &b->out, &created) : sf_create(b->path, &b->out);
  if (rc != 0)
    return rc;
  /* two processes with one backend name would send every call twice */
  if (flock(fileno(b->out), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    diag_addf("%s is being written by another fleetsim (an escalate or run with backend '%s'): "
              "wait for it to finish",
              b->path, b->spec.name);
    return FS_EUSAGE;
  }
  runid_file state = RUNID_FILE_EMPTY;
  runid theirs;
  if (!created && (rc = runid_read_fd(fileno(b->out), b->path, &state, &theirs)) != 0)
    return rc;
  if (state == RUNID_FILE_NONE) {
    diag_addf("%s has no run header, so it is no transcript of this run (another program's "
              "file, or an older fleetsim's): move it away",
              b->path);
    return FS_EUSAGE;
  }
  if (state == RUNID_FILE_HEADER && !runid_same(&theirs, run)) {
    char a[160], c[160];
    runid_describe(&theirs, a, sizeof a);
    runid_describe(run, c, sizeof c);
    diag_addf("%s belongs to %s, but this is %s: move it away (run --force removes it)", b->path,
              a, c);
    return FS_EUSAGE;
  }
  /* a line torn by a crash would spoil the next one */
  if (state == RUNID_FILE_HEADER && (rc = ckpt_trim_partial_line(b->path)) != 0)
    return rc;
  if (state == RUNID_FILE_EMPTY) {
    char *line = runid_header(run);
    if (!line)
      return FS_ENOMEM;
    if (fputs(line, b->out) < 0 || fputc('\n', b->out) == EOF || fflush(b->out) != 0) {
      diag_addf("%s: cannot write: %s", b->path, strerror(errno));
      rc = FS_EIO;
    }
    free(line);
  }
  return rc;
}

int esc_open(esc_backend **out, const llm_spec *spec, const char *run_dir, int resume,
             const runid *run) {
  *out = NULL;
  if (!spec || !run_dir || !run || spec->kind < 0 || spec->kind >= LLM_KIND_COUNT)
    return FS_EINVAL;
  esc_backend *b = calloc(1, sizeof *b);
  if (!b)
    return FS_ENOMEM;
  b->spec = *spec;
  if (b->spec.concurrency < 1)
    b->spec.concurrency = 1;
  b->t_first = -1;
  pace_init(&b->pace, 0.0);
  int rc = 0;
  for (int k = 0; k < 3 && rc == 0; k++) {
    if (!(b->system[k] = prompt_system((llm_layer)(k + 2))))
      rc = FS_ENOMEM;
    else
      b->system_tokens[k] = llm_estimate_tokens(b->system[k]);
  }
  /* a process holding an API key makes no core dump (it would hold the key) */
  const char *key = esc_is_http(b) ? llm_spec_api_key(&b->spec) : NULL;
  if (key && key[0])
    prctl(PR_SET_DUMPABLE, 0);
  char *path = b->path;
  snprintf(b->path, sizeof b->path, "%s/llm/%s.jsonl", run_dir, spec->name);
  /* inputs first: a missing replay source creates no transcript */
  if (rc == 0 && spec->kind == LLM_KIND_RULES)
    rc = rules_ready();
  if (rc == 0 && spec->kind == LLM_KIND_REPLAY)
    rc = esc_load_transcript(&b->replay, &b->replay_decisions, spec->path, 0, 1);
  if (rc == 0)
    rc = esc_open_transcript(b, resume, run);
  if (rc == 0 && resume)
    rc = esc_load_transcript(&b->done, NULL, path, 1, 0);
  if (rc == 0 && esc_is_http(b)) {
    tx_options o;
    tx_options_default(&o);
    o.concurrency = b->spec.concurrency;
    o.timeout_s = spec->timeout_s > 0 ? spec->timeout_s : o.timeout_s;
    o.max_retries = spec->retries >= 0 ? spec->retries : o.max_retries;
    rc = tx_init(&b->tx, &o);
  }
  if (rc != 0) {
    esc_close(&b);
    return rc;
  }
  *out = b;
  return 0;
}

/* Fills time/node/hours of j from its context. */
static void esc_describe(esc_job *j) {
  json_error_t err;
  json_t *root = json_loads(j->context, 0, &err);
  json_t *ev = json_object_get(root, "event");
  esc_copy(j->time, sizeof j->time, json_string_value(json_object_get(ev, "time")));
  esc_copy(j->node, sizeof j->node, json_string_value(json_object_get(ev, "node")));
  json_t *win = json_object_get(root, "window");
  j->hours = json_number_value(json_object_get(win, "hours"));
  if (j->layer == LLM_L4 && !(j->hours > 0))
    j->hours = 1e9; /* no window given: everything so far */
  if (j->layer == LLM_L4)
    esc_copy(j->time, sizeof j->time, json_string_value(json_object_get(win, "to")));
  json_decref(root);
}

void esc_set_decider(esc_backend *b, esc_decide_fn fn, void *ctx) {
  b->decide = fn;
  b->decide_ctx = ctx;
}

int esc_set_pace(esc_backend *b, double pace) {
  if (!b || !pace_valid(pace) || b->qlen > 0 || b->ok + b->error + b->skipped > 0)
    return FS_EINVAL;
  pace_init(&b->pace, pace);
  return 0;
}

int esc_submit(esc_backend *b, const llm_call *c) {
  if (!b || !c || !c->context || (c->layer != LLM_L2 && c->layer != LLM_L3 && c->layer != LLM_L4))
    return FS_EINVAL;
  esc_job *j = calloc(1, sizeof *j);
  if (!j)
    return FS_ENOMEM;
  memcpy(j->call_id, c->call_id, sizeof j->call_id);
  j->call_id[sizeof j->call_id - 1] = '\0';
  j->layer = c->layer;
  j->event_id = c->event_id;
  j->t_s = c->t_s;
  if (!(j->context = strdup(c->context))) {
    free(j);
    return FS_ENOMEM;
  }
  esc_describe(j);
  const char *prior = NULL;
  if (esc_map_get(&b->done, j->call_id, &prior)) {
    b->skipped++;
    int rc = esc_remember(b, j, prior != NULL, prior);
    free(j->context);
    free(j);
    return rc;
  }
  if (esc_grow((void **)&b->q, &b->qcap, b->qlen + 1, sizeof *b->q)) {
    free(j->context);
    free(j);
    return FS_ENOMEM;
  }
  if (b->pace.pace > 0) { /* released when due, or now if it comes later */
    double now = esc_now();
    pace_start(&b->pace, j->t_s, now);
    j->due_s = pace_due_s(&b->pace, j->t_s);
    j->release_s = fmax(j->due_s, pace_elapsed_s(&b->pace, now));
  }
  b->q[b->qlen++] = j;
  return 0;
}

/* Paced: queued calls not yet due (*held), and the wall seconds until the
 * first (*next) and the last (*last) of them is due; 0 when none. */
static void esc_held(const esc_backend *b, long *held, double *next, double *last) {
  *held = 0;
  *next = *last = 0.0;
  if (b->pace.pace <= 0)
    return;
  double el = pace_elapsed_s(&b->pace, esc_now());
  for (size_t i = b->qhead; i < b->qlen; i++) {
    const esc_job *j = b->q[i];
    if (j->state != JOB_QUEUED || j->due_s <= el)
      continue;
    double left = j->due_s - el;
    *next = *held == 0 || left < *next ? left : *next;
    *last = fmax(*last, left);
    (*held)++;
  }
}

/* How long esc_poll may wait: wait_ms, but no longer than until the next
 * call is due (rounded up to a whole millisecond). */
static int esc_wait_ms(const esc_backend *b, int wait_ms) {
  long held;
  double next, last;
  esc_held(b, &held, &next, &last);
  if (held == 0 || wait_ms <= 0)
    return wait_ms;
  double ms = ceil(next * 1000.0);
  return ms < wait_ms ? (int)ms : wait_ms;
}

int esc_poll(esc_backend *b, int wait_ms) {
  if (!b)
    return FS_EINVAL;
  esc_dispatch(b);
  wait_ms = esc_wait_ms(b, wait_ms);
  if (b->tx && tx_in_flight(b->tx) > 0) {
    tx_result *done = NULL;
    int n = 0;
    int rc = tx_poll(b->tx, wait_ms, &done, &n);
    for (int i = 0; i < n; i++) {
      esc_http_result(b, &done[i]);
      tx_result_free(&done[i]);
    }
    free(done);
    if (rc == FS_EINVAL)
      return rc;
    esc_dispatch(b);
  } else if (b->pace.pace > 0 && wait_ms > 0 && esc_pending(b) > 0) {
    /* nothing in flight, calls held by the pace: sleep until the next is due */
    struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
    esc_dispatch(b);
  }
  if (b->io_failed) {
    diag_addf("%s: cannot write: %s", b->path, strerror(b->io_errno));
    return FS_EIO;
  }
  return 0;
}

int esc_pending(const esc_backend *b) {
  return b ? (int)(b->qlen - b->qhead) : 0;
}

int esc_drain(esc_backend *b) {
  int rc = 0;
  while (rc == 0 && esc_pending(b) > 0)
    rc = esc_poll(b, 100);
  return rc;
}

static int esc_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Mean, p50 and p95 (nearest rank) of v[n]; all 0 when n is 0 (p50/p95
 * also when out of memory). */
static void esc_mean_p50_p95(const double *v, size_t n, double *mean, double *p50, double *p95) {
  *mean = *p50 = *p95 = 0.0;
  if (n == 0)
    return;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  *mean = sum / (double)n;
  double *w = malloc(sizeof *w * n);
  if (!w)
    return;
  memcpy(w, v, sizeof *w * n);
  qsort(w, n, sizeof *w, esc_cmp_double);
  *p50 = w[(size_t)floor(0.50 * (double)(n - 1) + 0.5)];
  *p95 = w[(size_t)floor(0.95 * (double)(n - 1) + 0.5)];
  free(w);
}

void esc_stats(const esc_backend *b, esc_summary *s) {
  memset(s, 0, sizeof *s);
  if (!b)
    return;
  esc_copy(s->name, sizeof s->name, b->spec.name);
  s->calls_ok = b->ok;
  s->calls_error = b->error;
  s->calls_skipped = b->skipped;
  s->pending = esc_pending(b);
  s->wall_s = b->t_first >= 0 ? b->t_last - b->t_first : 0.0;
  s->tokens_in = b->tokens_in;
  s->tokens_out = b->tokens_out;
  s->cost_usd = b->cost_usd;
  s->gpu_hours = b->gpu_hours;
  esc_mean_p50_p95(b->lat, b->nlat, &s->latency_mean_s, &s->latency_p50_s, &s->latency_p95_s);
  if (b->pace.pace > 0) {
    double next, p50;
    s->pace = b->pace.pace;
    esc_held(b, &s->held, &next, &s->release_left_s);
    esc_mean_p50_p95(b->queue, b->nqueue, &s->queue_mean_s, &p50, &s->queue_p95_s);
  }
}

void esc_first_error(const esc_backend *b, char *out, size_t cap) {
  snprintf(out, cap, "%s", b && b->first_error[0] ? b->first_error : "(none)");
}

void esc_print_summary(const esc_summary *s, FILE *out) {
  fprintf(out,
          "fleetsim: backend %s: %ld calls (ok %ld, error %ld), %ld skipped, wall %.2f s, "
          "latency mean %.3f s p50 %.3f s p95 %.3f s, tokens in %ld out %ld, cost $%.4f, "
          "GPU-hours %.4f",
          s->name, s->calls_ok + s->calls_error, s->calls_ok, s->calls_error, s->calls_skipped,
          s->wall_s, s->latency_mean_s, s->latency_p50_s, s->latency_p95_s, s->tokens_in,
          s->tokens_out, s->cost_usd, s->gpu_hours);
  if (s->pace > 0) {
    char pace[PACE_TEXT_LEN];
    pace_describe(s->pace, pace, sizeof pace);
    fprintf(out, ", pace %s, queueing delay mean %.3f s p95 %.3f s", pace, s->queue_mean_s,
            s->queue_p95_s);
  }
  fputc('\n', out);
}
