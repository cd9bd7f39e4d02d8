/* The HDF5 archive (fleet.h5): the only code that includes <hdf5.h>. Parallel
 * HDF5 over MPI-IO: every rank writes its own racks' hyperslab of each window
 * collectively. The file is built under "<path>.partial" and renamed to
 * <path> by h5a_finish, which also sets the root attribute complete = 1. */
#ifndef FLEETSIM_ARCHIVE_H
#define FLEETSIM_ARCHIVE_H
#include <stdint.h>

#include "src/model/events.h"
#include "src/model/fleet.h"
#include "src/model/metrics.h"

typedef struct h5a_writer h5a_writer;

/* What the writer needs to lay out the file. All ranks pass the same values
 * except node0/nnodes (this rank's nodes: whole racks, contiguous). */
typedef struct {
  int64_t scrapes;        /* T: rows of every time-indexed dataset */
  int nodes;              /* nodes in the fleet */
  int nodes_per_rack;     /* node-dimension chunk size */
  int window_scrapes;     /* time-dimension chunk size (clipped to T) */
  int node0, nnodes;      /* this rank's node range */
  double reserve_bytes;   /* h5a_create: disk the file will take uncompressed,
                             reserved at creation so that no later write runs
                             out of space (0: no reservation); h5a_finish
                             gives back what the file did not use */
} h5a_layout;

/* Provenance written as root attributes. */
typedef struct {
  const char *version;     /* fleetsim version */
  const char *git_commit;  /* build's commit */
  const char *fingerprint; /* the run fingerprint (src/core/runid.h) */
  const char *config_json; /* the final config (cfg_to_json) */
  const char *scenarios_json; /* scenario file text as used, or NULL */
  uint64_t seed;
  int ranks;
  int scrape_interval_s;
} h5a_provenance;

/* Collective. Creates "<path>.partial", which must not exist (not even as
 * a link: the file is created exclusively), reserves lay->reserve_bytes of
 * disk for it (rank 0; FS_EIO naming the file and "No space left on
 * device" when they are not there), and creates every dataset of the
 * layout: /time/seconds, /telemetry/{gpu,node,cluster}/<metric> with units,
 * long_name and dcgm_field attributes, the coordinates (/node, /gpu, /rack,
 * /telemetry/time and time_utc: netCDF-4 dimension scales time, node and gpu
 * attached to every telemetry dataset, and the soft-link views
 * /xarray/<scope>), and the provenance (including the run fingerprint). The
 * telemetry and /time/seconds are compressed with the archive_compression
 * of prov->config_json (io/compression.h); a filter this process cannot load
 * is FS_ECONFIG, found before the file is created. The file is opened with
 * the MPI-IO hints of FLEETSIM_MPIIO_HINTS (mpi/io_hints.h). A failure
 * removes the file it made. Returns 0, FS_EIO (message in diag names the
 * path), FS_ECONFIG (a bad hint or filter, named) or FS_EHDF5. All ranks get
 * the same result. */
int h5a_create(h5a_writer **out, const char *path, const h5a_layout *lay,
               const h5a_provenance *prov);

/* Collective. Reopens "<path>.partial" of an interrupted run for writing
 * (--resume): opens every telemetry dataset and /time/seconds and checks
 * their shapes against lay (FS_EINVAL, naming the dataset, when they
 * differ) and that their filters can be loaded (FS_EHDF5 naming the filter
 * and how to get it); an /events group left by a cut-short finish is removed, since
 * h5a_write_events writes it again. The root attribute `ranks` becomes
 * `ranks` (this leg's rank count); topology, ground truth and the rest of
 * the provenance stay as the first run wrote them. Opened with the MPI-IO
 * hints as h5a_create. Returns 0, FS_EIO (missing or not HDF5), FS_EINVAL,
 * FS_ECONFIG (a bad hint) or FS_EHDF5 on every rank. */
int h5a_reopen(h5a_writer **out, const char *path, const h5a_layout *lay, int ranks);

/* Collective. --resume of an archive whose telemetry is compressed (any
 * archive_compression but none): its "<path>.partial" is not written
 * again, since a flush that the interruption cut short may have left its
 * chunk index pointing into space that new chunks would take. Instead a
 * new archive is made at "<path>.partial.tmp" (a stale one from an earlier
 * attempt is removed first) exactly as h5a_create makes one, with the old
 * file's created_utc, and rows [0, rows) of every telemetry dataset and
 * /time/seconds (the checkpoint's) are copied into it from the old file,
 * opened read-only, window by window through the same collective writes as
 * h5a_write_window. The old file's disk reservation is given back first
 * (it is read only from now on). The caller then writes what a new run
 * writes after h5a_create (topology, ground truth) and calls
 * h5a_rebuild_commit; until then "<path>.partial" stands unchanged, so an
 * interruption or failure leaves the checkpoint resumable as before. A
 * failure removes the new file. Returns 0, FS_EIO (no old file, or it is
 * not HDF5), FS_EINVAL (another layout), FS_ECONFIG, FS_EHDF5 (a read of
 * the old rows failed: the message names the dataset) or FS_ENOMEM, on
 * every rank. */
int h5a_rebuild(h5a_writer **out, const char *path, const h5a_layout *lay,
                const h5a_provenance *prov, int64_t rows);

/* Collective. Ends h5a_rebuild: flushes the new file to disk, renames it
 * over "<path>.partial" (rank 0) and syncs the directory, so the writer
 * goes on as h5a_reopen's would. 0, FS_EHDF5 or FS_EIO on every rank; on
 * failure the old file still stands and the writer is to be abandoned. */
int h5a_rebuild_commit(h5a_writer *w);

/* Collective. Flushes everything written so far (data and metadata) to the
 * file, so that a crash after it leaves those windows intact. 0 or FS_EHDF5. */
int h5a_flush(h5a_writer *w);

/* Collective. Writes the topology group (/topology/node_rack, node_tenant,
 * node_job, node_job_rank, gpu_lot, rack_row, job_id, job_model, job_nodes,
 * job_step_time_s) from rank 0's copy of the fleet. */
int h5a_write_topology(h5a_writer *w, const fleet *f);

/* Collective. Writes rows [t0, t0 + n) of every telemetry dataset. gpu[m] is
 * this rank's [n][nnodes][8] block, node[m] its [n][nnodes] block, laid out
 * with a row stride of the window (row r starts at r * nnodes * 8 resp.
 * r * nnodes). cluster[m] ([n]) and time_s ([n]) are read on rank 0 only. */
int h5a_write_window(h5a_writer *w, int64_t t0, int n, tel_cell *const gpu[GM_COUNT],
                     tel_cell *const node[NM_COUNT], const float *const cluster[CM_COUNT],
                     const double *time_s);

/* One scenario's ground truth, for the scorer (never read by detection). */
typedef struct {
  const char *id;          /* "S1" */
  const char *kind;        /* "thermal_cascade" */
  const char *params_json; /* magnitudes and targets actually used */
  double start_s, end_s;   /* active over [start_s, end_s) */
  const int32_t *nodes;    /* root-cause nodes */
  int nnodes;
  const int32_t *impacted; /* every node that feels it */
  int nimpacted;
  const int32_t *gpus;     /* node*8+gpu where GPU-scoped */
  int ngpus;
} h5a_scenario;

/* Collective. Writes /ground_truth/scenarios (a table of id, kind, start_s,
 * end_s) and, per scenario, the group /ground_truth/<id> with int32 datasets
 * nodes, impacted and gpus (possibly empty) and a `params` JSON attribute.
 * Rank 0's list is written; all ranks must pass the same n and ids. */
int h5a_write_ground_truth(h5a_writer *w, const h5a_scenario *list, int n);

/* Collective; call once. Writes the L1 event table /events/l1, a 1-D compound
 * dataset of n rows (chunked, extendible; n = 0 gives a valid empty table)
 * with the fields, in order:
 *   event_id int64, t_s float64, step int32, scope string[8] (ev_scope_name),
 *   node, rack, job (-1 = none), tenant, nodes int32, metric string[48],
 *   gpu int32 (-1 = node metric), z, value, baseline, trend_z float32,
 *   escalated int32 (0/1), escalation_reason string[32], cooccur string[256]
 * where metric/gpu/z/value/baseline are the triggering signal (ev_event.top)
 * and cooccur lists the co-occurring signals as "metric[/gpuK]:z;..." with z
 * to one decimal, cut before the first item that does not fit (never inside
 * one). Strings are fixed-length and NUL-padded. The dataset carries the
 * attributes `description` and `units`.
 * Rank 0's n and events are written; the other ranks' are ignored (they may
 * pass 0 and NULL), as in h5a_write_ground_truth. Returns 0, FS_EINVAL (n < 0
 * or events NULL with n > 0 on rank 0) or FS_EHDF5; all ranks get the same. */
int h5a_write_events(h5a_writer *w, const ev_event *events, int n);

/* Collective. Sets complete = 1, closes the file, gives back the disk
 * reserved beyond its end and renames it from "<path>.partial" to <path>
 * (rank 0). Frees the writer and clears *w. */
int h5a_finish(h5a_writer **w);

/* Collective. Closes without marking complete; the ".partial" file stays for
 * inspection (and, later, resume). Accepts NULL; clears *w. After an HDF5
 * failure (any rank) the file is not closed but left open, since the
 * ranks' HDF5 collectives may no longer match (a close would hang): see
 * h5a_stranded. */
void h5a_abandon(h5a_writer **w);

/* 1 when a broken archive was left open (h5a_abandon, h5a_finish): the
 * process must then end without MPI_Finalize (par_exit), whose HDF5 hook
 * would try to close the file collectively. The same on every rank. */
int h5a_stranded(void);

#endif
