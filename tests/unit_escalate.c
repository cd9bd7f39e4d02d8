/* The escalation engine's parts that need no network: transcript line
 * format (fields, nulls, invalid UTF-8), resume (finished lines skipped,
 * broken or unfinished lines redone), replay (answers, missing call_ids,
 * off-schema answers), the rules backend's one line per call, and who owns
 * a transcript: its run header (another run's or none: refused), its lock
 * (a second engine of the backend: refused), no overwrite of a fresh run's
 * file, an undumpable process once an API key is held, and pacing (the
 * release clock, no call started before it is due, the timing fields of a
 * paced line and none in an unpaced one). Ordering under
 * concurrency and the L3/L4 additions on the wire are checked against the
 * stub server in tests/e2e_escalate.sh. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pipeline/llm/escalate.h"
#include "pipeline/llm/llm_spec.h"
#include "pipeline/llm/pace.h"

static const char l2_answer[] = "{\"classification\":\"noise\",\"scope\":\"node\","
                                "\"tenant_type\":\"training\",\"confidence\":0.4,"
                                "\"rationale\":\"r\"}";

static void test_format_line(void) {
  esc_line l = {.call_id = "L2-000007", .layer = LLM_L2, .event_id = 7, .t_s = 1200.5,
                .backend = "b", .kind = "openai", .model = "m", .ok = 1, .latency_s = 0.25,
                .tokens_in = 10, .tokens_out = 3, .cost_usd = 1e-5, .gpu_hours = 0,
                .attempts = 1, .error = NULL, .response_text = "bad \xff\xfe utf8"};
  char *s = esc_format_line(&l);
  CHECK(s != NULL);
  json_error_t err;
  json_t *o = json_loads(s, 0, &err);
  CHECK(o != NULL);
  static const char *const fields[] = {"call_id", "layer", "event_id", "t_s", "backend", "kind",
                                       "model", "status", "latency_s", "tokens_in",
                                       "tokens_out", "cost_usd", "gpu_hours", "attempts",
                                       "error", "response_text"};
  CHECK_EQ(json_object_size(o), sizeof fields / sizeof *fields);
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    CHECK(json_object_get(o, fields[i]) != NULL);
  CHECK(strstr(s, "{\"call_id\":\"L2-000007\",\"layer\":\"L2\",\"event_id\":7,") == s);
  CHECK(strcmp(json_string_value(json_object_get(o, "status")), "ok") == 0);
  CHECK(json_is_null(json_object_get(o, "error")));
  CHECK(strstr(json_string_value(json_object_get(o, "response_text")), "\xEF\xBF\xBD") != NULL);
  json_decref(o);
  free(s);
  l = (esc_line){.call_id = "L4-02", .layer = LLM_L4, .event_id = -1, .backend = "rules",
                 .kind = "rules", .model = NULL, .ok = 0, .error = "parse: x"};
  s = esc_format_line(&l);
  o = json_loads(s, 0, &err);
  CHECK(json_is_null(json_object_get(o, "event_id")));
  CHECK(json_is_null(json_object_get(o, "model")));
  CHECK(json_is_null(json_object_get(o, "response_text")));
  CHECK(strcmp(json_string_value(json_object_get(o, "status")), "error") == 0);
  CHECK(json_object_get(o, "pace") == NULL); /* unpaced: no timing fields */
  json_decref(o);
  free(s);
  l.pace = 60;
  l.due_s = 2.5;
  l.release_s = 3.0;
  l.start_s = 3.25;
  s = esc_format_line(&l);
  o = json_loads(s, 0, &err);
  CHECK_EQ(json_object_size(o), sizeof fields / sizeof *fields + 5);
  CHECK(strstr(s, ",\"response_text\":null,\"pace\":60.0,\"due_s\":2.5,\"release_s\":3.0,"
                  "\"start_s\":3.25,\"queue_s\":0.25}") != NULL);
  json_decref(o);
  free(s);
}

static void test_pace_clock(void) {
  pace_clock c;
  pace_init(&c, 60);
  CHECK_NEAR(pace_due_s(&c, 5000), 0, 0); /* not started */
  pace_start(&c, 1200, 100.0);
  pace_start(&c, 0, 200.0); /* started once */
  CHECK_NEAR(pace_due_s(&c, 4800), 60, 1e-12);
  CHECK_NEAR(pace_due_s(&c, 600), 0, 0); /* before the first call: due at once */
  CHECK_NEAR(pace_elapsed_s(&c, 130.5), 30.5, 1e-12);
  CHECK_NEAR(pace_elapsed_s(&c, 99.0), 0, 0);
  pace_init(&c, -1); /* invalid: not paced */
  pace_start(&c, 0, 1.0);
  CHECK_NEAR(pace_due_s(&c, 1e6), 0, 0);
  CHECK(pace_valid(1) && pace_valid(1e-3) && pace_valid(PACE_MAX));
  CHECK(!pace_valid(0) && !pace_valid(-1) && !pace_valid(NAN) && !pace_valid(INFINITY) &&
        !pace_valid(PACE_MAX * 2));
  CHECK_NEAR(pace_wall_s(86400, 1440), 60, 1e-12);
  char text[PACE_TEXT_LEN];
  pace_describe(60, text, sizeof text);
  CHECK(strcmp(text, "60 (a simulated day in 0:24:00)") == 0);
  pace_describe(1e6, text, sizeof text);
  CHECK(strcmp(text, "1e+06 (a simulated day in 0.0864 s)") == 0);
}

static int count_lines(const char *path, const char *needle) {
  FILE *fp = fopen(path, "r");
  char line[65536];
  int n = 0;
  while (fp && fgets(line, sizeof line, fp))
    n += !needle || strstr(line, needle) != NULL;
  if (fp)
    fclose(fp);
  return n;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");
  CHECK(fp != NULL);
  fputs(text, fp);
  fclose(fp);
}

static runid run = {.fingerprint = "0123456789abcdef", .seed = 42, .version = "v", .git_commit = "g"};

static void test_resume_and_replay(const char *dir) {
  char llm[512], prior[600], replay[600], out[600];
  char *header = runid_header(&run);
  CHECK(header != NULL);
  snprintf(llm, sizeof llm, "%s/llm", dir);
  CHECK_EQ(mkdir(llm, 0777), 0);
  /* The replay source: answers for L2-000001 and L2-000002 (off-schema). */
  snprintf(replay, sizeof replay, "%s/source.jsonl", dir);
  char a[4096];
  esc_line l = {.call_id = "L2-000001", .layer = LLM_L2, .event_id = 1, .backend = "src",
                .kind = "openai", .ok = 1, .attempts = 1, .response_text = l2_answer};
  char *l1 = esc_format_line(&l);
  l.call_id = "L2-000002";
  l.response_text = "{\"answer\":\"fine\"}";
  char *l2 = esc_format_line(&l);
  CHECK(l1 && l2);
  snprintf(a, sizeof a, "%s\n%s\n", l1, l2);
  write_file(replay, a);
  free(l2);
  /* A prior transcript of the replay backend: L2-000001 ok, L2-000003
   * error, a torn line and a line without status (both redone). */
  snprintf(prior, sizeof prior, "%s/llm/rp.jsonl", dir);
  l.call_id = "L2-000003";
  l.ok = 0;
  l.error = "HTTP 500";
  l.response_text = NULL;
  char *l3 = esc_format_line(&l);
  CHECK(l3 != NULL);
  snprintf(a, sizeof a,
           "%s\n%s\n%s\n{\"call_id\":\"L2-000004\",\"sta\n{\"call_id\":\"L2-000005\"}\n",
           header, l1, l3);
  write_file(prior, a);
  free(l1);
  free(l3);

  llm_spec spec;
  char text[700];
  snprintf(text, sizeof text, "replay:path=%s,name=rp", replay);
  CHECK_EQ(llm_spec_parse(text, &spec), 0);
  esc_backend *b = NULL;
  CHECK_EQ(esc_open(&b, &spec, dir, 1, &run), 0);
  for (int i = 1; i <= 5; i++) {
    llm_call c = {.event_id = i, .t_s = 300.0 * i,
                  .context = "{\"layer\":\"L2\",\"event\":{\"time\":\"00:05\",\"node\":\"node-0001\"}}"};
    llm_call_id(&c, LLM_L2, i);
    CHECK_EQ(esc_submit(b, &c), 0);
  }
  llm_call c4 = {.event_id = -1, .t_s = 3600.0,
                 .context = "{\"layer\":\"L4\",\"window\":{\"from\":\"00:00\",\"to\":\"01:00\","
                            "\"hours\":1}}"};
  llm_call_id(&c4, LLM_L4, 0);
  CHECK_EQ(esc_submit(b, &c4), 0);
  CHECK_EQ(esc_drain(b), 0);
  CHECK_EQ(esc_pending(b), 0);
  esc_summary s;
  esc_stats(b, &s);
  CHECK_EQ(s.calls_skipped, 2); /* L2-000001 ok, L2-000003 error */
  CHECK_EQ(s.calls_ok, 0);
  CHECK_EQ(s.calls_error, 4); /* 000002 off-schema, 000004/000005/L4-00 not in the source */
  esc_close(&b);
  CHECK(b == NULL);
  snprintf(out, sizeof out, "%s", prior);
  CHECK_EQ(count_lines(out, "\"call_id\":\"L2-000002\""), 1);
  CHECK_EQ(count_lines(out, "\"error\":\"parse: "), 1);
  CHECK_EQ(count_lines(out, "\"error\":\"replay: no answer for L2-000004\""), 1);
  CHECK_EQ(count_lines(out, "\"error\":\"replay: no answer for L4-00\""), 1);
  CHECK_EQ(count_lines(out, "\"call_id\":\"L2-000001\""), 1); /* not redone */

  /* A second pass skips every call now in the file; while it holds the
   * transcript, another engine of the backend is refused. */
  CHECK_EQ(esc_open(&b, &spec, dir, 1, &run), 0);
  esc_backend *twin = NULL;
  CHECK_EQ(esc_open(&twin, &spec, dir, 1, &run), -8 /* FS_EUSAGE */);
  CHECK(twin == NULL);
  for (int i = 1; i <= 5; i++) {
    llm_call c = {.event_id = i, .t_s = 300.0 * i, .context = "{\"layer\":\"L2\"}"};
    llm_call_id(&c, LLM_L2, i);
    CHECK_EQ(esc_submit(b, &c), 0);
  }
  CHECK_EQ(esc_pending(b), 0);
  esc_stats(b, &s);
  CHECK_EQ(s.calls_skipped, 5);
  esc_close(&b);

  /* Another run's transcript, or a file without a run header, is refused
   * and left as it was; resume = 0 (a fresh run) never overwrites a file. */
  runid other = run;
  memcpy(other.fingerprint, "fedcba9876543210", 16);
  int lines = count_lines(out, NULL);
  CHECK_EQ(esc_open(&b, &spec, dir, 1, &other), -8 /* FS_EUSAGE */);
  CHECK_EQ(esc_open(&b, &spec, dir, 0, &run), -3 /* FS_EIO: it exists */);
  CHECK_EQ(count_lines(out, NULL), lines);
  write_file(out, "{\"call_id\":\"L2-000001\",\"status\":\"ok\"}\n");
  CHECK_EQ(esc_open(&b, &spec, dir, 1, &run), -8 /* FS_EUSAGE: no run header */);
  CHECK_EQ(count_lines(out, NULL), 1);
  unlink(out);
  CHECK_EQ(esc_open(&b, &spec, dir, 0, &run), 0); /* a new file starts with the header */
  esc_close(&b);
  CHECK_EQ(count_lines(out, NULL), 1);
  CHECK_EQ(count_lines(out, "\"fleetsim_run\":{\"fingerprint\":\"0123456789abcdef\""), 1);
  snprintf(text, sizeof text, "replay:path=%s/missing.jsonl,name=rp2", dir);
  CHECK_EQ(llm_spec_parse(text, &spec), 0);
  CHECK(esc_open(&b, &spec, dir, 1, &run) < 0);
  CHECK(b == NULL);
  esc_close(&b); /* NULL is fine */
  free(header);
}

/* Holding an API key makes the process undumpable (no core dump with it). */
static void test_no_core_with_key(const char *dir) {
  CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
  setenv("UNIT_ESCALATE_KEY", "sk-unit-not-a-real-key", 1);
  llm_spec spec;
  CHECK_EQ(llm_spec_parse("openai:base_url=https://example.invalid/v1,model=m,name=keyed,"
                          "api_key_env=UNIT_ESCALATE_KEY",
                          &spec),
           0);
  esc_backend *b = NULL;
  CHECK_EQ(esc_open(&b, &spec, dir, 0, &run), 0);
  CHECK_EQ(prctl(PR_GET_DUMPABLE), 0);
  esc_close(&b);
}

static void test_rules(const char *dir) {
  llm_spec spec;
  CHECK_EQ(llm_spec_parse("rules", &spec), 0);
  esc_backend *b = NULL;
  CHECK_EQ(esc_open(&b, &spec, dir, 0, &run), 0);
  llm_call c = {.event_id = 1, .t_s = 60, .context = "{\"layer\":\"L2\"}"};
  llm_call_id(&c, LLM_L2, 1);
  CHECK_EQ(esc_submit(b, &c), 0);
  CHECK_EQ(esc_submit(b, &(llm_call){.call_id = "x", .layer = 9, .context = "{}"}),
           -1 /* FS_EINVAL */);
  CHECK_EQ(esc_poll(b, 0), 0); /* rules answers in-process, at once */
  CHECK_EQ(esc_pending(b), 0);
  esc_summary s;
  esc_stats(b, &s);
  CHECK_EQ(s.calls_ok + s.calls_error, 1);
  esc_close(&b);
  char path[600];
  snprintf(path, sizeof path, "%s/llm/rules.jsonl", dir);
  CHECK_EQ(count_lines(path, "\"call_id\":\"L2-000001\""), 1);
  CHECK_EQ(count_lines(path, "\"kind\":\"rules\",\"model\":null"), 1);
}

/* A paced rules backend: three calls 0, 10 and 30 simulated s after the
 * first at pace 100 start no earlier than 0, 0.1 and 0.3 s after the
 * first release, and their lines say so. */
static void test_paced(const char *dir) {
  llm_spec spec;
  CHECK_EQ(llm_spec_parse("rules:name=paced", &spec), 0);
  esc_backend *b = NULL;
  CHECK_EQ(esc_open(&b, &spec, dir, 0, &run), 0);
  CHECK_EQ(esc_set_pace(b, 0), -1 /* FS_EINVAL */);
  CHECK_EQ(esc_set_pace(b, NAN), -1 /* FS_EINVAL */);
  CHECK_EQ(esc_set_pace(b, 100), 0);
  static const double t[3] = {100, 110, 130};
  for (int i = 0; i < 3; i++) {
    llm_call c = {.event_id = i, .t_s = t[i], .context = "{\"layer\":\"L2\"}"};
    llm_call_id(&c, LLM_L2, i);
    CHECK_EQ(esc_submit(b, &c), 0);
  }
  CHECK_EQ(esc_set_pace(b, 50), -1 /* FS_EINVAL: calls were submitted */);
  CHECK_EQ(esc_poll(b, 0), 0);
  CHECK_EQ(esc_pending(b), 2); /* the first is due at once, the others are held */
  esc_summary s;
  esc_stats(b, &s);
  CHECK_EQ(s.held, 2);
  CHECK(s.release_left_s > 0.2 && s.release_left_s <= 0.3);
  CHECK_EQ(esc_drain(b), 0);
  esc_stats(b, &s);
  CHECK_EQ(s.calls_ok, 3);
  CHECK_EQ(s.held, 0);
  CHECK_NEAR(s.pace, 100, 0);
  CHECK(s.wall_s >= 0.3);
  FILE *mem = tmpfile();
  esc_print_summary(&s, mem);
  rewind(mem);
  char text[512] = "";
  CHECK(fgets(text, sizeof text, mem) != NULL);
  fclose(mem);
  CHECK(strstr(text, ", pace 100 (a simulated day in 0:14:24), queueing delay mean ") != NULL);
  esc_close(&b);
  char path[600];
  snprintf(path, sizeof path, "%s/llm/paced.jsonl", dir);
  FILE *fp = fopen(path, "r");
  CHECK(fp != NULL);
  char line[65536];
  CHECK(fgets(line, sizeof line, fp) != NULL); /* the run header */
  for (int i = 0; i < 3; i++) {
    CHECK(fgets(line, sizeof line, fp) != NULL);
    json_t *o = json_loads(line, 0, NULL);
    CHECK(o != NULL);
    double due = json_real_value(json_object_get(o, "due_s"));
    double start = json_real_value(json_object_get(o, "start_s"));
    CHECK_NEAR(json_real_value(json_object_get(o, "pace")), 100, 0);
    CHECK_NEAR(due, (t[i] - t[0]) / 100, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(o, "release_s")), due, 1e-9);
    CHECK(start >= due);
    CHECK_NEAR(json_real_value(json_object_get(o, "queue_s")), start - due, 1e-8);
    json_decref(o);
  }
  fclose(fp);
}

int main(void) {
  char dir[] = "/tmp/unit_escalate.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  test_format_line();
  test_pace_clock();
  test_resume_and_replay(dir);
  test_rules(dir);
  test_paced(dir);
  test_no_core_with_key(dir);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK_EQ(system(cmd), 0);
  printf("unit_escalate: %ld checks passed\n", check_count);
  return 0;
}
