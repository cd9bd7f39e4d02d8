/* Reading and writing DIR/llm/contexts.jsonl (see contexts_file.h). */
#include "pipeline/contexts_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "src/diag.h"
#include "src/errors.h"

const char *llm_layer_name(llm_layer l) {
  return l == LLM_L2 ? "L2" : (l == LLM_L3 ? "L3" : "L4");
}

void llm_call_id(llm_call *c, llm_layer layer, int64_t id) {
  c->layer = layer;
  if (layer == LLM_L4)
    snprintf(c->call_id, sizeof c->call_id, "L4-%02lld", (long long)id);
  else
    snprintf(c->call_id, sizeof c->call_id, "%s-%06lld", llm_layer_name(layer), (long long)id);
}

int ctxf_append(FILE *out, const llm_call *c) {
  json_error_t err;
  json_t *ctx = json_loads(c->context, 0, &err);
  if (!ctx)
    return FS_EINVAL;
  json_t *o = json_pack("{s:s,s:s,s:o,s:f,s:o}", "call_id", c->call_id, "layer",
                        llm_layer_name(c->layer), "event_id",
                        c->event_id >= 0 ? json_integer(c->event_id) : json_null(), "t_s",
                        c->t_s, "context", ctx);
  if (!o)
    return FS_ENOMEM;
  char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  json_decref(o);
  if (!line)
    return FS_ENOMEM;
  int rc = (fputs(line, out) < 0 || fputc('\n', out) == EOF || fflush(out) != 0) ? FS_EIO : 0;
  free(line);
  return rc;
}

int ctxf_read(const char *path, llm_call **calls, int *n) {
  *calls = NULL;
  *n = 0;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    diag_addf("%s: cannot open: %s", path, strerror(errno));
    return FS_EIO;
  }
  int cap = 0, rc = 0, lineno = 0;
  char *line = NULL;
  size_t linecap = 0;
  while (rc == 0 && getline(&line, &linecap, fp) > 0) {
    lineno++;
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    const char *id = json_string_value(json_object_get(o, "call_id"));
    const char *layer = json_string_value(json_object_get(o, "layer"));
    json_t *ctx = json_object_get(o, "context");
    if (!o || !id || !layer || !json_is_object(ctx) || strlen(id) >= sizeof((*calls)->call_id) ||
        !json_is_number(json_object_get(o, "t_s"))) {
      diag_addf("%s: line %d: not a context record (call_id, layer, t_s, context)", path, lineno);
      json_decref(o);
      rc = FS_EINVAL;
      break;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 256;
      llm_call *nc = realloc(*calls, sizeof *nc * (size_t)cap);
      if (!nc) {
        json_decref(o);
        rc = FS_ENOMEM;
        break;
      }
      *calls = nc;
    }
    llm_call *c = &(*calls)[*n];
    memset(c, 0, sizeof *c);
    snprintf(c->call_id, sizeof c->call_id, "%s", id);
    c->layer = strcmp(layer, "L2") == 0 ? LLM_L2 : (strcmp(layer, "L3") == 0 ? LLM_L3 : LLM_L4);
    json_t *ev = json_object_get(o, "event_id");
    c->event_id = json_is_integer(ev) ? json_integer_value(ev) : -1;
    c->t_s = json_number_value(json_object_get(o, "t_s"));
    c->context = json_dumps(ctx, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!c->context) {
      rc = FS_ENOMEM;
      break;
    }
    (*n)++;
  }
  free(line);
  if (ferror(fp) && rc == 0) {
    diag_addf("%s: read error: %s", path, strerror(errno));
    rc = FS_EIO;
  }
  fclose(fp);
  if (rc) {
    for (int i = 0; i < *n; i++)
      free((*calls)[i].context);
    free(*calls);
    *calls = NULL;
    *n = 0;
  }
  return rc;
}
