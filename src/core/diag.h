/* Diagnostics collector: validation code adds every problem it finds (naming
 * file, key and value); the caller prints them all once, from one rank. */
#ifndef FLEETSIM_DIAG_H
#define FLEETSIM_DIAG_H
#include <stdio.h>

/* Records one problem, printf-style. Never fails: past a fixed number of
 * messages further ones are counted but not stored. */
void diag_addf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Number of problems recorded since the last diag_clear(). */
int diag_count(void);

/* Writes every recorded problem as "fleetsim: error: <msg>\n" to out. */
void diag_print(FILE *out);

/* The first recorded message, or "" when none. */
const char *diag_first(void);

/* Forgets all recorded problems. */
void diag_clear(void);

#endif
