/* gpu_off_bus: one GPU falls off the bus (XID 79) under sustained load. It
 * answers no query from then on (NaN gauges) and does no work. On a
 * training node the job hangs in its collectives until the watchdog fires,
 * then relaunches from its last checkpoint without the node, whose other
 * GPUs go idle; on an inference node the replica on that GPU is gone and the
 * node serves less. Defaults: XID 79 is NVIDIA's "GPU has fallen off the
 * bus" (XID catalogue, docs.nvidia.com/deploy/xid-errors); PyTorch's
 * ProcessGroupNCCL times a collective out after 10 minutes by default
 * (torch.distributed.init_process_group, "timeout"); faulty GPUs were the
 * first cause (30.1 %) of the 419 unexpected interruptions of Llama 3's
 * 54-day pre-training on 16k H100s (Meta, "The Llama 3 Herd of Models",
 * 2024, table 5). The relaunch time (launcher, rendezvous, NCCL set-up,
 * reading the checkpoint back) is an assumption of a few minutes. */
#include "scenarios/kinds/kind.h"

enum { OB_JOB_NODE, OB_GPU, OB_INFERENCE_NODE, OB_HANG_MIN, OB_RESTART_MIN, OB_COUNT };

static const scn_magnitude ob_magnitudes[OB_COUNT] = {
    [OB_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the failing node's position in the job; -1: chosen from the seed"},
    [OB_GPU] = {"gpu", -1, -1, 7, 1, "", "the GPU that falls off the bus; -1: from the seed"},
    [OB_INFERENCE_NODE] = {"inference_node", -1, -1, 1000000, 1, "",
                           "an inference node to fail instead (the job is then ignored); -1: none"},
    [OB_HANG_MIN] = {"hang_min", 10, 0, 120, 0, "min",
                     "the job hangs in its collectives this long (the NCCL watchdog timeout)"},
    [OB_RESTART_MIN] = {"restart_min", 8, 0, 120, 0, "min",
                        "relaunch and checkpoint read-back, after which the job runs without the node"},
};

static const scn_target ob_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job the failing node serves (default: train-001)"}};

static int ob_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  return scn_pick_node_gpu(s, f, source, key, OB_JOB_NODE, OB_INFERENCE_NODE, OB_GPU, nodes,
                           gpus);
}

static void ob_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  tel_job_drivers scratch = {0};
  const int restarted = scn_job_restart(now, 0, s->param[OB_HANG_MIN], s->param[OB_RESTART_MIN],
                                        &scratch);
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    x->gpu_off_bus_mask |= s->gpu_mask;
    x->job_excluded |= (uint8_t)(s->job >= 0 && restarted);
  }
}

static void ob_drive_jobs(const scn_def *s, const scn_now *now, tel_job_drivers *jd) {
  if (s->job >= 0)
    scn_job_restart(now, 0, s->param[OB_HANG_MIN], s->param[OB_RESTART_MIN], &jd[s->job]);
}

static int ob_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = scn_random_node_target(o, key, f);
  bad |= json_object_set_new(o, "gpu", json_integer((json_int_t)(rng_bits(key, 13) % FLEET_GPUS)));
  return bad;
}

const scn_kind_ops scn_kind_gpu_off_bus = {
    .magnitudes = ob_magnitudes,
    .nmagnitudes = OB_COUNT,
    .targets = ob_targets,
    .ntargets = 1,
    .resolve = ob_resolve,
    .impacts_job_peers = 1,
    .inject = ob_inject,
    .drive_jobs = ob_drive_jobs,
    .random_min_lo = 40,
    .random_min_hi = 120,
    .random = ob_random,
};
