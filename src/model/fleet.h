/* Fleet topology: racks, rows (one CRAH each), tenants mixed inside racks,
 * training jobs laid over consecutive training nodes (so each spans several
 * racks), and a silicon lot for every GPU. Pure function of the config. */
#ifndef FLEETSIM_FLEET_H
#define FLEETSIM_FLEET_H
#include <stdint.h>

#include "src/model/config.h"

enum { FLEET_GPUS = 8, FLEET_GPU_HBM_BYTES_GB = 80 };

typedef enum { TENANT_MOE = 0, TENANT_DENSE = 1, TENANT_TRAINING = 2, TENANT_COUNT } fleet_tenant;

typedef struct {
  const fs_config *cfg;  /* borrowed; must outlive the fleet */
  int nodes, racks, nodes_per_rack, racks_per_row, rows, njobs;
  uint8_t *node_tenant;   /* [nodes] fleet_tenant */
  int32_t *node_rack;     /* [nodes] */
  int32_t *node_job;      /* [nodes] job index or -1 (idle pool / inference) */
  int32_t *node_job_rank; /* [nodes] position inside its job or -1 */
  int32_t *gpu_lot;       /* [nodes * FLEET_GPUS] silicon lot id */
  int32_t *job_offset;    /* [njobs + 1] start of each job in job_nodes */
  int32_t *job_nodes;     /* global node indices of each job, in job order */
} fleet;

/* Builds the topology for a validated config. Returns 0, FS_ENOMEM, or
 * FS_ECONFIG (with the reason in diag) if the jobs cannot be placed. */
int fleet_init(fleet **out, const fs_config *cfg);

/* Frees the fleet; accepts NULL and clears the pointer. */
void fleet_destroy(fleet **f);

/* "moe-inference", "dense-inference" or "training". */
const char *fleet_tenant_name(int tenant);

/* Identifier-safe tenant name: "moe_inference", "dense_inference", "training". */
const char *fleet_tenant_key(int tenant);

/* Rack row (and so CRAH unit) of a rack. */
static inline int fleet_rack_row(const fleet *f, int rack) { return rack / f->racks_per_row; }

/* Position of a node inside its rack, 0 = bottom slot. */
static inline int fleet_rack_slot(const fleet *f, int node) { return node % f->nodes_per_rack; }

#endif
