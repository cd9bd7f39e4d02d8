/* execution_idle_power: GPUs of a training job sit allocated and powered but
 * do no work: a kernel spins or hangs (a deadlocked collective, a stuck
 * host thread that never launches the next step), so their SM, memory and
 * link activity fall to nothing while their clocks stay up and they draw
 * well above idle power, memory still allocated. The job makes no progress:
 * no step completes. The injector marks the GPUs stuck and sets the power
 * they draw; the telemetry model derives every symptom.
 *
 * Public figures behind the defaults: an H100 SXM idles near 70 W and is
 * rated for 700 W (NVIDIA H100 datasheet; the model's idle and cap); a
 * spinning or polling kernel keeps the SMs clocked and draws a few hundred
 * watts without useful work, hence 160 W above idle. PyTorch's NCCL process
 * group aborts a collective stuck past its timeout, 10 minutes by default
 * (torch.distributed.init_process_group), so a hang shows for at least that
 * long; jobs raise it for long checkpoint loads, and a hang outside a
 * collective has no timeout at all, hence 30-90 minutes here. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { EI_JOB_NODE, EI_POWER_W, EI_COUNT };

static const scn_magnitude ei_magnitudes[EI_COUNT] = {
    [EI_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the stuck GPUs' node, its position in the job; -1: chosen from the seed"},
    [EI_POWER_W] = {"power_w", 160, 20, 600, 0, "W",
                    "power above idle that each stuck GPU draws while doing no work"},
};

static const scn_target ei_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job whose GPUs hang (default: from the seed)"},
    {"hot_gpus", SCN_TARGET_HOT_GPUS,
     "the stuck GPUs of the node, indexes 0-7 (default: all eight)"}};

static const char *ei_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int ei_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  const int node = scn_pick_seeded_job_node(s, f, source, key, EI_JOB_NODE, 33);
  if (node < 0)
    return FS_ESCENARIO;
  if (s->gpu_mask == 0)
    s->gpu_mask = 0xff;
  int rc = scn_list_add(nodes, node);
  for (int g = 0; g < FLEET_GPUS && rc == 0; g++)
    if ((s->gpu_mask >> g) & 1)
      rc = scn_list_add(gpus, node * FLEET_GPUS + g);
  return rc;
}

static void ei_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  (void)now;
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    x->hung_gpu_mask |= s->gpu_mask;
    if (s->param[EI_POWER_W] > x->hung_power_w)
      x->hung_power_w = (float)s->param[EI_POWER_W];
  }
}

static int ei_random(json_t *o, uint64_t key, const fleet *f) {
  int j = (int)(rng_bits(key, 10) % (uint64_t)f->njobs);
  int bad = json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
  bad |= json_object_set_new(
      o, "job_node", json_integer((json_int_t)(rng_bits(key, 11) % (uint64_t)f->cfg->jobs[j].nodes)));
  if (rng_bits(key, 12) % 2) /* a single hung rank, or the whole node */
    bad |= json_object_set_new(o, "hot_gpus", json_pack("[i]", (int)(rng_bits(key, 13) % 8)));
  bad |= json_object_set_new(o, "power_w", json_real(scn_random_between(key, 14, 120, 220)));
  return bad;
}

const scn_kind_ops scn_kind_execution_idle_power = {
    .magnitudes = ei_magnitudes,
    .nmagnitudes = EI_COUNT,
    .targets = ei_targets,
    .ntargets = 2,
    .missing = ei_missing,
    .resolve = ei_resolve,
    .impacts_job_peers = 1,
    .inject = ei_inject,
    .random_min_lo = 30,
    .random_min_hi = 90,
    .random = ei_random,
};
