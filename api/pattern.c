/*
 * Java regular expressions of the FSx model (botocore's "pattern" facts),
 * matched the way AWS's front end matches them (see pattern.h).
 */
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

static void
pattern_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/*
 * Decode one UTF-8 character at s[*i] (n bytes in all) and advance; a
 * malformed byte decodes as U+FFFD and advances by one.
 */
uint32_t
pattern_utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	uint32_t c = s[*i];
	size_t k, need;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		need = 1;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 2;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		need = 3;
		c &= 0x07;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (*i + need >= n) {
		(*i)++;
		return 0xfffd;
	}
	for (k = 1; k <= need; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		c = (c << 6) | (s[*i + k] & 0x3f);
	}
	*i += need + 1;
	return c;
}

/* Java's String.length(): UTF-16 code units. */
size_t
pattern_utf16_len(const char *s, size_t n)
{
	size_t i = 0, len = 0;

	while (i < n)
		len += pattern_utf8_next((const unsigned char *)s, n, &i) >= 0x10000 ?
		    2 : 1;
	return len;
}

/*
 * Patterns. A Java character class: ASCII members as a bitmap, plus
 * either "every non-ASCII character" (\p{L}, \p{Z}, \p{N}, \S, ...) or a
 * short list of non-ASCII code points (\u0085, \u2028, ...).
 */
struct jclass {
	uint8_t		bits[16];
	int		neg;
	int		nonascii;
	uint32_t	extra[8];
	int		nextra;
};

enum pat_kind { PAT_REGEX, PAT_CLASS, PAT_CLASS_TAIL, PAT_ARN };

struct pattern {
	char		*src;		/* the model's Java pattern */
	enum pat_kind	 kind;
	regex_t		 re;		/* PAT_REGEX */
	struct jclass	 cls;		/* PAT_CLASS: ^X{min,max}$, */
					/* PAT_CLASS_TAIL: X{min,max}$ */
	long		 min;
	long		 max;		/* -1: unbounded */
};

/* FSx's ResourceARN: look-ahead and look-behind, matched by hand. */
static const char pattern_arn_java[] =
    "^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})"
    "(?!\\d{1,3}(\\.\\d{1,3}){3})(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)"
    "[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$";

/* Patterns with a look-ahead that has an exact POSIX equivalent. */
static const struct {
	const char	*java;
	const char	*ere;
} pattern_override[] = {
	/* first and last alphanumeric, 2-49 characters in all */
	{ "^(?=[a-z0-9])[a-z0-9-]{1,48}[a-z0-9]$",
	  "^[a-z0-9][a-z0-9-]{0,47}[a-z0-9]$" },
};

static void
jclass_set(struct jclass *c, uint32_t ch)
{
	c->bits[ch >> 3] |= (uint8_t)(1u << (ch & 7));
}

static int
jclass_bit(const struct jclass *c, uint32_t ch)
{
	return (c->bits[ch >> 3] >> (ch & 7)) & 1;
}

static int
jclass_add(struct jclass *c, uint32_t ch)
{
	if (ch < 128) {
		jclass_set(c, ch);
		return 0;
	}
	if (c->nextra >= (int)(sizeof(c->extra) / sizeof(c->extra[0])))
		return -EINVAL;
	c->extra[c->nextra++] = ch;
	return 0;
}

static void
jclass_add_range(struct jclass *c, uint32_t lo, uint32_t hi)
{
	for (uint32_t ch = lo; ch <= hi; ch++)
		jclass_set(c, ch);
}

/* Add \d \w \s (lower case) or their complements (upper case). */
static void
jclass_add_perl(struct jclass *c, char e)
{
	struct jclass t;

	memset(&t, 0, sizeof(t));
	switch (e | 0x20) {
	case 'd':
		jclass_add_range(&t, '0', '9');
		break;
	case 'w':
		jclass_add_range(&t, '0', '9');
		jclass_add_range(&t, 'A', 'Z');
		jclass_add_range(&t, 'a', 'z');
		jclass_set(&t, '_');
		break;
	default:	/* 's' */
		jclass_set(&t, ' ');
		jclass_add_range(&t, '\t', '\r');
		break;
	}
	for (uint32_t ch = 0; ch < 128; ch++)
		if (jclass_bit(&t, ch) != (e >= 'A' && e <= 'Z'))
			jclass_set(c, ch);
	if (e >= 'A' && e <= 'Z')
		c->nonascii = 1;
}

static int
hexval(const char *s, int n, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++) {
		char ch = s[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			v |= (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			v |= (uint32_t)(ch - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/*
 * One item of a Java class at *pp: 0 with *ch set for a single character,
 * 1 when it was a set (\d, \p{L}, ...) already merged into c, -EINVAL for
 * what we do not translate.
 */
static int
jclass_atom(const char **pp, struct jclass *c, uint32_t *ch)
{
	const char *p = *pp;
	size_t i = 0;

	if (*p != '\\') {
		*ch = pattern_utf8_next((const unsigned char *)p, strlen(p), &i);
		*pp = p + i;
		return 0;
	}
	switch (p[1]) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
		jclass_add_perl(c, p[1]);
		*pp = p + 2;
		return 1;
	case 'p':
		if (strncmp(p, "\\p{L}", 5) == 0) {
			jclass_add_range(c, 'A', 'Z');
			jclass_add_range(c, 'a', 'z');
		} else if (strncmp(p, "\\p{Z}", 5) == 0)
			jclass_set(c, ' ');
		else if (strncmp(p, "\\p{N}", 5) == 0)
			jclass_add_range(c, '0', '9');
		else
			return -EINVAL;
		c->nonascii = 1;
		*pp = p + 5;
		return 1;
	case 'u':
		if (hexval(p + 2, 4, ch) != 0)
			return -EINVAL;
		*pp = p + 6;
		return 0;
	case 'x':
		if (hexval(p + 2, 2, ch) != 0)
			return -EINVAL;
		*pp = p + 4;
		return 0;
	case 't':
		*ch = '\t';
		break;
	case 'n':
		*ch = '\n';
		break;
	case 'r':
		*ch = '\r';
		break;
	case 'f':
		*ch = '\f';
		break;
	default:
		/* \\ \- \[ \] \. \* ... are literals; \b, \Q, \1 ... are not ours */
		if (p[1] == '\0' || (unsigned char)p[1] >= 0x80 ||
		    (p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'z') ||
		    (p[1] >= 'A' && p[1] <= 'Z'))
			return -EINVAL;
		*ch = (unsigned char)p[1];
		break;
	}
	*pp = p + 2;
	return 0;
}

/* Parse the Java class starting at the '[' at *pp. */
static int
jclass_parse(const char **pp, struct jclass *c)
{
	const char *p = *pp + 1;
	uint32_t lo, hi;
	int first = 1, r;

	memset(c, 0, sizeof(*c));
	if (*p == '^') {
		c->neg = 1;
		p++;
	}
	for (;;) {
		if (*p == '\0' || *p == '[' || (p[0] == '&' && p[1] == '&'))
			return -EINVAL;
		if (*p == ']' && !first)
			break;
		first = 0;
		r = jclass_atom(&p, c, &lo);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (jclass_atom(&p, c, &hi) != 0 || hi < lo || hi >= 128)
				return -EINVAL;
			jclass_add_range(c, lo, hi);
		} else if (jclass_add(c, lo) != 0)
			return -EINVAL;
	}
	*pp = p + 1;
	return 0;
}

static int
jclass_has(const struct jclass *c, uint32_t ch)
{
	int in;

	if (ch < 128)
		in = jclass_bit(c, ch);
	else {
		in = c->nonascii;
		for (int i = 0; !in && i < c->nextra; i++)
			in = c->extra[i] == ch;
	}
	return c->neg ? !in : in;
}

/* Java's '.': anything but a line terminator. */
static void
jclass_dot(struct jclass *c)
{
	memset(c, 0, sizeof(*c));
	c->neg = 1;
	jclass_set(c, '\n');
	jclass_set(c, '\r');
	c->extra[0] = 0x85;
	c->extra[1] = 0x2028;
	c->extra[2] = 0x2029;
	c->nextra = 3;
}

/* Emit an ASCII-only class as a POSIX bracket expression. */
static int
jclass_ere(const struct jclass *c, struct buf *out)
{
	int rb, dash, caret, lb, n = 0;
	uint32_t a, b;

	if (c->nonascii || c->nextra > 0)
		return -EINVAL;
	rb = jclass_bit(c, ']');
	dash = jclass_bit(c, '-');
	caret = jclass_bit(c, '^');
	lb = jclass_bit(c, '[');
	pattern_putc(out, '[');
	if (c->neg)
		pattern_putc(out, '^');
	if (rb) {
		pattern_putc(out, ']');
		n++;
	}
	for (a = 1; a < 128; a = b) {
		if (!jclass_bit(c, a) || a == ']' || a == '-' || a == '^' ||
		    a == '[') {
			b = a + 1;
			continue;
		}
		for (b = a + 1; b < 128 && jclass_bit(c, b) && b != ']' &&
		    b != '-' && b != '^' && b != '['; b++)
			;
		if (b - a >= 3) {
			pattern_putc(out, (char)a);
			pattern_putc(out, '-');
			pattern_putc(out, (char)(b - 1));
		} else
			for (uint32_t k = a; k < b; k++)
				pattern_putc(out, (char)k);
		n++;
	}
	if (lb) {
		pattern_putc(out, '[');
		n++;
	}
	if (caret) {
		if (n == 0 && !c->neg) {
			if (!dash)
				return -EINVAL;	/* a lone '^': not worth it */
			pattern_putc(out, '-');
			dash = 0;
		}
		pattern_putc(out, '^');
		n++;
	}
	if (dash) {
		pattern_putc(out, '-');
		n++;
	}
	if (n == 0)
		return -EINVAL;
	pattern_putc(out, ']');
	return 0;
}

static void
ere_literal(struct buf *out, char ch)
{
	if (strchr(".[]()*+?{}|^$\\", ch) != NULL)
		pattern_putc(out, '\\');
	pattern_putc(out, ch);
}

/* Translate an escape outside a class. */
static int
ere_escape(const char **pp, struct buf *out)
{
	const char *p = *pp;
	uint32_t ch;

	switch (p[1]) {
	case 'd':
		buf_adds(out, "[0-9]");
		break;
	case 'D':
		buf_adds(out, "[^0-9]");
		break;
	case 'w':
		buf_adds(out, "[0-9A-Z_a-z]");
		break;
	case 'W':
		buf_adds(out, "[^0-9A-Z_a-z]");
		break;
	case 's':
		buf_adds(out, "[ \t\n\v\f\r]");
		break;
	case 'S':
		buf_adds(out, "[^ \t\n\v\f\r]");
		break;
	case 't':
		pattern_putc(out, '\t');
		break;
	case 'n':
		pattern_putc(out, '\n');
		break;
	case 'r':
		pattern_putc(out, '\r');
		break;
	case 'f':
		pattern_putc(out, '\f');
		break;
	case 'u':
		if (hexval(p + 2, 4, &ch) != 0 || ch < 0x20 || ch > 0x7e)
			return -EINVAL;
		ere_literal(out, (char)ch);
		*pp = p + 6;
		return 0;
	default:
		if (p[1] == '\0' || (unsigned char)p[1] >= 0x80 ||
		    (p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'z') ||
		    (p[1] >= 'A' && p[1] <= 'Z'))
			return -EINVAL;
		ere_literal(out, p[1]);
		break;
	}
	*pp = p + 2;
	return 0;
}

/* After a quantifier: a lazy '?' keeps the language; possessive does not. */
static int
ere_quant_suffix(const char **pp)
{
	if (**pp == '?')
		(*pp)++;
	else if (**pp == '+')
		return -EINVAL;
	return 0;
}

/* Translate a Java regex to POSIX ERE; -EINVAL when it has no equivalent. */
static int
pat_translate(const char *src, struct buf *out, int *icase)
{
	const char *p = src, *q;
	struct jclass c;

	*icase = 0;
	while (*p != '\0') {
		switch (*p) {
		case '\\':
			if (ere_escape(&p, out) != 0)
				return -EINVAL;
			break;
		case '[':
			if (jclass_parse(&p, &c) != 0 || jclass_ere(&c, out) != 0)
				return -EINVAL;
			break;
		case '.':
			buf_adds(out, "[^\n\r]");
			p++;
			break;
		case '(':
			if (p[1] != '?') {
				pattern_putc(out, '(');
				p++;
			} else if (p[2] == ':') {
				pattern_putc(out, '(');
				p += 3;
			} else if (strncmp(p, "(?i)", 4) == 0 && out->len <= 1) {
				/* only before anything it could apply to */
				*icase = 1;
				p += 4;
			} else
				return -EINVAL;
			break;
		case '*': case '+': case '?':
			pattern_putc(out, *p++);
			if (ere_quant_suffix(&p) != 0)
				return -EINVAL;
			break;
		case '{':
			q = p + 1;
			while ((*q >= '0' && *q <= '9') || *q == ',')
				q++;
			if (*q != '}' || q == p + 1 || p[1] == ',')
				return -EINVAL;
			buf_add(out, p, (size_t)(q - p + 1));
			p = q + 1;
			if (ere_quant_suffix(&p) != 0)
				return -EINVAL;
			break;
		case ')': case '|': case '^': case '$':
			pattern_putc(out, *p++);
			break;
		default:
			if ((unsigned char)*p >= 0x80 || *p == ']' || *p == '}')
				return -EINVAL;
			ere_literal(out, *p++);
			break;
		}
	}
	return 0;
}

/*
 * ^X{m,n}$ (optionally ^(X{m,n})$) with X one class: matched by code point.
 * Without the '^' (ClientRequestToken's "[A-za-z0-9_.-]{0,63}$") a find()
 * matches when the string ends in at least m characters of X; regexec()
 * would try every start position, minutes of CPU on a 1 MB string.
 */
static int
pat_try_class(struct pattern *mp)
{
	const char *s = mp->src;
	int grouped = 0, tail = 0;
	uint32_t ch;
	char *end;

	if (*s == '^')
		s++;
	else
		tail = 1;
	if (s[0] == '(' && s[1] != '?') {
		grouped = 1;
		s++;
	}
	if (*s == '.') {
		jclass_dot(&mp->cls);
		s++;
	} else if (*s == '[') {
		if (jclass_parse(&s, &mp->cls) != 0)
			return 0;
	} else if (*s == '\\' && s[1] != '\0' && strchr("dDwWsS", s[1])) {
		memset(&mp->cls, 0, sizeof(mp->cls));
		if (jclass_atom(&s, &mp->cls, &ch) != 1)
			return 0;
	} else
		return 0;
	if (*s == '*' || *s == '+') {
		mp->min = *s == '+';
		mp->max = -1;
		s++;
	} else if (*s == '{' && s[1] >= '0' && s[1] <= '9') {
		mp->min = strtol(s + 1, &end, 10);
		mp->max = mp->min;
		if (*end == ',') {
			if (end[1] == '}') {
				mp->max = -1;
				end++;
			} else if (end[1] >= '0' && end[1] <= '9')
				mp->max = strtol(end + 1, &end, 10);
			else
				return 0;
		}
		if (*end != '}' || (mp->max >= 0 && mp->max < mp->min))
			return 0;
		s = end + 1;
	} else
		return 0;
	if (grouped && *s++ != ')')
		return 0;
	if (strcmp(s, "$") != 0)
		return 0;
	mp->kind = tail ? PAT_CLASS_TAIL : PAT_CLASS;
	return 1;
}

static int
pat_compile(struct pattern *mp)
{
	struct buf ere;
	const char *src = mp->src;
	int icase = 0, rc;
	char ebuf[128];
	size_t i;

	buf_init(&ere, 128);

	if (strcmp(src, pattern_arn_java) == 0) {
		mp->kind = PAT_ARN;
		rc = 0;
		goto out;
	}
	if (pat_try_class(mp)) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < sizeof(pattern_override) /
	    sizeof(pattern_override[0]); i++)
		if (strcmp(src, pattern_override[i].java) == 0)
			break;
	if (i < sizeof(pattern_override) / sizeof(pattern_override[0]))
		buf_adds(&ere, pattern_override[i].ere);
	else if (pat_translate(src, &ere, &icase) != 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = regcomp(&mp->re, ere.p, REG_EXTENDED | REG_NOSUB |
	    (icase ? REG_ICASE : 0));
	if (rc != 0) {
		regerror(rc, &mp->re, ebuf, sizeof(ebuf));
		log_debug("%s: pattern %s (ERE %s): %s", __func__, src,
		    ere.p, ebuf);
		rc = -EINVAL;
		goto out;
	}
	mp->kind = PAT_REGEX;
out:
	buf_fini(&ere);
	return rc;
}

static int
cp_digit(uint32_t ch)
{
	return ch >= '0' && ch <= '9';
}

static int
cp_dot(uint32_t ch)
{
	return ch != '\n' && ch != '\r' && ch != 0x85 && ch != 0x2028 &&
	    ch != 0x2029;
}

/* (?!\d{1,3}(\.\d{1,3}){3}) at cp[i]: 1 when the look-ahead matches. */
static int
arn_ipv4_at(const uint32_t *cp, size_t n, size_t i)
{
	for (int part = 0; part < 4; part++) {
		size_t k = 0;

		while (i < n && cp_digit(cp[i]) && k < 3) {
			i++;
			k++;
		}
		if (k == 0)
			return 0;
		if (part == 3)
			return 1;
		/* up to 3 digits then a dot; a 4th digit is no match */
		if (i >= n || cp[i] != '.')
			return 0;
		i++;
	}
	return 0;
}

/* Does the colon-free run from cp[i] contain the pair a,b? */
static int
arn_run_has(const uint32_t *cp, size_t n, size_t i, uint32_t a, uint32_t b)
{
	for (; i + 1 < n && cp[i] != ':'; i++)
		if (cp[i] == a && cp[i + 1] == b)
			return 1;
	return 0;
}

/* The ((|SEGMENT):){4}(?!/).{0,1024}$ tail from group k at cp[i]. */
static int
arn_groups(const uint32_t *cp, size_t n, size_t i, int k, uint8_t *memo)
{
	uint8_t *m = &memo[(size_t)k * (n + 1) + i];
	size_t e;
	int ok = 0;

	if (*m != 0)
		return *m == 1;
	if (k == 4) {
		ok = !(i < n && cp[i] == '/') && n - i <= 1024;
		for (e = i; ok && e < n; e++)
			ok = cp_dot(cp[e]);
		goto out;
	}
	if (i < n && cp[i] == ':' && arn_groups(cp, n, i + 1, k + 1, memo)) {
		ok = 1;
		goto out;
	}
	if (i >= n || !((cp[i] >= 'a' && cp[i] <= 'z') || cp_digit(cp[i])) ||
	    arn_ipv4_at(cp, n, i) || arn_run_has(cp, n, i, '-', '-') ||
	    arn_run_has(cp, n, i, '-', '.') || arn_run_has(cp, n, i, '.', '-'))
		goto out;
	/* [a-z0-9].*(?<!-): then ':' */
	for (e = i + 1; e < n; e++) {
		if (cp[e] == ':' && cp[e - 1] != '-' &&
		    arn_groups(cp, n, e + 1, k + 1, memo)) {
			ok = 1;
			break;
		}
		if (!cp_dot(cp[e]))
			break;
	}
out:
	*m = ok ? 1 : 2;
	return ok;
}

/*
 * The ResourceARN pattern. Strings over 2048 characters (the member's
 * limit is 512) are declared no match, which bounds the work.
 */
static int
pat_arn_match(const char *s, size_t len)
{
	uint32_t *cp = NULL;
	uint8_t *memo = NULL;
	size_t n = 0, i = 0, k;
	int ok = 0;

	if (len > 4 * 2048 || strncmp(s, "arn:", 4) != 0)
		return 0;
	cp = xcalloc(len + 1, sizeof(*cp));
	while (i < len)
		cp[n++] = pattern_utf8_next((const unsigned char *)s, len, &i);
	if (n > 2048)
		goto out;
	/* (?=[^:]+:fsx:[^:]+:\d{12}:) after "arn:" */
	for (i = 4; i < n && cp[i] != ':'; i++)
		;
	if (i == 4 || i + 5 > n || cp[i + 1] != 'f' || cp[i + 2] != 's' ||
	    cp[i + 3] != 'x' || cp[i + 4] != ':')
		goto out;
	for (k = i + 5; k < n && cp[k] != ':'; k++)
		;
	if (k == i + 5 || k + 14 > n)
		goto out;
	for (i = k + 1; i < k + 13; i++)
		if (!cp_digit(cp[i]))
			goto out;
	if (cp[k + 13] != ':')
		goto out;
	memo = xcalloc(5 * (n + 1), 1);
	ok = arn_groups(cp, n, 4, 0, memo);
out:
	free(memo);
	free(cp);
	return ok;
}

int
pattern_match(const struct pattern *mp, const char *s, size_t len)
{
	size_t i = 0;
	long n = 0;

	switch (mp->kind) {
	case PAT_ARN:
		return pat_arn_match(s, len);
	case PAT_CLASS:
		while (i < len) {
			if (!jclass_has(&mp->cls,
			    pattern_utf8_next((const unsigned char *)s, len, &i)))
				return 0;
			n++;
		}
		return n >= mp->min && (mp->max < 0 || n <= mp->max);
	case PAT_CLASS_TAIL:
		/* n: the length of the run of X that ends here */
		while (i < len) {
			if (jclass_has(&mp->cls,
			    pattern_utf8_next((const unsigned char *)s, len, &i)))
				n++;
			else
				n = 0;
		}
		return n >= mp->min;
	default:
		/* a NUL byte cannot reach regexec(); no model pattern wants one */
		if (memchr(s, '\0', len) != NULL)
			return 0;
		return regexec(&mp->re, s, 0, NULL, 0) == 0;
	}
}

void
pattern_free(struct pattern *mp)
{
	if (mp == NULL)
		return;
	if (mp->kind == PAT_REGEX)
		regfree(&mp->re);
	free(mp->src);
	free(mp);
}

struct pattern *
pattern_new(const char *java)
{
	struct pattern *mp = xcalloc(1, sizeof(*mp));

	mp->src = xstrdup(java);
	mp->kind = PAT_CLASS;	/* nothing to regfree until compiled */
	if (pat_compile(mp) != 0) {
		pattern_free(mp);
		return NULL;
	}
	return mp;
}

const char *
pattern_src(const struct pattern *p)
{
	return p->src;
}
