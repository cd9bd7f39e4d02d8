/* Selection-based median and MAD (see robust.h). */
#include "pipeline/robust.h"

#include <math.h>

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
