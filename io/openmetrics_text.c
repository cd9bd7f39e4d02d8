/* OpenMetrics text rules (see openmetrics_text.h): selection syntax, names,
 * number formatting and the base epoch. No I/O, no HDF5. */
#include "io/openmetrics_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/diag.h"
#include "src/core/errors.h"

/* Reads a non-negative decimal integer at *p (digits only, at most 9), moves
 * *p past it. Returns -1 when there is no digit or it is too long. */
static long om_read_index(const char **p) {
  long v = 0;
  int digits = 0;
  while (**p >= '0' && **p <= '9') {
    if (++digits > 9)
      return -1;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  return digits ? v : -1;
}

int om_parse_nodes(const char *spec, int nodes, unsigned char *sel) {
  memset(sel, 0, (size_t)nodes);
  if (!spec || !*spec) {
    diag_addf("--nodes '': expected node indices or ranges such as 0-7,40");
    return FS_EUSAGE;
  }
  const char *p = spec;
  for (;;) {
    const char *item = p;
    long a = om_read_index(&p), b = a;
    if (a >= 0 && *p == '-') {
      p++;
      b = om_read_index(&p);
    }
    size_t len = strcspn(item, ",");
    if (a < 0 || b < 0 || (*p != ',' && *p != '\0')) {
      diag_addf("--nodes %s: '%.*s' is not a node index or a range A-B (e.g. 0-7,40)", spec,
                (int)len, item);
      return FS_EUSAGE;
    }
    if (b < a) {
      diag_addf("--nodes %s: range '%.*s' runs backwards", spec, (int)len, item);
      return FS_EUSAGE;
    }
    if (b >= nodes) {
      diag_addf("--nodes %s: node %ld is outside the fleet (nodes 0-%d)", spec, b, nodes - 1);
      return FS_EUSAGE;
    }
    for (long i = a; i <= b; i++)
      sel[i] = 1;
    if (*p == '\0')
      return 0;
    p++; /* the comma: an item must follow */
  }
}

void om_family_name(const char *dataset, int counter, char *out, size_t cap) {
  size_t n = strlen(dataset);
  const size_t suffix = sizeof "_total" - 1;
  if (counter && n > suffix && strcmp(dataset + n - suffix, "_total") == 0)
    n -= suffix;
  snprintf(out, cap, "%.*s", (int)n, dataset);
}

/* Archive unit symbols (src/model/metrics.h) and their OpenMetrics unit words. */
static const struct {
  const char *symbol, *word;
} om_units[] = {
    {"C", "celsius"}, {"W", "watts"},        {"J", "joules"}, {"MHz", "mhz"},
    {"%", "percent"}, {"1", "ratio"},        {"B", "bytes"},  {"B/s", "bytes_per_second"},
    {"s", "seconds"}, {"1/s", "per_second"}, {"Hz", "hertz"},
};

/* 1 when name ends in "_" + word. */
static int om_has_suffix(const char *name, const char *word) {
  size_t n = strlen(name), w = strlen(word);
  return n > w + 1 && name[n - w - 1] == '_' && strcmp(name + n - w, word) == 0;
}

const char *om_unit_word(const char *family, const char *units) {
  if (!units || !*units)
    return NULL;
  for (size_t i = 0; i < sizeof om_units / sizeof om_units[0]; i++)
    if (strcmp(units, om_units[i].symbol) == 0)
      return om_has_suffix(family, om_units[i].word) ? om_units[i].word : NULL;
  /* a symbol that is already a word ("ms", "us", "nats") stands for itself */
  for (const char *c = units; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
      return NULL;
  return om_has_suffix(family, units) ? units : NULL;
}

/* Exact powers of ten in double: 10^0 .. 10^22. */
static const double om_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Writes the decimal digits of m (no trailing zeros, nd of them) with the
 * first digit at decimal exponent e, in plain notation. */
static int om_place_digits(int neg, uint64_t m, int nd, int e, char *buf) {
  char dig[24];
  for (int i = nd - 1; i >= 0; i--) {
    dig[i] = (char)('0' + m % 10);
    m /= 10;
  }
  int n = 0;
  if (neg)
    buf[n++] = '-';
  if (e < 0) {
    buf[n++] = '0';
    buf[n++] = '.';
    for (int i = 0; i < -e - 1; i++)
      buf[n++] = '0';
    for (int i = 0; i < nd; i++)
      buf[n++] = dig[i];
  } else {
    for (int i = 0; i <= e || i < nd; i++) {
      if (i == e + 1)
        buf[n++] = '.';
      buf[n++] = i < nd ? dig[i] : '0';
    }
  }
  buf[n] = '\0';
  return n;
}

int om_format_f32(float v, char *buf) {
  if (isinf(v))
    return snprintf(buf, OM_NUM_LEN, "%s", v > 0 ? "+Inf" : "-Inf");
  float av = fabsf(v);
  double d = av;
  if (d >= 1e-6 && d < 1e15) { /* fast path: digits by exact double arithmetic */
    int e = (int)floor(log10(d)); /* exponent of the first digit, +-1 at powers of ten */
    for (int prec = 6; prec <= 9; prec++) {
      int sh = prec - 1 - e; /* m = d * 10^sh has prec digits */
      if (sh > 22 || sh < -22)
        break;
      double x = sh >= 0 ? d * om_pow10[sh] : d / om_pow10[-sh];
      uint64_t m = (uint64_t)llround(x);
      double back = sh >= 0 ? (double)m / om_pow10[sh] : (double)m * om_pow10[-sh];
      if ((float)back != av)
        continue;
      int nd = 0; /* digits of m: one more than prec when e was an underestimate */
      for (uint64_t k = m; k; k /= 10)
        nd++;
      if (nd == 0)
        break;
      int ee = nd - 1 - sh;
      while (m % 10 == 0) {
        m /= 10;
        nd--;
      }
      return om_place_digits(v < 0, m, nd, ee, buf);
    }
  }
  int n = 0;
  for (int prec = 6; prec <= 9; prec++) { /* 9 significant digits always read back */
    n = snprintf(buf, OM_NUM_LEN, "%.*g", prec, (double)v);
    if (strtof(buf, NULL) == v)
      break;
  }
  return n;
}

int om_format_u32(uint32_t v, char *buf) {
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (int i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

int om_format_u32_pow10(uint32_t v, int pow10, char *buf) {
  if (pow10 == 0 || v == 0)
    return om_format_u32(v, buf);
  if (pow10 < -9 || pow10 > 9)
    return snprintf(buf, OM_NUM_LEN, "%.9g", (double)v * pow(10.0, pow10));
  int n = om_format_u32(v, buf);
  if (pow10 > 0) {
    memset(buf + n, '0', (size_t)pow10);
    buf[n + pow10] = '\0';
    return n + pow10;
  }
  int frac = -pow10; /* the last `frac` digits go after the point */
  if (n <= frac) {   /* 0.00ddd: pad with leading zeros */
    memmove(buf + 2 + (frac - n), buf, (size_t)n + 1);
    buf[0] = '0';
    buf[1] = '.';
    memset(buf + 2, '0', (size_t)(frac - n));
    n = frac + 2;
  } else {
    memmove(buf + n - frac + 1, buf + n - frac, (size_t)frac + 1);
    buf[n - frac] = '.';
    n++;
  }
  while (buf[n - 1] == '0')
    buf[--n] = '\0';
  if (buf[n - 1] == '.')
    buf[--n] = '\0';
  return n;
}

float om_scale_f32(float v, int pow10, int shift) {
  if (pow10 == 0 && shift == 0)
    return v;
  double d = v;
  for (int i = 0; i < pow10; i++)
    d *= 10.0;
  double div = 1.0;
  for (int i = 0; i < -pow10; i++)
    div *= 10.0;
  return (float)(d / div / (double)(1ull << shift));
}

int om_format_ts_ms(int64_t ms, char *buf) {
  int64_t s = ms / 1000;
  int frac = (int)(ms % 1000);
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + s % 10);
    s /= 10;
  } while (s);
  for (int i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  if (frac) {
    buf[n++] = '.';
    int div = 100;
    while (frac) {
      buf[n++] = (char)('0' + frac / div);
      frac %= div;
      div /= 10;
    }
  }
  buf[n] = '\0';
  return n;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t om_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int om_parse_utc(const char *text, int64_t *epoch) {
  int y, mo, d, h, mi, s, used = 0;
  if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
      used != (int)strlen(text) || used != 20 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
      mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
    return FS_EINVAL;
  *epoch = om_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return 0;
}

int64_t om_default_epoch(int64_t created, double start_hour, double run_s) {
  int64_t start = (int64_t)llround(start_hour * 3600.0), run = (int64_t)ceil(run_s);
  int64_t x = created - start - run;
  int64_t day = x >= 0 ? x / 86400 : -((-x + 86399) / 86400);
  return day * 86400 + start;
}

void om_escape(const char *in, char *out, size_t cap) {
  size_t n = 0;
  for (; *in && n + 3 < cap; in++) {
    if (*in == '\\' || *in == '"') {
      out[n++] = '\\';
      out[n++] = *in;
    } else if (*in == '\n') {
      out[n++] = '\\';
      out[n++] = 'n';
    } else if ((unsigned char)*in < 0x20 || *in == 0x7f) {
      out[n++] = '?'; /* no control character reaches the text (or a terminal) */
    } else {
      out[n++] = *in;
    }
  }
  if (cap)
    out[n < cap ? n : cap - 1] = '\0';
}
