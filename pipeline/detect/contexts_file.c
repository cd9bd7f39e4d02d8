/* Reading and writing DIR/llm/contexts.jsonl (see contexts_file.h). */
#include "pipeline/detect/contexts_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/safefile.h"

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

int ctxf_write_header(FILE *out, const runid *r) {
  char *line = runid_header(r);
  if (!line)
    return FS_ENOMEM;
  int rc = (fputs(line, out) < 0 || fputc('\n', out) == EOF || fflush(out) != 0) ? FS_EIO : 0;
  free(line);
  return rc;
}

/* The layer a call_id names ("L2-000012" -> LLM_L2), or 0 when id is not
 * of that form. */
static llm_layer ctxf_id_layer(const char *id) {
  if (id[0] != 'L' || id[1] < '2' || id[1] > '4' || id[2] != '-')
    return 0;
  size_t digits = strspn(id + 3, "0123456789");
  if (id[3 + digits] != '\0' || digits < (id[1] == '4' ? 2u : 6u) || digits > 18)
    return 0;
  return (llm_layer)(id[1] - '0');
}

/* Why a parsed call line is not a context record, or NULL. */
static const char *ctxf_check(json_t *o, llm_layer *layer) {
  const char *id = json_string_value(json_object_get(o, "call_id"));
  const char *name = json_string_value(json_object_get(o, "layer"));
  json_t *ev = json_object_get(o, "event_id"), *t = json_object_get(o, "t_s");
  if (!json_is_object(o) || !id || !name || !json_is_object(json_object_get(o, "context")) ||
      !json_is_number(t))
    return "not a context record (call_id, layer, t_s, context)";
  *layer = ctxf_id_layer(id);
  if (!*layer)
    return "call_id is not of the form L2-NNNNNN, L3-NNNNNN or L4-NN";
  if (strcmp(name, llm_layer_name(*layer)) != 0)
    return "layer is not L2, L3 or L4, or not the layer its call_id names";
  if (*layer == LLM_L4 ? !json_is_null(ev) : !(json_is_integer(ev) && json_integer_value(ev) >= 0))
    return "event_id is not an integer >= 0 (L2, L3) or null (L4)";
  if (!isfinite(json_number_value(t)))
    return "t_s is not a finite number";
  return NULL;
}

static int ctxf_cmp_id(const void *a, const void *b) {
  return strcmp(((const llm_call *)a)->call_id, ((const llm_call *)b)->call_id);
}

int ctxf_read(const char *path, llm_call **calls, int *n, runid *run) {
  *calls = NULL;
  *n = 0;
  int fd = sf_open_fd(path, O_RDONLY);
  FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
  if (!fp) {
    if (fd >= 0) {
      diag_addf("%s: cannot open: %s", path, strerror(errno));
      close(fd);
    }
    return FS_EIO;
  }
  runid_file state = RUNID_FILE_NONE;
  int cap = 0, rc = runid_read_fd(fd, path, &state, run), lineno = 0;
  if (rc == 0 && state != RUNID_FILE_HEADER) {
    diag_addf("%s: line 1: no run header: not written by this fleetsim (or not a contexts "
              "file)",
              path);
    rc = FS_EINVAL;
  }
  char *line = NULL;
  size_t linecap = 0;
  while (rc == 0 && getline(&line, &linecap, fp) > 0) {
    if (++lineno == 1)
      continue; /* the run header */
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    llm_layer layer = 0;
    const char *bad = o ? ctxf_check(o, &layer) : "not JSON";
    if (bad) {
      diag_addf("%s: line %d: %s", path, lineno, bad);
      json_decref(o);
      rc = FS_EINVAL;
      break;
    }
    const char *id = json_string_value(json_object_get(o, "call_id"));
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
    c->layer = layer;
    json_t *ev = json_object_get(o, "event_id");
    c->event_id = json_is_integer(ev) ? json_integer_value(ev) : -1;
    c->t_s = json_number_value(json_object_get(o, "t_s"));
    c->context = json_dumps(json_object_get(o, "context"), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
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
  /* a call twice would be sent, paid and scored twice */
  llm_call *sorted = rc == 0 && *n > 1 ? malloc(sizeof *sorted * (size_t)*n) : NULL;
  if (sorted) {
    memcpy(sorted, *calls, sizeof *sorted * (size_t)*n);
    qsort(sorted, (size_t)*n, sizeof *sorted, ctxf_cmp_id);
    for (int i = 1; i < *n && rc == 0; i++)
      if (strcmp(sorted[i].call_id, sorted[i - 1].call_id) == 0) {
        diag_addf("%s: call_id %s appears twice: the file holds two runs, or a call twice", path,
                  sorted[i].call_id);
        rc = FS_EINVAL;
      }
    free(sorted);
  } else if (rc == 0 && *n > 1) {
    rc = FS_ENOMEM;
  }
  if (rc) {
    for (int i = 0; i < *n; i++)
      free((*calls)[i].context);
    free(*calls);
    *calls = NULL;
    *n = 0;
  }
  return rc;
}
