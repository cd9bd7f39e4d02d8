/* Scenario files: JSON parsing and validation with messages that name the
 * file, the scenario, the key and the value; typed magnitudes from each
 * kind's table; the targets the file leaves out chosen deterministically by
 * the kind's resolve op. Kind-agnostic: it loops over the registry
 * (scenarios/kinds/kinds.def). No telemetry here. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/strbuf.h"

void scn_destroy(scn_set **setp) {
  if (!setp || !*setp)
    return;
  scn_set *set = *setp;
  for (int i = 0; i < set->n; i++) {
    free(set->s[i].nodes);
    free(set->s[i].impacted);
    free(set->s[i].gpus);
    free(set->s[i].node_weight);
  }
  free(set->s);
  free(set);
  *setp = NULL;
}

/* ---- target resolution ------------------------------------------------- */

/* Adds every node of every job that has a node in `nodes` to `out`. */
static int scn_add_job_peers(const fleet *f, const scn_list *nodes, scn_list *out) {
  for (int j = 0; j < f->njobs; j++) {
    int hit = 0;
    for (int i = 0; i < nodes->n && !hit; i++)
      hit = f->node_job[nodes->v[i]] == j;
    for (int k = f->job_offset[j]; hit && k < f->job_offset[j + 1]; k++)
      if (scn_list_add(out, f->job_nodes[k]))
        return FS_ENOMEM;
  }
  return 0;
}

/* Resolves s (scenario number index of the file): its kind's targets,
 * then the impacted nodes and the per-node weights. */
static int scn_resolve(scn_def *s, const fleet *f, const char *source, int index) {
  const scn_kind_ops *ops = scn_kind_ops_of(s->kind);
  const char *missing = ops->missing ? ops->missing(f) : NULL;
  if (missing) {
    diag_addf("%s: scenario '%s': kind '%s' %s", source, s->id, scn_kind_name(s->kind), missing);
    return FS_ESCENARIO;
  }
  uint64_t key = rng_key(f->cfg->seed, SCN_STREAM_TARGETS, (uint64_t)index);
  scn_list nodes = {0}, impacted = {0}, gpus = {0};
  int rc = ops->resolve(s, f, source, key, &nodes, &gpus);
  scn_list_finish(&nodes);
  for (int i = 0; i < nodes.n && rc == 0; i++)
    rc = scn_list_add(&impacted, nodes.v[i]);
  if (rc == 0 && ops->impacts_job_peers)
    rc = scn_add_job_peers(f, &nodes, &impacted);
  scn_list_finish(&impacted);
  scn_list_finish(&gpus);
  if (rc == 0 && nodes.n > 0 && !(s->node_weight = malloc(sizeof(float) * (size_t)nodes.n)))
    rc = FS_ENOMEM;
  if (rc) {
    free(nodes.v);
    free(impacted.v);
    free(gpus.v);
    return rc;
  }
  for (int i = 0; i < nodes.n; i++)
    s->node_weight[i] = ops->node_weight ? (float)ops->node_weight(s, key, nodes.v[i]) : 1.0f;
  s->nodes = nodes.v;
  s->nnodes = nodes.n;
  s->impacted = impacted.v;
  s->nimpacted = impacted.n;
  s->gpus = gpus.v;
  s->ngpus = gpus.n;
  return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int scn_parse_int_array(json_t *v, const char *source, const char *id, const char *key,
                               int lo, int hi, int *out, int max_n, int *n) {
  if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > (size_t)max_n) {
    diag_addf("%s: scenario '%s': key '%s': expected an array of 1..%d integers", source, id,
              key, max_n);
    return FS_ESCENARIO;
  }
  size_t i;
  json_t *e;
  *n = 0;
  json_array_foreach(v, i, e) {
    if (!json_is_integer(e) || json_integer_value(e) < lo || json_integer_value(e) > hi) {
      char *shown = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
      diag_addf("%s: scenario '%s': key '%s': element %zu = %s is not an integer in [%d, %d]",
                source, id, key, i, shown ? shown : "?", lo, hi);
      free(shown);
      return FS_ESCENARIO;
    }
    int x = (int)json_integer_value(e);
    for (int k = 0; k < *n; k++)
      if (out[k] == x) {
        diag_addf("%s: scenario '%s': key '%s': %d is listed twice", source, id, key, x);
        return FS_ESCENARIO;
      }
    out[(*n)++] = x;
  }
  return 0;
}

/* Parses target t of s's kind from value v. 0 or FS_ESCENARIO. */
static int scn_parse_target(scn_def *s, const scn_target *t, json_t *v, const char *source,
                            const fleet *f) {
  switch (t->type) {
  case SCN_TARGET_RACKS:
    return scn_parse_int_array(v, source, s->id, t->key, 0, f->racks - 1, s->racks,
                               SCN_MAX_RACKS, &s->nracks);
  case SCN_TARGET_HOT_GPUS: {
    int g[FLEET_GPUS], n = 0;
    if (scn_parse_int_array(v, source, s->id, t->key, 0, FLEET_GPUS - 1, g, FLEET_GPUS - 1, &n))
      return FS_ESCENARIO;
    for (int i = 0; i < n; i++)
      s->gpu_mask |= (uint8_t)(1u << g[i]);
    return 0;
  }
  case SCN_TARGET_JOB:
    for (int j = 0; j < f->njobs && json_is_string(v); j++)
      if (strcmp(json_string_value(v), f->cfg->jobs[j].id) == 0)
        s->job = j;
    if (s->job < 0) {
      diag_addf("%s: scenario '%s': key '%s': %s%s%s is not a training job of the config",
                source, s->id, t->key, json_is_string(v) ? "'" : "",
                json_is_string(v) ? json_string_value(v) : "(not a string)",
                json_is_string(v) ? "'" : "");
      return FS_ESCENARIO;
    }
    return 0;
  }
  return FS_ESCENARIO;
}

/* Checks value v of magnitude m and stores it in *out. 0 or FS_ESCENARIO. */
static int scn_parse_magnitude(const scn_def *s, const scn_magnitude *m, json_t *v,
                               const char *source, double *out) {
  double x = json_number_value(v);
  if (!json_is_number(v) || (m->integer && !json_is_integer(v)) || !(x >= m->min) ||
      !(x <= m->max)) {
    char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    diag_addf("%s: scenario '%s': key '%s': %s is not %s in [%g, %g]%s%s", source, s->id,
              m->name, shown ? shown : "?", m->integer ? "an integer" : "a number", m->min,
              m->max, m->units[0] ? " " : "", m->units);
    free(shown);
    return FS_ESCENARIO;
  }
  *out = x;
  return 0;
}

/* The problem of a key that s's kind does not have, with its value and the
 * keys the kind has. */
static void scn_unknown_key(const scn_def *s, const char *key, json_t *v, const char *source) {
  const scn_kind_ops *ops = scn_kind_ops_of(s->kind);
  strbuf keys = {0};
  for (int i = 0; i < ops->ntargets; i++)
    sb_addf(&keys, ", %s", ops->targets[i].key);
  for (int i = 0; i < ops->nmagnitudes; i++)
    sb_addf(&keys, ", %s", ops->magnitudes[i].name);
  char *known = sb_take(&keys), *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  diag_addf("%s: scenario '%s': unknown key '%s' for kind '%s' (value %.60s%s; its keys: id, "
            "kind, start_h, duration_min%s)",
            source, s->id, key, scn_kind_name(s->kind), shown ? shown : "?",
            shown && strlen(shown) > 60 ? "..." : "", known ? known : "");
  free(known);
  free(shown);
}

/* The problem of a kind that is not one of the registry's. */
static void scn_unknown_kind(const char *id, json_t *jkind, const char *source) {
  strbuf names = {0};
  for (int k = 0; k < SK_COUNT; k++)
    sb_addf(&names, "%s%s", k ? ", " : "", scn_kind_name((scn_kind)k));
  char *list = sb_take(&names);
  diag_addf("%s: scenario '%s': key 'kind': %s%s%s is not one of %s", source, id,
            json_is_string(jkind) ? "'" : "",
            json_is_string(jkind) ? json_string_value(jkind) : "(missing or not a string)",
            json_is_string(jkind) ? "'" : "", list ? list : "the known kinds");
  free(list);
}

/* Parses one scenario object into s (targets unresolved). */
static int scn_parse_one(scn_def *s, json_t *obj, size_t index, const char *source,
                         const fleet *f) {
  char where[48];
  snprintf(where, sizeof where, "#%zu", index);
  if (!json_is_object(obj)) {
    diag_addf("%s: scenario %s: expected an object", source, where);
    return FS_ESCENARIO;
  }
  json_t *jid = json_object_get(obj, "id");
  /* ids name files, HDF5 groups and regex alternatives and reach terminals:
   * only a small alphabet, and a bad one is shown JSON-escaped */
  if (!json_is_string(jid) || strlen(json_string_value(jid)) != json_string_length(jid) ||
      !path_is_id(json_string_value(jid))) {
    char *shown = jid ? json_dumps(jid, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
    diag_addf("%s: scenario %s: key 'id': %.80s%s is not a valid id (required; %s)", source,
              where, shown ? shown : "(missing)", shown && strlen(shown) > 80 ? "..." : "",
              PATH_ID_RULE);
    free(shown);
    return FS_ESCENARIO;
  }
  snprintf(s->id, sizeof s->id, "%s", json_string_value(jid));
  const char *id = s->id;
  json_t *jkind = json_object_get(obj, "kind");
  s->kind = scn_kind_by_name(json_is_string(jkind) ? json_string_value(jkind) : NULL);
  if (s->kind == SK_COUNT) {
    scn_unknown_kind(id, jkind, source);
    return FS_ESCENARIO;
  }
  const scn_kind_ops *ops = scn_kind_ops_of(s->kind);
  s->job = -1;
  for (int i = 0; i < ops->nmagnitudes; i++)
    s->param[i] = ops->magnitudes[i].def;
  int rc = 0, have_start = 0, have_dur = 0;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    if (strcmp(key, "id") == 0 || strcmp(key, "kind") == 0)
      continue;
    if (strcmp(key, "start_h") == 0 || strcmp(key, "duration_min") == 0) {
      if (!json_is_number(v)) {
        diag_addf("%s: scenario '%s': key '%s': expected a number", source, id, key);
        rc = FS_ESCENARIO;
      } else if (key[0] == 's') {
        s->start_h = json_number_value(v);
        have_start = 1;
      } else {
        s->duration_min = json_number_value(v);
        have_dur = 1;
      }
      continue;
    }
    int known = 0;
    for (int i = 0; i < ops->ntargets && !known; i++)
      if (strcmp(key, ops->targets[i].key) == 0) {
        known = 1;
        if (scn_parse_target(s, &ops->targets[i], v, source, f))
          rc = FS_ESCENARIO;
      }
    for (int i = 0; i < ops->nmagnitudes && !known; i++)
      if (strcmp(key, ops->magnitudes[i].name) == 0) {
        known = 1;
        if (scn_parse_magnitude(s, &ops->magnitudes[i], v, source, &s->param[i]))
          rc = FS_ESCENARIO;
      }
    if (!known) {
      scn_unknown_key(s, key, v, source);
      rc = FS_ESCENARIO;
    }
  }
  if (!have_start || !have_dur) {
    diag_addf("%s: scenario '%s': key '%s': required", source, id,
              have_start ? "duration_min" : "start_h");
    return FS_ESCENARIO;
  }
  double hours = f->cfg->hours, dt = f->cfg->scrape_interval_s;
  int64_t T = cfg_scrapes(f->cfg);
  if (!(s->start_h >= 0) || !(s->start_h < hours)) {
    diag_addf("%s: scenario '%s': key 'start_h': %g is outside the run [0, %g) h", source, id,
              s->start_h, hours);
    rc = FS_ESCENARIO;
  }
  if (!(s->duration_min > 0) || s->duration_min > 366 * 24 * 60) {
    diag_addf("%s: scenario '%s': key 'duration_min': %g must be positive (and at most a "
              "year)",
              source, id, s->duration_min);
    rc = FS_ESCENARIO;
  }
  if (rc)
    return rc;
  s->t_start = (int64_t)llround(s->start_h * 3600.0 / dt);
  s->t_end = s->t_start + (int64_t)fmax(1.0, (double)llround(s->duration_min * 60.0 / dt));
  if (s->t_start >= T) {
    diag_addf("%s: scenario '%s': key 'start_h': %g starts after the last scrape", source, id,
              s->start_h);
    return FS_ESCENARIO;
  }
  if (s->t_end > T)
    s->t_end = T;
  return 0;
}

int scn_parse(scn_set **out, const char *text, const char *source, const fleet *f) {
  *out = NULL;
  if (text[strspn(text, " \t\r\n")] == '\0') {
    diag_addf("%s: the file is empty; expected {\"scenarios\": [...]}", source);
    return FS_ESCENARIO;
  }
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    diag_addf("%s: line %d, column %d: malformed JSON: %s", source, jerr.line, jerr.column,
              jerr.text);
    return FS_ESCENARIO;
  }
  json_t *list = json_object_get(root, "scenarios");
  if (!json_is_object(root) || !json_is_array(list) || json_object_size(root) != 1) {
    diag_addf("%s: expected a JSON object with exactly one key, \"scenarios\": [...]", source);
    json_decref(root);
    return FS_ESCENARIO;
  }
  scn_set *set = calloc(1, sizeof *set);
  size_t n = json_array_size(list);
  if (!set || (n > 0 && !(set->s = calloc(n, sizeof *set->s)))) {
    free(set);
    json_decref(root);
    return FS_ENOMEM;
  }
  int rc = 0;
  size_t i;
  json_t *obj;
  json_array_foreach(list, i, obj) {
    scn_def *s = &set->s[set->n];
    memset(s, 0, sizeof *s);
    if (scn_parse_one(s, obj, i, source, f)) {
      rc = FS_ESCENARIO;
      continue;
    }
    for (int k = 0; k < set->n; k++)
      if (strcmp(set->s[k].id, s->id) == 0) {
        diag_addf("%s: scenario '%s': key 'id': the id is used twice", source, s->id);
        rc = FS_ESCENARIO;
      }
    if (rc == 0) {
      int r = scn_resolve(s, f, source, (int)i);
      set->n++; /* owns whatever resolve allocated */
      if (r)
        rc = r;
    }
  }
  json_decref(root);
  if (rc) {
    scn_destroy(&set);
    return rc;
  }
  *out = set;
  return 0;
}

char *scn_params_json(const scn_def *s) {
  const scn_kind_ops *ops = scn_kind_ops_of(s->kind);
  json_t *o = ops ? json_object() : NULL;
  if (!o)
    return NULL;
  int bad = 0;
  for (int i = 0; i < ops->nmagnitudes; i++)
    bad |= json_object_set_new(o, ops->magnitudes[i].name, json_real(s->param[i]));
  if (s->nracks > 0) {
    json_t *a = json_array();
    for (int i = 0; a && i < s->nracks; i++)
      bad |= json_array_append_new(a, json_integer(s->racks[i]));
    bad |= a ? json_object_set_new(o, "racks", a) : -1;
  }
  for (int t = 0; t < ops->ntargets; t++) {
    if (ops->targets[t].type == SCN_TARGET_HOT_GPUS) {
      json_t *a = json_array();
      for (int g = 0; a && g < FLEET_GPUS; g++)
        if ((s->gpu_mask >> g) & 1)
          bad |= json_array_append_new(a, json_integer(g));
      bad |= a ? json_object_set_new(o, ops->targets[t].key, a) : -1;
    } else if (ops->targets[t].type == SCN_TARGET_JOB) {
      bad |= json_object_set_new(o, "job_index", json_integer(s->job));
    }
  }
  char *txt = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return txt;
}
