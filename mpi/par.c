/* MPI behind named operations (see par.h). Nothing here knows what a metric
 * or a rack's contents are; callers pass plain arrays. */
#include "mpi/par.h"

#include <errno.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "src/core/errors.h"

static int par_started;
static pid_t par_parent; /* the launcher (mpirun, orted, slurmstepd), or 0 */

/* Under a launcher, a rank must not outlive it: it would go on writing a
 * run directory that a --resume may already be writing. The kernel kills
 * the rank when its parent dies; par_wait checks too. */
static void par_watch_parent(void) {
  if (!getenv("OMPI_COMM_WORLD_RANK") && !getenv("PMIX_RANK") && !getenv("PMI_RANK"))
    return;
  par_parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != par_parent || par_parent == 1)
    _exit(1); /* the launcher is already gone */
}

/* Open MPI's own MPI-IO (OMPIO) reports a failed write only in the status's
 * byte count, never as an error code, so no error handler sees it and HDF5
 * goes on into its next collective (par_io_abort_on). Its ROMIO component
 * returns MPI_ERR_IO and calls the file's handler: fleetsim asks for it
 * unless the operator chose an io component (OMPI_MCA_io). Other MPI
 * libraries (MPICH, Intel MPI) use ROMIO anyway and ignore the variable. */
static void par_choose_mpiio(void) {
  if (!getenv("OMPI_MCA_io"))
    (void)setenv("OMPI_MCA_io", "romio321", 0); /* without it: OMPIO, errors unseen */
}

int par_init(int *argc, char ***argv) {
  int provided = 0;
  par_watch_parent();
  par_choose_mpiio();
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return FS_EMPI;
  par_started = 1;
  /* Errors come back as codes so that callers can report them. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return 0;
}

/* Completes a non-blocking collective. It spins for the first millisecond
 * (most collectives end sooner), then sleeps between tests, 20 us doubling
 * to max_nap_ns, so that ranks waiting for a slow or stopped rank take
 * almost no CPU. A rank whose launcher died ends here at once. */
static int par_wait(MPI_Request *req, long max_nap_ns) {
  int done = 0;
  double t0 = MPI_Wtime();
  long nap_ns = 20000;
  for (;;) {
    if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      return FS_EMPI;
    if (done)
      return 0;
    if (MPI_Wtime() - t0 < 1e-3)
      continue;
    if (par_parent && getppid() != par_parent)
      _exit(1);
    struct timespec ts = {0, nap_ns};
    nanosleep(&ts, NULL);
    nap_ns = nap_ns * 2 < max_nap_ns ? nap_ns * 2 : max_nap_ns;
  }
}

/* par_wait of a call that started a request (rc its return code), with
 * naps of at most 250 us. */
static int par_complete(int rc, MPI_Request *req) {
  return rc != MPI_SUCCESS ? FS_EMPI : par_wait(req, 250000);
}

/* ---- MPI-IO failures (par_io_abort_on) ------------------------------------ */

static char par_io_what[4200];
static MPI_Errhandler par_io_handler = MPI_ERRHANDLER_NULL;

/* The file error handler: see par_io_abort_on. errno still holds what the
 * failed system call said (MPI-IO's write, fsync) when it is one of the
 * errors of a disk. */
static void par_io_failed(MPI_File *fh, int *code, ...) {
  int err = errno;
  if (!fh || *fh == MPI_FILE_NULL || par_size() < 2)
    return; /* an open that failed, or one rank: the caller reports the code */
  char mpi_text[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(*code, mpi_text, &len) != MPI_SUCCESS || len <= 0)
    snprintf(mpi_text, sizeof mpi_text, "MPI error %d", *code);
  int disk = err == EIO || err == ENOSPC || err == EDQUOT || err == EFBIG || err == EROFS;
  if (par_rank() != 0) { /* rank 0's abort, if it failed too, ends this rank first */
    struct timespec ts = {0, PAR_IO_ABORT_NAP_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr,
          "fleetsim: error: %s: an I/O operation failed on rank %d (%s)%s%s; every rank stops "
          "now (MPI_Abort: the others may be waiting inside HDF5 for this one), leaving the "
          "file unfinished\n",
          par_io_what, par_rank(), mpi_text, disk ? ": " : "", disk ? strerror(err) : "");
  fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  _exit(1); /* MPI_Abort does not return; should it, this rank still ends */
}

int par_io_abort_on(const char *what) {
  snprintf(par_io_what, sizeof par_io_what, "%s", what ? what : "an MPI-IO file");
  if (par_io_handler == MPI_ERRHANDLER_NULL &&
      MPI_File_create_errhandler(par_io_failed, &par_io_handler) != MPI_SUCCESS)
    return FS_EMPI;
  return MPI_File_set_errhandler(MPI_FILE_NULL, par_io_handler) == MPI_SUCCESS ? 0 : FS_EMPI;
}

void par_io_abort_off(void) {
  /* MPI_ERRORS_RETURN is MPI's own default for files: it cannot be refused */
  (void)MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
}

_Noreturn void par_exit(int status) {
  fflush(stdout);
  fflush(stderr);
  _exit(status);
}

void par_finalize(void) {
  int finalized = 0;
  if (par_started && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized)
    MPI_Finalize();
}

int par_rank(void) {
  int r = 0;
  if (par_started)
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int par_size(void) {
  int n = 1;
  if (par_started)
    MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

int par_prints(void) { return par_rank() == 0; }

int par_agree(int rc) {
  int worst = rc;
  MPI_Request req;
  if (par_complete(MPI_Iallreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req), &req))
    return FS_EMPI;
  return worst;
}

int par_agree_idle(int rc) {
  int worst = rc;
  MPI_Request req;
  if (MPI_Iallreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req) != MPI_SUCCESS ||
      par_wait(&req, 16000000))
    return FS_EMPI;
  return worst;
}

int par_bcast_text_from(int root, char **text) {
  long len = (par_rank() == root && *text) ? (long)strlen(*text) : -1;
  MPI_Request req;
  if (par_complete(MPI_Ibcast(&len, 1, MPI_LONG, root, MPI_COMM_WORLD, &req), &req))
    return FS_EMPI;
  if (len < 0) {
    if (par_rank() != root)
      *text = NULL;
    return 0;
  }
  if (par_rank() != root) {
    *text = malloc((size_t)len + 1);
    if (!*text)
      return par_agree(FS_ENOMEM);
  }
  int rc = 0;
  if (par_complete(MPI_Ibcast(*text, (int)len + 1, MPI_CHAR, root, MPI_COMM_WORLD, &req), &req))
    rc = FS_EMPI;
  return par_agree(rc);
}

int par_bcast_text(char **text) { return par_bcast_text_from(0, text); }

int par_max_doubles(double *inout, int n) {
  MPI_Request req;
  return par_complete(
      MPI_Iallreduce(MPI_IN_PLACE, inout, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &req), &req);
}

int par_gather_rack_blocks(const double *local, int local_racks, int block, double *all_out) {
  int size = par_size();
  int rc = 0;
  int *counts = NULL, *displs = NULL;
  if (par_rank() == 0) {
    counts = malloc(sizeof *counts * (size_t)size);
    displs = malloc(sizeof *displs * (size_t)size);
    if (!counts || !displs)
      rc = FS_ENOMEM;
  }
  if ((rc = par_agree(rc)) != 0) {
    free(counts);
    free(displs);
    return rc;
  }
  int sendcount = local_racks * block;
  MPI_Request req;
  if (par_complete(MPI_Igather(&sendcount, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD, &req),
                   &req))
    rc = FS_EMPI;
  if (par_rank() == 0 && counts) {
    int off = 0;
    for (int r = 0; r < size; r++) {
      displs[r] = off;
      off += counts[r];
    }
  }
  if (par_complete(MPI_Igatherv(local, sendcount, MPI_DOUBLE, all_out, counts, displs, MPI_DOUBLE,
                                0, MPI_COMM_WORLD, &req),
                   &req))
    rc = FS_EMPI;
  free(counts);
  free(displs);
  return rc;
}

int par_min_avg_max(double v, double *min, double *avg, double *max) {
  double sum = 0;
  MPI_Request req;
  if (par_complete(MPI_Iallreduce(&v, min, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD, &req), &req) ||
      par_complete(MPI_Iallreduce(&v, max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &req), &req) ||
      par_complete(MPI_Iallreduce(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req), &req))
    return FS_EMPI;
  *avg = sum / par_size();
  return 0;
}

double par_wtime(void) { return MPI_Wtime(); }

int par_node_ranks(void) {
  MPI_Comm node;
  int n = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
  }
  return n;
}

void par_rack_range_of(int racks, int rank, int size, int *first, int *count) {
  int base = racks / size, extra = racks % size, plain = size - extra; /* ranks with base racks */
  *count = base + (rank >= plain ? 1 : 0);
  *first = rank * base + (rank > plain ? rank - plain : 0);
}

void par_rack_range(int racks, int *first, int *count) {
  par_rack_range_of(racks, par_rank(), par_size(), first, count);
}

int par_allgather_floats(const float *local, const int *counts, float *all_out) {
  int size = par_size();
  int *displs = malloc(sizeof *displs * (size_t)size);
  int rc = par_agree(displs ? 0 : FS_ENOMEM);
  if (rc) {
    free(displs);
    return rc;
  }
  int off = 0;
  for (int r = 0; r < size; r++) {
    displs[r] = off;
    off += counts[r];
  }
  MPI_Request req;
  if (par_complete(MPI_Iallgatherv(local, counts[par_rank()], MPI_FLOAT, all_out, counts, displs,
                                   MPI_FLOAT, MPI_COMM_WORLD, &req),
                   &req))
    rc = FS_EMPI;
  free(displs);
  return rc;
}

int par_gather_bytes(const void *local, int n, void **all_out, int *all_n) {
  int size = par_size(), root = par_rank() == 0;
  int *counts = root ? calloc((size_t)size, sizeof *counts) : NULL;
  int *displs = root ? calloc((size_t)size, sizeof *displs) : NULL;
  int rc = (root && (!counts || !displs)) ? FS_ENOMEM : 0;
  *all_out = NULL;
  *all_n = 0;
  if ((rc = par_agree(rc)) != 0)
    goto out;
  MPI_Request req;
  if (par_complete(MPI_Igather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD, &req),
                   &req)) {
    rc = FS_EMPI;
    goto out;
  }
  if (root) {
    for (int r = 0; r < size; r++) {
      displs[r] = *all_n;
      *all_n += counts[r];
    }
    if (*all_n > 0 && !(*all_out = malloc((size_t)*all_n)))
      rc = FS_ENOMEM;
  }
  if ((rc = par_agree(rc)) != 0)
    goto out;
  if (par_complete(MPI_Igatherv(local, n, MPI_BYTE, *all_out, counts, displs, MPI_BYTE, 0,
                                MPI_COMM_WORLD, &req),
                   &req))
    rc = FS_EMPI;
out:
  free(counts);
  free(displs);
  return rc;
}

int par_bcast_int(int *v) {
  MPI_Request req;
  return par_complete(MPI_Ibcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD, &req), &req);
}
