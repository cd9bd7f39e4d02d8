/* The kinds' remedies (see remedy.h): the "remedy" key validated, the
 * built-in ones parsed once, the oracle's actions expanded over a
 * scenario's ground truth, and whether an action mitigates a scenario. */
#include "pipeline/score/remedy.h"

#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/grow.h"

static const char *const rem_target_names[REM_TARGET_COUNT] = {"node", "gpu", "job", "rack",
                                                               "tenant"};

const char *rem_target_name(rem_target t) {
  return t >= 0 && t < REM_TARGET_COUNT ? rem_target_names[t] : NULL;
}

/* Bit per rem_target that an action's target kind allows. */
static unsigned rem_allowed(act_kind k) {
  switch (act_target_of(k)) {
  case ACT_TARGET_NODE: return 1u << REM_NODE;
  case ACT_TARGET_GPU: return 1u << REM_GPU | 1u << REM_NODE;
  case ACT_TARGET_JOB: return 1u << REM_JOB;
  case ACT_TARGET_RACK: return 1u << REM_RACK;
  case ACT_TARGET_SCOPE: return 1u << REM_NODE | 1u << REM_RACK | 1u << REM_TENANT;
  default: return 0;
  }
}

/* The allowed targets of action k as "node, gpu" into buf[len]. */
static void rem_allowed_names(act_kind k, char *buf, size_t len) {
  buf[0] = '\0';
  for (int t = 0; t < REM_TARGET_COUNT; t++)
    if (rem_allowed(k) & 1u << t) {
      size_t used = strlen(buf);
      snprintf(buf + used, len - used, "%s%s", used ? ", " : "", rem_target_names[t]);
    }
}

/* One step {"action", "target"} of list `list`; 0 or 1 (problem in diag). */
static int rem_step_parse(rem_step *out, json_t *v, const char *where, const char *list, size_t i) {
  if (!json_is_object(v) || json_object_size(v) != 2) {
    diag_addf("%s: remedy.%s[%zu] must be an object with exactly \"action\" and \"target\"", where,
              list, i);
    return 1;
  }
  const char *a = json_string_value(json_object_get(v, "action"));
  const char *t = json_string_value(json_object_get(v, "target"));
  if (!a || !t) {
    diag_addf("%s: remedy.%s[%zu]: \"action\" and \"target\" must be strings", where, list, i);
    return 1;
  }
  act_kind k = act_by_name(a);
  if (k == ACT_COUNT || k == ACT_NO_OP) {
    diag_addf("%s: remedy.%s[%zu]: '%s' is not an action that does something (one of "
              "src/model/actions.h's, not no_op)",
              where, list, i, a);
    return 1;
  }
  int tk = -1;
  for (int x = 0; x < REM_TARGET_COUNT; x++)
    if (strcmp(t, rem_target_names[x]) == 0)
      tk = x;
  if (tk < 0 || !(rem_allowed(k) & 1u << tk)) {
    char ok[64];
    rem_allowed_names(k, ok, sizeof ok);
    diag_addf("%s: remedy.%s[%zu]: action '%s' cannot target '%s' (it targets: %s)", where, list, i,
              a, t, ok);
    return 1;
  }
  *out = (rem_step){k, (rem_target)tk};
  return 0;
}

/* The list r.key into steps[*n]; the number of problems. */
static int rem_list(json_t *r, const char *key, const char *where, rem_step *steps, int *n) {
  json_t *a = json_object_get(r, key), *v;
  if (!json_is_array(a)) {
    diag_addf("%s: remedy.%s must be an array of {\"action\", \"target\"} (may be empty)", where,
              key);
    return 1;
  }
  if (json_array_size(a) > REM_MAX_STEPS) {
    diag_addf("%s: remedy.%s has %zu steps, more than %d", where, key, json_array_size(a),
              REM_MAX_STEPS);
    return 1;
  }
  int bad = 0;
  size_t i;
  json_array_foreach(a, i, v) {
    if (rem_step_parse(&steps[*n], v, where, key, i) != 0) {
      bad++;
      continue;
    }
    for (int j = 0; j < *n; j++)
      if (steps[j].action == steps[*n].action && steps[j].target == steps[*n].target) {
        diag_addf("%s: remedy.%s[%zu]: '%s' on '%s' is listed twice", where, key, i,
                  act_name(steps[j].action), rem_target_names[steps[j].target]);
        bad++;
      }
    (*n)++;
  }
  return bad;
}

int rem_parse(rem_kind *out, json_t *r, const char *where) {
  memset(out, 0, sizeof *out);
  if (!json_is_object(r)) {
    diag_addf("%s: \"remedy\" must be an object {\"oracle\": [...], \"also\": [...]}", where);
    return 1;
  }
  int bad = 0;
  const char *key;
  json_t *v;
  json_object_foreach(r, key, v) if (strcmp(key, "oracle") != 0 && strcmp(key, "also") != 0) {
    diag_addf("%s: remedy: unknown key '%s' (oracle, also)", where, key);
    bad++;
  }
  bad += rem_list(r, "oracle", where, out->oracle, &out->noracle);
  bad += rem_list(r, "also", where, out->also, &out->nalso);
  for (int i = 0; i < out->nalso; i++)
    for (int j = 0; j < out->noracle; j++)
      if (out->also[i].action == out->oracle[j].action &&
          out->also[i].target == out->oracle[j].target) {
        diag_addf("%s: remedy.also[%d]: '%s' on '%s' is already in remedy.oracle", where, i,
                  act_name(out->also[i].action), rem_target_names[out->also[i].target]);
        bad++;
      }
  return bad;
}

/* Every scenarios/kinds/<kind>.json in scn_kind order (CMakeLists.txt). */
const char *chk_kinds_text(void);

const rem_kind *rem_of_kind(scn_kind k) {
  static rem_kind kinds[SK_COUNT];
  static int state; /* 0 not read, 1 valid, -1 invalid (read once, kept for the process) */
  if (state == 0) {
    json_error_t err;
    json_t *files = json_loads(chk_kinds_text(), 0, &err);
    int bad = !json_is_array(files) || json_array_size(files) != SK_COUNT;
    if (bad)
      diag_addf("built-in scenarios/kinds/*.json: not the array of the %d kinds (%s)", SK_COUNT,
                files ? "wrong size" : err.text);
    for (int i = 0; !bad && i < SK_COUNT; i++) {
      char where[128];
      snprintf(where, sizeof where, "scenarios/kinds/%s.json", scn_kind_name((scn_kind)i));
      json_t *r = json_object_get(json_array_get(files, (size_t)i), "remedy");
      if (!r) {
        diag_addf("%s: \"remedy\" missing", where);
        bad = 1;
      } else {
        bad |= rem_parse(&kinds[i], r, where) != 0;
      }
    }
    json_decref(files);
    state = bad ? -1 : 1;
  }
  return state == 1 && k >= 0 && k < SK_COUNT ? &kinds[k] : NULL;
}

int rem_kind_has_remedy(scn_kind k) {
  const rem_kind *r = rem_of_kind(k);
  return r && r->noracle + r->nalso > 0;
}

/* ---- ground truth --------------------------------------------------------- */

static int rem_has(const int32_t *v, int n, int32_t x) {
  int i = scn_lower_bound(v, n, x);
  return i < n && v[i] == x;
}

/* 1 when rack is one of s's racks (its root-cause nodes' where it names none). */
static int rem_is_rack(const scn_def *s, const fleet *f, int rack) {
  for (int i = 0; i < s->nracks; i++)
    if (s->racks[i] == rack)
      return 1;
  for (int i = 0; s->nracks == 0 && i < s->nnodes; i++)
    if (f->node_rack[s->nodes[i]] == rack)
      return 1;
  return 0;
}

/* 1 when job j is s's job (a root-cause node's where s names none). */
static int rem_is_job(const scn_def *s, const fleet *f, int j) {
  if (s->job >= 0 || j < 0)
    return j >= 0 && s->job == j;
  for (int i = 0; i < s->nnodes; i++)
    if (f->node_job[s->nodes[i]] == j)
      return 1;
  return 0;
}

/* 1 when node n has one of s's GPUs (is a root-cause node where s lists none). */
static int rem_is_gpu_node(const scn_def *s, int n) {
  if (s->ngpus == 0)
    return rem_has(s->nodes, s->nnodes, n);
  int i = scn_lower_bound(s->gpus, s->ngpus, n * FLEET_GPUS);
  return i < s->ngpus && s->gpus[i] / FLEET_GPUS == n;
}

/* 1 when a root-cause node of s is in the scope a (node, rack or tenant). */
static int rem_scope_covers(const scn_def *s, const fleet *f, const act_action *a) {
  if (a->node >= 0)
    return rem_has(s->nodes, s->nnodes, a->node);
  for (int i = 0; i < s->nnodes; i++)
    if (a->rack >= 0 ? f->node_rack[s->nodes[i]] == a->rack
                     : f->node_tenant[s->nodes[i]] == a->tenant)
      return 1;
  return 0;
}

int rem_mitigates(const scn_def *s, const fleet *f, const act_action *a) {
  const rem_kind *r = rem_of_kind(s->kind);
  int listed = 0;
  for (int i = 0; r && i < r->noracle; i++)
    listed |= r->oracle[i].action == a->kind;
  for (int i = 0; r && i < r->nalso; i++)
    listed |= r->also[i].action == a->kind;
  if (!listed)
    return 0;
  switch (act_target_of(a->kind)) {
  case ACT_TARGET_NODE: return rem_has(s->nodes, s->nnodes, a->node);
  case ACT_TARGET_GPU:
    if (a->gpu >= 0 && s->ngpus > 0)
      return rem_has(s->gpus, s->ngpus, a->node * FLEET_GPUS + a->gpu);
    return rem_is_gpu_node(s, a->node);
  case ACT_TARGET_JOB: return rem_is_job(s, f, a->job);
  case ACT_TARGET_RACK: return rem_is_rack(s, f, a->rack);
  case ACT_TARGET_SCOPE: return rem_scope_covers(s, f, a);
  default: return 0;
  }
}

/* ---- the oracle's actions ------------------------------------------------- */

typedef struct {
  act_action *v;
  int n, cap;
} rem_list_out;

/* Appends action k with the given fields; 0 or FS_ENOMEM. */
static int rem_push(rem_list_out *o, act_kind k, int node, int gpu, int rack, int job, int tenant) {
  if (fs_grow((void **)&o->v, &o->cap, o->n + 1, sizeof *o->v, 16) != 0)
    return FS_ENOMEM;
  o->v[o->n++] = (act_action){k, node, gpu, rack, job, tenant};
  return 0;
}

/* The entities of one step on s, appended to o. 0 or FS_ENOMEM. */
static int rem_expand(const rem_step *st, const scn_def *s, const fleet *f, rem_list_out *o) {
  act_kind k = st->action;
  int rc = 0;
  /* scope actions name a node, rack or tenant: the other fields stay -1 */
  int scope = act_target_of(k) == ACT_TARGET_SCOPE;
  switch (st->target) {
  case REM_NODE:
    for (int i = 0; rc == 0 && i < s->nnodes; i++) {
      int n = s->nodes[i], job = f->node_job[n];
      if (k == ACT_RESTART_JOB_WITHOUT_NODE && job < 0)
        continue;
      rc = rem_push(o, k, n, -1, scope ? -1 : f->node_rack[n],
                    k == ACT_RESTART_JOB_WITHOUT_NODE ? job : -1, -1);
    }
    break;
  case REM_GPU:
    for (int i = 0; rc == 0 && i < s->ngpus; i++) {
      int n = s->gpus[i] / FLEET_GPUS;
      rc = rem_push(o, k, n, s->gpus[i] % FLEET_GPUS, f->node_rack[n], -1, -1);
    }
    for (int i = 0; rc == 0 && s->ngpus == 0 && i < s->nnodes; i++)
      rc = rem_push(o, k, s->nodes[i], -1, f->node_rack[s->nodes[i]], -1, -1);
    break;
  case REM_JOB:
    for (int j = 0; rc == 0 && j < f->njobs; j++)
      if (rem_is_job(s, f, j))
        rc = rem_push(o, k, -1, -1, -1, j, -1);
    break;
  case REM_RACK:
    for (int r = 0; rc == 0 && r < f->racks; r++)
      if (rem_is_rack(s, f, r))
        rc = rem_push(o, k, -1, -1, r, -1, -1);
    break;
  default:
    for (int t = 0; rc == 0 && t < TENANT_COUNT; t++) {
      act_action probe = {k, -1, -1, -1, -1, t};
      if (rem_scope_covers(s, f, &probe))
        rc = rem_push(o, k, -1, -1, -1, -1, t);
    }
    break;
  }
  return rc;
}

int rem_oracle_actions(const scn_def *s, const fleet *f, act_action **out, int *n) {
  *out = NULL;
  *n = 0;
  const rem_kind *r = rem_of_kind(s->kind);
  if (!r)
    return FS_EINVAL;
  rem_list_out o = {NULL, 0, 0};
  int rc = 0;
  for (int i = 0; rc == 0 && i < r->noracle; i++)
    rc = rem_expand(&r->oracle[i], s, f, &o);
  if (rc != 0) {
    free(o.v);
    return rc;
  }
  *out = o.v;
  *n = o.n;
  return 0;
}
