/* Descriptor tables generated from the X-macro lists in metrics.h. */
#include "src/model/metrics.h"

#include <string.h>

#define METRIC_GPU_DEF(e, n, u, l, d, t) [e] = {n, u, l, d, t, TM_ALL,},
const metric_def metric_gpu[GM_COUNT] = {GPU_METRICS(METRIC_GPU_DEF)};
#undef METRIC_GPU_DEF

#define METRIC_NODE_DEF(e, n, u, l, tm, t) [e] = {n, u, l, NULL, t, tm,},
const metric_def metric_node[NM_COUNT] = {NODE_METRICS(METRIC_NODE_DEF)};
#undef METRIC_NODE_DEF

#define METRIC_CLUSTER_DEF(e, n, u, l) [e] = {n, u, l, NULL, MT_F32, TM_ALL,},
const metric_def metric_cluster[CM_COUNT] = {CLUSTER_METRICS(METRIC_CLUSTER_DEF)};
#undef METRIC_CLUSTER_DEF

int metric_is_counter(const metric_def *m) {
  size_t n = strlen(m->name);
  return n > 6 && strcmp(m->name + n - 6, "_total") == 0;
}
