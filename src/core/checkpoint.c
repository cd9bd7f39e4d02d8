/* Checkpoint streams and the manifest (see checkpoint.h). A stream is
 *   "FLEETCKP" u32 format u32 byte-order-mark | payload | u64 payload bytes,
 *   u32 CRC-32 of the payload, "END!"
 * in the machine's byte order (a checkpoint resumes on the machine type that
 * wrote it; the mark refuses anything else), the same bytes in a file or in
 * memory: only the medium (ckpt_io) differs. Owns no simulation meaning. */
#include "src/core/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
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

/* The medium under a stream (redis's rio, in small): each call moves n
 * bytes and returns 0, or -1 with the reason in f->why. The header, the
 * CRC-32 and the framing are the stream's, the same for every medium. */
typedef struct {
  int (*write)(ckpt_file *f, const void *p, size_t n);
  int (*read)(ckpt_file *f, void *p, size_t n);
} ckpt_io;

struct ckpt_file {
  const ckpt_io *io;
  char *path;               /* the final file name, or the memory stream's name */
  FILE *fp;                 /* file streams */
  char *tmp;                /* file writer: "<path>.tmp" */
  ckpt_buf *buf;            /* memory writer: the caller's buffer */
  const unsigned char *mem; /* memory reader: the caller's bytes */
  size_t mem_len, mem_pos;
  uint64_t bytes;  /* payload bytes so far */
  uint64_t limit;  /* reader: payload bytes in the stream */
  uLong crc;       /* CRC-32 of the payload so far */
  int bad;         /* a put/get failed or a loader complained */
  char section[5]; /* reader: the section tag last expected */
  char why[384];
};

/* ---- the two media -------------------------------------------------------- */

static int ckpt_file_write(ckpt_file *f, const void *p, size_t n) {
  if (fwrite(p, 1, n, f->fp) == n)
    return 0;
  snprintf(f->why, sizeof f->why, "%s", strerror(errno));
  return -1;
}

static int ckpt_file_read(ckpt_file *f, void *p, size_t n) {
  if (fread(p, 1, n, f->fp) == n)
    return 0;
  snprintf(f->why, sizeof f->why, "%s",
           ferror(f->fp) ? strerror(errno) : "the file is shorter than its size said");
  return -1;
}

static int ckpt_mem_write(ckpt_file *f, const void *p, size_t n) {
  ckpt_buf *b = f->buf;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n && cap <= SIZE_MAX / 2)
      cap *= 2;
    unsigned char *d = cap - b->len >= n ? realloc(b->data, cap) : NULL;
    if (!d) {
      snprintf(f->why, sizeof f->why, "out of memory");
      return -1;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static int ckpt_mem_read(ckpt_file *f, void *p, size_t n) {
  if (n > f->mem_len - f->mem_pos) {
    snprintf(f->why, sizeof f->why, "the buffer ends early");
    return -1;
  }
  memcpy(p, f->mem + f->mem_pos, n);
  f->mem_pos += n;
  return 0;
}

static const ckpt_io ckpt_io_file = {ckpt_file_write, ckpt_file_read};
static const ckpt_io ckpt_io_mem = {ckpt_mem_write, ckpt_mem_read};

/* ---- common ------------------------------------------------------------------- */

static void ckpt_free(ckpt_file *f) {
  if (!f)
    return;
  if (f->fp)
    fclose(f->fp);
  free(f->path);
  free(f->tmp);
  free(f);
}

/* A stream named path over io; a file writer also gets its temp name. */
static ckpt_file *ckpt_alloc(const char *path, const ckpt_io *io, int file_writer) {
  ckpt_file *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    ckpt_free(f);
    return NULL;
  }
  size_t n = strlen(path);
  if (file_writer && !(f->tmp = malloc(n + sizeof ".tmp"))) {
    ckpt_free(f);
    return NULL;
  }
  if (file_writer) {
    memcpy(f->tmp, path, n);
    memcpy(f->tmp + n, ".tmp", sizeof ".tmp");
  }
  f->io = io;
  f->crc = crc32(0L, Z_NULL, 0);
  return f;
}

/* Marks f bad with a reason naming the section (once one was expected) and
 * the field (when given); the first reason wins. */
static void ckpt_failv(ckpt_file *f, const char *field, const char *fmt, va_list ap) {
  if (f->bad)
    return;
  f->bad = 1;
  int k = 0;
  if (f->section[0])
    k = snprintf(f->why, sizeof f->why, "section '%s', ", f->section);
  if (field && k >= 0 && (size_t)k < sizeof f->why)
    k += snprintf(f->why + k, sizeof f->why - (size_t)k, "field '%s': ", field);
  if (k >= 0 && (size_t)k < sizeof f->why)
    vsnprintf(f->why + k, sizeof f->why - (size_t)k, fmt, ap);
}

static void ckpt_fail_field(ckpt_file *f, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ckpt_fail_field(ckpt_file *f, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ckpt_failv(f, field, fmt, ap);
  va_end(ap);
}

void ckpt_fail(ckpt_file *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ckpt_failv(f, NULL, fmt, ap);
  va_end(ap);
}

/* crc32 takes uInt lengths: feed big arrays in pieces */
static void ckpt_crc(ckpt_file *f, const void *p, size_t n) {
  for (size_t done = 0; done < n;) {
    size_t k = n - done > (1u << 30) ? (1u << 30) : n - done;
    f->crc = crc32(f->crc, (const Bytef *)p + done, (uInt)k);
    done += k;
  }
}

/* ---- writing ---------------------------------------------------------------- */

/* Writes the header through f's medium. */
static void ckpt_put_header(ckpt_file *f) {
  uint32_t head[2] = {CKPT_FORMAT, CKPT_BOM};
  if (f->io->write(f, CKPT_MAGIC, sizeof CKPT_MAGIC) != 0 ||
      f->io->write(f, head, sizeof head) != 0)
    f->bad = 1;
}

/* fsyncs the directory that holds path, so a rename in it is durable. */
static int ckpt_sync_dir(const char *path) {
  if (path_sync_parent(path) == 0)
    return 0;
  char dir[4096];
  path_parent(path, dir, sizeof dir);
  diag_addf("checkpoint %s: cannot sync the directory: %s", dir, strerror(errno));
  return FS_EIO;
}

int ckpt_create(ckpt_file **out, const char *path) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(path, &ckpt_io_file, 1);
  if (!f)
    return FS_ENOMEM;
  if (unlink(f->tmp) != 0 && errno != ENOENT) { /* a stale one of a killed run */
    diag_addf("checkpoint %s: cannot remove: %s", f->tmp, strerror(errno));
    ckpt_free(f);
    return FS_EIO;
  }
  if (sf_create(f->tmp, &f->fp) != 0) {
    ckpt_free(f);
    return FS_EIO;
  }
  ckpt_put_header(f);
  *out = f;
  return 0;
}

int ckpt_create_mem(ckpt_file **out, ckpt_buf *buf, const char *name) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(name, &ckpt_io_mem, 0);
  if (!f)
    return FS_ENOMEM;
  f->buf = buf;
  buf->len = 0;
  ckpt_put_header(f);
  *out = f;
  return 0;
}

void ckpt_put(ckpt_file *f, const void *p, size_t n) {
  if (f->bad || n == 0)
    return;
  if (f->io->write(f, p, n) != 0) {
    f->bad = 1;
    return;
  }
  ckpt_crc(f, p, n);
  f->bytes += n;
}

void ckpt_tag(ckpt_file *f, const char tag[4]) { ckpt_put(f, tag, 4); }

void ckpt_put_i32(ckpt_file *f, int32_t v) { ckpt_put(f, &v, sizeof v); }

void ckpt_put_i64(ckpt_file *f, int64_t v) { ckpt_put(f, &v, sizeof v); }

void ckpt_put_f64(ckpt_file *f, double v) { ckpt_put(f, &v, sizeof v); }

void ckpt_put_array(ckpt_file *f, const void *p, size_t elem, size_t count) {
  if (elem != 0 && count > SIZE_MAX / elem) {
    if (!f->bad)
      snprintf(f->why, sizeof f->why, "an array of %zu x %zu bytes", count, elem);
    f->bad = 1;
    return;
  }
  ckpt_put(f, p, elem * count);
}

/* A file writer's end: flush, fsync, close, rename, directory fsync. */
static int ckpt_commit_file(ckpt_file *f, int rc) {
  if (rc == 0 && (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0)) {
    diag_addf("checkpoint %s: cannot write: %s", f->tmp, strerror(errno));
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
  return rc;
}

int ckpt_commit(ckpt_file **fp) {
  ckpt_file *f = *fp;
  uint64_t n = f->bytes;
  uint32_t crc = (uint32_t)f->crc;
  if (!f->bad && (f->io->write(f, &n, sizeof n) != 0 || f->io->write(f, &crc, sizeof crc) != 0 ||
                  f->io->write(f, CKPT_END, sizeof CKPT_END) != 0))
    f->bad = 1;
  int rc = 0;
  if (f->bad) {
    diag_addf("checkpoint %s: cannot write: %s", f->tmp ? f->tmp : f->path,
              f->why[0] ? f->why : strerror(errno));
    rc = f->fp ? FS_EIO : FS_ENOMEM;
  }
  if (f->fp)
    rc = ckpt_commit_file(f, rc);
  ckpt_free(f);
  *fp = NULL;
  return rc;
}

/* ---- reading ---------------------------------------------------------------- */

/* Reads and checks the header of a stream of `size` bytes; 0, or FS_EIO
 * with the name in diag. */
static int ckpt_check_header(ckpt_file *f, uint64_t size) {
  char magic[8];
  uint32_t head[2];
  const char *why = NULL;
  if (size < CKPT_HEADER + CKPT_TRAILER || f->io->read(f, magic, sizeof magic) != 0 ||
      f->io->read(f, head, sizeof head) != 0 || memcmp(magic, CKPT_MAGIC, 8) != 0)
    why = "not a fleetsim checkpoint file";
  else if (head[1] != CKPT_BOM)
    why = "written on a machine with another byte order";
  else if (head[0] != CKPT_FORMAT)
    why = "written by a fleetsim with another checkpoint format";
  if (why) {
    diag_addf("checkpoint %s: %s", f->path, why);
    return FS_EIO;
  }
  f->limit = size - CKPT_HEADER - CKPT_TRAILER;
  return 0;
}

int ckpt_open(ckpt_file **out, const char *path) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(path, &ckpt_io_file, 0);
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
  struct stat st;
  if (fstat(fileno(f->fp), &st) != 0) {
    diag_addf("checkpoint %s: cannot stat: %s", path, strerror(errno));
    ckpt_free(f);
    return FS_EIO;
  }
  if (ckpt_check_header(f, (uint64_t)st.st_size) != 0) {
    ckpt_free(f);
    return FS_EIO;
  }
  *out = f;
  return 0;
}

int ckpt_open_mem(ckpt_file **out, const void *data, size_t n, const char *name) {
  *out = NULL;
  ckpt_file *f = ckpt_alloc(name, &ckpt_io_mem, 0);
  if (!f)
    return FS_ENOMEM;
  f->mem = data;
  f->mem_len = data ? n : 0;
  if (ckpt_check_header(f, f->mem_len) != 0) {
    ckpt_free(f);
    return FS_EIO;
  }
  *out = f;
  return 0;
}

/* Reads n payload bytes for field (NULL: raw bytes). */
static int ckpt_read(ckpt_file *f, const char *field, void *p, size_t n) {
  if (f->bad) {
    if (n > 0)
      memset(p, 0, n);
    return -1;
  }
  if (n == 0) /* an empty array: p may be NULL */
    return 0;
  uint64_t at = f->bytes + CKPT_HEADER, left = f->limit - f->bytes;
  if (n > left || f->io->read(f, p, n) != 0) {
    if (n > left)
      ckpt_fail_field(f, field,
                      "the stream ends early (%zu bytes wanted at offset %llu, %llu left)", n,
                      (unsigned long long)at, (unsigned long long)left);
    else
      ckpt_fail_field(f, field, "cannot read %zu bytes at offset %llu: %s", n,
                      (unsigned long long)at, f->why);
    memset(p, 0, n);
    return -1;
  }
  ckpt_crc(f, p, n);
  f->bytes += n;
  return 0;
}

int ckpt_get(ckpt_file *f, void *p, size_t n) { return ckpt_read(f, NULL, p, n); }

int ckpt_get_i32(ckpt_file *f, const char *field, int32_t *v) {
  return ckpt_read(f, field, v, sizeof *v);
}

int ckpt_get_i64(ckpt_file *f, const char *field, int64_t *v) {
  return ckpt_read(f, field, v, sizeof *v);
}

int ckpt_get_f64(ckpt_file *f, const char *field, double *v) {
  return ckpt_read(f, field, v, sizeof *v);
}

int ckpt_get_array(ckpt_file *f, const char *field, void *p, size_t elem, size_t count) {
  if (elem != 0 && count > SIZE_MAX / elem) {
    ckpt_fail_field(f, field, "an array of %zu x %zu bytes", count, elem);
    return -1;
  }
  return ckpt_read(f, field, p, elem * count);
}

int ckpt_expect(ckpt_file *f, const char tag[4]) {
  char got[5] = {0}, field[32];
  snprintf(field, sizeof field, "tag of section '%.4s'", tag);
  f->section[0] = '\0'; /* the tag is not part of the section before it */
  if (ckpt_read(f, field, got, 4) != 0)
    return -1;
  if (memcmp(got, tag, 4) != 0) {
    for (int i = 0; i < 4; i++) /* a damaged tag's bytes never reach a terminal raw */
      got[i] = got[i] >= 0x20 && got[i] < 0x7f ? got[i] : '?';
    ckpt_fail(f, "section '%.4s' expected, found '%.4s' (offset %llu)", tag, got,
              (unsigned long long)(f->bytes + CKPT_HEADER - 4));
    return -1;
  }
  memcpy(f->section, tag, 4);
  return 0;
}

int ckpt_close(ckpt_file **fp) {
  if (!fp || !*fp)
    return 0;
  ckpt_file *f = *fp;
  int rc = 0;
  if (!f->bad && f->bytes != f->limit)
    ckpt_fail(f, "%llu bytes of state not read (another fleetsim version?)",
              (unsigned long long)(f->limit - f->bytes));
  uint64_t n = 0;
  uint32_t crc = 0;
  char end[4];
  f->section[0] = '\0'; /* the trailer is nobody's section */
  if (!f->bad &&
      (f->io->read(f, &n, sizeof n) != 0 || f->io->read(f, &crc, sizeof crc) != 0 ||
       f->io->read(f, end, sizeof end) != 0 || n != f->bytes || memcmp(end, CKPT_END, 4) != 0))
    ckpt_fail(f, "trailer damaged (the file is cut or overwritten)");
  if (!f->bad && crc != (uint32_t)f->crc)
    ckpt_fail(f,
              "checksum mismatch: CRC-32 of the payload %08x, the trailer says %08x (the file "
              "is damaged)",
              (unsigned)f->crc, (unsigned)crc);
  if (f->bad) {
    diag_addf("checkpoint %s: %s", f->path, f->why);
    rc = FS_EIO;
  }
  ckpt_free(f);
  *fp = NULL;
  return rc;
}

void ckpt_buf_free(ckpt_buf *b) {
  if (!b)
    return;
  free(b->data);
  memset(b, 0, sizeof *b);
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
