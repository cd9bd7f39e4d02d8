/* Scoring a run directory (see score_run.h): checklists, contexts and every
 * transcript in, results/calls.jsonl, summary.json and summary.md out. */
#include "pipeline/score/score_run.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/archive_check.h"
#include "pipeline/score/calibration_report.h"
#include "pipeline/score/checklist.h"
#include "pipeline/score/kind_table.h"
#include "pipeline/score/outcomes.h"
#include "pipeline/detect/contexts_file.h"
#include "pipeline/score/scorer.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/rundir.h"
#include "src/core/runid.h"
#include "src/core/safefile.h"

enum { SCORE_MAX_BACKENDS = 64 };

/* A transcript must be a regular file with a safe backend name and the run
 * header of the contexts' run (`run`); else one message naming both runs. */
static int score_check_transcript(const char *path, const char *name, const runid *run) {
  if (!path_is_stem(name)) {
    json_t *j = json_string(name);
    char *shown = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
    diag_addf("%s: %.80s is not a backend name ([A-Za-z0-9._-], not starting with '.'): move "
              "the file out of the llm folder",
              path, shown ? shown : "?");
    free(shown);
    json_decref(j);
    return FS_EINVAL;
  }
  runid_file state;
  runid theirs;
  int rc = runid_read_file(path, &state, &theirs);
  if (rc == 0 && state != RUNID_FILE_HEADER) {
    diag_addf("%s has no run header, so it is no transcript of this run (another program's "
              "file, or an older fleetsim's): move it out of the llm folder",
              path);
    rc = FS_EINVAL;
  }
  if (rc == 0 && !runid_same(&theirs, run)) {
    char a[160], c[160];
    runid_describe(&theirs, a, sizeof a);
    runid_describe(run, c, sizeof c);
    diag_addf("%s belongs to %s, but the run's contexts to %s: move it out of the llm folder",
              path, a, c);
    rc = FS_EINVAL;
  }
  return rc;
}

static int score_cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A call_id on two transcript lines (two escalates of one backend at once,
 * a call sent twice) is refused rather than scored once. */
static int score_check_duplicates(const char *path, const json_t *lines) {
  size_t n = json_array_size(lines);
  const char **ids = malloc(sizeof *ids * (n + 1));
  if (!ids)
    return FS_ENOMEM;
  for (size_t i = 0; i < n; i++)
    ids[i] = json_string_value(json_object_get(json_array_get(lines, i), "call_id"));
  qsort(ids, n, sizeof *ids, score_cmp_str);
  int rc = 0;
  for (size_t i = 1; i < n && rc == 0; i++)
    if (strcmp(ids[i], ids[i - 1]) == 0) {
      diag_addf("%s: call_id %.24s is on two lines: the call was sent twice (two escalates of "
                "one backend at once?); score refuses the transcript",
                path, ids[i]);
      rc = FS_EINVAL;
    }
  free(ids);
  return rc;
}

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

/* Writes path through a temp file renamed over it (never through a link). */
static int score_write(const char *path, const char *what, int (*write)(FILE *, void *),
                       void *arg) {
  sf_replace r;
  if (sf_replace_open(&r, path) != 0)
    return FS_EIO;
  int rc = write(r.fp, arg);
  if (rc) {
    diag_addf("%s: writing %s failed: %s", path, what, strerror(errno));
    sf_replace_abort(&r);
    return rc;
  }
  return sf_replace_commit(&r);
}

typedef struct {
  scr_backend **b;
  int n;
  const char *dir;
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

/* The L1 table from DIR/results/detection.json (written by the run). */
static void score_detection_md(FILE *fp, const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/results/detection.json", dir);
  json_t *d = json_load_file(path, 0, NULL);
  if (!d)
    return;
  json_t *sc = json_object_get(d, "scenarios");
  if (json_array_size(sc) == 0)
    fprintf(fp, "\n## L1 Detection\n\nNo scenarios in this run (fault-free).\n");
  else
    fprintf(fp, "\n## L1 Detection\n\n| Scenario | Kind | Detected | First detection (min) | "
                "Localized | Escalated | Events |\n|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < json_array_size(sc); i++) {
    json_t *x = json_array_get(sc, i);
    json_t *lat = json_object_get(x, "first_detection_latency_s");
    char latency[32] = "-";
    if (json_is_number(lat))
      snprintf(latency, sizeof latency, "%.1f", json_number_value(lat) / 60.0);
    fprintf(fp, "| %s | %s | %s | %s | %s | %s | %lld |\n",
            json_string_value(json_object_get(x, "id")),
            json_string_value(json_object_get(x, "kind")),
            json_is_true(json_object_get(x, "detected")) ? "yes" : "no", latency,
            json_is_true(json_object_get(x, "localized")) ? "yes" : "no",
            json_is_true(json_object_get(x, "escalated")) ? "yes" : "no",
            (long long)json_integer_value(json_object_get(x, "events")));
  }
  fprintf(fp, "\nL1 events per day: %.0f; escalated: %lld; events matching no scenario: %lld.\n",
          json_number_value(json_object_get(d, "events_per_day")),
          (long long)json_integer_value(json_object_get(d, "escalated_events")),
          (long long)json_integer_value(json_object_get(d, "unmatched_events")));
  json_decref(d);
}

/* The per-kind document (kind_table.h) of DIR's detection.json and the
 * scored backends; NULL when the run wrote no detection.json or on
 * allocation failure. */
static json_t *score_kinds(const score_set *s) {
  char path[4200];
  snprintf(path, sizeof path, "%s/results/detection.json", s->dir);
  json_t *d = json_load_file(path, 0, NULL);
  json_t *sum = d ? scr_summary_json((const scr_backend *const *)s->b, s->n) : NULL;
  json_t *k = sum ? ktab_json(d, sum) : NULL;
  json_decref(sum);
  json_decref(d);
  return k;
}

static int score_write_kinds_json(FILE *fp, void *arg) {
  json_t *k = score_kinds(arg);
  int rc = k && json_dumpf(k, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : FS_EIO;
  json_decref(k);
  return rc;
}

static int score_write_kinds_md(FILE *fp, void *arg) {
  json_t *k = score_kinds(arg);
  int rc = k ? ktab_markdown(fp, k) : FS_EIO;
  json_decref(k);
  return rc;
}

static int score_write_md(FILE *fp, void *arg) {
  score_set *s = arg;
  int rc = scr_summary_markdown(fp, (const scr_backend *const *)s->b, s->n);
  if (rc)
    return rc;
  score_detection_md(fp, s->dir);
  json_t *k = score_kinds(s);
  if (k && json_array_size(json_object_get(k, "kinds")) > 0)
    rc = ktab_markdown(fp, k);
  json_decref(k);
  return rc ? rc : ferror(fp) ? FS_EIO : 0;
}

/* ---- judgment packages -------------------------------------------------- */

/* The criterion text of a checklist item: item ids are "id" or "S1/id"
 * (L4), looked up in the scenario kind's list of the layer, then "shift"
 * and "none". */
static const char *score_item_text(json_t *chk, const scn_set *scn, const char *scenario,
                                   const char *layer, const char *item) {
  const char *slash = strchr(item, '/');
  char sid[SCR_SCENARIO_LEN] = "";
  const char *id = item;
  if (slash) {
    snprintf(sid, sizeof sid, "%.*s", (int)(slash - item), item);
    id = slash + 1;
  } else {
    snprintf(sid, sizeof sid, "%s", scenario);
  }
  json_t *lists[3] = {NULL, json_object_get(json_object_get(chk, "shift"), layer),
                      json_object_get(json_object_get(chk, "none"), layer)};
  for (int i = 0; scn && i < scn->n; i++)
    if (strcmp(scn->s[i].id, sid) == 0)
      lists[0] = json_object_get(
          json_object_get(json_object_get(chk, "kinds"), scn_kind_name(scn->s[i].kind)), layer);
  for (int l = 0; l < 3; l++)
    for (size_t k = 0; k < json_array_size(lists[l]); k++) {
      json_t *it = json_array_get(lists[l], k);
      if (strcmp(json_string_value(json_object_get(it, "id")) ? json_string_value(json_object_get(it, "id")) : "", id) == 0)
        return json_string_value(json_object_get(it, "text"));
    }
  return "";
}

static void score_names(FILE *fp, const char *label, const int32_t *v, int n, int gpus) {
  fprintf(fp, "- %s (%d):", label, n);
  for (int i = 0; i < n && i < 24; i++)
    if (gpus)
      fprintf(fp, " node-%04d/gpu%d", v[i] / 8, v[i] % 8);
    else
      fprintf(fp, " node-%04d", v[i]);
  fprintf(fp, "%s\n", n > 24 ? " ..." : "");
}

/* One markdown file per scored call that concerns a scenario:
 * DIR/judgment/<backend>/<scenario>_<layer>_<n>.md with the scenario's ground
 * truth, the context the backend was given, its full answer and the rubric. */
static int score_judgment(const char *dir, const scr_backend *b, const scn_set *scn,
                          const fs_config *cfg, const llm_call *calls, int ncalls, json_t *chk) {
  char path[4400];
  snprintf(path, sizeof path, "%s/judgment", dir);
  if (sf_mkdir(path, "judgment directory", 0) != 0)
    return FS_EIO;
  snprintf(path, sizeof path, "%s/judgment/%s", dir, scr_backend_name(b));
  if (sf_mkdir(path, "judgment directory", 0) != 0)
    return FS_EIO;
  int n = scr_call_count(b);
  for (int i = 0; i < n; i++) {
    const scr_call *c = scr_call_at(b, i);
    if (strcmp(c->scenario, "none") == 0)
      continue;
    const char *layer = llm_layer_name(c->layer);
    int count = 1;
    for (int k = 0; k < i; k++) {
      const scr_call *p = scr_call_at(b, k);
      count += p->layer == c->layer && strcmp(p->scenario, c->scenario) == 0;
    }
    snprintf(path, sizeof path, "%s/judgment/%s/%s_%s_%d.md", dir, scr_backend_name(b),
             c->scenario, layer, count);
    FILE *fp = NULL;
    if (sf_create(path, &fp) != 0) /* the earlier packages were removed first */
      return FS_EIO;
    fprintf(fp, "# Judgment package: %s, %s (%s), scenario %s\n\n", scr_backend_name(b),
            c->call_id, layer, c->scenario);
    fprintf(fp, "## Ground truth\n\n");
    for (int k = 0; k < c->nscn; k++) {
      const scn_def *d = &scn->s[c->scn[k]];
      double t0 = (double)d->t_start * cfg->scrape_interval_s;
      double t1 = (double)d->t_end * cfg->scrape_interval_s;
      char *params = scn_params_json(d);
      fprintf(fp, "### %s: %s, %.2f h to %.2f h of the run\n\n", d->id, scn_kind_name(d->kind),
              t0 / 3600.0, t1 / 3600.0);
      score_names(fp, "root-cause nodes", d->nodes, d->nnodes, 0);
      fprintf(fp, "- impacted nodes: %d\n", d->nimpacted);
      if (d->ngpus > 0)
        score_names(fp, "GPUs", d->gpus, d->ngpus, 1);
      fprintf(fp, "- parameters: `%s`\n\n", params ? params : "{}");
      free(params);
    }
    const char *context = NULL;
    for (int k = 0; k < ncalls && !context; k++)
      if (strcmp(calls[k].call_id, c->call_id) == 0)
        context = calls[k].context;
    json_t *cj = context ? json_loads(context, 0, NULL) : NULL;
    char *pretty = cj ? json_dumps(cj, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(cj);
    fprintf(fp, "## Context given to the backend\n\n```json\n%s\n```\n\n",
            pretty ? pretty : "(not found)");
    free(pretty);
    fprintf(fp, "## Response (%s, %.3f s)\n\n````\n%s\n````\n\n", c->ok ? "ok" : "error",
            c->latency_s, c->response_text ? c->response_text : "(none)");
    fprintf(fp, "## Rubric: strict score %d/%d = %.2f (benchmark's regex score %d/%d = "
                "%.2f)\n\n",
            c->result.nmatched, c->result.nitems, c->result.score, c->regex.nmatched,
            c->regex.nitems, c->regex.score);
    if (c->result.note[0])
      fprintf(fp, "Note: %s\n\n", c->result.note);
    fprintf(fp, "| item | criterion | met (strict) | matched (benchmark regex) |\n|---|---|---|---|\n");
    for (int k = 0; k < c->result.nitems; k++) {
      const char *id = c->result.items[k].item, *regex = "-";
      for (int j = 0; j < c->regex.nitems; j++)
        if (strcmp(c->regex.items[j].item, id) == 0)
          regex = c->regex.items[j].matched ? "yes" : "no";
      fprintf(fp, "| %s | %s | %s | %s |\n", id, score_item_text(chk, scn, c->scenario, layer, id),
              c->result.items[k].matched ? "yes" : "no", regex);
    }
    fprintf(fp, "\n## For the judge\n\nScore each criterion 0 or 1 from the response alone. "
                "Credit correct reasoning in unexpected phrasing, which the checklist may have "
                "missed, and note any criterion it matched wrongly. The strict score counts an "
                "item only inside the answer field it is about, not when negated, in order "
                "where the item is ordered, and against the ground truth above; \"-\" marks "
                "an item the benchmark's checklist does not have.\n");
    if (fclose(fp) != 0)
      goto fail;
  }
  return 0;
fail:
  diag_addf("%s: cannot write judgment packages: %s", path, strerror(errno));
  return FS_EIO;
}

int score_run_dir(const char *dir, const fleet *f, const scn_set *scn, int print) {
  char llm_dir[4096], path[4400];
  snprintf(llm_dir, sizeof llm_dir, "%s/llm", dir);
  chk_set *chk = NULL;
  llm_call *calls = NULL;
  int ncalls = 0, nnames = 0;
  struct dirent **names = NULL;
  scr_backend *b[SCORE_MAX_BACKENDS] = {0};
  score_set set = {b, 0, dir};
  runid run;
  int rc = chk_parse(&chk, chk_default_text(), "built-in scenarios/checklists.json");
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/contexts.jsonl", llm_dir);
    rc = ctxf_read(path, &calls, &ncalls, &run);
  }
  if (rc == 0)
    rc = score_list_transcripts(llm_dir, &names, &nnames);
  scr_truth truth = {.scenarios = scn,
                     .f = f,
                     .checklists = chk,
                     .scrape_interval_s = f->cfg->scrape_interval_s,
                     .run_seconds = (double)cfg_scrapes(f->cfg) * f->cfg->scrape_interval_s};
  scr_judge *judge = NULL; /* the patterns compiled once for every backend scored */
  if (rc == 0)
    rc = scr_judge_new(&judge, &truth, calls, ncalls);
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
    rc = score_check_transcript(path, name, &run);
    if (rc == 0)
      rc = scr_read_transcript(path, &lines);
    if (rc == 0)
      rc = score_check_duplicates(path, lines);
    if (rc == 0)
      rc = scr_judge_backend(&b[set.n], name, judge, lines);
    if (rc == 0)
      set.n++;
    json_decref(lines);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results", dir);
    rc = sf_mkdir(path, "results directory", 0);
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
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/kinds.json", dir);
    rc = score_write(path, "the per-kind table", score_write_kinds_json, &set);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/kinds.md", dir);
    rc = score_write(path, "the per-kind table", score_write_kinds_md, &set);
  }
  if (rc == 0) /* packages of an earlier scoring (other backends, other calls) go */
    rc = rundir_clear_judgment(dir);
  if (rc == 0) {
    const scr_backend *rules = NULL;
    for (int i = 0; i < set.n; i++)
      if (strcmp(scr_backend_name(b[i]), "rules") == 0)
        rules = b[i];
    int met = 0;
    rc = calrep_write(dir, &run, judge, rules, &met);
    if (rc == 0 && print)
      printf("fleetsim: scorer calibration (%s/results/calibration.md): every target %s\n", dir,
             met ? "met" : "NOT met");
  }
  json_t *chk_json = rc == 0 ? json_loads(chk_default_text(), 0, NULL) : NULL;
  for (int i = 0; rc == 0 && i < set.n; i++)
    rc = score_judgment(dir, b[i], scn, f->cfg, calls, ncalls, chk_json);
  json_decref(chk_json);
  if (rc == 0 && print)
    rc = score_write_md(stdout, &set);
  for (int i = 0; i < set.n; i++)
    scr_backend_destroy(&b[i]);
  scr_judge_free(&judge);
  for (int i = 0; i < nnames; i++)
    free(names[i]);
  free(names);
  for (int i = 0; i < ncalls; i++)
    free(calls[i].context);
  free(calls);
  chk_destroy(&chk);
  return rc;
}

/* The archive and DIR/llm/contexts.jsonl must be one run's. */
static int score_same_run(const char *dir, const char *archive) {
  char path[4200];
  snprintf(path, sizeof path, "%s/llm/contexts.jsonl", dir);
  runid a, c;
  runid_file state;
  int rc = h5a_read_runid(archive, &a);
  if (rc == 0)
    rc = runid_read_file(path, &state, &c);
  if (rc == 0 && state != RUNID_FILE_HEADER) {
    diag_addf("%s: line 1: no run header: not written by this fleetsim (or not a contexts file)",
              path);
    rc = FS_EINVAL;
  }
  if (rc == 0 && !runid_same(&a, &c)) {
    char x[160], y[160];
    runid_describe(&a, x, sizeof x);
    runid_describe(&c, y, sizeof y);
    diag_addf("%s belongs to %s, but %s to %s: the directory mixes two runs; run it again with "
              "run --force",
              archive, x, path, y);
    rc = FS_EINVAL;
  }
  return rc;
}

int score_run_archive(const char *dir, int print) {
  char path[4200];
  snprintf(path, sizeof path, "%s/fleet.h5", dir);
  int rc0 = h5a_require_complete("score", path, dir);
  if (rc0)
    return rc0;
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
    rc = score_same_run(dir, path);
  if (rc == 0)
    rc = score_run_dir(dir, f, scn, print);
  char twin[4200];
  snprintf(twin, sizeof twin, "%s/closed_loop/fault-free.json", dir);
  if (rc == 0 && access(twin, F_OK) == 0) { /* a closed-loop run: its outcomes too */
    rc = outcomes_write(dir, f, scn, NULL, 0, NULL);
    if (rc == 0 && print)
      printf("fleetsim: closed-loop outcomes: %s/results/outcomes.md\n", dir);
  }
  scn_destroy(&scn);
  fleet_destroy(&f);
  free(config);
  free(scenarios);
  return rc;
}
