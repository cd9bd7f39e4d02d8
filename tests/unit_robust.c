/* Unit tests of pipeline/detect/robust.c: robust_median and robust_mad against a
 * sort on random data with ties, constants and both selection paths (below
 * and above Floyd-Rivest's sampling threshold), robust_median_mad_finite
 * against them bit for bit, and robust_median_columns
 * (the comparator network) against robust_median on every column for every
 * row count 1..32 and column counts around its chunk size. No MPI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/detect/robust.h"
#include "src/core/rng.h"
#include "tests/check.h"

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The value a sort puts at (n - 1) / 2. */
static float sorted_median(const float *v, int n) {
  float *s = malloc(sizeof *s * (size_t)n);
  memcpy(s, v, sizeof *s * (size_t)n);
  qsort(s, (size_t)n, sizeof *s, cmp_float);
  float m = s[(n - 1) / 2];
  free(s);
  return m;
}

/* Random values: `levels` distinct values (ties when small), or continuous. */
static void fill(float *v, int n, uint64_t key, uint64_t t, int levels) {
  for (int i = 0; i < n; i++) {
    uint64_t b = rng_bits(key, t * 100000 + (uint64_t)i);
    v[i] = levels > 0 ? (float)(b % (uint64_t)levels) : (float)rng_uniform(b) * 100.0f - 20.0f;
  }
}

static void test_median_mad(void) {
  const int sizes[] = {1, 2, 3, 20, 21, 599, 600, 601, 602, 2000, 4801};
  const int levels[] = {0, 1, 3, 50};
  float *v = malloc(sizeof *v * 5000), *w = malloc(sizeof *w * 5000);
  float *fa = malloc(sizeof *fa * 5000), *fb = malloc(sizeof *fb * 5000);
  uint64_t key = rng_key(7, 1, 0), t = 0;
  for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
    for (size_t b = 0; b < sizeof levels / sizeof *levels; b++)
      for (int rep = 0; rep < 5; rep++, t++) {
        int n = sizes[a];
        fill(v, n, key, t, levels[b]);
        float want = sorted_median(v, n);
        for (int i = 0; i < n; i++)
          w[i] = fabsf(v[i] - want);
        float want_mad = sorted_median(w, n);
        memcpy(w, v, sizeof *v * (size_t)n);
        float fmad, fmed = robust_median_mad_finite(v, n, fa, fb, &fmad); /* leaves v */
        float med = robust_median(w, n);
        CHECK(med == want);
        float mad = robust_mad(w, n, med);
        CHECK(mad == want_mad);
        CHECK(memcmp(&fmed, &med, sizeof med) == 0 && memcmp(&fmad, &mad, sizeof mad) == 0);
      }
  free(v);
  free(w);
  free(fa);
  free(fb);
}

/* robust_median_mad_finite against the two calls, bit for bit, on inputs
 * that stress its passes: sorted either way, one long run of ties at the
 * median, two values, negatives and huge magnitudes. */
static void test_median_mad_finite(void) {
  enum { N = 3001 };
  float *v = malloc(sizeof *v * N), *w = malloc(sizeof *w * N);
  float *a = malloc(sizeof *a * N), *b = malloc(sizeof *b * N);
  uint64_t key = rng_key(7, 3, 0);
  for (int c = 0; c < 6; c++)
    for (int n = 33; n <= N; n += 997) {
      for (int i = 0; i < n; i++) {
        uint64_t bits = rng_bits(key, (uint64_t)(c * N + n) * N + (uint64_t)i);
        const float x[6] = {(float)i, (float)(n - i), i < n / 2 + 40 ? 1.0f : (float)i,
                            (float)(bits % 2), (float)rng_uniform(bits) * 10.0f - 5.0f,
                            ((float)rng_uniform(bits) - 0.5f) * 3e38f};
        v[i] = x[c];
      }
      memcpy(w, v, sizeof *v * (size_t)n);
      float med = robust_median(w, n), mad = robust_mad(w, n, med), fmad;
      float fmed = robust_median_mad_finite(v, n, a, b, &fmad);
      CHECK(memcmp(&fmed, &med, sizeof med) == 0 && memcmp(&fmad, &mad, sizeof mad) == 0);
    }
  free(v);
  free(w);
  free(a);
  free(b);
}

static void test_median_columns(void) {
  const size_t cols[] = {1, 7, 127, 128, 129, 300};
  uint64_t key = rng_key(7, 2, 0), t = 0;
  for (int n = 1; n <= ROBUST_COLUMNS_MAX_ROWS; n++)
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++)
      for (int levels = 0; levels <= 4; levels += 2, t++) {
        size_t nc = cols[c];
        float *rows = malloc(sizeof *rows * (size_t)n * nc), *col = malloc(sizeof *col * (size_t)n);
        fill(rows, (int)(n * (int)nc), key, t, levels);
        float *want = malloc(sizeof *want * nc);
        for (size_t j = 0; j < nc; j++) {
          for (int r = 0; r < n; r++)
            col[r] = rows[(size_t)r * nc + j];
          want[j] = robust_median(col, n);
        }
        const float *got = robust_median_columns(rows, n, nc);
        int same = 1;
        for (size_t j = 0; j < nc; j++)
          same &= got[j] == want[j];
        CHECK(same);
        free(rows);
        free(col);
        free(want);
      }
}

int main(void) {
  test_median_mad();
  test_median_mad_finite();
  test_median_columns();
  printf("unit_robust: %ld checks passed\n", check_count);
  return 0;
}
