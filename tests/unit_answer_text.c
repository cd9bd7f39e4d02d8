/* Unit tests of the strict reading of answers (pipeline/score/answer_text.c):
 * negation inside a clause and not across one, denials after a match, cues
 * inside a match, the exceptions ("no later than"), entities named and
 * negated, GPU lists, L4 sections by heading and numbers near a target. */
#include <regex.h>

#include "pipeline/score/answer_text.h"
#include "tests/check.h"

/* 1 when pattern has a positive match in text. */
static int pos(const char *pattern, const char *text) {
  regex_t re;
  if (regcomp(&re, pattern, REG_EXTENDED | REG_ICASE) != 0)
    CHECK_FAIL("regcomp %s", pattern);
  int r = atx_positive(&re, text, NULL);
  regfree(&re);
  return r;
}

static void test_negation(void) {
  /* plain mentions */
  CHECK(pos("thermal", "A thermal problem on rack-03."));
  CHECK(pos("drain", "Drain node-0211 after the checkpoint."));
  /* cues before the match, within the clause */
  CHECK(!pos("thermal", "This is NOT a thermal problem."));
  CHECK(!pos("nvlink", "There are no NVLink errors on the node."));
  CHECK(!pos("drain", "Do not drain anything."));
  CHECK(!pos("cooling", "We can rule out a cooling failure here."));
  CHECK(!pos("cooling", "It is unlikely that the cooling failed."));
  CHECK(!pos("checkpoint", "Drain it without a checkpoint."));
  CHECK(!pos("drain", "Rebalance the router rather than drain nodes."));
  CHECK(!pos("drain", "Rebalance the router instead of a drain."));
  CHECK(!pos("ecc", "It doesn't look like ECC errors."));
  /* denials after the match */
  CHECK(!pos("cooling", "A cooling failure is unlikely."));
  CHECK(!pos("thermal", "Thermal issues are ruled out."));
  CHECK(!pos("nvlink", "NVLink replays are not elevated."));
  CHECK(!pos("fabric", "The fabric is not the cause."));
  /* a clause boundary ends the negation's reach */
  CHECK(pos("fabric", "Not a thermal problem but a fabric issue."));
  CHECK(pos("fabric", "Not a thermal problem; the fabric is congested."));
  CHECK(pos("drain", "Checkpoint no later than 10 minutes from now, then drain node-0211."));
  CHECK(pos("cooling", "No doubt about it. Cooling has failed."));
  CHECK(pos("ttft", "TTFT doubled while ITL is not affected."));
  /* a cue inside the match: needed by the pattern, or in one of its gaps */
  CHECK(pos("no (performance|throughput) impact", "There is no performance impact yet."));
  CHECK(pos("not a compute bottleneck", "This is not a compute bottleneck."));
  CHECK(pos("(rul|exclud).{0,60}compute", "ITL is flat, which rules out a compute limit."));
  CHECK(!pos("training.{0,200}first", "Training is not hit first."));
  CHECK(pos("itl.{0,120}(flat|not elevated)", "ITL is not elevated, it stays flat."));
  CHECK(pos("itl.{0,120}(flat|not elevated)", "ITL is not elevated."));
  CHECK(!pos("inlet.{0,200}throttl", "Inlet air rose but did not cause throttling."));
  /* not-cues */
  CHECK(pos("drain", "Not only checkpoint: drain it too."));
  CHECK(pos("replays", "Replays rose 0.94 to 200 per interval."));
  /* a later positive occurrence counts after a negated one */
  CHECK(pos("thermal", "Not thermal at first. Later a thermal alarm fired."));
  CHECK(!atx_positive(NULL, "x", NULL));
  regex_t re;
  regcomp(&re, "x", REG_EXTENDED);
  CHECK(!atx_positive(&re, NULL, NULL));
  size_t at = 99;
  CHECK(atx_positive(&re, "no x here; x there", &at));
  CHECK_EQ(at, 11);
  CHECK(atx_positive_from(&re, "x and x", 1, &at));
  CHECK_EQ(at, 6);
  regfree(&re);
  CHECK(atx_negated("not hot", 4, 7));
  CHECK(!atx_negated("hot", 0, 3));
  CHECK(!atx_negated("x", 5, 9)); /* out of range: not negated */
}

static void test_entities(void) {
  static const char *const jobs[] = {"train-000", "train-001"};
  atx_entities e = {0};
  atx_collect_entities("Straggler node-0211 in train-001; rack-05 and node-0042/gpu3 also; "
                       "GPUs 2 and 5 are hot, gpu7 too. Not node-0999.",
                       jobs, 2, &e);
  CHECK_EQ(e.nnode, 2);
  CHECK_EQ(e.node[0], 211);
  CHECK_EQ(e.node[1], 42);
  CHECK_EQ(e.ngpu, 1);
  CHECK_EQ(e.gpu[0], 42 * 8 + 3);
  CHECK_EQ(e.nrack, 1);
  CHECK_EQ(e.rack[0], 5);
  CHECK_EQ(e.njob, 1);
  CHECK_EQ(e.job[0], 1);
  CHECK_EQ(e.ngpu_index, 4); /* 3 (from node-0042/gpu3), 2, 5, 7 */
  CHECK_EQ(e.gpu_index[0], 3);
  CHECK_EQ(e.gpu_index[1], 2);
  CHECK_EQ(e.gpu_index[2], 5);
  CHECK_EQ(e.gpu_index[3], 7);
  atx_entities f = {0};
  atx_collect_entities("gpu_ecc_sbe_total on subnode-12, train-0010, rack-3x", jobs, 2, &f);
  CHECK_EQ(f.nnode + f.ngpu + f.nrack + f.njob + f.ngpu_index, 0);
  atx_collect_entities(NULL, jobs, 2, &f);
}

static void test_sections(void) {
  const char *r = "# Handoff\n\n## 1. Active incidents\n\n- cooling on rack-03\n\n"
                  "**Resolved Incidents**\n- none\n## SLA status:\nmoe 79.3%\n"
                  "## Training health\n## Emerging risks\n- hbm\n"
                  "## Next-shift recommendations\n- drain\n## Active incidents\n- repeated\n";
  atx_sections s;
  atx_split_sections(r, &s);
  for (int k = 0; k < 6; k++)
    CHECK(s.present[k]);
  CHECK(strncmp(r + s.start[0], "\n- cooling on rack-03", 21) == 0);
  CHECK_EQ(s.len[3], 0); /* Training health is empty */
  CHECK(strstr(r + s.start[2], "moe 79.3%") == r + s.start[2]);
  /* the repeated heading does not reopen the first section */
  CHECK(memchr(r + s.start[0], 'p', s.len[0]) == NULL);
  atx_split_sections("no headings at all", &s);
  CHECK(!s.present[0] && !s.present[5]);
}

static void test_numbers(void) {
  const char *t = "moe 79.33% left (0.7933), node-0042 at P1, 1.5e3 ms";
  CHECK(atx_has_number(t, strlen(t), 79.33, 0.01));
  CHECK(atx_has_number(t, strlen(t), 0.7933, 0.0001));
  CHECK(!atx_has_number(t, strlen(t), 42, 0.5)); /* inside node-0042 */
  CHECK(!atx_has_number(t, strlen(t), 1, 0.1));  /* inside P1 */
  CHECK(!atx_has_number(t, 5, 79.33, 0.01));     /* beyond the length */
}

int main(void) {
  test_negation();
  test_entities();
  test_sections();
  test_numbers();
  printf("unit_answer_text: %ld checks passed\n", check_count);
  return 0;
}
