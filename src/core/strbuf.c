/* A growing text buffer and the quoting of untrusted text (see strbuf.h). */
#include "src/core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_addf(strbuf *b, const char *fmt, ...) {
  while (!b->failed) {
    va_list ap;
    va_start(ap, fmt);
    int n = b->buf ? vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap) : -1;
    va_end(ap);
    if (n >= 0 && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    if (b->buf && n < 0) { /* an encoding error, not a short buffer */
      b->failed = 1;
      return;
    }
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (n > 0 && cap < b->len + (size_t)n + 1)
      cap *= 2;
    char *nb = realloc(b->buf, cap);
    if (!nb) {
      b->failed = 1;
      return;
    }
    b->buf = nb;
    b->cap = cap;
  }
}

char *sb_take(strbuf *b) {
  char *s = b->failed ? NULL : b->buf ? b->buf : strdup("");
  if (b->failed)
    free(b->buf);
  memset(b, 0, sizeof *b);
  return s;
}

const char *sb_quote(const char *s, char *out, size_t cap) {
  size_t i = 0;
  for (; i < cap && s[i]; i++)
    out[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ? ' ' : s[i];
  if (s[i]) {
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
      i--;
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
  return out;
}
