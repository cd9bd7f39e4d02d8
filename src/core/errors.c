/* Messages and names for the codes in errors.h; nothing else. */
#include "src/core/errors.h"

const char *fs_strerror(int code) {
  switch (code) {
  case FS_OK:
    return "success";
#define FS_ERROR_MSG(name, c, msg) \
  case FS_##name:                  \
    return msg;
    FS_ERROR_MAP(FS_ERROR_MSG)
#undef FS_ERROR_MSG
  }
  return "unknown error";
}

int fs_exit_status(int code) {
  if (code == FS_OK)
    return 0;
  if (code == FS_EUSAGE || code == FS_ECONFIG || code == FS_ESCENARIO ||
      code == FS_EINVAL)
    return 2;
  return 1;
}
