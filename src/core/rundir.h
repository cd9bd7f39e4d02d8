/* One owner per run directory, and fleetsim's own files in it.
 *
 * The lock: DIR/.lock (created once, never removed), flock(2)ed for the
 * life of the command: exclusively by `run` (rank 0) and `score`, shared
 * by `escalate` (which also locks its own transcript exclusively, see
 * escalate.h), so two runs, a run and an escalate, or a score and an
 * escalate never write one directory at the same time. The exclusive
 * holder writes "pid N: fleetsim COMMAND" into the file for the message
 * another process gets. A file system without flock support gives a
 * warning and no protection.
 *
 * fleetsim's files in DIR (the only ones it creates, replaces or removes):
 *   fleet.h5, fleet.h5.partial[.tmp] (.tmp: a compressed archive being
 *   rebuilt by --resume), checkpoint/{manifest.json,
 *   wNNNNNN-rNNNN.bin, wNNNNNN-root.bin}[.tmp], llm/contexts.jsonl,
 *   llm/<backend>.jsonl and calibration/<operator>.jsonl (only with a run
 *   header, runid.h), results/{detection,summary,calibration}.json,
 *   results/{calls.jsonl,summary.md,calibration.md,outcomes.json,outcomes.md},
 *   closed_loop/<policy>.json, closed_loop/<policy>/llm/contexts.jsonl
 *   (only with a run header) and closed_loop/<policy>/results/ (the
 *   results names above): `run --closed-loop`'s twins,
 *   judgment/<backend>/<scenario>_L<n>_<k>.md, and their ".tmp" names.
 * A link or a directory at one of these names is not fleetsim's. */
#ifndef FLEETSIM_RUNDIR_H
#define FLEETSIM_RUNDIR_H
#include <stddef.h>

/* Takes DIR/.lock (exclusive or shared) without waiting, for `who`
 * ("run", "score", "escalate"). *fd is the descriptor to keep open (close
 * it, or exit, to release). 0, or FS_EUSAGE (held by another process: the
 * message names DIR and the holder) / FS_EIO. */
int rundir_lock(const char *dir, int exclusive, const char *who, int *fd);

/* Releases a lock from rundir_lock (accepts -1) and sets *fd to -1. */
void rundir_unlock(int *fd);

/* Lists in list[cap] ("fleet.h5, llm/contexts.jsonl, ...") the entries at
 * fleetsim's names in dir: what a fresh run would replace. Returns how
 * many there are (0: dir holds no run); -1 with diag when dir cannot be
 * read. */
int rundir_held(const char *dir, char *list, size_t cap);

/* --force: removes fleetsim's own files of an earlier run from dir (the
 * names above that are regular files; transcripts only with a run header)
 * and then the folders it made if they are empty. Anything else stays;
 * a link or a non-file at one of fleetsim's names is refused (FS_EIO,
 * named), since fleetsim did not write it. 0 or FS_EIO. */
int rundir_clear(const char *dir);

/* Removes the judgment packages (judgment/<backend>/<scenario>_L<n>_<k>.md)
 * of an earlier scoring, and the folders left empty, before `score`
 * writes the current ones. 0 or FS_EIO. */
int rundir_clear_judgment(const char *dir);

#endif
