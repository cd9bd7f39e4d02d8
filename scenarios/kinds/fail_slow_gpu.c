/* fail_slow_gpu: one GPU of a training node goes fail-slow: its SM clock
 * drops a step, then sags over hours (a failing voltage regulator, degraded
 * thermal interface or silicon ageing pulls its clock ceiling down) while it
 * keeps running, reporting no error. The injector lowers that GPU's clock
 * ceiling; the
 * telemetry model turns it into lower power and throughput on the GPU and a
 * longer step for its whole job (every all-reduce waits for the slowest GPU).
 *
 * Public figures behind the defaults: fail-slow hardware (still working, but
 * far slower than its peers) is reported in production fleets of every size,
 * with slowdowns that last from minutes to months (Gunawi et al., "Fail-Slow
 * at Scale: Evidence of Hardware Performance Faults in Large Production
 * Systems", USENIX FAST 2018: 101 reports from 12 institutions). An H100 SXM
 * boosts to 1980 MHz and its base clock is 1590 MHz (NVIDIA H100 datasheet),
 * so a first fall of 250 MHz (a clock bin lost at once: a power-delivery or
 * clock-domain fault) followed by another 250 MHz over three hours takes the
 * GPU below its base clock, where an operator would call it broken rather
 * than hot. A sag alone, without the first fall, is a slow burn: a detector
 * that learns each GPU's own level follows it (step_mhz 0 tests that). */
#include <string.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { FS_JOB_NODE, FS_STEP_MHZ, FS_SAG_MHZ, FS_RAMP_MIN, FS_COUNT };

static const scn_magnitude fs_magnitudes[FS_COUNT] = {
    [FS_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the slow GPU's node, its position in the job; -1: chosen from the seed"},
    [FS_STEP_MHZ] = {"step_mhz", 250, 0, 1000, 0, "MHz",
                     "first fall of the GPU's SM clock ceiling below boost, over 5 minutes"},
    [FS_SAG_MHZ] = {"sag_mhz", 250, 0, 1000, 0, "MHz",
                    "further fall of the ceiling over ramp_min (the slow sag)"},
    [FS_RAMP_MIN] = {"ramp_min", 180, 0, 1440, 0, "min",
                     "time over which the clock sags further (smoothstep), then it stays low"},
};

static const scn_target fs_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job of the slow GPU (default: from the seed)"},
    {"hot_gpus", SCN_TARGET_HOT_GPUS, "the slow GPU, one index 0-7 (default: from the seed)"}};

static const char *fs_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int fs_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  const int node = scn_pick_seeded_job_node(s, f, source, key, FS_JOB_NODE, 30);
  if (node < 0)
    return FS_ESCENARIO;
  if (s->gpu_mask == 0)
    s->gpu_mask = (uint8_t)(1u << (rng_bits(key, 32) % FLEET_GPUS));
  if (__builtin_popcount(s->gpu_mask) != 1) {
    diag_addf("%s: scenario '%s': key 'hot_gpus': a fail-slow scenario has one GPU, not %d",
              source, s->id, __builtin_popcount(s->gpu_mask));
    return FS_ESCENARIO;
  }
  int rc = scn_list_add(nodes, node);
  for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
    if ((s->gpu_mask >> g) & 1)
      rc = scn_list_add(gpus, node * FLEET_GPUS + g);
  return rc;
}

static void fs_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const float sag = (float)s->param[FS_STEP_MHZ] * scn_ramp(now->elapsed_min, 5.0) +
                    (float)s->param[FS_SAG_MHZ] * scn_ramp(now->elapsed_min, s->param[FS_RAMP_MIN]);
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    for (int g = 0; g < FLEET_GPUS; g++)
      if (((s->gpu_mask >> g) & 1) && sag > x->clock_sag_mhz[g])
        x->clock_sag_mhz[g] = sag;
  }
}

static int fs_random(json_t *o, uint64_t key, const fleet *f) {
  int j = (int)(rng_bits(key, 10) % (uint64_t)f->njobs);
  int bad = json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
  bad |= json_object_set_new(
      o, "job_node", json_integer((json_int_t)(rng_bits(key, 11) % (uint64_t)f->cfg->jobs[j].nodes)));
  bad |= json_object_set_new(o, "step_mhz", json_real(scn_random_between(key, 12, 200, 300)));
  bad |= json_object_set_new(o, "sag_mhz", json_real(scn_random_between(key, 13, 150, 300)));
  bad |= json_object_set_new(o, "ramp_min", json_real(scn_random_between(key, 14, 60, 240)));
  return bad;
}

const scn_kind_ops scn_kind_fail_slow_gpu = {
    .magnitudes = fs_magnitudes,
    .nmagnitudes = FS_COUNT,
    .targets = fs_targets,
    .ntargets = 2,
    .missing = fs_missing,
    .resolve = fs_resolve,
    .impacts_job_peers = 1,
    .inject = fs_inject,
    .random_min_lo = 120,
    .random_min_hi = 300,
    .random = fs_random,
};
