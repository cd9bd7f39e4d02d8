/* Robust statistics for the detector: median and median absolute deviation
 * by selection (Floyd-Rivest), in place on a scratch buffer (no allocation). */
#ifndef FLEETSIM_ROBUST_H
#define FLEETSIM_ROBUST_H
#include <stddef.h>

/* Median of v[0..n) (the lower middle element for even n); reorders v.
 * n must be > 0. */
float robust_median(float *v, int n);

/* Median absolute deviation of v[0..n) about `median`; overwrites v with the
 * absolute deviations. n must be > 0. Scale by 1.4826 for a normal sigma. */
float robust_mad(float *v, int n, float median);

/* Median and MAD of v[0..n) when every value is finite and none is -0 (the
 * caller checks): the values of robust_median and robust_mad, bit for bit
 * (equal values then have one bit pattern), by branch-free passes between
 * the scratch buffers a and b (n floats each); v is left as it is. Returns
 * the median and sets *mad. n must be > 0. */
float robust_median_mad_finite(const float *v, int n, float *a, float *b, float *mad);

/* Rows of robust_median_columns at most. */
enum { ROBUST_COLUMNS_MAX_ROWS = 32 };

/* The lower median of each column of rows[n][ncols] (row-major, 1 <= n <=
 * ROBUST_COLUMNS_MAX_ROWS) for all columns at once, by a comparator network
 * (min/max over contiguous rows, so it vectorises); reorders rows and
 * returns the row of medians inside it (rows + (n - 1) / 2 * ncols). Where a
 * column has no NaN the values equal robust_median's on that column. */
const float *robust_median_columns(float *rows, int n, size_t ncols);

#endif
