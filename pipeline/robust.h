/* Robust statistics for the detector: median and median absolute deviation
 * by selection (Floyd-Rivest), in place on a scratch buffer (no allocation). */
#ifndef FLEETSIM_ROBUST_H
#define FLEETSIM_ROBUST_H

/* Median of v[0..n) (the lower middle element for even n); reorders v.
 * n must be > 0. */
float robust_median(float *v, int n);

/* Median absolute deviation of v[0..n) about `median`; overwrites v with the
 * absolute deviations. n must be > 0. Scale by 1.4826 for a normal sigma. */
float robust_mad(float *v, int n, float median);

#endif
