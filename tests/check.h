/* Minimal test assertions in the libuv style: never compiled out, and a
 * failure prints both expressions, both values and the place, then exits 1.
 * check_count counts the checks made, for a test's closing summary line. */
#ifndef FLEETSIM_CHECK_H
#define FLEETSIM_CHECK_H
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long check_count;

#define CHECK_FAIL(...)                                                \
  do {                                                                 \
    fprintf(stderr, "%s:%d: check failed: ", __FILE__, __LINE__);      \
    fprintf(stderr, __VA_ARGS__);                                      \
    fprintf(stderr, "\n");                                             \
    exit(1);                                                           \
  } while (0)

#define CHECK(expr)                                                    \
  do {                                                                 \
    check_count++;                                                     \
    if (!(expr))                                                       \
      CHECK_FAIL("%s", #expr);                                         \
  } while (0)

#define CHECK_INT_OP(a, op, b)                                         \
  do {                                                                 \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
    check_count++;                                                     \
    if (!(check_a_ op check_b_))                                       \
      CHECK_FAIL("%s %s %s (%lld vs %lld)", #a, #op, #b, check_a_, check_b_); \
  } while (0)

#define CHECK_EQ(a, b) CHECK_INT_OP(a, ==, b)
#define CHECK_NE(a, b) CHECK_INT_OP(a, !=, b)
#define CHECK_LT(a, b) CHECK_INT_OP(a, <, b)
#define CHECK_LE(a, b) CHECK_INT_OP(a, <=, b)
#define CHECK_GT(a, b) CHECK_INT_OP(a, >, b)
#define CHECK_GE(a, b) CHECK_INT_OP(a, >=, b)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                          \
  do {                                                                 \
    double check_a_ = (double)(a), check_b_ = (double)(b);             \
    check_count++;                                                     \
    if (!(fabs(check_a_ - check_b_) <= (double)(tol)))                 \
      CHECK_FAIL("%s ~ %s within %g (%.9g vs %.9g)", #a, #b, (double)(tol), check_a_, \
                 check_b_);                                            \
  } while (0)

/* lo <= x <= hi */
#define CHECK_RANGE(x, lo, hi)                                         \
  do {                                                                 \
    double check_x_ = (double)(x);                                     \
    check_count++;                                                     \
    if (!(check_x_ >= (double)(lo) && check_x_ <= (double)(hi)))       \
      CHECK_FAIL("%s = %.9g not in [%g, %g]", #x, check_x_, (double)(lo), (double)(hi)); \
  } while (0)

#define CHECK_STREQ(a, b)                                              \
  do {                                                                 \
    const char *check_a_ = (a), *check_b_ = (b);                       \
    check_count++;                                                     \
    if (strcmp(check_a_, check_b_) != 0)                               \
      CHECK_FAIL("%s == %s (\"%s\" vs \"%s\")", #a, #b, check_a_, check_b_); \
  } while (0)

#endif
