/* pcie_degradation: one GPU's PCIe link retrains to a lower generation or
 * width (a marginal connector or riser), so it keeps replaying packets and
 * carries a fraction of its bandwidth. Host-device traffic is capped; a
 * training node's share of the all-reduce (GPUDirect RDMA crosses that
 * link) slows the whole job; an inference node's prompts and KV transfers
 * slow its first tokens. Defaults: Gen5 x16 carries about 64 GB/s each way
 * and Gen4 x8 a quarter of it (PCI-SIG: 32 and 16 GT/s per lane, 128b/130b
 * encoding), so link_loss 0.75; the link's replay counter is DCGM's
 * DCGM_FI_DEV_PCIE_REPLAY_COUNTER, and NVIDIA's field diagnostics treat a
 * link below its maximum gen or width, or a replay count that keeps rising,
 * as a fault (DCGM diagnostics, "PCIe" plugin). The replay rate of a
 * marginal link is an assumption. */
#include "scenarios/kinds/kind.h"

enum { PD_JOB_NODE, PD_GPU, PD_INFERENCE_NODE, PD_LINK_LOSS, PD_REPLAYS, PD_COUNT };

static const scn_magnitude pd_magnitudes[PD_COUNT] = {
    [PD_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the node's position in the job; -1: chosen from the seed"},
    [PD_GPU] = {"gpu", -1, -1, 7, 1, "", "the GPU whose link degrades; -1: from the seed"},
    [PD_INFERENCE_NODE] = {"inference_node", -1, -1, 1000000, 1, "",
                           "an inference node instead (the job is then ignored); -1: none"},
    [PD_LINK_LOSS] = {"link_loss", 0.75, 0.05, 0.95, 0, "",
                      "share of the link's bandwidth lost (Gen5 x16 to Gen4 x8: 0.75)"},
    [PD_REPLAYS] = {"replays_per_interval", 20, 0, 100000, 0, "replays/scrape",
                    "extra PCIe replays per scrape on the GPU"},
};

static const scn_target pd_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job of the node (default: train-001)"}};

static int pd_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  return scn_pick_node_gpu(s, f, source, key, PD_JOB_NODE, PD_INFERENCE_NODE, PD_GPU, nodes,
                           gpus);
}

static void pd_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  (void)now;
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    x->pcie_gpu_mask |= s->gpu_mask;
    x->pcie_link_loss = (float)s->param[PD_LINK_LOSS];
    x->pcie_replays += (float)s->param[PD_REPLAYS];
  }
}

static int pd_random(json_t *o, uint64_t key, const fleet *f) {
  int bad = scn_random_node_target(o, key, f);
  /* Gen4 x8 (0.75) or Gen4 x4 / Gen3 x8 (0.875) */
  bad |= json_object_set_new(o, "link_loss", json_real(rng_bits(key, 14) % 2 ? 0.75 : 0.875));
  return bad;
}

const scn_kind_ops scn_kind_pcie_degradation = {
    .magnitudes = pd_magnitudes,
    .nmagnitudes = PD_COUNT,
    .targets = pd_targets,
    .ntargets = 1,
    .resolve = pd_resolve,
    .impacts_job_peers = 1,
    .inject = pd_inject,
    .random_min_lo = 60,
    .random_min_hi = 240,
    .random = pd_random,
};
