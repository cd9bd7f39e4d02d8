/* Facts of an L4 shift context that a report must state and a scorer
 * checks: which tenant's SLA budget burned fast in the window, and which
 * training job was degraded. Derived from the context's own tables (the
 * telemetry an operator sees), so the rules reference, the scorer and the
 * calibration oracle read them the same way. No ground truth. */
#ifndef FLEETSIM_SHIFT_FACTS_H
#define FLEETSIM_SHIFT_FACTS_H
#include <jansson.h>

/* 1 when tenant's SLA budget (ctx.sla_budget_remaining[tenant].burned over
 * window.hours) burned faster than 1.5 times the window's steady pace: the
 * slowest hourly burn of any tenant in ctx.hourly (columns sla_<tenant's
 * first word>). 0 otherwise, also when the context lacks the figures. */
int sf_sla_fast(const json_t *ctx, const char *tenant);

/* 1 when a training_jobs entry's worst step time in the window
 * (step_ms_window_max) is more than 3% above its baseline_step_ms. */
int sf_job_degraded(const json_t *job);

#endif
