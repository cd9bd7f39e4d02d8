/* The closed loop's state, shared by closed_loop.c (decisions and their
 * timing) and closed_loop_record.c (the outcome accounting and record).
 * Private to src/app. */
#ifndef FLEETSIM_CLOSED_LOOP_INTERNAL_H
#define FLEETSIM_CLOSED_LOOP_INTERNAL_H
#include "pipeline/score/checklist.h"
#include "src/app/closed_loop.h"

/* One decided action, waiting for or past its effect time. */
typedef struct {
  act_action a;
  double apply_s;   /* simulated seconds it takes effect (a block boundary) */
  int64_t seq;      /* the deciding call's (or scenario's) order: ties of apply_s */
  int idx;          /* position inside its decision */
  char call_id[24]; /* the deciding call; "" for the oracle */
  int applied;
} cl_action;

/* A backend call the loop waits for. */
typedef struct {
  char call_id[24];
  int64_t seq;
  double issue_s;     /* simulated time its context was written */
  double submit_wall; /* progress_now() when it was submitted */
} cl_pending;

struct cl_state {
  cl_policy policy;
  const fleet *f;
  const scn_set *scn;
  int root;
  mit_state *mit;
  double dt, block_s;
  chk_set *kn;          /* the kinds' knowledge: truth map (oracle), salads (nulls) */
  esc_backend *esc;     /* CL_BACKEND */
  cl_pending *pend;
  int npend, cappend;
  int64_t seq;          /* calls seen */
  llm_call *calls;      /* CL_NULL: the L3/L4 calls so far (their contexts owned) */
  int ncalls, capcalls;
  cl_action *q;         /* every decided action, in decision order */
  int nq, capq;
  unsigned char *remedied; /* CL_ORACLE: [scenarios] acted on */
  int decisions, rejected, late; /* answers with actions; entries not parsed; after the end */
  /* the outcome so far */
  double *job_steps, *job_lost; /* [njobs] */
  double tokens[TENANT_COUNT];
  double sla[TENANT_COUNT];     /* last value, ratio */
  double *gpu_s_out;            /* [nodes] */
  int64_t scrapes;              /* accounted */
};

#endif
