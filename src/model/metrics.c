/* Descriptor tables generated from the X-macro lists in metrics.h, and
 * which nodes report which node metric. */
#include "src/model/metrics.h"

#include <string.h>

#include "src/model/fleet.h"

/* The tenant mask of a reporter mask: the idle pool is training's. */
#define METRIC_TENANTS(rm) (((rm) & TM_ALL) | (((rm) & RM_POOL) ? TM_TRAIN : 0u))

#define METRIC_GPU_DEF(e, n, u, l, d, t) [e] = {n, u, l, d, t, TM_ALL, RM_ALL},
const metric_def metric_gpu[GM_COUNT] = {GPU_METRICS(METRIC_GPU_DEF)};
#undef METRIC_GPU_DEF

#define METRIC_NODE_DEF(e, n, u, l, rm, t) [e] = {n, u, l, NULL, t, METRIC_TENANTS(rm), rm},
const metric_def metric_node[NM_COUNT] = {NODE_METRICS(METRIC_NODE_DEF)};
#undef METRIC_NODE_DEF

#define METRIC_CLUSTER_DEF(e, n, u, l) [e] = {n, u, l, NULL, MT_F32, TM_ALL, RM_ALL},
const metric_def metric_cluster[CM_COUNT] = {CLUSTER_METRICS(METRIC_CLUSTER_DEF)};
#undef METRIC_CLUSTER_DEF

_Static_assert(TM_MOE == 1u << TENANT_MOE && TM_DENSE == 1u << TENANT_DENSE &&
                   TM_TRAIN == 1u << TENANT_TRAINING,
               "tenant bit k is tenant k of fleet.h");

int metric_is_counter(const metric_def *m) {
  size_t n = strlen(m->name);
  return n > 6 && strcmp(m->name + n - 6, "_total") == 0;
}

unsigned metric_reporter(int tenant, int job) {
  if (tenant == TENANT_TRAINING)
    return job >= 0 ? RM_JOB : RM_POOL;
  return tenant == TENANT_MOE ? RM_MOE : RM_DENSE;
}
