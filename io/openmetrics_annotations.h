/* The annotation families of `fleetsim export`: the archive's ground truth
 * (/ground_truth) and L1 events (/events/l1) read as plain rows, which
 * io/openmetrics.c writes as fleetsim_scenario_active and fleetsim_l1_event
 * series (Grafana annotations over the telemetry). Reading only; for io/. */
#ifndef FLEETSIM_OPENMETRICS_ANNOTATIONS_H
#define FLEETSIM_OPENMETRICS_ANNOTATIONS_H
#include <hdf5.h>
#include <stdint.h>

#include "src/model/events.h"

/* Family names of the two annotation series. */
#define OM_SCENARIO_FAMILY "fleetsim_scenario_active"
#define OM_EVENT_FAMILY "fleetsim_l1_event"

enum { OM_SCN_ID_LEN = 33, OM_SCN_KIND_LEN = 64, OM_SCN_NODES_LEN = 160, OM_EV_SCOPE_LEN = 9 };

/* One ground-truth scenario. */
typedef struct {
  char id[OM_SCN_ID_LEN];       /* "S1" */
  char kind[OM_SCN_KIND_LEN];   /* "thermal_cascade" */
  double start_s, end_s;        /* active over [start_s, end_s) */
  char nodes[OM_SCN_NODES_LEN]; /* root-cause nodes "node-0012,node-0013" ("" none; a
                                   list too long ends in ",...") */
} om_scenario;

/* The fields of one L1 event that its series carries. */
typedef struct {
  int64_t event_id;
  double t_s; /* end of the detection block */
  char scope[OM_EV_SCOPE_LEN];
  char metric[EV_METRIC_LEN];
  int32_t node, rack, job, gpu, escalated;
} om_event;

/* Reads /ground_truth/scenarios and each scenario's root-cause nodes of the
 * open archive `file` (`path` for messages) into a new array *out of *n
 * rows (an archive without ground truth gives 0 rows). 0, FS_EHDF5 with a
 * message in diag naming the path and the dataset, or FS_ENOMEM. */
int om_read_scenarios(hid_t file, const char *path, om_scenario **out, int *n);

/* Reads /events/l1 of the open archive `file` into a new array *out of *n
 * rows, in event order (no table: 0 rows). 0, FS_EHDF5 or FS_ENOMEM. */
int om_read_events(hid_t file, const char *path, om_event **out, int *n);

#endif
