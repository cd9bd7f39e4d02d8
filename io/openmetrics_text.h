/* Text rules of the OpenMetrics exporter (io/openmetrics.c), kept apart from
 * the HDF5 reading so that they can be unit-tested: the --nodes syntax,
 * family and unit names, number and timestamp formatting, the default base
 * epoch. Pure functions; nothing here touches a file. */
#ifndef FLEETSIM_OPENMETRICS_TEXT_H
#define FLEETSIM_OPENMETRICS_TEXT_H
#include <stddef.h>
#include <stdint.h>

/* Longest text om_format_f32 / om_format_u32 / om_format_ts_ms write, NUL included. */
enum { OM_NUM_LEN = 32 };

/* Parses a node selection such as "0-7,40" (indices and inclusive ranges,
 * comma-separated, no spaces) for a fleet of `nodes` nodes and sets sel[i] = 1
 * for every selected node (sel has `nodes` entries, cleared first).
 * Returns 0, or FS_EUSAGE with one message in diag naming --nodes, the item
 * and the valid range. Example: om_parse_nodes("0-7,40", 120, sel). */
int om_parse_nodes(const char *spec, int nodes, unsigned char *sel);

/* The OpenMetrics family name of an archive dataset: a counter's dataset
 * name ends in "_total" and the family is the name without it (samples keep
 * "_total", as OpenMetrics 1.0 requires); a gauge's family is the dataset
 * name. Writes at most cap bytes (NUL included) to out.
 * Example: "gpu_ecc_sbe_total", counter -> "gpu_ecc_sbe". */
void om_family_name(const char *dataset, int counter, char *out, size_t cap);

/* The `# UNIT` word for an archive `units` symbol ("C" -> "celsius", "B/s"
 * -> "bytes_per_second", "1" -> "ratio", ...), but only when the family name
 * ends in "_" + that word, because OpenMetrics (and promtool) reject a unit
 * that is not the family name's suffix. NULL: write no UNIT line. */
const char *om_unit_word(const char *family, const char *units);

/* Decimal text that reads back (strtof) as exactly v, with the fewest of 6
 * to 9 significant digits that do (trailing zeros dropped), in plain
 * notation for 1e-6 <= |v| < 1e15 and %g style otherwise; or "+Inf"/"-Inf".
 * v must not be NaN (NaN samples are skipped, not written). buf holds
 * OM_NUM_LEN bytes; returns the length. Example: 71.5f -> "71.5". */
int om_format_f32(float v, char *buf);

/* Decimal text of v into buf (OM_NUM_LEN bytes); returns the length. */
int om_format_u32(uint32_t v, char *buf);

/* Exact decimal text of v x 10^pow10 (-9 <= pow10 <= 9) into buf
 * (OM_NUM_LEN bytes), without trailing fraction zeros; returns the length.
 * Examples: (1500, -3) -> "1.5", (7, 6) -> "7000000", (0, 3) -> "0". */
int om_format_u32_pow10(uint32_t v, int pow10, char *buf);

/* v x 10^pow10 / 2^shift rounded once to float (computed in double; a
 * negative pow10 divides by the exact power of ten). v itself when both
 * are 0. Example: om_scale_f32(45.5f, -2, 0) = 0.455f. */
float om_scale_f32(float v, int pow10, int shift);

/* An OpenMetrics timestamp (seconds) for ms milliseconds since the Unix
 * epoch: "1764547200" when whole, else "1764547200.5" (up to 3 decimals).
 * ms must be >= 0. buf holds OM_NUM_LEN bytes; returns the length. */
int om_format_ts_ms(int64_t ms, char *buf);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (the archive's created_utc) into seconds
 * since the Unix epoch. Returns 0, or FS_EINVAL when text is not in that form. */
int om_parse_utc(const char *text, int64_t *epoch);

/* The default base epoch (Unix seconds at simulated t = 0): start_hour:00
 * UTC on the latest day for which the whole run (run_s seconds) ends no later
 * than `created` (the archive's creation time). Keeps the simulated hour of
 * day and puts every sample in the past. Example: created
 * 2026-12-01T15:09:21Z, start_hour 12, run 3600 s -> 2026-12-01T12:00:00Z. */
int64_t om_default_epoch(int64_t created, double start_hour, double run_s);

/* Copies in to out (cap bytes, NUL included, truncating) with OpenMetrics
 * escapes for HELP text and label values: backslash, double quote, newline;
 * other control characters become '?'. */
void om_escape(const char *in, char *out, size_t cap);

#endif
