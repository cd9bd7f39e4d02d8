/* Scenario files: JSON parsing, validation with messages that name the file,
 * the scenario and the key, magnitudes from the per-kind table, and the
 * deterministic choice of targets the file leaves out. No telemetry here. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/rng.h"

#define SCN_KIND_NAME(e, s) [e] = s,
static const char *const scn_kind_names[SK_COUNT] = {SCN_KINDS(SCN_KIND_NAME)};
#undef SCN_KIND_NAME

const char *scn_kind_name(scn_kind k) {
  return k >= 0 && k < SK_COUNT ? scn_kind_names[k] : "unknown";
}

/* Numeric magnitudes and targets per kind: the seed's figures as defaults. */
typedef struct {
  scn_kind kind;
  const char *name;
  double def, min, max;
  int integer;
} scn_param_spec;

static const scn_param_spec scn_param_table[] = {
    {SK_THERMAL_CASCADE, "nodes_per_rack", 10, 1, 100000, 1},
    {SK_THERMAL_CASCADE, "inlet_rise_c", 10, 0.5, 40, 0},
    {SK_THERMAL_CASCADE, "inlet_spread_c", 2, 0, 20, 0},
    {SK_THERMAL_CASCADE, "ramp_min", 8, 0, 600, 0},
    {SK_THERMAL_CASCADE, "creep_c_per_min", 0.1, 0, 5, 0},
    {SK_ROUTING_COLLAPSE, "hot_share", 0.6, 0.01, 0.99, 0},
    {SK_ROUTING_COLLAPSE, "entropy_to", 0.8, 0, 1.99, 0},
    {SK_ROUTING_COLLAPSE, "node_fraction", 1.0, 0.01, 1.0, 0},
    {SK_ROUTING_COLLAPSE, "ramp_min", 3, 0, 600, 0},
    {SK_HBM_DEGRADATION, "gpus", 12, 1, 256, 1},
    {SK_HBM_DEGRADATION, "training_gpus", 8, 0, 256, 1},
    {SK_HBM_DEGRADATION, "lot", -1, -1, 1000000, 1},
    {SK_HBM_DEGRADATION, "sbe_start_per_interval", 0.05, 0.0001, 1000, 0},
    {SK_HBM_DEGRADATION, "sbe_end_per_interval", 20, 0.0001, 100000, 0},
    {SK_FABRIC_MICROBURST, "congestion", 0.8, 0.05, 1, 0},
    {SK_KV_EVICTION_STORM, "hit_ratio_to", 0.45, 0.05, 0.93, 0},
    {SK_KV_EVICTION_STORM, "node_fraction", 1.0, 0.01, 1.0, 0},
    {SK_KV_EVICTION_STORM, "ramp_min", 5, 0, 600, 0},
    {SK_TRAINING_STRAGGLER, "job_node", -1, -1, 1000000, 1},
    {SK_TRAINING_STRAGGLER, "replays_min", 80, 4, 100000, 0},
    {SK_TRAINING_STRAGGLER, "replays_max", 200, 4, 100000, 0},
    {SK_TRAINING_STRAGGLER, "board_delta_c", 3, 0, 20, 0},
};
enum { SCN_NPARAMS = sizeof scn_param_table / sizeof scn_param_table[0] };

/* Keys that are not numeric magnitudes, per kind (besides the common ones). */
static int scn_key_allowed_special(scn_kind k, const char *key) {
  if (strcmp(key, "racks") == 0)
    return k == SK_THERMAL_CASCADE || k == SK_FABRIC_MICROBURST;
  if (strcmp(key, "hot_gpus") == 0)
    return k == SK_ROUTING_COLLAPSE;
  if (strcmp(key, "job") == 0)
    return k == SK_TRAINING_STRAGGLER;
  return 0;
}

double scn_param(const scn_def *s, const char *name) {
  for (int i = 0; i < s->nparams; i++)
    if (strcmp(s->param_name[i], name) == 0)
      return s->param[i];
  return NAN;
}

static void scn_param_set(scn_def *s, const char *name, double v) {
  for (int i = 0; i < s->nparams; i++)
    if (strcmp(s->param_name[i], name) == 0)
      s->param[i] = v;
}

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

/* A growable sorted-on-finish list of node ids. */
typedef struct {
  int32_t *v;
  int n, cap;
} scn_list;

static int scn_list_add(scn_list *l, int32_t x) {
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 64;
    int32_t *nv = realloc(l->v, sizeof *nv * (size_t)cap);
    if (!nv)
      return FS_ENOMEM;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = x;
  return 0;
}

static int scn_cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Sorts and removes duplicates. */
static void scn_list_finish(scn_list *l) {
  if (l->n == 0)
    return;
  qsort(l->v, (size_t)l->n, sizeof *l->v, scn_cmp_i32);
  int k = 1;
  for (int i = 1; i < l->n; i++)
    if (l->v[i] != l->v[k - 1])
      l->v[k++] = l->v[i];
  l->n = k;
}

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

/* Two adjacent racks (in one row when the row has two) chosen from the seed. */
static void scn_pick_racks(scn_def *s, const fleet *f, uint64_t key) {
  if (f->racks == 1) {
    s->racks[0] = 0;
    s->nracks = 1;
    return;
  }
  int row = (int)(rng_bits(key, 1) % (uint64_t)f->rows);
  int first = row * f->racks_per_row;
  int in_row = f->racks - first < f->racks_per_row ? f->racks - first : f->racks_per_row;
  int r;
  if (in_row >= 2)
    r = first + (int)(rng_bits(key, 2) % (uint64_t)(in_row - 1));
  else
    r = (int)(rng_bits(key, 2) % (uint64_t)(f->racks - 1));
  s->racks[0] = r;
  s->racks[1] = r + 1;
  s->nracks = 2;
}

/* Nodes of a tenant kept with probability `fraction` (at least one). */
static int scn_pick_tenant_nodes(const fleet *f, int tenant, double fraction, uint64_t key,
                                 scn_list *out) {
  int first = -1;
  for (int n = 0; n < f->nodes; n++) {
    if (f->node_tenant[n] != tenant)
      continue;
    if (first < 0)
      first = n;
    if (fraction >= 1.0 || rng_uniform(rng_bits(key, (uint64_t)n)) < fraction)
      if (scn_list_add(out, n))
        return FS_ENOMEM;
  }
  if (out->n == 0 && first >= 0)
    return scn_list_add(out, first);
  return 0;
}

/* Picks `gpus` GPUs of one silicon lot, `training` of them on training nodes. */
static int scn_pick_lot_gpus(scn_def *s, const fleet *f, const char *source, uint64_t key,
                             scn_list *gpus) {
  int want = (int)scn_param(s, "gpus"), want_train = (int)scn_param(s, "training_gpus");
  int want_inf = want - want_train;
  int lots = f->cfg->gpu_lots;
  int lot = (int)scn_param(s, "lot");
  int tries = lot >= 0 ? 1 : lots;
  uint64_t start = rng_bits(key, 3) % (uint64_t)lots;
  for (int k = 0; k < tries; k++) {
    int cand = lot >= 0 ? lot : (int)((start + (uint64_t)k) % (uint64_t)lots);
    int have_train = 0, have_inf = 0;
    gpus->n = 0;
    /* walk the lot's GPUs in a seed-shuffled order: offset start, stride 1 */
    long total = (long)f->nodes * FLEET_GPUS;
    long off = (long)(rng_bits(key, 4 + (uint64_t)cand) % (uint64_t)total);
    for (long i = 0; i < total && (have_train < want_train || have_inf < want_inf); i++) {
      long g = (off + i) % total;
      if (f->gpu_lot[g] != cand)
        continue;
      int training = f->node_tenant[g / FLEET_GPUS] == TENANT_TRAINING;
      if (training && have_train < want_train) {
        have_train++;
      } else if (!training && have_inf < want_inf) {
        have_inf++;
      } else {
        continue;
      }
      if (scn_list_add(gpus, (int32_t)g))
        return FS_ENOMEM;
    }
    if (have_train == want_train && have_inf == want_inf) {
      scn_param_set(s, "lot", cand);
      s->lot = cand;
      return 0;
    }
  }
  if (lot >= 0)
    diag_addf("%s: scenario '%s': key 'lot': lot %d has fewer than %d training and %d "
              "inference GPUs",
              source, s->id, lot, want_train, want_inf);
  else
    diag_addf("%s: scenario '%s': key 'gpus': no silicon lot has %d training and %d "
              "inference GPUs",
              source, s->id, want_train, want_inf);
  return FS_ESCENARIO;
}

static int scn_resolve(scn_def *s, const fleet *f, const char *source, int index) {
  uint64_t key = rng_key(f->cfg->seed, RNG_STREAM_SCENARIO, (uint64_t)index);
  scn_list nodes = {0}, impacted = {0}, gpus = {0};
  int rc = 0;
  switch (s->kind) {
  case SK_THERMAL_CASCADE: {
    if (s->nracks == 0)
      scn_pick_racks(s, f, key);
    int per_rack = (int)scn_param(s, "nodes_per_rack");
    if (per_rack > f->nodes_per_rack) {
      diag_addf("%s: scenario '%s': key 'nodes_per_rack': %d is more than the %d nodes of a "
                "rack",
                source, s->id, per_rack, f->nodes_per_rack);
      return FS_ESCENARIO;
    }
    /* the top slots of each rack, where recirculated hot air arrives first */
    for (int k = 0; k < s->nracks && rc == 0; k++)
      for (int slot = f->nodes_per_rack - per_rack; slot < f->nodes_per_rack && rc == 0; slot++)
        rc = scn_list_add(&nodes, s->racks[k] * f->nodes_per_rack + slot);
    break;
  }
  case SK_FABRIC_MICROBURST:
    if (s->nracks == 0)
      scn_pick_racks(s, f, key);
    for (int k = 0; k < s->nracks && rc == 0; k++)
      for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
        rc = scn_list_add(&nodes, s->racks[k] * f->nodes_per_rack + slot);
    break;
  case SK_ROUTING_COLLAPSE:
    if (f->cfg->moe_nodes == 0) {
      diag_addf("%s: scenario '%s': kind 'expert_routing_collapse' needs MoE nodes, and the "
                "fleet has none",
                source, s->id);
      return FS_ESCENARIO;
    }
    if (s->gpu_mask == 0) {
      int a = (int)(rng_bits(key, 5) % FLEET_GPUS);
      int b = (a + 1 + (int)(rng_bits(key, 6) % (FLEET_GPUS - 1))) % FLEET_GPUS;
      s->gpu_mask = (uint8_t)((1u << a) | (1u << b));
    }
    if (scn_param(s, "hot_share") <= __builtin_popcount(s->gpu_mask) / (double)FLEET_GPUS) {
      diag_addf("%s: scenario '%s': key 'hot_share': %g is not above the uniform share %g of "
                "%d hot GPUs",
                source, s->id, scn_param(s, "hot_share"),
                __builtin_popcount(s->gpu_mask) / (double)FLEET_GPUS,
                __builtin_popcount(s->gpu_mask));
      return FS_ESCENARIO;
    }
    rc = scn_pick_tenant_nodes(f, TENANT_MOE, scn_param(s, "node_fraction"), key, &nodes);
    for (int i = 0; i < nodes.n && rc == 0; i++)
      for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
        if ((s->gpu_mask >> g) & 1)
          rc = scn_list_add(&gpus, nodes.v[i] * FLEET_GPUS + g);
    break;
  case SK_KV_EVICTION_STORM:
    if (f->cfg->dense_nodes == 0) {
      diag_addf("%s: scenario '%s': kind 'kv_cache_eviction_storm' needs dense inference "
                "nodes, and the fleet has none",
                source, s->id);
      return FS_ESCENARIO;
    }
    rc = scn_pick_tenant_nodes(f, TENANT_DENSE, scn_param(s, "node_fraction"), key, &nodes);
    break;
  case SK_HBM_DEGRADATION:
    if (scn_param(s, "training_gpus") > scn_param(s, "gpus")) {
      diag_addf("%s: scenario '%s': key 'training_gpus': %g is more than gpus %g", source,
                s->id, scn_param(s, "training_gpus"), scn_param(s, "gpus"));
      return FS_ESCENARIO;
    }
    if (scn_param(s, "lot") >= f->cfg->gpu_lots) {
      diag_addf("%s: scenario '%s': key 'lot': %g is out of range [0, %d)", source, s->id,
                scn_param(s, "lot"), f->cfg->gpu_lots);
      return FS_ESCENARIO;
    }
    rc = scn_pick_lot_gpus(s, f, source, key, &gpus);
    scn_list_finish(&gpus);
    for (int i = 0; i < gpus.n && rc == 0; i++)
      rc = scn_list_add(&nodes, gpus.v[i] / FLEET_GPUS);
    break;
  case SK_TRAINING_STRAGGLER: {
    if (f->njobs == 0) {
      diag_addf("%s: scenario '%s': kind 'training_straggler' needs a training job, and the "
                "config has none",
                source, s->id);
      return FS_ESCENARIO;
    }
    if (s->job < 0) {
      s->job = (int)(rng_bits(key, 7) % (uint64_t)f->njobs);
      for (int j = 0; j < f->njobs; j++)
        if (strcmp(f->cfg->jobs[j].id, "train-001") == 0)
          s->job = j;
    }
    int size = f->job_offset[s->job + 1] - f->job_offset[s->job];
    int jn = (int)scn_param(s, "job_node");
    if (jn >= size) {
      diag_addf("%s: scenario '%s': key 'job_node': %d is out of range for %s, which has %d "
                "nodes",
                source, s->id, jn, f->cfg->jobs[s->job].id, size);
      return FS_ESCENARIO;
    }
    if (jn < 0) {
      jn = (int)(rng_bits(key, 8) % (uint64_t)size);
      scn_param_set(s, "job_node", jn);
    }
    s->job_node = jn;
    if (scn_param(s, "replays_max") < scn_param(s, "replays_min")) {
      diag_addf("%s: scenario '%s': key 'replays_max': %g is below replays_min %g", source,
                s->id, scn_param(s, "replays_max"), scn_param(s, "replays_min"));
      return FS_ESCENARIO;
    }
    int node = f->job_nodes[f->job_offset[s->job] + jn];
    rc = scn_list_add(&nodes, node);
    for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
      rc = scn_list_add(&gpus, node * FLEET_GPUS + g);
    break;
  }
  case SK_COUNT:
    break;
  }
  scn_list_finish(&nodes);
  for (int i = 0; i < nodes.n && rc == 0; i++)
    rc = scn_list_add(&impacted, nodes.v[i]);
  if (rc == 0 && s->kind != SK_HBM_DEGRADATION && s->kind != SK_KV_EVICTION_STORM &&
      s->kind != SK_ROUTING_COLLAPSE)
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
  /* per-node magnitude factor: thermal inlet rise spread, otherwise 1 */
  for (int i = 0; i < nodes.n; i++) {
    double w = 1.0;
    if (s->kind == SK_THERMAL_CASCADE) {
      double u = rng_uniform(rng_bits(key, 1000 + (uint64_t)nodes.v[i]));
      w = scn_param(s, "inlet_rise_c") + scn_param(s, "inlet_spread_c") * (2.0 * u - 1.0);
    }
    s->node_weight[i] = (float)w;
  }
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
  s->kind = SK_COUNT;
  for (int k = 0; k < SK_COUNT && json_is_string(jkind); k++)
    if (strcmp(json_string_value(jkind), scn_kind_names[k]) == 0)
      s->kind = (scn_kind)k;
  if (s->kind == SK_COUNT) {
    diag_addf("%s: scenario '%s': key 'kind': %s%s%s is not one of thermal_cascade, "
              "expert_routing_collapse, hbm_degradation, fabric_microburst, "
              "kv_cache_eviction_storm, training_straggler",
              source, id, json_is_string(jkind) ? "'" : "",
              json_is_string(jkind) ? json_string_value(jkind) : "(missing or not a string)",
              json_is_string(jkind) ? "'" : "");
    return FS_ESCENARIO;
  }
  s->job = -1;
  for (int p = 0; p < SCN_NPARAMS; p++)
    if (scn_param_table[p].kind == s->kind) {
      s->param_name[s->nparams] = scn_param_table[p].name;
      s->param[s->nparams++] = scn_param_table[p].def;
    }
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
    if (scn_key_allowed_special(s->kind, key)) {
      if (strcmp(key, "racks") == 0) {
        rc |= scn_parse_int_array(v, source, id, key, 0, f->racks - 1, s->racks, SCN_MAX_RACKS,
                                  &s->nracks);
      } else if (strcmp(key, "hot_gpus") == 0) {
        int g[FLEET_GPUS], n = 0;
        if (scn_parse_int_array(v, source, id, key, 0, FLEET_GPUS - 1, g, FLEET_GPUS - 1, &n))
          rc = FS_ESCENARIO;
        for (int i = 0; i < n; i++)
          s->gpu_mask |= (uint8_t)(1u << g[i]);
      } else { /* job */
        for (int j = 0; j < f->njobs && json_is_string(v); j++)
          if (strcmp(json_string_value(v), f->cfg->jobs[j].id) == 0)
            s->job = j;
        if (s->job < 0) {
          diag_addf("%s: scenario '%s': key 'job': %s%s%s is not a training job of the config",
                    source, id, json_is_string(v) ? "'" : "",
                    json_is_string(v) ? json_string_value(v) : "(not a string)",
                    json_is_string(v) ? "'" : "");
          rc = FS_ESCENARIO;
        }
      }
      continue;
    }
    const scn_param_spec *spec = NULL;
    for (int p = 0; p < SCN_NPARAMS; p++)
      if (scn_param_table[p].kind == s->kind && strcmp(scn_param_table[p].name, key) == 0)
        spec = &scn_param_table[p];
    if (!spec) {
      diag_addf("%s: scenario '%s': unknown key '%s' for kind '%s'", source, id, key,
                scn_kind_names[s->kind]);
      rc = FS_ESCENARIO;
      continue;
    }
    double x = json_number_value(v);
    if (!json_is_number(v) || (spec->integer && !json_is_integer(v)) || !(x >= spec->min) ||
        !(x <= spec->max)) {
      char *shown = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      diag_addf("%s: scenario '%s': key '%s': %s is not %s in [%g, %g]", source, id, key,
                shown ? shown : "?", spec->integer ? "an integer" : "a number", spec->min,
                spec->max);
      free(shown);
      rc = FS_ESCENARIO;
      continue;
    }
    scn_param_set(s, key, x);
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
  json_t *o = json_object();
  if (!o)
    return NULL;
  int bad = 0;
  for (int i = 0; i < s->nparams; i++)
    bad |= json_object_set_new(o, s->param_name[i], json_real(s->param[i]));
  if (s->nracks > 0) {
    json_t *a = json_array();
    for (int i = 0; a && i < s->nracks; i++)
      bad |= json_array_append_new(a, json_integer(s->racks[i]));
    bad |= a ? json_object_set_new(o, "racks", a) : -1;
  }
  if (s->kind == SK_ROUTING_COLLAPSE) {
    json_t *a = json_array();
    for (int g = 0; a && g < FLEET_GPUS; g++)
      if ((s->gpu_mask >> g) & 1)
        bad |= json_array_append_new(a, json_integer(g));
    bad |= a ? json_object_set_new(o, "hot_gpus", a) : -1;
  }
  if (s->kind == SK_TRAINING_STRAGGLER)
    bad |= json_object_set_new(o, "job_index", json_integer(s->job));
  char *txt = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return txt;
}
