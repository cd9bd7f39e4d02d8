/* Quickselect-based median and MAD (see robust.h). */
#include "pipeline/robust.h"

#include <math.h>

/* Rearranges v so that v[k] is the k-th smallest (Hoare's selection). */
static float robust_select(float *v, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot)
        i++;
      while (v[j] > pivot)
        j--;
      if (i <= j) {
        float tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      break;
  }
  return v[k];
}

float robust_median(float *v, int n) { return robust_select(v, n, (n - 1) / 2); }

float robust_mad(float *v, int n, float median) {
  for (int i = 0; i < n; i++)
    v[i] = fabsf(v[i] - median);
  return robust_select(v, n, (n - 1) / 2);
}
