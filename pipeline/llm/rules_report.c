/* The rules backend's L4 shift handoff (see rules_diagnose.h): incidents from
 * its own L3 one-liners and the detector's escalations, grouped by the fault
 * families of its catalogue (in catalogue order), active or resolved by the
 * time of their last evidence; emerging risks for the families the catalogue
 * calls slow burns; SLA and training health from the context's tables. Every
 * number is a context value; every name one the context gives. */
#include "pipeline/llm/rules_diagnose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/rules_read.h"
#include "pipeline/llm/shift_facts.h"
#include "src/core/strbuf.h"

enum {
  RP_ACTIVE_MIN = 30, /* evidence this close to the window's end: still active */
  RP_MAX_PLACES = 6,
};

/* One incident: a fault family seen in the window. */
typedef struct {
  int seen;
  int first_min, last_min; /* minutes of the day of its first and last evidence */
  char first[8], last[8];  /* "HH:MM" as the context wrote them */
  char places[RP_MAX_PLACES][24];
  int nplaces;
} rp_incident;

/* Minutes since midnight of "HH:MM" (or -1). */
static int rp_minutes(const char *t) {
  int h, m;
  return t && sscanf(t, "%d:%d", &h, &m) == 2 ? h * 60 + m : -1;
}

/* The family an L3 one-liner ("HH:MM node-NNNN: <root cause>") reports:
 * the label its root cause starts with; -1 for none. */
static int rp_family_of_line(const rc_catalogue *c, const char *line) {
  const char *colon = strstr(line, ": ");
  const char *root = colon ? colon + 2 : line;
  for (int f = 0; f < c->n; f++)
    if (strncmp(root, c->f[f].label, strlen(c->f[f].label)) == 0)
      return f;
  return -1;
}

/* Adds the first node, rack, GPU and job names of text (node-NNNN/gpuK,
 * rack-NN, train-NNN) to the incident's places. */
static void rp_add_places(rp_incident *inc, const char *text) {
  static const char *const prefixes[] = {"rack-", "train-", "node-"};
  for (size_t p = 0; p < 3; p++) {
    const char *s = strstr(text, prefixes[p]);
    if (!s)
      continue;
    size_t n = strspn(s + strlen(prefixes[p]), "0123456789");
    if (n == 0)
      continue;
    n += strlen(prefixes[p]);
    if (p == 2 && strncmp(s + n, "/gpu", 4) == 0 && s[n + 4] >= '0' && s[n + 4] <= '7')
      n += 5;
    char name[24];
    snprintf(name, sizeof name, "%.*s", (int)n, s);
    int dup = 0;
    for (int i = 0; i < inc->nplaces; i++)
      dup |= strcmp(inc->places[i], name) == 0;
    if (!dup && inc->nplaces < RP_MAX_PLACES)
      snprintf(inc->places[inc->nplaces++], sizeof inc->places[0], "%s", name);
    return; /* the most specific place the line names first */
  }
}

static void rp_seen(rp_incident *inc, const char *time) {
  int m = rp_minutes(time);
  if (m < 0)
    return;
  if (!inc->seen || m < inc->first_min) {
    inc->first_min = m;
    snprintf(inc->first, sizeof inc->first, "%.5s", time);
  }
  if (!inc->seen || m > inc->last_min) {
    inc->last_min = m;
    snprintf(inc->last, sizeof inc->last, "%.5s", time);
  }
  inc->seen = 1;
}

/* The incidents of the window by family: from the backend's L3 one-liners,
 * else from the detector's escalated incidents (by their metric). */
static void rp_incidents(const rc_catalogue *c, const json_t *ctx, rp_incident *inc) {
  memset(inc, 0, sizeof(rp_incident) * RC_MAX_FAMILIES);
  const json_t *l3 = json_object_get(ctx, "l3_analyses");
  for (size_t i = 0; i < json_array_size(l3); i++) {
    const char *line = json_string_value(json_array_get(l3, i));
    int f = line ? rp_family_of_line(c, line) : -1;
    if (f < 0)
      continue;
    rp_seen(&inc[f], line);
    rp_add_places(&inc[f], line);
  }
  const json_t *esc = json_object_get(ctx, "escalated_incidents");
  for (size_t i = 0; i < json_array_size(esc); i++) {
    const json_t *x = json_array_get(esc, i);
    const char *summary = rr_str(x, "summary"), *colon = strrchr(summary, ':');
    char metric[64];
    if (!colon || sscanf(colon + 1, " %63[a-z_]", metric) != 1)
      continue;
    int f = rc_family_of_metric(c, metric);
    if (f >= 0 && (inc[f].seen || !json_array_size(l3))) {
      rp_seen(&inc[f], rr_str(x, "time"));
      if (!json_array_size(l3))
        rp_add_places(&inc[f], summary);
    }
  }
}

static void rp_incident_line(strbuf *b, const char *label, const rp_incident *inc) {
  sb_addf(b, "- %s", label);
  for (int i = 0; i < inc->nplaces; i++)
    sb_addf(b, "%s%s", i ? ", " : " on ", inc->places[i]);
  sb_addf(b, " (first evidence %s, last %s)\n", inc->first, inc->last);
}

/* "| tenant | start | now | burned | verdict |" from the context. */
static void rp_sla(strbuf *b, const json_t *ctx) {
  const json_t *sla = json_object_get(ctx, "sla_budget_remaining");
  const char *tenant;
  json_t *v;
  sb_addf(b, "| tenant | budget at start | now | burned this shift | verdict |\n"
             "|---|---|---|---|---|\n");
  int fast = 0;
  json_object_foreach((json_t *)sla, tenant, v) {
    int is_fast = sf_sla_fast(ctx, tenant);
    fast += is_fast;
    sb_addf(b, "| %s | %.2f%% | %.2f%% | %.3f%% | %s |\n", tenant, 100 * rr_num(v, "start"),
            100 * rr_num(v, "end"), 100 * rr_num(v, "burned"),
            is_fast ? "burning faster than the steady pace" : "steady pace");
  }
  if (fast)
    sb_addf(b, "\n%s SLA budget burned faster than the steady pace this shift.\n",
            fast == 1 ? "One tenant's" : "Several tenants'");
}

static int rp_training(strbuf *b, const json_t *ctx) {
  const json_t *jobs = json_object_get(ctx, "training_jobs");
  int degraded = 0;
  for (size_t i = 0; i < json_array_size(jobs); i++) {
    const json_t *j = json_array_get(jobs, i);
    double worst = rr_num(j, "step_ms_window_max"), base = rr_num(j, "baseline_step_ms");
    int bad = sf_job_degraded(j);
    degraded += bad;
    sb_addf(b, "- %s (%s, %lld nodes): worst step %.0f ms against a %.0f ms baseline, now %.0f "
               "ms: %s\n",
            rr_str(j, "job"), rr_str(j, "model"), (long long)json_integer_value(json_object_get(j, "nodes")),
            worst, base, rr_num(j, "step_ms_now"),
            bad ? "degraded during the shift" : "healthy");
  }
  if (!json_array_size(jobs))
    sb_addf(b, "- No training job in the context.\n");
  return degraded;
}

char *rules_l4(const rc_catalogue *c, const json_t *ctx) {
  const json_t *win = json_object_get(ctx, "window"), *cl = json_object_get(ctx, "cluster");
  const json_t *l1 = json_object_get(ctx, "l1"), *l2 = json_object_get(ctx, "l2_counts");
  strbuf b = {0};
  sb_addf(&b, "# Shift handoff %s-%s\n\n", rr_str(win, "from"), rr_str(win, "to"));
  sb_addf(&b, "Cluster: %.3f MW IT power, PUE %.3f, %.0f spare GPUs. L1 raised %lld events "
              "(%lld escalated).",
          rr_num(cl, "it_power_mw"), rr_num(cl, "facility_pue"), rr_num(cl, "spare_gpus"),
          (long long)json_integer_value(json_object_get(l1, "events")),
          (long long)json_integer_value(json_object_get(l1, "escalated")));
  if (json_is_object(l2)) {
    const char *k;
    json_t *v;
    sb_addf(&b, " L2 triage:");
    json_object_foreach((json_t *)l2, k, v) sb_addf(&b, " %s %lld;", k, (long long)json_integer_value(v));
  }
  rp_incident inc[RC_MAX_FAMILIES];
  rp_incidents(c, ctx, inc);
  int end = rp_minutes(rr_str(win, "to"));
  if (end == 0)
    end = 24 * 60; /* a window ending at midnight */
  int active[RC_MAX_FAMILIES] = {0}, nactive = 0, nresolved = 0;
  for (int f = 0; f < c->n; f++)
    if (inc[f].seen) {
      active[f] = end - inc[f].last_min <= RP_ACTIVE_MIN;
      nactive += active[f];
      nresolved += !active[f];
    }
  sb_addf(&b, "\n\n## Active incidents\n\n");
  for (int f = 0; f < c->n; f++)
    if (inc[f].seen && active[f])
      rp_incident_line(&b, c->f[f].label, &inc[f]);
  if (!nactive)
    sb_addf(&b, "- None.\n");
  sb_addf(&b, "\n## Resolved incidents\n\n");
  for (int f = 0; f < c->n; f++)
    if (inc[f].seen && !active[f])
      rp_incident_line(&b, c->f[f].label, &inc[f]);
  if (!nresolved)
    sb_addf(&b, "- None.\n");
  sb_addf(&b, "\n## SLA status\n\n");
  rp_sla(&b, ctx);
  sb_addf(&b, "\n## Training health\n\n");
  int degraded = rp_training(&b, ctx);
  sb_addf(&b, "\n## Emerging risks\n\n");
  int risks = 0;
  for (int f = 0; f < c->n; f++)
    if (c->f[f].l4_risk && inc[f].seen && active[f]) { /* a slow burn: it has not failed yet */
      sb_addf(&b, "- %s", c->f[f].label);
      for (int i = 0; i < inc[f].nplaces; i++)
        sb_addf(&b, "%s%s", i ? ", " : " on ", inc[f].places[i]);
      sb_addf(&b, ": %s\n", c->f[f].l4_risk);
      risks++;
    }
  if (!risks)
    sb_addf(&b, "- No slow trend is developing.\n");
  sb_addf(&b, "\n## Next-shift recommendations\n\n");
  for (int f = 0; f < c->n; f++)
    if (inc[f].seen && active[f]) {
      sb_addf(&b, "- Follow up the %s", c->f[f].label);
      for (int i = 0; i < inc[f].nplaces; i++)
        sb_addf(&b, "%s%s", i ? ", " : " on ", inc[f].places[i]);
      sb_addf(&b, ": verify the fix with the next detection steps\n");
    }
  if (degraded)
    sb_addf(&b, "- Check that the degraded training jobs are back at their baseline step time\n");
  sb_addf(&b, "- Keep watching the detector's escalations\n");
  return sb_take(&b);
}
