/* The L1 quality report (see detection_report.h): matches events to ground-
 * truth scenarios (truth_map.h), and writes the figures as JSON and as a
 * markdown table. Scorer side only: reads ground truth, decides no detection. */
#include "pipeline/score/detection_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/truth_map.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

enum { DETREP_PROMPT_S = 600 /* "detected within 10 min" */ };

typedef struct {
  char id[SCN_ID_LEN];
  const char *kind; /* static, from scn_kind_name */
  double start_s, end_s;
  int detected;
  double latency_s; /* first matching t_s - start_s; valid when detected */
  char first_metric[EV_METRIC_LEN]; /* trigger metric of that event */
  int localized, escalated;
  int events; /* matching events */
} detrep_scenario;

struct detrep {
  int nscn;
  detrep_scenario *s;
  double run_seconds;
  int events_total, escalated_events, unmatched_events, escalated_matching;
  int detected, localized, escalated, within_10_min;
};

void detrep_destroy(detrep **rp) {
  if (!rp || !*rp)
    return;
  free((*rp)->s);
  free(*rp);
  *rp = NULL;
}

int detrep_build(detrep **out, const ev_event *events, int n, const scn_set *scenarios,
                 const fleet *f, const chk_set *knowledge, double scrape_interval_s,
                 double run_seconds) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (n < 0 || (n > 0 && !events) || !f || !knowledge || !(scrape_interval_s > 0) ||
      !(run_seconds > 0) || !isfinite(run_seconds) ||
      (scenarios && scenarios->n > 0 && !scenarios->s)) {
    diag_addf("detection report: invalid input (%d events%s, scrape interval %g s, run %g s%s%s)",
              n, n > 0 && !events ? " without a list" : "", scrape_interval_s, run_seconds,
              f ? "" : ", no fleet", knowledge ? "" : ", no checklists");
    return FS_EINVAL;
  }
  const int nscn = scenarios ? scenarios->n : 0;
  const tmap_truth truth = {scenarios, f, knowledge, scrape_interval_s};
  detrep *r = calloc(1, sizeof *r);
  unsigned char *matched = calloc((size_t)n + 1, 1);
  int rc = 0;
  if (!r || !matched || !(r->s = calloc((size_t)nscn + 1, sizeof *r->s))) {
    rc = FS_ENOMEM;
    goto done;
  }
  r->nscn = nscn;
  r->run_seconds = run_seconds;
  r->events_total = n;

  for (int k = 0; k < nscn; k++) {
    const scn_def *s = &scenarios->s[k];
    detrep_scenario *o = &r->s[k];
    snprintf(o->id, sizeof o->id, "%s", s->id);
    o->kind = scn_kind_name(s->kind);
    o->start_s = tmap_start_s(&truth, s);
    o->end_s = tmap_end_s(&truth, s);
    for (int i = 0; i < n; i++) {
      const ev_event *e = &events[i];
      const tmap_event te = tmap_of_event(e);
      unsigned how = tmap_relation(&truth, s, &te);
      if (!how)
        continue;
      matched[i] = 1;
      o->events++;
      if (!o->detected || e->t_s - o->start_s < o->latency_s) {
        o->latency_s = e->t_s - o->start_s;
        snprintf(o->first_metric, sizeof o->first_metric, "%s", e->top.metric);
      }
      o->detected = 1;
      o->localized |= (how & (TMAP_ROOT_NODE | TMAP_ROOT_GROUP)) != 0;
      o->escalated |= e->escalated != 0;
    }
    r->detected += o->detected;
    r->localized += o->localized;
    r->escalated += o->escalated;
    r->within_10_min += o->detected && o->latency_s <= DETREP_PROMPT_S;
  }
  for (int i = 0; i < n; i++) {
    r->escalated_events += events[i].escalated != 0;
    r->unmatched_events += !matched[i];
    r->escalated_matching += events[i].escalated != 0 && matched[i];
  }
done:
  free(matched);
  if (rc)
    detrep_destroy(&r);
  *out = r;
  return rc;
}

/* ---- output ----------------------------------------------------------------- */

static double detrep_per_day(const detrep *r) { return r->events_total * 86400.0 / r->run_seconds; }

/* num / den as a JSON real, or null when den is 0. */
static json_t *detrep_share_json(int num, int den) {
  return den > 0 ? json_real((double)num / den) : json_null();
}

/* Sets key to a new value; a NULL value (allocation failure) marks *bad. */
static void detrep_set(json_t *obj, const char *key, json_t *value, int *bad) {
  if (!value || json_object_set_new(obj, key, value) != 0)
    *bad = 1;
}

/* The whole report as a JSON object, or NULL on allocation failure. */
static json_t *detrep_json(const detrep *r) {
  int bad = 0;
  json_t *root = json_object(), *list = json_array();
  if (!root || !list) {
    json_decref(root);
    json_decref(list);
    return NULL;
  }
  for (int k = 0; k < r->nscn; k++) {
    const detrep_scenario *s = &r->s[k];
    json_t *o = json_object();
    if (!o || json_array_append_new(list, o) != 0) {
      bad = 1;
      break;
    }
    detrep_set(o, "id", json_string(s->id), &bad);
    detrep_set(o, "kind", json_string(s->kind), &bad);
    detrep_set(o, "start_s", json_real(s->start_s), &bad);
    detrep_set(o, "end_s", json_real(s->end_s), &bad);
    detrep_set(o, "detected", json_boolean(s->detected), &bad);
    detrep_set(o, "first_detection_latency_s", s->detected ? json_real(s->latency_s) : json_null(),
               &bad);
    detrep_set(o, "localized", json_boolean(s->localized), &bad);
    detrep_set(o, "escalated", json_boolean(s->escalated), &bad);
    detrep_set(o, "events", json_integer(s->events), &bad);
    detrep_set(o, "first_metric", s->detected ? json_string(s->first_metric) : json_null(), &bad);
  }
  detrep_set(root, "scenarios", list, &bad);
  detrep_set(root, "events_total", json_integer(r->events_total), &bad);
  detrep_set(root, "events_per_day", json_real(detrep_per_day(r)), &bad);
  detrep_set(root, "escalated_events", json_integer(r->escalated_events), &bad);
  detrep_set(root, "escalation_rate", detrep_share_json(r->escalated_events, r->events_total),
             &bad);
  detrep_set(root, "unmatched_events", json_integer(r->unmatched_events), &bad);
  detrep_set(root, "unmatched_share", detrep_share_json(r->unmatched_events, r->events_total),
             &bad);
  detrep_set(root, "escalated_matching_share",
             detrep_share_json(r->escalated_matching, r->escalated_events), &bad);
  detrep_set(root, "scenarios_total", json_integer(r->nscn), &bad);
  detrep_set(root, "scenarios_detected", json_integer(r->detected), &bad);
  detrep_set(root, "scenarios_localized", json_integer(r->localized), &bad);
  detrep_set(root, "scenarios_escalated", json_integer(r->escalated), &bad);
  detrep_set(root, "detected_within_10_min_share", detrep_share_json(r->within_10_min, r->nscn),
             &bad);
  detrep_set(root, "run_seconds", json_real(r->run_seconds), &bad);
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

int detrep_write_json(const detrep *r, const char *path) {
  if (!r || !path)
    return FS_EINVAL;
  json_t *root = detrep_json(r);
  if (!root)
    return FS_ENOMEM;
  int rc = 0;
  sf_replace out; /* a temp file renamed over path: never written through a link */
  if (sf_replace_open(&out, path) != 0) {
    rc = FS_EIO;
  } else if (json_dumpf(root, out.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
             fputc('\n', out.fp) == EOF) {
    diag_addf("detection report %s: cannot write the file: %s", path, strerror(errno));
    sf_replace_abort(&out);
    rc = FS_EIO;
  } else {
    rc = sf_replace_commit(&out);
  }
  json_decref(root);
  return rc;
}

/* "27.3 %" for num / den, or "n/a" when den is 0. */
static const char *detrep_pct(int num, int den, char *buf, size_t cap) {
  if (den > 0)
    snprintf(buf, cap, "%.1f %%", 100.0 * num / den);
  else
    snprintf(buf, cap, "n/a");
  return buf;
}

void detrep_print_table(const detrep *r, FILE *out) {
  if (!r || !out)
    return;
  char a[32], b[32];
  if (r->nscn == 0)
    fprintf(out, "No scenarios in this run (fault-free): every event is a false positive.\n");
  else
    fprintf(out, "| scenario | kind | detected | first detection (min) | by | localized | "
                 "escalated | events |\n|---|---|---|---|---|---|---|---|\n");
  for (int k = 0; k < r->nscn; k++) {
    const detrep_scenario *s = &r->s[k];
    if (s->detected)
      snprintf(a, sizeof a, "%.1f", s->latency_s / 60.0);
    else
      snprintf(a, sizeof a, "-");
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %d |\n", s->id, s->kind,
            s->detected ? "yes" : "no", a, s->detected ? s->first_metric : "-",
            s->localized ? "yes" : "no", s->escalated ? "yes" : "no", s->events);
  }
  fprintf(out, "\n- events: %d total, %.1f per day\n", r->events_total, detrep_per_day(r));
  fprintf(out, "- escalated events: %d (%s of events)\n", r->escalated_events,
          detrep_pct(r->escalated_events, r->events_total, a, sizeof a));
  fprintf(out, "- events matching no scenario: %d (%s of events)\n", r->unmatched_events,
          detrep_pct(r->unmatched_events, r->events_total, a, sizeof a));
  fprintf(out, "- escalated events matching a scenario: %s\n",
          detrep_pct(r->escalated_matching, r->escalated_events, a, sizeof a));
  fprintf(out, "- scenarios: %d of %d detected, %d localized, %d escalated\n", r->detected,
          r->nscn, r->localized, r->escalated);
  fprintf(out, "- detected within 10 min: %d of %d (%s)\n", r->within_10_min, r->nscn,
          detrep_pct(r->within_10_min, r->nscn, b, sizeof b));
}
