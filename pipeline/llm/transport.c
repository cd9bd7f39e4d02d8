/* HTTP transport (see transport.h): FIFO queue, curl_multi transfers in at
 * most `concurrency` slots, SDK-style retries with deterministic jitter.
 * Owns no API knowledge and never prints or stores request headers. */
#include "pipeline/llm/transport.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/rng.h"
#include "version.h"

enum {
  TX_MAX_CONCURRENCY = 4096,
  TX_MAX_RETRIES = 100,
  TX_RNG_STREAM = 0x7478,  /* "tx": key domain of the retry jitter */
  TX_EXCERPT = 160,        /* body bytes quoted in an HTTP error text */
};
#define TX_RETRY_AFTER_MAX_S 60.0 /* SDKs obey server waits in (0, 60] s only */
#define TX_MAX_BODY_LIMIT ((size_t)1 << 30)

/* One request from tx_submit to its result: copies of what was submitted
 * and the retry bookkeeping. Small, so thousands can wait in the queue. */
typedef struct tx_job {
  struct tx_job *next;
  char *url;
  char *body; /* NULL for GET */
  struct curl_slist *headers;
  void *user;
  uint64_t seq;   /* submission number: the jitter's counter */
  int attempts;   /* attempts started */
  double t_first; /* monotonic start of attempt 1 */
  double t_due;   /* monotonic time the next retry may start */
} tx_job;

/* A transfer slot: one easy handle (reused, so connections and TLS sessions
 * are too), the running job, and what its current attempt received. */
typedef struct {
  tx_engine *e;
  CURL *easy;
  tx_job *job;
  char *resp;
  size_t resp_len, resp_cap;
  int too_large;
  double retry_after_ms_s; /* from "retry-after-ms", NAN when absent */
  double retry_after_s;    /* from "Retry-After", NAN when absent */
  int should_retry;        /* "x-should-retry": 1 true, 0 false, -1 absent */
  char errbuf[CURL_ERROR_SIZE];
} tx_slot;

struct tx_engine {
  tx_options o;
  CURLM *multi;
  tx_slot *slots;
  int *free_slots; /* stack of free slot indices */
  int nfree;
  tx_job *pend_head, *pend_tail; /* FIFO of never-started requests */
  tx_job *waiting;               /* retries, sorted by t_due */
  int npending, nwaiting, nrunning;
  tx_result *done; /* finished, not yet returned; capacity reserved before
                      each start so finishing never allocates */
  int ndone, done_cap;
  uint64_t next_seq;
};

static int tx_curl_ready;  /* curl_global_init done (the only mutable global) */
static char tx_empty[1];   /* the body of results without one; never freed */

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double real_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tx_options_default(tx_options *o) {
  if (!o)
    return;
  *o = (tx_options){.concurrency = 4,
                    .connect_timeout_s = 10.0,
                    .timeout_s = 120.0,
                    .max_retries = 2,
                    .backoff_initial_s = 0.5,
                    .backoff_max_s = 8.0,
                    .jitter_seed = 0,
                    .verify_tls = 1,
                    .max_body_bytes = (size_t)4 << 20};
}

/* Checks every option, reporting each problem with diag_addf. */
static int validate_options(const tx_options *o) {
  int bad = 0;
  if (o->concurrency < 1 || o->concurrency > TX_MAX_CONCURRENCY) {
    diag_addf("transport: concurrency %d not in 1..%d", o->concurrency, TX_MAX_CONCURRENCY);
    bad = 1;
  }
  if (!(o->connect_timeout_s > 0 && o->connect_timeout_s <= 86400)) {
    diag_addf("transport: connect_timeout_s %g not in (0, 86400]", o->connect_timeout_s);
    bad = 1;
  }
  if (!(o->timeout_s > 0 && o->timeout_s <= 86400)) {
    diag_addf("transport: timeout_s %g not in (0, 86400]", o->timeout_s);
    bad = 1;
  }
  if (o->max_retries < 0 || o->max_retries > TX_MAX_RETRIES) {
    diag_addf("transport: max_retries %d not in 0..%d", o->max_retries, TX_MAX_RETRIES);
    bad = 1;
  }
  if (!(o->backoff_initial_s >= 0 && o->backoff_initial_s <= 3600)) {
    diag_addf("transport: backoff_initial_s %g not in [0, 3600]", o->backoff_initial_s);
    bad = 1;
  }
  if (!(o->backoff_max_s >= o->backoff_initial_s && o->backoff_max_s <= 3600)) {
    diag_addf("transport: backoff_max_s %g not in [backoff_initial_s, 3600]", o->backoff_max_s);
    bad = 1;
  }
  if (o->verify_tls != 0 && o->verify_tls != 1) {
    diag_addf("transport: verify_tls %d is neither 0 nor 1", o->verify_tls);
    bad = 1;
  }
  if (o->max_body_bytes < 1 || o->max_body_bytes > TX_MAX_BODY_LIMIT) {
    diag_addf("transport: max_body_bytes %zu not in 1..%zu", o->max_body_bytes,
              TX_MAX_BODY_LIMIT);
    bad = 1;
  }
  return bad ? FS_EINVAL : 0;
}

int tx_init(tx_engine **out, const tx_options *o) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  tx_options opt;
  if (o)
    opt = *o;
  else
    tx_options_default(&opt);
  int rc = validate_options(&opt);
  if (rc < 0)
    return rc;
  if (!tx_curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return FS_EIO;
    tx_curl_ready = 1;
  }
  tx_engine *e = calloc(1, sizeof *e);
  if (!e)
    return FS_ENOMEM;
  e->o = opt;
  e->slots = calloc((size_t)opt.concurrency, sizeof *e->slots);
  e->free_slots = malloc((size_t)opt.concurrency * sizeof *e->free_slots);
  e->multi = curl_multi_init();
  rc = FS_ENOMEM;
  if (!e->slots || !e->free_slots || !e->multi)
    goto err;
  for (int i = 0; i < opt.concurrency; i++) {
    e->slots[i].e = e;
    e->free_slots[i] = opt.concurrency - 1 - i; /* slot 0 is used first */
  }
  e->nfree = opt.concurrency;
  /* Keep one idle connection per slot for reuse. */
  if (curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)opt.concurrency) != CURLM_OK) {
    rc = FS_EIO;
    goto err;
  }
  *out = e;
  return 0;
err:
  tx_destroy(&e);
  return rc;
}

static void job_free(tx_job *j) {
  if (!j)
    return;
  free(j->url);
  free(j->body);
  curl_slist_free_all(j->headers);
  free(j);
}

int tx_submit(tx_engine *e, const tx_request *r) {
  if (!e || !r || !r->url || !r->url[0])
    return FS_EINVAL;
  int has_ctype = 0;
  if (r->headers)
    for (const char *const *h = r->headers; *h; h++) {
      if (strpbrk(*h, "\r\n"))
        return FS_EINVAL; /* header injection; say nothing about the value */
      if (strncasecmp(*h, "content-type:", 13) == 0)
        has_ctype = 1;
    }
  tx_job *j = calloc(1, sizeof *j);
  if (!j)
    return FS_ENOMEM;
  j->url = strdup(r->url);
  if (!j->url)
    goto nomem;
  if (r->body && !(j->body = strdup(r->body)))
    goto nomem;
  if (r->headers)
    for (const char *const *h = r->headers; *h; h++) {
      struct curl_slist *l = curl_slist_append(j->headers, *h);
      if (!l)
        goto nomem;
      j->headers = l;
    }
  if (r->body) {
    const char *extra[] = {has_ctype ? NULL : "Content-Type: application/json",
                           "Expect:" /* no 100-continue round trip */};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
      if (!extra[i])
        continue;
      struct curl_slist *l = curl_slist_append(j->headers, extra[i]);
      if (!l)
        goto nomem;
      j->headers = l;
    }
  }
  j->user = r->user;
  j->seq = e->next_seq++;
  if (e->pend_tail)
    e->pend_tail->next = j;
  else
    e->pend_head = j;
  e->pend_tail = j;
  e->npending++;
  return 0;
nomem:
  job_free(j);
  return FS_ENOMEM;
}

int tx_in_flight(const tx_engine *e) {
  return e ? e->npending + e->nwaiting + e->nrunning + e->ndone : 0;
}

/* Makes room for `need` finished results. */
static int reserve_done(tx_engine *e, int need) {
  if (need <= e->done_cap)
    return 0;
  int cap = e->done_cap ? e->done_cap : 16;
  while (cap < need)
    cap *= 2;
  tx_result *d = realloc(e->done, (size_t)cap * sizeof *d);
  if (!d)
    return FS_ENOMEM;
  e->done = d;
  e->done_cap = cap;
  return 0;
}

/* ---- libcurl callbacks ------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  tx_slot *s = ud;
  size_t len = size * n, limit = s->e->o.max_body_bytes;
  if (len > limit - s->resp_len) {
    s->too_large = 1;
    return 0; /* != len: curl aborts with CURLE_WRITE_ERROR */
  }
  if (s->resp_len + len + 1 > s->resp_cap) {
    size_t cap = s->resp_cap ? s->resp_cap : 4096;
    while (cap < s->resp_len + len + 1)
      cap *= 2;
    if (cap > limit + 1)
      cap = limit + 1;
    char *b = realloc(s->resp, cap);
    if (!b)
      return 0;
    s->resp = b;
    s->resp_cap = cap;
  }
  memcpy(s->resp + s->resp_len, p, len);
  s->resp_len += len;
  s->resp[s->resp_len] = '\0';
  return len;
}

/* Parses a whole string as a finite number (surrounding blanks allowed). */
static int parse_number(const char *v, double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || errno != 0 || !isfinite(x))
    return 0;
  while (*end == ' ' || *end == '\t')
    end++;
  if (*end)
    return 0;
  *out = x;
  return 1;
}

/* Records the retry hints of the answer; never stores any other header. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  tx_slot *s = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new (e.g. after 1xx) response */
    s->retry_after_ms_s = NAN;
    s->retry_after_s = NAN;
    s->should_retry = -1;
    return len;
  }
  static const char *const names[] = {"retry-after-ms:", "retry-after:", "x-should-retry:"};
  for (int k = 0; k < 3; k++) {
    size_t nl = strlen(names[k]);
    if (len <= nl || strncasecmp(p, names[k], nl) != 0)
      continue;
    char v[128];
    size_t a = nl, b = len;
    while (a < b && (p[a] == ' ' || p[a] == '\t'))
      a++;
    while (b > a && isspace((unsigned char)p[b - 1]))
      b--;
    if (b - a >= sizeof v)
      return len;
    memcpy(v, p + a, b - a);
    v[b - a] = '\0';
    double x;
    if (k == 0) {
      if (parse_number(v, &x))
        s->retry_after_ms_s = x / 1000.0;
    } else if (k == 1) {
      if (parse_number(v, &x)) {
        s->retry_after_s = x;
      } else {
        time_t t = curl_getdate(v, NULL); /* HTTP-date */
        if (t != (time_t)-1)
          s->retry_after_s = (double)t - real_s();
      }
    } else {
      s->should_retry = strcmp(v, "true") == 0 ? 1 : strcmp(v, "false") == 0 ? 0 : -1;
    }
    return len;
  }
  return len;
}

/* ---- starting and finishing attempts ---------------------------------- */

static void finish(tx_engine *e, tx_job *j, int ok, long status, char *body, size_t body_len,
                   double now, const char *error) {
  tx_result *r = &e->done[e->ndone++]; /* capacity reserved before the start */
  *r = (tx_result){.user = j->user,
                   .ok = ok,
                   .http_status = status,
                   .body = body,
                   .body_len = body ? body_len : 0,
                   .latency_s = j->attempts > 0 ? now - j->t_first : 0.0,
                   .attempts = j->attempts};
  if (!r->body)
    r->body = tx_empty;
  snprintf(r->error, sizeof r->error, "%s", error ? error : "");
  job_free(j);
}

/* Starts the next attempt of j in a free slot; on a local failure finishes
 * it with an error (not retried). */
static void start(tx_engine *e, tx_job *j, double now) {
  tx_slot *s = &e->slots[e->free_slots[--e->nfree]];
  if (!s->easy)
    s->easy = curl_easy_init();
  else
    curl_easy_reset(s->easy);
  if (j->attempts == 0)
    j->t_first = now;
  j->attempts++;
  if (!s->easy) {
    e->free_slots[e->nfree++] = (int)(s - e->slots);
    finish(e, j, 0, 0, NULL, 0, now, "cannot create a libcurl handle (out of memory)");
    return;
  }
  s->job = j;
  s->resp_len = 0;
  s->too_large = 0;
  s->retry_after_ms_s = NAN;
  s->retry_after_s = NAN;
  s->should_retry = -1;
  s->errbuf[0] = '\0';
  CURL *c = s->easy;
  int bad = 0;
#define SET(opt, val) bad |= curl_easy_setopt(c, opt, val) != CURLE_OK
  SET(CURLOPT_URL, j->url);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PRIVATE, (void *)s);
  SET(CURLOPT_ERRORBUFFER, s->errbuf);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, (void *)s);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, (void *)s);
  SET(CURLOPT_HTTPHEADER, j->headers);
  SET(CURLOPT_USERAGENT, "fleetsim/" FLEETSIM_VERSION);
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)ceil(e->o.connect_timeout_s * 1000.0));
  SET(CURLOPT_TIMEOUT_MS, (long)ceil(e->o.timeout_s * 1000.0));
  SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->o.max_body_bytes);
  SET(CURLOPT_ACCEPT_ENCODING, "");
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_SSL_VERIFYPEER, e->o.verify_tls ? 1L : 0L);
  SET(CURLOPT_SSL_VERIFYHOST, e->o.verify_tls ? 2L : 0L);
  if (j->body) {
    SET(CURLOPT_POSTFIELDS, j->body); /* not copied: j lives until finished */
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(j->body));
  } else {
    SET(CURLOPT_HTTPGET, 1L);
  }
#undef SET
  if (bad || curl_multi_add_handle(e->multi, c) != CURLM_OK) {
    s->job = NULL;
    e->free_slots[e->nfree++] = (int)(s - e->slots);
    finish(e, j, 0, 0, NULL, 0, now, "cannot set up the libcurl transfer");
    return;
  }
  e->nrunning++;
}

/* Starts ready work into free slots: due retries first (they are older),
 * then the FIFO. Returns the number started, or FS_ENOMEM. */
static int dispatch(tx_engine *e) {
  int started = 0;
  double now = mono_s();
  while (e->nfree > 0) {
    tx_job *j = NULL;
    int from_wait = e->waiting && e->waiting->t_due <= now;
    if (!from_wait && !e->pend_head)
      break;
    if (reserve_done(e, e->ndone + e->nrunning + 1) < 0)
      return FS_ENOMEM;
    if (from_wait) {
      j = e->waiting;
      e->waiting = j->next;
      e->nwaiting--;
    } else {
      j = e->pend_head;
      e->pend_head = j->next;
      if (!e->pend_head)
        e->pend_tail = NULL;
      e->npending--;
    }
    j->next = NULL;
    start(e, j, now);
    started++;
  }
  return started;
}

static int retryable_status(long status, int should_retry) {
  if (should_retry >= 0)
    return should_retry;
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

/* Transport failures worth another attempt: everything but local
 * configuration, TLS verification and our own aborts. */
static int retryable_curl(CURLcode cc) {
  switch (cc) {
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
  case CURLE_NOT_BUILT_IN:
  case CURLE_OUT_OF_MEMORY:
  case CURLE_BAD_FUNCTION_ARGUMENT:
  case CURLE_UNKNOWN_OPTION:
  case CURLE_WRITE_ERROR:
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_ABORTED_BY_CALLBACK:
  case CURLE_TOO_MANY_REDIRECTS:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return 0;
  default:
    return 1;
  }
}

/* Seconds to wait before the next attempt of j (see transport.h). */
static double retry_delay(const tx_engine *e, const tx_job *j, const tx_slot *s) {
  double hint = !isnan(s->retry_after_ms_s) ? s->retry_after_ms_s : s->retry_after_s;
  if (!isnan(hint) && hint > 0 && hint <= TX_RETRY_AFTER_MAX_S)
    return hint;
  int k = j->attempts - 1; /* retries made so far */
  double d = ldexp(e->o.backoff_initial_s, k > 60 ? 60 : k);
  if (d > e->o.backoff_max_s)
    d = e->o.backoff_max_s;
  double u = rng_uniform(rng_bits(rng_key(e->o.jitter_seed, TX_RNG_STREAM, j->seq), (uint64_t)k));
  return d * (1.0 - 0.25 * u);
}

/* Inserts j into the retry list, keeping it sorted by t_due (FIFO on ties). */
static void wait_insert(tx_engine *e, tx_job *j) {
  tx_job **p = &e->waiting;
  while (*p && (*p)->t_due <= j->t_due)
    p = &(*p)->next;
  j->next = *p;
  *p = j;
  e->nwaiting++;
}

/* Printable, single-line excerpt of a body for an error text: blanks
 * collapsed, other bytes outside ASCII shown as '?', "..." when cut. */
static void excerpt(char *dst, size_t cap, const char *src, size_t len) {
  size_t o = 0, i = 0;
  int space = 0;
  for (; i < len; i++) {
    unsigned char ch = (unsigned char)src[i];
    if (isspace(ch)) {
      space = o > 0;
      continue;
    }
    if (o + space + 1 + 3 >= cap)
      break;
    if (space)
      dst[o++] = ' ';
    space = 0;
    dst[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  if (i < len && o + 3 < cap) {
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

/* What went wrong with the last attempt, for tx_result.error. */
static void describe(const tx_engine *e, const tx_slot *s, CURLcode cc, long status, int attempts,
                     char *out, size_t cap) {
  char tries[32];
  snprintf(tries, sizeof tries, "%d attempt%s", attempts, attempts == 1 ? "" : "s");
  if (s->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
    snprintf(out, cap, "response too large (over %zu bytes, HTTP %ld)", e->o.max_body_bytes,
             status);
  } else if (cc == CURLE_OK) {
    char ex[TX_EXCERPT];
    excerpt(ex, sizeof ex, s->resp ? s->resp : "", s->resp_len);
    snprintf(out, cap, "HTTP %ld after %s: %s", status, tries, ex[0] ? ex : "(empty body)");
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    int connect = strncmp(s->errbuf, "Connection timed out", 20) == 0 ||
                  strncmp(s->errbuf, "Failed to connect", 17) == 0;
    double limit = e->o.timeout_s;
    if (connect && e->o.connect_timeout_s < limit)
      limit = e->o.connect_timeout_s;
    snprintf(out, cap, "%stimeout after %g s (%s): %.150s", connect ? "connect " : "", limit,
             tries, s->errbuf);
  } else if (cc == CURLE_OUT_OF_MEMORY && status > 0) {
    /* the status line came, then libcurl refused a header line over its
     * 100 KiB limit: it says "out of memory", which misleads */
    snprintf(out, cap, "response header too large (over libcurl's 100 KiB for one header, HTTP %ld, "
                       "%s)",
             status, tries);
#if LIBCURL_VERSION_NUM >= 0x080600
  } else if (cc == CURLE_TOO_LARGE) {
    snprintf(out, cap, "response header too large (over libcurl's limit, HTTP %ld, %s)", status,
             tries);
#endif
  } else if (cc == CURLE_COULDNT_CONNECT) {
    long oserr = 0;
    curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &oserr);
    snprintf(out, cap, "%s (%s): %.150s",
             oserr == ECONNREFUSED ? "connection refused" : "could not connect", tries,
             s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
  } else {
    snprintf(out, cap, "%.60s (%s): %.150s", curl_easy_strerror(cc), tries,
             s->errbuf[0] ? s->errbuf : "no detail");
  }
}

/* Collects finished transfers: schedules retries, finishes the rest.
 * Returns the number of slots freed. */
static int harvest(tx_engine *e) {
  int freed = 0, left;
  CURLMsg *m;
  while ((m = curl_multi_info_read(e->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    CURL *c = m->easy_handle;
    CURLcode cc = m->data.result;
    tx_slot *s = NULL;
    curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&s);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(e->multi, c);
    tx_job *j = s->job;
    s->job = NULL;
    e->nrunning--;
    e->free_slots[e->nfree++] = (int)(s - e->slots);
    freed++;
    double now = mono_s();

    int ok = cc == CURLE_OK && status >= 200 && status <= 299 && !s->too_large;
    int retry = 0;
    if (!ok && !s->too_large)
      retry = cc == CURLE_OK ? retryable_status(status, s->should_retry) : retryable_curl(cc);
    if (retry && j->attempts <= e->o.max_retries) {
      j->t_due = now + retry_delay(e, j, s);
      wait_insert(e, j);
      continue;
    }
    char err[sizeof((tx_result *)0)->error] = "";
    if (!ok)
      describe(e, s, cc, status, j->attempts, err, sizeof err);
    /* The body moves into the result; the slot grows a new one if needed. */
    char *body = s->resp;
    size_t len = s->resp_len;
    if (s->too_large) {
      free(body);
      body = NULL;
      len = 0;
    }
    s->resp = NULL;
    s->resp_len = s->resp_cap = 0;
    finish(e, j, ok, status, body, len, now, err);
  }
  return freed;
}

/* One round: start what can start, let curl work without waiting, collect;
 * repeats while finishing frees slots for more work. */
static int pump(tx_engine *e) {
  for (int pass = 0; pass < 4; pass++) {
    int rc = dispatch(e);
    if (rc < 0)
      return rc;
    int running;
    if (curl_multi_perform(e->multi, &running) != CURLM_OK)
      return FS_EIO;
    if (harvest(e) == 0)
      break;
  }
  return 0;
}

int tx_poll(tx_engine *e, int wait_ms, tx_result **done, int *ndone) {
  if (!e || !done || !ndone || wait_ms < 0)
    return FS_EINVAL;
  *done = NULL;
  *ndone = 0;
  double deadline = mono_s() + wait_ms / 1000.0;
  for (;;) {
    int rc = pump(e);
    if (rc < 0 && e->ndone == 0)
      return rc;
    if (rc < 0 || e->ndone > 0 || tx_in_flight(e) == 0)
      break;
    double now = mono_s();
    if (now >= deadline)
      break;
    double wait = deadline - now;
    if (e->waiting && e->nfree > 0 && e->waiting->t_due - now < wait)
      wait = e->waiting->t_due - now;
    if (e->pend_head && e->nfree > 0)
      wait = 0; /* a slot freed up in the last pass */
    int ms = (int)ceil(wait * 1000.0);
    if (ms > 0 && curl_multi_poll(e->multi, NULL, 0, ms, NULL) != CURLM_OK)
      return FS_EIO;
  }
  if (e->ndone > 0) {
    /* A copy: the engine's array keeps the room reserved for running work. */
    tx_result *out = malloc((size_t)e->ndone * sizeof *out);
    if (!out)
      return FS_ENOMEM; /* results stay for the next call */
    memcpy(out, e->done, (size_t)e->ndone * sizeof *out);
    *done = out;
    *ndone = e->ndone;
    e->ndone = 0;
  }
  return 0;
}

void tx_result_free(tx_result *r) {
  if (!r)
    return;
  if (r->body != tx_empty)
    free(r->body);
  r->body = NULL;
  r->body_len = 0;
}

void tx_destroy(tx_engine **pe) {
  if (!pe || !*pe)
    return;
  tx_engine *e = *pe;
  if (e->slots) {
    for (int i = 0; i < e->o.concurrency; i++) {
      tx_slot *s = &e->slots[i];
      if (s->job) {
        curl_multi_remove_handle(e->multi, s->easy);
        job_free(s->job);
      }
      if (s->easy)
        curl_easy_cleanup(s->easy);
      free(s->resp);
    }
  }
  for (tx_job *j = e->pend_head, *n; j; j = n) {
    n = j->next;
    job_free(j);
  }
  for (tx_job *j = e->waiting, *n; j; j = n) {
    n = j->next;
    job_free(j);
  }
  for (int i = 0; i < e->ndone; i++)
    tx_result_free(&e->done[i]);
  free(e->done);
  if (e->multi)
    curl_multi_cleanup(e->multi);
  free(e->slots);
  free(e->free_slots);
  free(e);
  *pe = NULL;
}
