/* An answer's actions parsed against the fleet (see llm_actions.h): the
 * schema's validated list, each entry through act_parse. */
#include "pipeline/llm/llm_actions.h"

#include <jansson.h>
#include <stdio.h>

#include "pipeline/llm/llm_schema.h"
#include "src/core/errors.h"

int llm_answer_actions(const char *answer_text, int layer, const fleet *f, act_action *out,
                       int max, int *n, char *why, size_t len) {
  *n = 0;
  if (why && len > 0)
    why[0] = '\0';
  char whybuf[256] = "";
  json_t *list = llm_answer_action_list(layer, answer_text, whybuf, sizeof whybuf);
  if (!list) {
    if (why && len > 0)
      snprintf(why, len, "%s", whybuf);
    return FS_EINVAL;
  }
  int skipped = 0;
  for (size_t i = 0; i < json_array_size(list); i++) {
    const json_t *e = json_array_get(list, i);
    const char *name = json_string_value(json_object_get(e, "action"));
    const char *target = json_string_value(json_object_get(e, "target"));
    char r[200] = "";
    act_action a;
    if (*n >= max)
      snprintf(r, sizeof r, "more than %d actions", max);
    else if (act_parse(f, name, target, &a, r, sizeof r) == 0)
      out[(*n)++] = a;
    if (r[0] && skipped++ == 0 && why && len > 0)
      snprintf(why, len, "actions[%zu]: %s", i, r);
  }
  json_decref(list);
  return skipped;
}
