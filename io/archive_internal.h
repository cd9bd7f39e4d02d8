/* Private to the archive writer's files (archive.c, archive_coords.c,
 * archive_records.c, archive_rebuild.c): the writer's state and the
 * helpers they share. */
#ifndef FLEETSIM_ARCHIVE_INTERNAL_H
#define FLEETSIM_ARCHIVE_INTERNAL_H
#include <hdf5.h>

#include "io/archive.h"

/* One open archive. */
struct h5a_writer {
  char *path;    /* final name */
  char *partial; /* "<path>.partial", the name while writing */
  char *replaces; /* h5a_rebuild: the "<path>.partial" that h5a_rebuild_commit
                     renames this writer's file over, else NULL */
  h5a_layout lay;
  hid_t file;
  hid_t dxpl; /* collective MPI-IO transfer */
  hid_t time_ds;
  hid_t gpu_ds[GM_COUNT];
  hid_t node_ds[NM_COUNT];
  hid_t cluster_ds[CM_COUNT];
  int wb_fd;       /* the file opened read-only for path_writeback, or -1 */
  int compression; /* cfg_compression of the telemetry datasets (h5a_create) */
  int broken; /* an HDF5 call on the open file failed on some rank: its
                 collective state may differ between ranks, so it is never
                 touched again (h5a_abandon leaves it, see h5a_stranded) */
};

/* Records "archive PATH: ACTION OBJECT: <innermost HDF5 reason>[: <errno
 * text of a failed write>]" (after an I/O failure, only the first: the
 * later ones follow from it), marks this rank's file state as doubtful
 * after an I/O failure (h5a_io_cb), and returns FS_EHDF5. The HDF5 error
 * stack is cleared afterwards. */
int h5a_fail(const h5a_writer *w, const char *action, const char *object);

/* Closes any HDF5 identifier by its kind and clears it; a failure turns a
 * zero *rc into FS_EHDF5 (with a message naming what). */
void h5a_close(const h5a_writer *w, hid_t *id, const char *what, int *rc);

/* Ends a collective step: all ranks return the worst code. A rank that did
 * not fail itself but learns of a failure says so (rank 0 prints). */
int h5a_agree(h5a_writer *w, int rc);

/* Scalar UTF-8 variable-length string attribute name = value on obj. */
int h5a_attr_text(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
                  const char *value);

/* Scalar numeric attribute: stored as ftype, *value in memory type mtype. */
int h5a_attr_num(const h5a_writer *w, hid_t obj, const char *owner, const char *name,
                 hid_t ftype, hid_t mtype, const void *value);

/* Creates group name (full: its path, for messages) in parent into *out. */
int h5a_group(const h5a_writer *w, hid_t parent, const char *name, const char *full,
              hid_t *out);

/* Fixed-length, NUL-padded ASCII string type of len bytes (at least 1). */
hid_t h5a_fixed_string(size_t len);

/* Creates a small contiguous dataset group/name of shape dims[rank] and writes
 * buf collectively from rank 0 (other ranks select nothing; their buf is
 * ignored). Zero-sized datasets are created and not written. If out is not
 * NULL the dataset stays open there, else it is closed. */
int h5a_small(const h5a_writer *w, hid_t group, const char *full, int rank, const hsize_t *dims,
              hid_t ftype, hid_t mtype, const void *buf, hid_t *out);

/* Writes the coordinates (archive_coords.c, create path, after
 * h5a_create_series): the datasets /node, /gpu, /rack, /telemetry/time and
 * /telemetry/time_utc, the dimension scales time, node and gpu attached to
 * every /telemetry dataset, and the views /xarray/<scope>. Collective. */
int h5a_write_dimension_scales(h5a_writer *w, const h5a_provenance *prov);

/* A writer for path + suffix ("<path>.partial") with every identifier
 * invalid, the MPI-IO file access (*fapl: the operator's and fleetsim's
 * hints, FS_ECONFIG when they are bad; metadata reads and writes
 * collective when coll_metadata is 1) and collective transfer properties.
 * Collective; on failure *out may hold a writer to pass to h5a_abandon. */
int h5a_new(h5a_writer **out, const char *path, const char *suffix, int coll_metadata,
            const h5a_layout *lay, hid_t *fapl);

/* h5a_create, the file made at path + suffix, its root attribute
 * created_utc set to created_utc (NULL: now). A failure removes that file
 * only. Collective. */
int h5a_create_as(h5a_writer **out, const char *path, const char *suffix, const h5a_layout *lay,
                  const h5a_provenance *prov, const char *created_utc);

/* Opens every telemetry dataset and /time/seconds of w's open file into w,
 * checking each shape against w->lay (FS_EINVAL, named) and that its
 * filters can be loaded. Local; 0, FS_EINVAL or FS_EHDF5. */
int h5a_open_all_series(h5a_writer *w);

/* Makes an I/O failure on the MPI-IO file opened next end every rank
 * (par_io_abort_on, naming w's file); par_io_abort_off after the open.
 * 0 or FS_EMPI. Local. */
int h5a_abort_on_io_failure(const h5a_writer *w);

/* Starts the write-back of what was written to w's file (a hint). */
void h5a_writeback(const h5a_writer *w);

/* File space dims[rank] and memory space count[rank]; with mine, the file
 * selection is the block count at start and the memory selection all of it,
 * otherwise both select nothing (the rank still joins the collective write). */
herr_t h5a_select(int rank, const hsize_t *dims, const hsize_t *count, const hsize_t *start,
                  int mine, hid_t *fs, hid_t *ms);

#endif
