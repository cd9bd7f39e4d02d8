/* Shared helpers of the libFuzzer targets: the fuzzer's bytes as a
 * NUL-terminated string, and a check that never compiles out. Targets only
 * call parsers: no MPI, no HDF5, no files. */
#ifndef FLEETSIM_FUZZ_COMMON_H
#define FLEETSIM_FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* data[0..size) copied into a malloc'd string (embedded NULs end it early,
 * as they would for text read from a file). Aborts when memory runs out. */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* An invariant of the code under test; a violation is a finding. */
#define FUZZ_ASSERT(cond)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                   \
    }                                                                            \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
