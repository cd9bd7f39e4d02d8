/* Strict reading of answers (see answer_text.h): clause-bounded negation,
 * positive matches, named entities and L4 sections. Pure functions over
 * untrusted text. */
#include "pipeline/score/answer_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/llm/llm_schema.h"
#include "src/model/metrics.h"

enum { ATX_CUE_WORDS_BEFORE = 8, ATX_CUE_WORDS_AFTER = 6, ATX_WORD_MAX = 24 };

static int atx_alpha(char c) { return isalpha((unsigned char)c) || c == '\''; }

/* Lower-cased word starting at s[i] (letters and apostrophes) into w; its
 * length (0 when s[i] starts no word). */
static size_t atx_word_at(const char *s, size_t i, size_t end, char w[ATX_WORD_MAX]) {
  size_t n = 0;
  while (i + n < end && atx_alpha(s[i + n])) {
    if (n + 1 < ATX_WORD_MAX)
      w[n] = (char)tolower((unsigned char)s[i + n]);
    n++;
  }
  w[n < ATX_WORD_MAX ? n : ATX_WORD_MAX - 1] = '\0';
  return n;
}

static int atx_is(const char *w, const char *const *list) {
  for (; *list; list++)
    if (strcmp(w, *list) == 0)
      return 1;
  return 0;
}

/* Words that start a new clause (before them the old one ends). */
static const char *const atx_breaks[] = {"but", "however", "whereas", "while", "although",
                                         "though", "yet", "then", "so", NULL};

/* 1 when a clause ends at s[i]: sentence punctuation, or a break word. */
static int atx_boundary(const char *s, size_t i, size_t len) {
  char c = s[i];
  if (c == ';' || c == ':' || c == '!' || c == '?' || c == '\n' || c == '\r')
    return 1;
  if (c == '.') /* "0.94" and "e.g.x" keep the clause */
    return !(i > 0 && isdigit((unsigned char)s[i - 1]) && i + 1 < len &&
             isdigit((unsigned char)s[i + 1]));
  if (atx_alpha(c) && (i == 0 || !atx_alpha(s[i - 1]))) {
    char w[ATX_WORD_MAX], next[ATX_WORD_MAX];
    size_t n = atx_word_at(s, i, len, w);
    if (atx_is(w, atx_breaks))
      return 1;
    if (strcmp(w, "instead") == 0) { /* "instead of" is a cue, "instead" a break */
      size_t j = i + n;
      while (j < len && s[j] == ' ')
        j++;
      return !(atx_word_at(s, j, len, next) && strcmp(next, "of") == 0);
    }
  }
  return 0;
}

/* Start offsets of the words of s[from, to) into pos (at most cap, the last
 * ones kept), their count in *n. */
static void atx_words(const char *s, size_t from, size_t to, size_t *pos, int cap, int *n) {
  *n = 0;
  for (size_t i = from; i < to; i++)
    if (atx_alpha(s[i]) && (i == from || !atx_alpha(s[i - 1]))) {
      if (*n == cap) {
        memmove(pos, pos + 1, sizeof *pos * (size_t)(cap - 1));
        (*n)--;
      }
      pos[(*n)++] = i;
    }
}

static const char *const atx_cues[] = {"no", "not", "never", "none", "nor", "neither",
                                       "without", "unlikely", "cannot", "nothing", NULL};

/* 1 when the word at s[i] (lower-cased w) with the words after it is a
 * negation cue ending before `end`. */
static int atx_cue_at(const char *s, size_t i, size_t end, const char *w) {
  size_t n = strlen(w);
  char next[ATX_WORD_MAX] = "";
  size_t j = i + n;
  while (j < end && s[j] == ' ')
    j++;
  if (j < end)
    atx_word_at(s, j, end, next);
  if (strcmp(w, "no") == 0 &&
      (strcmp(next, "later") == 0 || strcmp(next, "more") == 0 || strcmp(next, "less") == 0))
    return 0;
  if (strcmp(w, "not") == 0 && (strcmp(next, "only") == 0 || strcmp(next, "just") == 0))
    return 0;
  if (atx_is(w, atx_cues))
    return 1;
  if (n > 3 && strcmp(w + n - 3, "n't") == 0)
    return 1;
  if ((strcmp(w, "rule") == 0 || strcmp(w, "rules") == 0 || strcmp(w, "ruled") == 0 ||
       strcmp(w, "ruling") == 0) &&
      strcmp(next, "out") == 0)
    return 1;
  if (strcmp(w, "exclude") == 0 || strcmp(w, "excludes") == 0 || strcmp(w, "excluded") == 0 ||
      strcmp(w, "excluding") == 0)
    return 1;
  if ((strcmp(w, "instead") == 0 || strcmp(w, "absence") == 0 || strcmp(w, "lack") == 0 ||
       strcmp(w, "free") == 0) &&
      strcmp(next, "of") == 0)
    return 1;
  return strcmp(w, "rather") == 0 && strcmp(next, "than") == 0;
}

/* 1 when the words from s[i] start a denial of what came before. */
static int atx_denial_at(const char *s, size_t i, size_t end, const char *w) {
  static const char *const alone[] = {"unlikely", "excluded", "absent", "isn't", "aren't",
                                      "wasn't", "weren't", NULL};
  static const char *const be[] = {"is", "are", "was", "were", NULL};
  static const char *const after_not[] = {"the", "a", "cause", "culprit", "source", "issue",
                                          "problem", "involved", "implicated", "observed",
                                          "present", "seen", "detected", "elevated", "relevant",
                                          "responsible", "rising", "increasing", NULL};
  if (atx_is(w, alone))
    return 1;
  char next[ATX_WORD_MAX] = "", third[ATX_WORD_MAX] = "";
  size_t j = i + strlen(w);
  while (j < end && s[j] == ' ')
    j++;
  size_t n2 = j < end ? atx_word_at(s, j, end, next) : 0;
  size_t k = j + n2;
  while (k < end && s[k] == ' ')
    k++;
  if (k < end)
    atx_word_at(s, k, end, third);
  if (strcmp(w, "ruled") == 0 && strcmp(next, "out") == 0)
    return 1;
  if (atx_is(w, be) && strcmp(next, "not") == 0)
    return 1;
  return strcmp(w, "not") == 0 && atx_is(next, after_not);
}

int atx_negated(const char *s, size_t a, size_t b) {
  size_t len = strlen(s);
  if (a > len || b > len || a > b)
    return 0;
  size_t c0 = 0, c1 = b;
  for (size_t i = a; i > 0; i--)
    if (atx_boundary(s, i - 1, len)) {
      char w[ATX_WORD_MAX];
      c0 = atx_alpha(s[i - 1]) ? i - 1 + atx_word_at(s, i - 1, len, w) : i;
      break;
    }
  if (c0 > a)
    c0 = a;
  while (c1 < len && !atx_boundary(s, c1, len))
    c1++;
  size_t pos[ATX_CUE_WORDS_BEFORE];
  int n;
  atx_words(s, c0, a, pos, ATX_CUE_WORDS_BEFORE, &n);
  for (int k = 0; k < n; k++) {
    char w[ATX_WORD_MAX];
    atx_word_at(s, pos[k], a, w);
    if (atx_cue_at(s, pos[k], c1, w))
      return 1;
  }
  size_t after[ATX_CUE_WORDS_AFTER];
  int m = 0;
  for (size_t i = b; i < c1 && m < ATX_CUE_WORDS_AFTER; i++)
    if (atx_alpha(s[i]) && (i == b || !atx_alpha(s[i - 1])))
      after[m++] = i;
  for (int k = 0; k < m; k++) {
    char w[ATX_WORD_MAX];
    atx_word_at(s, after[k], c1, w);
    if (atx_denial_at(s, after[k], c1, w))
      return 1;
  }
  return 0;
}

int atx_positive(const regex_t *re, const char *s, size_t *at) {
  return atx_positive_from(re, s, 0, at);
}

/* 1 when re matches text. */
static int atx_matches(const regex_t *re, const char *text) {
  regmatch_t m;
  return regexec(re, text, 1, &m, 0) == 0;
}

/* A cue inside the match [a, b) of s: 1 when one negates it. A cue the
 * pattern needs ("no performance impact") does not; one in a gap of the
 * pattern does when the match needs the words the cue governs (from the cue
 * to the next comma or clause end): "training is not hit first". */
static int atx_negated_inside(const regex_t *re, const char *s, size_t a, size_t b) {
  size_t len = strlen(s);
  int negated = 0;
  for (size_t i = a; i < b && !negated; i++) {
    if (!atx_alpha(s[i]) || (i > a && atx_alpha(s[i - 1])))
      continue;
    char w[ATX_WORD_MAX];
    size_t n = atx_word_at(s, i, len, w);
    if (!atx_cue_at(s, i, len, w))
      continue;
    char *m = strndup(s + a, b - a);
    if (!m)
      return 0;
    size_t c = i - a;
    memset(m + c, ' ', n); /* the cue blanked: does the pattern still match? */
    if (atx_matches(re, m)) {
      size_t e = c + n;
      while (e < b - a && !atx_boundary(m, e, b - a) && m[e] != ',')
        m[e++] = ' '; /* and with the words it governs blanked? */
      negated = !atx_matches(re, m);
    }
    free(m);
  }
  return negated;
}

int atx_positive_from(const regex_t *re, const char *s, size_t from, size_t *at) {
  if (!re || !s)
    return 0;
  size_t off = from, len = strlen(s);
  while (off <= len) {
    regmatch_t m;
    if (regexec(re, s + off, 1, &m, off > 0 ? REG_NOTBOL : 0) != 0)
      return 0;
    size_t a = off + (size_t)m.rm_so, b = off + (size_t)m.rm_eo;
    if (!atx_negated(s, a, b) && !atx_negated_inside(re, s, a, b)) {
      if (at)
        *at = a;
      return 1;
    }
    off = a + 1; /* a later (maybe overlapping) occurrence may be positive */
  }
  return 0;
}

int atx_any_positive(const regex_t *re, int n, const char *s, size_t *at) {
  int found = 0;
  size_t best = 0;
  for (int k = 0; k < n; k++) {
    size_t x;
    if (atx_positive(&re[k], s, &x) && (!found || x < best)) {
      best = x;
      found = 1;
    }
  }
  if (found && at)
    *at = best;
  return found;
}

/* ---- entities ------------------------------------------------------------ */

static void atx_add(int *v, int *n, int cap, int x) {
  for (int i = 0; i < *n; i++)
    if (v[i] == x)
      return;
  if (*n < cap)
    v[(*n)++] = x;
}

/* The number written at s[i] (digits only), its digit count in *nd. */
static long atx_digits(const char *s, size_t i, size_t *nd) {
  long v = 0;
  size_t k = 0;
  while (isdigit((unsigned char)s[i + k]) && k < 9)
    v = v * 10 + (s[i + k++] - '0');
  *nd = k;
  return v;
}

static int atx_word_start(const char *s, size_t i) {
  return i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_');
}

/* "gpu" (any case) at s[i] followed by an optional ' ', '#' or '_' and a
 * digit 0-7 that ends the token: the index, or -1. */
static int atx_gpu_index_at(const char *s, size_t i, size_t *used) {
  if (strncasecmp(s + i, "gpu", 3) != 0)
    return -1;
  size_t j = i + 3;
  if (s[j] == 's' || s[j] == 'S')
    j++;
  if (s[j] == ' ' || s[j] == '#' || s[j] == '_')
    j++;
  if (s[j] < '0' || s[j] > '7' || isalnum((unsigned char)s[j + 1]))
    return -1;
  *used = j + 1 - i;
  return s[j] - '0';
}

void atx_collect_entities(const char *s, const char *const *job_ids, int njobs, atx_entities *e) {
  if (!s)
    return;
  size_t len = strlen(s);
  for (size_t i = 0; i < len; i++) {
    if (!atx_word_start(s, i))
      continue;
    size_t nd, used;
    if (strncasecmp(s + i, "node-", 5) == 0 && isdigit((unsigned char)s[i + 5])) {
      long node = atx_digits(s, i + 5, &nd);
      size_t end = i + 5 + nd;
      int gpu = -1;
      if (strncasecmp(s + end, "/gpu", 4) == 0 && s[end + 4] >= '0' && s[end + 4] <= '7' &&
          !isalnum((unsigned char)s[end + 5])) {
        gpu = s[end + 4] - '0';
        end += 5;
      }
      if (!isalnum((unsigned char)s[end]) && !atx_negated(s, i, end)) {
        atx_add(e->node, &e->nnode, ATX_MAX_ENTITIES, (int)node);
        if (gpu >= 0) {
          atx_add(e->gpu, &e->ngpu, ATX_MAX_ENTITIES, (int)node * 8 + gpu);
          atx_add(e->gpu_index, &e->ngpu_index, 8, gpu);
        }
      }
      i = end - 1;
    } else if (strncasecmp(s + i, "rack-", 5) == 0 && isdigit((unsigned char)s[i + 5])) {
      long rack = atx_digits(s, i + 5, &nd);
      size_t end = i + 5 + nd;
      if (!isalnum((unsigned char)s[end]) && !atx_negated(s, i, end))
        atx_add(e->rack, &e->nrack, ATX_MAX_ENTITIES, (int)rack);
      i = end - 1;
    } else {
      int g = atx_gpu_index_at(s, i, &used);
      if (g >= 0) {
        size_t end = i + used;
        if (!atx_negated(s, i, end))
          atx_add(e->gpu_index, &e->ngpu_index, 8, g);
        /* "GPUs 2 and 5", "GPU 2, 5 and 6": further indices of the list */
        while (1) {
          size_t j = end;
          while (s[j] == ' ' || s[j] == ',' || s[j] == '&' || s[j] == '/')
            j++;
          if (strncasecmp(s + j, "and ", 4) == 0)
            j += 4;
          if (s[j] < '0' || s[j] > '7' || isalnum((unsigned char)s[j + 1]) || j == end)
            break;
          if (!atx_negated(s, j, j + 1))
            atx_add(e->gpu_index, &e->ngpu_index, 8, s[j] - '0');
          end = j + 1;
        }
        i = end - 1;
        continue;
      }
      for (int k = 0; k < njobs; k++) {
        size_t n = strlen(job_ids[k]);
        if (n > 0 && strncasecmp(s + i, job_ids[k], n) == 0 &&
            !(isalnum((unsigned char)s[i + n]) || s[i + n] == '_') && !atx_negated(s, i, i + n)) {
          atx_add(e->job, &e->njob, ATX_MAX_ENTITIES, k);
          break;
        }
      }
    }
  }
}

/* ---- L4 sections --------------------------------------------------------- */

/* Lower-cased words of s[0..n) (runs of non-alphanumerics made one ' ',
 * no leading or trailing space) into out[cap]. */
static void atx_norm_words(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c >= 0x80)
      out[o++] = (char)tolower(c);
    else if (o > 0 && out[o - 1] != ' ')
      out[o++] = ' ';
  }
  while (o > 0 && out[o - 1] == ' ')
    o--;
  out[o] = '\0';
}

/* The heading index of line s[0..n), or -1. */
static int atx_heading(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == '#' || s[i] == '*' || s[i] == ' ' || s[i] == '-' || s[i] == '\t' ||
                   s[i] == '_' || isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == ')'))
    i++;
  if (n - i > 64)
    return -1;
  char line[80], h[80];
  atx_norm_words(s + i, n - i, line, sizeof line);
  for (int k = 0; k < LLM_L4_NHEADINGS; k++) {
    atx_norm_words(llm_l4_headings[k], strlen(llm_l4_headings[k]), h, sizeof h);
    if (strcmp(line, h) == 0)
      return k;
  }
  return -1;
}

void atx_split_sections(const char *report, atx_sections *out) {
  memset(out, 0, sizeof *out);
  if (!report)
    return;
  int cur = -1;
  size_t len = strlen(report);
  for (size_t i = 0; i < len;) {
    size_t e = i;
    while (e < len && report[e] != '\n')
      e++;
    int h = atx_heading(report + i, e - i);
    size_t next = e < len ? e + 1 : e;
    if (h >= 0) {
      if (cur >= 0)
        out->len[cur] = i - out->start[cur];
      cur = out->present[h] ? -1 : h; /* a repeated heading: its first section counts */
      if (cur >= 0) {
        out->present[cur] = 1;
        out->start[cur] = next;
      }
    }
    i = next;
  }
  if (cur >= 0)
    out->len[cur] = len - out->start[cur];
}

int atx_has_number(const char *s, size_t len, double want, double tol) {
  for (size_t i = 0; i < len; i++) {
    if (!isdigit((unsigned char)s[i]))
      continue;
    char p = i > 0 ? s[i - 1] : ' ';
    int glued = isalnum((unsigned char)p) || p == '_' || p == '/' || p == '.' ||
                (p == '-' && i > 1 && isalpha((unsigned char)s[i - 2])); /* P1, node-0042 */
    size_t j = i;
    while (j < len && isdigit((unsigned char)s[j]))
      j++;
    if (j + 1 < len && s[j] == '.' && isdigit((unsigned char)s[j + 1]))
      for (j++; j < len && isdigit((unsigned char)s[j]); j++)
        ;
    if (!glued) {
      char buf[40];
      size_t n = j - i < sizeof buf - 1 ? j - i : sizeof buf - 1;
      memcpy(buf, s + i, n);
      buf[n] = '\0';
      double x = strtod(buf, NULL);
      if (x >= want - tol && x <= want + tol)
        return 1;
    }
    i = j;
  }
  return 0;
}

/* ---- metric names -------------------------------------------------------- */

static int atx_token_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* 1 when the n characters at t are, in any case, the name or DCGM field of
 * one of the n_defs metrics of defs. */
static int atx_names_metric(const metric_def *defs, int n_defs, const char *t, size_t n) {
  for (int i = 0; i < n_defs; i++)
    if ((strlen(defs[i].name) == n && strncasecmp(defs[i].name, t, n) == 0) ||
        (defs[i].dcgm_field && strlen(defs[i].dcgm_field) == n &&
         strncasecmp(defs[i].dcgm_field, t, n) == 0))
      return 1;
  return 0;
}

char *atx_blank_metric_names(const char *s) {
  char *out = s ? strdup(s) : NULL;
  for (size_t i = 0; out && out[i];) {
    size_t n = 0;
    while (atx_token_char(out[i + n]))
      n++;
    if (n > 0 && (atx_names_metric(metric_gpu, GM_COUNT, out + i, n) ||
                  atx_names_metric(metric_node, NM_COUNT, out + i, n) ||
                  atx_names_metric(metric_cluster, CM_COUNT, out + i, n)))
      memset(out + i, ' ', n);
    i += n ? n : 1;
  }
  return out;
}
