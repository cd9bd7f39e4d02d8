/* Builds the fleet topology from the config (see fleet.h). Tenants are
 * interleaved node by node with a largest-remainder rule, so every rack holds
 * each tenant in proportion; jobs take training nodes in order. */
#include "src/model/fleet.h"

#include <stdlib.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/rng.h"

const char *fleet_tenant_name(int tenant) {
  static const char *names[TENANT_COUNT] = {"moe-inference", "dense-inference", "training"};
  return tenant >= 0 && tenant < TENANT_COUNT ? names[tenant] : "unknown";
}

const char *fleet_tenant_key(int tenant) {
  static const char *names[TENANT_COUNT] = {"moe_inference", "dense_inference", "training"};
  return tenant >= 0 && tenant < TENANT_COUNT ? names[tenant] : "unknown";
}

/* Spreads tenants evenly: node i gets the tenant furthest behind its share. */
static void fleet_assign_tenants(fleet *f) {
  const long want[TENANT_COUNT] = {f->cfg->moe_nodes, f->cfg->dense_nodes,
                                   f->cfg->training_nodes};
  long have[TENANT_COUNT] = {0, 0, 0};
  for (int i = 0; i < f->nodes; i++) {
    int best = -1;
    long best_gap = 0;
    for (int k = 0; k < TENANT_COUNT; k++) {
      if (have[k] >= want[k])
        continue;
      /* deficit of tenant k after i+1 nodes, scaled by nodes to stay integral */
      long gap = want[k] * (long)(i + 1) - have[k] * (long)f->nodes;
      if (best < 0 || gap > best_gap) {
        best = k;
        best_gap = gap;
      }
    }
    f->node_tenant[i] = (uint8_t)best;
    have[best]++;
  }
}

static int fleet_assign_jobs(fleet *f) {
  int n = 0;
  f->job_offset[0] = 0;
  for (int j = 0; j < f->njobs; j++) {
    int need = f->cfg->jobs[j].nodes;
    for (int k = 0; k < need; k++) {
      while (n < f->nodes && f->node_tenant[n] != TENANT_TRAINING)
        n++;
      if (n >= f->nodes) {
        diag_addf("config: jobs[%d] '%s': not enough training nodes left for %d nodes", j,
                  f->cfg->jobs[j].id, need);
        return FS_ECONFIG;
      }
      f->node_job[n] = j;
      f->node_job_rank[n] = k;
      f->job_nodes[f->job_offset[j] + k] = n;
      n++;
    }
    f->job_offset[j + 1] = f->job_offset[j] + need;
  }
  return 0;
}

int fleet_init(fleet **out, const fs_config *cfg) {
  *out = NULL;
  if (cfg->racks < 1 || cfg->nodes % cfg->racks != 0 ||
      (long)cfg->moe_nodes + cfg->dense_nodes + cfg->training_nodes != cfg->nodes) {
    diag_addf("config: fleet of %d nodes in %d racks with tenants %d/%d/%d is inconsistent "
              "(run cfg_validate first)",
              cfg->nodes, cfg->racks, cfg->moe_nodes, cfg->dense_nodes, cfg->training_nodes);
    return FS_ECONFIG;
  }
  fleet *f = calloc(1, sizeof *f);
  if (!f)
    return FS_ENOMEM;
  f->cfg = cfg;
  f->nodes = cfg->nodes;
  f->racks = cfg->racks;
  f->nodes_per_rack = cfg->nodes / cfg->racks;
  f->racks_per_row = cfg->racks_per_row;
  f->rows = (cfg->racks + cfg->racks_per_row - 1) / cfg->racks_per_row;
  f->njobs = cfg->njobs;
  int total_job_nodes = 0;
  for (int j = 0; j < cfg->njobs; j++)
    total_job_nodes += cfg->jobs[j].nodes;
  f->node_tenant = calloc((size_t)f->nodes, sizeof *f->node_tenant);
  f->node_rack = calloc((size_t)f->nodes, sizeof *f->node_rack);
  f->node_job = calloc((size_t)f->nodes, sizeof *f->node_job);
  f->node_job_rank = calloc((size_t)f->nodes, sizeof *f->node_job_rank);
  f->gpu_lot = calloc((size_t)f->nodes * FLEET_GPUS, sizeof *f->gpu_lot);
  f->job_offset = calloc((size_t)f->njobs + 1, sizeof *f->job_offset);
  f->job_nodes = calloc((size_t)total_job_nodes + 1, sizeof *f->job_nodes);
  if (!f->node_tenant || !f->node_rack || !f->node_job || !f->node_job_rank ||
      !f->gpu_lot || !f->job_offset || !f->job_nodes) {
    fleet_destroy(&f);
    return FS_ENOMEM;
  }
  for (int i = 0; i < f->nodes; i++) {
    f->node_rack[i] = i / f->nodes_per_rack;
    f->node_job[i] = -1;
    f->node_job_rank[i] = -1;
  }
  uint64_t lot_key = rng_key(cfg->seed, RNG_STREAM_GPU_LOT, 0);
  for (long g = 0; g < (long)f->nodes * FLEET_GPUS; g++)
    f->gpu_lot[g] = (int32_t)(rng_bits(lot_key, (uint64_t)g) % (uint64_t)cfg->gpu_lots);
  fleet_assign_tenants(f);
  int rc = fleet_assign_jobs(f);
  if (rc) {
    fleet_destroy(&f);
    return rc;
  }
  *out = f;
  return 0;
}

void fleet_destroy(fleet **fp) {
  if (!fp || !*fp)
    return;
  fleet *f = *fp;
  free(f->node_tenant);
  free(f->node_rack);
  free(f->node_job);
  free(f->node_job_rank);
  free(f->gpu_lot);
  free(f->job_offset);
  free(f->job_nodes);
  free(f);
  *fp = NULL;
}
