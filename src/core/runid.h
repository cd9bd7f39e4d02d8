/* The run fingerprint: what makes two outputs belong to the same run (its
 * config with the seed, its scenarios, the fleetsim build), stamped in the
 * archive (root attribute `fingerprint`), in the header line of
 * DIR/llm/contexts.jsonl and of every transcript, and in the checkpoint
 * manifest, so that files of two runs are never mixed. Runs with equal
 * fingerprints are the same deterministic experiment.
 *
 * Header line (first line of contexts.jsonl and DIR/llm/<backend>.jsonl):
 *   {"fleetsim_run":{"fingerprint":"0123456789abcdef","seed":42,
 *    "version":"0.1.0","git_commit":"abcdef012345"}} */
#ifndef FLEETSIM_RUNID_H
#define FLEETSIM_RUNID_H
#include <stddef.h>
#include <stdint.h>

enum { RUNID_HEX = 16 };

typedef struct {
  char fingerprint[RUNID_HEX + 1]; /* 64-bit FNV-1a in hex */
  uint64_t seed;
  char version[32];
  char git_commit[48];
} runid;

/* The fingerprint of a run of this build with config_json (cfg_to_json,
 * which holds the seed) and scenarios_text (compared as JSON: formatting
 * and key order aside). 0 or FS_ENOMEM / FS_EINVAL (scenarios not JSON). */
int runid_make(runid *r, const char *config_json, const char *scenarios_text, uint64_t seed);

/* The header line of r (no newline), malloc'd; NULL on allocation failure. */
char *runid_header(const runid *r);

/* Reads a header from text[0..len): 1 when it is a run header (*r filled
 * when r is not NULL), 0 when it is no header (a JSON value without the
 * key "fleetsim_run", or not JSON), -1 for a header with bad fields. */
int runid_parse(const char *text, size_t len, runid *r);

/* 1 when a and b are the same run. */
int runid_same(const runid *a, const runid *b);

/* "run 0123456789abcdef (seed 42, fleetsim 0.1.0 git abcdef012345)". */
void runid_describe(const runid *r, char *out, size_t cap);

/* What the first line of a file says about its run. */
typedef enum {
  RUNID_FILE_HEADER, /* a run header, in *r */
  RUNID_FILE_EMPTY,  /* no bytes at all */
  RUNID_FILE_NONE,   /* a first line that is not a run header */
} runid_file;

/* Reads the first line of the open descriptor fd (from offset 0, leaving
 * the offset alone) into *state and *r. 0, or FS_EIO (read error) /
 * FS_EINVAL (a header with bad fields), with path in diag. */
int runid_read_fd(int fd, const char *path, runid_file *state, runid *r);

/* runid_read_fd on path (opened read-only, links not followed). A missing
 * file is FS_EIO with the reason in diag. */
int runid_read_file(const char *path, runid_file *state, runid *r);

#endif
