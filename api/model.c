/*
 * The FSx API model as data: api/model.json (generated from botocore by
 * tools/gen_model.py) is embedded at build time, loaded once into C
 * structures with every shape reference resolved and every pattern
 * compiled, and api_validate() walks a request against the operation's
 * input shape the way AWS's front end does:
 *
 *   1. types: a member of the wrong JSON type makes the whole request a
 *      SerializationException (nothing is validated further);
 *   2. constraints: every violation, in model member order, joined into
 *      "N validation error(s) detected: ..." (BadRequest, spec 1.4).
 *
 * Members the model does not know are ignored; JSON null is "absent".
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "model.h"
#include "core/log.h"
#include "core/util.h"
#include "model_json.h"

/* A growing string buffer; allocation cannot fail (xmalloc). */
struct sb {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	char *nb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = xmalloc(cap);
		if (b->len > 0)
			memcpy(nb, b->buf, b->len);
		free(b->buf);
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_putn(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void
sb_trunc(struct sb *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->buf[len] = '\0';
	}
}

static void
sb_free(struct sb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/*
 * Decode one UTF-8 character at s[*i] (n bytes in all) and advance; a
 * malformed byte decodes as U+FFFD and advances by one.
 */
static uint32_t
utf8_next(const unsigned char *s, size_t n, size_t *i)
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
static size_t
utf16_len(const char *s, size_t n)
{
	size_t i = 0, len = 0;

	while (i < n)
		len += utf8_next((const unsigned char *)s, n, &i) >= 0x10000 ?
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

struct model_pat {
	char		*src;		/* the model's Java pattern */
	enum pat_kind	 kind;
	regex_t		 re;		/* PAT_REGEX */
	struct jclass	 cls;		/* PAT_CLASS: ^X{min,max}$, */
					/* PAT_CLASS_TAIL: X{min,max}$ */
	long		 min;
	long		 max;		/* -1: unbounded */
};

/* FSx's ResourceARN: look-ahead and look-behind, matched by hand. */
static const char model_arn_pattern[] =
    "^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})"
    "(?!\\d{1,3}(\\.\\d{1,3}){3})(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)"
    "[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$";

/* Patterns with a look-ahead that has an exact POSIX equivalent. */
static const struct {
	const char	*java;
	const char	*ere;
} model_pat_override[] = {
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
		*ch = utf8_next((const unsigned char *)p, strlen(p), &i);
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
jclass_ere(const struct jclass *c, struct sb *out)
{
	int rb, dash, caret, lb, n = 0;
	uint32_t a, b;

	if (c->nonascii || c->nextra > 0)
		return -EINVAL;
	rb = jclass_bit(c, ']');
	dash = jclass_bit(c, '-');
	caret = jclass_bit(c, '^');
	lb = jclass_bit(c, '[');
	sb_putc(out, '[');
	if (c->neg)
		sb_putc(out, '^');
	if (rb) {
		sb_putc(out, ']');
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
			sb_putc(out, (char)a);
			sb_putc(out, '-');
			sb_putc(out, (char)(b - 1));
		} else
			for (uint32_t k = a; k < b; k++)
				sb_putc(out, (char)k);
		n++;
	}
	if (lb) {
		sb_putc(out, '[');
		n++;
	}
	if (caret) {
		if (n == 0 && !c->neg) {
			if (!dash)
				return -EINVAL;	/* a lone '^': not worth it */
			sb_putc(out, '-');
			dash = 0;
		}
		sb_putc(out, '^');
		n++;
	}
	if (dash) {
		sb_putc(out, '-');
		n++;
	}
	if (n == 0)
		return -EINVAL;
	sb_putc(out, ']');
	return 0;
}

static void
ere_literal(struct sb *out, char ch)
{
	if (strchr(".[]()*+?{}|^$\\", ch) != NULL)
		sb_putc(out, '\\');
	sb_putc(out, ch);
}

/* Translate an escape outside a class. */
static int
ere_escape(const char **pp, struct sb *out)
{
	const char *p = *pp;
	uint32_t ch;

	switch (p[1]) {
	case 'd':
		sb_puts(out, "[0-9]");
		break;
	case 'D':
		sb_puts(out, "[^0-9]");
		break;
	case 'w':
		sb_puts(out, "[0-9A-Z_a-z]");
		break;
	case 'W':
		sb_puts(out, "[^0-9A-Z_a-z]");
		break;
	case 's':
		sb_puts(out, "[ \t\n\v\f\r]");
		break;
	case 'S':
		sb_puts(out, "[^ \t\n\v\f\r]");
		break;
	case 't':
		sb_putc(out, '\t');
		break;
	case 'n':
		sb_putc(out, '\n');
		break;
	case 'r':
		sb_putc(out, '\r');
		break;
	case 'f':
		sb_putc(out, '\f');
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
pat_translate(const char *src, struct sb *out, int *icase)
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
			sb_puts(out, "[^\n\r]");
			p++;
			break;
		case '(':
			if (p[1] != '?') {
				sb_putc(out, '(');
				p++;
			} else if (p[2] == ':') {
				sb_putc(out, '(');
				p += 3;
			} else if (strncmp(p, "(?i)", 4) == 0 && out->len <= 1) {
				/* only before anything it could apply to */
				*icase = 1;
				p += 4;
			} else
				return -EINVAL;
			break;
		case '*': case '+': case '?':
			sb_putc(out, *p++);
			if (ere_quant_suffix(&p) != 0)
				return -EINVAL;
			break;
		case '{':
			q = p + 1;
			while ((*q >= '0' && *q <= '9') || *q == ',')
				q++;
			if (*q != '}' || q == p + 1 || p[1] == ',')
				return -EINVAL;
			sb_putn(out, p, (size_t)(q - p + 1));
			p = q + 1;
			if (ere_quant_suffix(&p) != 0)
				return -EINVAL;
			break;
		case ')': case '|': case '^': case '$':
			sb_putc(out, *p++);
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
pat_try_class(struct model_pat *mp)
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
pat_compile(struct model_pat *mp)
{
	struct sb ere = { 0 };
	const char *src = mp->src;
	int icase = 0, rc;
	char ebuf[128];
	size_t i;

	if (strcmp(src, model_arn_pattern) == 0) {
		mp->kind = PAT_ARN;
		return 0;
	}
	if (pat_try_class(mp))
		return 0;
	for (i = 0; i < sizeof(model_pat_override) /
	    sizeof(model_pat_override[0]); i++)
		if (strcmp(src, model_pat_override[i].java) == 0)
			break;
	if (i < sizeof(model_pat_override) / sizeof(model_pat_override[0]))
		sb_puts(&ere, model_pat_override[i].ere);
	else if (pat_translate(src, &ere, &icase) != 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = regcomp(&mp->re, ere.buf, REG_EXTENDED | REG_NOSUB |
	    (icase ? REG_ICASE : 0));
	if (rc != 0) {
		regerror(rc, &mp->re, ebuf, sizeof(ebuf));
		log_debug("api model: pattern %s (ERE %s): %s", src, ere.buf,
		    ebuf);
		rc = -EINVAL;
		goto out;
	}
	mp->kind = PAT_REGEX;
out:
	sb_free(&ere);
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
		cp[n++] = utf8_next((const unsigned char *)s, len, &i);
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

static int
pat_match(const struct model_pat *mp, const char *s, size_t len)
{
	size_t i = 0;
	long n = 0;

	switch (mp->kind) {
	case PAT_ARN:
		return pat_arn_match(s, len);
	case PAT_CLASS:
		while (i < len) {
			if (!jclass_has(&mp->cls,
			    utf8_next((const unsigned char *)s, len, &i)))
				return 0;
			n++;
		}
		return n >= mp->min && (mp->max < 0 || n <= mp->max);
	case PAT_CLASS_TAIL:
		/* n: the length of the run of X that ends here */
		while (i < len) {
			if (jclass_has(&mp->cls,
			    utf8_next((const unsigned char *)s, len, &i)))
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

static void
pat_free(struct model_pat *mp)
{
	if (mp == NULL)
		return;
	if (mp->kind == PAT_REGEX)
		regfree(&mp->re);
	free(mp->src);
	free(mp);
}

/* The loaded model. */
enum mtype { MT_STRING, MT_INTEGER, MT_LONG, MT_BOOLEAN, MT_TIMESTAMP,
	MT_LIST, MT_STRUCT };

static const char *const mtype_names[] = {
	"string", "integer", "long", "boolean", "timestamp", "list", "structure"
};

/* How a type error names the target ("can not be converted to an ..."). */
static const char *const mtype_java[] = {
	"a String", "an Integer", "a Long", "a Boolean", "a Date", "a List",
	"a Structure"
};

struct model_shape;

struct model_member {
	char			*name;
	char			*lname;		/* lowerCamelCase, for paths */
	struct model_shape	*shape;
	int			 required;
	int			 token;
};

struct model_shape {
	char			*name;
	enum mtype		 type;
	int			 has_min;
	int			 has_max;
	json_int_t		 min;
	json_int_t		 max;
	struct model_pat	*pat;		/* borrowed from model.pats */
	char			**enums;
	size_t			 nenums;
	struct model_shape	*member;	/* MT_LIST */
	struct model_member	*members;	/* MT_STRUCT */
	size_t			 nmembers;
};

struct model_op {
	char			*name;
	struct model_shape	*input;
	const char		*token;		/* borrowed member name */
};

static struct {
	pthread_mutex_t		 lock;
	int			 loaded;
	char			*prefix;
	struct model_shape	*shapes;
	size_t			 nshapes;
	struct model_op		*ops;
	size_t			 nops;
	struct model_pat	**pats;
	size_t			 npats;
} model = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
shape_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_shape *)a)->name,
	    ((const struct model_shape *)b)->name);
}

static int
op_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_op *)a)->name,
	    ((const struct model_op *)b)->name);
}

static struct model_shape *
shape_find(const char *name)
{
	struct model_shape key = { .name = (char *)name };

	if (name == NULL || model.shapes == NULL)
		return NULL;
	return bsearch(&key, model.shapes, model.nshapes, sizeof(key),
	    shape_cmp);
}

static struct model_op *
op_find(const char *name)
{
	struct model_op key = { .name = (char *)name };

	if (name == NULL || model.ops == NULL)
		return NULL;
	return bsearch(&key, model.ops, model.nops, sizeof(key), op_cmp);
}

/* The compiled pattern for src, shared between shapes. */
static struct model_pat *
pat_get(const char *src)
{
	struct model_pat *mp;
	size_t i;

	for (i = 0; i < model.npats; i++)
		if (strcmp(model.pats[i]->src, src) == 0)
			return model.pats[i];
	mp = xcalloc(1, sizeof(*mp));
	mp->src = xstrdup(src);
	mp->kind = PAT_CLASS;	/* nothing to regfree until compiled */
	if (pat_compile(mp) != 0) {
		log_err("api model: cannot translate pattern %s", src);
		pat_free(mp);
		return NULL;
	}
	model.pats = realloc(model.pats, (model.npats + 1) *
	    sizeof(*model.pats));
	if (model.pats == NULL)
		fatal("out of memory");
	model.pats[model.npats++] = mp;
	return mp;
}

static int
shape_load_struct(struct model_shape *sh, const json_t *v)
{
	const json_t *members = json_object_get(v, "members");
	const json_t *req = json_object_get(v, "required"), *m, *r;
	size_t i, j;

	if (!json_is_array(members))
		return -EINVAL;
	sh->nmembers = json_array_size(members);
	sh->members = xcalloc(sh->nmembers + 1, sizeof(*sh->members));
	json_array_foreach(members, i, m) {
		struct model_member *mm = &sh->members[i];
		const char *name = json_string_value(json_object_get(m, "name"));

		if (name == NULL || name[0] == '\0')
			return -EINVAL;
		mm->name = xstrdup(name);
		mm->lname = xstrdup(name);
		if (mm->lname[0] >= 'A' && mm->lname[0] <= 'Z')
			mm->lname[0] = (char)(mm->lname[0] - 'A' + 'a');
		mm->shape = shape_find(json_string_value(json_object_get(m,
		    "shape")));
		if (mm->shape == NULL)
			return -EINVAL;
		mm->token = json_is_true(json_object_get(m, "idempotencyToken"));
	}
	json_array_foreach(req, i, r) {
		for (j = 0; j < sh->nmembers; j++)
			if (json_is_string(r) &&
			    strcmp(sh->members[j].name, json_string_value(r)) == 0)
				break;
		if (j == sh->nmembers)
			return -EINVAL;
		sh->members[j].required = 1;
	}
	return 0;
}

static int
shape_load(struct model_shape *sh, const json_t *v)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	const json_t *x, *e;
	size_t i;

	for (i = 0; i < sizeof(mtype_names) / sizeof(mtype_names[0]); i++)
		if (type != NULL && strcmp(type, mtype_names[i]) == 0)
			break;
	if (i == sizeof(mtype_names) / sizeof(mtype_names[0]))
		return -EINVAL;
	sh->type = (enum mtype)i;
	if ((x = json_object_get(v, "min")) != NULL) {
		if (!json_is_integer(x))
			return -EINVAL;
		sh->has_min = 1;
		sh->min = json_integer_value(x);
	}
	if ((x = json_object_get(v, "max")) != NULL) {
		if (!json_is_integer(x))
			return -EINVAL;
		sh->has_max = 1;
		sh->max = json_integer_value(x);
	}
	if ((x = json_object_get(v, "pattern")) != NULL) {
		if (!json_is_string(x))
			return -EINVAL;
		sh->pat = pat_get(json_string_value(x));
		if (sh->pat == NULL)
			return -EINVAL;
	}
	if ((x = json_object_get(v, "enum")) != NULL) {
		sh->nenums = json_array_size(x);
		sh->enums = xcalloc(sh->nenums + 1, sizeof(*sh->enums));
		json_array_foreach(x, i, e) {
			if (!json_is_string(e))
				return -EINVAL;
			sh->enums[i] = xstrdup(json_string_value(e));
		}
	}
	if (sh->type == MT_LIST) {
		sh->member = shape_find(json_string_value(json_object_get(v,
		    "member")));
		if (sh->member == NULL)
			return -EINVAL;
	}
	if (sh->type == MT_STRUCT)
		return shape_load_struct(sh, v);
	return 0;
}

static void
model_free(void)
{
	size_t i, j;

	for (i = 0; i < model.nshapes; i++) {
		struct model_shape *sh = &model.shapes[i];

		free(sh->name);
		for (j = 0; j < sh->nenums; j++)
			free(sh->enums[j]);
		free(sh->enums);
		for (j = 0; j < sh->nmembers; j++) {
			free(sh->members[j].name);
			free(sh->members[j].lname);
		}
		free(sh->members);
	}
	free(model.shapes);
	for (i = 0; i < model.nops; i++)
		free(model.ops[i].name);
	free(model.ops);
	for (i = 0; i < model.npats; i++)
		pat_free(model.pats[i]);
	free(model.pats);
	free(model.prefix);
	model.shapes = NULL;
	model.nshapes = 0;
	model.ops = NULL;
	model.nops = 0;
	model.pats = NULL;
	model.npats = 0;
	model.prefix = NULL;
	model.loaded = 0;
}

static int
model_load_ops(const json_t *ops)
{
	const char *key;
	const json_t *v;
	size_t i = 0, j;

	model.nops = json_object_size(ops);
	model.ops = xcalloc(model.nops + 1, sizeof(*model.ops));
	json_object_foreach((json_t *)ops, key, v)
		model.ops[i++].name = xstrdup(key);
	qsort(model.ops, model.nops, sizeof(*model.ops), op_cmp);
	for (i = 0; i < model.nops; i++) {
		struct model_op *op = &model.ops[i];

		v = json_object_get(ops, op->name);
		op->input = shape_find(json_string_value(json_object_get(v,
		    "input")));
		if (op->input == NULL || op->input->type != MT_STRUCT) {
			log_err("api model: operation %s: bad input", op->name);
			return -EINVAL;
		}
		for (j = 0; j < op->input->nmembers; j++)
			if (op->input->members[j].token)
				op->token = op->input->members[j].name;
	}
	return 0;
}

static int
model_load(void)
{
	const json_t *shapes, *ops, *prefix, *v;
	json_error_t jerr;
	json_t *root;
	const char *key;
	size_t i = 0;
	int rc = -EINVAL;

	root = json_loadb((const char *)api_model_json[0].data,
	    api_model_json[0].len, 0, &jerr);
	if (root == NULL) {
		log_err("api model: line %d: %s", jerr.line, jerr.text);
		return -EINVAL;
	}
	shapes = json_object_get(root, "shapes");
	ops = json_object_get(root, "operations");
	prefix = json_object_get(json_object_get(root, "metadata"),
	    "targetPrefix");
	if (!json_is_object(shapes) || !json_is_object(ops) ||
	    !json_is_string(prefix))
		goto out;
	model.prefix = xstrdup(json_string_value(prefix));
	model.nshapes = json_object_size(shapes);
	model.shapes = xcalloc(model.nshapes + 1, sizeof(*model.shapes));
	json_object_foreach((json_t *)shapes, key, v)
		model.shapes[i++].name = xstrdup(key);
	qsort(model.shapes, model.nshapes, sizeof(*model.shapes), shape_cmp);
	for (i = 0; i < model.nshapes; i++) {
		v = json_object_get(shapes, model.shapes[i].name);
		if (shape_load(&model.shapes[i], v) != 0) {
			log_err("api model: bad shape %s", model.shapes[i].name);
			goto out;
		}
	}
	rc = model_load_ops(ops);
out:
	json_decref(root);
	if (rc != 0)
		model_free();
	else
		model.loaded = 1;
	return rc;
}

int
api_model_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&model.lock);
	if (!model.loaded)
		rc = model_load();
	pthread_mutex_unlock(&model.lock);
	return rc;
}

void
api_model_fini(void)
{
	pthread_mutex_lock(&model.lock);
	model_free();
	pthread_mutex_unlock(&model.lock);
}

int
api_model_has_op(const char *op)
{
	if (api_model_init() != 0)
		return 0;
	return op_find(op) != NULL;
}

const char *
api_model_target_prefix(void)
{
	if (api_model_init() != 0)
		return NULL;
	return model.prefix;
}

const char *
api_model_token_member(const char *op)
{
	const struct model_op *o;

	if (api_model_init() != 0)
		return NULL;
	o = op_find(op);
	return o != NULL ? o->token : NULL;
}

json_t *
api_model_ops(void)
{
	json_t *a;

	if (api_model_init() != 0)
		return NULL;
	a = json_array();
	for (size_t i = 0; i < model.nops; i++)
		json_array_append_new(a, json_string(model.ops[i].name));
	return a;
}

int
api_model_npatterns(void)
{
	int rc = api_model_init();

	return rc != 0 ? rc : (int)model.npats;
}

int
api_model_pattern_match(const char *pattern, const char *s, size_t len)
{
	struct model_pat mp;
	int rc;

	memset(&mp, 0, sizeof(mp));
	mp.src = (char *)pattern;
	mp.kind = PAT_CLASS;
	if (pat_compile(&mp) != 0)
		return -EINVAL;
	rc = pat_match(&mp, s, len);
	if (mp.kind == PAT_REGEX)
		regfree(&mp.re);
	return rc;
}

/*
 * Validation.
 */
struct vctx {
	struct sb	 path;		/* 'lustreConfiguration.deploymentType' */
	struct sb	 msg;		/* violations joined by "; " */
	int		 nerr;
	struct sb	 serr;		/* the type error */
	int		 bad;
};

static size_t
path_push(struct vctx *cx, const char *seg)
{
	size_t old = cx->path.len;

	if (old > 0)
		sb_putc(&cx->path, '.');
	sb_puts(&cx->path, seg);
	return old;
}

static size_t
path_push_index(struct vctx *cx, size_t i)
{
	char seg[48];

	snprintf(seg, sizeof(seg), "%zu.member", i + 1);
	return path_push(cx, seg);
}

/* A number as Java would print it: integral values without a fraction. */
static void
render_number(struct sb *b, const json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	}
	d = json_real_value(v);
	if (d == floor(d) && fabs(d) < 1e18)
		sb_printf(b, "%.0f", d);
	else
		sb_printf(b, "%.17g", d);
}

/* A value as the validation message shows it: strings bare, lists [a, b]. */
static void
render(struct sb *b, const json_t *v)
{
	const char *key, *s;
	const json_t *e;
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		for (i = 0; i < n; i++)
			if (s[i] != '\0')
				sb_putc(b, s[i]);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		render_number(b, v);
		break;
	case JSON_TRUE:
		sb_puts(b, "true");
		break;
	case JSON_FALSE:
		sb_puts(b, "false");
		break;
	case JSON_ARRAY:
		sb_putc(b, '[');
		json_array_foreach(v, i, e) {
			if (i > 0)
				sb_puts(b, ", ");
			render(b, e);
		}
		sb_putc(b, ']');
		break;
	case JSON_OBJECT:
		sb_putc(b, '{');
		i = 0;
		json_object_foreach((json_t *)v, key, e) {
			if (i++ > 0)
				sb_puts(b, ", ");
			sb_puts(b, key);
			sb_putc(b, '=');
			render(b, e);
		}
		sb_putc(b, '}');
		break;
	default:
		sb_puts(b, "null");
		break;
	}
}

/* One violation; v NULL means the value was missing (rendered null). */
static void
violation(struct vctx *cx, const json_t *v, const char *text)
{
	if (cx->nerr++ > 0)
		sb_puts(&cx->msg, "; ");
	sb_puts(&cx->msg, "Value ");
	if (v == NULL)
		sb_puts(&cx->msg, "null");
	else {
		sb_putc(&cx->msg, '\'');
		render(&cx->msg, v);
		sb_putc(&cx->msg, '\'');
	}
	sb_puts(&cx->msg, " at '");
	sb_puts(&cx->msg, cx->path.buf != NULL ? cx->path.buf : "");
	sb_puts(&cx->msg, "' failed to satisfy constraint: ");
	sb_puts(&cx->msg, text);
}

static void
type_error(struct vctx *cx, const json_t *v, const struct model_shape *sh)
{
	if (cx->bad++ > 0)
		return;
	if (json_is_object(v))
		sb_puts(&cx->serr, "Start of structure or map found where not "
		    "expected");
	else if (json_is_array(v))
		sb_puts(&cx->serr, "Start of list found where not expected");
	else
		sb_printf(&cx->serr, "class %s can not be converted to %s",
		    json_is_string(v) ? "java.lang.String" :
		    json_is_boolean(v) ? "java.lang.Boolean" :
		    "java.math.BigDecimal", mtype_java[sh->type]);
	if (cx->path.len > 0)
		sb_printf(&cx->serr, " (at '%s')", cx->path.buf);
}

static void
number_error(struct vctx *cx, const json_t *v, const struct model_shape *sh,
    const char *why)
{
	if (cx->bad++ > 0)
		return;
	sb_puts(&cx->serr, "Value ");
	render_number(&cx->serr, v);
	sb_printf(&cx->serr, " %s %s", why, mtype_java[sh->type]);
	if (cx->path.len > 0)
		sb_printf(&cx->serr, " (at '%s')", cx->path.buf);
}

/* Pass 1: JSON types. Stops at the first bad one. */
static void
check_types(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	const json_t *e;
	double d;
	size_t i, old;

	switch (sh->type) {
	case MT_STRING:
		if (!json_is_string(v))
			type_error(cx, v, sh);
		break;
	case MT_INTEGER:
	case MT_LONG:
		if (json_is_integer(v)) {
			json_int_t x = json_integer_value(v);

			if (sh->type == MT_INTEGER &&
			    (x < INT32_MIN || x > INT32_MAX))
				number_error(cx, v, sh, "is out of range for");
		} else if (json_is_real(v)) {
			d = json_real_value(v);
			if (!isfinite(d) || d != floor(d))
				number_error(cx, v, sh, "can not be converted to");
			else if (sh->type == MT_INTEGER ? (d < (double)INT32_MIN ||
			    d > (double)INT32_MAX) : (d < -9223372036854775808.0 ||
			    d >= 9223372036854775808.0))
				number_error(cx, v, sh, "is out of range for");
		} else
			type_error(cx, v, sh);
		break;
	case MT_BOOLEAN:
		if (!json_is_boolean(v))
			type_error(cx, v, sh);
		break;
	case MT_TIMESTAMP:
		/* epoch seconds or ISO 8601; no FSx input has one today */
		if (!json_is_number(v) && !json_is_string(v))
			type_error(cx, v, sh);
		break;
	case MT_LIST:
		if (!json_is_array(v)) {
			type_error(cx, v, sh);
			break;
		}
		json_array_foreach(v, i, e) {
			if (cx->bad || json_is_null(e))
				continue;
			old = path_push_index(cx, i);
			check_types(cx, sh->member, e);
			sb_trunc(&cx->path, old);
		}
		break;
	case MT_STRUCT:
		if (!json_is_object(v)) {
			type_error(cx, v, sh);
			break;
		}
		for (i = 0; i < sh->nmembers && !cx->bad; i++) {
			e = json_object_get(v, sh->members[i].name);
			if (e == NULL || json_is_null(e))
				continue;
			old = path_push(cx, sh->members[i].lname);
			check_types(cx, sh->members[i].shape, e);
			sb_trunc(&cx->path, old);
		}
		break;
	}
}

static json_int_t
number_value(const json_t *v)
{
	return json_is_integer(v) ? json_integer_value(v) :
	    (json_int_t)json_real_value(v);
}

/*
 * The constraints of a scalar shape, in the order AWS lists them: rule r
 * (0..3) -> its text in `text`; returns -1 when the shape has no rule r,
 * else 1 if v (when not NULL) violates it, 0 if not.
 */
static int
scalar_rule(const struct model_shape *sh, int r, const json_t *v,
    struct sb *text)
{
	const char *s;
	size_t i, n;
	int bad = 0;

	if (sh->type == MT_STRING) {
		s = v != NULL ? json_string_value(v) : NULL;
		n = v != NULL ? utf16_len(s, json_string_length(v)) : 0;
		switch (r) {
		case 0:
			if (!sh->has_max)
				return -1;
			sb_printf(text, "Member must have length less than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->max);
			return v != NULL && (json_int_t)n > sh->max;
		case 1:
			if (!sh->has_min)
				return -1;
			sb_printf(text, "Member must have length greater than "
			    "or equal to %" JSON_INTEGER_FORMAT, sh->min);
			return v != NULL && (json_int_t)n < sh->min;
		case 2:
			if (sh->pat == NULL)
				return -1;
			sb_puts(text, "Member must satisfy regular expression "
			    "pattern: ");
			sb_puts(text, sh->pat->src);
			return v != NULL && !pat_match(sh->pat, s,
			    json_string_length(v));
		case 3:
			if (sh->enums == NULL)
				return -1;
			sb_puts(text, "Member must satisfy enum value set: [");
			bad = v != NULL;
			for (i = 0; i < sh->nenums; i++) {
				if (i > 0)
					sb_puts(text, ", ");
				sb_puts(text, sh->enums[i]);
				if (bad && strlen(sh->enums[i]) ==
				    json_string_length(v) &&
				    strcmp(sh->enums[i], s) == 0)
					bad = 0;
			}
			sb_putc(text, ']');
			return bad;
		default:
			return -1;
		}
	}
	if (sh->type == MT_INTEGER || sh->type == MT_LONG) {
		if (r == 0 && sh->has_max) {
			sb_printf(text, "Member must have value less than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->max);
			return v != NULL && number_value(v) > sh->max;
		}
		if (r == 1 && sh->has_min) {
			sb_printf(text, "Member must have value greater than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->min);
			return v != NULL && number_value(v) < sh->min;
		}
	}
	return -1;
}

static void
check_scalar(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	struct sb text = { 0 };

	for (int r = 0; r < 4; r++) {
		sb_trunc(&text, 0);
		if (scalar_rule(sh, r, v, &text) == 1)
			violation(cx, v, text.buf);
	}
	sb_free(&text);
}

/* Does v violate any of the scalar shape's constraints? */
static int
scalar_bad(const struct model_shape *sh, const json_t *v)
{
	struct sb text = { 0 };
	int bad = 0;

	for (int r = 0; r < 4 && !bad; r++)
		bad = scalar_rule(sh, r, v, &text) == 1;
	sb_free(&text);
	return bad;
}

static void check_constraints(struct vctx *, const struct model_shape *,
    const json_t *);

static void
check_list(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	const struct model_shape *el = sh->member;
	struct sb text = { 0 };
	size_t i, n = json_array_size(v), old;
	const json_t *e;
	int any = 0, first = 1;

	if (sh->has_max && (json_int_t)n > sh->max) {
		sb_printf(&text, "Member must have length less than or equal "
		    "to %" JSON_INTEGER_FORMAT, sh->max);
		violation(cx, v, text.buf);
	}
	if (sh->has_min && (json_int_t)n < sh->min) {
		sb_trunc(&text, 0);
		sb_printf(&text, "Member must have length greater than or "
		    "equal to %" JSON_INTEGER_FORMAT, sh->min);
		violation(cx, v, text.buf);
	}
	json_array_foreach(v, i, e) {
		if (json_is_null(e)) {
			old = path_push_index(cx, i);
			violation(cx, NULL, "Member must not be null");
			sb_trunc(&cx->path, old);
		} else if (el->type == MT_LIST || el->type == MT_STRUCT) {
			old = path_push_index(cx, i);
			check_constraints(cx, el, e);
			sb_trunc(&cx->path, old);
		} else if (!any && scalar_bad(el, e))
			any = 1;
	}
	if (any) {
		/* the whole list, with every constraint of its elements */
		sb_trunc(&text, 0);
		sb_puts(&text, "Member must satisfy constraint: [");
		for (int r = 0; r < 4; r++) {
			size_t mark = text.len;

			if (!first)
				sb_puts(&text, ", ");
			if (scalar_rule(el, r, NULL, &text) < 0)
				sb_trunc(&text, mark);
			else
				first = 0;
		}
		sb_putc(&text, ']');
		violation(cx, v, text.buf);
	}
	sb_free(&text);
}

/* Pass 2: constraints, every violation in model member order. */
static void
check_constraints(struct vctx *cx, const struct model_shape *sh,
    const json_t *v)
{
	const struct model_member *m;
	const json_t *e;
	size_t i, old;

	switch (sh->type) {
	case MT_LIST:
		check_list(cx, sh, v);
		break;
	case MT_STRUCT:
		for (i = 0; i < sh->nmembers; i++) {
			m = &sh->members[i];
			e = json_object_get(v, m->name);
			old = path_push(cx, m->lname);
			if (e == NULL || json_is_null(e)) {
				if (m->required)
					violation(cx, NULL,
					    "Member must not be null");
			} else
				check_constraints(cx, m->shape, e);
			sb_trunc(&cx->path, old);
		}
		break;
	default:
		check_scalar(cx, sh, v);
		break;
	}
}

/* Copy into err->message, cutting on a UTF-8 character boundary. */
static void
set_message(struct api_error *err, const char *s)
{
	size_t n = strlen(s), max = sizeof(err->message) - 1;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(err->message, s, n);
	err->message[n] = '\0';
}

int
api_validate(const char *op, const json_t *in, struct api_error *err)
{
	const struct model_op *o;
	struct vctx cx;
	json_t *empty = NULL;
	int rc = -1;

	memset(&cx, 0, sizeof(cx));
	if (api_model_init() != 0) {
		err->code = API_E_INTERNAL_SERVER_ERROR;
		set_message(err, "The API model failed to load");
		return -1;
	}
	o = op_find(op);
	if (o == NULL) {
		err->code = API_E_UNKNOWN_OPERATION;
		set_message(err, "Unknown operation");
		return -1;
	}
	if (in == NULL)
		in = empty = json_object();
	check_types(&cx, o->input, in);
	if (cx.bad) {
		err->code = API_E_SERIALIZATION;
		set_message(err, cx.serr.buf);
		goto out;
	}
	check_constraints(&cx, o->input, in);
	if (cx.nerr > 0) {
		struct sb m = { 0 };

		sb_printf(&m, "%d validation error%s detected: ", cx.nerr,
		    cx.nerr == 1 ? "" : "s");
		sb_puts(&m, cx.msg.buf);
		err->code = API_E_BAD_REQUEST;
		set_message(err, m.buf);
		sb_free(&m);
		goto out;
	}
	rc = 0;
out:
	json_decref(empty);
	sb_free(&cx.path);
	sb_free(&cx.msg);
	sb_free(&cx.serr);
	return rc;
}
