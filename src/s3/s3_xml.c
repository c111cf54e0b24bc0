/*
 * A bounded scanner for the few XML documents S3 sends (ListBucketResult,
 * Error, InitiateMultipartUploadResult, CompleteMultipartUploadResult).
 * Not an XML parser: it finds elements by exact tag name, never recurses,
 * never allocates, and reads only inside [doc, doc+len). Anything it cannot
 * make sense of is -EBADMSG, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "s3/s3.h"

/* Position of needle in [doc+from, doc+len), or -1. */
static long
xml_find(const char *doc, size_t len, size_t from, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || from > len)
		return -1;
	for (size_t i = from; i + n <= len; i++)
		if (doc[i] == needle[0] && memcmp(doc + i, needle, n) == 0)
			return (long)i;
	return -1;
}

int
s3_xml_elem(const char *doc, size_t len, size_t *pos, const char *tag,
    size_t *start, size_t *end)
{
	char open[80], close[80];
	long o, c;
	size_t p;

	if (snprintf(open, sizeof(open), "<%s", tag) >= (int)sizeof(open) ||
	    snprintf(close, sizeof(close), "</%s>", tag) >= (int)sizeof(close))
		return -EINVAL;
	for (p = *pos;; p = (size_t)o + 1) {
		o = xml_find(doc, len, p, open);
		if (o < 0)
			return -ENOENT;
		/* "<Key" must not match "<KeyCount" */
		p = (size_t)o + strlen(open);
		if (p >= len)
			return -EBADMSG;	/* the document ends inside a tag */
		if (doc[p] == '>' || doc[p] == ' ' || doc[p] == '/')
			break;
	}
	while (p < len && doc[p] != '>')
		p++;
	if (p >= len)
		return -EBADMSG;
	if (doc[p - 1] == '/') {		/* <Tag/>: empty */
		*start = *end = p + 1;
		*pos = p + 1;
		return 0;
	}
	c = xml_find(doc, len, p + 1, close);
	if (c < 0)
		return -EBADMSG;
	*start = p + 1;
	*end = (size_t)c;
	*pos = (size_t)c + strlen(close);
	return 0;
}

/* Decode XML character data [s, e) into out. */
static int
xml_unescape(const char *s, const char *e, char *out, size_t cap)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	size_t n = 0;

	while (s < e) {
		char c = *s++;

		if (c == '&') {
			size_t i, rest = (size_t)(e - s);

			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t l = strlen(ents[i].name);

				if (rest >= l && memcmp(s, ents[i].name, l) == 0) {
					c = ents[i].c;
					s += l;
					break;
				}
			}
			if (i == sizeof(ents) / sizeof(ents[0])) {
				/* &#NN; or &#xNN; for ASCII only */
				char num[12];
				const char *semi = memchr(s, ';', rest < 10 ? rest : 10);
				long v;
				char *end;

				if (semi == NULL || *s != '#' || semi - s < 2)
					return -EBADMSG;
				memcpy(num, s + 1, (size_t)(semi - s - 1));
				num[semi - s - 1] = '\0';
				v = num[0] == 'x' ? strtol(num + 1, &end, 16) :
				    strtol(num, &end, 10);
				if (*end != '\0' || v <= 0 || v > 0x7f)
					return -EBADMSG;
				c = (char)v;
				s = semi + 1;
			}
		}
		if (n + 1 >= cap)
			return -E2BIG;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int
s3_xml_text(const char *doc, size_t len, size_t *pos, const char *tag,
    char *out, size_t cap)
{
	size_t s, e;
	int rc = s3_xml_elem(doc, len, pos, tag, &s, &e);

	if (rc < 0)
		return rc;
	return xml_unescape(doc + s, doc + e, out, cap);
}

int
s3_url_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hex_val(s[1]), lo;

			if (hi < 0 || (lo = hex_val(s[2])) < 0)
				return -EBADMSG;
			if (hi == 0 && lo == 0)
				return -EBADMSG;	/* no NUL inside a key */
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else if (*s == '+') {
			*w++ = ' ';
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

time_t
s3_parse_time(const char *s)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (e == NULL) {
		memset(&tm, 0, sizeof(tm));
		e = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	if (e == NULL)
		return -1;
	return timegm(&tm);
}
