/* The run directory's pieces without MPI: run fingerprints and header lines
 * (src/core/runid.c), which files are fleetsim's and what --force removes
 * (src/core/rundir.c), the lock, safe creation (src/core/safefile.c), id and stem
 * rules (src/core/paths.c) and the size estimate (src/model/sizing.c) against sizes
 * measured on the test and default fleets. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "src/model/config.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/rundir.h"
#include "src/core/runid.h"
#include "src/core/safefile.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"
#include "src/model/sizing.h"

static void put(const char *dir, const char *name, const char *text) {
  char path[1400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "w");
  CHECK(fp != NULL);
  fputs(text, fp);
  fclose(fp);
}

static int exists(const char *dir, const char *name) {
  char path[1400];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return lstat(path, &st) == 0;
}

static void test_runid(void) {
  runid a, b, c;
  CHECK_EQ(runid_make(&a, "{\"seed\":42}", "{\"scenarios\": []}", 42), 0);
  CHECK_EQ(runid_make(&b, "{\"seed\":42}", "{ \"scenarios\" :\n[ ] }", 42), 0);
  CHECK(runid_same(&a, &b)); /* the scenarios as JSON, formatting aside */
  CHECK_EQ(strlen(a.fingerprint), 16);
  CHECK_EQ(runid_make(&c, "{\"seed\":7}", "{\"scenarios\": []}", 7), 0);
  CHECK(!runid_same(&a, &c)); /* another config (seed) is another run */
  CHECK_EQ(runid_make(&c, "{\"seed\":42}", "{\"scenarios\": [1]}", 42), 0);
  CHECK(!runid_same(&a, &c));
  CHECK_EQ(runid_make(&c, "{\"seed\":42}", "not json", 42), FS_EINVAL);

  char *h = runid_header(&a);
  CHECK(h != NULL);
  runid back;
  CHECK_EQ(runid_parse(h, strlen(h), &back), 1);
  CHECK(runid_same(&a, &back) && back.seed == 42);
  free(h);
  CHECK_EQ(runid_parse("{\"call_id\":\"L2-000001\"}", 23, NULL), 0);
  CHECK_EQ(runid_parse("garbage", 7, NULL), 0);
  const char *bad = "{\"fleetsim_run\":{\"fingerprint\":\"xyz\",\"seed\":1,\"version\":\"v\","
                    "\"git_commit\":\"g\"}}";
  CHECK_EQ(runid_parse(bad, strlen(bad), NULL), -1);
  const char *esc = "{\"fleetsim_run\":{\"fingerprint\":\"0123456789abcdef\",\"seed\":1,"
                    "\"version\":\"v\\u001b[2J\",\"git_commit\":\"g\"}}";
  CHECK_EQ(runid_parse(esc, strlen(esc), &back), 1);
  CHECK(strchr(back.version, '\x1b') == NULL); /* nothing shown later may hold a control character */
  char text[200];
  runid_describe(&a, text, sizeof text);
  CHECK(strstr(text, a.fingerprint) && strstr(text, "seed 42"));
}

static void test_names(void) {
  CHECK(path_is_id("S1") && path_is_id("train-001") && path_is_id("a_B-9"));
  CHECK(path_is_id("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
  CHECK(!path_is_id("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
  const char *bad_ids[] = {"", "../x", "a/b", "a.b", "job(1", "a b", "\x1b[31m", "\xe2\x80\xae"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++)
    CHECK(!path_is_id(bad_ids[i]));
  CHECK(path_is_stem("rules") && path_is_stem("gpt-4o.mini_2"));
  CHECK(!path_is_stem("") && !path_is_stem(".hidden") && !path_is_stem("a/b") &&
        !path_is_stem("e\x1b"));
}

/* A directory with a finished run's files, the user's files beside them,
 * then what rundir_held lists and rundir_clear removes. */
static void test_held_and_clear(const char *top) {
  char d[600], sub[700];
  snprintf(d, sizeof d, "%s/run", top);
  CHECK_EQ(mkdir(d, 0777), 0);
  char list[1024];
  CHECK_EQ(rundir_held(d, list, sizeof list), 0);
  static const char *const dirs[] = {"llm",         "results",        "checkpoint",
                                     "judgment",    "judgment/rules", "calibration",
                                     "closed_loop", "closed_loop/oracle",
                                     "closed_loop/oracle/llm", "closed_loop/oracle/results"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(sub, sizeof sub, "%s/%s", d, dirs[i]);
    CHECK_EQ(mkdir(sub, 0777), 0);
  }
  runid r;
  CHECK_EQ(runid_make(&r, "{}", "{\"scenarios\": []}", 1), 0);
  char *h = runid_header(&r);
  char line[300];
  snprintf(line, sizeof line, "%s\n", h);
  free(h);
  put(d, "fleet.h5", "x");
  put(d, "fleet.h5.partial.tmp", "x"); /* a compressed archive being rebuilt by --resume */
  put(d, "llm/contexts.jsonl", line);
  put(d, "llm/rules.jsonl", line);
  put(d, "results/summary.md", "x");
  put(d, "results/kinds.json", "x");
  put(d, "results/kinds.md", "x");
  put(d, "checkpoint/manifest.json", "x");
  put(d, "checkpoint/w000003-r0001.bin", "x");
  put(d, "checkpoint/w000003-root.bin.tmp", "x");
  put(d, "judgment/rules/S1_L3_2.md", "x");
  put(d, "judgment/rules/S1+S3_L4_1.md", "x");
  put(d, "calibration/salad.jsonl", line);
  put(d, "results/calibration.json", "x");
  put(d, "results/outcomes.json", "x");
  put(d, "results/outcomes.md.tmp", "x");
  put(d, "closed_loop/rules.json", "x"); /* a closed loop's records and a twin's folder */
  put(d, "closed_loop/oracle.json", "x");
  put(d, "closed_loop/oracle/llm/contexts.jsonl", line);
  put(d, "closed_loop/oracle/results/detection.json", "x");
  /* the user's: other names, a .jsonl without a run header */
  put(d, "notes.txt", "mine");
  put(d, "fleet.h5.tmp", "mine");
  put(d, "checkpoint/w1-notes.bin", "mine");
  put(d, "checkpoint/mine.txt", "mine");
  put(d, "results/mine.csv", "mine");
  put(d, "judgment/rules/review.txt", "mine");
  put(d, "calibration/notes.txt", "mine");
  put(d, "closed_loop/notes.txt", "mine");
  CHECK_EQ(rundir_held(d, list, sizeof list), 20);
  CHECK(strstr(list, "fleet.h5") && strstr(list, "llm/rules.jsonl"));
  put(d, "llm/mine.jsonl", "{\"a\": 1}\n"); /* in the way: --force must not take it */
  CHECK_EQ(rundir_held(d, list, sizeof list), 21);
  diag_clear();
  CHECK_EQ(rundir_clear(d), FS_EIO);
  CHECK(strstr(diag_first(), "llm/mine.jsonl is a file without a fleetsim run header") != NULL);
  CHECK(exists(d, "llm/mine.jsonl"));
  snprintf(sub, sizeof sub, "%s/llm/mine.jsonl", d);
  unlink(sub);
  diag_clear();
  CHECK_EQ(rundir_clear(d), 0);
  CHECK_EQ(rundir_held(d, list, sizeof list), 0);
  static const char *const kept[] = {"notes.txt", "fleet.h5.tmp", "checkpoint/w1-notes.bin",
                                     "checkpoint/mine.txt",
                                     "results/mine.csv", "judgment/rules/review.txt",
                                     "calibration/notes.txt", "closed_loop/notes.txt"};
  for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
    CHECK(exists(d, kept[i]));
  CHECK(!exists(d, "llm")); /* emptied: removed; the ones with the user's files stay */
  CHECK(!exists(d, "calibration/salad.jsonl") && !exists(d, "results/calibration.json"));
  CHECK(!exists(d, "results/outcomes.json") && !exists(d, "results/outcomes.md.tmp"));
  CHECK(!exists(d, "fleet.h5.partial.tmp"));
  CHECK(!exists(d, "closed_loop/oracle") && !exists(d, "closed_loop/rules.json"));
  CHECK(exists(d, "checkpoint") && exists(d, "judgment/rules"));

  /* a link at one of fleetsim's names: listed, never followed or removed */
  snprintf(sub, sizeof sub, "%s/notes.txt", d);
  char link[700];
  snprintf(link, sizeof link, "%s/fleet.h5.partial", d);
  CHECK_EQ(symlink(sub, link), 0);
  CHECK_EQ(rundir_held(d, list, sizeof list), 1);
  diag_clear();
  CHECK_EQ(rundir_clear(d), FS_EIO);
  CHECK(strstr(diag_first(), "fleet.h5.partial is a symbolic link") != NULL);
  CHECK(exists(d, "fleet.h5.partial") && exists(d, "notes.txt"));
  /* safe creation refuses it too, and replaces nothing through it */
  FILE *fp = NULL;
  diag_clear();
  CHECK_EQ(sf_create(link, &fp), FS_EIO);
  CHECK(strstr(diag_first(), "symbolic link") != NULL);
  CHECK_EQ(sf_append(link, 1, &fp, NULL), FS_EIO);
  snprintf(sub, sizeof sub, "%s/lnkdir", d);
  CHECK_EQ(symlink(top, sub), 0);
  diag_clear();
  CHECK_EQ(sf_mkdir(sub, "judgment directory", 0), FS_EIO);
  CHECK_EQ(sf_mkdir(sub, "--out", 1), 0); /* --out itself may be a link to a directory */
  unlink(link);
  unlink(sub);

  /* a replacement whose writer failed leaves the old file and no temp */
  sf_replace rp;
  snprintf(sub, sizeof sub, "%s/results/summary.md", d);
  put(d, "results/summary.md", "old");
  CHECK_EQ(sf_replace_open(&rp, sub), 0);
  fputs("half", rp.fp);
  CHECK_EQ(sf_replace_finish(&rp, FS_ENOMEM), FS_ENOMEM);
  CHECK(exists(d, "results/summary.md") && !exists(d, "results/summary.md.tmp"));
  CHECK_EQ(sf_replace_open(&rp, sub), 0);
  fputs("new", rp.fp);
  CHECK_EQ(sf_replace_finish(&rp, 0), 0);
  char got[8] = "";
  fp = fopen(sub, "r");
  CHECK(fp && fgets(got, sizeof got, fp) && strcmp(got, "new") == 0);
  if (fp)
    fclose(fp);
  unlink(sub);

  /* the lock: a second exclusive holder is refused, naming the first */
  int fd1 = -1, fd2 = -1;
  CHECK_EQ(rundir_lock(d, 1, "run", &fd1), 0);
  diag_clear();
  CHECK_EQ(rundir_lock(d, 0, "escalate", &fd2), FS_EUSAGE);
  CHECK(strstr(diag_first(), "is in use by another fleetsim process") &&
        strstr(diag_first(), "fleetsim run"));
  CHECK_EQ(fd2, -1);
  rundir_unlock(&fd1);
  CHECK_EQ(rundir_lock(d, 0, "escalate", &fd1), 0);
  CHECK_EQ(rundir_lock(d, 0, "escalate", &fd2), 0); /* shared: escalates side by side */
  rundir_unlock(&fd1);
  rundir_unlock(&fd2);
  diag_clear();
}

static void test_sizing(void) {
  fs_config c;
  cfg_defaults(&c);
  sizing z;
  sizing_estimate(&c, 2, &z);
  /* the default 24 h fleet: 5.99 GB archive, 16.6 MiB per checkpoint,
   * peak 171-175 MiB per rank at np 2 (README, Sizing). The archive sizes
   * were measured with 1040 B per node-scrape (30 GPU and 20 node metrics);
   * a metric added to the catalogue adds its values to what is expected. */
  CHECK(z.node_scrape_bytes == 4.0 * (FLEET_GPUS * GM_COUNT + NM_COUNT));
  const double added = z.node_scrape_bytes - 1040.0;
  CHECK(z.archive_bytes > 5.95e9 + 5760 * 1000 * added &&
        z.archive_bytes < 6.05e9 + 5760 * 1000 * added);
  CHECK(z.checkpoint_bytes > 2 * 16.6 * 1048576 * 0.95 && z.checkpoint_bytes < 2 * 16.6 * 1048576 * 1.1);
  CHECK(z.root_bytes > 175 * 1048576 * 0.95 && z.root_bytes < 175 * 1048576 * 1.1);
  CHECK_EQ(z.local_nodes, 520);
  c.nodes = 120, c.racks = 6, c.moe_nodes = 36, c.dense_nodes = 42, c.training_nodes = 42;
  c.hours = 3, c.window_scrapes = 100;
  sizing_estimate(&c, 1, &z);
  /* tests/data/small.json: fleet.h5 is 100,158,480 bytes, peak 44 MiB */
  const double small = 100158480 + 720 * 120 * added;
  CHECK(z.archive_bytes > small * 0.99 && z.archive_bytes < small * 1.02);
  CHECK(z.root_bytes > 44 * 1048576 * 0.9 && z.root_bytes < 44 * 1048576 * 1.15);
  c.archive = 0;
  sizing_estimate(&c, 1, &z);
  CHECK(z.disk_bytes < 1e8); /* no archive, no checkpoints */
  char text[32];
  sizing_bytes(999.6e6, text, sizeof text);
  CHECK(strcmp(text, "1 GB") == 0);
  sizing_bytes(2.19e12, text, sizeof text);
  CHECK(strcmp(text, "2.19 TB") == 0);
}

int main(void) {
  char top[] = "/tmp/unit_rundir.XXXXXX";
  CHECK(mkdtemp(top) != NULL);
  test_runid();
  test_names();
  test_held_and_clear(top);
  test_sizing();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
  CHECK_EQ(system(cmd), 0);
  printf("unit_rundir: %ld checks passed\n", check_count);
  return 0;
}
