/* The judge (see scr_judge in scorer.h): every scenario's checklists with
 * its nodes, racks, jobs and tenant put into the patterns and compiled, the
 * none and shift lists, the calls' parsed contexts and first detections,
 * built once for every backend scored on them. Scorer side only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/judge_internal.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

/* ---- substitutions ------------------------------------------------------ */
/* "(a|b|c)" from names (NULL when n is 0), every ERE metacharacter of a
 * name escaped so that it matches itself; caller frees. *bad on ENOMEM. */
static char *scr_alternation(const char *const *names, int n, int *bad) {
  if (n <= 0)
    return NULL;
  size_t cap = 3;
  for (int i = 0; i < n; i++)
    cap += 2 * strlen(names[i]) + 1;
  char *s = malloc(cap), *w = s;
  if (!s) {
    *bad = 1;
    return NULL;
  }
  *w++ = '(';
  for (int i = 0; i < n; i++) {
    for (const char *c = names[i]; *c; c++) {
      if (strchr(".[]()*+?{}|^$\\", *c))
        *w++ = '\\';
      *w++ = *c;
    }
    *w++ = i + 1 < n ? '|' : ')';
  }
  *w = '\0';
  return s;
}

/* Alternations of the root-cause nodes of s, their racks and their jobs
 * (each distinct, in order of first appearance). 0 or FS_ENOMEM. */
static int scr_subst_of(const scn_def *s, const fleet *f, char **node, char **rack, char **job) {
  int n = s->nnodes, bad = 0, nr = 0, nj = 0;
  char (*nn)[16] = calloc((size_t)n + 1, sizeof *nn), (*rn)[16] = calloc((size_t)n + 1, sizeof *rn);
  const char **np = calloc((size_t)n + 1, sizeof *np), **rp = calloc((size_t)n + 1, sizeof *rp);
  const char **jp = calloc((size_t)n + 1, sizeof *jp);
  *node = *rack = *job = NULL;
  if (!nn || !rn || !np || !rp || !jp)
    bad = 1;
  for (int i = 0; !bad && i < n; i++) {
    int x = s->nodes[i];
    snprintf(nn[i], sizeof nn[i], "node-%04d", x);
    np[i] = nn[i];
    if (x < 0 || x >= f->nodes)
      continue;
    char r[16];
    snprintf(r, sizeof r, "rack-%02d", f->node_rack[x]);
    int seen = 0;
    for (int k = 0; k < nr; k++)
      seen |= strcmp(rp[k], r) == 0;
    if (!seen) {
      snprintf(rn[nr], sizeof rn[nr], "%s", r);
      rp[nr] = rn[nr];
      nr++;
    }
    int j = f->node_job[x];
    seen = j < 0 || j >= f->njobs;
    for (int k = 0; !seen && k < nj; k++)
      seen = strcmp(jp[k], f->cfg->jobs[j].id) == 0;
    if (!seen)
      jp[nj++] = f->cfg->jobs[j].id;
  }
  if (!bad) {
    *node = scr_alternation(np, n, &bad);
    *rack = scr_alternation(rp, nr, &bad);
    *job = scr_alternation(jp, nj, &bad);
  }
  free(nn);
  free(rn);
  free(np);
  free(rp);
  free(jp);
  if (bad) {
    free(*node);
    free(*rack);
    free(*job);
    *node = *rack = *job = NULL;
    return FS_ENOMEM;
  }
  return 0;
}

static void scr_lists_free(scr_lists *l, int n) {
  for (int k = 0; l && k < n; k++) {
    for (int t = 0; t <= TENANT_COUNT; t++)
      chk_list_destroy(&l[k].l2[t]);
    chk_list_destroy(&l[k].l3);
    chk_list_destroy(&l[k].l4);
  }
  free(l);
}

/* Compiles every scenario's lists. 0, FS_EINVAL or FS_ENOMEM. */
static int scr_lists_build(scr_lists **out, const scr_truth *t) {
  int n = t->scenarios ? t->scenarios->n : 0, rc = 0;
  scr_lists *l = calloc((size_t)n + 1, sizeof *l);
  if (!l)
    return FS_ENOMEM;
  for (int k = 0; k < n && !rc; k++) {
    const scn_def *s = &t->scenarios->s[k];
    const char *kind = scn_kind_name(s->kind);
    char *node, *rack, *job;
    if ((rc = scr_subst_of(s, t->f, &node, &rack, &job)) != 0)
      break;
    chk_subst sub = {node, rack, job, NULL};
    for (int ten = 0; ten <= TENANT_COUNT && !rc; ten++) {
      char tn[32];
      snprintf(tn, sizeof tn, "(%s)", ten < TENANT_COUNT ? fleet_tenant_name(ten) : "");
      sub.tenant = ten < TENANT_COUNT ? tn : NULL;
      rc = chk_compile(&l[k].l2[ten], t->checklists, kind, 2, &sub);
    }
    sub.tenant = NULL;
    if (!rc)
      rc = chk_compile(&l[k].l3, t->checklists, kind, 3, &sub);
    if (!rc)
      rc = chk_compile(&l[k].l4, t->checklists, kind, 4, &sub);
    free(node);
    free(rack);
    free(job);
  }
  if (rc) {
    scr_lists_free(l, n);
    return rc;
  }
  *out = l;
  return 0;
}

void scr_judge_free(scr_judge **jp) {
  if (!jp || !*jp)
    return;
  scr_judge *j = *jp;
  for (int i = 0; j->ctx && i < j->ncalls; i++)
    json_decref(j->ctx[i]);
  free(j->ctx);
  free(j->detected_s);
  fam_memo_free(&j->memo);
  scr_lists_free(j->lists, j->t->scenarios ? j->t->scenarios->n : 0);
  chk_list_destroy(&j->none2);
  chk_list_destroy(&j->none3);
  chk_list_destroy(&j->shift);
  free(j);
  *jp = NULL;
}

int scr_judge_new(scr_judge **out, const scr_truth *t, const llm_call *calls, int ncalls) {
  if (!out)
    return FS_EINVAL;
  *out = NULL;
  if (!t || !t->f || !t->checklists || ncalls < 0 || (ncalls > 0 && !calls) ||
      !(t->scrape_interval_s > 0) || !(t->run_seconds > 0)) {
    diag_addf("scorer: invalid truth or calls to score against");
    return FS_EINVAL;
  }
  int nscn = t->scenarios ? t->scenarios->n : 0;
  scr_judge *j = calloc(1, sizeof *j);
  if (!j)
    return FS_ENOMEM;
  *j = (scr_judge){.t = t,
                   .tm = {t->scenarios, t->f, t->checklists, t->scrape_interval_s},
                   .calls = calls,
                   .ncalls = ncalls};
  int rc = 0;
  if (!(j->ctx = calloc((size_t)ncalls + 1, sizeof *j->ctx)) ||
      !(j->detected_s = calloc((size_t)nscn + 1, sizeof *j->detected_s)) ||
      !(j->memo = fam_memo_new(t->checklists)))
    rc = FS_ENOMEM;
  if (rc == 0)
    rc = scr_lists_build(&j->lists, t);
  if (rc == 0)
    rc = chk_compile(&j->none2, t->checklists, "none", 2, NULL);
  if (rc == 0)
    rc = chk_compile(&j->none3, t->checklists, "none", 3, NULL);
  if (rc == 0)
    rc = chk_compile(&j->shift, t->checklists, "shift", 4, NULL);
  for (int i = 0; rc == 0 && i < ncalls; i++)
    j->ctx[i] = calls[i].context ? json_loads(calls[i].context, 0, NULL) : NULL;
  if (rc == 0)
    tmap_first_detections(&j->tm, calls, ncalls, j->detected_s);
  if (rc)
    scr_judge_free(&j);
  *out = j;
  return rc;
}

const scr_truth *scr_judge_truth(const scr_judge *j) { return j->t; }

const llm_call *scr_judge_calls(const scr_judge *j, int *ncalls) {
  *ncalls = j->ncalls;
  return j->calls;
}

