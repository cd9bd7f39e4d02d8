/* Unit tests of the settings table (src/model/config.c): the seed's defaults, JSON
 * and flag overrides, every kind of bad input (FS_ECONFIG plus a diag message
 * naming source, key and value), cross-field validation that collects every
 * problem, and the cfg_to_json -> cfg_apply_json round trip. No MPI. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"


/* The first diag message contains every one of the NULL-terminated needles. */
#define CK_DIAG(...)                                                      \
  do {                                                                    \
    const char *needles_[] = {__VA_ARGS__, NULL};                         \
    for (int n_ = 0; needles_[n_]; n_++)                                  \
      if (!strstr(diag_first(), needles_[n_]))                            \
        CHECK_FAIL("diag_first() = \"%s\" lacks \"%s\"", diag_first(),    \
                   needles_[n_]);                                         \
    check_count++;                                                             \
  } while (0)

/* Applies json to a fresh default config; expects FS_ECONFIG and >= 1 diag. */
static void expect_json_error(const char *json) {
  fs_config c;
  cfg_defaults(&c);
  diag_clear();
  int rc = cfg_apply_json(&c, json, "bad.json");
  if (rc != FS_ECONFIG || diag_count() < 1)
    CHECK_FAIL("cfg_apply_json(%s) = %d with %d diags, want FS_ECONFIG", json, rc,
               diag_count());
  check_count++;
}

/* Sets key=value on a fresh default config; expects FS_ECONFIG, 1 diag, and
 * the setting left at its default. */
static void expect_set_error(const char *key, const char *value) {
  fs_config c, d;
  cfg_defaults(&c);
  cfg_defaults(&d);
  diag_clear();
  CHECK_EQ(cfg_set(&c, key, value, "--set"), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CHECK(memcmp(&c, &d, sizeof c) == 0);
}

static void test_defaults(void) {
  fs_config c;
  cfg_defaults(&c);
  CHECK_EQ(c.seed, 42);
  CHECK_NEAR(c.hours, 24.0, 0);
  CHECK_NEAR(c.start_hour, 0.0, 0);
  CHECK_EQ(c.scrape_interval_s, 15);
  CHECK_EQ(cfg_scrapes(&c), 5760);
  CHECK_EQ(c.nodes, 1000);
  CHECK_EQ(c.racks, 25);
  CHECK_EQ(c.racks_per_row, 5);
  CHECK_EQ(c.moe_nodes, 300);
  CHECK_EQ(c.dense_nodes, 350);
  CHECK_EQ(c.training_nodes, 350);
  CHECK_EQ(c.archive_compression, CFG_COMPRESSION_LZ4);
  CHECK(strcmp(cfg_compression_name(c.archive_compression), "lz4") == 0);
  CHECK_EQ(c.njobs, 5);
  static const struct {
    const char *id, *model;
    int nodes;
    double step_time_s;
  } want[5] = {
      {"train-000", "llama-70b-pretrain", 64, 2.56},
      {"train-001", "mistral-22b-finetune", 32, 3.01},
      {"train-002", "internal-moe-140b-pretrain", 32, 3.25},
      {"train-003", "llama-70b-pretrain", 64, 2.38},
      {"train-004", "mistral-22b-finetune", 128, 2.70},
  };
  for (int i = 0; i < 5; i++) {
    CHECK_STREQ(c.jobs[i].id, want[i].id);
    CHECK_STREQ(c.jobs[i].model, want[i].model);
    CHECK_EQ(c.jobs[i].nodes, want[i].nodes);
    CHECK_NEAR(c.jobs[i].step_time_s, want[i].step_time_s, 0);
  }
  diag_clear();
  CHECK_EQ(cfg_validate(&c), 0);
  CHECK_EQ(diag_count(), 0);
}

static void test_scrapes(void) {
  fs_config c;
  cfg_defaults(&c);
  c.hours = 0.01; /* 36 s */
  c.scrape_interval_s = 36;
  CHECK_EQ(cfg_scrapes(&c), 1);
  c.scrape_interval_s = 10;
  CHECK_EQ(cfg_scrapes(&c), 3); /* floor(3.6) */
  c.hours = 1.0;
  c.scrape_interval_s = 15;
  CHECK_EQ(cfg_scrapes(&c), 240);
}

static void test_apply_json(void) {
  fs_config c;
  cfg_defaults(&c);
  diag_clear();
  const char *json = "{\"seed\": 7, \"hours\": 1.5, \"start_hour\": 6,"
                     " \"nodes\": 200, \"racks\": 5, \"moe_nodes\": 60,"
                     " \"dense_nodes\": 70, \"training_nodes\": 70,"
                     " \"jobs\": [{\"id\": \"big-1\", \"model\": \"m\", \"nodes\": 16,"
                     " \"step_time_s\": 1.25}, {\"model\": \"n\", \"nodes\": 8,"
                     " \"step_time_s\": 2}]}";
  CHECK_EQ(cfg_apply_json(&c, json, "cfg.json"), 0);
  CHECK_EQ(diag_count(), 0);
  CHECK_EQ(c.seed, 7);
  CHECK_NEAR(c.hours, 1.5, 0);
  CHECK_NEAR(c.start_hour, 6.0, 0); /* a JSON integer is fine for a number key */
  CHECK_EQ(c.nodes, 200);
  CHECK_EQ(c.racks, 5);
  CHECK_EQ(c.moe_nodes, 60);
  CHECK_EQ(c.dense_nodes, 70);
  CHECK_EQ(c.training_nodes, 70);
  CHECK_EQ(c.scrape_interval_s, 15); /* untouched keys keep their defaults */
  CHECK_EQ(c.racks_per_row, 5);
  CHECK_EQ(c.njobs, 2); /* "jobs" replaces the default list */
  CHECK_STREQ(c.jobs[0].id, "big-1");
  CHECK_STREQ(c.jobs[0].model, "m");
  CHECK_EQ(c.jobs[0].nodes, 16);
  CHECK_NEAR(c.jobs[0].step_time_s, 1.25, 0);
  CHECK_STREQ(c.jobs[1].id, "train-001"); /* id defaults to train-<index> */
  CHECK_EQ(c.jobs[1].nodes, 8);
  CHECK_NEAR(c.jobs[1].step_time_s, 2.0, 0);
  CHECK_EQ(cfg_validate(&c), 0);

  /* An empty object changes nothing. */
  fs_config d, e;
  cfg_defaults(&d);
  cfg_defaults(&e);
  CHECK_EQ(cfg_apply_json(&d, "{}", "empty.json"), 0);
  CHECK(memcmp(&d, &e, sizeof d) == 0);

  /* The largest seed that a double (and so the table) holds exactly. */
  CHECK_EQ(cfg_apply_json(&d, "{\"seed\": 9007199254740991}", "cfg.json"), 0);
  CHECK(d.seed == 9007199254740991ULL);
  CHECK_EQ(diag_count(), 0);
}

static void test_set(void) {
  fs_config c;
  cfg_defaults(&c);
  diag_clear();
  CHECK_EQ(cfg_set(&c, "seed", "123", "--seed"), 0);
  CHECK_EQ(c.seed, 123);
  CHECK_EQ(cfg_set(&c, "hours", "2.5", "--hours"), 0);
  CHECK_NEAR(c.hours, 2.5, 0);
  CHECK_EQ(cfg_set(&c, "nodes", "200", "--set"), 0);
  CHECK_EQ(c.nodes, 200);
  CHECK_EQ(cfg_set(&c, "scrape_interval_s", "30", "--set"), 0);
  CHECK_EQ(c.scrape_interval_s, 30);
  CHECK_EQ(cfg_scrapes(&c), 300);
  CHECK_EQ(cfg_set(&c, "gpu_lots", "1e3", "--set"), 0); /* integral exponent form */
  CHECK_EQ(c.gpu_lots, 1000);
  CHECK_EQ(cfg_set(&c, "seed", "9007199254740991", "--seed"), 0);
  CHECK(c.seed == 9007199254740991ULL);
  CHECK_EQ(cfg_set(&c, "archive_compression", "deflate", "--set"), 0); /* a choice, by name */
  CHECK_EQ(c.archive_compression, CFG_COMPRESSION_DEFLATE);
  CHECK_EQ(cfg_set(&c, "archive_compression", "none", "--set"), 0);
  CHECK_EQ(c.archive_compression, CFG_COMPRESSION_NONE);
  CHECK_EQ(diag_count(), 0);

  expect_set_error("bogus", "1");
  CK_DIAG("--set", "bogus");
  expect_set_error("archive_compression", "1"); /* a choice's index is no name */
  CK_DIAG("--set", "'archive_compression'", "'1' is not none, lz4 or deflate");
  expect_set_error("archive_compression", "LZ4");
  CK_DIAG("--set", "'archive_compression'", "'LZ4'");
  expect_set_error("nodes", "abc");
  CK_DIAG("--set", "'nodes'", "abc");
  expect_set_error("nodes", "");
  CK_DIAG("--set", "'nodes'");
  expect_set_error("nodes", "12x");
  CK_DIAG("--set", "'nodes'", "12x");
  expect_set_error("hours", "nan");
  CK_DIAG("--set", "'hours'", "nan");
  expect_set_error("hours", "inf");
  CK_DIAG("--set", "'hours'", "inf");
  expect_set_error("nodes", "2.5");
  CK_DIAG("--set", "'nodes'", "2.5", "integer");
  expect_set_error("nodes", "0");
  CK_DIAG("--set", "'nodes'", "0", "range");
  expect_set_error("hours", "0.001");
  CK_DIAG("--set", "'hours'", "0.001", "range");
  expect_set_error("seed", "-1");
  CK_DIAG("--set", "'seed'", "-1", "range");
  expect_set_error("seed", "9007199254740993");
  CK_DIAG("--set", "'seed'", "9007199254740993", "range");
  expect_set_error("start_hour", "24");
  CK_DIAG("--set", "'start_hour'", "24", "range");
}

/* Bad settings at the top level of a JSON file. */
/* cfg_parse_decimal: decimal numbers only, the whole text. */
static void test_parse_decimal(void) {
  const struct {
    const char *text;
    double want; /* NAN: refused */
  } cases[] = {{"5", 5},      {"+1", 1},       {"-2.5", -2.5}, {".5", 0.5},   {"5.", 5},
               {"1e-1", 0.1}, {"2E+3", 2000},  {"0x10", NAN},  {" 5", NAN},   {"5 ", NAN},
               {"", NAN},     {".", NAN},      {"1e", NAN},    {"e5", NAN},   {"inf", NAN},
               {"nan", NAN},  {"1e999", NAN},  {"--1", NAN},   {"1.2.3", NAN}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double v = -1;
    int ok = cfg_parse_decimal(cases[i].text, &v);
    if (isnan(cases[i].want)) {
      CHECK_EQ(ok, 0);
    } else {
      CHECK_EQ(ok, 1);
      CHECK(v == cases[i].want);
    }
  }
}

static void test_json_errors(void) {
  expect_json_error("{\n  \"nodes\": 1000,\n  \"racks\": }");
  CK_DIAG("bad.json", "line 3", "column", "malformed JSON");
  expect_json_error("{\"nodes\": 1000");
  CK_DIAG("bad.json", "line 1", "malformed JSON");
  expect_json_error("");
  CK_DIAG("bad.json", "malformed JSON");
  expect_json_error("42"); /* jansson rejects a scalar at the top level itself */
  CK_DIAG("bad.json", "line 1");
  expect_json_error("[1, 2]");
  CK_DIAG("bad.json", "object");
  expect_json_error("{\"nodez\": 1000}");
  CK_DIAG("bad.json", "unknown key", "nodez");
  expect_json_error("{\"archive_compression\": 1}");
  CK_DIAG("bad.json", "'archive_compression'", "expected a string (none, lz4 or deflate), got 1");
  expect_json_error("{\"archive_compression\": \"zstd\"}");
  CK_DIAG("bad.json", "'archive_compression'", "'zstd' is not none, lz4 or deflate");
  expect_json_error("{\"nodes\": \"1000\"}");
  CK_DIAG("bad.json", "'nodes'", "\"1000\"", "integer");
  expect_json_error("{\"hours\": \"24\"}");
  CK_DIAG("bad.json", "'hours'", "\"24\"", "number");
  expect_json_error("{\"hours\": null}");
  CK_DIAG("bad.json", "'hours'", "null");
  expect_json_error("{\"seed\": true}");
  CK_DIAG("bad.json", "'seed'", "true");
  expect_json_error("{\"racks\": [25]}");
  CK_DIAG("bad.json", "'racks'", "[25]");
  expect_json_error("{\"nodes\": 1000.5}");
  CK_DIAG("bad.json", "'nodes'", "1000.5", "integer");
  expect_json_error("{\"nodes\": 64.0}"); /* a real, even if integral */
  CK_DIAG("bad.json", "'nodes'", "64", "integer");
  expect_json_error("{\"nodes\": 0}");
  CK_DIAG("bad.json", "'nodes'", "0", "range");
  expect_json_error("{\"racks\": 1000000}");
  CK_DIAG("bad.json", "'racks'", "1000000", "range");
  expect_json_error("{\"hours\": 9000.5}");
  CK_DIAG("bad.json", "'hours'", "9000.5", "range");
  expect_json_error("{\"seed\": -5}");
  CK_DIAG("bad.json", "'seed'", "-5", "range");
  expect_json_error("{\"nodes\": 1000, \"nodes\": 2000}");
  CK_DIAG("bad.json", "line 1", "duplicate", "nodes");
  expect_json_error("{\"jobs\": {\"id\": \"train-000\"}}");
  CK_DIAG("bad.json", "'jobs'", "array");

  /* Every bad key of one file is reported, not just the first. */
  fs_config c;
  cfg_defaults(&c);
  diag_clear();
  CHECK_EQ(cfg_apply_json(&c, "{\"nodez\": 1, \"racks\": 0, \"hours\": \"x\"}", "bad.json"),
        FS_ECONFIG);
  CHECK_EQ(diag_count(), 3);
  CHECK_EQ(c.racks, 25); /* a rejected value is not stored */
  CHECK_NEAR(c.hours, 24.0, 0);
}

/* Bad entries of the "jobs" array: source, entry, key and offending value. */
static void test_job_errors(void) {
  expect_json_error("{\"jobs\": [5]}");
  CK_DIAG("bad.json", "jobs[0]", "object");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": 1, \"gpus\": 8}]}");
  CK_DIAG("bad.json", "jobs[0]", "unknown key", "gpus");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"nodes\": 4, \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "model");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": 1}, {\"id\": \"b\", \"model\": 7, \"nodes\": 4,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[1]", "'model'", "7");
  expect_json_error("{\"jobs\": [{\"id\": \"this-id-is-far-too-long-for-an-id-here\","
                    " \"model\": \"m\", \"nodes\": 4, \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'id'", "this-id-is-far-too-long-for-an-id-here");
  /* ids name files, HDF5 groups, regex alternatives and reach terminals:
   * [A-Za-z0-9_-]{1,32}, a bad one shown JSON-escaped */
  expect_json_error("{\"jobs\": [{\"id\": \"../../x\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'id'", "../../x", "not a valid id", "A-Z, a-z, 0-9");
  expect_json_error("{\"jobs\": [{\"id\": \"job(1\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'id'", "job(1", "not a valid id");
  expect_json_error("{\"jobs\": [{\"id\": \"j\\u001b[2J\\u202e\", \"model\": \"m\","
                    " \"nodes\": 4, \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "\\u001B[2J\\u202E", "not a valid id");
  CHECK(strchr(diag_first(), '\x1b') == NULL);
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\\u0007x\", \"nodes\": 4,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'model'", "\\u0007", "printable ASCII");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": \"x\","
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'nodes'", "\"x\"");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": -3,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'nodes'", "-3");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": 2.5,"
                    " \"step_time_s\": 1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'nodes'", "2.5");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": -1}]}");
  CK_DIAG("bad.json", "jobs[0]", "'step_time_s'", "-1");
  expect_json_error("{\"jobs\": [{\"id\": \"a\", \"model\": \"m\", \"nodes\": 4,"
                    " \"step_time_s\": \"fast\"}]}");
  CK_DIAG("bad.json", "jobs[0]", "'step_time_s'", "fast");
}

static void test_validate(void) {
  fs_config c;

  cfg_defaults(&c);
  c.moe_nodes = 301;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("moe_nodes", "301", "1001", "1000");

  cfg_defaults(&c);
  c.nodes = 1001;
  c.training_nodes = 351;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("'nodes'", "1001", "25");

  cfg_defaults(&c);
  c.nodes = 10;
  c.racks = 20;
  c.moe_nodes = 3;
  c.dense_nodes = 3;
  c.training_nodes = 4;
  c.njobs = 0;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("'racks'", "20", "10");

  cfg_defaults(&c);
  c.jobs[4].nodes = 200; /* 392 > 350 */
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("jobs", "392", "training_nodes", "350");

  cfg_defaults(&c);
  snprintf(c.jobs[3].id, sizeof c.jobs[3].id, "%s", "train-001");
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("jobs[3]", "'id'", "train-001");

  cfg_defaults(&c);
  c.hours = 0.01; /* 36 s */
  c.scrape_interval_s = 60;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 1);
  CK_DIAG("'hours'", "0.01", "60");

  /* a run needs one 20-scrape detection block: 19 scrapes are refused */
  cfg_defaults(&c);
  c.hours = 19 * 15 / 3600.0;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CK_DIAG("'hours'", "19 scrapes", "20-scrape detection block", "0.0834");
  c.hours = 20 * 15 / 3600.0;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), 0);

  /* Several problems at once: all are collected. */
  cfg_defaults(&c);
  c.moe_nodes = 1;
  c.nodes = 1001;
  c.jobs[4].nodes = 500;
  snprintf(c.jobs[1].id, sizeof c.jobs[1].id, "%s", "train-000");
  c.hours = 0.01;
  c.scrape_interval_s = 3600;
  diag_clear();
  CHECK_EQ(cfg_validate(&c), FS_ECONFIG);
  CHECK_EQ(diag_count(), 5);

  /* Earlier problems in diag do not make a clean config fail. */
  cfg_defaults(&c);
  CHECK_GT(diag_count(), 0);
  CHECK_EQ(cfg_validate(&c), 0);
  diag_clear();
}

/* Every field of a and b is equal, jobs included. */
static void check_same(const fs_config *a, const fs_config *b) {
  CHECK(a->seed == b->seed);
  CHECK_NEAR(a->hours, b->hours, 0);
  CHECK_NEAR(a->start_hour, b->start_hour, 0);
  CHECK_EQ(a->scrape_interval_s, b->scrape_interval_s);
  CHECK_EQ(a->nodes, b->nodes);
  CHECK_EQ(a->racks, b->racks);
  CHECK_EQ(a->racks_per_row, b->racks_per_row);
  CHECK_EQ(a->moe_nodes, b->moe_nodes);
  CHECK_EQ(a->dense_nodes, b->dense_nodes);
  CHECK_EQ(a->training_nodes, b->training_nodes);
  CHECK_EQ(a->gpu_lots, b->gpu_lots);
  CHECK_EQ(a->window_scrapes, b->window_scrapes);
  CHECK_EQ(a->checkpoint_every_min, b->checkpoint_every_min);
  CHECK_EQ(a->archive, b->archive);
  CHECK_EQ(a->archive_compression, b->archive_compression);
  CHECK_EQ(a->njobs, b->njobs);
  for (int i = 0; i < a->njobs && i < b->njobs; i++) {
    CHECK_STREQ(a->jobs[i].id, b->jobs[i].id);
    CHECK_STREQ(a->jobs[i].model, b->jobs[i].model);
    CHECK_EQ(a->jobs[i].nodes, b->jobs[i].nodes);
    CHECK_NEAR(a->jobs[i].step_time_s, b->jobs[i].step_time_s, 0);
  }
}

/* cfg_to_json(a) applied to fresh defaults reproduces a. */
static void check_round_trip(const fs_config *a) {
  char *json = cfg_to_json(a);
  CHECK(json != NULL);
  fs_config b;
  cfg_defaults(&b);
  diag_clear();
  int rc = cfg_apply_json(&b, json, "echo.json");
  if (rc != 0)
    CHECK_FAIL("re-applying %s failed: %s", json, diag_first());
  free(json);
  CHECK_EQ(diag_count(), 0);
  check_same(a, &b);
}

static void test_round_trip(void) {
  fs_config a;
  cfg_defaults(&a);
  check_round_trip(&a);

  a.seed = 9007199254740991ULL;
  a.hours = 1.0 / 3.0;
  a.start_hour = 23.5;
  a.scrape_interval_s = 30;
  a.nodes = 200;
  a.racks = 10;
  a.racks_per_row = 3;
  a.moe_nodes = 60;
  a.dense_nodes = 70;
  a.training_nodes = 70;
  a.gpu_lots = 17;
  a.window_scrapes = 100;
  a.checkpoint_every_min = 45;
  a.archive = 0;
  a.archive_compression = CFG_COMPRESSION_DEFLATE;
  a.njobs = 3;
  a.jobs[0] = (cfg_job){"alpha", "model-with-\"quotes\"", 10, 0.1};
  a.jobs[1] = (cfg_job){"beta", "b", 20, 1234.5678};
  a.jobs[2] = (cfg_job){"gamma_3", "c", 1, 3600};
  diag_clear();
  CHECK_EQ(cfg_validate(&a), 0);
  check_round_trip(&a);

  a.njobs = 0; /* "jobs": [] replaces the defaults with none */
  check_round_trip(&a);
}

int main(void) {
  test_defaults();
  test_scrapes();
  test_apply_json();
  test_set();
  test_parse_decimal();
  test_json_errors();
  test_validate();
  test_round_trip();
  test_job_errors();
  diag_clear();
  printf("unit_config: %ld checks passed\n", check_count);
  return 0;
}
