/* A closed-loop twin's record read and checked field by field (see
 * outcomes_record.h). Stops at the first problem: one message naming the
 * file and the field. */
#include "pipeline/score/outcomes_record.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/textfile.h"

static const char *const oc_role_names[OC_ROLE_COUNT] = {"fault-free", "no-action", "oracle",
                                                         "backend", "null"};

const char *oc_role_name(oc_role r) {
  return r >= 0 && r < OC_ROLE_COUNT ? oc_role_names[r] : NULL;
}

/* The file being read, for messages. */
typedef struct {
  const char *path;
} oc_src;

static int oc_bad(const oc_src *s, const char *field, const char *why) {
  diag_addf("%s: field '%s': %s", s->path, field, why);
  return FS_EINVAL;
}

/* o.key as a finite number >= lo into *v (field names it). */
static int oc_num(const oc_src *s, json_t *o, const char *key, const char *field, double lo,
                  double *v) {
  json_t *x = json_object_get(o, key);
  if (!json_is_number(x) || !isfinite(json_number_value(x)))
    return oc_bad(s, field, "missing or not a number");
  *v = json_number_value(x);
  if (*v < lo) {
    char why[96];
    snprintf(why, sizeof why, "%g is below %g", *v, lo);
    return oc_bad(s, field, why);
  }
  return 0;
}

/* o.key as a whole number >= 0 into *v. */
static int oc_count(const oc_src *s, json_t *o, const char *key, int *v) {
  json_t *x = json_object_get(o, key);
  if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 1000000000)
    return oc_bad(s, key, "missing or not a whole number >= 0");
  *v = (int)json_integer_value(x);
  return 0;
}

/* o.key as a string (NULL with the problem in diag). */
static const char *oc_str(const oc_src *s, json_t *o, const char *key, const char *field) {
  const char *v = json_string_value(json_object_get(o, key));
  if (!v)
    oc_bad(s, field, "missing or not a string");
  return v;
}

/* o.key as an array (NULL with the problem in diag). */
static json_t *oc_array(const oc_src *s, json_t *o, const char *key) {
  json_t *a = json_object_get(o, key);
  if (!json_is_array(a))
    oc_bad(s, key, "missing or not an array");
  return a;
}

static int oc_head(const oc_src *s, json_t *d, const char *stem, const fleet *f, oc_record *r) {
  const char *policy = oc_str(s, d, "policy", "policy");
  if (!policy)
    return FS_EINVAL;
  if (strcmp(policy, stem) != 0 || strlen(stem) >= sizeof r->policy) {
    char why[160];
    snprintf(why, sizeof why, "'%.40s' is not the file's name '%.40s'", policy, stem);
    return oc_bad(s, "policy", why);
  }
  snprintf(r->policy, sizeof r->policy, "%s", stem);
  const char *role = oc_str(s, d, "role", "role");
  if (!role)
    return FS_EINVAL;
  r->role = OC_ROLE_COUNT;
  for (int i = 0; i < OC_ROLE_COUNT; i++)
    if (strcmp(role, oc_role_names[i]) == 0)
      r->role = (oc_role)i;
  char why[200];
  if (r->role == OC_ROLE_COUNT) {
    snprintf(why, sizeof why, "'%.40s' is not fault-free, no-action, oracle, backend or null",
             role);
    return oc_bad(s, "role", why);
  }
  /* the baselines are found by name: fault-free.json and no-action.json */
  for (int b = OC_FAULT_FREE; b <= OC_NO_ACTION; b++)
    if ((r->role == (oc_role)b) != (strcmp(stem, oc_role_names[b]) == 0)) {
      snprintf(why, sizeof why, "'%.40s': only %s.json has role %s, and it must", role,
               oc_role_names[b], oc_role_names[b]);
      return oc_bad(s, "role", why);
    }
  const char *about = oc_str(s, d, "about", "about");
  if (!about)
    return FS_EINVAL;
  snprintf(r->about, sizeof r->about, "%s", about);
  int rc = oc_num(s, d, "hours", "hours", 0, &r->hours);
  if (rc == 0 && fabs(r->hours - f->cfg->hours) > 1e-9) {
    snprintf(why, sizeof why, "%g is not the run's %g", r->hours, f->cfg->hours);
    rc = oc_bad(s, "hours", why);
  }
  if (rc == 0)
    rc = oc_num(s, d, "scrape_interval_s", "scrape_interval_s", 0, &r->scrape_interval_s);
  if (rc == 0 && r->scrape_interval_s != f->cfg->scrape_interval_s) {
    snprintf(why, sizeof why, "%g is not the run's %d", r->scrape_interval_s,
             f->cfg->scrape_interval_s);
    rc = oc_bad(s, "scrape_interval_s", why);
  }
  if (rc == 0)
    rc = oc_num(s, d, "latency_pace", "latency_pace", 0, &r->latency_pace);
  if (rc == 0)
    rc = oc_count(s, d, "decisions", &r->decisions);
  if (rc == 0)
    rc = oc_count(s, d, "rejected", &r->rejected);
  return rc;
}

static int oc_jobs(const oc_src *s, json_t *d, const fleet *f, oc_record *r) {
  json_t *a = oc_array(s, d, "jobs"), *o;
  if (!a)
    return FS_EINVAL;
  if (f->njobs > 0 && !(r->jobs = calloc((size_t)f->njobs, sizeof *r->jobs)))
    return FS_ENOMEM;
  unsigned char *seen = calloc((size_t)f->njobs + 1, 1);
  if (!seen)
    return FS_ENOMEM;
  int rc = 0;
  size_t i;
  char field[64];
  json_array_foreach(a, i, o) {
    snprintf(field, sizeof field, "jobs[%zu].job", i);
    const char *id = oc_str(s, o, "job", field);
    int j = -1;
    for (int k = 0; id && k < f->njobs; k++)
      if (strcmp(id, f->cfg->jobs[k].id) == 0)
        j = k;
    if (!id || j < 0 || seen[j]) {
      char why[128];
      snprintf(why, sizeof why, "'%.40s' is %s", id ? id : "",
               j < 0 ? "not a training job of the run" : "listed twice");
      rc = id ? oc_bad(s, field, why) : FS_EINVAL;
      break;
    }
    seen[j] = 1;
    oc_job *x = &r->jobs[j];
    static const char *const keys[] = {"gpus", "step_time_s", "steps", "steps_lost"};
    double *vals[] = {&x->gpus, &x->step_time_s, &x->steps, &x->steps_lost};
    for (int k = 0; rc == 0 && k < 4; k++) {
      snprintf(field, sizeof field, "jobs[%zu].%s", i, keys[k]);
      rc = oc_num(s, o, keys[k], field, k < 2 ? 1e-9 : 0, vals[k]);
    }
    if (rc)
      break;
  }
  for (int j = 0; rc == 0 && j < f->njobs; j++)
    if (!seen[j]) {
      char why[96];
      snprintf(why, sizeof why, "job '%s' of the run is missing", f->cfg->jobs[j].id);
      rc = oc_bad(s, "jobs", why);
    }
  free(seen);
  return rc;
}

static int oc_tenants(const oc_src *s, json_t *d, oc_record *r) {
  json_t *a = oc_array(s, d, "tenants"), *o;
  if (!a)
    return FS_EINVAL;
  int seen[TENANT_COUNT] = {0}, rc = 0;
  size_t i;
  char field[64];
  json_array_foreach(a, i, o) {
    snprintf(field, sizeof field, "tenants[%zu].tenant", i);
    const char *name = oc_str(s, o, "tenant", field);
    int t = -1;
    for (int k = 0; name && k < TENANT_COUNT; k++)
      if (strcmp(name, fleet_tenant_name(k)) == 0)
        t = k;
    if (!name || t < 0 || seen[t]) {
      char why[128];
      snprintf(why, sizeof why, "'%.40s' is %s", name ? name : "",
               t < 0 ? "not moe-inference, dense-inference or training" : "listed twice");
      return name ? oc_bad(s, field, why) : FS_EINVAL;
    }
    seen[t] = 1;
    snprintf(field, sizeof field, "tenants[%zu].tokens", i);
    rc = oc_num(s, o, "tokens", field, 0, &r->tokens[t]);
    snprintf(field, sizeof field, "tenants[%zu].sla_budget_left_percent", i);
    if (rc == 0)
      rc = oc_num(s, o, "sla_budget_left_percent", field, -INFINITY, &r->sla_left[t]);
    if (rc)
      return rc;
  }
  for (int t = 0; t < TENANT_COUNT; t++)
    if (!seen[t]) {
      char why[96];
      snprintf(why, sizeof why, "tenant '%s' is missing", fleet_tenant_name(t));
      return oc_bad(s, "tenants", why);
    }
  return 0;
}

/* "node-NNNN" of fleet f, or -1. */
static int oc_node(const fleet *f, const char *name) {
  char *end;
  if (!name || strncmp(name, "node-", 5) != 0 || strspn(name + 5, "0123456789") < 4)
    return -1;
  long n = strtol(name + 5, &end, 10);
  return *end == '\0' && n >= 0 && n < f->nodes ? (int)n : -1;
}

static int oc_outs(const oc_src *s, json_t *d, const fleet *f, oc_record *r) {
  json_t *a = oc_array(s, d, "gpu_s_out"), *o;
  if (!a)
    return FS_EINVAL;
  if (json_array_size(a) && !(r->out = calloc(json_array_size(a), sizeof *r->out)))
    return FS_ENOMEM;
  size_t i;
  char field[64];
  json_array_foreach(a, i, o) {
    snprintf(field, sizeof field, "gpu_s_out[%zu].node", i);
    const char *name = oc_str(s, o, "node", field);
    oc_out *x = &r->out[r->nout];
    if (!name)
      return FS_EINVAL;
    if ((x->node = oc_node(f, name)) < 0) {
      char why[128];
      snprintf(why, sizeof why, "'%.40s' is not a node of the run (node-0000..node-%04d)", name,
               f->nodes - 1);
      return oc_bad(s, field, why);
    }
    snprintf(field, sizeof field, "gpu_s_out[%zu].gpu_s", i);
    int rc = oc_num(s, o, "gpu_s", field, 0, &x->gpu_s);
    if (rc)
      return rc;
    r->nout++;
  }
  return 0;
}

static int oc_actions(const oc_src *s, json_t *d, const fleet *f, oc_record *r) {
  json_t *a = oc_array(s, d, "actions"), *o;
  if (!a)
    return FS_EINVAL;
  if (json_array_size(a) && !(r->acts = calloc(json_array_size(a), sizeof *r->acts)))
    return FS_ENOMEM;
  size_t i;
  char field[64];
  json_array_foreach(a, i, o) {
    oc_act *x = &r->acts[r->nacts];
    snprintf(field, sizeof field, "actions[%zu].t_s", i);
    int rc = oc_num(s, o, "t_s", field, 0, &x->t_s);
    if (rc)
      return rc;
    json_t *call = json_object_get(o, "call_id");
    snprintf(field, sizeof field, "actions[%zu].call_id", i);
    if (!json_is_null(call) && !json_is_string(call))
      return oc_bad(s, field, "missing or not a string or null");
    snprintf(field, sizeof field, "actions[%zu].action", i);
    const char *name = oc_str(s, o, "action", field);
    snprintf(field, sizeof field, "actions[%zu].target", i);
    const char *target = name ? oc_str(s, o, "target", field) : NULL;
    if (!target)
      return FS_EINVAL;
    char why[256];
    if (act_parse(f, name, target, &x->a, why, sizeof why) != 0) {
      snprintf(field, sizeof field, "actions[%zu]", i);
      return oc_bad(s, field, why);
    }
    r->nacts++;
  }
  return 0;
}

int oc_record_read(const char *path, const char *stem, const fleet *f, oc_record *out) {
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(path, &st) != 0) {
    diag_addf("%s: %s", path,
              errno == ENOENT ? "missing (no record of that twin)" : strerror(errno));
    return errno == ENOENT ? FS_EINVAL : FS_EIO;
  }
  char *text = NULL;
  int rc = text_read_file(path, &text, "closed-loop record");
  if (rc != 0)
    return rc;
  json_error_t err;
  json_t *d = json_loads(text, JSON_REJECT_DUPLICATES, &err);
  free(text);
  oc_src s = {path};
  if (!json_is_object(d)) {
    diag_addf("%s: not a JSON object (line %d: %s)", path, err.line,
              d ? "another JSON value" : err.text);
    json_decref(d);
    return FS_EINVAL;
  }
  rc = oc_head(&s, d, stem, f, out);
  if (rc == 0)
    rc = oc_jobs(&s, d, f, out);
  if (rc == 0)
    rc = oc_tenants(&s, d, out);
  if (rc == 0)
    rc = oc_outs(&s, d, f, out);
  if (rc == 0)
    rc = oc_actions(&s, d, f, out);
  json_decref(d);
  if (rc != 0)
    oc_record_free(out);
  return rc;
}

void oc_record_free(oc_record *r) {
  if (!r)
    return;
  free(r->jobs);
  free(r->out);
  free(r->acts);
  memset(r, 0, sizeof *r);
}
