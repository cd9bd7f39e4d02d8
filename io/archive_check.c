/* Read-only archive checks (see archive_check.h): open the file serially,
 * with HDF5's automatic error printing off, and read one root attribute. */
#include "io/archive_check.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/core/diag.h"
#include "src/core/errors.h"

h5a_state h5a_archive_state(const char *path) {
  struct stat st;
  if (!path || stat(path, &st) != 0)
    return H5A_MISSING;
  if (!S_ISREG(st.st_mode))
    return H5A_NOT_FILE;
  H5E_auto2_t func = NULL;
  void *data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  h5a_state state = H5A_UNREADABLE;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f >= 0) {
    htri_t has = H5Aexists(f, "complete");
    if (has == 0) {
      state = H5A_INCOMPLETE;
    } else if (has > 0) {
      hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
      int v = 0;
      if (a >= 0 && H5Aread(a, H5T_NATIVE_INT, &v) >= 0)
        state = v == 1 ? H5A_COMPLETE : H5A_INCOMPLETE;
      if (a >= 0)
        H5Aclose(a);
    }
    H5Fclose(f);
  }
  H5Eset_auto2(H5E_DEFAULT, func, data);
  return state;
}

int h5a_require_complete(const char *who, const char *path, const char *run_dir) {
  switch (h5a_archive_state(path)) {
  case H5A_COMPLETE:
    return 0;
  case H5A_MISSING: {
    int err = errno;
    char partial[4400];
    struct stat st;
    snprintf(partial, sizeof partial, "%s.partial", path);
    if (stat(partial, &st) == 0)
      diag_addf("%s: %s is missing; %s is a run that did not finish: 'fleetsim run --resume "
                "--out %s' continues it",
                who, path, partial, run_dir);
    else
      diag_addf("%s: %s is missing (%s): finish 'fleetsim run --out %s' first", who, path,
                strerror(err), run_dir);
    break;
  }
  case H5A_NOT_FILE:
    diag_addf("%s: %s is not a regular file: it must be the archive 'fleetsim run --out %s' wrote",
              who, path, run_dir);
    break;
  case H5A_UNREADABLE:
    diag_addf("%s: %s is not a readable HDF5 file (damaged, truncated or not HDF5): run "
              "'fleetsim run --out %s' again",
              who, path, run_dir);
    break;
  case H5A_INCOMPLETE:
    diag_addf("%s: %s is not complete (root attribute complete != 1): finish "
              "'fleetsim run --out %s' first",
              who, path, run_dir);
    break;
  }
  return FS_EUSAGE;
}

int h5a_read_root_text(const char *path, const char *name, char **out) {
  *out = NULL;
  H5E_auto2_t func;
  void *data;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int rc = FS_EIO;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t a = f >= 0 && H5Aexists(f, name) > 0 ? H5Aopen(f, name, H5P_DEFAULT) : -1;
  hid_t t = a >= 0 ? H5Aget_type(a) : -1;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      hid_t mt = H5Tcopy(H5T_C_S1);
      char *v = NULL;
      if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) >= 0 &&
          H5Aread(a, mt, &v) >= 0 && v) {
        *out = strdup(v);
        rc = *out ? 0 : FS_ENOMEM;
        H5free_memory(v);
      }
      if (mt >= 0)
        H5Tclose(mt);
    } else {
      size_t len = H5Tget_size(t);
      char *v = len > 0 ? calloc(len + 1, 1) : NULL;
      if (v && H5Aread(a, t, v) >= 0) {
        *out = v;
        rc = 0;
      } else {
        free(v);
      }
    }
  }
  if (t >= 0)
    H5Tclose(t);
  if (a >= 0)
    H5Aclose(a);
  if (f >= 0)
    H5Fclose(f);
  H5Eset_auto2(H5E_DEFAULT, func, data);
  if (rc == FS_EIO)
    diag_addf("%s: cannot read the root attribute '%s' (not a fleetsim archive?)", path, name);
  return rc;
}

int h5a_read_runid(const char *path, runid *r) {
  memset(r, 0, sizeof *r);
  char *fp = NULL, *version = NULL, *commit = NULL;
  int rc = h5a_read_root_text(path, "fingerprint", &fp);
  if (rc == 0)
    rc = h5a_read_root_text(path, "version", &version);
  if (rc == 0)
    rc = h5a_read_root_text(path, "git_commit", &commit);
  if (rc == 0 && (strlen(fp) != RUNID_HEX || strspn(fp, "0123456789abcdef") != RUNID_HEX)) {
    diag_addf("%s: the root attribute 'fingerprint' is malformed", path);
    rc = FS_EIO;
  }
  if (rc == 0) {
    memcpy(r->fingerprint, fp, RUNID_HEX);
    snprintf(r->version, sizeof r->version, "%s", version);
    snprintf(r->git_commit, sizeof r->git_commit, "%s", commit);
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = f >= 0 && H5Aexists(f, "seed") > 0 ? H5Aopen(f, "seed", H5P_DEFAULT) : -1;
    uint64_t seed = 0;
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, &seed) < 0) {
      diag_addf("%s: cannot read the root attribute 'seed'", path);
      rc = FS_EIO;
    }
    r->seed = seed;
    if (a >= 0)
      H5Aclose(a);
    if (f >= 0)
      H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, func, data);
  }
  free(fp);
  free(version);
  free(commit);
  return rc;
}
