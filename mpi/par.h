/* The parallel layer: the only code that calls MPI. Collectives are named for
 * what they do, so simulation code reads like simulation code. Every function
 * is collective over all ranks unless it says otherwise. */
#ifndef FLEETSIM_PAR_H
#define FLEETSIM_PAR_H
#include <stddef.h>
#include <stdint.h>

/* Starts MPI (thread level: funneled). Returns 0 or FS_EMPI. Not collective
 * in the MPI sense, but every process must call it first. A process started
 * by an MPI launcher (mpirun, srun) is killed by the kernel when the
 * launcher dies (PR_SET_PDEATHSIG), so no rank outlives its job.
 *
 * Every collective below waits by testing a non-blocking operation, spinning
 * for a millisecond and then sleeping in short naps: a rank that waits for
 * a slow or stopped rank takes almost no CPU, and one whose launcher died
 * exits (status 1). */
int par_init(int *argc, char ***argv);

/* Shuts MPI down; safe to call when par_init failed. */
void par_finalize(void);

/* This process's rank and the number of ranks (local, no communication). */
int par_rank(void);
int par_size(void);

/* 1 on the one rank that prints messages, progress and summaries (rank 0). */
int par_prints(void);

/* Ends this process at once with status, without MPI_Finalize (after the
 * ranks agreed on a failure that left a file open in a state that a
 * collective close or MPI_Finalize could hang on, see h5a_stranded).
 * Flushes stdout and stderr first. */
_Noreturn void par_exit(int status);

/* Local. Until par_io_abort_off, every MPI-IO file this process opens
 * (HDF5's archive file) gets an error handler for the life of the file:
 * when an operation on the open file fails (a write, sync or read under
 * HDF5: EIO, a full disk) and more than one rank runs, the failing rank
 * prints one line "fleetsim: error: <what>: ..." to stderr (what names the
 * file; MPI's and the system's reasons follow) and ends every rank with
 * MPI_Abort (status 1). The peers may be inside one of HDF5's own
 * collectives that the failing rank will never join (HDF5 goes on to
 * another collective after a failed write), so no agreement can reach
 * them. A rank other than 0 waits PAR_IO_ABORT_NAP_MS before it prints, so
 * that when rank 0 fails too its abort ends the job first (one message).
 * With one rank, and for a failed open, the error comes back as a code, as
 * without the handler. Returns 0 or FS_EMPI. */
int par_io_abort_on(const char *what);

/* Local. Files opened from now on get MPI's default (errors returned); the
 * ones opened under par_io_abort_on keep its handler. */
void par_io_abort_off(void);

enum { PAR_IO_ABORT_NAP_MS = 300 };

/* Agreement: returns the lowest (worst) of every rank's rc, so all ranks take
 * the same branch after a step that may fail on some of them. */
int par_agree(int rc);

/* par_agree for a point where some ranks may wait long for another (rank 0
 * waiting for LLM answers, scoring, a serial subcommand): the waiting ranks
 * sleep instead of spinning: like par_agree (a non-blocking all-reduce
 * tested with naps in between) but the naps grow to 16 ms, not 250 us, so a
 * waiting rank uses next to no CPU and answers within about 16 ms once the
 * last rank arrives. Every rank must call it at the same point. */
int par_agree_idle(int rc);

/* Broadcasts a NUL-terminated string from rank 0. On rank 0 *text is the
 * input (may be NULL, meaning "no text"); on the others it is set to a
 * malloc'd copy (or NULL). Returns 0, FS_ENOMEM or FS_EMPI on every rank. */
int par_bcast_text(char **text);

/* par_bcast_text from rank `root` (the same on every rank). */
int par_bcast_text_from(int root, char **text);

/* In-place element-wise maximum over all ranks of n doubles. */
int par_max_doubles(double *inout, int n);

/* Gathers per-rack blocks to rank 0 in rack order. Each rank passes
 * local_racks * block doubles (its racks, ascending); rank 0 receives
 * racks * block doubles in all_out (ignored elsewhere). */
int par_gather_rack_blocks(const double *local, int local_racks, int block, double *all_out);

/* Concatenates every rank's block of floats on every rank, in rank order:
 * rank r contributes counts[r] floats (every rank passes the same counts
 * array); all_out receives the sum of counts. */
int par_allgather_floats(const float *local, const int *counts, float *all_out);

/* Gathers variable-size byte blocks to rank 0 in rank order. *all_out is
 * malloc'd on rank 0 (NULL elsewhere, and NULL when the total is 0) and
 * *all_n set to the total byte count. */
int par_gather_bytes(const void *local, int n, void **all_out, int *all_n);

/* Broadcasts one int from rank 0. */
int par_bcast_int(int *v);

/* The rack block [first, first + count) that `rank` of `size` ranks owns
 * (par_rack_range for another rank). Local. */
void par_rack_range_of(int racks, int rank, int size, int *first, int *count);

/* Min, mean and max of one double over all ranks (for timing reports). */
int par_min_avg_max(double v, double *min, double *avg, double *max);

/* How many ranks share this rank's node (its shared-memory domain). */
int par_node_ranks(void);

/* Wall-clock seconds (MPI_Wtime), local. */
double par_wtime(void);

/* The contiguous block of racks this rank owns: [first, first + count).
 * Remainders go to the highest ranks: rank 0, which also does the printing
 * rank's per-block work, gets the smaller share. Local, no communication. */
void par_rack_range(int racks, int *first, int *count);

#endif
