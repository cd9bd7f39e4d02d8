/* Randomised scenario files for robustness studies (`fleetsim scenarios
 * --random N --seed K`): kinds, times and durations drawn here from the seed,
 * targets and magnitudes by each kind's random op, always valid for the
 * fleet. Kind-agnostic: it loops over the registry. */
#include <math.h>
#include <stdio.h>

#include "scenarios/kinds/kind.h"
#include "src/core/errors.h"

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
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    if (!ops->missing || !ops->missing(f))
      usable[nusable++] = (scn_kind)k;
  }
  double hours = f->cfg->hours;
  int bad = 0;
  for (int i = 0; i < n && nusable > 0; i++) {
    uint64_t key = rng_key(seed, SCN_STREAM_RANDOM, (uint64_t)i);
    /* every kind once (rotated by the seed) before kinds repeat at random */
    uint64_t rot = rng_bits(rng_key(seed, SCN_STREAM_RANDOM, UINT64_MAX), 0);
    scn_kind k = i < nusable ? usable[((uint64_t)i + rot % (uint64_t)nusable) % (uint64_t)nusable]
                             : usable[rng_bits(key, 0) % (uint64_t)nusable];
    const scn_kind_ops *ops = scn_kind_ops_of(k);
    double dur = scn_random_between(key, 1, ops->random_min_lo, ops->random_min_hi);
    double max_start = hours - dur / 60.0;
    if (max_start < 0.05 * hours) {
      max_start = 0.5 * hours;
      dur = fmin(dur, 0.5 * hours * 60.0);
    }
    double start = scn_random_between(key, 2, 0.05 * hours, max_start);
    char id[16];
    snprintf(id, sizeof id, "R%d", i + 1);
    json_t *o = json_pack("{s:s,s:s,s:f,s:f}", "id", id, "kind", scn_kind_name(k), "start_h",
                          (double)(long)(start * 100) / 100.0, "duration_min", (double)(long)dur);
    if (o && ops->random(o, key, f)) {
      json_decref(o);
      o = NULL;
    }
    if (!o || json_array_append_new(list, o)) { /* append takes o, even when it fails */
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
