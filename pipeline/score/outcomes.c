/* Outcome scoring (see outcomes.h): the twins' records found, read and
 * ordered, and every policy's figures computed against the fault-free and
 * no-action twins; outcomes_report.c writes them out. */
#include "pipeline/score/outcomes.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/outcomes_report.h"
#include "pipeline/score/remedy.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

/* ---- figures -------------------------------------------------------------- */

/* Steps job j kept: done less rolled back. */
static double oc_kept(const oc_record *r, int j) {
  return r->jobs[j].steps - r->jobs[j].steps_lost;
}

/* GPU-hours r lost against the fault-free record ff: training steps not
 * kept, priced at the fault-free job's step time and GPUs, plus each
 * inference tenant's share of tokens not served times its GPUs and hours. */
static double oc_lost(const oc_record *r, const oc_record *ff, const fleet *f,
                      const double *tenant_gpus) {
  double h = 0;
  for (int j = 0; j < f->njobs; j++)
    h += (ff->jobs[j].steps - oc_kept(r, j)) * ff->jobs[j].step_time_s * ff->jobs[j].gpus / 3600;
  for (int t = TENANT_MOE; t <= TENANT_DENSE; t++)
    if (ff->tokens[t] > 0)
      h += (ff->tokens[t] - r->tokens[t]) / ff->tokens[t] * tenant_gpus[t] * r->hours;
  return h;
}

/* Seconds from s's start to r's first action at or after it that
 * mitigates s; -1 when none does. */
static double oc_ttm(const oc_record *r, const scn_def *s, const fleet *f) {
  double start = (double)s->t_start * r->scrape_interval_s, best = -1;
  for (int i = 0; i < r->nacts; i++) {
    double dt = r->acts[i].t_s - start;
    if (dt >= 0 && (best < 0 || dt < best) && rem_mitigates(s, f, &r->acts[i].a))
      best = dt;
  }
  return best;
}

int oc_compute(const oc_record *r, int n, const fleet *f, const scn_set *truth, oc_metrics *m) {
  int nscn = truth ? truth->n : 0;
  double tenant_gpus[TENANT_COUNT] = {0};
  for (int i = 0; i < f->nodes; i++)
    tenant_gpus[f->node_tenant[i]] += FLEET_GPUS;
  unsigned char *impacted = calloc((size_t)f->nodes, 1);
  if (!impacted)
    return FS_ENOMEM;
  for (int k = 0; k < nscn; k++)
    for (int i = 0; i < truth->s[k].nimpacted; i++)
      impacted[truth->s[k].impacted[i]] = 1;
  memset(m, 0, (size_t)n * sizeof *m);
  const oc_record *ff = &r[0];
  double ff_steps = 0;
  for (int j = 0; j < f->njobs; j++)
    ff_steps += ff->jobs[j].steps;
  int rc = 0;
  for (int p = 0; p < n && rc == 0; p++) {
    oc_metrics *x = &m[p];
    x->r = &r[p];
    double kept = 0, rolled = 0, out = 0;
    for (int j = 0; j < f->njobs; j++) {
      kept += oc_kept(&r[p], j);
      rolled += r[p].jobs[j].steps_lost * r[p].jobs[j].step_time_s * r[p].jobs[j].gpus / 3600;
    }
    x->goodput_pct = ff_steps > 0 ? 100 * kept / ff_steps : NAN;
    for (int t = 0; t < TENANT_COUNT; t++)
      x->tokens_pct[t] =
          t != TENANT_TRAINING && ff->tokens[t] > 0 ? 100 * r[p].tokens[t] / ff->tokens[t] : NAN;
    x->gpu_h_lost = oc_lost(&r[p], ff, f, tenant_gpus);
    for (int i = 0; i < r[p].nout; i++) {
      out += r[p].out[i].gpu_s / 3600;
      x->collateral_gpu_h += impacted[r[p].out[i].node] ? 0 : r[p].out[i].gpu_s / 3600;
    }
    x->action_gpu_h = out + rolled;
    if (nscn > 0 && !(x->ttm_s = malloc((size_t)nscn * sizeof *x->ttm_s))) {
      rc = FS_ENOMEM;
      break;
    }
    for (int k = 0; k < nscn; k++) {
      const scn_def *s = &truth->s[k];
      int remedy = rem_kind_has_remedy(s->kind);
      x->ttm_s[k] = r[p].role == OC_FAULT_FREE || !remedy ? NAN : oc_ttm(&r[p], s, f);
      x->mitigable += remedy && r[p].role != OC_FAULT_FREE;
      x->mitigated += x->ttm_s[k] >= 0;
    }
  }
  free(impacted);
  if (rc != 0) {
    oc_metrics_free(m, n);
    return rc;
  }
  int oracle = -1;
  for (int p = 0; p < n; p++)
    if (r[p].role == OC_ORACLE && oracle < 0)
      oracle = p;
  double gain = oracle >= 0 ? m[1].gpu_h_lost - m[oracle].gpu_h_lost : 0;
  for (int p = 0; p < n; p++)
    m[p].oracle_share_pct = gain > 1e-9 && r[p].role != OC_FAULT_FREE
                                ? 100 * (m[1].gpu_h_lost - m[p].gpu_h_lost) / gain
                                : NAN;
  return 0;
}

void oc_metrics_free(oc_metrics *m, int n) {
  for (int i = 0; m && i < n; i++) {
    free(m[i].ttm_s);
    m[i].ttm_s = NULL;
  }
}

/* ---- the records ---------------------------------------------------------- */

typedef struct {
  char **v;
  int n, cap;
} oc_names;

/* Adds name unless listed; 0 or FS_ENOMEM. */
static int oc_names_add(oc_names *l, const char *name, size_t len) {
  for (int i = 0; i < l->n; i++)
    if (strlen(l->v[i]) == len && strncmp(l->v[i], name, len) == 0)
      return 0;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 8;
    char **v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v)
      return FS_ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strndup(name, len)))
    return FS_ENOMEM;
  l->n++;
  return 0;
}

static void oc_names_free(oc_names *l) {
  for (int i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
}

static int oc_cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of every "<id>.json" in dir (none when dir is missing), sorted,
 * appended to l. 0, FS_EIO or FS_ENOMEM. */
static int oc_scan(const char *dir, oc_names *l) {
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT)
      return 0;
    diag_addf("%s: cannot list the closed-loop records: %s", dir, strerror(errno));
    return FS_EIO;
  }
  int first = l->n, rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d))) {
    size_t len = strlen(e->d_name);
    char stem[OC_NAME_MAX + 2];
    if (len <= 5 || len - 5 > OC_NAME_MAX || strcmp(e->d_name + len - 5, ".json") != 0)
      continue;
    snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), e->d_name);
    if (path_is_stem(stem))
      rc = oc_names_add(l, stem, len - 5);
  }
  closedir(d);
  qsort(l->v + first, (size_t)(l->n - first), sizeof *l->v, oc_cmp_str);
  return rc;
}

/* The policies to read: fault-free, no-action, then policies (or every
 * record of DIR/closed_loop), each once. */
static int oc_policy_names(const char *run_dir, const char *const *policies, int npolicies,
                           oc_names *l) {
  int rc = oc_names_add(l, "fault-free", 10);
  if (rc == 0)
    rc = oc_names_add(l, "no-action", 9);
  if (rc == 0 && !policies) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/closed_loop", run_dir);
    return oc_scan(dir, l);
  }
  for (int i = 0; rc == 0 && i < npolicies; i++) {
    if (!path_is_stem(policies[i]) || strlen(policies[i]) > OC_NAME_MAX) {
      diag_addf("outcomes: policy '%.64s' is not a name of a record (letters, digits, '.', '-', "
                "'_', not starting with '.', at most %d)",
                policies[i], OC_NAME_MAX);
      return FS_EINVAL;
    }
    rc = oc_names_add(l, policies[i], strlen(policies[i]));
  }
  return rc;
}

static int oc_cmp_role(const void *a, const void *b) {
  const oc_record *x = a, *y = b;
  return (x->role > y->role) - (x->role < y->role);
}

int outcomes_write(const char *run_dir, const fleet *f, const scn_set *truth,
                   const char *const *policies, int npolicies, const char *command) {
  oc_names names = {NULL, 0, 0};
  int rc = oc_policy_names(run_dir, policies, npolicies, &names);
  oc_record *r = rc == 0 ? calloc((size_t)names.n, sizeof *r) : NULL;
  if (rc == 0 && !r)
    rc = FS_ENOMEM;
  int n = 0;
  for (int i = 0; rc == 0 && i < names.n; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/closed_loop/%s.json", run_dir, names.v[i]);
    rc = oc_record_read(path, names.v[i], f, &r[n]);
    n += rc == 0;
  }
  oc_names_free(&names);
  oc_metrics *m = rc == 0 ? calloc((size_t)n, sizeof *m) : NULL;
  if (rc == 0 && !m)
    rc = FS_ENOMEM;
  if (rc == 0) {
    /* insertion order within a role: a stable sort by role */
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && oc_cmp_role(&r[j - 1], &r[j]) > 0; j--) {
        oc_record t = r[j];
        r[j] = r[j - 1];
        r[j - 1] = t;
      }
    rc = oc_compute(r, n, f, truth, m);
  }
  if (rc == 0)
    rc = oc_report_write(run_dir, m, n, truth, command);
  if (m)
    oc_metrics_free(m, n);
  free(m);
  for (int i = 0; i < n; i++)
    oc_record_free(&r[i]);
  free(r);
  return rc;
}
