/* Driver for the HTTP transport (pipeline/llm/transport.c) against the loopback
 * stub server (tests/llm_stub_server.py), run by tests/net_transport.sh with
 * the server's base URL as argv[1]. Checks results, retries, timeouts,
 * concurrency timing and that tx_poll(0) never blocks; prints measurements. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/llm/transport.h"
#include "src/core/errors.h"
#include "tests/check.h"

static const char *base_url;
static const char openai_body[] =
    "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"classification "
    "of node-0042\"}]}";
static const char anthropic_body[] =
    "{\"model\":\"stub\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\","
    "\"content\":\"root_cause of node-0007\"}]}";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Options for quick tests: small backoff so failing cases finish fast. */
static tx_options quick(int concurrency) {
  tx_options o;
  tx_options_default(&o);
  o.concurrency = concurrency;
  o.backoff_initial_s = 0.1;
  o.backoff_max_s = 0.4;
  o.timeout_s = 10;
  o.jitter_seed = 42;
  return o;
}

/* Drains e: stores up to max results in out (in completion order) with the
 * time each came back (seconds since t0). Returns how many. */
static int drain(tx_engine *e, tx_result *out, double *t_back, int max, double t0) {
  int n = 0;
  while (tx_in_flight(e) > 0) {
    tx_result *done;
    int nd;
    CHECK_EQ(tx_poll(e, 200, &done, &nd), 0);
    for (int i = 0; i < nd; i++) {
      CHECK_LT(n, max);
      out[n] = done[i];
      if (t_back)
        t_back[n] = now_s() - t0;
      n++;
    }
    free(done);
  }
  return n;
}

/* One request to base_url + path with the test key (and optional extra
 * header); returns its result and the wall time. */
static tx_result call1(const tx_options *o, const char *path, const char *key,
                       const char *extra, const char *body, double *wall_s) {
  tx_engine *e;
  CHECK_EQ(tx_init(&e, o), 0);
  char url[512], keyh[128];
  snprintf(url, sizeof url, "%s%s", base_url, path);
  snprintf(keyh, sizeof keyh, "X-Test-Key: %s-%d", key, (int)getpid());
  const char *hdr[] = {keyh, extra, NULL};
  int token = 7;
  double t0 = now_s();
  CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = hdr,
                                       .body = body ? body : openai_body, .user = &token}),
           0);
  CHECK_EQ(tx_in_flight(e), 1);
  tx_result r;
  CHECK_EQ(drain(e, &r, NULL, 1, t0), 1);
  *wall_s = now_s() - t0;
  CHECK(r.user == &token);
  CHECK(r.body != NULL);
  CHECK_EQ(tx_in_flight(e), 0);
  tx_destroy(&e);
  CHECK(e == NULL);
  printf("  %-28s ok=%d status=%ld attempts=%d latency=%.3fs wall=%.3fs%s%s\n", path, r.ok,
         r.http_status, r.attempts, r.latency_s, *wall_s, r.error[0] ? " error: " : "",
         r.error);
  return r;
}

/* A loopback port with nothing listening (bound, then closed). */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_api_contract(void) {
  tx_options o;
  tx_options_default(&o);
  CHECK_EQ(o.concurrency, 4);
  CHECK_EQ(o.max_retries, 2);
  CHECK_NEAR(o.timeout_s, 120, 0);
  CHECK_NEAR(o.connect_timeout_s, 10, 0);
  CHECK_NEAR(o.backoff_initial_s, 0.5, 0);
  CHECK_NEAR(o.backoff_max_s, 8, 0);
  CHECK_EQ(o.verify_tls, 1);
  CHECK_EQ(o.max_body_bytes, 4 << 20);
  tx_engine *e = NULL;
  tx_options bad = o;
  bad.concurrency = 0;
  CHECK_EQ(tx_init(&e, &bad), FS_EINVAL);
  CHECK(e == NULL);
  bad = o;
  bad.timeout_s = 0;
  CHECK_EQ(tx_init(&e, &bad), FS_EINVAL);
  bad = o;
  bad.backoff_max_s = 0.1;
  CHECK_EQ(tx_init(&e, &bad), FS_EINVAL);
  CHECK_EQ(tx_init(NULL, &o), FS_EINVAL);
  CHECK_EQ(tx_init(&e, NULL), 0);
  CHECK_EQ(tx_submit(e, &(tx_request){.url = NULL}), FS_EINVAL);
  const char *inject[] = {"X-A: b\r\nX-Evil: 1", NULL};
  CHECK_EQ(tx_submit(e, &(tx_request){.url = "http://127.0.0.1:1/", .headers = inject}),
           FS_EINVAL);
  CHECK_EQ(tx_in_flight(e), 0);
  tx_result *done = (tx_result *)1;
  int nd = -1;
  double t0 = now_s();
  CHECK_EQ(tx_poll(e, 500, &done, &nd), 0); /* nothing in flight: returns at once */
  CHECK_RANGE(now_s() - t0, 0, 0.05);
  CHECK(done == NULL);
  CHECK_EQ(nd, 0);
  CHECK_EQ(tx_poll(e, -1, &done, &nd), FS_EINVAL);
  tx_destroy(&e);
  tx_destroy(&e);
  tx_destroy(NULL);
  tx_result_free(NULL);
  printf("ok: api contract\n");
}

static void test_success(void) {
  tx_options o = quick(1);
  double w;
  tx_result r = call1(&o, "/v1/chat/completions", "succ", "X-Echo: 31", NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.http_status, 200);
  CHECK_EQ(r.attempts, 1);
  CHECK_STREQ(r.error, "");
  CHECK_EQ(r.body_len, strlen(r.body));
  CHECK(strstr(r.body, "\"id\":\"chatcmpl-31\""));
  CHECK(strstr(r.body, "\"prompt_tokens\""));
  CHECK(strstr(r.body, "real_anomaly"));
  CHECK(r.latency_s > 0 && r.latency_s <= w);
  tx_result_free(&r);
  CHECK(r.body == NULL);

  /* Anthropic shape, with its headers; and without x-api-key: 401, not retried. */
  tx_engine *e;
  CHECK_EQ(tx_init(&e, &o), 0);
  char url[512];
  snprintf(url, sizeof url, "%s/v1/messages", base_url);
  const char *good[] = {"x-api-key: test-key", "anthropic-version: 2023-06-01", NULL};
  const char *nokey[] = {"anthropic-version: 2023-06-01", NULL};
  CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = good, .body = anthropic_body}), 0);
  CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = nokey, .body = anthropic_body}), 0);
  tx_result rs[2];
  CHECK_EQ(drain(e, rs, NULL, 2, now_s()), 2);
  CHECK_EQ(rs[0].ok, 1);
  CHECK(strstr(rs[0].body, "\"input_tokens\""));
  CHECK(strstr(rs[0].body, "root_cause"));
  CHECK_EQ(rs[1].ok, 0);
  CHECK_EQ(rs[1].http_status, 401);
  CHECK_EQ(rs[1].attempts, 1);
  tx_result_free(&rs[0]);
  tx_result_free(&rs[1]);
  tx_destroy(&e);
  printf("ok: success (openai and anthropic shapes)\n");
}

static void test_retry_after(void) {
  tx_options o = quick(2);
  o.backoff_initial_s = 0.05; /* the server's wait must win, not the backoff */
  double w;
  tx_result r = call1(&o, "/mode/429/v1/chat/completions", "r429", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.attempts, 2);
  CHECK_RANGE(r.latency_s, 1.0, 1.6);
  CHECK_RANGE(w, 1.0, 1.7);
  tx_result_free(&r);
  r = call1(&o, "/mode/429-ms/300/v1/chat/completions", "r429ms", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.attempts, 2);
  CHECK_RANGE(r.latency_s, 0.3, 0.8);
  tx_result_free(&r);
  r = call1(&o, "/mode/429-date/2/v1/chat/completions", "r429d", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.attempts, 2);
  CHECK_RANGE(r.latency_s, 0.9, 2.8);
  tx_result_free(&r);
  /* Two 429s in a row, but only one retry allowed: fails with the status. */
  o.max_retries = 1;
  r = call1(&o, "/mode/429/2/v1/chat/completions", "r429x2", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.http_status, 429);
  CHECK_EQ(r.attempts, 2);
  CHECK(strstr(r.error, "HTTP 429 after 2 attempts: "));
  CHECK(strstr(r.error, "rate limited"));
  tx_result_free(&r);
  printf("ok: Retry-After (seconds, HTTP-date) and retry-after-ms honoured\n");
}

static void test_server_errors(void) {
  tx_options o = quick(1);
  double w;
  tx_result r = call1(&o, "/mode/500-then-ok/v1/chat/completions", "r500ok", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.attempts, 2);
  CHECK_RANGE(r.latency_s, 0.075, 0.6); /* one backoff wait: 0.1 * (0.75..1) */
  tx_result_free(&r);

  r = call1(&o, "/mode/500/v1/chat/completions", "r500", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.http_status, 500);
  CHECK_EQ(r.attempts, o.max_retries + 1);
  CHECK(strncmp(r.error, "HTTP 500 after 3 attempts: ", 27) == 0);
  CHECK(strstr(r.body, "stub error 500"));
  CHECK_RANGE(r.latency_s, 0.225, 1.0); /* waits 0.1 and 0.2, each x (0.75..1) */
  tx_result_free(&r);

  static const char *const retried[] = {"408", "409", "503", "529"};
  for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++) {
    char path[128];
    snprintf(path, sizeof path, "/mode/%s/v1/chat/completions", retried[i]);
    r = call1(&o, path, "retried", NULL, NULL, &w);
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.http_status, atol(retried[i]));
    CHECK_EQ(r.attempts, 3);
    tx_result_free(&r);
  }
  static const char *const final[] = {"400", "401", "403", "404", "422"};
  for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
    char path[128], want[64];
    snprintf(path, sizeof path, "/mode/%s/v1/chat/completions", final[i]);
    r = call1(&o, path, "final", NULL, NULL, &w);
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.http_status, atol(final[i]));
    CHECK_EQ(r.attempts, 1);
    snprintf(want, sizeof want, "HTTP %s after 1 attempt: ", final[i]);
    CHECK(strncmp(r.error, want, strlen(want)) == 0);
    tx_result_free(&r);
  }
  r = call1(&o, "/mode/500-noretry/v1/chat/completions", "noretry", NULL, NULL, &w);
  CHECK_EQ(r.http_status, 500);
  CHECK_EQ(r.attempts, 1); /* x-should-retry: false */
  tx_result_free(&r);
  printf("ok: 500-then-ok, 500 always, 408/409/503/529 retried, 400/401/403/404/422 not\n");
}

static void test_network_errors(void) {
  tx_options o = quick(1);
  o.timeout_s = 1.0;
  o.max_retries = 1;
  double w;
  tx_result r = call1(&o, "/mode/hang/v1/chat/completions", "hang", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.http_status, 0);
  CHECK_EQ(r.attempts, 2);
  CHECK(strncmp(r.error, "timeout after 1 s (2 attempts)", 30) == 0);
  CHECK_RANGE(r.latency_s, 2.0, 2.8);
  tx_result_free(&r);

  o = quick(1);
  const char *saved = base_url;
  char refused[64];
  snprintf(refused, sizeof refused, "http://127.0.0.1:%d", closed_port());
  base_url = refused;
  r = call1(&o, "/v1/chat/completions", "refused", NULL, NULL, &w);
  base_url = saved;
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.http_status, 0);
  CHECK_EQ(r.attempts, 3);
  CHECK(strncmp(r.error, "connection refused (3 attempts)", 31) == 0);
  CHECK_RANGE(r.latency_s, 0.2, 1.0);
  tx_result_free(&r);

  r = call1(&o, "/mode/close/v1/chat/completions", "close", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.attempts, 3);
  CHECK(strstr(r.error, "(3 attempts)"));
  tx_result_free(&r);
  r = call1(&o, "/mode/close-then-ok/v1/chat/completions", "closeok", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  tx_result_free(&r);

  r = call1(&o, "/v1/x", "nf", NULL, NULL, &w); /* unknown endpoint: 404, final */
  CHECK_EQ(r.http_status, 404);
  CHECK_EQ(r.attempts, 1);
  tx_result_free(&r);
  printf("ok: timeout, connection refused, empty reply (all retried)\n");
}

static void test_bodies(void) {
  tx_options o = quick(1);
  double w;
  tx_result r = call1(&o, "/mode/html/v1/chat/completions", "html", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.http_status, 200);
  CHECK(strstr(r.body, "<html>"));
  tx_result_free(&r);
  r = call1(&o, "/mode/garbage/v1/chat/completions", "garbage", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.http_status, 200);
  CHECK(memcmp(r.body, "\x89PNG", 4) == 0);
  CHECK_GT(r.body_len, strlen(r.body)); /* embedded NUL bytes survive */
  CHECK_EQ(r.body[r.body_len], '\0');
  tx_result_free(&r);
  r = call1(&o, "/mode/empty/v1/chat/completions", "empty", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_EQ(r.body_len, 0);
  CHECK_STREQ(r.body, "");
  tx_result_free(&r);
  r = call1(&o, "/mode/offschema/v1/chat/completions", "offschema", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1); /* parsing is the caller's business */
  CHECK(strstr(r.body, "certainty"));
  tx_result_free(&r);
  r = call1(&o, "/mode/big/1000000/v1/chat/completions", "big1m", NULL, NULL, &w);
  CHECK_EQ(r.ok, 1);
  CHECK_GT(r.body_len, 1000000);
  tx_result_free(&r);
  r = call1(&o, "/mode/big/v1/chat/completions", "big5m", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK_EQ(r.attempts, 1);
  CHECK(strncmp(r.error, "response too large", 18) == 0);
  CHECK_EQ(r.body_len, 0);
  tx_result_free(&r);
  o.max_body_bytes = 100;
  r = call1(&o, "/v1/chat/completions", "cap100", NULL, NULL, &w);
  CHECK_EQ(r.ok, 0);
  CHECK(strncmp(r.error, "response too large", 18) == 0);
  tx_result_free(&r);
  printf("ok: html/garbage/empty/off-schema bodies returned as 200; size cap enforced\n");
}

/* n calls of slow/<ms> at concurrency c: checks ordering data and returns wall time. */
static double concurrency_run(int n, int ms, int c, const char *key, int check_order) {
  tx_options o = quick(c);
  tx_engine *e;
  CHECK_EQ(tx_init(&e, &o), 0);
  char url[512], keyh[128], echo[64];
  snprintf(url, sizeof url, "%s/mode/slow/%d/v1/chat/completions", base_url, ms);
  snprintf(keyh, sizeof keyh, "X-Test-Key: %s-%d", key, (int)getpid());
  int *ids = malloc((size_t)n * sizeof *ids);
  tx_result *rs = malloc((size_t)n * sizeof *rs);
  double *tb = malloc((size_t)n * sizeof *tb);
  CHECK(ids && rs && tb);
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    ids[i] = i;
    snprintf(echo, sizeof echo, "X-Echo: %d", i);
    const char *hdr[] = {keyh, echo, NULL};
    CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = hdr, .body = openai_body,
                                         .user = &ids[i]}),
             0);
  }
  CHECK_EQ(tx_in_flight(e), n);
  CHECK_EQ(drain(e, rs, tb, n, t0), n);
  double wall = now_s() - t0;
  int *seen = calloc((size_t)n, sizeof *seen);
  CHECK(seen);
  for (int k = 0; k < n; k++) {
    CHECK_EQ(rs[k].ok, 1);
    CHECK_EQ(rs[k].attempts, 1);
    int i = *(int *)rs[k].user;
    CHECK_RANGE(i, 0, n - 1);
    CHECK_EQ(seen[i], 0);
    seen[i] = 1;
    char want[64];
    snprintf(want, sizeof want, "\"id\":\"chatcmpl-%d\"", i); /* the answer to *this* request */
    CHECK(strstr(rs[k].body, want));
    CHECK_RANGE(rs[k].latency_s, ms / 1000.0, ms / 1000.0 + 0.3);
    if (check_order)
      CHECK_EQ(i, k); /* FIFO: concurrency 1 answers in submission order */
    tx_result_free(&rs[k]);
  }
  free(seen);
  free(ids);
  free(rs);
  free(tb);
  tx_destroy(&e);
  double ideal = (double)n * ms / 1000.0 / c;
  printf("  N=%d L=%d ms C=%d: wall %.3f s, N*L/C %.3f s, ratio %.3f (target < 1.5)\n", n, ms, c,
         wall, ideal, wall / ideal);
  return wall;
}

static void test_concurrency(void) {
  double w = concurrency_run(40, 200, 8, "conc8", 0);
  CHECK_RANGE(w, 0.9, 1.5);
  w = concurrency_run(5, 200, 1, "conc1", 1);
  CHECK_RANGE(w, 0.9, 1.5);
  w = concurrency_run(10, 50, 1, "order", 1);
  CHECK_RANGE(w, 0.45, 0.75);
  w = concurrency_run(256, 100, 32, "conc32", 0);
  CHECK_RANGE(w, 0.75, 1.2);
  printf("ok: concurrency N*L/C within 1.5x; user pointers, answers and FIFO order kept\n");
}

/* A request waiting for its retry holds no slot: with concurrency 1, three
 * plain calls submitted after a 429 (Retry-After: 1) finish long before it. */
static void test_retry_does_not_block(void) {
  tx_options o = quick(1);
  tx_engine *e;
  CHECK_EQ(tx_init(&e, &o), 0);
  char u429[512], uok[512], keyh[128];
  snprintf(u429, sizeof u429, "%s/mode/429/v1/chat/completions", base_url);
  snprintf(uok, sizeof uok, "%s/mode/slow/50/v1/chat/completions", base_url);
  snprintf(keyh, sizeof keyh, "X-Test-Key: nonblock-%d", (int)getpid());
  const char *hdr[] = {keyh, NULL};
  int tag[4] = {0, 1, 2, 3};
  double t0 = now_s();
  CHECK_EQ(tx_submit(e, &(tx_request){.url = u429, .headers = hdr, .body = openai_body,
                                       .user = &tag[0]}),
           0);
  for (int i = 1; i < 4; i++)
    CHECK_EQ(tx_submit(e, &(tx_request){.url = uok, .headers = hdr, .body = openai_body,
                                         .user = &tag[i]}),
             0);
  tx_result rs[4];
  double tb[4];
  CHECK_EQ(drain(e, rs, tb, 4, t0), 4);
  for (int k = 0; k < 3; k++) {
    CHECK(*(int *)rs[k].user == k + 1);
    CHECK_RANGE(tb[k], 0, 0.6);
  }
  CHECK(*(int *)rs[3].user == 0);
  CHECK_EQ(rs[3].attempts, 2);
  CHECK_RANGE(tb[3], 1.0, 1.8);
  printf("  plain calls back at %.3f %.3f %.3f s, the 429 one at %.3f s\n", tb[0], tb[1], tb[2],
         tb[3]);
  for (int k = 0; k < 4; k++)
    tx_result_free(&rs[k]);
  tx_destroy(&e);
  printf("ok: a request waiting to retry does not hold a slot\n");
}

/* tx_poll(e, 0) returns at once however busy the engine is. */
static void test_poll_nonblocking(void) {
  tx_options o = quick(8);
  tx_engine *e;
  CHECK_EQ(tx_init(&e, &o), 0);
  char url[512], hang[512], keyh[128];
  snprintf(url, sizeof url, "%s/mode/slow/300/v1/chat/completions", base_url);
  snprintf(hang, sizeof hang, "%s/mode/hang/v1/chat/completions", base_url);
  snprintf(keyh, sizeof keyh, "X-Test-Key: nonblock0-%d", (int)getpid());
  const char *hdr[] = {keyh, NULL};
  for (int i = 0; i < 32; i++)
    CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = hdr, .body = openai_body}), 0);
  double worst = 0, total = 0, t0 = now_s();
  long calls = 0;
  int got = 0;
  while (tx_in_flight(e) > 0) {
    tx_result *done;
    int nd;
    double t = now_s();
    CHECK_EQ(tx_poll(e, 0, &done, &nd), 0);
    double d = now_s() - t;
    worst = d > worst ? d : worst;
    total += d;
    calls++;
    for (int i = 0; i < nd; i++) {
      CHECK_EQ(done[i].ok, 1);
      tx_result_free(&done[i]);
    }
    got += nd;
    free(done);
    sleep_ms(1);
  }
  double wall = now_s() - t0;
  CHECK_EQ(got, 32);
  CHECK_RANGE(worst, 0, 0.05); /* the answers take 300 ms: no network wait */
  CHECK_RANGE(wall, 1.2, 1.8); /* 32 x 0.3 s / 8, driven by tx_poll(0) alone */
  printf("  tx_poll(0): %ld calls, worst %.3f ms, mean %.4f ms; 32 calls done in %.3f s\n", calls,
         worst * 1e3, total / (double)calls * 1e3, wall);

  /* Destroy with transfers hanging and more queued: prompt, nothing leaks. */
  for (int i = 0; i < 8; i++)
    CHECK_EQ(tx_submit(e, &(tx_request){.url = hang, .headers = hdr, .body = openai_body}), 0);
  for (int i = 0; i < 100; i++)
    CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = hdr, .body = openai_body}), 0);
  tx_result *done;
  int nd;
  CHECK_EQ(tx_poll(e, 100, &done, &nd), 0);
  CHECK_EQ(nd, 0);
  CHECK_EQ(tx_in_flight(e), 108);
  double t = now_s();
  tx_destroy(&e);
  CHECK_RANGE(now_s() - t, 0, 0.5);
  printf("ok: tx_poll(0) never blocks; destroy with work in flight is prompt\n");
}

/* Bytes the C heap has handed out and not taken back (glibc). */
static long heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return (long)mi.uordblks;
}

/* Thousands queued: memory stays about the size of the requests themselves. */
static void test_many_queued(void) {
  enum { N = 3000 };
  tx_options o = quick(16);
  tx_engine *e;
  CHECK_EQ(tx_init(&e, &o), 0);
  char url[512], keyh[128];
  snprintf(url, sizeof url, "%s/v1/chat/completions", base_url);
  snprintf(keyh, sizeof keyh, "X-Test-Key: many-%d", (int)getpid());
  const char *hdr[] = {keyh, "Authorization: Bearer not-a-real-key", NULL};
  long heap0 = heap_in_use();
  double t0 = now_s();
  for (int i = 0; i < N; i++)
    CHECK_EQ(tx_submit(e, &(tx_request){.url = url, .headers = hdr, .body = openai_body}), 0);
  double t_submit = now_s() - t0;
  long per_request = (heap_in_use() - heap0) / N;
  CHECK_EQ(tx_in_flight(e), N);
  int ok = 0, got = 0;
  while (tx_in_flight(e) > 0) {
    tx_result *done;
    int nd;
    CHECK_EQ(tx_poll(e, 100, &done, &nd), 0);
    for (int i = 0; i < nd; i++) {
      ok += done[i].ok;
      tx_result_free(&done[i]);
    }
    got += nd;
    free(done);
  }
  double wall = now_s() - t0;
  long left = heap_in_use() - heap0;
  CHECK_EQ(got, N);
  CHECK_EQ(ok, N);
  /* A queued request costs its copies (URL, body, headers: ~260 bytes here)
   * plus bookkeeping; answers are handed back, not kept. */
  CHECK_RANGE(per_request, 100, 1024);
  printf("  %d queued: submit %.1f ms, %ld heap bytes per queued request; %d ok in %.2f s "
         "(%.0f calls/s, loopback Python stub); %ld heap bytes held after all returned "
         "(16 connections, buffers)\n",
         N, t_submit * 1e3, per_request, ok, wall, N / wall, left);
  tx_destroy(&e); /* leaks: checked under valgrind and LeakSanitizer, not here */
  printf("ok: thousands queued, bounded memory\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s BASE_URL [TEST] (e.g. http://127.0.0.1:PORT concurrency)\n",
            argv[0]);
    return 2;
  }
  base_url = argv[1];
  const char *only = argc == 3 ? argv[2] : NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
      {"api_contract", test_api_contract},   {"success", test_success},
      {"retry_after", test_retry_after},     {"server_errors", test_server_errors},
      {"network_errors", test_network_errors}, {"bodies", test_bodies},
      {"concurrency", test_concurrency},     {"retry_does_not_block", test_retry_does_not_block},
      {"poll_nonblocking", test_poll_nonblocking}, {"many_queued", test_many_queued},
  };
  int ran = 0;
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    if (!only || strcmp(only, tests[i].name) == 0) {
      tests[i].fn();
      ran++;
    }
  if (ran == 0) {
    fprintf(stderr, "net_transport: no test named %s\n", only);
    return 2;
  }
  printf("net_transport: %d tests passed (%ld checks)\n", ran, check_count);
  return 0;
}
