/* MPI-IO hints for the archive: the operator's FLEETSIM_MPIIO_HINTS, checked
 * against a table of known hints and turned into an MPI_Info that io/ hands
 * to HDF5 (H5Pset_fapl_mpio). This header stays free of <mpi.h>: io/ knows
 * the MPI_Info type through hdf5.h, everything else never sees it. */
#ifndef FLEETSIM_IO_HINTS_H
#define FLEETSIM_IO_HINTS_H
#include <stddef.h>

/* The environment variable read, e.g.
 * FLEETSIM_MPIIO_HINTS="romio_cb_write=enable,striping_factor=8". */
#define PAR_IO_HINTS_ENV "FLEETSIM_MPIIO_HINTS"

/* Collective. Rank 0 reads FLEETSIM_MPIIO_HINTS and broadcasts it, so every
 * rank uses rank 0's hints even where a launcher gave the ranks different
 * environments. The text is key=value pairs separated by commas (spaces
 * around them are ignored; unset or empty: no hints); every key must be a
 * known hint (striping_factor, striping_unit, cb_nodes, cb_buffer_size,
 * romio_cb_write, ...; see io_hints.c) with a value of its kind (a positive
 * integer, enable/disable/automatic, true/false), and appear once. Writes
 * the hints as "k=v,k=v" ("" when none) into shown[cap] (shown may be
 * NULL). Returns 0, or FS_ECONFIG with one diag message naming the first
 * bad hint and what it expects (the same on every rank). */
int par_io_hints_check(char *shown, size_t cap);

/* Collective. par_io_hints_check, then the hints as an MPI_Info: info is
 * the address of an MPI_Info, set to a new info object, or to MPI_INFO_NULL
 * when there are no hints. Returns 0, FS_ECONFIG (as above) or FS_EMPI, the
 * same on every rank; *info is MPI_INFO_NULL after a failure. Release it
 * with par_io_hints_free (H5Pset_fapl_mpio keeps its own copy). */
int par_io_hints(void *info);

/* Frees an MPI_Info from par_io_hints (info: its address) and sets it to
 * MPI_INFO_NULL; accepts MPI_INFO_NULL. Local. */
void par_io_hints_free(void *info);

/* Local. Adds fleetsim's own hints for the archive to *info (the address
 * of an MPI_Info from par_io_hints; an MPI_INFO_NULL there becomes a new
 * info object), each only where the operator did not set that key:
 * romio_cb_write=disable and romio_ds_write=disable. Every rank writes
 * whole chunks of its own racks, so collective buffering would only ship
 * them to an aggregator, and ROMIO's data sieving and collective buffering
 * read and rewrite every gap between the pieces of a write (an H5Fflush's
 * metadata spans the whole file: it rewrote the file at every checkpoint).
 * OMPIO ignores these keys. 0, or FS_EMPI (*info unchanged) with one diag
 * message. */
int par_io_archive_hints(void *info);

#endif
