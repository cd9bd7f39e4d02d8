/* Paced release of LLM calls (`--pace X`): the clock that holds each call
 * until the wall time since the first release reaches (its simulated t_s -
 * the first call's t_s) / X, so that the calls arrive spread as the events
 * were (X = 1: real time; X = 60: a simulated day in 24 minutes). Clock
 * arithmetic and its wording only: no I/O, no waiting (the escalation engine
 * waits, pipeline/llm/escalate.c). */
#ifndef FLEETSIM_PACE_H
#define FLEETSIM_PACE_H
#include <stddef.h>

enum { PACE_TEXT_LEN = 96 };

/* The largest pace accepted: beyond it every call is due at once anyway. */
#define PACE_MAX 1e9

/* One engine's release clock. pace 0: not paced (every call is due at once). */
typedef struct {
  double pace;  /* X: simulated seconds per wall second; 0 = not paced */
  double t0_s;  /* simulated t_s of the first call released */
  double wall0; /* monotonic seconds of the first release; < 0 before it */
} pace_clock;

/* A clock for pace X (0: not paced); nothing released yet. */
void pace_init(pace_clock *c, double pace);

/* 1 when x is a pace the engine accepts: finite, > 0 and <= PACE_MAX. */
int pace_valid(double x);

/* Starts the clock with the first call (simulated t_s, wall time now); a
 * started clock is left as it is. */
void pace_start(pace_clock *c, double t_s, double now);

/* Wall seconds since the first release (0 before it). */
double pace_elapsed_s(const pace_clock *c, double now);

/* Wall seconds after the first release at which a call of simulated time
 * t_s is due: max(0, (t_s - t0_s) / pace); 0 when not paced or not started.
 * E.g. pace 60, t0_s 1200, t_s 4800: 60 s. */
double pace_due_s(const pace_clock *c, double t_s);

/* The pace in words for summaries: "1440 (a simulated day in 0:01:00)". */
void pace_describe(double pace, char *buf, size_t cap);

/* Wall seconds that releasing calls spread over sim_span_s simulated
 * seconds takes at pace X (sim_span_s / X). */
double pace_wall_s(double sim_span_s, double pace);

#endif
