/* The closed loop of a run (`run --closed-loop`): who decides what the fleet
 * does (one policy per twin run: the run's backend, the oracle, a null
 * operator, or nobody), when each decision takes effect, and what follows
 * from it. The printing rank turns answers into timed actions (a backend's
 * L3/L4 answers through the escalation engine's decider, a null operator's
 * answers computed in-process from the same contexts, the oracle's remedies
 * from ground truth at a scenario's first detection); before every window
 * the actions due are broadcast and every rank lays them over the fault
 * drivers (src/model/mitigation.h). The printing rank also accounts the
 * twin's outcome (training steps, tokens, SLA budgets, capacity out of
 * service) and writes it as DIR/closed_loop/<policy>.json for the outcome
 * scoring (pipeline/score/outcomes.h).
 *
 * Timing: a call's decision is due at its issue time (when its context is
 * written: an L3 context 30 simulated minutes after its event, an L4 at
 * the end of its window) plus the call's wall time from submission to
 * answer, counted at CL_LATENCY_PACE simulated seconds per wall second
 * (real time); it takes effect at the first detection-block boundary
 * (5 min) after it is due. The run waits at each boundary for every answer
 * that could still be due before it. The decision (due and effect times,
 * actions, rejected entries) goes into the backend's transcript line, and
 * a replay of that transcript takes the recorded effect times, so it
 * reproduces the run bit-identically at any rank count. */
#ifndef FLEETSIM_CLOSED_LOOP_H
#define FLEETSIM_CLOSED_LOOP_H
#include <stdint.h>

#include "pipeline/detect/contexts_file.h"
#include "pipeline/llm/escalate.h"
#include "scenarios/scenario.h"
#include "src/model/events.h"
#include "src/model/mitigation.h"

/* Simulated seconds per wall second of a call's latency. */
#define CL_LATENCY_PACE 1.0

/* Who decides in a twin. */
typedef enum {
  CL_BACKEND,    /* the run's one backend: its L3/L4 answers' actions */
  CL_FAULT_FREE, /* no scenarios; nobody acts (the reference for losses) */
  CL_NO_ACTION,  /* the scenarios; nobody acts */
  CL_ORACLE,     /* each scenario's remedy on its ground truth at its first detection */
  CL_NULL        /* a calibration null operator (pipeline/score/calibration.h) */
} cl_role;

enum { CL_NAME_LEN = LLM_SPEC_NAME_LEN };

typedef struct {
  cl_role role;
  char name[CL_NAME_LEN]; /* the record's file stem: "rules", "oracle", "salad", ... */
  int null_op;            /* cal_operator, for CL_NULL */
  const char *record_dir; /* where <name>.json goes (DIR/closed_loop) */
} cl_policy;

/* "backend", "fault-free", "no-action", "oracle", "null". */
const char *cl_role_name(cl_role r);

typedef struct cl_state cl_state;

/* The closed loop of one twin, on every rank: policy p (borrowed), the
 * fleet f and the scenarios (ground truth, read only by the oracle and the
 * outcome accounting; borrowed). 0, FS_ENOMEM or FS_EINVAL (the kinds'
 * knowledge did not load: diag). */
int cl_init(cl_state **out, const cl_policy *p, const fleet *f, const scn_set *scenarios);

/* Frees the state; accepts NULL and clears the pointer. */
void cl_destroy(cl_state **c);

/* Printing rank, CL_BACKEND: makes b (the run's backend) report every
 * finished call to the loop (esc_set_decider). */
void cl_attach(cl_state *c, esc_backend *b);

/* Printing rank: call `call` (any layer) was written at simulated time
 * issue_s and is about to be submitted. L3/L4 calls of a backend are
 * awaited; a null operator answers them now. 0, FS_ENOMEM or an FS_* code
 * of the null operator. */
int cl_on_call(cl_state *c, const llm_call *call, double issue_s);

/* Printing rank: events [first, n) of ev were raised by the detection step
 * ending at t_end (seconds). The oracle acts on a scenario's first one.
 * 0 or FS_ENOMEM. */
int cl_on_events(cl_state *c, const ev_event *ev, int first, int n, double t_end);

/* Collective, before the window starting at scrape t0: the printing rank
 * waits for the answers that may be due by then, and every rank applies
 * the actions that take effect at t0. 0 or an FS_* code on every rank. */
int cl_boundary(cl_state *c, int64_t t0);

/* Per scrape, after the fault injectors: the actions' effects on the local
 * nodes' and the jobs' drivers (mit_drive). 1 when it changed any. */
int cl_drive(const cl_state *c, int64_t t, int node0, int nnodes, tel_drivers *d,
             tel_job_drivers *jd);

/* Printing rank, after the window of scrapes [t0, t0 + rows): adds its
 * outcome (job_max_ms[row * njobs + j]: each job's step time in ms;
 * cluster[m][row]: the cluster metrics). */
void cl_account(cl_state *c, int64_t t0, int rows, const double *job_max_ms,
                float *const *cluster);

/* Printing rank: writes record_dir/<name>.json (the outcome record of
 * docs/closed-loop.md). 0, FS_EIO (path in diag) or FS_ENOMEM. */
int cl_write_record(const cl_state *c);

#endif
