/* Outcome scoring's tables (see outcomes_report.h): one row per policy and
 * one per scenario, as Markdown and as JSON with the same numbers. */
#include "pipeline/score/outcomes_report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/errors.h"
#include "src/core/safefile.h"

/* ---- Markdown ------------------------------------------------------------- */

/* v with fmt, or "n/a" when NAN, into buf[len]. */
static const char *oc_fmt(char *buf, size_t len, const char *fmt, double v) {
  if (isnan(v))
    snprintf(buf, len, "n/a");
  else
    snprintf(buf, len, fmt, v);
  if (strncmp(buf, "-0", 2) == 0 && strspn(buf + 1, "0.") == strcspn(buf + 1, "%")) /* "-0%" */
    memmove(buf, buf + 1, strlen(buf));
  return buf;
}

static void oc_md_row(FILE *o, const oc_metrics *x) {
  const oc_record *r = x->r;
  char g[32], moe[32], dense[32], sla[3][32], lost[32], coll[32], act[32], mit[32], share[32];
  fprintf(o, "| %s | %s | %s | %s | %s | %s / %s / %s | %s | %s | %d | %s | %d (%d) | %s | %s |\n",
          r->policy, oc_role_name(r->role), oc_fmt(g, sizeof g, "%.1f%%", x->goodput_pct),
          oc_fmt(moe, sizeof moe, "%.1f%%", x->tokens_pct[TENANT_MOE]),
          oc_fmt(dense, sizeof dense, "%.1f%%", x->tokens_pct[TENANT_DENSE]),
          oc_fmt(sla[0], sizeof sla[0], "%.1f%%", r->sla_left[TENANT_MOE]),
          oc_fmt(sla[1], sizeof sla[1], "%.1f%%", r->sla_left[TENANT_DENSE]),
          oc_fmt(sla[2], sizeof sla[2], "%.1f%%", r->sla_left[TENANT_TRAINING]),
          oc_fmt(lost, sizeof lost, "%.1f", x->gpu_h_lost),
          oc_fmt(coll, sizeof coll, "%.1f", x->collateral_gpu_h), r->nacts,
          oc_fmt(act, sizeof act, "%.1f", x->action_gpu_h), r->decisions, r->rejected,
          x->mitigable > 0 ? (snprintf(mit, sizeof mit, "%d/%d", x->mitigated, x->mitigable), mit)
                           : "n/a",
          oc_fmt(share, sizeof share, "%.0f%%", x->oracle_share_pct));
}

/* A time to mitigation as minutes, "never" or "n/a". */
static const char *oc_ttm_text(char *buf, size_t len, double s) {
  if (isnan(s))
    return "n/a";
  if (s < 0)
    return "never";
  snprintf(buf, len, "%.1f", s / 60);
  return buf;
}

static void oc_md(FILE *o, const oc_metrics *m, int n, const scn_set *truth, const char *command) {
  const oc_record *ff = m[0].r;
  fprintf(o, "# Closed-loop outcomes\n\n");
  if (command)
    fprintf(o, "Made by `%s`.\n\n", command);
  fprintf(o,
          "Every policy ran the same fleet, seed and scenarios for %g h, each in a twin of its "
          "own; the fault-free twin ran without scenarios. Figures are against the fault-free "
          "twin (docs/scoring.md, \"Outcome scoring\", defines each).",
          ff->hours);
  int nb = 0;
  for (int i = 0; i < n; i++)
    if (m[i].r->role == OC_BACKEND)
      fprintf(o, "%s %s %g",
              nb++ ? ","
                   : " Backend call latency, in simulated s per wall s of "
                     "call latency (0: not simulated):",
              m[i].r->policy, m[i].r->latency_pace);
  fprintf(o, "%s\n\n", nb ? "." : "");
  fprintf(o, "| policy | role | training goodput | moe-inference tokens | dense-inference tokens "
             "| SLA budget left (moe / dense / training) | GPU-h lost | collateral GPU-h | "
             "actions | action GPU-h | decisions (rejected) | scenarios mitigated | oracle's "
             "gain recovered |\n");
  fprintf(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < n; i++)
    oc_md_row(o, &m[i]);
  int nscn = truth ? truth->n : 0;
  fprintf(o, "\n## Time to mitigation\n\nMinutes from a scenario's start to a policy's first "
             "action that mitigates it (an action of its kind's remedy on its ground truth); "
             "\"never\": no such action; \"n/a\": the kind has no remedy. The fault-free twin ran "
             "no scenario.\n\n| scenario | kind | start |");
  for (int i = 1; i < n; i++)
    fprintf(o, " %s |", m[i].r->policy);
  fprintf(o, "\n|---|---|---|");
  for (int i = 1; i < n; i++)
    fprintf(o, "---:|");
  fprintf(o, "\n");
  for (int k = 0; k < nscn; k++) {
    const scn_def *s = &truth->s[k];
    long start = lround((double)s->t_start * ff->scrape_interval_s);
    fprintf(o, "| %s | %s | %02ld:%02ld |", s->id, scn_kind_name(s->kind), start / 3600,
            start / 60 % 60);
    for (int i = 1; i < n; i++) {
      char buf[32];
      fprintf(o, " %s |", oc_ttm_text(buf, sizeof buf, m[i].ttm_s[k]));
    }
    fprintf(o, "\n");
  }
  fprintf(o, "\nThe policies:\n\n");
  for (int i = 0; i < n; i++)
    fprintf(o, "- `%s` (%s): %s\n", m[i].r->policy, oc_role_name(m[i].r->role), m[i].r->about);
}

/* ---- JSON ----------------------------------------------------------------- */

/* A number, or null for NAN. */
static json_t *oc_num(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *oc_json_policy(const oc_metrics *x) {
  const oc_record *r = x->r;
  json_t *tokens = json_object(), *sla = json_object();
  for (int t = 0; t < TENANT_COUNT; t++) {
    if (t != TENANT_TRAINING)
      json_object_set_new(tokens, fleet_tenant_name(t), oc_num(x->tokens_pct[t]));
    json_object_set_new(sla, fleet_tenant_name(t), oc_num(r->sla_left[t]));
  }
  return json_pack(
      "{s:s, s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:o, "
      "s:o, s:o}",
      "policy", r->policy, "role", oc_role_name(r->role), "about", r->about, "latency_pace",
      r->latency_pace, "training_goodput_percent", oc_num(x->goodput_pct), "tokens_percent", tokens,
      "sla_budget_left_percent", sla, "gpu_hours_lost", oc_num(x->gpu_h_lost),
      "collateral_gpu_hours", oc_num(x->collateral_gpu_h), "action_gpu_hours",
      oc_num(x->action_gpu_h), "actions", r->nacts, "decisions", r->decisions, "rejected",
      r->rejected, "scenarios_mitigated",
      x->mitigable > 0 ? json_integer(x->mitigated) : json_null(), "scenarios_with_remedy",
      x->mitigable > 0 ? json_integer(x->mitigable) : json_null(), "oracle_gain_recovered_percent",
      oc_num(x->oracle_share_pct));
}

static json_t *oc_json(const oc_metrics *m, int n, const scn_set *truth, const char *command) {
  json_t *pol = json_array(), *scn = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(pol, oc_json_policy(&m[i]));
  for (int k = 0; truth && k < truth->n; k++) {
    const scn_def *s = &truth->s[k];
    json_t *ttm = json_object();
    for (int i = 1; i < n; i++)
      json_object_set_new(ttm, m[i].r->policy,
                          isnan(m[i].ttm_s[k]) ? json_null()
                          : m[i].ttm_s[k] < 0  ? json_string("never")
                                               : json_real(m[i].ttm_s[k]));
    json_array_append_new(scn, json_pack("{s:s, s:s, s:f, s:o}", "id", s->id, "kind",
                                         scn_kind_name(s->kind), "start_s",
                                         (double)s->t_start * m[0].r->scrape_interval_s,
                                         "time_to_mitigation_s", ttm));
  }
  return json_pack("{s:o, s:f, s:f, s:o, s:o}", "command",
                   command ? json_string(command) : json_null(), "hours", m[0].r->hours,
                   "scrape_interval_s", m[0].r->scrape_interval_s, "policies", pol, "scenarios",
                   scn);
}

/* ---- files ---------------------------------------------------------------- */

int oc_report_write(const char *run_dir, const oc_metrics *m, int n, const scn_set *truth,
                    const char *command) {
  char path[4400];
  snprintf(path, sizeof path, "%s/results", run_dir);
  if (sf_mkdir(path, "results directory", 0) != 0)
    return FS_EIO;
  sf_replace r;
  snprintf(path, sizeof path, "%s/results/outcomes.md", run_dir);
  if (sf_replace_open(&r, path) != 0)
    return FS_EIO;
  oc_md(r.fp, m, n, truth, command);
  int rc = sf_replace_finish(&r, 0);
  if (rc != 0)
    return rc;
  snprintf(path, sizeof path, "%s/results/outcomes.json", run_dir);
  if (sf_replace_open(&r, path) != 0)
    return FS_EIO;
  json_t *j = oc_json(m, n, truth, command);
  /* a write error stays in the stream for the commit to report */
  if (!j || (json_dumpf(j, r.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 && !ferror(r.fp)))
    rc = FS_ENOMEM;
  json_decref(j);
  return sf_replace_finish(&r, rc);
}
