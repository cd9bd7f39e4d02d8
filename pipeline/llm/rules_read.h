/* Reading a context for the `rules` backend: typed getters that tolerate
 * missing or ill-typed fields, the event's signals, series, node and GPU
 * tables, and the fault family a metric speaks for. Context only: nothing
 * here knows scenario ids, kinds or files. */
#ifndef FLEETSIM_RULES_READ_H
#define FLEETSIM_RULES_READ_H
#include <jansson.h>

/* A string field, or "" when absent. */
const char *rr_str(const json_t *o, const char *key);

/* A number field, or NAN when absent. */
double rr_num(const json_t *o, const char *key);

/* The largest |z| of metric among the event's trigger and co-occurring
 * signals (0 when absent); its signed z to *z_signed when not NULL. */
double rr_signal(const json_t *event, const char *metric, double *z_signed);

/* A series of the L3 timeline: the node's values (peer 0) or the peer
 * medians (peer 1), with their minutes from the event. Missing values are
 * left out. n = 0 when the series is absent. */
enum { RR_SERIES_MAX = 32 };
typedef struct {
  int n;
  double v[RR_SERIES_MAX];
  int minute[RR_SERIES_MAX];
} rr_series;
void rr_series_get(const json_t *ctx, const char *metric, int peer, rr_series *out);

/* Index of the largest (most = 1) or smallest (most = 0) value, -1 if empty. */
int rr_series_extreme(const rr_series *s, int most);

/* The value at or just before minute 0 (the event's block), else the last;
 * -1 if empty. */
int rr_series_now(const rr_series *s);

/* The node block's value and peer median of a metric (NAN when absent). */
void rr_node_metric(const json_t *ctx, const char *metric, double *value, double *peer);

/* Column index of name in a {"columns", "rows"} table, or -1. */
int rr_table_col(const json_t *table, const char *name);

/* Cell (row, col) of a table as a number (NAN) or string (""). */
double rr_cell_num(const json_t *table, size_t row, int col);
const char *rr_cell_str(const json_t *table, size_t row, int col);

/* The fault families the rules backend knows, and the family a metric
 * speaks for (RR_NONE when it is only a symptom of several). */
typedef enum { RR_NONE, RR_THERMAL, RR_ROUTING, RR_HBM, RR_FABRIC, RR_KV, RR_STRAGGLER } rr_family;
rr_family rr_family_of_metric(const char *metric);

/* The phrase that names a family in an answer ("Cooling failure", ...). */
const char *rr_family_label(rr_family f);

#endif
