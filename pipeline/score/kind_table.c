/* The per-kind tables (see kind_table.h): detection and strict accuracy of
 * every fault kind that has a scenario in the run, from detection.json and
 * the scorer's summary. */
#include "pipeline/score/kind_table.h"

#include <math.h>
#include <string.h>

#include "scenarios/scenario.h"
#include "src/core/errors.h"

/* Calls and their strict mean over the by_scenario rows of one layer whose
 * kind is `kind` (the mean of the per-scenario accuracies weighted by
 * calls). */
static json_t *ktab_layer(const json_t *layer, const char *kind) {
  double sum = 0;
  long long calls = 0;
  const json_t *rows = json_object_get(layer, "by_scenario");
  for (size_t i = 0; i < json_array_size(rows); i++) {
    const json_t *r = json_array_get(rows, i);
    const char *k = json_string_value(json_object_get(r, "kind"));
    long long c = (long long)json_integer_value(json_object_get(r, "calls"));
    double a = json_number_value(json_object_get(r, "accuracy"));
    if (!k || strcmp(k, kind) != 0 || c <= 0 || !isfinite(a))
      continue;
    sum += a * (double)c;
    calls += c;
  }
  return json_pack("{s:I,s:o}", "calls", (json_int_t)calls, "strict_mean",
                   calls > 0 ? json_real(sum / (double)calls) : json_null());
}

json_t *ktab_json(const json_t *detection, const json_t *summary) {
  json_t *kinds = json_array(), *root = json_pack("{s:o}", "kinds", kinds);
  if (!root)
    return NULL;
  const json_t *sc = json_object_get(detection, "scenarios");
  const json_t *backends = json_object_get(summary, "backends");
  int bad = 0;
  for (int k = 0; k < SK_COUNT && !bad; k++) {
    const char *name = scn_kind_name((scn_kind)k);
    int n = 0, det = 0, loc = 0;
    double lat = 0;
    for (size_t i = 0; i < json_array_size(sc); i++) {
      const json_t *x = json_array_get(sc, i);
      const char *xk = json_string_value(json_object_get(x, "kind"));
      if (!xk || strcmp(name, xk) != 0)
        continue;
      n++;
      if (json_is_true(json_object_get(x, "detected"))) {
        det++;
        lat += json_number_value(json_object_get(x, "first_detection_latency_s"));
      }
      loc += json_is_true(json_object_get(x, "localized"));
    }
    if (n == 0)
      continue;
    json_t *bl = json_array();
    for (size_t i = 0; bl && i < json_array_size(backends); i++) {
      const json_t *b = json_array_get(backends, i), *layers = json_object_get(b, "layers");
      const char *bn = json_string_value(json_object_get(b, "name"));
      json_t *o = json_pack("{s:s,s:o,s:o}", "name", bn ? bn : "?", "L2",
                            ktab_layer(json_object_get(layers, "L2"), name), "L3",
                            ktab_layer(json_object_get(layers, "L3"), name));
      if (!o || json_array_append_new(bl, o))
        bad = 1;
    }
    json_t *row = bl ? json_pack("{s:s,s:i,s:i,s:i,s:o,s:o}", "kind", name, "scenarios", n,
                                 "detected", det, "localized", loc,
                                 "first_detection_latency_s_mean",
                                 det > 0 ? json_real(lat / det) : json_null(), "backends", bl)
                     : NULL;
    if (!row || json_array_append_new(kinds, row))
      bad = 1;
  }
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

/* "93%" of a strict mean, "n/a" without calls. */
static const char *ktab_pct(const json_t *layer, char *buf, size_t cap) {
  const json_t *m = json_object_get(layer, "strict_mean");
  if (!json_is_number(m))
    return "n/a";
  snprintf(buf, cap, "%.0f%% (%lld)", 100.0 * json_number_value(m),
           (long long)json_integer_value(json_object_get(layer, "calls")));
  return buf;
}

int ktab_markdown(FILE *out, const json_t *kinds) {
  const json_t *rows = json_object_get(kinds, "kinds");
  const json_t *first = json_object_get(json_array_get(rows, 0), "backends");
  fprintf(out, "\n## By Fault Kind\n\nPer kind: scenarios, L1 detected and localized, mean first "
               "detection latency, and each backend's strict L2 and L3 accuracy over the calls "
               "about them (number of calls in parentheses).\n\n| Kind | Scenarios | Detected | "
               "Localized | First detection (min) |");
  for (size_t b = 0; b < json_array_size(first); b++) {
    const char *name = json_string_value(json_object_get(json_array_get(first, b), "name"));
    fprintf(out, " %s L2 | %s L3 |", name, name);
  }
  fprintf(out, "\n|---|---|---|---|---|");
  for (size_t b = 0; b < json_array_size(first); b++)
    fprintf(out, "---|---|");
  fprintf(out, "\n");
  for (size_t i = 0; i < json_array_size(rows); i++) {
    const json_t *r = json_array_get(rows, i);
    const json_t *lat = json_object_get(r, "first_detection_latency_s_mean");
    char l[32] = "-";
    if (json_is_number(lat))
      snprintf(l, sizeof l, "%.1f", json_number_value(lat) / 60.0);
    fprintf(out, "| %s | %lld | %lld | %lld | %s |", json_string_value(json_object_get(r, "kind")),
            (long long)json_integer_value(json_object_get(r, "scenarios")),
            (long long)json_integer_value(json_object_get(r, "detected")),
            (long long)json_integer_value(json_object_get(r, "localized")), l);
    const json_t *bl = json_object_get(r, "backends");
    for (size_t b = 0; b < json_array_size(bl); b++) {
      char x[32], y[32];
      const json_t *o = json_array_get(bl, b);
      fprintf(out, " %s | %s |", ktab_pct(json_object_get(o, "L2"), x, sizeof x),
              ktab_pct(json_object_get(o, "L3"), y, sizeof y));
    }
    fprintf(out, "\n");
  }
  return ferror(out) ? FS_EIO : 0;
}
