/* Unit tests of the family memo (pipeline/score/family_memo.c): the bits it
 * gives are the families' own positive matches (sct_names_family), for a
 * text met first, again, as a copy at another address, after the memo has
 * been filled past its size, and without a memo; a memo of other knowledge
 * is not trusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/score/family_memo.h"
#include "pipeline/score/strict_score.h"
#include "scenarios/scenario.h"
#include "src/core/diag.h"
#include "tests/check.h"

/* The bits by asking sct_names_family kind by kind. */
static unsigned direct(const chk_set *kn, const char *text) {
  unsigned bits = 0;
  for (int k = 0; k < SK_COUNT; k++)
    if (sct_names_family(kn, k, text))
      bits |= 1u << k;
  return bits;
}

static const char *const texts[] = {
    "A thermal problem on rack-03: inlet temperature rising, cooling failing.",
    "This is not a thermal problem; NVLink errors are not elevated either.",
    "Uncorrectable ECC errors and HBM row remapping on node-0042.",
    "InfiniBand retransmits and fabric congestion on the leaf switch.",
    "noise",
    "",
    "KV cache evictions with the expert router collapsing to two experts.",
};
enum { NTEXTS = sizeof texts / sizeof texts[0] };

static void test_same_as_direct(const chk_set *kn) {
  fam_memo *m = fam_memo_new(kn);
  CHECK(m != NULL);
  unsigned want[NTEXTS];
  int some = 0;
  for (int i = 0; i < NTEXTS; i++) {
    want[i] = direct(kn, texts[i]);
    some |= want[i] != 0;
    CHECK_EQ(fam_named(m, kn, texts[i]), want[i]); /* first: matched */
    CHECK_EQ(fam_named(m, kn, texts[i]), want[i]); /* again: remembered */
    CHECK_EQ(fam_named(NULL, kn, texts[i]), want[i]);
  }
  CHECK(some); /* the texts name some families: the test can tell a memo that returns 0 */
  CHECK(want[0] != want[1]); /* a negated mention is not a mention */
  /* the same content at another address; a text differing in one byte */
  char *copy = strdup(texts[2]);
  CHECK(copy != NULL);
  CHECK_EQ(fam_named(m, kn, copy), want[2]);
  copy[0] = 'X';
  CHECK_EQ(fam_named(m, kn, copy), direct(kn, copy));
  /* fill it past its size: the early texts come back right, matched anew */
  char buf[64];
  for (int i = 0; i < 200; i++) {
    snprintf(buf, sizeof buf, "filler %d on rack-%02d", i, i % 25);
    CHECK_EQ(fam_named(m, kn, buf), direct(kn, buf));
  }
  for (int i = 0; i < NTEXTS; i++)
    CHECK_EQ(fam_named(m, kn, texts[i]), want[i]);
  CHECK_EQ(fam_named(m, kn, NULL), 0u);
  free(copy);
  fam_memo_free(&m);
  CHECK(m == NULL);
  fam_memo_free(NULL);
}

/* A memo built over one knowledge answers for another by matching. */
static void test_other_knowledge(const chk_set *kn, const chk_set *other) {
  fam_memo *m = fam_memo_new(kn);
  CHECK(m != NULL);
  CHECK_EQ(fam_named(m, kn, texts[0]), direct(kn, texts[0]));
  CHECK_EQ(fam_named(m, other, texts[0]), direct(other, texts[0]));
  fam_memo_free(&m);
}

int main(void) {
  chk_set *kn = NULL, *other = NULL;
  if (chk_parse(&kn, chk_default_text(), "built-in checklists") != 0 ||
      chk_parse(&other, chk_default_text(), "built-in checklists") != 0) {
    diag_print(stderr);
    CHECK_FAIL("cannot parse the built-in checklists");
  }
  test_same_as_direct(kn);
  test_other_knowledge(kn, other);
  chk_destroy(&kn);
  chk_destroy(&other);
  printf("unit_family_memo: %ld checks passed\n", check_count);
  return 0;
}
