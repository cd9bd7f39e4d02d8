/* Unit tests of the fault-kind registry (scenarios/kinds/): every kind's
 * ops table is complete, its magnitudes are typed with defaults inside their
 * bounds, units and help, its keys do not clash, and every named random
 * stream of every kind is distinct from every other (and from the generic
 * code's) and inside the scenario range, so adding a kind can never reuse
 * another kind's random numbers. Then each kind parses with its defaults on
 * a small fleet, echoes every magnitude in its ground truth, and a typo in a
 * magnitude is refused naming the file, the scenario, the key and the value. */
#include <jansson.h>
#include <string.h>

#include "scenarios/kinds/kind.h"
#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"
#include "tests/check.h"

enum { MAX_STREAMS = 256 };

/* Problems of a list of streams (owner names in `who`): a stream outside
 * [RNG_STREAM_SCENARIO, SCN_STREAM_END) or used twice, each printed. */
static int stream_problems(const uint32_t *stream, const char *const *who, int n) {
  int bad = 0;
  for (int i = 0; i < n; i++) {
    if (stream[i] < RNG_STREAM_SCENARIO || stream[i] >= SCN_STREAM_END) {
      printf("  stream %u of %s is outside [%d, %d)\n", stream[i], who[i], RNG_STREAM_SCENARIO,
             SCN_STREAM_END);
      bad++;
    }
    for (int j = 0; j < i; j++)
      if (stream[i] == stream[j]) {
        printf("  stream %u is both %s and %s\n", stream[i], who[j], who[i]);
        bad++;
      }
  }
  return bad;
}

/* The check itself fails on a planted clash and a stream out of range. */
static void test_stream_check(void) {
  const uint32_t s[] = {SCN_STREAM_TARGETS, RNG_STREAM_SCENARIO + 4, RNG_STREAM_SCENARIO + 4,
                        RNG_STREAM_DETECTION};
  const char *const who[] = {"targets", "a/x", "b/y", "c/z"};
  printf("unit_scenario_kinds: the next 2 lines are planted problems (expected)\n");
  CHECK_EQ(stream_problems(s, who, 4), 2);
  CHECK_EQ(stream_problems(s, who, 2), 0);
}

/* Every sub-stream of every kind, with the generic ones, is distinct. */
static void test_streams_distinct(void) {
  uint32_t stream[MAX_STREAMS];
  const char *who[MAX_STREAMS];
  static char names[MAX_STREAMS][96];
  int n = 0;
  stream[n] = SCN_STREAM_TARGETS;
  who[n++] = "generic/targets";
  stream[n] = SCN_STREAM_RANDOM;
  who[n++] = "generic/random";
  for (int k = 0; k < SK_COUNT; k++) {
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    for (int i = 0; i < ops->nstreams; i++) {
      CHECK(n < MAX_STREAMS);
      CHECK(ops->streams[i].name && ops->streams[i].name[0]);
      snprintf(names[n], sizeof names[n], "%s/%s", scn_kind_name((scn_kind)k),
               ops->streams[i].name);
      stream[n] = ops->streams[i].stream;
      who[n] = names[n];
      n++;
    }
  }
  if (stream_problems(stream, who, n))
    CHECK_FAIL("random streams of the kinds clash (above): give the new kind unused ones");
  /* the streams the kinds had before they were one file each */
  const struct {
    scn_kind kind;
    const char *name;
    uint32_t stream;
  } kept[] = {{SK_hbm_degradation, "pace", RNG_STREAM_SCENARIO + 4},
              {SK_fabric_microburst, "bursts", RNG_STREAM_SCENARIO + 10},
              {SK_training_straggler, "replays", RNG_STREAM_SCENARIO + 7}};
  for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
    const scn_kind_ops *ops = scn_kind_ops_of(kept[i].kind);
    int found = 0;
    for (int s = 0; s < ops->nstreams; s++)
      found |= strcmp(ops->streams[s].name, kept[i].name) == 0 &&
               ops->streams[s].stream == kept[i].stream;
    CHECK(found);
  }
  CHECK_EQ(SCN_STREAM_TARGETS, RNG_STREAM_SCENARIO);
  CHECK_EQ(SCN_STREAM_RANDOM, RNG_STREAM_SCENARIO + 20);
}

/* 1 when key is one of the keys every scenario has. */
static int common_key(const char *key) {
  return strcmp(key, "id") == 0 || strcmp(key, "kind") == 0 || strcmp(key, "start_h") == 0 ||
         strcmp(key, "duration_min") == 0;
}

static void test_tables(void) {
  CHECK_GE(SK_COUNT, 6);
  CHECK(scn_kind_ops_of(SK_COUNT) == NULL);
  CHECK_STREQ(scn_kind_name(SK_COUNT), "unknown");
  CHECK_EQ(scn_kind_by_name("meltdown"), SK_COUNT);
  for (int k = 0; k < SK_COUNT; k++) {
    const char *name = scn_kind_name((scn_kind)k);
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    CHECK(ops != NULL);
    CHECK_EQ(scn_kind_by_name(name), k);
    CHECK(ops->resolve && (ops->inject || ops->drive_jobs) && ops->random);
    CHECK(ops->random_min_lo > 0 && ops->random_min_lo <= ops->random_min_hi);
    CHECK_LE(ops->nmagnitudes, SCN_MAX_PARAMS);
    CHECK(ops->ntargets == 0 || ops->targets);
    for (int i = 0; i < ops->nmagnitudes; i++) {
      const scn_magnitude *m = &ops->magnitudes[i];
      if (!m->name || !m->units || !m->help || !m->help[0])
        CHECK_FAIL("%s magnitude %d: name, units and help are required", name, i);
      CHECK(m->min <= m->def && m->def <= m->max);
      CHECK(!m->integer || (m->def == (double)(long long)m->def && m->min == (long long)m->min));
      CHECK(!common_key(m->name));
      for (int j = 0; j < i; j++)
        CHECK(strcmp(m->name, ops->magnitudes[j].name) != 0);
      for (int t = 0; t < ops->ntargets; t++)
        CHECK(strcmp(m->name, ops->targets[t].key) != 0);
    }
    for (int t = 0; t < ops->ntargets; t++)
      CHECK(!common_key(ops->targets[t].key));
  }
}

/* tests/data/small.json's fleet: 120 nodes in 6 racks, 3 jobs, 3 h. */
static const char small_config[] =
    "{\"nodes\": 120, \"racks\": 6, \"racks_per_row\": 3, \"moe_nodes\": 36, "
    "\"dense_nodes\": 42, \"training_nodes\": 42, \"hours\": 3, \"gpu_lots\": 20, \"jobs\": ["
    "{\"id\": \"train-000\", \"model\": \"a\", \"nodes\": 16, \"step_time_s\": 2.56},"
    "{\"id\": \"train-001\", \"model\": \"b\", \"nodes\": 12, \"step_time_s\": 3.01},"
    "{\"id\": \"train-002\", \"model\": \"c\", \"nodes\": 8, \"step_time_s\": 3.25}]}";

/* Each kind with only the required keys parses on the small fleet, its
 * ground truth echoes every magnitude, and a random file parses. */
static void test_defaults_parse(const fleet *f) {
  for (int k = 0; k < SK_COUNT; k++) {
    char text[256];
    snprintf(text, sizeof text,
             "{\"scenarios\": [{\"id\": \"D\", \"kind\": \"%s\", \"start_h\": 1, "
             "\"duration_min\": 30}]}",
             scn_kind_name((scn_kind)k));
    scn_set *set = NULL;
    diag_clear();
    if (scn_parse(&set, text, "defaults.json", f) != 0)
      CHECK_FAIL("%s with its defaults: %s", scn_kind_name((scn_kind)k), diag_first());
    const scn_def *s = &set->s[0];
    CHECK(s->nnodes > 0);
    char *params = scn_params_json(s);
    json_t *o = params ? json_loads(params, 0, NULL) : NULL;
    CHECK(o != NULL);
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    for (int i = 0; i < ops->nmagnitudes; i++)
      CHECK(json_is_number(json_object_get(o, ops->magnitudes[i].name)));
    json_decref(o);
    free(params);
    scn_destroy(&set);
  }
  char *text = NULL;
  CHECK_EQ(scn_random(&text, 2 * SK_COUNT, 11, f, NULL, 0.0), 0);
  scn_set *set = NULL;
  if (scn_parse(&set, text, "random.json", f) != 0)
    CHECK_FAIL("random file: %s\n%s", diag_first(), text);
  CHECK_EQ(set->n, 2 * SK_COUNT);
  scn_destroy(&set);
  free(text);
  /* co-occurring faults: every scenario still valid, and some start inside
   * the window of the one before them */
  CHECK_EQ(scn_random(&text, 4 * SK_COUNT, 11, f, NULL, 0.5), 0);
  if (scn_parse(&set, text, "random overlap.json", f) != 0)
    CHECK_FAIL("random file with overlap: %s\n%s", diag_first(), text);
  int inside = 0;
  for (int i = 1; i < set->n; i++)
    inside += set->s[i].t_start >= set->s[i - 1].t_start && set->s[i].t_start < set->s[i - 1].t_end;
  CHECK(inside >= SK_COUNT);
  scn_destroy(&set);
  free(text);
  /* a selection: only the kinds included, less those excluded */
  unsigned char sel[SK_COUNT];
  CHECK_EQ(scn_kinds_select("thermal_cascade,training_straggler,hbm_degradation",
                            "hbm_degradation", "--kinds", "--exclude-kinds", sel),
           0);
  CHECK_EQ(scn_random(&text, 12, 5, f, sel, 0.25), 0);
  CHECK_EQ(scn_parse(&set, text, "random selected.json", f), 0);
  for (int i = 0; i < set->n; i++)
    CHECK(set->s[i].kind == scn_kind_by_name("thermal_cascade") ||
          set->s[i].kind == scn_kind_by_name("training_straggler"));
  scn_destroy(&set);
  free(text);
  CHECK_EQ(scn_kinds_select(NULL, "thermal_cascade", "--kinds", "--exclude-kinds", sel), 0);
  CHECK(!sel[scn_kind_by_name("thermal_cascade")] && sel[scn_kind_by_name("hbm_degradation")]);
  diag_clear();
  CHECK_EQ(scn_kinds_select("thermal_cascade,fan_fire", NULL, "--kinds", "--exclude-kinds", sel),
           FS_EUSAGE);
  CHECK(strstr(diag_first(), "unknown kind 'fan_fire'") &&
        strstr(diag_first(), "training_straggler"));
  diag_clear();
  CHECK_EQ(scn_kinds_select("thermal_cascade", "thermal_cascade", "--kinds", "--exclude-kinds",
                            sel),
           FS_EUSAGE);
  CHECK(strstr(diag_first(), "no kind is left"));
  diag_clear();
}

/* A typo in a magnitude is refused at parse time: file, id, key and value. */
static void test_typo_refused(const fleet *f) {
  for (int k = 0; k < SK_COUNT; k++) {
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    if (ops->nmagnitudes == 0)
      continue;
    char typo[64], text[512];
    snprintf(typo, sizeof typo, "%sx", ops->magnitudes[0].name);
    snprintf(text, sizeof text,
             "{\"scenarios\": [{\"id\": \"T7\", \"kind\": \"%s\", \"start_h\": 1, "
             "\"duration_min\": 30, \"%s\": 4.25}]}",
             scn_kind_name((scn_kind)k), typo);
    scn_set *set = NULL;
    diag_clear();
    CHECK_EQ(scn_parse(&set, text, "typo.json", f), FS_ESCENARIO);
    CHECK(set == NULL);
    const char *msg = diag_first();
    CHECK(strstr(msg, "typo.json") && strstr(msg, "'T7'") && strstr(msg, typo) &&
          strstr(msg, "4.25"));
  }
  diag_clear();
}

/* `fleetsim scenarios --kinds`: every kind, key, unit and help line. */
static void test_markdown(void) {
  char *md = scn_kinds_markdown(NULL);
  CHECK(md != NULL);
  for (int k = 0; k < SK_COUNT; k++) {
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    char head[96];
    snprintf(head, sizeof head, "### %s\n", scn_kind_name((scn_kind)k));
    const char *sec = strstr(md, head);
    CHECK(sec != NULL);
    for (int i = 0; i < ops->nmagnitudes; i++) {
      char row[512];
      snprintf(row, sizeof row, "| `%s` | %.10g | %.10g to %.10g%s | %s | %s |\n",
               ops->magnitudes[i].name, ops->magnitudes[i].def, ops->magnitudes[i].min,
               ops->magnitudes[i].max, ops->magnitudes[i].integer ? ", whole" : "",
               ops->magnitudes[i].units, ops->magnitudes[i].help);
      if (!strstr(sec, row))
        CHECK_FAIL("%s: no row %s", scn_kind_name((scn_kind)k), row);
    }
    for (int t = 0; t < ops->ntargets; t++)
      CHECK(ops->targets[t].help && ops->targets[t].help[0] && strstr(sec, ops->targets[t].help));
  }
  free(md);
}

int main(void) {
  test_stream_check();
  test_markdown();
  test_streams_distinct();
  test_tables();
  fs_config cfg;
  cfg_defaults(&cfg);
  fleet *f = NULL;
  if (cfg_apply_json(&cfg, small_config, "small") || cfg_validate(&cfg) || fleet_init(&f, &cfg))
    CHECK_FAIL("config: %s", diag_first());
  test_defaults_parse(f);
  test_typo_refused(f);
  fleet_destroy(&f);
  printf("unit_scenario_kinds: %ld checks passed\n", check_count);
  return 0;
}
