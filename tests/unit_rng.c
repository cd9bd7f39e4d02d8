/* Unit tests of the counter-based RNG (src/core/rng.h): determinism (and pinned
 * values, since archives must stay bit-identical), distinct streams for
 * distinct seeds/streams/entities/counters, avalanche, the ranges and moments
 * of rng_uniform and rng_normal, and uniformity of the low bits. No MPI. */
#include <stdint.h>
#include <stdlib.h>

#include "src/core/rng.h"
#include "tests/check.h"


enum { DRAWS = 1000000 };

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Number of equal neighbours after sorting v (0 when all are distinct). */
static long duplicates(uint64_t *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_u64);
  long d = 0;
  for (long i = 1; i < n; i++)
    d += v[i] == v[i - 1];
  return d;
}

static void test_determinism(void) {
  uint64_t k = rng_key(42, 1, 0);
  CHECK(k == rng_key(42, 1, 0));
  for (uint64_t c = 0; c < 1000; c++)
    if (rng_bits(k, c) != rng_bits(rng_key(42, 1, 0), c))
      CHECK_FAIL("rng_bits differs on a second call at counter %" PRIu64, c);
  check_count++;
  /* Pinned outputs: a change here changes every archive ever written. */
  CHECK(k == 0x9dc625ba40241fe1ULL);
  CHECK(rng_bits(k, 0) == 0xd0f8fc010852ab63ULL);
  CHECK(rng_bits(k, 12345) == 0xca8bcfce2a205594ULL);
}

static void test_distinct_streams(void) {
  /* 4 seeds x 8 streams x 128 entities: 4096 distinct keys. */
  enum { NK = 4 * 8 * 128 };
  uint64_t *keys = malloc(NK * sizeof *keys);
  CHECK(keys != NULL);
  long n = 0;
  for (uint64_t s = 0; s < 4; s++)
    for (uint32_t st = 0; st < 8; st++)
      for (uint64_t e = 0; e < 128; e++)
        keys[n++] = rng_key(s, st, e);
  CHECK_EQ(duplicates(keys, n), 0);

  /* 64 keys x 4096 counters: no repeated 64-bit value across or within streams. */
  enum { NB = 64 * 4096 };
  uint64_t *bits = malloc(NB * sizeof *bits);
  CHECK(bits != NULL);
  n = 0;
  for (uint64_t e = 0; e < 64; e++)
    for (uint64_t c = 0; c < 4096; c++)
      bits[n++] = rng_bits(rng_key(42, 3, e), c);
  CHECK_EQ(duplicates(bits, n), 0);
  free(bits);
  free(keys);

  /* Neighbouring counters, entities, streams and seeds differ in ~32 of 64
   * bits on average (full avalanche), not in a few low bits. */
  double h_counter = 0, h_entity = 0, h_stream = 0, h_seed = 0;
  enum { NH = 100000 };
  uint64_t k = rng_key(42, 5, 9);
  for (uint64_t i = 0; i < NH; i++) {
    h_counter += __builtin_popcountll(rng_bits(k, i) ^ rng_bits(k, i + 1));
    h_entity += __builtin_popcountll(rng_bits(rng_key(42, 5, i), 0) ^
                                     rng_bits(rng_key(42, 5, i + 1), 0));
    h_stream += __builtin_popcountll(rng_bits(rng_key(42, (uint32_t)i, 0), 0) ^
                                     rng_bits(rng_key(42, (uint32_t)i + 1, 0), 0));
    h_seed += __builtin_popcountll(rng_bits(rng_key(i, 5, 0), 0) ^
                                   rng_bits(rng_key(i + 1, 5, 0), 0));
  }
  /* Binomial(64, 1/2) mean over 1e5 pairs: sd 0.013, tolerance ~8 sd. */
  CHECK_NEAR(h_counter / NH, 32.0, 0.1);
  CHECK_NEAR(h_entity / NH, 32.0, 0.1);
  CHECK_NEAR(h_stream / NH, 32.0, 0.1);
  CHECK_NEAR(h_seed / NH, 32.0, 0.1);
}

static void test_uniform(void) {
  CHECK(rng_uniform(0) == 0.0);
  CHECK(rng_uniform(UINT64_MAX) < 1.0);
  uint64_t k = rng_key(42, 7, 0);
  double sum = 0, sum2 = 0, lo = 1, hi = 0;
  for (uint64_t c = 0; c < DRAWS; c++) {
    double u = rng_uniform(rng_bits(k, c));
    if (!(u >= 0.0 && u < 1.0))
      CHECK_FAIL("rng_uniform = %.17g at counter %" PRIu64 " outside [0, 1)", u, c);
    sum += u;
    sum2 += u * u;
    lo = u < lo ? u : lo;
    hi = u > hi ? u : hi;
  }
  check_count++;
  double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
  CHECK_NEAR(mean, 0.5, 0.002);        /* sd of the mean 0.00029 */
  CHECK_NEAR(var, 1.0 / 12.0, 0.001);  /* sd 0.000075 */
  CHECK_RANGE(lo, 0, 1e-4);            /* the extremes are reached */
  CHECK_RANGE(hi, 1 - 1e-4, 1);
}

static void test_normal(void) {
  /* The extremes of the Irwin-Hall sum: all-zero and all-one bits. */
  CHECK_RANGE(rng_normal(0), -3.47, -3.46);
  CHECK_RANGE(rng_normal(UINT64_MAX), 3.46, 3.47);
  uint64_t k = rng_key(42, 8, 0);
  double sum = 0, sum2 = 0, maxabs = 0;
  long beyond3 = 0;
  for (uint64_t c = 0; c < DRAWS; c++) {
    double x = rng_normal(rng_bits(k, c));
    if (!(x >= -3.47 && x <= 3.47))
      CHECK_FAIL("rng_normal = %.9g at counter %" PRIu64 " outside [-3.47, 3.47]", x, c);
    sum += x;
    sum2 += x * x;
    maxabs = fabs(x) > maxabs ? fabs(x) : maxabs;
    beyond3 += fabs(x) > 3.0;
  }
  check_count++;
  double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
  CHECK_NEAR(mean, 0.0, 0.005); /* sd of the mean 0.001 */
  CHECK_NEAR(var, 1.0, 0.01);   /* sd of the variance ~0.0013 */
  CHECK_RANGE(maxabs, 3.0, 3.47);
  /* Irwin-Hall(4) puts ~0.04% beyond 3 sd (a normal: 0.27%): present, rare. */
  CHECK_RANGE(beyond3, 1, DRAWS / 200);
}

/* Pearson chi-square of v & 15 over 16 buckets for DRAWS values of one
 * stream; 15 degrees of freedom, so 37.7 is the 0.1% critical value. */
static void test_low_bits(void) {
  long bucket[16] = {0};
  uint64_t k = rng_key(42, 9, 0);
  for (uint64_t c = 0; c < DRAWS; c++)
    bucket[rng_bits(k, c) & 15]++;
  double expect = DRAWS / 16.0, chi2 = 0;
  for (int b = 0; b < 16; b++)
    chi2 += (bucket[b] - expect) * (bucket[b] - expect) / expect;
  CHECK_RANGE(chi2, 0, 37.7);

  /* The same across entities: the first draw of 1e6 per-entity streams. */
  long across[16] = {0};
  for (uint64_t e = 0; e < DRAWS; e++)
    across[rng_bits(rng_key(42, 9, e), 0) & 15]++;
  chi2 = 0;
  for (int b = 0; b < 16; b++)
    chi2 += (across[b] - expect) * (across[b] - expect) / expect;
  CHECK_RANGE(chi2, 0, 37.7);
}

int main(void) {
  test_determinism();
  test_distinct_streams();
  test_uniform();
  test_normal();
  test_low_bits();
  printf("unit_rng: %ld checks passed\n", check_count);
  return 0;
}
