/* Checkpoint streams for `fleetsim run --resume` (DIR/checkpoint/), and the
 * root's manifest.json that names the last complete checkpoint. A stream is
 * a header, a payload of records (section tags, ints, doubles, arrays, raw
 * bytes) and a trailer with the payload's length and CRC-32. It goes to a
 * file, written atomically (temp file, fsync, rename, directory fsync), or to
 * a memory buffer (the same bytes; what tests save and load through), and is
 * read back from either through the same calls. It stores records; what they
 * mean belongs to the modules that save and load them (tel_, det_, agg_,
 * ctx_, sim). Serial: no MPI, every rank handles its own files.
 *
 * Usage (writer; a failed put is remembered and reported by ckpt_commit):
 *   ckpt_file *f; if ((rc = ckpt_create(&f, path)) != 0) return rc;
 *   ckpt_tag(f, "DETG"); ckpt_put_i64(f, blocks); ckpt_put_array(f, v, sizeof *v, n);
 *   rc = ckpt_commit(&f);
 * Usage (reader; a get names its field, so a short or damaged stream reads
 * "checkpoint PATH: section 'DETG', field 'blocks': ..."):
 *   if ((rc = ckpt_open(&f, path)) != 0) return rc;
 *   if (ckpt_expect(f, "DETG") == 0 && ckpt_get_i64(f, "blocks", &blocks) == 0) ...;
 *   rc = ckpt_close(&f);
 * In memory: ckpt_buf b = {0}; ckpt_create_mem(&f, &b, "test"); ...; ckpt_commit(&f);
 *   ckpt_open_mem(&f, b.data, b.len, "test"); ...; ckpt_close(&f); ckpt_buf_free(&b); */
#ifndef FLEETSIM_CHECKPOINT_H
#define FLEETSIM_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ckpt_file ckpt_file;

/* The bytes of a stream written to memory: a complete checkpoint file image
 * after ckpt_commit. Owned by the caller; free with ckpt_buf_free. */
typedef struct {
  unsigned char *data;
  size_t len, cap;
} ckpt_buf;

/* ---- writing ----------------------------------------------------------- */

/* Opens "<path>.tmp" for writing: a stale one is removed, then it is
 * created exclusively, without following a link. 0 or FS_EIO/FS_ENOMEM (the
 * path and reason in diag). */
int ckpt_create(ckpt_file **out, const char *path);

/* Starts a stream into buf (emptied first, its memory reused); name stands
 * for the path in messages. 0 or FS_ENOMEM. */
int ckpt_create_mem(ckpt_file **out, ckpt_buf *buf, const char *name);

/* Appends n raw bytes (a fixed-layout record such as a node's state). */
void ckpt_put(ckpt_file *f, const void *p, size_t n);

/* Writes a 4-character section tag (the reader checks it with ckpt_expect). */
void ckpt_tag(ckpt_file *f, const char tag[4]);

/* One value in the machine's representation (4, 8 and 8 bytes). */
void ckpt_put_i32(ckpt_file *f, int32_t v);
void ckpt_put_i64(ckpt_file *f, int64_t v);
void ckpt_put_f64(ckpt_file *f, double v);

/* count elements of elem bytes each (count 0 writes nothing). */
void ckpt_put_array(ckpt_file *f, const void *p, size_t elem, size_t count);

/* Writes the trailer (byte count, CRC-32). A file stream is flushed,
 * fsynced, renamed from "<path>.tmp" to path and its directory fsynced; a
 * memory stream's buffer then holds the whole image. Frees *f and clears it.
 * 0, or FS_EIO (FS_ENOMEM for memory) with the path in diag (a file's temp
 * is removed). */
int ckpt_commit(ckpt_file **f);

/* ---- reading ----------------------------------------------------------- */

/* Opens a committed file for reading and checks its header. 0, or FS_EIO
 * (missing, unreadable, not a fleetsim checkpoint, other byte order or
 * format; diag names the path). */
int ckpt_open(ckpt_file **out, const char *path);

/* The same over n bytes at data (borrowed until ckpt_close); name stands
 * for the path in messages. 0, FS_EIO or FS_ENOMEM. */
int ckpt_open_mem(ckpt_file **out, const void *data, size_t n, const char *name);

/* Reads a section tag; 0 when it is `tag`, else -1 (remembered, with the
 * expected and found tags). Later messages name the section. */
int ckpt_expect(ckpt_file *f, const char tag[4]);

/* Read what the puts above wrote into *v or p. field names the value in
 * the message when the stream ends before it. 0, or -1 (remembered:
 * ckpt_close then fails; the destination is zeroed). Once a get failed,
 * every later one fails too. */
int ckpt_get_i32(ckpt_file *f, const char *field, int32_t *v);
int ckpt_get_i64(ckpt_file *f, const char *field, int64_t *v);
int ckpt_get_f64(ckpt_file *f, const char *field, double *v);
int ckpt_get_array(ckpt_file *f, const char *field, void *p, size_t elem, size_t count);

/* Reads n raw bytes (the message names the section, not a field). 0 or -1,
 * as above. */
int ckpt_get(ckpt_file *f, void *p, size_t n);

/* Marks the stream bad with a reason, printf-style (a loader found an
 * impossible value: name the field and the value); the first reason wins and
 * ckpt_close reports it with the path and section. */
void ckpt_fail(ckpt_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks that every byte up to the trailer was read and that the length and
 * CRC-32 match, closes, frees *f and clears it. 0, or FS_EIO with the path
 * and the first problem in diag. Accepts NULL (returns 0). */
int ckpt_close(ckpt_file **f);

/* Frees a memory stream's bytes and zeroes *b. */
void ckpt_buf_free(ckpt_buf *b);

/* ---- the manifest (root only) --------------------------------------------- */

/* One rank's state file of a checkpoint: its name in DIR/checkpoint and
 * the global node range it holds. */
typedef struct {
  char file[64];
  int node0, nnodes;
} ckpt_part;

typedef struct {
  int64_t windows;         /* archive windows written and checkpointed */
  int64_t next_scrape;     /* first scrape to simulate on resume */
  int64_t contexts_bytes;  /* length of DIR/llm/contexts.jsonl at the checkpoint */
  int ranks;               /* ranks that wrote it (nparts files) */
  char *version;           /* fleetsim version and build commit */
  char *git_commit;
  char *fingerprint;       /* the run fingerprint (src/core/runid.h) */
  char *config_json;       /* cfg_to_json of the run */
  char *scenarios_text;    /* the scenario file text of the run */
  ckpt_part *parts;        /* [nparts] */
  int nparts;
} ckpt_manifest;

/* The name of rank r's state file for checkpoint `windows`
 * ("w000012-r0003.bin"). */
void ckpt_part_name(char *out, size_t cap, int64_t windows, int rank);

/* Writes DIR/checkpoint/manifest.json atomically. 0 or FS_EIO/FS_ENOMEM. */
int ckpt_manifest_write(const char *ckpt_dir, const ckpt_manifest *m);

/* Parses manifest text (source names it in messages) into *m (owned
 * strings; free with ckpt_manifest_free). 0 or FS_EIO with the reason. */
int ckpt_manifest_parse(const char *text, const char *source, ckpt_manifest *m);

/* Frees what ckpt_manifest_parse allocated and zeroes *m. */
void ckpt_manifest_free(ckpt_manifest *m);

/* Removes the checkpoint files of ckpt_dir (manifest.json, wNNNNNN-rNNNN.bin,
 * wNNNNNN-root.bin and their .tmp names; nothing else, and ckpt_dir is not
 * followed when it is a link) except manifest.json and the state files of
 * checkpoint `keep`; keep < 0: all of them, then the directory itself when
 * that leaves it empty. A missing directory is fine. 0 or FS_EIO. */
int ckpt_prune(const char *ckpt_dir, int64_t keep);

/* Makes path end after its last newline (drops a line torn by a crash) and
 * fsyncs it. A missing file is fine; a link is refused. 0 or FS_EIO. */
int ckpt_trim_partial_line(const char *path);

/* Truncates path (a regular file, not a link) to `bytes` (which must not
 * exceed its size) and fsyncs it. 0 or FS_EIO (e.g. the file is shorter
 * than the checkpoint says). */
int ckpt_truncate(const char *path, int64_t bytes);

/* fsyncs an open stdio stream's file (after fflush). 0 or FS_EIO. */
int ckpt_sync_stream(FILE *fp, const char *path);

#endif
