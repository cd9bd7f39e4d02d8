/* Context reading for the rules backend (see rules_read.h). */
#include "pipeline/llm/rules_read.h"

#include <math.h>

const char *rr_str(const json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

double rr_num(const json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}
