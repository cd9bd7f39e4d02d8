/* Compression of the archive's telemetry (config key archive_compression):
 * the filter pipeline of a dataset-creation property list, the HDF5 filter
 * plugin search path that lets this process load the LZ4 filter, and the
 * checks that name the setting and the package when a filter is missing.
 * For io/ only (it takes HDF5 identifiers). */
#ifndef FLEETSIM_COMPRESSION_H
#define FLEETSIM_COMPRESSION_H
#include <hdf5.h>

/* The registered HDF5 filter id of LZ4 (the hdf5-filter-plugin's). */
enum { H5C_FILTER_LZ4 = 32004, H5C_DEFLATE_LEVEL = 1 };

/* Prepares this process for compressed HDF5 I/O; call before creating,
 * opening or reading an archive (a second call changes nothing).
 * - Makes the filter plugins findable: drops every directory of HDF5's
 *   plugin search path that does not exist (HDF5 1.10 ends its search at
 *   the first such one, and the parallel build's default directory is one)
 *   and, unless HDF5_PLUGIN_PATH is set (then it is the whole search path,
 *   as for every HDF5 program), appends the build's FLEETSIM_HDF5_PLUGIN_DIR
 *   when it exists.
 * - Keeps the filter pipeline's buffers in the heap: HDF5 allocates and
 *   frees one or two chunk-sized buffers per chunk and filter, which glibc
 *   would map and unmap each time (every page faulted in again; that made
 *   lz4 writes 2.5 times slower). Sets glibc's M_MMAP_THRESHOLD (4 MiB) and
 *   M_TRIM_THRESHOLD (64 MiB) for the whole process. */
void h5c_init(void);

/* 0 when this process can write datasets compressed with `compression`
 * (a cfg_compression); otherwise FS_ECONFIG with one message in diag naming
 * archive_compression, the filter, the package that provides it and the
 * other choices. Calls h5c_init. */
int h5c_require(int compression);

/* The archive's compression from its config JSON (cfg_to_json text; a
 * config without the key gets the default). 0, or FS_EINVAL with the
 * config's problem in diag. */
int h5c_from_config(const char *config_json, int *compression);

/* Adds the filters of `compression` to the chunked dataset-creation
 * property list dcpl: nothing for none; byte shuffle, then LZ4 (one block
 * per chunk) or deflate level H5C_DEFLATE_LEVEL. Returns 0, or -1 when HDF5
 * refuses (the caller names the dataset). */
int h5c_set_filters(hid_t dcpl, int compression);

/* 0 when this process can apply every filter of dataset ds (open in file
 * `file`, named `name` in messages); otherwise FS_EHDF5 with one message in
 * diag naming the file, the dataset, the filter and how to get it
 * (hdf5-filter-plugin, HDF5_PLUGIN_PATH). */
int h5c_check_dataset(hid_t ds, const char *file, const char *name);

#endif
