/* Unit tests of the HTTP wire formats (pipeline/llm/llm_wire.c): request bodies of
 * both APIs parsed back with jansson, token caps, endpoints, header lines,
 * real-shaped responses of OpenAI, vLLM, Ollama and Anthropic, their error
 * envelopes, HTML and garbage bodies, missing usage, cost arithmetic and the
 * token estimate. A planted fake API key must appear in header lines only,
 * never in a body. No network. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_schema.h"
#include "pipeline/llm/llm_spec.h"
#include "pipeline/llm/llm_wire.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"


static const char FAKE_KEY[] = "sk-FAKE-planted-0123456789abcdef";

/* Prompt text with everything JSON must escape, and non-ASCII. */
static const char SYSTEM[] = "You are an SRE.\n\"Answer\" in JSON only.\t\\ {} %s";
static const char USER[] = "node-0123/gpu3 gpu_temp_celsius z=7.5 \xc2\xb0"
                           "C \xe2\x80\x94 rack-03";

static llm_spec spec(const char *text) {
  llm_spec s;
  diag_clear();
  if (llm_spec_parse(text, &s) != 0)
    CHECK_FAIL("spec '%s': %s", text, diag_first());
  return s;
}

/* Parses a request body back; it must never contain the planted key. */
static json_t *load_body(char *body) {
  CHECK(body != NULL);
  CHECK(strstr(body, FAKE_KEY) == NULL);
  CHECK(strstr(body, "FAKE") == NULL);
  json_error_t err;
  json_t *j = json_loads(body, 0, &err);
  if (!j)
    CHECK_FAIL("body is not JSON: %s\n%s", err.text, body);
  free(body);
  return j;
}

static const char *str_at(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static void test_caps_and_endpoints(void) {
  llm_spec o = spec("openai:base_url=http://127.0.0.1:8000/v1,model=gemma-4-26b");
  CHECK_EQ(llm_wire_max_tokens(&o, LLM_LAYER_L2), 1024);
  CHECK_EQ(llm_wire_max_tokens(&o, LLM_LAYER_L3), 2048);
  CHECK_EQ(llm_wire_max_tokens(&o, LLM_LAYER_L4), 4096);
  llm_spec o2 = spec("openai:base_url=http://127.0.0.1:8000/v1,model=m,max_tokens=300");
  for (int l = LLM_LAYER_L2; l <= LLM_LAYER_L4; l++)
    CHECK_EQ(llm_wire_max_tokens(&o2, l), 300);
  llm_spec a = spec("anthropic:model=claude-sonnet-4");
  for (int l = LLM_LAYER_L2; l <= LLM_LAYER_L4; l++)
    CHECK_EQ(llm_wire_max_tokens(&a, l), 2048);

  char url[128];
  CHECK_EQ(llm_wire_endpoint(&o, url, sizeof url), 0);
  CHECK_STREQ(url, "http://127.0.0.1:8000/v1/chat/completions");
  CHECK_EQ(llm_wire_endpoint(&a, url, sizeof url), 0);
  CHECK_STREQ(url, "https://api.anthropic.com/v1/messages");
  llm_spec oa = spec("openai:model=gpt-4o-mini");
  CHECK_EQ(llm_wire_endpoint(&oa, url, sizeof url), 0);
  CHECK_STREQ(url, "https://api.openai.com/v1/chat/completions");
  llm_spec slash = spec("openai:base_url=http://localhost:11434/v1/,model=m");
  CHECK_EQ(llm_wire_endpoint(&slash, url, sizeof url), 0);
  CHECK_STREQ(url, "http://localhost:11434/v1/chat/completions");
  CHECK_EQ(llm_wire_endpoint(&o, url, 20), FS_EINVAL); /* does not fit */
  CHECK_EQ(llm_wire_endpoint(&o, url, 0), FS_EINVAL);
  llm_spec r = spec("rules");
  CHECK_EQ(llm_wire_endpoint(&r, url, sizeof url), FS_EINVAL);
}

static void test_openai_request(void) {
  llm_spec s = spec("openai:base_url=http://127.0.0.1:8000/v1,model=gemma-4-26b,"
                    "api_key_env=FLEETSIM_FAKE_KEY");
  for (int layer = LLM_LAYER_L2; layer <= LLM_LAYER_L4; layer++) {
    json_t *b = load_body(llm_wire_openai_request(&s, layer, SYSTEM, USER));
    CHECK_STREQ(str_at(b, "model"), "gemma-4-26b");
    json_t *msgs = json_object_get(b, "messages");
    CHECK_EQ(json_array_size(msgs), 2);
    CHECK_STREQ(str_at(json_array_get(msgs, 0), "role"), "system");
    CHECK_STREQ(str_at(json_array_get(msgs, 0), "content"), SYSTEM);
    CHECK_STREQ(str_at(json_array_get(msgs, 1), "role"), "user");
    CHECK_STREQ(str_at(json_array_get(msgs, 1), "content"), USER);
    CHECK(json_is_number(json_object_get(b, "temperature")));
    CHECK_NEAR(json_number_value(json_object_get(b, "temperature")), 0, 0);
    CHECK_EQ(json_integer_value(json_object_get(b, "max_tokens")), llm_wire_max_tokens(&s, layer));
    CHECK(json_object_get(b, "max_completion_tokens") == NULL);
    json_t *rf = json_object_get(b, "response_format");
    if (layer == LLM_LAYER_L4) {
      CHECK(rf == NULL);
    } else {
      CHECK_STREQ(str_at(rf, "type"), "json_schema");
      json_t *js = json_object_get(rf, "json_schema");
      CHECK_STREQ(str_at(js, "name"), llm_schema_name(layer));
      CHECK(json_is_true(json_object_get(js, "strict")));
      json_t *want = llm_schema_json(layer);
      CHECK(json_equal(json_object_get(js, "schema"), want));
      json_decref(want);
    }
    CHECK_EQ(json_object_size(b), layer == LLM_LAYER_L4 ? 4 : 5);
    json_decref(b);
  }

  /* no system message; json_schema=0; temperature left to the server */
  llm_spec plain = spec("openai:base_url=http://localhost:8000/v1,model=m,json_schema=0,"
                        "temperature=default,max_tokens=77");
  json_t *b = load_body(llm_wire_openai_request(&plain, LLM_LAYER_L2, NULL, USER));
  CHECK_EQ(json_array_size(json_object_get(b, "messages")), 1);
  CHECK_STREQ(str_at(json_array_get(json_object_get(b, "messages"), 0), "role"), "user");
  CHECK(json_object_get(b, "response_format") == NULL);
  CHECK(json_object_get(b, "temperature") == NULL);
  CHECK_EQ(json_integer_value(json_object_get(b, "max_tokens")), 77);
  json_decref(b);

  /* api.openai.com: max_completion_tokens instead of max_tokens */
  llm_spec oa = spec("openai:model=gpt-4o-mini,temperature=0.3");
  b = load_body(llm_wire_openai_request(&oa, LLM_LAYER_L3, SYSTEM, USER));
  CHECK(json_object_get(b, "max_tokens") == NULL);
  CHECK_EQ(json_integer_value(json_object_get(b, "max_completion_tokens")), 2048);
  CHECK_NEAR(json_number_value(json_object_get(b, "temperature")), 0.3, 1e-12);
  json_decref(b);
  llm_spec lookalike = spec("openai:base_url=https://api.openai.com.example.net/v1,model=m");
  b = load_body(llm_wire_openai_request(&lookalike, LLM_LAYER_L2, SYSTEM, USER));
  CHECK(json_object_get(b, "max_tokens") != NULL);
  json_decref(b);

  /* refusals */
  llm_spec a = spec("anthropic:model=claude-sonnet-4");
  CHECK(llm_wire_openai_request(&a, LLM_LAYER_L2, SYSTEM, USER) == NULL);
  CHECK(llm_wire_openai_request(&s, 1, SYSTEM, USER) == NULL);
  CHECK(llm_wire_openai_request(&s, 5, SYSTEM, USER) == NULL);
  CHECK(llm_wire_openai_request(&s, LLM_LAYER_L2, SYSTEM, NULL) == NULL);
  CHECK(llm_wire_openai_request(NULL, LLM_LAYER_L2, SYSTEM, USER) == NULL);
  CHECK(llm_wire_openai_request(&s, LLM_LAYER_L2, SYSTEM, "bad \xff utf-8") == NULL);
  CHECK(llm_wire_openai_request(&s, LLM_LAYER_L2, "bad \xc3", USER) == NULL);
}

static void test_anthropic_request(void) {
  llm_spec s = spec("anthropic:model=claude-sonnet-4,api_key_env=FLEETSIM_FAKE_KEY");
  for (int layer = LLM_LAYER_L2; layer <= LLM_LAYER_L4; layer++) {
    json_t *b = load_body(llm_wire_anthropic_request(&s, layer, SYSTEM, USER));
    CHECK_STREQ(str_at(b, "model"), "claude-sonnet-4");
    CHECK_EQ(json_integer_value(json_object_get(b, "max_tokens")), 2048);
    CHECK_STREQ(str_at(b, "system"), SYSTEM);
    json_t *msgs = json_object_get(b, "messages");
    CHECK_EQ(json_array_size(msgs), 1);
    CHECK_STREQ(str_at(json_array_get(msgs, 0), "role"), "user");
    CHECK_STREQ(str_at(json_array_get(msgs, 0), "content"), USER);
    CHECK_NEAR(json_number_value(json_object_get(b, "temperature")), 0, 0);
    CHECK(json_object_get(b, "response_format") == NULL);
    CHECK_EQ(json_object_size(b), 5);
    json_decref(b);
  }
  llm_spec t = spec("anthropic:model=m,temperature=default,max_tokens=64000");
  json_t *b = load_body(llm_wire_anthropic_request(&t, LLM_LAYER_L4, NULL, USER));
  CHECK(json_object_get(b, "system") == NULL);
  CHECK(json_object_get(b, "temperature") == NULL);
  CHECK_EQ(json_integer_value(json_object_get(b, "max_tokens")), 64000);
  json_decref(b);

  llm_spec o = spec("openai:base_url=http://localhost/v1,model=m");
  CHECK(llm_wire_anthropic_request(&o, LLM_LAYER_L2, SYSTEM, USER) == NULL);
  CHECK(llm_wire_anthropic_request(&s, 0, SYSTEM, USER) == NULL);
  CHECK(llm_wire_anthropic_request(&s, LLM_LAYER_L2, SYSTEM, NULL) == NULL);
  CHECK(llm_wire_anthropic_request(&s, LLM_LAYER_L2, "\xff", USER) == NULL);
  CHECK(llm_wire_anthropic_request(&s, LLM_LAYER_L2, SYSTEM, "\xff") == NULL);
}

/* Lines that carry the key carry it exactly once; no other line does. */
static int key_lines(const llm_wire_headers *h) {
  int n = 0;
  for (int i = 0; i < h->n; i++)
    n += strstr(h->line[i], FAKE_KEY) != NULL;
  return n;
}

static void test_headers(void) {
  llm_spec s = spec("openai:model=m,api_key_env=FLEETSIM_FAKE_KEY");
  const char *key = llm_spec_api_key(&s);
  CHECK_STREQ(key, FAKE_KEY);
  llm_wire_headers h;
  CHECK_EQ(llm_wire_openai_headers(key, &h), 0);
  CHECK_EQ(h.n, 3);
  CHECK_STREQ(h.line[0], "Content-Type: application/json");
  CHECK_STREQ(h.line[1], "Accept: application/json");
  CHECK_STREQ(h.line[2], "Authorization: Bearer sk-FAKE-planted-0123456789abcdef");
  CHECK_EQ(key_lines(&h), 1);
  llm_wire_headers_clear(&h);
  CHECK_EQ(h.n, 0);
  CHECK(h.line[0] == NULL && h.line[2] == NULL);
  llm_wire_headers_clear(&h); /* twice is fine */

  CHECK_EQ(llm_wire_anthropic_headers(key, &h), 0);
  CHECK_EQ(h.n, 4);
  CHECK_STREQ(h.line[0], "Content-Type: application/json");
  CHECK_STREQ(h.line[1], "Accept: application/json");
  CHECK_STREQ(h.line[2], "anthropic-version: 2023-06-01");
  CHECK_STREQ(h.line[3], "x-api-key: sk-FAKE-planted-0123456789abcdef");
  CHECK_EQ(key_lines(&h), 1);
  llm_wire_headers_clear(&h);

  /* no key: a local server */
  CHECK_EQ(llm_wire_openai_headers(NULL, &h), 0);
  CHECK_EQ(h.n, 2);
  CHECK(strstr(h.line[0], "Authorization") == NULL && strstr(h.line[1], "Authorization") == NULL);
  llm_wire_headers_clear(&h);
  CHECK_EQ(llm_wire_anthropic_headers(NULL, &h), 0);
  CHECK_EQ(h.n, 3);
  llm_wire_headers_clear(&h);

  /* header injection */
  static const char *const evil[] = {"sk-abc\r\nX-Evil: 1", "sk abc", "sk-abc\n", "\x7f"};
  for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
    CHECK_EQ(llm_wire_openai_headers(evil[i], &h), FS_EINVAL);
    CHECK_EQ(h.n, 0);
    CHECK_EQ(llm_wire_anthropic_headers(evil[i], &h), FS_EINVAL);
    CHECK_EQ(h.n, 0);
  }
}

/* Runs a parser on body; check_count rc, text, tokens and reason. */
typedef int (*parse_fn)(const char *, char **, long *, long *, char *, size_t);

static void parses(parse_fn f, const char *body, const char *text, long in, long out) {
  char *got = NULL, why[256] = "";
  long ti = 0, to = 0;
  int rc = f(body, &got, &ti, &to, why, sizeof why);
  if (rc != 0)
    CHECK_FAIL("parse failed: %s\n%s", why, body);
  CHECK_STREQ(got, text);
  CHECK_EQ(ti, in);
  CHECK_EQ(to, out);
  free(got);
}

static void fails(parse_fn f, const char *body, const char *want, long in, long out) {
  char *got = (char *)"unset", why[256] = "";
  long ti = 0, to = 0;
  CHECK_EQ(f(body, &got, &ti, &to, why, sizeof why), FS_EINVAL);
  CHECK(got == NULL);
  CHECK_STREQ(why, want);
  CHECK_EQ(ti, in);
  CHECK_EQ(to, out);
}

static void fails_prefix(parse_fn f, const char *body, const char *prefix) {
  char *got = NULL, why[256] = "";
  long ti = 0, to = 0;
  CHECK_EQ(f(body, &got, &ti, &to, why, sizeof why), FS_EINVAL);
  CHECK(got == NULL);
  if (strncmp(why, prefix, strlen(prefix)) != 0)
    CHECK_FAIL("reason '%s' does not start with '%s'", why, prefix);
  CHECK_EQ(ti, -1);
  CHECK_EQ(to, -1);
}

static const char HTML[] =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
    "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

static void test_openai_parse(void) {
  /* api.openai.com, structured output */
  parses(llm_wire_openai_parse,
         "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion\","
         "\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,"
         "\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"classification\\\":\\\"noise\\\"}"
         "\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
         "\"usage\":{\"prompt_tokens\":1117,\"completion_tokens\":46,\"total_tokens\":1163,"
         "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
         "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0}},"
         "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\"}",
         "{\"classification\":\"noise\"}", 1117, 46);
  /* vLLM, with reasoning kept apart and markdown content */
  parses(llm_wire_openai_parse,
         "{\"id\":\"chatcmpl-9d1c\",\"object\":\"chat.completion\",\"created\":1745000000,"
         "\"model\":\"gemma-4-26b\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
         "\"assistant\",\"reasoning_content\":\"thinking...\",\"content\":\"## Active "
         "incidents\\nnone \\u00b0C\",\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":"
         "\"stop\",\"stop_reason\":null}],\"usage\":{\"prompt_tokens\":890,\"total_tokens\":"
         "990,\"completion_tokens\":100,\"prompt_tokens_details\":null},\"prompt_logprobs\":null}",
         "## Active incidents\nnone \xc2\xb0"
         "C",
         890, 100);
  /* content as an array of parts; no usage at all */
  parses(llm_wire_openai_parse,
         "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
         "\"text\":\"part one, \"},{\"type\":\"text\",\"text\":\"part two\"}]},\"finish_reason\":"
         "\"stop\"}]}",
         "part one, part two", -1, -1);
  /* "error": null is no error; usage fields of the wrong type are unknown */
  parses(llm_wire_openai_parse,
         "{\"error\":null,\"choices\":[{\"message\":{\"content\":\"ok\"}}],\"usage\":"
         "{\"prompt_tokens\":\"12\",\"completion_tokens\":3}}",
         "ok", -1, 3);

  /* error envelopes: OpenAI, vLLM, Ollama, string */
  fails(llm_wire_openai_parse,
        "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in organization org-x on "
        "tokens per min (TPM): Limit 200000, Used 199000.\",\"type\":\"tokens\",\"param\":null,"
        "\"code\":\"rate_limit_exceeded\"}}",
        "API error (tokens): Rate limit reached for gpt-4o-mini in organization org-x on tokens "
        "per min (TPM): Limit 200000, Used 199000.",
        -1, -1);
  fails(llm_wire_openai_parse,
        "{\"object\":\"error\",\"message\":\"The model `gemma-5` does not exist.\",\"type\":"
        "\"NotFoundError\",\"param\":null,\"code\":404}",
        "API error (NotFoundError): The model `gemma-5` does not exist.", -1, -1);
  fails(llm_wire_openai_parse,
        "{\"error\":{\"message\":\"model \\\"llama3\\\" not found, try pulling it first\","
        "\"type\":\"api_error\",\"param\":null,\"code\":null}}",
        "API error (api_error): model \"llama3\" not found, try pulling it first", -1, -1);
  fails(llm_wire_openai_parse, "{\"error\":\"upstream timed out\"}",
        "API error: upstream timed out", -1, -1);
  fails(llm_wire_openai_parse, "{\"error\":{\"code\":500}}", "API error: (no message)", -1, -1);
  fails(llm_wire_openai_parse, "{\"object\":\"error\"}", "API error: (no message)", -1, -1);

  /* not JSON, not an object, empty */
  fails_prefix(llm_wire_openai_parse, HTML, "not JSON: ");
  char why[256];
  char *got = NULL;
  CHECK_EQ(llm_wire_openai_parse(HTML, &got, NULL, NULL, why, sizeof why), FS_EINVAL);
  CHECK(strstr(why, "; body starts with '<html>  <head><title>502 Bad Gateway</title></he...'") !=
     NULL);
  CHECK(strchr(why, '\r') == NULL && strchr(why, '\n') == NULL);
  fails_prefix(llm_wire_openai_parse, "\x01\x02\x03garbage\xff", "not JSON: ");
  CHECK_EQ(llm_wire_openai_parse("\x01\x02\x03garbage", &got, NULL, NULL, why, sizeof why), FS_EINVAL);
  CHECK(strstr(why, "body starts with '   garbage'") != NULL);
  fails_prefix(llm_wire_openai_parse, "{\"choices\": [{\"message\": {\"content\": \"cut",
               "not JSON: ");
  fails(llm_wire_openai_parse, "[1, 2]", "not a JSON object: body starts with '[1, 2]'", -1, -1);
  fails(llm_wire_openai_parse, "", "empty body", -1, -1);
  fails(llm_wire_openai_parse, " \r\n", "empty body", -1, -1);
  fails(llm_wire_openai_parse, NULL, "empty body", -1, -1);

  /* well-formed but no answer; tokens still reported */
  fails(llm_wire_openai_parse,
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":"
        "\"I'm sorry, I can't help with that.\"},\"finish_reason\":\"stop\"}],\"usage\":"
        "{\"prompt_tokens\":10,\"completion_tokens\":9}}",
        "model refused: I'm sorry, I can't help with that.", 10, 9);
  fails(llm_wire_openai_parse,
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"reasoning_content\":\"long thought\"},\"finish_reason\":\"length\"}],\"usage\":"
        "{\"prompt_tokens\":900,\"completion_tokens\":1024}}",
        "no answer text (finish_reason 'length')", 900, 1024);
  fails(llm_wire_openai_parse, "{\"choices\":[{\"message\":{\"content\":\"\"}}]}",
        "no answer text (finish_reason 'none')", -1, -1);
  fails(llm_wire_openai_parse, "{\"choices\":[],\"usage\":{\"prompt_tokens\":5}}",
        "no choices[0].message in the response", 5, -1);
  fails(llm_wire_openai_parse, "{\"id\":\"x\"}", "no choices[0].message in the response", -1, -1);

  /* a long or hostile API message is cut and cleaned, never a format */
  char body[1024], msg[600];
  memset(msg, 'e', 500);
  msg[500] = '\0';
  memcpy(msg, "%n%s\\n", 6);
  snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\"}}", msg);
  CHECK_EQ(llm_wire_openai_parse(body, &got, NULL, NULL, why, sizeof why), FS_EINVAL);
  CHECK(strncmp(why, "API error: %n%s eeee", 20) == 0);
  CHECK_EQ(strlen(why), strlen("API error: ") + 200 + 3);
  CHECK(strcmp(why + strlen(why) - 3, "...") == 0);
  CHECK_EQ(llm_wire_openai_parse(body, &got, NULL, NULL, NULL, 0), FS_EINVAL);
}

static void test_anthropic_parse(void) {
  parses(llm_wire_anthropic_parse,
         "{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\","
         "\"model\":\"claude-sonnet-4-20250514\",\"content\":[{\"type\":\"text\",\"text\":"
         "\"```json\\n{\\\"priority\\\": \\\"P1\\\"}\\n```\"}],\"stop_reason\":\"end_turn\","
         "\"stop_sequence\":null,\"usage\":{\"input_tokens\":2095,\"cache_creation_input_tokens\":"
         "0,\"cache_read_input_tokens\":0,\"output_tokens\":503,\"service_tier\":\"standard\"}}",
         "```json\n{\"priority\": \"P1\"}\n```", 2095, 503);
  /* thinking and tool blocks skipped, text blocks joined; cache tokens are input */
  parses(llm_wire_anthropic_parse,
         "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hmm\","
         "\"signature\":\"abc\"},{\"type\":\"text\",\"text\":\"part1 \"},{\"type\":\"tool_use\","
         "\"id\":\"t\",\"name\":\"n\",\"input\":{},\"text\":\"not me\"},{\"type\":\"text\","
         "\"text\":\"part2\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":100,"
         "\"cache_creation_input_tokens\":20,\"cache_read_input_tokens\":30,\"output_tokens\":7}}",
         "part1 part2", 150, 7);
  parses(llm_wire_anthropic_parse,
         "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}", "x", -1, -1);

  fails(llm_wire_anthropic_parse,
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
        "API error (overloaded_error): Overloaded", -1, -1);
  fails(llm_wire_anthropic_parse,
        "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":"
        "\"invalid x-api-key\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}",
        "API error (authentication_error): invalid x-api-key", -1, -1);
  fails(llm_wire_anthropic_parse,
        "{\"type\":\"message\",\"content\":[],\"stop_reason\":\"max_tokens\",\"usage\":"
        "{\"input_tokens\":3000,\"output_tokens\":2048}}",
        "no answer text (stop_reason 'max_tokens')", 3000, 2048);
  fails(llm_wire_anthropic_parse,
        "{\"type\":\"message\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"x\"}],"
        "\"stop_reason\":\"refusal\"}",
        "no answer text (stop_reason 'refusal')", -1, -1);
  fails(llm_wire_anthropic_parse, "{\"type\":\"message\",\"content\":\"plain\"}",
        "no answer text (stop_reason 'none')", -1, -1);
  fails_prefix(llm_wire_anthropic_parse, HTML, "not JSON: ");
  fails_prefix(llm_wire_anthropic_parse, "Internal Server Error", "not JSON: ");
  fails_prefix(llm_wire_anthropic_parse, "\"just a string\"", "not JSON: ");
  fails(llm_wire_anthropic_parse, "[{\"type\":\"text\",\"text\":\"x\"}]",
        "not a JSON object: body starts with '[{\"type\":\"text\",\"text\":\"x\"}]'", -1, -1);
  fails(llm_wire_anthropic_parse, "", "empty body", -1, -1);
}

static void test_cost_and_estimate(void) {
  llm_spec s = spec("anthropic:model=claude-sonnet-4,price_in=3,price_out=15");
  CHECK_NEAR(llm_cost_usd(&s, 1000000, 1000000), 18, 1e-12);
  CHECK_NEAR(llm_cost_usd(&s, 2095, 503), (2095 * 3.0 + 503 * 15.0) / 1e6, 1e-15);
  CHECK_NEAR(llm_cost_usd(&s, 2095, 503), 0.01383, 1e-12);
  CHECK_NEAR(llm_cost_usd(&s, -1, 503), 503 * 15.0 / 1e6, 1e-15);
  CHECK_NEAR(llm_cost_usd(&s, -1, -1), 0, 0);
  CHECK_NEAR(llm_cost_usd(&s, 0, 0), 0, 0);
  llm_spec q = spec("openai:base_url=https://inference.example.com/v1,model=Qwen/Qwen3.5-397B,"
                    "api_key_env=FLEETSIM_FAKE_KEY,price_in=0.6,price_out=3.6");
  /* the seed's L4 day: 38,170 tokens; say 30,000 in and 8,170 out */
  CHECK_NEAR(llm_cost_usd(&q, 30000, 8170), 0.018 + 0.029412, 1e-12);
  llm_spec local = spec("openai:base_url=http://127.0.0.1:8000/v1,model=m,gpu_hour_usd=0.4");
  CHECK_NEAR(llm_cost_usd(&local, 123456, 7890), 0, 0); /* GPU time is not per token */

  CHECK_EQ(llm_estimate_tokens(NULL), 0);
  CHECK_EQ(llm_estimate_tokens(""), 0);
  CHECK_EQ(llm_estimate_tokens("a"), 1);
  CHECK_EQ(llm_estimate_tokens("abcd"), 1);
  CHECK_EQ(llm_estimate_tokens("abcde"), 2);
  CHECK_EQ(llm_estimate_tokens("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 1); /* 4 characters, 8 bytes */
  char *big = malloc(4001);
  if (!big)
    CHECK_FAIL("out of memory");
  memset(big, 'x', 4000);
  big[4000] = '\0';
  CHECK_EQ(llm_estimate_tokens(big), 1000);
  free(big);
}

int main(void) {
  setenv("OPENAI_API_KEY", FAKE_KEY, 1);
  setenv("ANTHROPIC_API_KEY", FAKE_KEY, 1);
  setenv("FLEETSIM_FAKE_KEY", FAKE_KEY, 1);
  test_caps_and_endpoints();
  test_openai_request();
  test_anthropic_request();
  test_headers();
  test_openai_parse();
  test_anthropic_parse();
  test_cost_and_estimate();
  printf("unit_llm_wire: %ld checks passed\n", check_count);
  return 0;
}
