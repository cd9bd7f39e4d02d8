/* What goes over the wire to an OpenAI-compatible /chat/completions or the
 * Anthropic /messages API, and what comes back: request bodies, header lines,
 * response parsing, token accounting and cost. Pure functions over strings:
 * no sockets, no libcurl (the transport owns those), no logging. */
#ifndef FLEETSIM_LLM_WIRE_H
#define FLEETSIM_LLM_WIRE_H
#include <stddef.h>

#include "pipeline/llm/llm_spec.h"

enum { LLM_WIRE_MAX_HEADERS = 4 };

/* Header lines ("Name: value") for one request, malloc'd. One of them may
 * carry the API key: hand them to the transport (curl_slist_append copies
 * them), then call llm_wire_headers_clear at once. Never log, print or store
 * a line. */
typedef struct {
  char *line[LLM_WIRE_MAX_HEADERS];
  int n;
} llm_wire_headers;

/* The output-token cap of a request: s->max_tokens when set (anthropic:
 * always, 2048 by default); for openai without max_tokens, per layer
 * L2 1024, L3 2048, L4 4096 (room for reasoning models' thinking). */
int llm_wire_max_tokens(const llm_spec *s, int layer);

/* The URL to POST to: "{base_url}/chat/completions" (openai) or
 * "{base_url}/messages" (anthropic). Returns 0, or FS_EINVAL for another kind
 * or when it does not fit in len bytes. */
int llm_wire_endpoint(const llm_spec *s, char *url, size_t len);

/* Body of an OpenAI-compatible chat completion (s->kind openai), compact
 * JSON, malloc'd (caller free()s): model, messages [system (omitted when
 * system is NULL), user], temperature (unless s->temperature < 0), the token
 * cap (llm_wire_max_tokens) as "max_tokens", or "max_completion_tokens" for
 * the host api.openai.com, whose newer models refuse max_tokens; and for
 * layers 2 and 3 when s->json_schema, response_format {type: json_schema,
 * json_schema: {name, strict: true, schema}} from llm_schema. Returns NULL for
 * another kind, a layer outside 2..4, user NULL, text that is not UTF-8, or no
 * memory. The body never contains the API key. */
char *llm_wire_openai_request(const llm_spec *s, int layer, const char *system, const char *user);

/* Body of an Anthropic Messages call (s->kind anthropic), compact JSON,
 * malloc'd: model, max_tokens, system (top level, omitted when NULL),
 * messages [{role: user, content: user}], temperature (unless < 0). NULL in
 * the cases of llm_wire_openai_request. */
char *llm_wire_anthropic_request(const llm_spec *s, int layer, const char *system,
                                 const char *user);

/* Fills h with "Content-Type: application/json", "Accept: application/json"
 * and, when api_key is not NULL, "Authorization: Bearer <api_key>" (no key:
 * a local server that needs none). Returns 0, FS_EINVAL for a key holding a
 * space or control character (h empty), or FS_ENOMEM. Get the key from
 * llm_spec_api_key right before the call. */
int llm_wire_openai_headers(const char *api_key, llm_wire_headers *h);

/* As llm_wire_openai_headers, with "anthropic-version: 2023-06-01" and
 * "x-api-key: <api_key>". */
int llm_wire_anthropic_headers(const char *api_key, llm_wire_headers *h);

/* Overwrites every line with zeros, frees it and empties h. Accepts an
 * empty or already cleared h. */
void llm_wire_headers_clear(llm_wire_headers *h);

/* Parses a /chat/completions response body: the answer is
 * choices[0].message.content (a string, or an array of parts whose "text"
 * strings are joined). On success returns 0 and *text (malloc'd, caller
 * frees). On failure returns FS_EINVAL, *text NULL, and why says, e.g.
 *   "API error (invalid_request_error): <message>"   ({"error":{...}} or
 *                                                    vLLM's {"object":"error"})
 *   "not JSON: <parser's reason>; body starts with '<html><head>...'"
 *   "model refused: <refusal>"
 *   "no answer text (finish_reason 'length')"
 * *tokens_in / *tokens_out come from usage.prompt_tokens /
 * completion_tokens whenever the body has them, even on failure, and are -1
 * when it does not (the caller may fall back to llm_estimate_tokens).
 * tokens_in, tokens_out and why may be NULL. */
int llm_wire_openai_parse(const char *body, char **text, long *tokens_in, long *tokens_out,
                          char *why, size_t whylen);

/* Parses a /messages response body: the "text" of every content block of
 * type text, joined. Tokens: usage.input_tokens (plus cache_creation_ and
 * cache_read_input_tokens when present) and usage.output_tokens. The error
 * envelope {"type":"error","error":{"type","message"}} gives
 * "API error (overloaded_error): Overloaded". Otherwise as
 * llm_wire_openai_parse ("no answer text (stop_reason 'max_tokens')"). */
int llm_wire_anthropic_parse(const char *body, char **text, long *tokens_in, long *tokens_out,
                             char *why, size_t whylen);

/* USD of one call: (tokens_in * price_in + tokens_out * price_out) / 1e6;
 * negative (unknown) counts count as 0. GPU-hours of local servers
 * (gpu_hour_usd) are not in it: they depend on wall time, not tokens. */
double llm_cost_usd(const llm_spec *s, long tokens_in, long tokens_out);

/* An ESTIMATE of the tokens in text, for backends without usage figures
 * (rules, or a server that omits usage): one token per 4 characters
 * (UTF-8 code points), rounded up; 0 for NULL or "". */
long llm_estimate_tokens(const char *text);

#endif
