/* Checkpoint files for `fleetsim run --resume` (DIR/checkpoint/): binary
 * state streams written atomically (temp file, fsync, rename, directory
 * fsync) with a CRC-32 trailer, and the root's manifest.json that names the
 * last complete checkpoint. It stores bytes; what they mean belongs to the
 * modules that save and load them (tel_, det_, agg_, ctx_, sim). Serial: no
 * MPI, every rank handles its own files.
 *
 * Usage (writer):
 *   ckpt_file *f; if ((rc = ckpt_create(&f, path)) != 0) return rc;
 *   ckpt_put(f, &x, sizeof x); ...; rc = ckpt_commit(&f);
 * Usage (reader):
 *   if ((rc = ckpt_open(&f, path)) != 0) return rc;
 *   ckpt_get(f, &x, sizeof x); ...; rc = ckpt_close(&f); */
#ifndef FLEETSIM_CHECKPOINT_H
#define FLEETSIM_CHECKPOINT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ckpt_file ckpt_file;

/* Opens "<path>.tmp" for writing: a stale one is removed, then it is
 * created exclusively, without following a link. 0 or FS_EIO/FS_ENOMEM (the
 * path and reason in diag). */
int ckpt_create(ckpt_file **out, const char *path);

/* Appends n bytes. A failure is remembered and reported by ckpt_commit. */
void ckpt_put(ckpt_file *f, const void *p, size_t n);

/* Writes a 4-character section tag (the reader checks it with ckpt_expect). */
void ckpt_tag(ckpt_file *f, const char tag[4]);

/* Writes the trailer (byte count, CRC-32), flushes, fsyncs, renames
 * "<path>.tmp" to path and fsyncs the directory. Frees *f and clears it.
 * 0, or FS_EIO with the path in diag (the temp file is removed). */
int ckpt_commit(ckpt_file **f);

/* Gives up a file being written: closes and removes "<path>.tmp". Accepts NULL. */
void ckpt_discard(ckpt_file **f);

/* Opens a committed file for reading and checks its header. 0, or FS_EIO
 * (missing, unreadable, not a fleetsim checkpoint, other byte order; diag
 * names the path). */
int ckpt_open(ckpt_file **out, const char *path);

/* Reads n bytes; returns 0, or -1 at end of file (remembered: ckpt_close
 * then fails). */
int ckpt_get(ckpt_file *f, void *p, size_t n);

/* Reads a section tag; 0 when it is `tag`, else -1 (remembered, with the
 * expected and found tags in diag). */
int ckpt_expect(ckpt_file *f, const char tag[4]);

/* Marks the stream bad with a reason (a loader found an impossible value);
 * ckpt_close reports it with the path. */
void ckpt_fail(ckpt_file *f, const char *why);

/* Checks that every byte up to the trailer was read and that the CRC-32
 * matches, closes, frees *f and clears it. 0, or FS_EIO with the path and
 * the first problem in diag. Accepts NULL (returns 0). */
int ckpt_close(ckpt_file **f);

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
