/* Unit tests of backend SPEC parsing (pipeline/llm/llm_spec.c): defaults of every
 * kind, docs/design.md's examples, every key, loopback detection, the exact
 * message of each kind of mistake (one diag each, FS_EUSAGE), and that a
 * planted API key never lands in the struct or in a message. No MPI, no
 * network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/llm/llm_spec.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "tests/check.h"


static const char FAKE_KEY[] = "sk-FAKE-planted-0123456789abcdef";

/* 1 when the bytes of needle occur anywhere in the n bytes at p. */
static int contains_bytes(const void *p, size_t n, const char *needle) {
  size_t m = strlen(needle);
  for (size_t i = 0; i + m <= n; i++)
    if (memcmp((const char *)p + i, needle, m) == 0)
      return 1;
  return 0;
}

/* Parses a spec that must be good; fails the test with the message if not. */
static llm_spec good(const char *text) {
  llm_spec s;
  diag_clear();
  int rc = llm_spec_parse(text, &s);
  if (rc != 0)
    CHECK_FAIL("spec '%s' rejected: %s", text, diag_first());
  CHECK_EQ(diag_count(), 0);
  CHECK(!contains_bytes(&s, sizeof s, FAKE_KEY));
  return s;
}

/* A spec that must fail with exactly one message, equal to want. */
static void bad(const char *text, const char *want) {
  llm_spec s;
  diag_clear();
  int rc = llm_spec_parse(text, &s);
  if (rc != FS_EUSAGE)
    CHECK_FAIL("spec '%s': rc %d, expected FS_EUSAGE", text, rc);
  CHECK_EQ(diag_count(), 1);
  CHECK_STREQ(diag_first(), want);
  CHECK(strstr(diag_first(), "FAKE") == NULL);
}

static void test_defaults(void) {
  llm_spec s = good("rules");
  CHECK_EQ(s.kind, LLM_KIND_RULES);
  CHECK_STREQ(s.name, "rules");
  CHECK_STREQ(s.base_url, "");
  CHECK_STREQ(s.model, "");
  CHECK_STREQ(s.api_key_env, "");
  CHECK_STREQ(s.path, "");
  CHECK_NEAR(s.timeout_s, 120, 0);
  CHECK_EQ(s.retries, 2);
  CHECK_EQ(s.concurrency, 8);
  CHECK_NEAR(s.price_in, 0, 0);
  CHECK_NEAR(s.price_out, 0, 0);
  CHECK_NEAR(s.gpu_hour_usd, 0, 0);
  CHECK_EQ(s.max_tokens, 0);
  CHECK_EQ(s.json_schema, 1);
  CHECK_NEAR(s.temperature, 0, 0);
  CHECK_EQ(s.key_optional, 0);
  CHECK(llm_spec_api_key(&s) == NULL);

  s = good("rules:");
  CHECK_STREQ(s.name, "rules");
  s = good("rules:name=rules-v2.1_fast");
  CHECK_STREQ(s.name, "rules-v2.1_fast");

  s = good("replay:path=DIR/llm/rules.jsonl");
  CHECK_EQ(s.kind, LLM_KIND_REPLAY);
  CHECK_STREQ(s.name, "replay");
  CHECK_STREQ(s.path, "DIR/llm/rules.jsonl");
  s = good("replay:name=again,path=/runs/a b/llm/x=y:z.jsonl");
  CHECK_STREQ(s.name, "again");
  CHECK_STREQ(s.path, "/runs/a b/llm/x=y:z.jsonl");

  CHECK_STREQ(llm_kind_name(LLM_KIND_RULES), "rules");
  CHECK_STREQ(llm_kind_name(LLM_KIND_OPENAI), "openai");
  CHECK_STREQ(llm_kind_name(LLM_KIND_ANTHROPIC), "anthropic");
  CHECK_STREQ(llm_kind_name(LLM_KIND_REPLAY), "replay");
  CHECK_STREQ(llm_kind_name(LLM_KIND_COUNT), "unknown");
}

/* The SPEC examples of docs/design.md section 3, and the defaults they imply. */
static void test_design_examples(void) {
  unsetenv("OPENAI_API_KEY");
  llm_spec s = good("openai:base_url=http://127.0.0.1:8000/v1,model=gemma-4-26b,concurrency=8");
  CHECK_EQ(s.kind, LLM_KIND_OPENAI);
  CHECK_STREQ(s.base_url, "http://127.0.0.1:8000/v1");
  CHECK_STREQ(s.model, "gemma-4-26b");
  CHECK_STREQ(s.name, "gemma-4-26b");
  CHECK_STREQ(s.api_key_env, "OPENAI_API_KEY");
  CHECK_EQ(s.concurrency, 8);
  CHECK_EQ(s.key_optional, 1);
  CHECK_EQ(s.max_tokens, 0);
  CHECK(llm_spec_api_key(&s) == NULL);

  setenv("TOGETHER_API_KEY", FAKE_KEY, 1);
  s = good("openai:base_url=https://inference.example.com/v1,model=Qwen/Qwen3.5-397B,"
           "api_key_env=TOGETHER_API_KEY,price_in=0.6,price_out=3.6");
  CHECK_STREQ(s.name, "Qwen_Qwen3.5-397B");
  CHECK_STREQ(s.model, "Qwen/Qwen3.5-397B");
  CHECK_STREQ(s.api_key_env, "TOGETHER_API_KEY");
  CHECK_NEAR(s.price_in, 0.6, 1e-12);
  CHECK_NEAR(s.price_out, 3.6, 1e-12);
  CHECK_EQ(s.key_optional, 0);
  CHECK_STREQ(llm_spec_api_key(&s), FAKE_KEY);
  unsetenv("TOGETHER_API_KEY");

  setenv("ANTHROPIC_API_KEY", FAKE_KEY, 1);
  s = good("anthropic:model=claude-sonnet-4,api_key_env=ANTHROPIC_API_KEY");
  CHECK_EQ(s.kind, LLM_KIND_ANTHROPIC);
  CHECK_STREQ(s.name, "claude-sonnet-4");
  CHECK_STREQ(s.base_url, "https://api.anthropic.com/v1");
  CHECK_EQ(s.max_tokens, 2048);
  CHECK_STREQ(llm_spec_api_key(&s), FAKE_KEY);
  s = good("anthropic:model=claude-opus-4");
  CHECK_STREQ(s.api_key_env, "ANTHROPIC_API_KEY");
  unsetenv("ANTHROPIC_API_KEY");
}

static void test_every_key(void) {
  setenv("OPENAI_API_KEY", FAKE_KEY, 1);
  llm_spec s = good("openai:model=gpt-4o-mini");
  CHECK_STREQ(s.base_url, "https://api.openai.com/v1");
  CHECK_STREQ(s.name, "gpt-4o-mini");
  CHECK_STREQ(llm_spec_api_key(&s), FAKE_KEY);

  s = good("openai:name=local-gemma,base_url=http://localhost:11434/v1//,model=gemma:27b,"
           "api_key_env=MY_KEY_9,timeout_s=0.5,retries=0,concurrency=256,price_in=0,"
           "price_out=1e1,gpu_hour_usd=0.35,max_tokens=512,json_schema=0,temperature=0.7");
  CHECK_STREQ(s.name, "local-gemma");
  CHECK_STREQ(s.base_url, "http://localhost:11434/v1");
  CHECK_STREQ(s.model, "gemma:27b");
  CHECK_STREQ(s.api_key_env, "MY_KEY_9");
  CHECK_NEAR(s.timeout_s, 0.5, 0);
  CHECK_EQ(s.retries, 0);
  CHECK_EQ(s.concurrency, 256);
  CHECK_NEAR(s.price_out, 10, 0);
  CHECK_NEAR(s.gpu_hour_usd, 0.35, 1e-12);
  CHECK_EQ(s.max_tokens, 512);
  CHECK_EQ(s.json_schema, 0);
  CHECK_NEAR(s.temperature, 0.7, 1e-12);
  CHECK_EQ(s.key_optional, 1);
  CHECK(llm_spec_api_key(&s) == NULL); /* MY_KEY_9 is unset */

  s = good("openai:model=gpt-5.4,temperature=default,max_tokens=8000");
  CHECK_NEAR(s.temperature, -1, 0);
  CHECK_EQ(s.max_tokens, 8000);
  s = good("openai:model=ollama/llama3:8b@q4");
  CHECK_STREQ(s.name, "ollama_llama3_8b_q4");
  s = good("openai:model=.hidden");
  CHECK_STREQ(s.name, "_hidden");
  s = good("anthropic:base_url=https://proxy.example.com/anthropic/v1/,model=m,max_tokens=1,"
           "api_key_env=OPENAI_API_KEY,retries=10,concurrency=1,timeout_s=3600");
  CHECK_STREQ(s.base_url, "https://proxy.example.com/anthropic/v1");
  CHECK_EQ(s.max_tokens, 1);
  CHECK_EQ(s.retries, 10);
  CHECK_EQ(s.concurrency, 1);

  /* a model name of exactly 255 characters fits; the stem is cut to 63 */
  char spec[400], model[256];
  memset(model, 'm', 255);
  model[255] = '\0';
  snprintf(spec, sizeof spec, "openai:model=%s", model);
  s = good(spec);
  CHECK_EQ(strlen(s.model), 255);
  CHECK_EQ(strlen(s.name), LLM_SPEC_NAME_LEN - 1);
}

static void test_loopback(void) {
  unsetenv("OPENAI_API_KEY");
  static const char *const local[] = {
      "openai:model=m,base_url=http://localhost:8000/v1",
      "openai:model=m,base_url=http://LOCALHOST/v1",
      "openai:model=m,base_url=http://127.0.0.1",
      "openai:model=m,base_url=https://127.0.0.1:443/",
      "openai:model=m,base_url=http://[::1]:8080/v1",
      "anthropic:model=m,base_url=http://localhost:9999/v1",
  };
  for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
    CHECK_EQ(good(local[i]).key_optional, 1);
  static const char *const remote[] = {
      "openai:model=m,base_url=http://localhost.example.com/v1",
      "openai:model=m,base_url=http://127.0.0.1.nip.io/v1",
      "openai:model=m,base_url=http://10.0.0.5:8000/v1",
      "openai:model=m,base_url=http://[::2]/v1",
  };
  for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
    char want[300];
    snprintf(want, sizeof want,
             "backend '%s': key 'api_key_env': environment variable OPENAI_API_KEY is not set "
             "or empty (API keys come only from the environment; a base_url on localhost "
             "needs none)",
             remote[i]);
    bad(remote[i], want);
  }
  setenv("OPENAI_API_KEY", "", 1); /* empty counts as unset */
  bad("openai:model=gpt-4o-mini",
      "backend 'openai:model=gpt-4o-mini': key 'api_key_env': environment variable "
      "OPENAI_API_KEY is not set or empty (API keys come only from the environment; a "
      "base_url on localhost needs none)");
  llm_spec s = good("openai:model=m,base_url=http://localhost/v1");
  CHECK(llm_spec_api_key(&s) == NULL);
  unsetenv("ANTHROPIC_API_KEY");
  bad("anthropic:model=claude-sonnet-4",
      "backend 'anthropic:model=claude-sonnet-4': key 'api_key_env': environment variable "
      "ANTHROPIC_API_KEY is not set or empty (API keys come only from the environment; a "
      "base_url on localhost needs none)");
  CHECK(llm_spec_api_key(NULL) == NULL);
}

static void test_bad_specs(void) {
  setenv("OPENAI_API_KEY", FAKE_KEY, 1);
  setenv("ANTHROPIC_API_KEY", FAKE_KEY, 1);
  bad("", "backend '': empty spec (expected KIND[:key=value,...], e.g. rules)");
  bad(NULL, "backend '': empty spec (expected KIND[:key=value,...], e.g. rules)");
  bad("gemini:model=x",
      "backend 'gemini:model=x': unknown kind 'gemini' (kinds: rules, openai, anthropic, replay)");
  bad("OpenAI:model=x",
      "backend 'OpenAI:model=x': unknown kind 'OpenAI' (kinds: rules, openai, anthropic, replay)");
  bad(":model=x", "backend ':model=x': unknown kind '' (kinds: rules, openai, anthropic, replay)");
  bad("openai:model=m,colour=red",
      "backend 'openai:model=m,colour=red': unknown key 'colour' (value 'red'); keys for "
      "openai: name, base_url, model, api_key_env, timeout_s, retries, concurrency, price_in, "
      "price_out, gpu_hour_usd, max_tokens, json_schema, temperature");
  bad("rules:model=x",
      "backend 'rules:model=x': inapplicable key 'model' (value 'x'); keys for rules: name");
  bad("replay:path=p,timeout_s=3",
      "backend 'replay:path=p,timeout_s=3': inapplicable key 'timeout_s' (value '3'); keys "
      "for replay: name, path");
  bad("anthropic:model=m,json_schema=1",
      "backend 'anthropic:model=m,json_schema=1': inapplicable key 'json_schema' (value '1'); "
      "keys for anthropic: name, base_url, model, api_key_env, timeout_s, retries, "
      "concurrency, price_in, price_out, gpu_hour_usd, max_tokens, temperature");
  bad("openai:model=a,model=b",
      "backend 'openai:model=a,model=b': key 'model' given twice ('a' and 'b')");
  bad("rules:name=x,name=x", "backend 'rules:name=x,name=x': key 'name' given twice ('x' and 'x')");
  bad("openai:model=m,retries=x",
      "backend 'openai:model=m,retries=x': key 'retries': value 'x' is not an integer");
  bad("openai:model=m,retries=1.5",
      "backend 'openai:model=m,retries=1.5': key 'retries': value '1.5' is not an integer");
  bad("openai:model=m,retries=11",
      "backend 'openai:model=m,retries=11': key 'retries': value '11' is out of range [0, 10]");
  bad("openai:model=m,concurrency=0",
      "backend 'openai:model=m,concurrency=0': key 'concurrency': value '0' is out of range "
      "[1, 256]");
  bad("openai:model=m,concurrency=257",
      "backend 'openai:model=m,concurrency=257': key 'concurrency': value '257' is out of "
      "range [1, 256]");
  bad("openai:model=m,timeout_s=abc",
      "backend 'openai:model=m,timeout_s=abc': key 'timeout_s': value 'abc' is not a number");
  bad("openai:model=m,timeout_s=nan",
      "backend 'openai:model=m,timeout_s=nan': key 'timeout_s': value 'nan' is not a number");
  bad("openai:model=m,timeout_s=inf",
      "backend 'openai:model=m,timeout_s=inf': key 'timeout_s': value 'inf' is not a number");
  bad("openai:model=m,timeout_s=0x10",
      "backend 'openai:model=m,timeout_s=0x10': key 'timeout_s': value '0x10' is not a number");
  bad("openai:model=m,timeout_s= 5",
      "backend 'openai:model=m,timeout_s= 5': key 'timeout_s': value ' 5' is not a number");
  bad("openai:model=m,timeout_s=",
      "backend 'openai:model=m,timeout_s=': key 'timeout_s': value '' is not a number");
  bad("openai:model=m,timeout_s=1e999",
      "backend 'openai:model=m,timeout_s=1e999': key 'timeout_s': value '1e999' is not a "
      "number");
  bad("openai:model=m,timeout_s=0",
      "backend 'openai:model=m,timeout_s=0': key 'timeout_s': value '0' is out of range "
      "[0.01, 3600]");
  bad("openai:model=m,price_in=-1",
      "backend 'openai:model=m,price_in=-1': key 'price_in': value '-1' is out of range "
      "[0, 10000]");
  bad("openai:model=m,json_schema=2",
      "backend 'openai:model=m,json_schema=2': key 'json_schema': value '2' is out of range "
      "[0, 1]");
  bad("openai:model=m,temperature=3",
      "backend 'openai:model=m,temperature=3': key 'temperature': value '3' is out of range "
      "[0, 2] (or default)");
  bad("openai:model=m,max_tokens=default",
      "backend 'openai:model=m,max_tokens=default': key 'max_tokens': value 'default' is not "
      "an integer");
  bad("openai:base_url=http://localhost:8000/v1",
      "backend 'openai:base_url=http://localhost:8000/v1': missing key 'model' (required for "
      "openai)");
  bad("anthropic", "backend 'anthropic': missing key 'model' (required for anthropic)");
  bad("replay", "backend 'replay': missing key 'path' (required for replay)");
  bad("replay:name=r", "backend 'replay:name=r': missing key 'path' (required for replay)");
  bad("openai:model=m,name=a/b",
      "backend 'openai:model=m,name=a/b': key 'name': value 'a/b' is not a safe file stem "
      "([A-Za-z0-9._-]+, not starting with '.')");
  bad("rules:name=../x",
      "backend 'rules:name=../x': key 'name': value '../x' is not a safe file stem "
      "([A-Za-z0-9._-]+, not starting with '.')");
  bad("rules:name=.hidden",
      "backend 'rules:name=.hidden': key 'name': value '.hidden' is not a safe file stem "
      "([A-Za-z0-9._-]+, not starting with '.')");
  bad("rules:name=a b", "backend 'rules:name=a b': key 'name': value 'a b' is not a safe file stem "
                        "([A-Za-z0-9._-]+, not starting with '.')");
  bad("openai:model=m,name=", "backend 'openai:model=m,name=': key 'name': value '' is empty");
  bad("openai:model=", "backend 'openai:model=': key 'model': value '' is empty");
  bad("openai:model=a\tb",
      "backend 'openai:model=a\tb': key 'model': value 'a\tb' contains a control character");
  bad("openai:model", "backend 'openai:model': key 'model' has no value (expected model=VALUE)");
  bad("openai:model=m,,retries=1",
      "backend 'openai:model=m,,retries=1': empty key in pair 2 (expected key=value)");
  bad("openai:model=m,=x", "backend 'openai:model=m,=x': empty key in pair 2 (expected key=value)");
  bad("rules:,", "backend 'rules:,': empty key in pair 1 (expected key=value)");
  bad("openai:model=m,base_url=ftp://x",
      "backend 'openai:model=m,base_url=ftp://x': key 'base_url': value 'ftp://x' is not an "
      "http:// or https:// URL");
  bad("openai:model=m,base_url=http://",
      "backend 'openai:model=m,base_url=http://': key 'base_url': value 'http://' has no host");
  bad("openai:model=m,base_url=http://:80/v1",
      "backend 'openai:model=m,base_url=http://:80/v1': key 'base_url': value 'http://:80/v1' "
      "has no host");
  bad("openai:model=m,base_url=http://a b/v1",
      "backend 'openai:model=m,base_url=http://a b/v1': key 'base_url': value 'http://a b/v1' "
      "contains a space or control character");

  char spec[LLM_SPEC_MAX_LEN + 100];
  memset(spec, 'x', sizeof spec - 1);
  spec[sizeof spec - 1] = '\0';
  memcpy(spec, "openai:model=", 13);
  bad(spec, "backend 'openai:...': spec longer than 8192 characters");
  char model[400];
  memset(model, 'm', 300);
  model[300] = '\0';
  snprintf(spec, sizeof spec, "openai:model=%s", model);
  char want[1024];
  snprintf(want, sizeof want,
           "backend '%s': key 'model': a value of 300 characters is too long (at most 255)", spec);
  want[511] = '\0'; /* diag keeps 511 characters */
  bad(spec, want);
  strcpy(spec, "rules");
  for (int i = 0; i < 65; i++)
    strcat(spec, i ? ",name=x" : ":name=x");
  bad(spec, "backend 'rules:...': more than 64 key=value pairs");

  /* the first problem is the one reported */
  bad("openai:retries=x,concurrency=0",
      "backend 'openai:retries=x,concurrency=0': key 'retries': value 'x' is not an integer");
}

/* A key pasted into the spec never shows in a message. */
static void test_secrets(void) {
  setenv("OPENAI_API_KEY", FAKE_KEY, 1);
  char spec[256];
  snprintf(spec, sizeof spec, "openai:model=m,api_key=%s", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,api_key=***': key 'api_key' is not accepted: API keys "
            "come only from environment variables (export VAR and pass api_key_env=VAR)");
  snprintf(spec, sizeof spec, "rules:Token=%s", FAKE_KEY);
  bad(spec, "backend 'rules:Token=***': key 'Token' is not accepted: API keys come only from "
            "environment variables (export VAR and pass api_key_env=VAR)");
  snprintf(spec, sizeof spec, "openai:retries=x,api_key=%s", FAKE_KEY);
  bad(spec, "backend 'openai:retries=x,api_key=***': key 'retries': value 'x' is not an integer");
  snprintf(spec, sizeof spec, "openai:model=m,api_key_env=%s", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,api_key_env=***': key 'api_key_env': value '***' is not "
            "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
  snprintf(spec, sizeof spec, "openai:model=m,api_key_env=A,api_key_env=%s", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,api_key_env=A,api_key_env=***': key 'api_key_env' given "
            "twice ('***' and '***')");
  snprintf(spec, sizeof spec, "openai:model=m,base_url=https://u:%s@example.com/v1", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,base_url=***': key 'base_url': value '***' carries "
            "credentials, a query or a fragment (API keys come only from environment "
            "variables)");
  snprintf(spec, sizeof spec, "openai:model=m,base_url=https://example.com/v1?key=%s", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,base_url=***': key 'base_url': value '***' carries "
            "credentials, a query or a fragment (API keys come only from environment "
            "variables)");
  snprintf(spec, sizeof spec, "rules:base_url=https://example.com/v1?key=%s", FAKE_KEY);
  bad(spec, "backend 'rules:base_url=***': inapplicable key 'base_url' (value '***'); keys for "
            "rules: name");
  snprintf(spec, sizeof spec, "openai:model=m,%s", FAKE_KEY);
  bad(spec, "backend 'openai:model=m,***': pair 2 is not key=value");
  bad(FAKE_KEY, "backend '***': unknown kind '***' (kinds: rules, openai, anthropic, replay)");
  snprintf(spec, sizeof spec, "%s:model=m", FAKE_KEY);
  bad(spec, "backend '***:model=m': unknown kind '***' (kinds: rules, openai, anthropic, replay)");
  setenv("FLEETSIM_TEST_KEY", FAKE_KEY, 1);
  llm_spec s = good("openai:model=m,api_key_env=FLEETSIM_TEST_KEY");
  CHECK_STREQ(llm_spec_api_key(&s), FAKE_KEY);
  setenv("FLEETSIM_TEST_KEY", "rotated", 1); /* read at call time, never cached */
  CHECK_STREQ(llm_spec_api_key(&s), "rotated");
  unsetenv("FLEETSIM_TEST_KEY");
  CHECK(llm_spec_api_key(&s) == NULL);
}

int main(void) {
  test_defaults();
  test_design_examples();
  test_every_key();
  test_loopback();
  test_bad_specs();
  test_secrets();
  printf("unit_llm_spec: %ld checks passed\n", check_count);
  return 0;
}
