/* Run fingerprints and header lines (see runid.h). */
#include "src/core/runid.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "version.h"

/* 64-bit FNV-1a over n bytes, continuing from h (NUL bytes included, so
 * that fields separated by NULs cannot run into each other). */
static uint64_t runid_fnv(uint64_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

int runid_make(runid *r, const char *config_json, const char *scenarios_text, uint64_t seed) {
  memset(r, 0, sizeof *r);
  json_error_t err;
  json_t *scn = json_loads(scenarios_text, 0, &err);
  char *canon = scn ? json_dumps(scn, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(scn);
  if (!canon)
    return scn ? FS_ENOMEM : FS_EINVAL;
  const char *parts[] = {"fleetsim-run-v1", FLEETSIM_VERSION, FLEETSIM_GIT_COMMIT, config_json,
                         canon};
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    h = runid_fnv(h, parts[i], strlen(parts[i]) + 1);
  free(canon);
  snprintf(r->fingerprint, sizeof r->fingerprint, "%016llx", (unsigned long long)h);
  r->seed = seed;
  snprintf(r->version, sizeof r->version, "%s", FLEETSIM_VERSION);
  snprintf(r->git_commit, sizeof r->git_commit, "%s", FLEETSIM_GIT_COMMIT);
  return 0;
}

char *runid_header(const runid *r) {
  json_t *o = json_pack("{s:{s:s,s:I,s:s,s:s}}", "fleetsim_run", "fingerprint", r->fingerprint,
                        "seed", (json_int_t)r->seed, "version", r->version, "git_commit",
                        r->git_commit);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  return s;
}

int runid_parse(const char *text, size_t len, runid *r) {
  json_error_t err;
  json_t *o = json_loadb(text, len, JSON_DECODE_ANY, &err);
  json_t *h = json_object_get(o, "fleetsim_run");
  if (!h) {
    json_decref(o);
    return 0;
  }
  const char *fp = NULL, *version = NULL, *commit = NULL;
  json_int_t seed = -1;
  int ok = json_unpack(h, "{s:s,s:I,s:s,s:s}", "fingerprint", &fp, "seed", &seed, "version",
                       &version, "git_commit", &commit) == 0 &&
           strlen(fp) == RUNID_HEX && strspn(fp, "0123456789abcdef") == RUNID_HEX && seed >= 0;
  if (ok && r) {
    memset(r, 0, sizeof *r);
    memcpy(r->fingerprint, fp, RUNID_HEX);
    r->seed = (uint64_t)seed;
    snprintf(r->version, sizeof r->version, "%.*s", (int)sizeof r->version - 1, version);
    snprintf(r->git_commit, sizeof r->git_commit, "%.*s", (int)sizeof r->git_commit - 1, commit);
    /* what is shown later must not carry control characters */
    for (char *c = r->version; *c; c++)
      if (*c < 0x20 || *c > 0x7e)
        *c = '?';
    for (char *c = r->git_commit; *c; c++)
      if (*c < 0x20 || *c > 0x7e)
        *c = '?';
  }
  json_decref(o);
  return ok ? 1 : -1;
}

int runid_same(const runid *a, const runid *b) {
  return strcmp(a->fingerprint, b->fingerprint) == 0;
}

void runid_describe(const runid *r, char *out, size_t cap) {
  snprintf(out, cap, "run %s (seed %llu, fleetsim %s git %s)", r->fingerprint,
           (unsigned long long)r->seed, r->version, r->git_commit);
}

enum { RUNID_LINE_MAX = 4096 };

int runid_read_fd(int fd, const char *path, runid_file *state, runid *r) {
  char buf[RUNID_LINE_MAX];
  ssize_t got = pread(fd, buf, sizeof buf, 0);
  if (got < 0) {
    diag_addf("%s: cannot read: %s", path, strerror(errno));
    return FS_EIO;
  }
  if (got == 0) {
    *state = RUNID_FILE_EMPTY;
    return 0;
  }
  const char *nl = memchr(buf, '\n', (size_t)got);
  size_t len = nl ? (size_t)(nl - buf) : (size_t)got;
  int h = runid_parse(buf, len, r);
  if (h < 0) {
    diag_addf("%s: line 1: a run header with missing or malformed fields", path);
    return FS_EINVAL;
  }
  *state = h ? RUNID_FILE_HEADER : RUNID_FILE_NONE;
  return 0;
}

int runid_read_file(const char *path, runid_file *state, runid *r) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    diag_addf("%s: cannot open: %s", path,
              errno == ELOOP ? "it is a symbolic link (fleetsim does not follow links)"
                             : strerror(errno));
    return FS_EIO;
  }
  int rc = runid_read_fd(fd, path, state, r);
  close(fd);
  return rc;
}
