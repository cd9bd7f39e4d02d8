/* Backend SPEC strings (docs/design.md section 3): `KIND[:key=value,...]` parsed into
 * a plain, fixed-size llm_spec. It owns the key table, defaults and
 * validation; it never does I/O and never holds an API key, only the name of
 * the environment variable that carries it. */
#ifndef FLEETSIM_LLM_SPEC_H
#define FLEETSIM_LLM_SPEC_H

typedef enum {
  LLM_KIND_RULES,
  LLM_KIND_OPENAI,
  LLM_KIND_ANTHROPIC,
  LLM_KIND_REPLAY,
  LLM_KIND_COUNT
} llm_kind;

enum {
  LLM_SPEC_MAX_LEN = 8192, /* longest accepted SPEC string, bytes */
  LLM_SPEC_NAME_LEN = 64,  /* buffer sizes below include the terminating NUL */
  LLM_SPEC_URL_LEN = 512,
  LLM_SPEC_MODEL_LEN = 256,
  LLM_SPEC_ENV_LEN = 128,
  LLM_SPEC_PATH_LEN = 4096,
};

/* A parsed backend. Keys that do not apply to the kind keep their defaults
 * (strings empty, numbers as listed). */
typedef struct {
  llm_kind kind;
  char name[LLM_SPEC_NAME_LEN];       /* file stem of DIR/llm/<name>.jsonl: [A-Za-z0-9._-]+,
                                         not starting with '.'; default the kind, or for
                                         openai/anthropic the model with every other
                                         character replaced by '_' */
  char base_url[LLM_SPEC_URL_LEN];    /* http(s)://host[:port][/path], no trailing '/';
                                         openai https://api.openai.com/v1, anthropic
                                         https://api.anthropic.com/v1 */
  char model[LLM_SPEC_MODEL_LEN];     /* required for openai/anthropic */
  char api_key_env[LLM_SPEC_ENV_LEN]; /* NAME of the variable holding the key (default
                                         OPENAI_API_KEY / ANTHROPIC_API_KEY); never the key */
  double timeout_s;                   /* total per-request timeout, seconds (120) */
  int retries;                        /* extra attempts after a retryable failure (2) */
  int concurrency;                    /* requests in flight, 1..256 (8) */
  double price_in;                    /* USD per million input tokens (0) */
  double price_out;                   /* USD per million output tokens (0) */
  double gpu_hour_usd;                /* USD per GPU-hour of a local server (0) */
  int max_tokens;                     /* output cap: anthropic 2048 by default; openai 0
                                         = per-layer default (see llm_wire_max_tokens) */
  int json_schema;                    /* openai: 1 sends response_format json_schema for
                                         L2/L3 (default 1), 0 sends none */
  double temperature;                 /* sampling temperature in [0, 2] (0); -1 after
                                         temperature=default: the field is not sent (for
                                         models that take only their own, e.g. OpenAI
                                         reasoning models) */
  char path[LLM_SPEC_PATH_LEN];       /* replay: transcript to answer from (required) */
  int key_optional;                   /* 1 when base_url is on localhost/127.0.0.1/[::1]:
                                         a missing key is then no error */
} llm_spec;

/* Parses `text` into *out. Steps: defaults, key=value pairs, per-kind
 * defaults and checks. Values cannot contain ','; a value may contain ':' and
 * '='. On any problem returns FS_EUSAGE after recording exactly one diag
 * message that names the spec, the key and the value, e.g.
 *   backend 'openai:model=m,retries=x': key 'retries': value 'x' is not an integer
 * Text that may be a secret (the value of a key named like api_key, token or
 * secret, which is refused; an api_key_env that is not a variable name; a
 * base_url with credentials or a query; a bare word that is not a key; a
 * long or odd kind) is shown as *** in every message. For openai/anthropic
 * without key_optional, the variable named by api_key_env must be set and
 * non-empty. A too-long spec or value (see the LLM_SPEC_*_LEN limits) and
 * more than 64 pairs are errors too. FS_ENOMEM (no message) if memory runs out.
 * Example: llm_spec s; if (llm_spec_parse("rules", &s) != 0) diag_print(stderr); */
int llm_spec_parse(const char *text, llm_spec *out);

/* "rules", "openai", "anthropic", "replay" ("unknown" otherwise). */
const char *llm_kind_name(llm_kind k);

/* The API key, read from the environment at call time: getenv(s->api_key_env),
 * or NULL when the kind has no key, the variable is unset or it is empty.
 * The returned string is a secret: pass it straight to the header builders
 * (llm_wire_*_headers) and never copy, print, log, store or write it
 * anywhere (transcripts, diag messages, HDF5 attributes, results). */
const char *llm_spec_api_key(const llm_spec *s);

#endif
