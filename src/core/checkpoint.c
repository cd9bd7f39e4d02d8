/* Checkpoint files and the manifest (see checkpoint.h). A state file is
 *   "FLEETCKP" u32 format u32 byte-order-mark | payload | u64 payload bytes,
 *   u32 CRC-32 of the payload, "END!"
 * in the machine's byte order (a checkpoint resumes on the machine type that
 * wrote it; the mark refuses anything else). Owns no simulation meaning. */
#include "src/core/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/core/paths.h"
#include "src/core/safefile.h"

enum { CKPT_FORMAT = 1, CKPT_BOM = 0x01020304, CKPT_HEADER = 16, CKPT_TRAILER = 16 };
static const char CKPT_MAGIC[8] = {'F', 'L', 'E', 'E', 'T', 'C', 'K', 'P'};
static const char CKPT_END[4] = {'E', 'N', 'D', '!'};

struct ckpt_file {
  FILE *fp;
  char *path;      /* final name */
  char *tmp;       /* writer: "<path>.tmp" */
  int writing;
  uint64_t bytes;  /* payload bytes so far */
  uint64_t limit;  /* reader: payload bytes in the file */
  uLong crc;
  int bad;         /* a put/get failed or a loader complained */
  char why[256];
};

static void ckpt_free(ckpt_file *f) {
  if (!f)
    return;
  if (f->fp)
    fclose(f->fp);
  free(f->path);
  free(f->tmp);
  free(f);
}

static ckpt_file *ckpt_alloc(const char *path) {
  ckpt_file *f = calloc(1, sizeof *f);
  size_t n = strlen(path);
  if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(n + sizeof ".tmp"))) {
    ckpt_free(f);
    return NULL;
  }
  memcpy(f->tmp, path, n);
  memcpy(f->tmp + n, ".tmp", sizeof ".tmp");
  f->crc = crc32(0L, Z_NULL, 0);
  return f;
}

/* fsyncs the directory that holds path, so a rename in it is durable. */
static int ckpt_sync_dir(const char *path) {
  char dir[4096];
  path_parent(path, dir, sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0 || fsync(fd) != 0) {
    diag_addf("checkpoint %s: cannot sync the directory: %s", dir, strerror(errno));
    if (fd >= 0)
      close(fd);
    return FS_EIO;
  }
  close(fd);
  return 0;
}

int ckpt_create(ckpt_file **out, const char *path) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(path);
  if (!f)
    return FS_ENOMEM;
  f->writing = 1;
  if (unlink(f->tmp) != 0 && errno != ENOENT) { /* a stale one of a killed run */
    diag_addf("checkpoint %s: cannot remove: %s", f->tmp, strerror(errno));
    ckpt_free(f);
    return FS_EIO;
  }
  if (sf_create(f->tmp, &f->fp) != 0) {
    ckpt_free(f);
    return FS_EIO;
  }
  uint32_t head[2] = {CKPT_FORMAT, CKPT_BOM};
  if (fwrite(CKPT_MAGIC, 1, sizeof CKPT_MAGIC, f->fp) != sizeof CKPT_MAGIC ||
      fwrite(head, 1, sizeof head, f->fp) != sizeof head)
    f->bad = 1;
  *out = f;
  return 0;
}

void ckpt_put(ckpt_file *f, const void *p, size_t n) {
  if (f->bad || n == 0)
    return;
  if (fwrite(p, 1, n, f->fp) != n) {
    f->bad = 1;
    snprintf(f->why, sizeof f->why, "%s", strerror(errno));
    return;
  }
  /* crc32 takes uInt lengths: feed big arrays in pieces */
  for (size_t done = 0; done < n;) {
    size_t k = n - done > (1u << 30) ? (1u << 30) : n - done;
    f->crc = crc32(f->crc, (const Bytef *)p + done, (uInt)k);
    done += k;
  }
  f->bytes += n;
}

void ckpt_tag(ckpt_file *f, const char tag[4]) { ckpt_put(f, tag, 4); }

void ckpt_discard(ckpt_file **fp) {
  if (!fp || !*fp)
    return;
  ckpt_file *f = *fp;
  if (f->writing) {
    if (f->fp)
      fclose(f->fp);
    f->fp = NULL;
    unlink(f->tmp);
  }
  ckpt_free(f);
  *fp = NULL;
}

int ckpt_commit(ckpt_file **fp) {
  ckpt_file *f = *fp;
  uint64_t n = f->bytes;
  uint32_t crc = (uint32_t)f->crc;
  if (!f->bad && (fwrite(&n, 1, sizeof n, f->fp) != sizeof n ||
                  fwrite(&crc, 1, sizeof crc, f->fp) != sizeof crc ||
                  fwrite(CKPT_END, 1, sizeof CKPT_END, f->fp) != sizeof CKPT_END))
    f->bad = 1;
  if (!f->bad && (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0))
    f->bad = 1;
  int rc = 0;
  if (f->bad) {
    diag_addf("checkpoint %s: cannot write: %s", f->tmp, f->why[0] ? f->why : strerror(errno));
    rc = FS_EIO;
  }
  if (fclose(f->fp) != 0 && rc == 0) {
    diag_addf("checkpoint %s: cannot close: %s", f->tmp, strerror(errno));
    rc = FS_EIO;
  }
  f->fp = NULL;
  if (rc == 0 && rename(f->tmp, f->path) != 0) {
    diag_addf("checkpoint %s: cannot rename to %s: %s", f->tmp, f->path, strerror(errno));
    rc = FS_EIO;
  }
  if (rc == 0)
    rc = ckpt_sync_dir(f->path);
  if (rc != 0)
    unlink(f->tmp);
  ckpt_free(f);
  *fp = NULL;
  return rc;
}

int ckpt_open(ckpt_file **out, const char *path) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(path);
  if (!f)
    return FS_ENOMEM;
  int fd = sf_open_fd(path, O_RDONLY);
  if (fd < 0 || !(f->fp = fdopen(fd, "rb"))) {
    if (fd >= 0) {
      diag_addf("checkpoint %s: cannot open: %s", path, strerror(errno));
      close(fd);
    }
    ckpt_free(f);
    return FS_EIO;
  }
  char magic[8];
  uint32_t head[2];
  struct stat st;
  const char *why = NULL;
  if (fstat(fileno(f->fp), &st) != 0 || st.st_size < CKPT_HEADER + CKPT_TRAILER ||
      fread(magic, 1, sizeof magic, f->fp) != sizeof magic ||
      fread(head, 1, sizeof head, f->fp) != sizeof head || memcmp(magic, CKPT_MAGIC, 8) != 0)
    why = "not a fleetsim checkpoint file";
  else if (head[1] != CKPT_BOM)
    why = "written on a machine with another byte order";
  else if (head[0] != CKPT_FORMAT)
    why = "written by a fleetsim with another checkpoint format";
  if (why) {
    diag_addf("checkpoint %s: %s", path, why);
    ckpt_free(f);
    return FS_EIO;
  }
  f->limit = (uint64_t)st.st_size - CKPT_HEADER - CKPT_TRAILER;
  *out = f;
  return 0;
}

int ckpt_get(ckpt_file *f, void *p, size_t n) {
  if (f->bad)
    return -1;
  if (n > f->limit - f->bytes || fread(p, 1, n, f->fp) != n) {
    f->bad = 1;
    snprintf(f->why, sizeof f->why, "ends early (wanted %zu bytes at offset %llu)", n,
             (unsigned long long)(f->bytes + CKPT_HEADER));
    memset(p, 0, n);
    return -1;
  }
  for (size_t done = 0; done < n;) {
    size_t k = n - done > (1u << 30) ? (1u << 30) : n - done;
    f->crc = crc32(f->crc, (const Bytef *)p + done, (uInt)k);
    done += k;
  }
  f->bytes += n;
  return 0;
}

int ckpt_expect(ckpt_file *f, const char tag[4]) {
  char got[5] = {0};
  if (ckpt_get(f, got, 4) != 0)
    return -1;
  if (memcmp(got, tag, 4) != 0) {
    f->bad = 1;
    snprintf(f->why, sizeof f->why, "section '%.4s' expected, found '%.4s' (offset %llu)", tag,
             got, (unsigned long long)(f->bytes + CKPT_HEADER - 4));
    return -1;
  }
  return 0;
}

void ckpt_fail(ckpt_file *f, const char *why) {
  if (f->bad)
    return;
  f->bad = 1;
  snprintf(f->why, sizeof f->why, "%s", why);
}

int ckpt_close(ckpt_file **fp) {
  if (!fp || !*fp)
    return 0;
  ckpt_file *f = *fp;
  int rc = 0;
  if (!f->bad && f->bytes != f->limit) {
    f->bad = 1;
    snprintf(f->why, sizeof f->why, "%llu bytes of state not read (another fleetsim version?)",
             (unsigned long long)(f->limit - f->bytes));
  }
  uint64_t n = 0;
  uint32_t crc = 0;
  char end[4];
  if (!f->bad && (fread(&n, 1, sizeof n, f->fp) != sizeof n ||
                  fread(&crc, 1, sizeof crc, f->fp) != sizeof crc ||
                  fread(end, 1, sizeof end, f->fp) != sizeof end || n != f->bytes ||
                  memcmp(end, CKPT_END, 4) != 0 || crc != (uint32_t)f->crc)) {
    f->bad = 1;
    snprintf(f->why, sizeof f->why, "checksum or trailer mismatch (the file is damaged)");
  }
  if (f->bad) {
    diag_addf("checkpoint %s: %s", f->path, f->why);
    rc = FS_EIO;
  }
  ckpt_free(f);
  *fp = NULL;
  return rc;
}

/* ---- manifest ---------------------------------------------------------------- */

void ckpt_part_name(char *out, size_t cap, int64_t windows, int rank) {
  snprintf(out, cap, "w%06lld-r%04d.bin", (long long)windows, rank);
}

int ckpt_manifest_write(const char *ckpt_dir, const ckpt_manifest *m) {
  json_t *parts = json_array();
  for (int i = 0; parts && i < m->nparts; i++)
    json_array_append_new(parts, json_pack("{s:s,s:i,s:i}", "file", m->parts[i].file, "node0",
                                           m->parts[i].node0, "nnodes", m->parts[i].nnodes));
  json_t *o = parts ? json_pack("{s:i,s:I,s:I,s:I,s:i,s:s,s:s,s:s,s:s,s:s,s:o}", "format",
                                CKPT_FORMAT, "windows", (json_int_t)m->windows, "next_scrape",
                                (json_int_t)m->next_scrape, "contexts_bytes",
                                (json_int_t)m->contexts_bytes, "ranks", m->ranks, "version",
                                m->version, "git_commit", m->git_commit, "fingerprint",
                                m->fingerprint, "config", m->config_json, "scenarios",
                                m->scenarios_text, "parts", parts)
                    : NULL;
  char *text = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (!text)
    return FS_ENOMEM;
  char path[4200];
  snprintf(path, sizeof path, "%s/manifest.json", ckpt_dir);
  /* the same atomic path as state files, but plain text */
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *fp = NULL;
  int rc = 0;
  if (unlink(tmp) != 0 && errno != ENOENT) {
    diag_addf("checkpoint %s: cannot remove: %s", tmp, strerror(errno));
    rc = FS_EIO;
  }
  if (rc != 0 || sf_create(tmp, &fp) != 0) {
    free(text);
    return FS_EIO;
  }
  if (fputs(text, fp) < 0 || fputc('\n', fp) == EOF || fflush(fp) != 0 ||
      fsync(fileno(fp)) != 0) {
    diag_addf("checkpoint %s: cannot write: %s", tmp, strerror(errno));
    rc = FS_EIO;
  }
  if (fclose(fp) != 0 && rc == 0) {
    diag_addf("checkpoint %s: cannot close: %s", tmp, strerror(errno));
    rc = FS_EIO;
  }
  free(text);
  if (rc == 0 && rename(tmp, path) != 0) {
    diag_addf("checkpoint %s: cannot rename to %s: %s", tmp, path, strerror(errno));
    rc = FS_EIO;
  }
  if (rc == 0)
    rc = ckpt_sync_dir(path);
  if (rc != 0)
    unlink(tmp);
  return rc;
}

void ckpt_manifest_free(ckpt_manifest *m) {
  free(m->version);
  free(m->git_commit);
  free(m->fingerprint);
  free(m->config_json);
  free(m->scenarios_text);
  free(m->parts);
  memset(m, 0, sizeof *m);
}

int ckpt_manifest_parse(const char *text, const char *source, ckpt_manifest *m) {
  memset(m, 0, sizeof *m);
  json_error_t err;
  json_t *o = json_loads(text, 0, &err);
  json_int_t format = 0, windows = -1, next = -1, cbytes = -1;
  int ranks = 0;
  const char *version = NULL, *commit = NULL, *config = NULL, *scn = NULL, *fp = NULL;
  json_t *parts = NULL;
  if (!o || json_unpack_ex(o, &err, 0, "{s:I,s:I,s:I,s:I,s:i,s:s,s:s,s:s,s:s,s:s,s:o}",
                           "format", &format, "windows", &windows, "next_scrape", &next,
                           "contexts_bytes", &cbytes, "ranks", &ranks, "version", &version,
                           "git_commit", &commit, "fingerprint", &fp, "config", &config,
                           "scenarios", &scn, "parts", &parts) != 0) {
    diag_addf("checkpoint %s: not a valid manifest: %s", source, err.text);
    json_decref(o);
    return FS_EIO;
  }
  int rc = 0;
  size_t np = json_is_array(parts) ? json_array_size(parts) : 0;
  if (format != CKPT_FORMAT || windows < 1 || next < 1 || cbytes < 0 || ranks < 1 ||
      np != (size_t)ranks) {
    diag_addf("checkpoint %s: unsupported or inconsistent manifest (format %lld, windows %lld, "
              "ranks %d, %zu parts)",
              source, (long long)format, (long long)windows, ranks, np);
    rc = FS_EIO;
  }
  if (rc == 0) {
    m->windows = windows;
    m->next_scrape = next;
    m->contexts_bytes = cbytes;
    m->ranks = ranks;
    m->nparts = (int)np;
    if (!(m->version = strdup(version)) || !(m->git_commit = strdup(commit)) ||
        !(m->fingerprint = strdup(fp)) ||
        !(m->config_json = strdup(config)) || !(m->scenarios_text = strdup(scn)) ||
        !(m->parts = calloc(np, sizeof *m->parts)))
      rc = FS_ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < np; i++) {
    const char *file = NULL;
    ckpt_part *p = &m->parts[i];
    if (json_unpack_ex(json_array_get(parts, i), &err, 0, "{s:s,s:i,s:i}", "file", &file,
                       "node0", &p->node0, "nnodes", &p->nnodes) != 0 ||
        strlen(file) >= sizeof p->file || strchr(file, '/') || p->node0 < 0 || p->nnodes < 0) {
      diag_addf("checkpoint %s: part %zu is malformed", source, i);
      rc = FS_EIO;
    } else {
      snprintf(p->file, sizeof p->file, "%s", file);
    }
  }
  json_decref(o);
  if (rc != 0)
    ckpt_manifest_free(m);
  return rc;
}

/* 1 when n is a checkpoint file name (manifest.json, wNNNNNN-rNNNN.bin,
 * wNNNNNN-root.bin, each possibly ".tmp"); *tmp says whether it is a
 * temp file, *windows is the NNNNNN (-1 for the manifest). */
static int ckpt_our_name(const char *n, int *tmp, long long *windows) {
  size_t len = strlen(n);
  *tmp = len > 4 && strcmp(n + len - 4, ".tmp") == 0;
  size_t base = *tmp ? len - 4 : len;
  *windows = -1;
  if (base == strlen("manifest.json") && strncmp(n, "manifest.json", base) == 0)
    return 1;
  size_t d = 1;
  while (d < base && n[d] >= '0' && n[d] <= '9')
    d++;
  if (n[0] != 'w' || d < 7 || d >= base || n[d] != '-')
    return 0;
  *windows = strtoll(n + 1, NULL, 10);
  const char *p = n + d + 1;
  size_t rest = base - (size_t)(p - n);
  if (rest == strlen("root.bin") && strncmp(p, "root.bin", rest) == 0)
    return 1;
  size_t r = 1;
  while (r < rest && p[r] >= '0' && p[r] <= '9')
    r++;
  return p[0] == 'r' && r >= 5 && rest - r == 4 && strncmp(p + r, ".bin", 4) == 0;
}

int ckpt_prune(const char *ckpt_dir, int64_t keep) {
  int dfd = open(ckpt_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) {
    if (errno == ENOENT)
      return 0;
    diag_addf("checkpoint %s: cannot open the directory: %s", ckpt_dir,
              errno == ELOOP || errno == ENOTDIR ? "it is a symbolic link or not a directory "
                                                   "(fleetsim does not write through links)"
                                                 : strerror(errno));
    return FS_EIO;
  }
  int lfd = dup(dfd);
  DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
  if (!d) {
    diag_addf("checkpoint %s: cannot list: %s", ckpt_dir, strerror(errno));
    if (lfd >= 0)
      close(lfd);
    close(dfd);
    return FS_EIO;
  }
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    int tmp;
    long long w;
    if (!ckpt_our_name(n, &tmp, &w))
      continue; /* not a checkpoint file: someone else's, it stays */
    if (keep >= 0 && !tmp && (w < 0 || w == keep))
      continue;
    if (unlinkat(dfd, n, 0) != 0 && errno != ENOENT) {
      diag_addf("checkpoint %s/%s: cannot remove: %s", ckpt_dir, n, strerror(errno));
      rc = FS_EIO;
    }
  }
  closedir(d);
  close(dfd);
  /* a directory that holds other files than checkpoints stays */
  if (rc == 0 && keep < 0 && rmdir(ckpt_dir) != 0 && errno != ENOENT && errno != ENOTEMPTY &&
      errno != EEXIST) {
    diag_addf("checkpoint %s: cannot remove the directory: %s", ckpt_dir, strerror(errno));
    rc = FS_EIO;
  }
  return rc;
}

/* fsync of an open descriptor with a message naming path. */
static int ckpt_fsync_fd(int fd, const char *path) {
  if (fsync(fd) != 0) {
    diag_addf("%s: cannot sync: %s", path, strerror(errno));
    return FS_EIO;
  }
  return 0;
}

int ckpt_trim_partial_line(const char *path) {
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    diag_addf("%s: cannot open: %s", path, sf_reason(errno));
    return FS_EIO;
  }
  struct stat st;
  off_t end = 0;
  int rc = fstat(fd, &st) == 0 ? 0 : FS_EIO;
  /* scan back from the end for the last newline, a block at a time */
  char buf[4096];
  for (off_t pos = rc == 0 ? st.st_size : 0; rc == 0 && pos > 0 && end == 0;) {
    off_t from = pos > (off_t)sizeof buf ? pos - (off_t)sizeof buf : 0;
    ssize_t got = pread(fd, buf, (size_t)(pos - from), from);
    if (got != pos - from) {
      rc = FS_EIO;
      break;
    }
    for (ssize_t i = got - 1; i >= 0; i--)
      if (buf[i] == '\n') {
        end = from + i + 1;
        break;
      }
    pos = from;
  }
  if (rc == 0 && end != st.st_size && ftruncate(fd, end) != 0)
    rc = FS_EIO;
  if (rc != 0)
    diag_addf("%s: cannot drop a partial last line: %s", path, strerror(errno));
  if (rc == 0)
    rc = ckpt_fsync_fd(fd, path);
  close(fd);
  return rc;
}

int ckpt_truncate(const char *path, int64_t bytes) {
  int fd = sf_open_fd(path, O_RDWR);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) {
      diag_addf("%s: cannot open: %s", path, strerror(errno));
      close(fd);
    }
    return FS_EIO;
  }
  int rc = 0;
  if (st.st_size < bytes) {
    diag_addf("%s: %lld bytes, but the checkpoint needs %lld: the file was changed after the "
              "checkpoint",
              path, (long long)st.st_size, (long long)bytes);
    rc = FS_EIO;
  } else if (ftruncate(fd, (off_t)bytes) != 0) {
    diag_addf("%s: cannot truncate to %lld bytes: %s", path, (long long)bytes, strerror(errno));
    rc = FS_EIO;
  }
  if (rc == 0)
    rc = ckpt_fsync_fd(fd, path);
  close(fd);
  return rc;
}

int ckpt_sync_stream(FILE *fp, const char *path) {
  if (fflush(fp) != 0) {
    diag_addf("%s: cannot flush: %s", path, strerror(errno));
    return FS_EIO;
  }
  return ckpt_fsync_fd(fileno(fp), path);
}
