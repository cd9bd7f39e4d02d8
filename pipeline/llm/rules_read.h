/* Reading a context for the `rules` backend: typed getters that tolerate
 * missing or ill-typed fields. Context only: nothing here knows scenario
 * ids, kinds or files. */
#ifndef FLEETSIM_RULES_READ_H
#define FLEETSIM_RULES_READ_H
#include <jansson.h>

/* A string field, or "" when absent. */
const char *rr_str(const json_t *o, const char *key);

/* A number field, or NAN when absent. */
double rr_num(const json_t *o, const char *key);

#endif
