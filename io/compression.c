/* Archive compression (see compression.h): filter pipelines, the plugin
 * search path, and the messages for a filter this process cannot load. */
#include "io/compression.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/core/diag.h"
#include "src/core/errors.h"
#include "src/model/config.h"

#ifndef FLEETSIM_HDF5_PLUGIN_DIR
#define FLEETSIM_HDF5_PLUGIN_DIR ""
#endif

/* How to get the LZ4 filter, for messages. */
#define H5C_LZ4_HINT                                                                               \
  "install the HDF5 filter plugins (Debian: apt-get install hdf5-filter-plugin, which puts "       \
  "them in " FLEETSIM_HDF5_PLUGIN_DIR ") or point HDF5_PLUGIN_PATH at the directory holding "      \
  "libh5lz4.so"

static int h5c_is_dir(const char *path) {
  struct stat st;
  return path[0] && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Buffers below this come from the heap, which keeps this much free at its top. */
enum { H5C_MMAP_THRESHOLD = 4 << 20, H5C_TRIM_THRESHOLD = 64 << 20 };

void h5c_init(void) {
  static int done;
  if (done)
    return;
  done = 1;
  /* mallopt returns 0 where the C library refuses: that costs speed only */
  (void)mallopt(M_MMAP_THRESHOLD, H5C_MMAP_THRESHOLD);
  (void)mallopt(M_TRIM_THRESHOLD, H5C_TRIM_THRESHOLD);
  /* a failure below leaves the search path as it was: a filter it hides is
   * then reported by h5c_require or h5c_check_dataset, with the way out */
  unsigned n = 0;
  if (H5PLsize(&n) < 0)
    return;
  int present = 0;
  for (unsigned i = n; i-- > 0;) {
    char dir[4096];
    ssize_t len = H5PLget(i, dir, sizeof dir);
    if (len < 0 || len >= (ssize_t)sizeof dir)
      continue;
    if (!h5c_is_dir(dir))
      (void)H5PLremove(i); /* a missing directory would end every search here */
    else if (strcmp(dir, FLEETSIM_HDF5_PLUGIN_DIR) == 0)
      present = 1;
  }
  /* HDF5_PLUGIN_PATH, when set, is the whole search path, as for every HDF5 program */
  if (!present && !getenv("HDF5_PLUGIN_PATH") && h5c_is_dir(FLEETSIM_HDF5_PLUGIN_DIR))
    (void)H5PLappend(FLEETSIM_HDF5_PLUGIN_DIR);
}

/* 1 when filter id can be applied here; loads its plugin if need be. HDF5's
 * error stack stays silent for the look-up. */
static int h5c_available(H5Z_filter_t id) {
  H5E_auto2_t func = NULL;
  void *data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  htri_t avail = H5Zfilter_avail(id);
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, func, data);
  return avail > 0;
}

int h5c_require(int compression) {
  h5c_init();
  if (compression == CFG_COMPRESSION_LZ4 && !h5c_available(H5C_FILTER_LZ4)) {
    diag_addf("archive_compression lz4: the HDF5 LZ4 filter (filter %d) cannot be loaded: %s; "
              "or choose --set archive_compression=deflate (built into HDF5, slower) or none",
              H5C_FILTER_LZ4, H5C_LZ4_HINT);
    return FS_ECONFIG;
  }
  if (compression == CFG_COMPRESSION_DEFLATE &&
      (!h5c_available(H5Z_FILTER_DEFLATE) || !h5c_available(H5Z_FILTER_SHUFFLE))) {
    diag_addf("archive_compression deflate: this HDF5 library was built without the deflate "
              "or shuffle filter; choose --set archive_compression=lz4 or none");
    return FS_ECONFIG;
  }
  return 0;
}

int h5c_from_config(const char *config_json, int *compression) {
  fs_config cfg;
  cfg_defaults(&cfg);
  if (!config_json || cfg_apply_json(&cfg, config_json, "archive: config") != 0) {
    if (!config_json)
      diag_addf("archive: no config to take archive_compression from");
    return FS_EINVAL;
  }
  *compression = cfg.archive_compression;
  return 0;
}

int h5c_set_filters(hid_t dcpl, int compression) {
  switch (compression) {
  case CFG_COMPRESSION_NONE:
    return 0;
  case CFG_COMPRESSION_LZ4: {
    const unsigned block[1] = {0}; /* 0: the filter's default block, larger than any chunk */
    return H5Pset_shuffle(dcpl) < 0 ||
                   H5Pset_filter(dcpl, H5C_FILTER_LZ4, H5Z_FLAG_MANDATORY, 1, block) < 0
               ? -1
               : 0;
  }
  case CFG_COMPRESSION_DEFLATE:
    return H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, H5C_DEFLATE_LEVEL) < 0 ? -1 : 0;
  default:
    return -1;
  }
}

int h5c_check_dataset(hid_t ds, const char *file, const char *name) {
  h5c_init();
  hid_t dcpl = H5Dget_create_plist(ds);
  int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : -1, rc = 0;
  if (nf < 0) {
    diag_addf("%s: cannot read the filters of %s", file, name);
    rc = FS_EHDF5;
  }
  for (int i = 0; rc == 0 && i < nf; i++) {
    unsigned flags = 0, config = 0;
    size_t nelmts = 0;
    char fname[64] = "";
    H5Z_filter_t id =
        H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, sizeof fname, fname, &config);
    if (id < 0) {
      diag_addf("%s: cannot read the filters of %s", file, name);
      rc = FS_EHDF5;
    } else if (!h5c_available(id)) {
      for (char *c = fname; *c; c++) /* the name comes from the file: nothing unprintable */
        if (*c < 0x20 || *c > 0x7e)
          *c = '?';
      if (id == H5C_FILTER_LZ4)
        diag_addf("%s: %s is compressed with the HDF5 LZ4 filter (filter %d), which this process "
                  "cannot load: %s",
                  file, name, H5C_FILTER_LZ4, H5C_LZ4_HINT);
      else
        diag_addf("%s: %s needs HDF5 filter %d (%s), which this process cannot load (see "
                  "HDF5_PLUGIN_PATH)",
                  file, name, (int)id, fname[0] ? fname : "unnamed");
      rc = FS_EHDF5;
    }
  }
  if (dcpl >= 0)
    H5Pclose(dcpl);
  return rc;
}
