/* The L1 quality report (see detection_report.h): matches events to ground-
 * truth scenarios by time and place, and writes the figures as JSON and as a
 * markdown table. Scorer side only: reads ground truth, decides no detection. */
#include "pipeline/detection_report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/diag.h"
#include "src/errors.h"
#include "src/safefile.h"

enum {
  DETREP_GRACE_S = 600,    /* events up to 10 min after a scenario's end still count */
  DETREP_PROMPT_S = 600,   /* "detected within 10 min" */
};

/* Place bits of a node for the scenario being scored. */
enum { DETREP_ROOT = 1, DETREP_IMPACTED = 2 };

typedef struct {
  char id[SCN_ID_LEN];
  const char *kind; /* static, from scn_kind_name */
  double start_s, end_s;
  int detected;
  double latency_s; /* first matching t_s - start_s; valid when detected */
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

/* Scratch per scenario: place bits per node, and which racks, jobs and
 * tenants hold a root-cause node. */
typedef struct {
  unsigned char *node; /* [nodes] DETREP_ROOT | DETREP_IMPACTED */
  unsigned char *rack; /* [racks] */
  unsigned char *job;  /* [njobs] */
  unsigned tenants;    /* bit per tenant */
} detrep_place;

static void detrep_place_load(detrep_place *p, const scn_def *s, const fleet *f) {
  memset(p->node, 0, (size_t)f->nodes);
  memset(p->rack, 0, (size_t)f->racks);
  memset(p->job, 0, (size_t)f->njobs + 1);
  p->tenants = 0;
  for (int i = 0; i < s->nimpacted; i++)
    if (s->impacted[i] >= 0 && s->impacted[i] < f->nodes)
      p->node[s->impacted[i]] |= DETREP_IMPACTED;
  for (int i = 0; i < s->nnodes; i++) {
    int n = s->nodes[i];
    if (n < 0 || n >= f->nodes)
      continue;
    p->node[n] |= DETREP_ROOT;
    p->rack[f->node_rack[n]] = 1;
    if (f->node_job[n] >= 0 && f->node_job[n] < f->njobs)
      p->job[f->node_job[n]] = 1;
    p->tenants |= 1u << f->node_tenant[n];
  }
}

/* How event e relates to the scenario loaded in p: 0 no match, 1 match,
 * 2 match that also localizes the root cause. Time is checked by the caller. */
static int detrep_place_match(const detrep_place *p, const ev_event *e, const fleet *f) {
  unsigned node = e->node >= 0 && e->node < f->nodes ? p->node[e->node] : 0;
  int in_rack = e->scope == EV_SCOPE_RACK && e->rack >= 0 && e->rack < f->racks && p->rack[e->rack];
  int in_job = e->scope == EV_SCOPE_JOB && e->job >= 0 && e->job < f->njobs && p->job[e->job];
  int in_tenant = e->scope == EV_SCOPE_CLUSTER && e->tenant >= 0 && e->tenant < TENANT_COUNT &&
                  (p->tenants >> e->tenant) & 1u;
  if (!(node & (DETREP_ROOT | DETREP_IMPACTED)) && !in_rack && !in_job && !in_tenant)
    return 0;
  return (node & DETREP_ROOT) || in_rack || in_job ? 2 : 1;
}

int detrep_build(detrep **out, const ev_event *events, int n, const scn_set *scenarios,
                 const fleet *f, double scrape_interval_s, double run_seconds) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (n < 0 || (n > 0 && !events) || !f || !(scrape_interval_s > 0) || !(run_seconds > 0) ||
      !isfinite(run_seconds) || (scenarios && scenarios->n > 0 && !scenarios->s)) {
    diag_addf("detection report: invalid input (%d events%s, scrape interval %g s, run %g s%s)", n,
              n > 0 && !events ? " without a list" : "", scrape_interval_s, run_seconds,
              f ? "" : ", no fleet");
    return FS_EINVAL;
  }
  const int nscn = scenarios ? scenarios->n : 0;
  detrep *r = calloc(1, sizeof *r);
  unsigned char *matched = calloc((size_t)n + 1, 1);
  detrep_place p = {calloc((size_t)f->nodes + 1, 1), calloc((size_t)f->racks + 1, 1),
                    calloc((size_t)f->njobs + 1, 1), 0};
  int rc = 0;
  if (!r || !matched || !p.node || !p.rack || !p.job ||
      !(r->s = calloc((size_t)nscn + 1, sizeof *r->s))) {
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
    o->start_s = (double)s->t_start * scrape_interval_s;
    o->end_s = (double)s->t_end * scrape_interval_s;
    const double last_s = o->end_s + DETREP_GRACE_S;
    detrep_place_load(&p, s, f);
    for (int i = 0; i < n; i++) {
      const ev_event *e = &events[i];
      if (!(e->t_s >= o->start_s && e->t_s <= last_s))
        continue;
      int how = detrep_place_match(&p, e, f);
      if (!how)
        continue;
      matched[i] = 1;
      o->events++;
      if (!o->detected || e->t_s - o->start_s < o->latency_s)
        o->latency_s = e->t_s - o->start_s;
      o->detected = 1;
      o->localized |= how == 2;
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
  free(p.node);
  free(p.rack);
  free(p.job);
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
  fprintf(out, "| scenario | kind | detected | first detection (min) | localized | escalated | "
               "events |\n");
  fprintf(out, "|---|---|---|---|---|---|---|\n");
  for (int k = 0; k < r->nscn; k++) {
    const detrep_scenario *s = &r->s[k];
    if (s->detected)
      snprintf(a, sizeof a, "%.1f", s->latency_s / 60.0);
    else
      snprintf(a, sizeof a, "-");
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %d |\n", s->id, s->kind,
            s->detected ? "yes" : "no", a, s->localized ? "yes" : "no",
            s->escalated ? "yes" : "no", s->events);
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
