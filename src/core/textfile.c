/* Whole-file reads for configuration inputs (see textfile.h). */
#include "src/core/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"

enum { TEXT_MAX_BYTES = 64 << 20 };

int text_read_file(const char *path, char **out, const char *what) {
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    diag_addf("%s %s: cannot open: %s", what, path, strerror(errno));
    return FS_EIO;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  int rc = buf ? 0 : FS_ENOMEM;
  while (rc == 0) {
    if (len + 1 >= cap) {
      if (cap >= TEXT_MAX_BYTES) {
        diag_addf("%s %s: file is larger than %d MiB", what, path, TEXT_MAX_BYTES >> 20);
        rc = FS_ECONFIG;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        rc = FS_ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - 1 - len, fp);
    len += got;
    if (got == 0) {
      if (ferror(fp)) {
        diag_addf("%s %s: read error: %s", what, path, strerror(errno));
        rc = FS_EIO;
      }
      break;
    }
  }
  fclose(fp);
  if (rc == 0 && memchr(buf, '\0', len)) {
    diag_addf("%s %s: file contains NUL bytes; expected JSON text", what, path);
    rc = FS_ECONFIG;
  }
  if (rc) {
    free(buf);
    return rc;
  }
  buf[len] = '\0';
  *out = buf;
  return 0;
}
