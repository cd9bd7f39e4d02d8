/* Selection-based median and MAD, and column medians by a comparator
 * network (see robust.h). */
#include "pipeline/detect/robust.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "src/core/simd.h"

static inline void robust_swap(float *v, int a, int b) {
  float t = v[a];
  v[a] = v[b];
  v[b] = t;
}

/* Rearranges v[left..right] so that v[k] is the k-th smallest of them
 * (Floyd and Rivest's SELECT: large ranges first narrow the search to a
 * sample's window around k, so about n + min(k, n - k) comparisons instead of
 * quickselect's ~3.4 n). Any correct selection gives the same value, so the
 * sampling's floating-point arithmetic cannot change a result. */
static void robust_select_range(float *v, int left, int right, int k) {
  while (right > left) {
    if (right - left > 600) {
      double n = right - left + 1, i = k - left + 1, z = log(n);
      double s = 0.5 * exp(2.0 * z / 3.0);
      double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i - n / 2 < 0 ? -1.0 : 1.0);
      int nl = (int)fmax(left, floor(k - i * s / n + sd));
      int nr = (int)fmin(right, floor(k + (n - i) * s / n + sd));
      robust_select_range(v, nl, nr, k);
    }
    const float t = v[k];
    int i = left, j = right;
    robust_swap(v, left, k);
    if (v[right] > t)
      robust_swap(v, right, left);
    while (i < j) {
      robust_swap(v, i, j);
      i++;
      j--;
      while (v[i] < t)
        i++;
      while (v[j] > t)
        j--;
    }
    if (v[left] == t) {
      robust_swap(v, left, j);
    } else {
      j++;
      robust_swap(v, j, right);
    }
    if (j <= k)
      left = j + 1;
    if (k <= j)
      right = j - 1;
  }
}

static float robust_select(float *v, int n, int k) {
  robust_select_range(v, 0, n - 1, k);
  return v[k];
}

float robust_median(float *v, int n) { return robust_select(v, n, (n - 1) / 2); }

float robust_mad(float *v, int n, float median) {
  for (int i = 0; i < n; i++)
    v[i] = fabsf(v[i] - median);
  return robust_select(v, n, (n - 1) / 2);
}

/* x(j) of robust_select_finite's first pass: v[j], or its deviation. */
static inline float robust_value(const float *v, int j, int absdev, float center) {
  return absdev ? fabsf(v[j] - center) : v[j];
}

/* The k-th smallest of x(j) = robust_value(v, j, absdev, center), j < n,
 * for finite values: quickselect whose partitions are branch-free
 * three-way passes from one buffer into the other (a and b: n floats
 * each; the first pass reads v and leaves it as it is). Each value goes to
 * the front of the destination if below the pivot t, to the back if above,
 * and is overwritten otherwise: the middle is all t. The pivot is the
 * median of 9 values spread over the range; below 32 values the rest is
 * selected in place. */
static float robust_select_finite(const float *v, int n, int k, int absdev, float center,
                                  float *a, float *b) {
  const float *src = v;
  float *dst = a;
  int left = 0, right = n - 1, first = 1;
  while (right - left + 1 > 32) {
    const int len = right - left + 1;
    float smp[9];
    for (int i = 0; i < 9; i++) {
      const int j = left + (int)((int64_t)i * (len - 1) / 8);
      smp[i] = first ? robust_value(v, j, absdev, center) : src[j];
    }
    robust_select_range(smp, 0, 8, 4);
    const float t = smp[4];
    int lo = left, hi = right;
    for (int j = left; j <= right; j++) {
      const float x = first ? robust_value(v, j, absdev, center) : src[j];
      dst[lo] = x;
      dst[hi] = x;
      lo += x < t;
      hi -= x > t;
    }
    if (k >= lo && k <= hi)
      return t;
    if (k < lo)
      right = lo - 1;
    else
      left = hi + 1;
    src = dst;
    dst = dst == a ? b : a;
    first = 0;
  }
  float rest[32];
  for (int j = left; j <= right; j++)
    rest[j - left] = first ? robust_value(v, j, absdev, center) : src[j];
  robust_select_range(rest, 0, right - left, k - left);
  return rest[k - left];
}

float robust_median_mad_finite(const float *v, int n, float *a, float *b, float *mad) {
  const float med = robust_select_finite(v, n, (n - 1) / 2, 0, 0.0f, a, b);
  *mad = robust_select_finite(v, n, (n - 1) / 2, 1, med, a, b);
  return med;
}

/* A comparator network whose output (n - 1) / 2 is the lower median of n
 * inputs: Batcher's odd-even merge sort on 32 wires, less the comparators
 * that touch wires >= n (they would only carry +inf padding: the larger
 * value always goes to the higher wire) and those that cannot reach the
 * median's wire (84 of 103 remain for n = 20). Returns the count. */
static int robust_median_net(int n, unsigned char (*net)[2]) {
  enum { N = ROBUST_COLUMNS_MAX_ROWS };
  unsigned char all[N * N / 2][2];
  int m = 0;
  for (int p = 1; p < N; p += p)
    for (int k = p; k > 0; k /= 2)
      for (int j = k % p; j + k < N; j += k + k)
        for (int i = 0; i < k && i < N - j - k; i++)
          if ((i + j) / (p + p) == (i + j + k) / (p + p) && i + j + k < n) {
            all[m][0] = (unsigned char)(i + j);
            all[m][1] = (unsigned char)(i + j + k);
            m++;
          }
  int need[N] = {0}, keep[N * N / 2] = {0}, kept = 0;
  need[(n - 1) / 2] = 1;
  for (int c = m - 1; c >= 0; c--)
    if (need[all[c][0]] || need[all[c][1]]) {
      keep[c] = 1;
      need[all[c][0]] = need[all[c][1]] = 1;
    }
  for (int c = 0; c < m; c++)
    if (keep[c]) {
      net[kept][0] = all[c][0];
      net[kept][1] = all[c][1];
      kept++;
    }
  return kept;
}

/* One comparator over n columns: a gets the smaller, b the larger value. */
static inline void robust_cmp_rows(float *restrict a, float *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float x = a[i], y = b[i];
    a[i] = x < y ? x : y;
    b[i] = x < y ? y : x;
  }
}

/* The network over all columns, in chunks that stay in L1. min/max only, so
 * every clone gives the same bits. */
FS_SIMD_CLONES
static void robust_apply_net(float *rows, size_t ncols, const unsigned char (*net)[2], int nnet) {
  enum { CHUNK = 128 };
  for (size_t i0 = 0; i0 < ncols; i0 += CHUNK) {
    const size_t len = ncols - i0 < CHUNK ? ncols - i0 : CHUNK;
    for (int c = 0; c < nnet; c++)
      robust_cmp_rows(rows + (size_t)net[c][0] * ncols + i0, rows + (size_t)net[c][1] * ncols + i0,
                      len);
  }
}

const float *robust_median_columns(float *rows, int n, size_t ncols) {
  unsigned char net[ROBUST_COLUMNS_MAX_ROWS * ROBUST_COLUMNS_MAX_ROWS / 2][2];
  robust_apply_net(rows, ncols, (const unsigned char (*)[2])net, robust_median_net(n, net));
  return rows + (size_t)((n - 1) / 2) * ncols;
}
