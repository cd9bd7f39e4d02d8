/* temp_sensor_fault: the temperature a GPU reports lies: its reading is
 * stuck at one value (stuck_c), or, with stuck_c -1, off the true junction
 * temperature by offset_c. The physics goes on: the node's BMC drives the
 * GPU zone's fans from the same reading, so a reading that is too low
 * under-cools the GPU (the telemetry model's fan-zone coupling), its true
 * temperature climbs until its own thermal slowdown holds the clocks down,
 * and its HBM temperature (another sensor) rises with it. The reported
 * temperature stays flat or low while the throttle signals say otherwise.
 * Causes only: the injector sets the GPU's sensor fault.
 *
 * Defaults from public figures: DCGM reports the junction temperature
 * (DCGM_FI_DEV_GPU_TEMP) and the HBM temperature (DCGM_FI_DEV_MEMORY_TEMP)
 * from separate sensors; server BMCs read GPU temperatures out of band
 * (NVIDIA's SMBus post-box interface, SMBPBI) to drive their fan curves; an
 * idle H100 in a cold aisle reads in the 30s C, so a reading stuck at 38 C
 * looks plausible on its own while a loaded peer reads 65-78 C. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { TS_NODE, TS_GPU, TS_STUCK_C, TS_OFFSET_C, TS_COUNT };

static const scn_magnitude ts_magnitudes[TS_COUNT] = {
    [TS_NODE] = {"node", -1, -1, 1000000, 1, "",
                 "node of the faulty GPU; -1: a training job's node, from the seed"},
    [TS_GPU] = {"gpu", -1, -1, FLEET_GPUS - 1, 1, "", "GPU index 0..7; -1: from the seed"},
    [TS_STUCK_C] = {"stuck_c", 38, -1, 120, 0, "C",
                    "the reading stays at this value; -1: not stuck, offset_c applies"},
    [TS_OFFSET_C] = {"offset_c", -20, -60, 60, 0, "C",
                     "with stuck_c -1: the reading's error against the true temperature"},
};

/* The node: the one given, else a seeded node of a training job (the
 * hottest workload), else any node. */
static int ts_pick_node(const fleet *f, uint64_t key) {
  const int start = (int)(rng_bits(key, 1) % (uint64_t)f->nodes);
  for (int k = 0; k < f->nodes; k++) {
    const int n = (start + k) % f->nodes;
    if (f->node_job[n] >= 0)
      return n;
  }
  return start;
}

static int ts_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key,
                      scn_list *nodes, scn_list *gpus) {
  int node = (int)s->param[TS_NODE], gpu = (int)s->param[TS_GPU];
  if (node >= f->nodes) {
    diag_addf("%s: scenario '%s': key 'node': %d is out of range: the fleet has %d nodes", source,
              s->id, node, f->nodes);
    return FS_ESCENARIO;
  }
  if (node < 0) {
    node = ts_pick_node(f, key);
    s->param[TS_NODE] = node;
  }
  if (gpu < 0) {
    gpu = (int)(rng_bits(key, 2) % FLEET_GPUS);
    s->param[TS_GPU] = gpu;
  }
  s->gpu_mask = (uint8_t)(1u << gpu);
  int rc = scn_list_add(nodes, node);
  return rc ? rc : scn_list_add(gpus, node * FLEET_GPUS + gpu);
}

static void ts_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  (void)now;
  const int g = (int)s->param[TS_GPU];
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    if (s->param[TS_STUCK_C] >= 0) {
      x->sensor_stuck_mask |= (uint8_t)(1u << g);
      x->sensor_stuck_c[g] = (float)s->param[TS_STUCK_C];
    } else {
      x->sensor_offset_c[g] += (float)s->param[TS_OFFSET_C];
    }
  }
}

static int ts_random(json_t *o, uint64_t key, const fleet *f) {
  (void)f;
  if (rng_bits(key, 10) % 2 == 0)
    return json_object_set_new(o, "stuck_c", json_real(scn_random_between(key, 12, 30, 45)));
  int bad = json_object_set_new(o, "stuck_c", json_integer(-1));
  bad |= json_object_set_new(o, "offset_c", json_real(scn_random_between(key, 13, -30, -15)));
  return bad;
}

const scn_kind_ops scn_kind_temp_sensor_fault = {
    .magnitudes = ts_magnitudes,
    .nmagnitudes = TS_COUNT,
    .resolve = ts_resolve,
    .impacts_job_peers = 1,
    .inject = ts_inject,
    .random_min_lo = 60,
    .random_min_hi = 240,
    .random = ts_random,
};
