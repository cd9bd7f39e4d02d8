/* Fits the built-in scenario file to the length of a run: the scenarios that
 * start at or after its end are dropped, with one notice line each, so that
 * a short run with the defaults just works. A user's own file is never
 * passed through here: scn_parse checks it strictly. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

/* Appends a printf-style line to the malloc'd string *s. 0 or FS_ENOMEM. */
static int scn_fit_append(char **s, const char *line) {
  size_t old = *s ? strlen(*s) : 0, n = strlen(line);
  char *p = realloc(*s, old + n + 1);
  if (!p)
    return FS_ENOMEM;
  memcpy(p + old, line, n + 1);
  *s = p;
  return 0;
}

int scn_fit_run(const char *text, double hours, char **out, char **notices) {
  *out = NULL;
  *notices = NULL;
  json_error_t err;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
  json_t *list = root ? json_object_get(root, "scenarios") : NULL;
  if (!json_is_array(list)) {
    diag_addf("built-in scenarios: not a scenario file (line %d: %s)", err.line, err.text);
    json_decref(root);
    return FS_ESCENARIO;
  }
  int rc = 0, dropped = 0;
  char *kept = NULL;
  size_t i;
  json_t *s;
  json_array_foreach(list, i, s) {
    json_t *start = json_object_get(s, "start_h"), *id = json_object_get(s, "id");
    if (json_is_number(start) && json_is_string(id) && !(json_number_value(start) < hours)) {
      long min = lround(json_number_value(start) * 60.0);
      char line[256];
      snprintf(line, sizeof line, "fleetsim: %.32s at %02ld:%02ld is outside a %g h run: left out\n",
               json_string_value(id), min / 60, min % 60, hours);
      rc = scn_fit_append(notices, line);
      dropped++;
    } else {
      char *one = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
      rc = !one ? FS_ENOMEM : scn_fit_append(&kept, kept ? ",\n  " : "\n  ");
      if (rc == 0)
        rc = scn_fit_append(&kept, one);
      free(one);
    }
    if (rc)
      break;
  }
  if (rc == 0 && dropped == 0) {
    *out = strdup(text);
  } else if (rc == 0) {
    size_t n = (kept ? strlen(kept) : 0) + 32;
    if ((*out = malloc(n)))
      snprintf(*out, n, "{\"scenarios\": [%s%s]}\n", kept ? kept : "", kept ? "\n" : "");
  }
  if (rc == 0 && !*out)
    rc = FS_ENOMEM;
  if (rc) {
    free(*notices);
    *notices = NULL;
  }
  free(kept);
  json_decref(root);
  return rc;
}
