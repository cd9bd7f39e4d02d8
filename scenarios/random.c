/* Randomised scenario files for robustness studies (`fleetsim scenarios
 * --random N --seed K [--kinds LIST] [--overlap P]`): kinds, times and
 * durations drawn here from the seed, targets and magnitudes by each kind's
 * random op, always valid for the fleet; with probability P a scenario
 * co-occurs with the one drawn before it (it starts inside that one's window
 * and, where both kinds take racks and both drew them, on the same racks).
 * Kind-agnostic: it loops over the registry. */
#include <math.h>
#include <stdio.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

/* 1 when kind k has a target key of type t. */
static int scn_has_target(const scn_kind_ops *ops, scn_target_type t) {
  for (int i = 0; i < ops->ntargets; i++)
    if (ops->targets[i].type == t)
      return 1;
  return 0;
}

/* Makes scenario o (kind ops, duration *dur minutes, start *start hours)
 * co-occur with prev (kind prev_ops): a start inside prev's window, drawn
 * from counter 4 of key, the duration cut to the run, and prev's racks when
 * both kinds take racks and both drew them. 0, or nonzero when a JSON call
 * failed. */
static int scn_cooccur(json_t *o, const scn_kind_ops *ops, const json_t *prev,
                       const scn_kind_ops *prev_ops, uint64_t key, double hours, double *start,
                       double *dur) {
  double p0 = json_number_value(json_object_get(prev, "start_h"));
  double pd = json_number_value(json_object_get(prev, "duration_min"));
  double s0 = (double)(long)((p0 + scn_random_between(key, 4, 0, 0.8) * pd / 60.0) * 100) / 100.0;
  if ((hours - s0) * 60.0 < 10.0)
    return 0; /* no room left in the run: it stays where it was drawn */
  *start = s0;
  *dur = fmin((double)(long)*dur, (double)(long)((hours - s0) * 60.0));
  int bad = json_object_set_new(o, "start_h", json_real(*start));
  bad |= json_object_set_new(o, "duration_min", json_real(*dur));
  const json_t *racks = json_object_get(prev, "racks");
  if (racks && json_object_get(o, "racks") && scn_has_target(ops, SCN_TARGET_RACKS) &&
      scn_has_target(prev_ops, SCN_TARGET_RACKS))
    bad |= json_object_set_new(o, "racks", json_deep_copy(racks));
  return bad;
}

int scn_random(char **text, int n, uint64_t seed, const fleet *f, const unsigned char *kinds,
               double overlap) {
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
    if ((!kinds || kinds[k]) && (!ops->missing || !ops->missing(f)))
      usable[nusable++] = (scn_kind)k;
  }
  if (nusable == 0) {
    diag_addf("scenarios --random: none of the kinds selected can run on this fleet");
    json_decref(list);
    json_decref(root);
    return FS_EINVAL;
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
    /* a co-occurring fault: its own draw, so overlap 0 changes nothing else */
    uint64_t ckey = rng_key(seed, SCN_STREAM_RANDOM, (uint64_t)i + ((uint64_t)1 << 32));
    if (o && i > 0 && overlap > 0 && rng_uniform(rng_bits(ckey, 0)) < overlap) {
      const json_t *prev = json_array_get(list, (size_t)i - 1);
      const scn_kind_ops *pops =
          scn_kind_ops_of(scn_kind_by_name(json_string_value(json_object_get(prev, "kind"))));
      if (scn_cooccur(o, ops, prev, pops, ckey, hours, &start, &dur)) {
        json_decref(o);
        o = NULL;
      }
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
