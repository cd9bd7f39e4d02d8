/* storage_slowdown: the shared file system the training jobs checkpoint to
 * slows down (a degraded storage target, a rebuild, a metadata server under
 * load), so every checkpoint of every job takes several times as long: the
 * jobs stall longer at each checkpoint and their goodput drops. Inference
 * does not checkpoint and is not touched. The root-cause nodes are the
 * nodes of every job (the storage's clients): no node is at fault, so the
 * kind sets no node's drivers, only the jobs' checkpoint write factor.
 * Defaults: a 4x slower write is a modest storage brown-out (a RAID or
 * erasure-code rebuild alone costs parallel file systems tens of percent to
 * several times their write bandwidth, e.g. Lustre and Ceph rebuild
 * documentation); checkpoint stalls are a named cost of large-scale training
 * (Meta, "The Llama 3 Herd of Models", 2024, sec. 3.3.4). */
#include "scenarios/kinds/kind.h"

enum { SS_WRITE_SCALE, SS_RAMP_MIN, SS_COUNT };

static const scn_magnitude ss_magnitudes[SS_COUNT] = {
    [SS_WRITE_SCALE] = {"write_scale", 4, 1.1, 50, 0, "",
                        "checkpoint write time factor at full onset"},
    [SS_RAMP_MIN] = {"ramp_min", 10, 0, 600, 0, "min", "onset time (smoothstep)"},
};

static const char *ss_missing(const fleet *f) {
  return f->njobs == 0 ? "needs a training job, and the config has none" : NULL;
}

static int ss_resolve(scn_def *s, const fleet *f, const char *source, uint64_t key, scn_list *nodes,
                      scn_list *gpus) {
  (void)s;
  (void)source;
  (void)key;
  (void)gpus;
  int rc = 0;
  for (int k = 0; k < f->job_offset[f->njobs] && rc == 0; k++)
    rc = scn_list_add(nodes, f->job_nodes[k]);
  return rc;
}

static void ss_drive_jobs(const scn_def *s, const scn_now *now, tel_job_drivers *jd) {
  const float onset = scn_ramp(now->elapsed_min, s->param[SS_RAMP_MIN]);
  const float scale = 1.0f + (float)(s->param[SS_WRITE_SCALE] - 1.0) * onset;
  for (int j = 0; j < now->f->njobs; j++)
    jd[j].ckpt_scale *= scale;
}

static int ss_random(json_t *o, uint64_t key, const fleet *f) {
  (void)f;
  return json_object_set_new(o, "write_scale", json_real(scn_random_between(key, 12, 3, 8)));
}

const scn_kind_ops scn_kind_storage_slowdown = {
    .magnitudes = ss_magnitudes,
    .nmagnitudes = SS_COUNT,
    .missing = ss_missing,
    .resolve = ss_resolve,
    .drive_jobs = ss_drive_jobs,
    .random_min_lo = 90,
    .random_min_hi = 240,
    .random = ss_random,
};
