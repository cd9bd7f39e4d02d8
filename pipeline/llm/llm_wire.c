/* Request bodies, header lines and response parsing for the OpenAI-compatible
 * and Anthropic HTTP APIs (see llm_wire.h). Bodies are built with jansson, so
 * prompt text is always escaped; response text is untrusted and only quoted
 * (sanitized, cut short) into reasons. No I/O, and no API key in any body. */
#include "pipeline/llm/llm_wire.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/llm/llm_schema.h"
#include "src/core/errors.h"
#include "src/core/strbuf.h"

/* printf into why when there is room; fmt is always a literal of ours. */
__attribute__((format(printf, 3, 4))) static void wire_why(char *why, size_t whylen,
                                                           const char *fmt, ...) {
  if (!why || whylen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
}

int llm_wire_max_tokens(const llm_spec *s, int layer) {
  if (s->max_tokens > 0)
    return s->max_tokens;
  return layer == LLM_LAYER_L2 ? 1024 : layer == LLM_LAYER_L3 ? 2048 : 4096;
}

int llm_wire_endpoint(const llm_spec *s, char *url, size_t len) {
  const char *path = s->kind == LLM_KIND_OPENAI      ? "/chat/completions"
                     : s->kind == LLM_KIND_ANTHROPIC ? "/messages"
                                                     : NULL;
  if (!path || len == 0)
    return FS_EINVAL;
  int n = snprintf(url, len, "%s%s", s->base_url, path);
  return n >= 0 && (size_t)n < len ? 0 : FS_EINVAL;
}

/* 1 when base_url's host is api.openai.com (any case, any port). */
static int wire_is_openai_host(const char *base_url) {
  const char *h = strstr(base_url, "://");
  const char *host = "api.openai.com";
  size_t n = strlen(host);
  return h && strncasecmp(h + 3, host, n) == 0 && strchr(":/", h[3 + n]) != NULL;
}

/* Serializes body (stolen; NULL passes through) as compact JSON. */
static char *wire_dump(json_t *body) {
  char *out = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(body);
  return out;
}

/* Sets "temperature" unless the spec leaves it to the server. */
static int wire_temperature(json_t *body, const llm_spec *s) {
  return s->temperature < 0 ? 0
                            : json_object_set_new(body, "temperature", json_real(s->temperature));
}

char *llm_wire_openai_request(const llm_spec *s, int layer, const char *system, const char *user) {
  if (!s || s->kind != LLM_KIND_OPENAI || !user || layer < LLM_LAYER_L2 || layer > LLM_LAYER_L4)
    return NULL;
  json_t *msgs = json_array();
  int bad = !msgs;
  if (system)
    bad |= json_array_append_new(msgs,
                                 json_pack("{s:s, s:s}", "role", "system", "content", system)) != 0;
  bad |= json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", user)) != 0;
  json_t *body = json_pack("{s:s, s:o}", "model", s->model, "messages", msgs);
  if (!body || bad) {
    json_decref(body);
    return NULL;
  }
  const char *cap = wire_is_openai_host(s->base_url) ? "max_completion_tokens" : "max_tokens";
  bad |= wire_temperature(body, s) != 0;
  bad |= json_object_set_new(body, cap, json_integer(llm_wire_max_tokens(s, layer))) != 0;
  if (layer != LLM_LAYER_L4 && s->json_schema) {
    json_t *rf = json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema", "name",
                           llm_schema_name(layer), "strict", 1, "schema", llm_schema_json(layer));
    bad |= json_object_set_new(body, "response_format", rf) != 0;
  }
  if (bad) {
    json_decref(body);
    return NULL;
  }
  return wire_dump(body);
}

char *llm_wire_anthropic_request(const llm_spec *s, int layer, const char *system,
                                 const char *user) {
  if (!s || s->kind != LLM_KIND_ANTHROPIC || !user || layer < LLM_LAYER_L2 || layer > LLM_LAYER_L4)
    return NULL;
  json_t *body =
      json_pack("{s:s, s:i, s:[{s:s, s:s}]}", "model", s->model, "max_tokens",
                llm_wire_max_tokens(s, layer), "messages", "role", "user", "content", user);
  if (!body)
    return NULL;
  int bad = system && json_object_set_new(body, "system", json_string(system)) != 0;
  bad |= wire_temperature(body, s) != 0;
  if (bad) {
    json_decref(body);
    return NULL;
  }
  return wire_dump(body);
}

/* Appends a malloc'd "name: value" line. */
static int wire_add(llm_wire_headers *h, const char *name, const char *value) {
  size_t n = strlen(name) + strlen(value) + 3;
  char *line = h->n < LLM_WIRE_MAX_HEADERS ? malloc(n) : NULL;
  if (!line)
    return FS_ENOMEM;
  snprintf(line, n, "%s: %s", name, value);
  h->line[h->n++] = line;
  return 0;
}

/* The common lines, then `name: prefix key` when there is a key. */
static int wire_headers(llm_wire_headers *h, const char *version, const char *name,
                        const char *prefix, const char *api_key) {
  memset(h, 0, sizeof *h);
  for (const char *p = api_key; p && *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      return FS_EINVAL;
  int rc = wire_add(h, "Content-Type", "application/json");
  if (rc == 0)
    rc = wire_add(h, "Accept", "application/json");
  if (rc == 0 && version)
    rc = wire_add(h, "anthropic-version", version);
  if (rc == 0 && api_key) {
    size_t n = strlen(prefix) + strlen(api_key) + 1;
    char *value = malloc(n);
    rc = value ? 0 : FS_ENOMEM;
    if (value) {
      snprintf(value, n, "%s%s", prefix, api_key);
      rc = wire_add(h, name, value);
      volatile char *v = value;
      for (size_t i = 0; i < n; i++)
        v[i] = 0;
      free(value);
    }
  }
  if (rc != 0)
    llm_wire_headers_clear(h);
  return rc;
}

int llm_wire_openai_headers(const char *api_key, llm_wire_headers *h) {
  return wire_headers(h, NULL, "Authorization", "Bearer ", api_key);
}

int llm_wire_anthropic_headers(const char *api_key, llm_wire_headers *h) {
  return wire_headers(h, "2023-06-01", "x-api-key", "", api_key);
}

void llm_wire_headers_clear(llm_wire_headers *h) {
  for (int i = 0; i < h->n; i++) {
    volatile char *v = h->line[i];
    for (size_t j = 0; v[j]; j++)
      v[j] = 0;
    free(h->line[i]);
    h->line[i] = NULL;
  }
  h->n = 0;
}

/* The body as a JSON object, or NULL with why ("empty body", "not JSON: ...",
 * "not a JSON object: ..."). */
static json_t *wire_load(const char *body, char *why, size_t whylen) {
  char q[52], qe[84];
  if (!body || body[strspn(body, " \t\r\n")] == '\0') {
    wire_why(why, whylen, "empty body");
    return NULL;
  }
  const char *start = body + strspn(body, " \t\r\n");
  json_error_t err;
  json_t *root = json_loads(body, 0, &err);
  if (!root) {
    wire_why(why, whylen, "not JSON: %s; body starts with '%s'", sb_quote(err.text, qe, 80),
             sb_quote(start, q, 48));
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    wire_why(why, whylen, "not a JSON object: body starts with '%s'", sb_quote(start, q, 48));
    return NULL;
  }
  return root;
}

/* Recognizes an error envelope: {"error": {"message", "type"}} (OpenAI,
 * Anthropic with "type":"error", Ollama), {"error": "text"}, and vLLM's
 * {"object": "error", "message", "type"}. Returns FS_EINVAL with why when
 * root is one, else 0. */
static int wire_error(json_t *root, char *why, size_t whylen) {
  char qm[204], qt[52];
  json_t *e = json_object_get(root, "error");
  const char *msg = NULL, *type = NULL;
  if (json_is_object(e)) {
    msg = json_string_value(json_object_get(e, "message"));
    type = json_string_value(json_object_get(e, "type"));
    if (!msg)
      msg = "(no message)";
  } else if (json_is_string(e)) {
    msg = json_string_value(e);
  } else if (json_is_string(json_object_get(root, "object")) &&
             strcmp(json_string_value(json_object_get(root, "object")), "error") == 0) {
    msg = json_string_value(json_object_get(root, "message"));
    type = json_string_value(json_object_get(root, "type"));
    if (!msg)
      msg = "(no message)";
  }
  if (!msg)
    return 0;
  if (type)
    wire_why(why, whylen, "API error (%s): %s", sb_quote(type, qt, 48), sb_quote(msg, qm, 200));
  else
    wire_why(why, whylen, "API error: %s", sb_quote(msg, qm, 200));
  return FS_EINVAL;
}

/* usage.<name> as a count, or -1 when absent or not a number in [0, 1e15]
 * (larger values are no token count, and would overflow a long). */
static long wire_count(json_t *usage, const char *name) {
  json_t *v = json_object_get(usage, name);
  double x = json_number_value(v);
  return json_is_number(v) && x >= 0 && x <= 1e15 ? (long)x : -1;
}

/* Joins the "text" strings of the blocks of arr (those whose "type" is
 * want_type when it is not NULL); malloc'd, NULL when there is none or no
 * memory. A plain string is copied. */
static char *wire_join(json_t *arr, const char *want_type) {
  if (json_is_string(arr))
    return json_string_length(arr) ? strdup(json_string_value(arr)) : NULL;
  size_t total = 0, i;
  json_t *b;
  json_array_foreach(arr, i, b) {
    const char *type = json_string_value(json_object_get(b, "type"));
    json_t *t = json_object_get(b, "text");
    if (json_is_string(t) && (!want_type || (type && strcmp(type, want_type) == 0)))
      total += strlen(json_string_value(t));
  }
  char *out = total ? malloc(total + 1) : NULL;
  if (!out)
    return NULL;
  size_t used = 0;
  json_array_foreach(arr, i, b) {
    const char *type = json_string_value(json_object_get(b, "type"));
    json_t *t = json_object_get(b, "text");
    if (json_is_string(t) && (!want_type || (type && strcmp(type, want_type) == 0))) {
      size_t n = strlen(json_string_value(t));
      memcpy(out + used, json_string_value(t), n);
      used += n;
    }
  }
  out[used] = '\0';
  return out;
}

/* Shared start of both parsers: outputs reset, body loaded, error envelope
 * recognized. Returns the root object, or NULL with why. */
static json_t *wire_begin(const char *body, char **text, long *tokens_in, long *tokens_out,
                          char *why, size_t whylen) {
  *text = NULL;
  if (tokens_in)
    *tokens_in = -1;
  if (tokens_out)
    *tokens_out = -1;
  json_t *root = wire_load(body, why, whylen);
  if (root && wire_error(root, why, whylen) != 0) {
    json_decref(root);
    return NULL;
  }
  return root;
}

int llm_wire_openai_parse(const char *body, char **text, long *tokens_in, long *tokens_out,
                          char *why, size_t whylen) {
  char q[204];
  json_t *root = wire_begin(body, text, tokens_in, tokens_out, why, whylen);
  if (!root)
    return FS_EINVAL;
  json_t *usage = json_object_get(root, "usage");
  if (tokens_in)
    *tokens_in = wire_count(usage, "prompt_tokens");
  if (tokens_out)
    *tokens_out = wire_count(usage, "completion_tokens");
  json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
  json_t *msg = json_object_get(choice, "message");
  const char *refusal = json_string_value(json_object_get(msg, "refusal"));
  const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
  int rc = 0;
  if (!msg) {
    wire_why(why, whylen, "no choices[0].message in the response");
    rc = FS_EINVAL;
  } else if (!(*text = wire_join(json_object_get(msg, "content"), NULL))) {
    if (refusal)
      wire_why(why, whylen, "model refused: %s", sb_quote(refusal, q, 200));
    else
      wire_why(why, whylen, "no answer text (finish_reason '%s')",
               sb_quote(finish ? finish : "none", q, 48));
    rc = FS_EINVAL;
  }
  json_decref(root);
  return rc;
}

int llm_wire_anthropic_parse(const char *body, char **text, long *tokens_in, long *tokens_out,
                             char *why, size_t whylen) {
  char q[52];
  json_t *root = wire_begin(body, text, tokens_in, tokens_out, why, whylen);
  if (!root)
    return FS_EINVAL;
  json_t *usage = json_object_get(root, "usage");
  if (tokens_in) {
    *tokens_in = wire_count(usage, "input_tokens");
    static const char *const cache[] = {"cache_creation_input_tokens", "cache_read_input_tokens"};
    for (int i = 0; i < 2 && *tokens_in >= 0; i++)
      if (wire_count(usage, cache[i]) > 0)
        *tokens_in += wire_count(usage, cache[i]);
  }
  if (tokens_out)
    *tokens_out = wire_count(usage, "output_tokens");
  json_t *content = json_object_get(root, "content");
  const char *stop = json_string_value(json_object_get(root, "stop_reason"));
  int rc = 0;
  if (!json_is_array(content) || !(*text = wire_join(content, "text"))) {
    wire_why(why, whylen, "no answer text (stop_reason '%s')",
             sb_quote(stop ? stop : "none", q, 48));
    rc = FS_EINVAL;
  }
  json_decref(root);
  return rc;
}

double llm_cost_usd(const llm_spec *s, long tokens_in, long tokens_out) {
  double in = tokens_in > 0 ? (double)tokens_in : 0, out = tokens_out > 0 ? (double)tokens_out : 0;
  return (in * s->price_in + out * s->price_out) / 1e6;
}

long llm_estimate_tokens(const char *text) {
  long chars = 0;
  for (const char *p = text; p && *p; p++)
    chars += ((unsigned char)*p & 0xC0) != 0x80;
  return (chars + 3) / 4;
}
