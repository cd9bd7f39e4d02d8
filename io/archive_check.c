/* h5a_is_complete (see archive_check.h): opens the file serially, read-only,
 * with HDF5's automatic error printing off, and reads one attribute. */
#include "io/archive_check.h"

#include <hdf5.h>
#include <sys/stat.h>

int h5a_is_complete(const char *path) {
  struct stat st;
  if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    return 0;
  H5E_auto2_t func = NULL;
  void *data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int complete = 0;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f >= 0) {
    if (H5Aexists(f, "complete") > 0) {
      hid_t a = H5Aopen(f, "complete", H5P_DEFAULT);
      int v = 0;
      if (a >= 0 && H5Aread(a, H5T_NATIVE_INT, &v) >= 0 && v == 1)
        complete = 1;
      if (a >= 0)
        H5Aclose(a);
    }
    H5Fclose(f);
  }
  H5Eset_auto2(H5E_DEFAULT, func, data);
  return complete;
}
