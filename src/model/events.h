/* L1 events: the record the detector produces on every rank (candidates),
 * the root aggregates (node, job, rack and cluster scope) and the archive
 * stores in /events/l1. Plain data, fixed size, so it can travel through MPI
 * as bytes. Evidence only, never ground truth. */
#ifndef FLEETSIM_EVENTS_H
#define FLEETSIM_EVENTS_H
#include <stdint.h>

typedef enum { EV_SCOPE_GPU, EV_SCOPE_NODE, EV_SCOPE_RACK, EV_SCOPE_JOB, EV_SCOPE_CLUSTER,
               EV_SCOPE_COUNT } ev_scope;

enum { EV_METRIC_LEN = 48, EV_COOCCUR = 5 };

/* One anomalous feature: a metric of a node (or one of its GPUs). */
typedef struct {
  char metric[EV_METRIC_LEN]; /* Prometheus name, e.g. "gpu_temp_celsius" */
  int16_t gpu;                /* GPU index, -1 for node metrics */
  float z;                    /* deviation in robust standard deviations */
  float value;                /* the node's value over the detection block */
  float baseline;             /* what it was compared with (peer median or trend) */
} ev_signal;

typedef struct {
  int64_t event_id;   /* 0.. in order of emission (root) */
  double t_s;         /* end of the detection block, seconds */
  int32_t step;       /* detection step index */
  ev_scope scope;
  int32_t node;       /* most anomalous node of the event (global index) */
  int32_t rack;
  int32_t job;        /* job index or -1 */
  int32_t tenant;     /* fleet_tenant of `node` */
  int32_t nodes;      /* anomalous nodes folded into this event */
  ev_signal top;      /* the triggering signal (largest |z|) */
  ev_signal cooccur[EV_COOCCUR]; /* further anomalous signals of `node` */
  int32_t ncooccur;
  float trend_z;      /* class-level (tenant or job) rate-of-change z, 0 if none */
  int32_t escalated;  /* detector-driven escalation flag */
  char escalation_reason[EV_METRIC_LEN]; /* "job_scope", "rack_scope", the metric or "any_z" */
} ev_event;

/* "gpu", "node", "rack", "job", "cluster". */
const char *ev_scope_name(ev_scope s);

#endif
