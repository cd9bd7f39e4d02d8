/* One closed-loop twin's record, DIR/closed_loop/<policy>.json (written by
 * `run --closed-loop`, one per policy), read and validated against the
 * fleet for outcome scoring (outcomes.h). docs/scoring.md, "Outcome
 * scoring", has the format; every field is required. */
#ifndef FLEETSIM_OUTCOMES_RECORD_H
#define FLEETSIM_OUTCOMES_RECORD_H

#include "pipeline/llm/llm_spec.h"
#include "src/core/paths.h"
#include "src/model/actions.h"
#include "src/model/fleet.h"

/* The policies' roles, in the order outcome tables list them. */
/* The longest policy name: a backend's name. */
enum { OC_NAME_MAX = LLM_SPEC_NAME_LEN - 1 };

typedef enum {
  OC_FAULT_FREE, /* no scenarios, nothing acts: the baseline */
  OC_NO_ACTION,  /* scenarios, nothing acts */
  OC_ORACLE,     /* applies each scenario's oracle remedy at its first detection */
  OC_BACKEND,    /* the run's backend's L3/L4 answers' actions */
  OC_NULL,       /* a null operator of the calibration suite */
  OC_ROLE_COUNT
} oc_role;

/* "fault-free", "no-action", "oracle", "backend", "null" (NULL out of range). */
const char *oc_role_name(oc_role r);

typedef struct {
  double gpus, step_time_s, steps, steps_lost;
} oc_job;

typedef struct {
  int node;
  double gpu_s;
} oc_out;

typedef struct {
  double t_s;
  act_action a;
} oc_act;

typedef struct {
  char policy[OC_NAME_MAX + 1];
  oc_role role;
  char about[256];
  double hours, scrape_interval_s, latency_pace;
  oc_job *jobs; /* [f->njobs], by the fleet's job index: every job once */
  double tokens[TENANT_COUNT], sla_left[TENANT_COUNT]; /* every tenant once */
  oc_out *out;                                         /* [nout] */
  int nout;
  oc_act *acts; /* [nacts], in the record's order */
  int nacts;
  int decisions, rejected;
} oc_record;

/* Reads path, the record of policy `stem`, against fleet f (its jobs,
 * tenants, nodes, hours and scrape interval) into *out. A file that is not
 * valid JSON, or a field that is missing, of the wrong type, out of range
 * or not the fleet's, is one message in diag naming the file and the field
 * ("DIR/closed_loop/rules.json: field 'jobs[1].steps': missing or not a
 * number"); a missing file one naming the file. 0, FS_EINVAL, FS_EIO or
 * FS_ENOMEM. */
int oc_record_read(const char *path, const char *stem, const fleet *f, oc_record *out);

/* Frees what oc_record_read allocated and zeroes *r; accepts a zeroed one. */
void oc_record_free(oc_record *r);

#endif
