/* The calibration table (see calibration_report.h): generates the null
 * operators' transcripts, scores them beside rules, judges the targets. */
#include "pipeline/score/calibration_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/calibration.h"
#include "pipeline/score/calibration_oracle.h"
#include "pipeline/score/checklist.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

/* CALREP_UNJUDGED: the rules reference on a run with scenarios of kinds it
 * has no rule for (chk_kind_has_rules); reported, its target not judged */
enum { CALREP_NULL, CALREP_REFERENCE, CALREP_UNJUDGED };

typedef struct {
  const char *name, *about;
  int role;              /* CALREP_NULL: stays low; CALREP_REFERENCE: stays high */
  const scr_backend *b;  /* borrowed or owned (see owned) */
  int owned;
} calrep_row;

static const double calrep_null_max[3] = {0.45, 0.25, 0.25};
static const double calrep_reference_min = 0.80;

/* 1 when layer li of row r meets its target (or has no calls), else 0. */
static int calrep_met(const calrep_row *r, int li) {
  const scr_layer_stats *s = scr_layer(r->b, li + 2);
  if (s->calls == 0 || !isfinite(s->acc_macro) || r->role == CALREP_UNJUDGED)
    return 1;
  return r->role == CALREP_NULL ? s->acc_macro <= calrep_null_max[li]
                                : s->acc_macro >= calrep_reference_min;
}

static void calrep_md(FILE *fp, const calrep_row *rows, int n, int all_met, int untuned, int nscn) {
  fprintf(fp, "# Scorer calibration\n\n"
              "Null operators answer every call without looking at what a good operator would "
              "find; a trustworthy score keeps them low. The references must stay high: `rules` "
              "(the rule-based reference, tuned to the known fault kinds; not an LLM) and an "
              "oracle that writes the ground truth in words of its own. Strict score, macro "
              "average over the scenarios and the calls about none (per-call mean in "
              "parentheses); the benchmark's regex score (per call) beside it. Targets: null "
              "operators <= 45%% at L2 and <= 25%% at L3 and L4; references >= 80%% at every "
              "layer.\n\n"
              "| operator | L2 strict | L3 strict | L4 strict | benchmark regex L2 / L3 / L4 | target "
              "met |\n|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    const calrep_row *r = &rows[i];
    fprintf(fp, "| %s |", r->name);
    for (int li = 0; li < 3; li++) {
      const scr_layer_stats *s = scr_layer(r->b, li + 2);
      if (s->calls == 0)
        fprintf(fp, " n/a |");
      else
        fprintf(fp, " %.0f%% (%.0f%%) |", 100 * s->acc_macro, 100 * s->acc_mean);
    }
    fprintf(fp, " ");
    for (int li = 0; li < 3; li++) {
      const scr_layer_stats *s = scr_layer(r->b, li + 2);
      fprintf(fp, "%s%.0f%%", li ? " / " : "", s->calls ? 100 * s->regex_mean : 0.0);
    }
    int met = calrep_met(r, 0) && calrep_met(r, 1) && calrep_met(r, 2);
    if (r->role == CALREP_UNJUDGED)
      fprintf(fp, " | not judged |\n");
    else
      fprintf(fp, " | %s |\n", met ? "yes" : "**no**");
  }
  fprintf(fp, "\nEvery target met: %s.\n\n", all_met ? "yes" : "no");
  if (untuned)
    fprintf(fp, "The rules reference is not judged here: %d of the %d scenarios are of kinds it "
                "has no rule for (it answers them \"unexplained anomaly\"; per kind: "
                "results/kinds.md).\n\n", untuned, nscn);
  for (int i = 0; i < n; i++)
    fprintf(fp, "- **%s**: %s\n", rows[i].name, rows[i].about);
  fprintf(fp, "\nThe answers are in DIR/calibration/<operator>.jsonl, replayable with "
              "`fleetsim escalate --backend replay:path=DIR/calibration/<operator>.jsonl`.\n");
}

static json_t *calrep_json(const calrep_row *rows, int n, int all_met, int untuned) {
  json_t *root = json_object(), *list = json_array();
  if (!root || !list) {
    json_decref(root);
    json_decref(list);
    return NULL;
  }
  json_object_set_new(root, "null_max", json_pack("{s:f,s:f,s:f}", "L2", calrep_null_max[0], "L3",
                                                  calrep_null_max[1], "L4", calrep_null_max[2]));
  json_object_set_new(root, "reference_min", json_real(calrep_reference_min));
  json_object_set_new(root, "untuned_scenarios", json_integer(untuned));
  for (int i = 0; i < n; i++) {
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", rows[i].name, "about", rows[i].about, "role",
                          rows[i].role == CALREP_NULL ? "null" : "reference");
    if (o && rows[i].role == CALREP_UNJUDGED)
      json_object_set_new(o, "judged", json_false());
    json_t *layers = json_object();
    for (int li = 0; o && layers && li < 3; li++) {
      const scr_layer_stats *s = scr_layer(rows[i].b, li + 2);
      json_t *l = json_object();
      json_object_set_new(l, "calls", json_integer(s->calls));
      json_object_set_new(l, "strict_macro", isfinite(s->acc_macro) ? json_real(s->acc_macro) : json_null());
      json_object_set_new(l, "strict_mean", isfinite(s->acc_mean) ? json_real(s->acc_mean) : json_null());
      json_object_set_new(l, "regex_mean", isfinite(s->regex_mean) ? json_real(s->regex_mean) : json_null());
      json_object_set_new(l, "met", json_boolean(calrep_met(&rows[i], li)));
      json_object_set_new(layers, li == 0 ? "L2" : li == 1 ? "L3" : "L4", l);
    }
    if (!o || !layers || json_object_set_new(o, "layers", layers) || json_array_append_new(list, o)) {
      json_decref(root);
      json_decref(list);
      return NULL;
    }
  }
  json_object_set_new(root, "operators", list);
  json_object_set_new(root, "all_met", json_boolean(all_met));
  return root;
}

/* Scores the transcript DIR/calibration/<name>.jsonl into row r. */
static int calrep_score(const char *dir, const char *name, const scr_judge *j, calrep_row *r) {
  char path[4400];
  snprintf(path, sizeof path, "%s/calibration/%s.jsonl", dir, name);
  json_t *lines = NULL;
  scr_backend *b = NULL;
  int rc = scr_read_transcript(path, &lines);
  if (rc == 0)
    rc = scr_judge_backend(&b, name, j, lines);
  json_decref(lines);
  r->b = b;
  r->owned = 1;
  return rc;
}

/* Writes DIR/calibration/oracle.jsonl. */
static int calrep_oracle(const char *dir, const runid *run, const scr_truth *t,
                         const llm_call *calls, int n) {
  const tmap_truth tm = {t->scenarios, t->f, t->checklists, t->scrape_interval_s};
  int nscn = t->scenarios ? t->scenarios->n : 0, rc = 0;
  double *detected = calloc((size_t)nscn + 1, sizeof *detected);
  char **answers = calloc((size_t)n + 1, sizeof *answers);
  if (!detected || !answers)
    rc = FS_ENOMEM;
  if (rc == 0)
    tmap_first_detections(&tm, calls, n, detected);
  for (int i = 0; rc == 0 && i < n; i++)
    rc = cal_oracle_answer(&tm, calls, n, i, detected, &answers[i]);
  char path[4400];
  snprintf(path, sizeof path, "%s/calibration/oracle.jsonl", dir);
  if (rc == 0)
    rc = cal_write_transcript(path, "oracle", run, calls, n, answers);
  for (int i = 0; answers && i < n; i++)
    free(answers[i]);
  free(answers);
  free(detected);
  return rc;
}

/* Replaces path (through a temp file, never through a link) with the
 * table as Markdown (json = 0) or JSON. 0, FS_EIO (path in diag) or
 * FS_ENOMEM. */
static int calrep_replace(const char *path, const calrep_row *rows, int n, int met, int json,
                          int untuned, int nscn) {
  sf_replace r;
  if (sf_replace_open(&r, path) != 0)
    return FS_EIO;
  int rc = 0;
  if (!json) {
    calrep_md(r.fp, rows, n, met, untuned, nscn);
  } else {
    json_t *j = calrep_json(rows, n, met, untuned);
    /* a write error stays in the stream for the commit to report */
    if (!j || (json_dumpf(j, r.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 && !ferror(r.fp)))
      rc = FS_ENOMEM;
    json_decref(j);
  }
  return sf_replace_finish(&r, rc);
}

int calrep_write(const char *dir, const runid *run, const scr_judge *judge,
                 const scr_backend *rules, int *all_met) {
  calrep_row rows[CAL_COUNT + 2];
  const scr_truth *truth = scr_judge_truth(judge);
  int ncalls;
  const llm_call *calls = scr_judge_calls(judge, &ncalls);
  int n = 0, rc = cal_write_transcripts(dir, run, truth->checklists, calls, ncalls);
  if (rc == 0)
    rc = calrep_oracle(dir, run, truth, calls, ncalls);
  memset(rows, 0, sizeof rows);
  for (int op = 0; rc == 0 && op < CAL_COUNT; op++) {
    rows[n] = (calrep_row){cal_name((cal_operator)op), cal_about((cal_operator)op), CALREP_NULL,
                           NULL, 0};
    rc = calrep_score(dir, rows[n].name, judge, &rows[n]);
    n++;
  }
  const int nscn = truth->scenarios ? truth->scenarios->n : 0;
  int untuned = 0;
  for (int i = 0; i < nscn; i++)
    untuned += !chk_kind_has_rules((int)truth->scenarios->s[i].kind);
  if (rc == 0 && rules)
    rows[n++] = (calrep_row){"rules", "the rule-based reference's answers in this run "
                             "(DIR/llm/rules.jsonl)", untuned ? CALREP_UNJUDGED : CALREP_REFERENCE,
                             rules, 0};
  if (rc == 0) {
    rows[n] = (calrep_row){"oracle", "the ground truth in words of its own (a positive control: "
                           "it reads the truth)", CALREP_REFERENCE, NULL, 0};
    rc = calrep_score(dir, "oracle", judge, &rows[n]);
    n++;
  }
  int met = 1;
  for (int i = 0; rc == 0 && i < n; i++)
    for (int li = 0; li < 3; li++)
      met &= calrep_met(&rows[i], li);
  char path[4400];
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/calibration.md", dir);
    rc = calrep_replace(path, rows, n, met, 0, untuned, nscn);
  }
  if (rc == 0) {
    snprintf(path, sizeof path, "%s/results/calibration.json", dir);
    rc = calrep_replace(path, rows, n, met, 1, untuned, nscn);
  }
  for (int i = 0; i < n; i++)
    if (rows[i].owned) {
      scr_backend *b = (scr_backend *)rows[i].b;
      scr_backend_destroy(&b);
    }
  if (all_met)
    *all_met = met;
  return rc;
}
