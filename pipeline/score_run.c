/* Scoring a run directory (see score_run.h): checklists, contexts and every
 * transcript in, results/calls.jsonl, summary.json and summary.md out. */
#include "pipeline/score_run.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/archive_check.h"
#include "pipeline/checklist.h"
#include "pipeline/contexts_file.h"
#include "pipeline/scorer.h"
#include "src/diag.h"
#include "src/errors.h"

enum { SCORE_MAX_BACKENDS = 64 };

/* Transcript files of DIR/llm: every *.jsonl but contexts.jsonl, by name. */
static int score_list_transcripts(const char *llm_dir, struct dirent ***names, int *n) {
  *n = scandir(llm_dir, names, NULL, alphasort);
  if (*n < 0) {
    diag_addf("%s: cannot list: %s", llm_dir, strerror(errno));
    return FS_EIO;
  }
  return 0;
}

static int score_is_transcript(const char *name) {
  size_t len = strlen(name);
  return len > 6 && strcmp(name + len - 6, ".jsonl") == 0 && strcmp(name, "contexts.jsonl") != 0;
}

static int score_write(const char *path, const char *what, int (*write)(FILE *, void *),
                       void *arg) {
  FILE *fp = fopen(path, "w");
  if (!fp) {
    diag_addf("%s: cannot create %s: %s", path, what, strerror(errno));
    return FS_EIO;
  }
  int rc = write(fp, arg);
  if (fclose(fp) != 0 && rc == 0)
    rc = FS_EIO;
  if (rc)
    diag_addf("%s: writing %s failed", path, what);
  return rc;
}

typedef struct {
  scr_backend **b;
  int n;
} score_set;

static int score_write_calls(FILE *fp, void *arg) {
  score_set *s = arg;
  for (int i = 0; i < s->n; i++)
    if (scr_write_calls_jsonl(fp, s->b[i]))
      return FS_EIO;
  return 0;
}

static int score_write_json(FILE *fp, void *arg) {
  score_set *s = arg;
  json_t *j = scr_summary_json((const scr_backend *const *)s->b, s->n);
  int rc = j && json_dumpf(j, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : FS_EIO;
  json_decref(j);
  return rc;
}

static int score_write_md(FILE *fp, void *arg) {
  score_set *s = arg;
  scr_summary_markdown(fp, (const scr_backend *const *)s->b, s->n);
  return ferror(fp) ? FS_EIO : 0;
}

int score_run_dir(const char *dir, const fleet *f, const scn_set *scn, int print) {
  char llm_dir[4096], path[4400];
  snprintf(llm_dir, sizeof llm_dir, "%s/llm", dir);
  chk_set *chk = NULL;
  llm_call *calls = NULL;
  int ncalls = 0, nnames = 0;
  struct dirent **names = NULL;
  scr_backend *b[SCORE_MAX_BACKENDS] = {0};
  score_set set = {b, 0};
  int rc = chk_parse(&chk, chk_default_text(), "built-in scenarios/checklists.json");
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/contexts.jsonl", llm_dir);
    rc = ctxf_read(path, &calls, &ncalls);
  }
  if (rc == 0)
    rc = score_list_transcripts(llm_dir, &names, &nnames);
  scr_truth truth = {.scenarios = scn,
                     .f = f,
                     .checklists = chk,
                     .scrape_interval_s = f->cfg->scrape_interval_s,
                     .run_seconds = (double)cfg_scrapes(f->cfg) * f->cfg->scrape_interval_s};
  for (int i = 0; rc == 0 && i < nnames; i++) {
    if (!score_is_transcript(names[i]->d_name))
      continue;
    if (set.n == SCORE_MAX_BACKENDS) {
      diag_addf("%s: more than %d transcripts", llm_dir, SCORE_MAX_BACKENDS);
      rc = FS_EINVAL;
      break;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]->d_name) - 6), names[i]->d_name);
    snprintf(path, sizeof path, "%s/%s", llm_dir, names[i]->d_name);
    json_t *lines = NULL;
    rc = scr_read_transcript(path, &lines);
    if (rc == 0)
      rc = scr_score_backend(&b[set.n], name, &truth, calls, ncalls, lines);
    if (rc == 0)
      set.n++;
    json_decref(lines);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      diag_addf("%s: cannot create: %s", path, strerror(errno));
      rc = FS_EIO;
    }
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/calls.jsonl", dir);
    rc = score_write(path, "scored calls", score_write_calls, &set);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/summary.json", dir);
    rc = score_write(path, "the summary", score_write_json, &set);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/summary.md", dir);
    rc = score_write(path, "the summary", score_write_md, &set);
  }
  if (rc == 0 && print)
    rc = score_write_md(stdout, &set);
  for (int i = 0; i < set.n; i++)
    scr_backend_destroy(&b[i]);
  for (int i = 0; i < nnames; i++)
    free(names[i]);
  free(names);
  for (int i = 0; i < ncalls; i++)
    free(calls[i].context);
  free(calls);
  chk_destroy(&chk);
  return rc;
}

int score_run_archive(const char *dir, int print) {
  char path[4200];
  snprintf(path, sizeof path, "%s/fleet.h5", dir);
  if (!h5a_is_complete(path)) {
    diag_addf("score: %s is missing or not complete (root attribute complete != 1): finish "
              "'fleetsim run --out %s' first",
              path, dir);
    return FS_EUSAGE;
  }
  char *config = NULL, *scenarios = NULL;
  fs_config cfg;
  fleet *f = NULL;
  scn_set *scn = NULL;
  cfg_defaults(&cfg);
  int rc = h5a_read_root_text(path, "config", &config);
  if (rc == 0)
    rc = h5a_read_root_text(path, "scenarios", &scenarios);
  if (rc == 0)
    rc = cfg_apply_json(&cfg, config, path);
  if (rc == 0)
    rc = cfg_validate(&cfg);
  if (rc == 0)
    rc = fleet_init(&f, &cfg);
  if (rc == 0)
    rc = scn_parse(&scn, scenarios, path, f);
  if (rc == 0)
    rc = score_run_dir(dir, f, scn, print);
  scn_destroy(&scn);
  fleet_destroy(&f);
  free(config);
  free(scenarios);
  return rc;
}
