/* hbm_uncorrectable: one GPU of a training job hits an uncorrectable HBM
 * error (a double-bit ECC error, XID 48). Its process dies at once; the
 * job's other ranks stop at their next collective until the launcher tears
 * the job down, then it relaunches from its last checkpoint (the steps
 * since are lost). The GPU reset of the relaunch remaps the failing row
 * (an uncorrectable remapped row, XID 63) and the node rejoins. Unlike
 * hbm_degradation's slow SBE trend, a single event and a crash. Defaults:
 * HBM3 was the second cause (17.2 %) of Llama 3's 419 unexpected
 * interruptions (Meta, "The Llama 3 Herd of Models", 2024, table 5); an
 * uncorrectable error is XID 48 and the remap at the next reset XID 63/64
 * (NVIDIA, "GPU Memory Error Management", row remapping); torchrun's
 * elastic agent sees a worker exit at its next monitor poll (seconds) and
 * restarts the workers (PyTorch docs, torchrun "max_restarts"), so the
 * hang is short. The relaunch time is an assumption. */
#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

enum { HU_JOB_NODE, HU_GPU, HU_HANG_MIN, HU_RESTART_MIN, HU_COUNT };

static const scn_magnitude hu_magnitudes[HU_COUNT] = {
    [HU_JOB_NODE] = {"job_node", -1, -1, 1000000, 1, "",
                     "the node's position in the job; -1: chosen from the seed"},
    [HU_GPU] = {"gpu", -1, -1, 7, 1, "", "the GPU with the error; -1: from the seed"},
    [HU_HANG_MIN] = {"hang_min", 1, 0, 60, 0, "min",
                     "the other ranks wait this long before the job is torn down"},
    [HU_RESTART_MIN] = {"restart_min", 8, 0, 120, 0, "min",
                        "GPU reset, relaunch and checkpoint read-back"},
};

static const scn_target hu_targets[] = {
    {"job", SCN_TARGET_JOB, "the training job of the GPU (default: train-001)"}};

static const char *hu_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int hu_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  int node = scn_pick_job_node(s, f, source, key, HU_JOB_NODE);
  if (node < 0)
    return FS_ESCENARIO;
  int g = scn_pick_gpu(s, key, HU_GPU);
  s->gpu_mask = (uint8_t)(1u << g);
  int rc = scn_list_add(nodes, node);
  return rc ? rc : scn_list_add(gpus, node * FLEET_GPUS + g);
}

static void hu_inject(const scn_def *s, const scn_now *now, int k0, int k1, int node0,
                      tel_drivers *d) {
  const int first = now->t == s->t_start; /* the error: one event */
  const int reset = scn_job_restart_starts(now, 0, s->param[HU_HANG_MIN]);
  for (int k = k0; k < k1; k++) {
    tel_drivers *x = &d[s->nodes[k] - node0];
    x->dbe_gpu_mask |= first ? s->gpu_mask : 0;
    x->remap_gpu_mask |= reset ? s->gpu_mask : 0;
  }
}

static void hu_drive_jobs(const scn_def *s, const scn_now *now, tel_job_drivers *jd) {
  scn_job_restart(now, 0, s->param[HU_HANG_MIN], s->param[HU_RESTART_MIN], &jd[s->job]);
}

static int hu_random(json_t *o, uint64_t key, const fleet *f) {
  int j = (int)(rng_bits(key, 12) % (uint64_t)f->njobs);
  int bad = json_object_set_new(o, "job", json_string(f->cfg->jobs[j].id));
  bad |= json_object_set_new(o, "gpu", json_integer((json_int_t)(rng_bits(key, 13) % FLEET_GPUS)));
  return bad;
}

const scn_kind_ops scn_kind_hbm_uncorrectable = {
    .magnitudes = hu_magnitudes,
    .nmagnitudes = HU_COUNT,
    .targets = hu_targets,
    .ntargets = 1,
    .missing = hu_missing,
    .resolve = hu_resolve,
    .impacts_job_peers = 1,
    .inject = hu_inject,
    .drive_jobs = hu_drive_jobs,
    .random_min_lo = 30,
    .random_min_hi = 60,
    .random = hu_random,
};
