/* Backend SPEC parsing (see llm_spec.h): one table of keys with type, bounds,
 * the kinds they apply to and a value check; defaults, then the pairs, then
 * per-kind defaults and required keys. No I/O; an API key is only ever read
 * (by llm_spec_api_key), never stored, compared or echoed. */
#include "pipeline/llm/llm_spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"

enum { SPEC_MAX_PAIRS = 64 };

#define SPEC_K(kind) (1u << (kind))
#define SPEC_NET (SPEC_K(LLM_KIND_OPENAI) | SPEC_K(LLM_KIND_ANTHROPIC))
#define SPEC_ALL (SPEC_NET | SPEC_K(LLM_KIND_RULES) | SPEC_K(LLM_KIND_REPLAY))

typedef enum { SPEC_T_STR, SPEC_T_INT, SPEC_T_DOUBLE } spec_type;

/* A string check returns why the value is bad (completing "value 'v' ..."),
 * or NULL when it is fine. */
typedef const char *(*spec_check_fn)(const char *value);

typedef struct {
  const char *key;
  spec_type type;
  unsigned kinds;      /* SPEC_K bits of the kinds the key applies to */
  double min, max;     /* numbers: inclusive bounds */
  size_t offset, size; /* target field; size = buffer size for strings */
  spec_check_fn check; /* strings: extra check, or NULL */
  int word_default;    /* numbers: the value "default" stores -1 */
} spec_entry;

static const char *spec_check_name(const char *v);
static const char *spec_check_url(const char *v);
static const char *spec_check_env(const char *v);

#define SPEC_FIELD(f) offsetof(llm_spec, f), sizeof(((llm_spec *)0)->f)

static const spec_entry spec_table[] = {
    {"name", SPEC_T_STR, SPEC_ALL, 0, 0, SPEC_FIELD(name), spec_check_name, 0},
    {"base_url", SPEC_T_STR, SPEC_NET, 0, 0, SPEC_FIELD(base_url), spec_check_url, 0},
    {"model", SPEC_T_STR, SPEC_NET, 0, 0, SPEC_FIELD(model), NULL, 0},
    {"api_key_env", SPEC_T_STR, SPEC_NET, 0, 0, SPEC_FIELD(api_key_env), spec_check_env, 0},
    {"timeout_s", SPEC_T_DOUBLE, SPEC_NET, 0.01, 3600, SPEC_FIELD(timeout_s), NULL, 0},
    {"retries", SPEC_T_INT, SPEC_NET, 0, 10, SPEC_FIELD(retries), NULL, 0},
    {"concurrency", SPEC_T_INT, SPEC_NET, 1, 256, SPEC_FIELD(concurrency), NULL, 0},
    {"price_in", SPEC_T_DOUBLE, SPEC_NET, 0, 10000, SPEC_FIELD(price_in), NULL, 0},
    {"price_out", SPEC_T_DOUBLE, SPEC_NET, 0, 10000, SPEC_FIELD(price_out), NULL, 0},
    {"gpu_hour_usd", SPEC_T_DOUBLE, SPEC_NET, 0, 10000, SPEC_FIELD(gpu_hour_usd), NULL, 0},
    {"max_tokens", SPEC_T_INT, SPEC_NET, 1, 1000000, SPEC_FIELD(max_tokens), NULL, 0},
    {"json_schema", SPEC_T_INT, SPEC_K(LLM_KIND_OPENAI), 0, 1, SPEC_FIELD(json_schema), NULL, 0},
    {"temperature", SPEC_T_DOUBLE, SPEC_NET, 0, 2, SPEC_FIELD(temperature), NULL, 1},
    {"path", SPEC_T_STR, SPEC_K(LLM_KIND_REPLAY), 0, 0, SPEC_FIELD(path), NULL, 0},
};
enum { SPEC_NENTRIES = sizeof spec_table / sizeof spec_table[0] };

static const char *const spec_kind_names[LLM_KIND_COUNT] = {"rules", "openai", "anthropic",
                                                            "replay"};

const char *llm_kind_name(llm_kind k) {
  return k >= 0 && k < LLM_KIND_COUNT ? spec_kind_names[k] : "unknown";
}

static int spec_stem_char(char c) {
  return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

static const char *spec_check_name(const char *v) {
  return path_is_stem(v) ? NULL : "is not a safe file stem ([A-Za-z0-9._-]+, not starting with '.')";
}

static const char *spec_check_env(const char *v) {
  if (!(isalpha((unsigned char)v[0]) || v[0] == '_'))
    return "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
  for (const char *p = v; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_'))
      return "is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
  return NULL;
}

/* Length of the "http://" or "https://" prefix of v (any case), else 0. */
static size_t spec_scheme_len(const char *v) {
  if (strncasecmp(v, "http://", 7) == 0)
    return 7;
  if (strncasecmp(v, "https://", 8) == 0)
    return 8;
  return 0;
}

/* A URL the transport can append "/chat/completions" or "/messages" to. */
static const char *spec_check_url(const char *v) {
  size_t skip = spec_scheme_len(v);
  if (skip == 0)
    return "is not an http:// or https:// URL";
  if (v[skip] == '\0' || v[skip] == '/' || v[skip] == ':')
    return "has no host";
  for (const char *p = v; *p; p++) {
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      return "contains a space or control character";
    if (*p == '@' || *p == '?' || *p == '#')
      return "carries credentials, a query or a fragment (API keys come only from "
             "environment variables)";
  }
  return NULL;
}

/* 1 when the host of a checked base_url is localhost, 127.0.0.1 or [::1]. */
static int spec_url_loopback(const char *url) {
  const char *host = url + spec_scheme_len(url);
  size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
  static const char *const loop[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++)
    if (n == strlen(loop[i]) && strncasecmp(host, loop[i], n) == 0)
      return 1;
  return 0;
}

static const spec_entry *spec_find(const char *key) {
  for (int i = 0; i < SPEC_NENTRIES; i++)
    if (strcmp(spec_table[i].key, key) == 0)
      return &spec_table[i];
  return NULL;
}

/* 1 when a key outside the table looks like it would carry a secret itself. */
static int spec_secret_key(const char *key) {
  static const char *const words[] = {"key", "token", "secret", "passw", "auth", "bearer", "cred"};
  if (spec_find(key))
    return 0;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    for (const char *p = key; *p; p++)
      if (strncasecmp(p, words[i], strlen(words[i])) == 0)
        return 1;
  return 0;
}

/* 1 when a value must be shown as *** in messages. */
static int spec_secret_value(const char *key, const char *value) {
  if (spec_secret_key(key))
    return 1;
  if (strcmp(key, "api_key_env") == 0)
    return spec_check_env(value) != NULL;
  if (strcmp(key, "base_url") == 0)
    return strpbrk(value, "@?#") != NULL;
  return 0;
}

/* The pairs of one spec, split in place, and the spec as messages show it. */
typedef struct {
  char buf[LLM_SPEC_MAX_LEN + 1];
  char shown[LLM_SPEC_MAX_LEN + 8];
  char *key[SPEC_MAX_PAIRS], *value[SPEC_MAX_PAIRS]; /* value NULL: no '=' */
  int n;
} spec_pairs;

/* "name, base_url, ..." : the keys that apply to kind k, in table order. */
static void spec_keys_for(llm_kind k, char *out, size_t len) {
  out[0] = '\0';
  for (int i = 0; i < SPEC_NENTRIES; i++)
    if (spec_table[i].kinds & SPEC_K(k)) {
      size_t used = strlen(out);
      snprintf(out + used, len - used, "%s%s", used ? ", " : "", spec_table[i].key);
    }
}

/* Stores a number value; records why not. */
static int spec_set_number(llm_spec *s, const spec_entry *e, const char *value, const char *shown) {
  const char *kind = e->type == SPEC_T_INT ? "an integer" : "a number";
  char *p = (char *)s + e->offset;
  if (e->word_default && strcmp(value, "default") == 0) {
    *(double *)p = -1;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(value, &end);
  if (value[0] == '\0' || strspn(value, "0123456789+-.eE") != strlen(value) || *end != '\0' ||
      errno != 0 || !isfinite(v) || (e->type == SPEC_T_INT && floor(v) != v)) {
    diag_addf("backend '%s': key '%s': value '%s' is not %s", shown, e->key, value, kind);
    return FS_EUSAGE;
  }
  if (!(v >= e->min && v <= e->max)) {
    diag_addf("backend '%s': key '%s': value '%s' is out of range [%g, %g]%s", shown, e->key, value,
              e->min, e->max, e->word_default ? " (or default)" : "");
    return FS_EUSAGE;
  }
  if (e->type == SPEC_T_INT)
    *(int *)p = (int)v;
  else
    *(double *)p = v;
  return 0;
}

/* Stores a string value; records why not. */
static int spec_set_string(llm_spec *s, const spec_entry *e, const char *value, const char *shown) {
  const char *v = spec_secret_value(e->key, value) ? "***" : value;
  const char *why = NULL;
  if (strlen(value) >= e->size) {
    diag_addf("backend '%s': key '%s': a value of %zu characters is too long (at most %zu)", shown,
              e->key, strlen(value), e->size - 1);
    return FS_EUSAGE;
  }
  if (value[0] == '\0')
    why = "is empty";
  else if (e->check)
    why = e->check(value);
  for (const char *p = value; !why && *p; p++)
    if ((unsigned char)*p < ' ' || *p == 0x7f)
      why = "contains a control character";
  if (why) {
    diag_addf("backend '%s': key '%s': value '%s' %s", shown, e->key, v, why);
    return FS_EUSAGE;
  }
  memcpy((char *)s + e->offset, value, strlen(value) + 1);
  return 0;
}

/* Splits "key=value,..." (the text after "KIND:") and renders `shown`. */
static int spec_split(spec_pairs *sp, const char *kind, const char *rest) {
  snprintf(sp->shown, sizeof sp->shown, "%s", kind);
  sp->n = 0;
  if (!rest)
    return 0;
  snprintf(sp->buf, sizeof sp->buf, "%s", rest);
  for (char *p = sp->buf;;) {
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    if (sp->n == SPEC_MAX_PAIRS)
      return FS_EUSAGE;
    char *eq = strchr(p, '=');
    if (eq)
      *eq = '\0';
    sp->key[sp->n] = p;
    sp->value[sp->n] = eq ? eq + 1 : NULL;
    sp->n++;
    if (!comma)
      break;
    p = comma + 1;
  }
  size_t used = strlen(sp->shown);
  for (int i = 0; i < sp->n; i++) {
    const char *k = sp->key[i], *v = sp->value[i];
    /* a bare word may be a pasted key */
    const char *kshown = v || k[0] == '\0' || spec_find(k) ? k : "***";
    const char *vshown = v && spec_secret_value(k, v) ? "***" : v;
    used +=
        (size_t)snprintf(sp->shown + used, used < sizeof sp->shown ? sizeof sp->shown - used : 0,
                         "%s%s%s%s", i ? "," : ":", kshown, v ? "=" : "", v ? vshown : "");
    if (used >= sizeof sp->shown)
      break;
  }
  return 0;
}

/* Applies one key=value pair; `seen` has a bit per table entry. */
static int spec_apply(llm_spec *s, const spec_pairs *sp, int i, unsigned long *seen,
                      const char **given) {
  const char *key = sp->key[i], *value = sp->value[i], *shown = sp->shown;
  if (key[0] == '\0') {
    diag_addf("backend '%s': empty key in pair %d (expected key=value)", shown, i + 1);
    return FS_EUSAGE;
  }
  const spec_entry *e = spec_find(key);
  if (!value) {
    if (e)
      diag_addf("backend '%s': key '%s' has no value (expected %s=VALUE)", shown, key, key);
    else
      diag_addf("backend '%s': pair %d is not key=value", shown, i + 1);
    return FS_EUSAGE;
  }
  if (spec_secret_key(key)) {
    diag_addf("backend '%s': key '%s' is not accepted: API keys come only from environment "
              "variables (export VAR and pass api_key_env=VAR)",
              shown, key);
    return FS_EUSAGE;
  }
  if (!e || !(e->kinds & SPEC_K(s->kind))) {
    char keys[256];
    spec_keys_for(s->kind, keys, sizeof keys);
    diag_addf("backend '%s': %s key '%s' (value '%s'); keys for %s: %s", shown,
              e ? "inapplicable" : "unknown", key, spec_secret_value(key, value) ? "***" : value,
              llm_kind_name(s->kind), keys);
    return FS_EUSAGE;
  }
  int idx = (int)(e - spec_table);
  if (*seen & (1ul << idx)) {
    int secret = spec_secret_value(key, value) || spec_secret_value(key, given[idx]);
    diag_addf("backend '%s': key '%s' given twice ('%s' and '%s')", shown, key,
              secret ? "***" : given[idx], secret ? "***" : value);
    return FS_EUSAGE;
  }
  *seen |= 1ul << idx;
  given[idx] = value;
  return e->type == SPEC_T_STR ? spec_set_string(s, e, value, shown)
                               : spec_set_number(s, e, value, shown);
}

/* The file stem a model name gives: unsafe characters (and a leading '.')
 * become '_'. */
static void spec_stem_from(char *out, size_t len, const char *model) {
  size_t i = 0;
  for (; model[i] && i + 1 < len; i++)
    out[i] = spec_stem_char(model[i]) && !(i == 0 && model[i] == '.') ? model[i] : '_';
  out[i] = '\0';
}

/* Per-kind defaults and required keys, after every pair was applied. */
static int spec_finish(llm_spec *s, const char *shown) {
  static const char *const url[LLM_KIND_COUNT] = {[LLM_KIND_OPENAI] = "https://api.openai.com/v1",
                                                  [LLM_KIND_ANTHROPIC] =
                                                      "https://api.anthropic.com/v1"};
  static const char *const env[LLM_KIND_COUNT] = {
      [LLM_KIND_OPENAI] = "OPENAI_API_KEY", [LLM_KIND_ANTHROPIC] = "ANTHROPIC_API_KEY"};
  const char *kind = llm_kind_name(s->kind);
  if (s->kind == LLM_KIND_REPLAY && s->path[0] == '\0') {
    diag_addf("backend '%s': missing key 'path' (required for replay)", shown);
    return FS_EUSAGE;
  }
  if (s->kind == LLM_KIND_RULES || s->kind == LLM_KIND_REPLAY) {
    if (s->name[0] == '\0')
      snprintf(s->name, sizeof s->name, "%s", kind);
    return 0;
  }
  if (s->model[0] == '\0') {
    diag_addf("backend '%s': missing key 'model' (required for %s)", shown, kind);
    return FS_EUSAGE;
  }
  if (s->name[0] == '\0')
    spec_stem_from(s->name, sizeof s->name, s->model);
  if (s->base_url[0] == '\0')
    snprintf(s->base_url, sizeof s->base_url, "%s", url[s->kind]);
  for (size_t n = strlen(s->base_url); n > 0 && s->base_url[n - 1] == '/'; n--)
    s->base_url[n - 1] = '\0';
  if (s->api_key_env[0] == '\0')
    snprintf(s->api_key_env, sizeof s->api_key_env, "%s", env[s->kind]);
  if (s->kind == LLM_KIND_ANTHROPIC && s->max_tokens == 0) /* 0: not given (minimum is 1) */
    s->max_tokens = 2048;
  s->key_optional = spec_url_loopback(s->base_url);
  if (!s->key_optional && !llm_spec_api_key(s)) {
    diag_addf("backend '%s': key 'api_key_env': environment variable %s is not set or empty "
              "(API keys come only from the environment; a base_url on localhost needs none)",
              shown, s->api_key_env);
    return FS_EUSAGE;
  }
  return 0;
}

int llm_spec_parse(const char *text, llm_spec *out) {
  memset(out, 0, sizeof *out);
  out->timeout_s = 120;
  out->retries = 2;
  out->concurrency = 8;
  out->json_schema = 1;
  out->temperature = 0;
  if (!text || text[0] == '\0') {
    diag_addf("backend '': empty spec (expected KIND[:key=value,...], e.g. rules)");
    return FS_EUSAGE;
  }
  /* The kind as messages show it: a long or odd word may be a pasted key. */
  size_t klen = strcspn(text, ":");
  char kind[16] = "***";
  if (klen < sizeof kind &&
      strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") >= klen)
    snprintf(kind, sizeof kind, "%.*s", (int)klen, text);
  if (strlen(text) > LLM_SPEC_MAX_LEN) {
    diag_addf("backend '%s:...': spec longer than %d characters", kind, LLM_SPEC_MAX_LEN);
    return FS_EUSAGE;
  }
  spec_pairs *sp = calloc(1, sizeof *sp);
  if (!sp)
    return FS_ENOMEM;
  int rc = spec_split(sp, kind, text[klen] == ':' ? text + klen + 1 : NULL);
  if (rc != 0) {
    diag_addf("backend '%s:...': more than %d key=value pairs", kind, SPEC_MAX_PAIRS);
    goto done;
  }
  rc = FS_EUSAGE;
  for (int k = 0; k < LLM_KIND_COUNT; k++)
    if (klen == strlen(spec_kind_names[k]) && strncmp(text, spec_kind_names[k], klen) == 0) {
      out->kind = (llm_kind)k;
      rc = 0;
    }
  if (rc != 0) {
    diag_addf("backend '%s': unknown kind '%s' (kinds: rules, openai, anthropic, replay)",
              sp->shown, kind);
    goto done;
  }
  unsigned long seen = 0;
  const char *given[SPEC_NENTRIES] = {0};
  int bare = sp->n == 1 && sp->key[0][0] == '\0' && !sp->value[0]; /* "rules:" */
  for (int i = 0; i < sp->n && rc == 0 && !bare; i++)
    rc = spec_apply(out, sp, i, &seen, given);
  if (rc == 0)
    rc = spec_finish(out, sp->shown);
done:
  free(sp);
  return rc;
}

const char *llm_spec_api_key(const llm_spec *s) {
  if (!s || s->api_key_env[0] == '\0')
    return NULL;
  const char *key = getenv(s->api_key_env);
  return key && key[0] ? key : NULL;
}
