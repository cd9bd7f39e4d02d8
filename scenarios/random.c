/* Randomised scenario files for robustness studies (`fleetsim scenarios
 * --random N --seed K`): kinds, times, places and magnitudes drawn from the
 * seed within the ranges the seed describes, always valid for the fleet. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "scenarios/scenario.h"
#include "src/core/errors.h"
#include "src/core/rng.h"

typedef struct {
  double dur_lo, dur_hi; /* minutes */
} random_kind_range;

static const random_kind_range random_ranges[SK_COUNT] = {
    [SK_THERMAL_CASCADE] = {20, 45},    [SK_ROUTING_COLLAPSE] = {30, 60},
    [SK_HBM_DEGRADATION] = {180, 420},  [SK_FABRIC_MICROBURST] = {20, 45},
    [SK_KV_EVICTION_STORM] = {40, 90},  [SK_TRAINING_STRAGGLER] = {60, 150},
};

static double random_between(uint64_t key, uint64_t ctr, double lo, double hi) {
  return lo + (hi - lo) * rng_uniform(rng_bits(key, ctr));
}

/* Adds the kind's targets and magnitudes, sometimes left to the simulator. */
static int random_targets(json_t *o, scn_kind k, uint64_t key, const fleet *f) {
  int bad = 0;
  int explicit_targets = rng_bits(key, 10) % 2 == 0;
  switch (k) {
  case SK_THERMAL_CASCADE:
  case SK_FABRIC_MICROBURST:
    if (explicit_targets && f->racks >= 2) {
      int r = (int)(rng_bits(key, 11) % (uint64_t)(f->racks - 1));
      bad |= json_object_set_new(o, "racks", json_pack("[i,i]", r, r + 1));
    }
    if (k == SK_THERMAL_CASCADE)
      bad |= json_object_set_new(o, "inlet_rise_c", json_real(random_between(key, 12, 8, 12)));
    else
      bad |= json_object_set_new(o, "congestion", json_real(random_between(key, 12, 0.6, 1.0)));
    break;
  case SK_ROUTING_COLLAPSE:
    bad |= json_object_set_new(o, "entropy_to", json_real(random_between(key, 12, 0.6, 1.0)));
    break;
  case SK_HBM_DEGRADATION: {
    int gpus = 6 + (int)(rng_bits(key, 13) % 10);
    int train = gpus / 2 + (int)(rng_bits(key, 14) % (uint64_t)(gpus / 2 + 1));
    if (f->cfg->training_nodes == 0)
      train = 0;
    if (f->cfg->moe_nodes + f->cfg->dense_nodes == 0)
      train = gpus;
    bad |= json_object_set_new(o, "gpus", json_integer(gpus));
    bad |= json_object_set_new(o, "training_gpus", json_integer(train));
    break;
  }
  case SK_KV_EVICTION_STORM:
    bad |= json_object_set_new(o, "hit_ratio_to", json_real(random_between(key, 12, 0.4, 0.55)));
    break;
  case SK_TRAINING_STRAGGLER:
    if (explicit_targets) {
      int j = (int)(rng_bits(key, 15) % (uint64_t)f->njobs);
      int size = f->cfg->jobs[j].nodes;
      bad |= json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
      bad |= json_object_set_new(o, "job_node", json_integer((json_int_t)(rng_bits(key, 16) % (uint64_t)size)));
    }
    break;
  case SK_COUNT:
    break;
  }
  return bad;
}

int scn_random(char **text, int n, uint64_t seed, const fleet *f) {
  *text = NULL;
  json_t *list = json_array();
  json_t *root = json_object();
  if (!list || !root || json_object_set(root, "scenarios", list)) {
    json_decref(list);
    json_decref(root);
    return FS_ENOMEM;
  }
  /* kinds this fleet can host */
  scn_kind usable[SK_COUNT];
  int nusable = 0;
  for (int k = 0; k < SK_COUNT; k++) {
    if (k == SK_ROUTING_COLLAPSE && f->cfg->moe_nodes == 0)
      continue;
    if (k == SK_KV_EVICTION_STORM && f->cfg->dense_nodes == 0)
      continue;
    if (k == SK_TRAINING_STRAGGLER && f->njobs == 0)
      continue;
    usable[nusable++] = (scn_kind)k;
  }
  double hours = f->cfg->hours;
  int bad = 0;
  for (int i = 0; i < n && nusable > 0; i++) {
    uint64_t key = rng_key(seed, RNG_STREAM_SCENARIO + 20, (uint64_t)i);
    /* every kind once (rotated by the seed) before kinds repeat at random */
    uint64_t rot = rng_bits(rng_key(seed, RNG_STREAM_SCENARIO + 20, UINT64_MAX), 0);
    scn_kind k = i < nusable ? usable[((uint64_t)i + rot % (uint64_t)nusable) % (uint64_t)nusable]
                             : usable[rng_bits(key, 0) % (uint64_t)nusable];
    const random_kind_range *r = &random_ranges[k];
    double dur = random_between(key, 1, r->dur_lo, r->dur_hi);
    double max_start = hours - dur / 60.0;
    if (max_start < 0.05 * hours) {
      max_start = 0.5 * hours;
      dur = fmin(dur, 0.5 * hours * 60.0);
    }
    double start = random_between(key, 2, 0.05 * hours, max_start);
    char id[16];
    snprintf(id, sizeof id, "R%d", i + 1);
    json_t *o = json_pack("{s:s,s:s,s:f,s:f}", "id", id, "kind", scn_kind_name(k), "start_h",
                          (double)(long)(start * 100) / 100.0, "duration_min",
                          (double)(long)dur);
    if (!o || random_targets(o, k, key, f) || json_array_append_new(list, o)) {
      bad = 1;
      break;
    }
  }
  if (!bad)
    *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(list);
  json_decref(root);
  return *text ? 0 : FS_ENOMEM;
}
