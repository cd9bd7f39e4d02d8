/* Fixed-size store of validation messages (see diag.h); no allocation, so it
 * works even when memory is what ran out. */
#include "src/core/diag.h"

#include <stdarg.h>

enum { DIAG_MAX = 64, DIAG_LEN = 512 };

static char diag_msgs[DIAG_MAX][DIAG_LEN];
static int diag_n;

void diag_addf(const char *fmt, ...) {
  if (diag_n < DIAG_MAX) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag_msgs[diag_n], DIAG_LEN, fmt, ap);
    va_end(ap);
  }
  diag_n++;
}

int diag_count(void) { return diag_n; }

void diag_print(FILE *out) {
  int shown = diag_n < DIAG_MAX ? diag_n : DIAG_MAX;
  for (int i = 0; i < shown; i++)
    fprintf(out, "fleetsim: error: %s\n", diag_msgs[i]);
  if (diag_n > shown)
    fprintf(out, "fleetsim: error: ... and %d more problems\n", diag_n - shown);
}

const char *diag_first(void) { return diag_n > 0 ? diag_msgs[0] : ""; }

void diag_clear(void) { diag_n = 0; }
