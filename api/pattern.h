/*
 * The FSx model's patterns: Java regular expressions (botocore's
 * "pattern" facts), matched as AWS's front end matches them, i.e. like
 * Java's Matcher.find() over the whole string.
 *
 * How: a pattern is translated once, at pattern_new(), to one of
 *   - a POSIX ERE (regcomp; the string must hold no NUL byte);
 *   - for ^X{m,n}$ and X{m,n}$ with X one character class, a matcher by
 *     code point (UTF-8 aware; \p{L}, \p{Z} and \p{N} admit any non-ASCII
 *     character, an approximation the validator accepts);
 *   - for FSx's ResourceARN pattern, which needs look-around, a matcher
 *     written by hand; a few other look-aheads have an exact ERE
 *     equivalent listed in pattern.c.
 * Any other construct POSIX lacks makes pattern_new() fail.
 *
 * Threads: a compiled pattern is read-only and may be matched from any
 * number of threads. Memory: pattern_new() returns an owned object,
 * released by pattern_free() (NULL is a no-op).
 */
#ifndef FSX_API_PATTERN_H
#define FSX_API_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct pattern;

/* The compiled `java` pattern, or NULL when it cannot be translated. */
struct pattern	*pattern_new(const char *java);
void		 pattern_free(struct pattern *p);
/* The Java text it was made from (for messages); borrowed. */
const char	*pattern_src(const struct pattern *p);
/* 1 when `s` (len bytes, NUL bytes allowed) matches, else 0. */
int		 pattern_match(const struct pattern *p, const char *s,
		    size_t len);

/*
 * UTF-8 as Java sees strings: decode one character at s[*i] (n bytes in
 * all) and advance, a malformed byte decoding as U+FFFD and advancing by
 * one; and String.length(), in UTF-16 code units.
 */
uint32_t	 pattern_utf8_next(const unsigned char *s, size_t n, size_t *i);
size_t		 pattern_utf16_len(const char *s, size_t n);

#endif
