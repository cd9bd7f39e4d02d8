/* A growing text buffer for building answers and reports: printf-style
 * appends, one allocation owner. On allocation failure the buffer is marked
 * failed and later appends do nothing, so callers check once at the end.
 * Also the quoting of untrusted text for messages. */
#ifndef FLEETSIM_STRBUF_H
#define FLEETSIM_STRBUF_H
#include <stddef.h>

typedef struct {
  char *buf; /* NUL-terminated text (NULL until the first append) */
  size_t len, cap;
  int failed; /* an allocation failed: the text is incomplete */
} strbuf;

/* Appends printf-style text. Example:
 *   strbuf b = {0}; sb_addf(&b, "%d nodes", n); char *s = sb_take(&b); */
void sb_addf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text (malloc'd, caller frees; "" when nothing was appended), or NULL
 * when an append failed. The buffer is reset either way. */
char *sb_take(strbuf *b);

/* Untrusted text made quotable into out, which holds cap + 4 bytes: control
 * characters become ' ', at most cap bytes, "..." when cut (never inside a
 * UTF-8 sequence). Returns out. */
const char *sb_quote(const char *s, char *out, size_t cap);

#endif
