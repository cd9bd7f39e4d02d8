/* Facts of an L4 shift context (see shift_facts.h). */
#include "pipeline/llm/shift_facts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double sf_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The slowest hourly burn of any tenant in ctx.hourly, or INFINITY. */
static double sf_steady_per_hour(const json_t *ctx) {
  const json_t *sla = json_object_get(ctx, "sla_budget_remaining");
  const json_t *hourly = json_object_get(ctx, "hourly"), *cols = json_object_get(hourly, "columns");
  const json_t *rows = json_object_get(hourly, "rows");
  double steady = INFINITY;
  const char *tenant;
  json_t *v;
  json_object_foreach((json_t *)sla, tenant, v) {
    char col[40];
    snprintf(col, sizeof col, "sla_%.*s", (int)strcspn(tenant, "-"), tenant);
    for (size_t c = 0; c < json_array_size(cols); c++) {
      const char *name = json_string_value(json_array_get(cols, c));
      if (!name || strcmp(name, col) != 0)
        continue;
      for (size_t r = 1; r < json_array_size(rows); r++) {
        json_t *a = json_array_get(json_array_get(rows, r - 1), c);
        json_t *b = json_array_get(json_array_get(rows, r), c);
        double d = json_number_value(a) - json_number_value(b);
        if (json_is_number(a) && json_is_number(b) && d >= 0 && d < steady)
          steady = d;
      }
    }
  }
  return steady;
}

int sf_sla_fast(const json_t *ctx, const char *tenant) {
  double hours = sf_num(json_object_get(ctx, "window"), "hours");
  double burned = sf_num(json_object_get(json_object_get(ctx, "sla_budget_remaining"), tenant),
                         "burned");
  double steady = sf_steady_per_hour(ctx);
  return isfinite(steady) && hours > 0 && isfinite(burned) && burned / hours > 1.5 * steady + 1e-6;
}

int sf_job_degraded(const json_t *job) {
  double worst = sf_num(job, "step_ms_window_max"), base = sf_num(job, "baseline_step_ms");
  return base > 0 && worst > 1.03 * base;
}
