/* firmware_regression: a GPU driver or firmware rollout reaches a subset of
 * nodes (one rack, the usual first wave, or a scattered set of nodes) and
 * regresses performance there: a lower SM clock ceiling and lower NVLink and
 * PCIe throughput on every GPU of an upgraded node, no error reported. The
 * injector sets those causes on the upgraded nodes from the rollout's start;
 * the telemetry model turns them into longer steps for the jobs on them and
 * higher inference latency. The entity is the rollout: its set of nodes.
 *
 * Public figures behind the defaults: an H100 SXM boosts to 1980 MHz, with
 * 900 GB/s of NVLink and a PCIe Gen5 x16 host link (64 GB/s each way)
 * (NVIDIA H100 datasheet). Vendors' driver release notes list performance
 * regressions as "known issues" fixed in a later branch; a power or clock
 * management change of the size of one boost bin step set (10%, about 200
 * MHz) and a link-training or NCCL-protocol regression costing a fifth of the
 * link bandwidth are the defaults here. Rollouts proceed in waves (canary
 * first), so the regression shows on one wave's nodes only, from the moment
 * they reboot into the new version (a 5-minute onset). */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { FW_NODES, FW_SAG_MHZ, FW_LINK_SCALE, FW_RAMP_MIN, FW_COUNT };

static const scn_magnitude fw_magnitudes[FW_COUNT] = {
    [FW_NODES] = {"nodes", 0, 0, 100000, 1, "nodes",
                  "a scattered wave of this many nodes chosen from the seed; 0: the racks' nodes"},
    [FW_SAG_MHZ] = {"sag_mhz", 200, 20, 1000, 0, "MHz",
                    "fall of every upgraded GPU's SM clock ceiling below boost"},
    [FW_LINK_SCALE] = {"link_scale", 0.8, 0.1, 1, 0, "",
                       "NVLink and PCIe throughput of upgraded nodes, a share of normal"},
    [FW_RAMP_MIN] = {"ramp_min", 5, 0, 600, 0, "min",
                     "time for the wave to reboot into the new version (smoothstep)"},
};

static const scn_target fw_targets[] = {
    {"racks", SCN_TARGET_RACKS,
     "racks the rollout reaches when nodes is 0 (default: one rack, from the seed)"}};

static int fw_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  int want = (int)s->param[FW_NODES];
  if (want > f->nodes) {
    diag_addf("%s: scenario '%s': key 'nodes': %d is more than the fleet's %d nodes", source,
              s->id, want, f->nodes);
    return FS_ESCENARIO;
  }
  if (want > 0 && s->nracks > 0) {
    diag_addf("%s: scenario '%s': key 'nodes': %d excludes 'racks' (a wave is one or the other)",
              source, s->id, want);
    return FS_ESCENARIO;
  }
  int rc = 0;
  if (want > 0) { /* a scattered wave: a seeded walk with a stride coprime to the fleet */
    uint64_t start = rng_bits(key, 35) % (uint64_t)f->nodes;
    for (int i = 0; i < want && rc == 0; i++)
      rc = scn_list_add(nodes, (int32_t)((start + (uint64_t)i * 7919u) % (uint64_t)f->nodes));
    scn_list_finish(nodes);
    if (rc == 0 && nodes->n < want) { /* 7919 divides the fleet: fill in order */
      for (int n = 0; n < f->nodes && nodes->n < want && rc == 0; n++)
        rc = scn_list_add(nodes, n);
      scn_list_finish(nodes);
    }
  } else {
    if (s->nracks == 0) {
      s->racks[0] = (int)(rng_bits(key, 36) % (uint64_t)f->racks);
      s->nracks = 1;
    }
    for (int k = 0; k < s->nracks && rc == 0; k++)
      for (int slot = 0; slot < f->nodes_per_rack && rc == 0; slot++)
        rc = scn_list_add(nodes, s->racks[k] * f->nodes_per_rack + slot);
  }
  for (int i = 0; i < nodes->n && rc == 0; i++)
    for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
      rc = scn_list_add(gpus, nodes->v[i] * FLEET_GPUS + g);
  return rc;
}

static void fw_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const float on = scn_ramp(now->elapsed_min, s->param[FW_RAMP_MIN]);
  const float sag = (float)s->param[FW_SAG_MHZ] * on;
  const float link = 1.0f - (1.0f - (float)s->param[FW_LINK_SCALE]) * on;
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    for (int g = 0; g < FLEET_GPUS; g++)
      if (sag > x->clock_sag_mhz[g])
        x->clock_sag_mhz[g] = sag;
    if (x->link_scale == 0 || link < x->link_scale)
      x->link_scale = link;
  }
}

static int fw_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = 0;
  if (rng_bits(key, 10) % 2 == 0) /* a scattered wave of 2% of the fleet, at least 4 nodes */
    bad |= json_object_set_new(o, "nodes", json_integer(f->nodes / 50 > 4 ? f->nodes / 50 : 4));
  bad |= json_object_set_new(o, "sag_mhz", json_real(scn_random_between(key, 11, 150, 260)));
  bad |= json_object_set_new(o, "link_scale", json_real(scn_random_between(key, 12, 0.7, 0.85)));
  return bad;
}

const scn_kind_ops scn_kind_firmware_regression = {
    .magnitudes = fw_magnitudes,
    .nmagnitudes = FW_COUNT,
    .targets = fw_targets,
    .ntargets = 1,
    .resolve = fw_resolve,
    .impacts_job_peers = 1,
    .inject = fw_inject,
    .random_min_lo = 120,
    .random_min_hi = 360,
    .random = fw_random,
};
