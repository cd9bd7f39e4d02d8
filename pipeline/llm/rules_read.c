/* Context reading for the rules backend (see rules_read.h). */
#include "pipeline/llm/rules_read.h"

#include <math.h>
#include <string.h>

const char *rr_str(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

double rr_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

double rr_signal(const json_t *event, const char *metric, double *z_signed) {
  double best = 0, signed_z = 0;
  json_t *trig = json_object_get(event, "trigger"), *co = json_object_get(event, "cooccurring");
  size_t n = 1 + json_array_size(co);
  for (size_t i = 0; i < n; i++) {
    json_t *s = i == 0 ? trig : json_array_get(co, i - 1);
    if (!s || strcmp(rr_str(s, "metric"), metric) != 0)
      continue;
    double z = rr_num(s, "z");
    if (isfinite(z) && fabs(z) > best) {
      best = fabs(z);
      signed_z = z;
    }
  }
  if (z_signed)
    *z_signed = signed_z;
  return best;
}

void rr_series_get(const json_t *ctx, const char *metric, int peer, rr_series *out) {
  json_t *tl = json_object_get(ctx, "timeline");
  json_t *minutes = json_object_get(tl, "minutes_from_event");
  json_t *vals = json_object_get(json_object_get(json_object_get(tl, "series"), metric),
                                 peer ? "peer_median" : "node");
  out->n = 0;
  for (size_t i = 0; i < json_array_size(vals) && i < json_array_size(minutes); i++) {
    json_t *v = json_array_get(vals, i);
    if (!json_is_number(v) || out->n == RR_SERIES_MAX)
      continue;
    out->v[out->n] = json_number_value(v);
    out->minute[out->n++] = (int)json_integer_value(json_array_get(minutes, i));
  }
}

int rr_series_extreme(const rr_series *s, int most) {
  int best = -1;
  for (int i = 0; i < s->n; i++)
    if (best < 0 || (most ? s->v[i] > s->v[best] : s->v[i] < s->v[best]))
      best = i;
  return best;
}

int rr_series_now(const rr_series *s) {
  int now = s->n - 1;
  for (int i = 0; i < s->n; i++)
    if (s->minute[i] <= 0)
      now = i;
  return now;
}

void rr_node_metric(const json_t *ctx, const char *metric, double *value, double *peer) {
  json_t *m = json_object_get(json_object_get(json_object_get(ctx, "node"), "metrics"), metric);
  *value = rr_num(m, "value");
  *peer = rr_num(m, "peer_median");
}

int rr_table_col(const json_t *table, const char *name) {
  json_t *cols = json_object_get(table, "columns");
  for (size_t i = 0; i < json_array_size(cols); i++)
    if (strcmp(json_string_value(json_array_get(cols, i)) ? json_string_value(json_array_get(cols, i)) : "", name) == 0)
      return (int)i;
  return -1;
}

double rr_cell_num(const json_t *table, size_t row, int col) {
  json_t *v = json_array_get(json_array_get(json_object_get(table, "rows"), row), (size_t)col);
  return col >= 0 && json_is_number(v) ? json_number_value(v) : NAN;
}

const char *rr_cell_str(const json_t *table, size_t row, int col) {
  json_t *v = json_array_get(json_array_get(json_object_get(table, "rows"), row), (size_t)col);
  return col >= 0 && json_is_string(v) ? json_string_value(v) : "";
}

rr_family rr_family_of_metric(const char *m) {
  static const struct {
    const char *part;
    rr_family f;
  } map[] = {{"inlet_temp", RR_THERMAL},       {"thermal_violation", RR_THERMAL},
             {"expert_selection", RR_ROUTING}, {"ecc_", RR_HBM},
             {"remapped_rows", RR_HBM},        {"ib_port", RR_FABRIC},
             {"rdma_retransmits", RR_FABRIC},  {"kv_cache", RR_KV},
             {"prompt_tokens", RR_KV},         {"nvlink_replay", RR_STRAGGLER},
             {"nvlink_crc", RR_STRAGGLER},     {"nvlink_recovery", RR_STRAGGLER}};
  for (size_t i = 0; m && i < sizeof map / sizeof map[0]; i++)
    if (strstr(m, map[i].part))
      return map[i].f;
  return RR_NONE;
}

const char *rr_family_label(rr_family f) {
  static const char *const labels[] = {"No known failure signature", "Cooling failure",
                                       "MoE expert routing collapse", "HBM degradation",
                                       "InfiniBand fabric microbursts", "KV cache eviction storm",
                                       "Training straggler"};
  return labels[f];
}
