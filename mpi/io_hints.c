/* FLEETSIM_MPIIO_HINTS (see io_hints.h): one table of the MPI-IO hints an
 * operator may set, the parser that checks them, and the MPI_Info built
 * from them. Knows nothing about HDF5 or what the archive holds. */
#include "mpi/io_hints.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi/par.h"
#include "src/core/diag.h"
#include "src/core/errors.h"

/* What a hint's value must be. */
typedef enum {
  HINT_COUNT,  /* a positive integer (a count, or bytes) */
  HINT_SWITCH, /* enable, disable or automatic */
  HINT_BOOL,   /* true or false */
  HINT_HOSTS   /* one ROMIO cb_config_list entry, e.g. *:1 */
} hint_kind;

/* The hints fleetsim passes on: the reserved hints of the MPI standard that
 * concern a shared write, and ROMIO's (used by MPICH, Cray MPICH, Intel MPI
 * and Open MPI's romio component). Alphabetical: the message for an
 * unknown hint lists them in this order. Another hint is one line here. */
static const struct {
  const char *key;
  hint_kind kind;
} hint_table[] = {
    {"cb_buffer_size", HINT_COUNT},
    {"cb_config_list", HINT_HOSTS},
    {"cb_nodes", HINT_COUNT},
    {"collective_buffering", HINT_BOOL},
    {"ind_rd_buffer_size", HINT_COUNT},
    {"ind_wr_buffer_size", HINT_COUNT},
    {"romio_cb_read", HINT_SWITCH},
    {"romio_cb_write", HINT_SWITCH},
    {"romio_ds_read", HINT_SWITCH},
    {"romio_ds_write", HINT_SWITCH},
    {"romio_lustre_co_ratio", HINT_COUNT},
    {"romio_no_indep_rw", HINT_BOOL},
    {"striping_factor", HINT_COUNT},
    {"striping_unit", HINT_COUNT},
};
enum { HINT_KNOWN = sizeof hint_table / sizeof hint_table[0] };

static const char *const hint_expects[] = {
    [HINT_COUNT] = "a positive integer",
    [HINT_SWITCH] = "enable, disable or automatic",
    [HINT_BOOL] = "true or false",
    [HINT_HOSTS] = "one cb_config_list entry such as *:1 (letters, digits and *:._-)"};

/* The parsed hints: each known hint at most once. */
typedef struct {
  int n;
  int which[HINT_KNOWN]; /* index into hint_table */
  char value[HINT_KNOWN][MPI_MAX_INFO_VAL];
} hint_list;

/* Moves [*s, *s + *n) past leading and trailing spaces and tabs. */
static void hint_trim(const char **s, size_t *n) {
  while (*n > 0 && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

/* 1 when value fits kind. */
static int hint_value_ok(hint_kind kind, const char *v) {
  switch (kind) {
  case HINT_COUNT: {
    if (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 10)
      return 0;
    long long n = strtoll(v, NULL, 10);
    return n >= 1 && n <= INT_MAX;
  }
  case HINT_SWITCH:
    return !strcmp(v, "enable") || !strcmp(v, "disable") || !strcmp(v, "automatic");
  case HINT_BOOL:
    return !strcmp(v, "true") || !strcmp(v, "false");
  case HINT_HOSTS:
    return v[0] != '\0' &&
           strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*:._-") ==
               strlen(v);
  }
  return 0;
}

/* Adds the hint in item[0, len) to h, or names what is wrong with it. */
static int hint_add(hint_list *h, const char *item, size_t len) {
  hint_trim(&item, &len);
  const char *eq = memchr(item, '=', len);
  if (len == 0) {
    diag_addf("%s: an empty hint (a comma too many?): expected key=value,key=value",
              PAR_IO_HINTS_ENV);
    return FS_ECONFIG;
  }
  if (!eq) {
    diag_addf("%s: hint '%.*s' has no value: expected %.*s=VALUE", PAR_IO_HINTS_ENV, (int)len, item,
              (int)len, item);
    return FS_ECONFIG;
  }
  const char *key = item, *val = eq + 1;
  size_t klen = (size_t)(eq - item), vlen = len - klen - 1;
  hint_trim(&key, &klen);
  hint_trim(&val, &vlen);
  int k = 0;
  while (k < HINT_KNOWN &&
         !(strlen(hint_table[k].key) == klen && strncmp(hint_table[k].key, key, klen) == 0))
    k++;
  if (k == HINT_KNOWN) {
    char known[512] = "";
    for (int i = 0; i < HINT_KNOWN; i++)
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
               hint_table[i].key);
    diag_addf("%s: unknown hint '%.*s' (known: %s)", PAR_IO_HINTS_ENV, (int)klen, key, known);
    return FS_ECONFIG;
  }
  for (int i = 0; i < h->n; i++)
    if (h->which[i] == k) {
      diag_addf("%s: hint '%s' is given twice", PAR_IO_HINTS_ENV, hint_table[k].key);
      return FS_ECONFIG;
    }
  char *v = h->value[h->n];
  if (vlen >= MPI_MAX_INFO_VAL) {
    diag_addf("%s: hint '%s': the value is %zu characters long, MPI takes at most %d",
              PAR_IO_HINTS_ENV, hint_table[k].key, vlen, MPI_MAX_INFO_VAL - 1);
    return FS_ECONFIG;
  }
  memcpy(v, val, vlen);
  v[vlen] = '\0';
  if (!hint_value_ok(hint_table[k].kind, v)) {
    diag_addf("%s: hint '%s=%s': expected %s", PAR_IO_HINTS_ENV, hint_table[k].key, v,
              hint_expects[hint_table[k].kind]);
    return FS_ECONFIG;
  }
  h->which[h->n++] = k;
  return 0;
}

/* Parses "k=v,k=v" (NULL or blank: no hints) into h. */
static int hint_parse(const char *text, hint_list *h) {
  h->n = 0;
  if (!text || text[strspn(text, " \t")] == '\0')
    return 0;
  for (;;) {
    size_t len = strcspn(text, ",");
    int rc = hint_add(h, text, len);
    if (rc != 0 || text[len] == '\0')
      return rc;
    text += len + 1;
  }
}

/* Rank 0's FLEETSIM_MPIIO_HINTS, parsed on every rank. Collective. */
static int hint_read(hint_list *h) {
  char *text = par_rank() == 0 ? getenv(PAR_IO_HINTS_ENV) : NULL;
  int rc = par_bcast_text(&text); /* rank 0's text is only read */
  h->n = 0;
  if (rc == 0)
    rc = hint_parse(text, h);
  if (par_rank() != 0)
    free(text);
  return rc;
}

int par_io_hints_check(char *shown, size_t cap) {
  hint_list h;
  int rc = hint_read(&h);
  if (shown && cap > 0) {
    shown[0] = '\0';
    for (int i = 0; rc == 0 && i < h.n; i++)
      snprintf(shown + strlen(shown), cap - strlen(shown), "%s%s=%s", i ? "," : "",
               hint_table[h.which[i]].key, h.value[i]);
  }
  return rc;
}

int par_io_hints(void *info) {
  MPI_Info *out = info;
  *out = MPI_INFO_NULL;
  hint_list h;
  int rc = hint_read(&h);
  if (rc != 0 || h.n == 0)
    return rc;
  MPI_Info made = MPI_INFO_NULL;
  int ok = MPI_Info_create(&made) == MPI_SUCCESS;
  for (int i = 0; ok && i < h.n; i++)
    ok = MPI_Info_set(made, hint_table[h.which[i]].key, h.value[i]) == MPI_SUCCESS;
  if (!ok)
    diag_addf("%s: MPI could not store the hints in an MPI_Info", PAR_IO_HINTS_ENV);
  if ((rc = par_agree(ok ? 0 : FS_EMPI)) != 0) {
    par_io_hints_free(&made);
    return rc;
  }
  *out = made;
  return 0;
}

void par_io_hints_free(void *info) {
  MPI_Info *p = info;
  if (*p != MPI_INFO_NULL)
    MPI_Info_free(p);
  *p = MPI_INFO_NULL;
}

int par_io_archive_hints(void *info) {
  static const char *const defaults[][2] = {{"romio_cb_write", "disable"},
                                            {"romio_ds_write", "disable"}};
  MPI_Info *p = info, made = *p;
  int ok = made != MPI_INFO_NULL || MPI_Info_create(&made) == MPI_SUCCESS;
  for (size_t i = 0; ok && i < sizeof defaults / sizeof defaults[0]; i++) {
    char value[MPI_MAX_INFO_VAL + 1];
    int set = 0;
    ok = MPI_Info_get(made, defaults[i][0], MPI_MAX_INFO_VAL, value, &set) == MPI_SUCCESS &&
         (set || MPI_Info_set(made, defaults[i][0], defaults[i][1]) == MPI_SUCCESS);
  }
  if (!ok) {
    if (*p == MPI_INFO_NULL && made != MPI_INFO_NULL)
      MPI_Info_free(&made);
    diag_addf("archive: MPI could not store fleetsim's MPI-IO hints in an MPI_Info");
    return FS_EMPI;
  }
  *p = made;
  return 0;
}
