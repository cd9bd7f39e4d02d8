/* The release clock of paced escalation (see pace.h): due times of calls
 * from their simulated times, and the pace in words. Pure arithmetic. */
#include "pipeline/llm/pace.h"

#include <math.h>
#include <stdio.h>

#include "src/core/progress.h"

void pace_init(pace_clock *c, double pace) {
  c->pace = pace_valid(pace) ? pace : 0.0;
  c->t0_s = 0.0;
  c->wall0 = -1.0;
}

int pace_valid(double x) { return isfinite(x) && x > 0 && x <= PACE_MAX; }

void pace_start(pace_clock *c, double t_s, double now) {
  if (c->wall0 >= 0)
    return;
  c->t0_s = t_s;
  c->wall0 = now;
}

double pace_elapsed_s(const pace_clock *c, double now) {
  return c->wall0 >= 0 && now > c->wall0 ? now - c->wall0 : 0.0;
}

double pace_due_s(const pace_clock *c, double t_s) {
  if (c->pace <= 0 || c->wall0 < 0 || !(t_s > c->t0_s))
    return 0.0;
  return (t_s - c->t0_s) / c->pace;
}

void pace_describe(double pace, char *buf, size_t cap) {
  char day[32];
  double wall = pace_wall_s(86400.0, pace);
  if (wall < 60)
    snprintf(day, sizeof day, "%.3g s", wall);
  else
    progress_hms(wall, day, sizeof day);
  snprintf(buf, cap, "%.6g (a simulated day in %s)", pace, day);
}

double pace_wall_s(double sim_span_s, double pace) {
  return pace_valid(pace) && sim_span_s > 0 ? sim_span_s / pace : 0.0;
}
