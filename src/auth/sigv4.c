/*
 * AWS Signature Version 4, verify and sign (see sigv4.h).
 *
 * Layout of this file: a bounded string builder; the canonical request
 * (path, query, headers, payload); string to sign and the HMAC chain;
 * the verifier (Authorization parsing, dates, skew, key, token,
 * signature); the signer. The libcurl convenience is sigv4_curl.c.
 *
 * Every input is hostile: lengths are capped (SIGV4_CANON_MAX for the
 * canonical request, SIGV4_AUTH_MAX for the Authorization header) and
 * nothing is read past a NUL or a given length.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* SHA256_Init() and friends: deprecated in OpenSSL 3, see sha256_2() */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth/sigv4.h"
#include "core/buf.h"
#include "core/util.h"

#define SIGV4_CANON_MAX		(1024 * 1024)	/* canonical request */
#define SIGV4_AUTH_MAX		8192		/* Authorization header */
#define SIGV4_NQUERY_MAX	1024		/* query parameters */
#define SIGV4_ECHO_MAX		256		/* header echoed in messages */

static const char sigv4_empty_sha[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/*
 * A string with a ceiling over the one buffer type (core/buf.h). Errors
 * are sticky: after one, every append is a no-op and sb_finish() reports
 * it.
 */
struct sb {
	struct buf	b;
	int		err;
};

static void
sb_init(struct sb *b, size_t max)
{
	/*
	 * A usual canonical request (~300 bytes) fits: no realloc on the
	 * way; below glibc's large-bin size (1 KiB), whose requests
	 * consolidate the fast bins first.
	 */
	buf_init_max(&b->b, 768, max);
	b->err = 0;
}

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	if (b->err == 0 && buf_append(&b->b, s, n) < 0)
		b->err = -E2BIG;	/* buf_append freed it */
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

/* Hand the string over (*out, caller frees) or return the sticky error. */
static int
sb_finish(struct sb *b, char **out)
{
	if (b->err)
		return b->err;
	*out = buf_take(&b->b);
	return 0;
}

/* Safe bounded formatting into a fixed buffer; truncates. */
static void
msg_add(char *buf, size_t size, const char *s)
{
	size_t len = strnlen(buf, size);

	if (len + 1 >= size)
		return;
	snprintf(buf + len, size - len, "%s", s);
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

/* URI-encode s[0..n) the AWS way; '/' kept when keep_slash. */
static void
uri_encode(struct sb *b, const char *s, size_t n, int keep_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	char esc[3];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			sb_putc(b, (char)c);
			continue;
		}
		esc[0] = '%';
		esc[1] = hx[c >> 4];
		esc[2] = hx[c & 15];
		sb_putn(b, esc, 3);
	}
}

/*
 * Percent-decode s[0..n) into out (room for n bytes); a '%' not followed
 * by two hex digits stays literal. Returns the decoded length.
 */
static size_t
pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hex_val(s[i + 1]) >= 0 &&
		    hex_val(s[i + 2]) >= 0) {
			out[o++] = (char)(hex_val(s[i + 1]) << 4 |
			    hex_val(s[i + 2]));
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	return o;
}

/* Decode then encode once: the canonical form of one component. */
static void
uri_reencode(struct sb *b, const char *s, size_t n)
{
	char *tmp = xmalloc(n + 1);
	size_t m = pct_decode(s, n, tmp);

	uri_encode(b, tmp, m, 0);
	free(tmp);
}

/*
 * Canonical URI. Non-S3: botocore's remove_dot_segments (empty and "."
 * segments dropped, ".." pops, leading and trailing '/' kept) and then
 * encoded again. S3: each segment decoded and encoded once.
 */
static void
canon_path(struct sb *b, const char *path, int flags)
{
	size_t n = path ? strlen(path) : 0;
	const char **seg;
	size_t *seglen, nseg = 0, i, j;

	if (n == 0) {
		sb_putc(b, '/');
		return;
	}
	if (flags & SIGV4_F_S3) {
		i = 0;
		while (i <= n) {
			j = i;
			while (j < n && path[j] != '/')
				j++;
			uri_reencode(b, path + i, j - i);
			if (j < n)
				sb_putc(b, '/');
			i = j + 1;
		}
		return;
	}
	seg = xcalloc(n + 1, sizeof(*seg));
	seglen = xcalloc(n + 1, sizeof(*seglen));
	i = 0;
	while (i <= n) {
		j = i;
		while (j < n && path[j] != '/')
			j++;
		if (j - i == 0 || (j - i == 1 && path[i] == '.')) {
			/* dropped */
		} else if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (nseg > 0)
				nseg--;
		} else {
			seg[nseg] = path + i;
			seglen[nseg] = j - i;
			nseg++;
		}
		i = j + 1;
	}
	if (path[0] == '/')
		sb_putc(b, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			sb_putc(b, '/');
		uri_encode(b, seg[i], seglen[i], 0);
	}
	if (path[n - 1] == '/' && nseg > 0)
		sb_putc(b, '/');
	free(seg);
	free(seglen);
}

struct qpair {
	char	*k;
	char	*v;
};

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

static char *
encoded_dup(const char *s, size_t n, int *err)
{
	struct sb t;
	char *out = NULL;

	sb_init(&t, SIGV4_CANON_MAX);
	uri_reencode(&t, s, n);
	*err = sb_finish(&t, &out);
	return out;
}

/* Canonical query string: decoded, re-encoded, sorted by key then value. */
static int
canon_query(struct sb *b, const char *q)
{
	struct qpair *pv = NULL;
	size_t np = 0, n, i, j, eq;
	int rc = 0, err;

	if (q == NULL || *q == '\0')
		return 0;
	n = strlen(q);
	for (i = 0, j = 1; i < n; i++)
		if (q[i] == '&')
			j++;
	if (j > SIGV4_NQUERY_MAX)
		return -E2BIG;
	pv = xcalloc(j, sizeof(*pv));
	i = 0;
	while (i < n) {
		j = i;
		while (j < n && q[j] != '&')
			j++;
		if (j > i) {
			eq = i;
			while (eq < j && q[eq] != '=')
				eq++;
			pv[np].k = encoded_dup(q + i, eq - i, &err);
			if (err == 0)
				pv[np].v = encoded_dup(q + eq + (eq < j),
				    eq < j ? j - eq - 1 : 0, &err);
			np++;
			if (err < 0) {
				rc = err;
				goto out;
			}
		}
		i = j + 1;
	}
	qsort(pv, np, sizeof(*pv), qpair_cmp);
	for (i = 0; i < np; i++) {
		if (i > 0)
			sb_putc(b, '&');
		sb_puts(b, pv[i].k);
		sb_putc(b, '=');
		sb_puts(b, pv[i].v);
	}
out:
	for (i = 0; i < np; i++) {
		free(pv[i].k);
		free(pv[i].v);
	}
	free(pv);
	return rc;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/*
 * A header value trimmed, inner white-space runs collapsed to one space;
 * appended a run of non-space bytes at a time.
 */
static void
put_trimmed(struct sb *b, const char *v)
{
	const char *run;
	int any = 0;

	if (v == NULL)
		return;
	for (;;) {
		while (*v && is_ws(*v))
			v++;
		if (*v == '\0')
			return;
		if (any)
			sb_putc(b, ' ');
		any = 1;
		for (run = v; *v && !is_ws(*v); v++)
			;
		sb_putn(b, run, (size_t)(v - run));
	}
}

/* s[0..n) in lower case, through a stack chunk rather than a byte at a time. */
static void
put_lower(struct sb *b, const char *s, size_t n)
{
	char chunk[256];

	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		for (size_t i = 0; i < k; i++)
			chunk[i] = (char)tolower((unsigned char)s[i]);
		sb_putn(b, chunk, k);
		s += k;
		n -= k;
	}
}

/* Does header name h (any case) equal the lowercase name[0..n)? */
static int
hname_eq(const char *h, const char *name, size_t n)
{
	return strlen(h) == n && strncasecmp(h, name, n) == 0;
}

static const char *
hdr_find(const struct sigv4_req *rq, const char *lname)
{
	size_t n = strlen(lname);

	for (size_t i = 0; i < rq->nhdr; i++)
		if (rq->hdr[i].name && hname_eq(rq->hdr[i].name, lname, n))
			return rq->hdr[i].value ? rq->hdr[i].value : "";
	return NULL;
}

/* Canonical header lines for each name of the ';' list, plus the list. */
static void
canon_headers(struct sb *b, const struct sigv4_req *rq, const char *list)
{
	const char *p = list, *e;
	size_t n, i;
	int first;

	while (*p) {
		e = strchr(p, ';');
		n = e ? (size_t)(e - p) : strlen(p);
		put_lower(b, p, n);
		sb_putc(b, ':');
		first = 1;
		for (i = 0; i < rq->nhdr; i++) {
			if (rq->hdr[i].name == NULL ||
			    !hname_eq(rq->hdr[i].name, p, n))
				continue;
			if (!first)
				sb_putc(b, ',');
			first = 0;
			put_trimmed(b, rq->hdr[i].value);
		}
		sb_putc(b, '\n');
		if (e == NULL)
			break;
		p = e + 1;
	}
	sb_putc(b, '\n');
	put_lower(b, list, strlen(list));
}

/*
 * SHA-256 of a ++ b, with OpenSSL's one-shot low-level functions: no
 * allocation and no provider look-up (OpenSSL 3's EVP_DigestInit_ex2()
 * allocates the digest's state on every call; SigV4 hashes four or five
 * short strings per request). They are deprecated in OpenSSL 3 but kept,
 * and run the same SHA-NI/AVX2 block function as EVP.
 */
static void
sha256_2(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[32])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, a, alen);
	if (blen > 0)
		SHA256_Update(&c, b, blen);
	SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	sha256_2(data ? data : (const void *)"", len, NULL, 0, md);
	hex_encode(md, sizeof(md), out);
}

/* The payload hash line: X-Amz-Content-Sha256 when sent, else SHA-256. */
static void
payload_hash(const struct sigv4_req *rq, struct sb *b)
{
	const char *h = hdr_find(rq, "x-amz-content-sha256");
	char hx[65];

	if (h != NULL) {
		put_trimmed(b, h);
		return;
	}
	if (rq->payload_len == 0) {
		sb_puts(b, sigv4_empty_sha);
		return;
	}
	sha256_hex(rq->payload, rq->payload_len, hx);
	sb_puts(b, hx);
}

int
sigv4_canonical_request(const struct sigv4_req *rq,
    const char *signed_headers, int flags, char **out)
{
	struct sb b;
	int rc;

	*out = NULL;
	if (rq == NULL || rq->method == NULL || signed_headers == NULL ||
	    rq->nhdr > SIGV4_NHDR_MAX || (rq->nhdr > 0 && rq->hdr == NULL))
		return -EINVAL;
	sb_init(&b, SIGV4_CANON_MAX);
	for (const char *m = rq->method; *m; m++)
		sb_putc(&b, (char)toupper((unsigned char)*m));
	sb_putc(&b, '\n');
	canon_path(&b, rq->path, flags);
	sb_putc(&b, '\n');
	rc = canon_query(&b, rq->query);
	if (rc < 0) {
		buf_fini(&b.b);
		return rc;
	}
	sb_putc(&b, '\n');
	canon_headers(&b, rq, signed_headers);
	sb_putc(&b, '\n');
	payload_hash(rq, &b);
	return sb_finish(&b, out);
}

int
sigv4_string_to_sign(const char *creq, const char *amz_date,
    const char *region, const char *service, char **out)
{
	char hx[65];

	*out = NULL;
	if (creq == NULL || amz_date == NULL || strlen(amz_date) != 16 ||
	    region == NULL || service == NULL)
		return -EINVAL;
	sha256_hex(creq, strlen(creq), hx);
	{
		size_t rl = strlen(region), sl = strlen(service);
		size_t n = sizeof(SIGV4_ALGO) - 1 + 1 + 16 + 1 + 8 + 1 + rl +
		    1 + sl + sizeof("/aws4_request\n") - 1 + 64;
		char *p = xmalloc(n + 1);

		*out = p;
		memcpy(p, SIGV4_ALGO "\n", sizeof(SIGV4_ALGO));
		p += sizeof(SIGV4_ALGO);
		memcpy(p, amz_date, 16);
		p[16] = '\n';
		memcpy(p + 17, amz_date, 8);
		p[25] = '/';
		p += 26;
		memcpy(p, region, rl);
		p[rl] = '/';
		p += rl + 1;
		memcpy(p, service, sl);
		p += sl;
		memcpy(p, "/aws4_request\n", sizeof("/aws4_request\n") - 1);
		p += sizeof("/aws4_request\n") - 1;
		memcpy(p, hx, 65);
	}
	return 0;
}

/*
 * HMAC-SHA256 (RFC 2104) as a keyed state: the hash states after the
 * key's inner and outer pads, so that a key used again (the cached
 * signing key below) costs two hash finals per message instead of two
 * more pad blocks, and nothing is looked up or allocated as OpenSSL 3's
 * generic HMAC() does.
 */
struct hmac_key {
	SHA256_CTX	inner, outer;
};

static void
hmac_key_set(struct hmac_key *hk, const void *key, size_t klen)
{
	uint8_t k0[64], pad[64];

	memset(k0, 0, sizeof(k0));
	if (klen > sizeof(k0))
		sha256_2(key, klen, NULL, 0, k0);
	else
		memcpy(k0, key, klen);
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x36;
	SHA256_Init(&hk->inner);
	SHA256_Update(&hk->inner, pad, sizeof(pad));
	for (int i = 0; i < 64; i++)
		pad[i] = k0[i] ^ 0x5c;
	SHA256_Init(&hk->outer);
	SHA256_Update(&hk->outer, pad, sizeof(pad));
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static void
hmac_run(const struct hmac_key *hk, const char *msg, uint8_t out[32])
{
	SHA256_CTX c = hk->inner;
	uint8_t inner[32];

	SHA256_Update(&c, msg, strlen(msg));
	SHA256_Final(inner, &c);
	c = hk->outer;
	SHA256_Update(&c, inner, sizeof(inner));
	SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
	OPENSSL_cleanse(inner, sizeof(inner));
}

static void
hmac256(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
	struct hmac_key hk;

	hmac_key_set(&hk, key, klen);
	hmac_run(&hk, msg, out);
	OPENSSL_cleanse(&hk, sizeof(hk));
}

/*
 * The signing key (kSigning) of the last (secret, date, region, service)
 * this thread used, as its HMAC state: every request of a client within
 * a day shares it, so verifying costs one keyed HMAC instead of five.
 */
struct sigv4_kcache {
	uint8_t		secret_md[32];
	char		scope[8 + 1 + SIGV4_SCOPE_PART_MAX * 2 + 2];
	struct hmac_key	hk;
	int		valid;
};
static __thread struct sigv4_kcache sigv4_kc;

static int
signing_key(const char *secret, size_t slen, const char *date8,
    const char *region, const char *service, struct hmac_key *hk)
{
	char kbuf[4 + SIGV4_SECRET_MAX], scope[sizeof(sigv4_kc.scope)];
	uint8_t smd[32], k[32], key[32];
	size_t rl = strlen(region), sl = strlen(service);

	/* scope = date8 "/" region "/" service */
	if (8 + 1 + rl + 1 + sl >= sizeof(scope))
		return -EINVAL;
	memcpy(scope, date8, 8);
	scope[8] = '/';
	memcpy(scope + 9, region, rl);
	scope[9 + rl] = '/';
	memcpy(scope + 10 + rl, service, sl + 1);
	sha256_2(secret, slen, NULL, 0, smd);
	if (sigv4_kc.valid && strcmp(sigv4_kc.scope, scope) == 0 &&
	    CRYPTO_memcmp(sigv4_kc.secret_md, smd, 32) == 0) {
		*hk = sigv4_kc.hk;
		return 0;
	}
	memcpy(kbuf, "AWS4", 4);
	memcpy(kbuf + 4, secret, slen);
	hmac256(kbuf, 4 + slen, date8, k);
	hmac256(k, 32, region, key);
	hmac256(key, 32, service, k);
	hmac256(k, 32, "aws4_request", key);
	hmac_key_set(hk, key, sizeof(key));
	OPENSSL_cleanse(kbuf, sizeof(kbuf));
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(key, sizeof(key));
	memcpy(sigv4_kc.secret_md, smd, 32);
	memcpy(sigv4_kc.scope, scope, sizeof(scope));
	sigv4_kc.hk = *hk;
	sigv4_kc.valid = 1;
	return 0;
}

int
sigv4_signature(const char *secret, const char *amz_date, const char *region,
    const char *service, const char *sts, char out[65])
{
	struct hmac_key hk;
	char date8[9];
	uint8_t sig[32];
	size_t slen;
	int rc;

	out[0] = '\0';
	if (secret == NULL || amz_date == NULL || strlen(amz_date) < 8 ||
	    region == NULL || service == NULL || sts == NULL)
		return -EINVAL;
	slen = strlen(secret);
	if (slen >= SIGV4_SECRET_MAX)
		return -EINVAL;
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	rc = signing_key(secret, slen, date8, region, service, &hk);
	if (rc == 0) {
		hmac_run(&hk, sts, sig);
		hex_encode(sig, 32, out);
	}
	OPENSSL_cleanse(&hk, sizeof(hk));
	OPENSSL_cleanse(sig, sizeof(sig));
	return rc;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date and back (Howard
 * Hinnant's algorithms): gmtime_r() and timegm() take glibc's time zone
 * lock, which every request would contend on.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
put_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
sigv4_format_date(time_t t, char out[17])
{
	int64_t days = (int64_t)t / 86400, secs = (int64_t)t % 86400, y;
	int m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		memcpy(out, "19700101T000000Z", 17);
		return;
	}
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, secs / 3600, 2);
	put_digits(out + 11, secs / 60 % 60, 2);
	put_digits(out + 13, secs % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

const char *
sigv4_status_code(enum sigv4_status st)
{
	switch (st) {
	case SIGV4_OK:
		return "";
	case SIGV4_MISSING:
		return "MissingAuthenticationTokenException";
	case SIGV4_INCOMPLETE:
		return "IncompleteSignatureException";
	case SIGV4_MISMATCH:
	case SIGV4_EXPIRED:
	case SIGV4_NOT_YET:
		return "InvalidSignatureException";
	case SIGV4_UNKNOWN_KEY:
	case SIGV4_BAD_TOKEN:
		return "UnrecognizedClientException";
	}
	return "InvalidSignatureException";
}

const char *
sigv4_status_name(enum sigv4_status st)
{
	switch (st) {
	case SIGV4_OK:
		return "ok";
	case SIGV4_MISSING:
		return "missing";
	case SIGV4_INCOMPLETE:
		return "incomplete";
	case SIGV4_MISMATCH:
		return "mismatch";
	case SIGV4_EXPIRED:
		return "expired";
	case SIGV4_NOT_YET:
		return "not-yet-current";
	case SIGV4_UNKNOWN_KEY:
		return "unknown-key";
	case SIGV4_BAD_TOKEN:
		return "bad-token";
	}
	return "unknown";
}

/* ---- verification ---- */

#define MSG_MISMATCH "The request signature we calculated does not match " \
	"the signature you provided. Check your AWS Secret Access Key and " \
	"signing method. Consult the service documentation for details."
#define MSG_BAD_TOKEN "The security token included in the request is invalid."
#define MSG_NEED_DATE "Authorization header requires existence of either " \
	"a 'X-Amz-Date' or a 'Date' header."

/*
 * Copy a client-supplied string for an error message: printable ASCII
 * only, at most max bytes, and any "Signature=" value masked.
 */
static void
echo_safe(char *dst, size_t size, const char *src, size_t max)
{
	size_t o = 0, i = 0;

	while (src[i] && i < max && o + 1 < size) {
		unsigned char c = (unsigned char)src[i];

		if (strncmp(src + i, "Signature=", 10) == 0 &&
		    o + 14 < size) {
			memcpy(dst + o, "Signature=***", 13);
			o += 13;
			i += 10;
			while (src[i] && src[i] != ',' && !is_ws(src[i]))
				i++;
			continue;
		}
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		i++;
	}
	dst[o] = '\0';
}

static void
res_set(struct sigv4_result *res, enum sigv4_status st, const char *msg)
{
	res->status = st;
	snprintf(res->message, sizeof(res->message), "%s", msg);
}

/* Parse YYYYMMDDTHHMMSSZ strictly. */
static int
parse_amz_date(const char *s, time_t *out)
{
	int v[6], i;
	static const int off[6] = { 0, 4, 6, 9, 11, 13 };
	static const int len[6] = { 4, 2, 2, 2, 2, 2 };

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (int j = 0; j < len[i]; j++) {
			char c = s[off[i] + j];

			if (c < '0' || c > '9')
				return -EINVAL;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
	    v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -EINVAL;
	/* as timegm() would: Feb 31 is Mar 3 (or 2), second 60 the next */
	*out = (time_t)(days_from_civil(v[0], v[1], v[2]) * 86400 +
	    v[3] * 3600 + v[4] * 60 + v[5]);
	return 0;
}

/* Parse an RFC 7231 IMF-fixdate ("Sun, 30 Aug 2015 12:36:00 GMT"). */
static int
parse_http_date(const char *s, time_t *out)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	e = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (e == NULL || *e != '\0' || tm.tm_year < 70)
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}

struct auth_parts {
	char	cred[512];
	char	signed_hdrs[2048];
	char	sig[128];
	int	have_cred;
	int	have_sh;
	int	have_sig;
	char	bad_pair[128];	/* first token without '=' */
};

static void
copy_part(char *dst, size_t size, const char *s, size_t n, int *have)
{
	if (*have)
		return;		/* first occurrence wins */
	*have = 1;
	if (n >= size)
		n = size - 1;	/* too long; will fail later checks */
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * Split "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * on commas and white space. Returns 0, or -EINVAL when the algorithm is
 * not AWS4-HMAC-SHA256 (algo gets a copy for the message).
 */
static int
parse_authorization(const char *h, struct auth_parts *ap, char *algo,
    size_t algolen)
{
	const char *p = h, *s, *eq;
	size_t n;

	/* only what is read before being written: the parts are 2.7 KB */
	ap->cred[0] = ap->signed_hdrs[0] = ap->sig[0] = ap->bad_pair[0] = '\0';
	ap->have_cred = ap->have_sh = ap->have_sig = 0;
	while (is_ws(*p))
		p++;
	s = p;
	while (*p && !is_ws(*p) && *p != ',')
		p++;
	n = (size_t)(p - s);
	echo_safe(algo, algolen, s, n < 64 ? n : 64);
	if (n != strlen(SIGV4_ALGO) || strncmp(s, SIGV4_ALGO, n) != 0)
		return -EINVAL;
	for (;;) {
		while (is_ws(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p && !is_ws(*p) && *p != ',')
			p++;
		n = (size_t)(p - s);
		eq = memchr(s, '=', n);
		if (eq == NULL) {
			if (ap->bad_pair[0] == '\0')
				echo_safe(ap->bad_pair, sizeof(ap->bad_pair),
				    s, n < 100 ? n : 100);
			continue;
		}
		if (eq - s == 10 && strncmp(s, "Credential", 10) == 0)
			copy_part(ap->cred, sizeof(ap->cred), eq + 1,
			    n - 11, &ap->have_cred);
		else if (eq - s == 13 && strncmp(s, "SignedHeaders", 13) == 0)
			copy_part(ap->signed_hdrs, sizeof(ap->signed_hdrs),
			    eq + 1, n - 14, &ap->have_sh);
		else if (eq - s == 9 && strncmp(s, "Signature", 9) == 0)
			copy_part(ap->sig, sizeof(ap->sig), eq + 1, n - 10,
			    &ap->have_sig);
	}
	return 0;
}

/* Split akid/date/region/service/aws4_request into res; 0 or -EINVAL. */
static int
parse_scope(const char *cred, struct sigv4_result *res, char date8[9])
{
	const char *part[6];
	size_t plen[6], np = 0;
	const char *p = cred, *e;

	while (np < 6) {
		e = strchr(p, '/');
		part[np] = p;
		plen[np] = e ? (size_t)(e - p) : strlen(p);
		np++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (np != 5)
		return -EINVAL;
	if (plen[0] == 0 || plen[0] >= SIGV4_AKID_MAX || plen[1] != 8 ||
	    plen[2] == 0 || plen[2] >= SIGV4_SCOPE_PART_MAX ||
	    plen[3] == 0 || plen[3] >= SIGV4_SCOPE_PART_MAX)
		return -EINVAL;
	for (size_t i = 0; i < 8; i++)
		if (part[1][i] < '0' || part[1][i] > '9')
			return -EINVAL;
	memcpy(res->akid, part[0], plen[0]);
	res->akid[plen[0]] = '\0';
	memcpy(date8, part[1], 8);
	date8[8] = '\0';
	memcpy(res->region, part[2], plen[2]);
	res->region[plen[2]] = '\0';
	memcpy(res->service, part[3], plen[3]);
	res->service[plen[3]] = '\0';
	if (plen[4] != 12 || strncmp(part[4], "aws4_request", 12) != 0)
		return -EPROTO;
	return 0;
}

/* Is "host" one of the ';'-separated (any case) names? */
static int
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *e;

	for (;;) {
		e = strchr(p, ';');
		if ((e ? (size_t)(e - p) : strlen(p)) == n &&
		    strncasecmp(p, name, n) == 0)
			return 1;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static void
skew_text(int skew, char *buf, size_t size)
{
	if (skew % 60 == 0)
		snprintf(buf, size, "%d min.", skew / 60);
	else
		snprintf(buf, size, "%d sec.", skew);
}

/* Check the date window; 0 if inside. */
static int
check_skew(struct sigv4_result *res, time_t t, time_t now, int skew)
{
	char a[17], b[17], c[17], st[32];

	if (t >= now - skew && t <= now + skew)
		return 0;
	sigv4_format_date(t, a);
	sigv4_format_date(now, c);
	skew_text(skew, st, sizeof(st));
	if (t < now - skew) {
		sigv4_format_date(now - skew, b);
		res->status = SIGV4_EXPIRED;
		snprintf(res->message, sizeof(res->message),
		    "Signature expired: %s is now earlier than %s (%s - %s)",
		    a, b, c, st);
		return -EACCES;
	}
	if (t > now + skew) {
		sigv4_format_date(now + skew, b);
		res->status = SIGV4_NOT_YET;
		snprintf(res->message, sizeof(res->message),
		    "Signature not yet current: %s is still later than %s "
		    "(%s + %s)", a, b, c, st);
		return -EACCES;
	}
	return 0;
}

/* The signing time from X-Amz-Date or Date; -ENOENT, -EINVAL or 0. */
static int
request_date(const struct sigv4_req *rq, time_t *t, const char **raw)
{
	const char *h = hdr_find(rq, "x-amz-date");

	*raw = h;
	if (h != NULL)
		return parse_amz_date(h, t);
	h = hdr_find(rq, "date");
	*raw = h;
	if (h != NULL)
		return parse_http_date(h, t);
	return -ENOENT;
}

static int
is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (hex_val(*s) < 0)
			return 0;
	return 1;
}

/* The signature comparison proper, after all the checks. */
static int
verify_signature(const struct sigv4_req *rq, const struct auth_parts *ap,
    const struct sigv4_secret *sec, struct sigv4_result *res)
{
	char *creq = NULL, *sts = NULL;
	char want[65], hx[65];
	const char *ph;
	int rc, flags = 0;

	if (strcmp(res->service, "s3") == 0)
		flags |= SIGV4_F_S3;
	ph = hdr_find(rq, "x-amz-content-sha256");
	if (ph != NULL && is_hex64(ph)) {
		sha256_hex(rq->payload, rq->payload_len, hx);
		if (strcasecmp(hx, ph) != 0) {
			res_set(res, SIGV4_MISMATCH, MSG_MISMATCH);
			return -EACCES;
		}
	}
	rc = sigv4_canonical_request(rq, ap->signed_hdrs, flags, &creq);
	if (rc == 0)
		rc = sigv4_string_to_sign(creq, res->amz_date, res->region,
		    res->service, &sts);
	if (rc == 0)
		rc = sigv4_signature(sec->secret, res->amz_date, res->region,
		    res->service, sts, want);
	free(creq);
	free(sts);
	if (rc < 0 || strlen(ap->sig) != 64 ||
	    CRYPTO_memcmp(want, ap->sig, 64) != 0) {
		OPENSSL_cleanse(want, sizeof(want));
		res_set(res, SIGV4_MISMATCH, MSG_MISMATCH);
		return -EACCES;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return 0;
}

int
sigv4_verify(const struct sigv4_req *rq, time_t now, int skew_sec,
    sigv4_lookup_fn lookup, void *arg, struct sigv4_result *res)
{
	struct auth_parts ap;
	struct sigv4_secret sec;
	char algo[80], echo[SIGV4_ECHO_MAX + 16], date8[9], *m;
	const char *authz, *draw, *tok;
	time_t t = 0;
	int rc, drc;

	/*
	 * Every string of *res and sec empty: not the whole 5.7 KB, which
	 * every request would clear and cleanse.
	 */
	res->status = SIGV4_OK;
	res->message[0] = res->akid[0] = res->region[0] = '\0';
	res->service[0] = res->account[0] = res->amz_date[0] = '\0';
	res->date = 0;
	sec.secret[0] = sec.account[0] = sec.token[0] = '\0';
	sec.skip_signature = 0;
	if (skew_sec <= 0)
		skew_sec = SIGV4_SKEW_DEFAULT;
	if (rq == NULL || rq->method == NULL || lookup == NULL ||
	    rq->nhdr > SIGV4_NHDR_MAX || (rq->nhdr > 0 && rq->hdr == NULL)) {
		res_set(res, SIGV4_INCOMPLETE, "Malformed request.");
		return -EACCES;
	}
	authz = hdr_find(rq, "authorization");
	if (authz == NULL) {
		res_set(res, SIGV4_MISSING, "Missing Authentication Token");
		return -EACCES;
	}
	if (strlen(authz) > SIGV4_AUTH_MAX) {
		res_set(res, SIGV4_INCOMPLETE,
		    "Authorization header is too long.");
		return -EACCES;
	}
	if (parse_authorization(authz, &ap, algo, sizeof(algo)) < 0) {
		echo_safe(echo, sizeof(echo), authz, SIGV4_ECHO_MAX);
		res->status = SIGV4_INCOMPLETE;
		snprintf(res->message, sizeof(res->message),
		    "Unsupported AWS 'algorithm': '%s'. Authorization=%s",
		    algo, echo);
		return -EACCES;
	}
	drc = request_date(rq, &t, &draw);

	/* Everything missing is reported at once, as AWS does. */
	m = res->message;
	if (!ap.have_cred)
		msg_add(m, SIGV4_MSG_MAX,
		    "Authorization header requires 'Credential' parameter. ");
	if (!ap.have_sh)
		msg_add(m, SIGV4_MSG_MAX,
		    "Authorization header requires 'SignedHeaders' parameter. ");
	if (!ap.have_sig)
		msg_add(m, SIGV4_MSG_MAX,
		    "Authorization header requires 'Signature' parameter. ");
	if (drc == -ENOENT)
		msg_add(m, SIGV4_MSG_MAX, MSG_NEED_DATE " ");
	if (m[0] != '\0') {
		echo_safe(echo, sizeof(echo), authz, SIGV4_ECHO_MAX);
		res->status = SIGV4_INCOMPLETE;
		msg_add(m, SIGV4_MSG_MAX, "Authorization=");
		msg_add(m, SIGV4_MSG_MAX, echo);
		return -EACCES;
	}
	if (ap.bad_pair[0] != '\0') {
		echo_safe(echo, sizeof(echo), authz, SIGV4_ECHO_MAX);
		res->status = SIGV4_INCOMPLETE;
		snprintf(m, SIGV4_MSG_MAX, "'%s' not a valid key=value pair "
		    "(missing equal-sign) in Authorization header: '%s'.",
		    ap.bad_pair, echo);
		return -EACCES;
	}
	rc = parse_scope(ap.cred, res, date8);
	if (rc == -EPROTO) {
		char term[64];
		const char *last = strrchr(ap.cred, '/');

		echo_safe(term, sizeof(term), last ? last + 1 : "", 48);
		res->status = SIGV4_INCOMPLETE;
		snprintf(m, SIGV4_MSG_MAX, "Credential should be scoped with "
		    "a valid terminator: 'aws4_request', not '%s'.", term);
		return -EACCES;
	}
	if (rc < 0) {
		char c[160];

		echo_safe(c, sizeof(c), ap.cred, 128);
		memset(res->akid, 0, sizeof(res->akid));
		memset(res->region, 0, sizeof(res->region));
		memset(res->service, 0, sizeof(res->service));
		res->status = SIGV4_INCOMPLETE;
		snprintf(m, SIGV4_MSG_MAX, "Credential must have exactly 5 "
		    "slash-delimited elements, e.g. keyid/date/region/service/"
		    "term, got '%s'", c);
		return -EACCES;
	}
	if (ap.signed_hdrs[0] == '\0' || !list_has(ap.signed_hdrs, "host")) {
		res_set(res, SIGV4_INCOMPLETE, "'Host' or ':authority' must "
		    "be a 'SignedHeader' in the AWS Authorization.");
		return -EACCES;
	}
	if (drc < 0) {
		char d[64];

		echo_safe(d, sizeof(d), draw ? draw : "", 40);
		res->status = SIGV4_INCOMPLETE;
		snprintf(m, SIGV4_MSG_MAX, "Date must be in ISO-8601 'basic "
		    "format'. Got '%s'. See "
		    "http://en.wikipedia.org/wiki/ISO_8601", d);
		return -EACCES;
	}
	res->date = t;
	sigv4_format_date(t, res->amz_date);
	if (strncmp(res->amz_date, date8, 8) != 0) {
		res->status = SIGV4_MISMATCH;
		snprintf(m, SIGV4_MSG_MAX, "Date in Credential scope does not "
		    "match YYYYMMDD from ISO-8601 version of date from HTTP: "
		    "'%s' != '%.8s', from '%s'.", date8, res->amz_date,
		    res->amz_date);
		return -EACCES;
	}
	if (check_skew(res, t, now, skew_sec) < 0)
		return -EACCES;

	rc = lookup(arg, res->akid, &sec);
	if (rc != 0) {
		res_set(res, SIGV4_UNKNOWN_KEY, MSG_BAD_TOKEN);
		goto out;
	}
	if (!sec.skip_signature && sec.token[0] != '\0') {
		size_t n = strlen(sec.token);

		tok = hdr_find(rq, "x-amz-security-token");
		if (tok == NULL || strlen(tok) != n ||
		    CRYPTO_memcmp(tok, sec.token, n) != 0) {
			res_set(res, SIGV4_BAD_TOKEN, MSG_BAD_TOKEN);
			rc = -EACCES;
			goto out;
		}
	}
	if (!sec.skip_signature) {
		rc = verify_signature(rq, &ap, &sec, res);
		if (rc < 0)
			goto out;
	}
	str_copy(res->account, sizeof(res->account), sec.account);
	res->status = SIGV4_OK;
	res->message[0] = '\0';
	rc = 0;
out:
	OPENSSL_cleanse(sec.secret, sizeof(sec.secret));
	OPENSSL_cleanse(sec.token, strnlen(sec.token, sizeof(sec.token)));
	return rc == 0 ? 0 : -EACCES;
}

/* ---- signing ---- */

static const char *const sigv4_unsigned_hdrs[] = {
	"connection", "expect", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "te", "trailer", "transfer-encoding",
	"upgrade", "user-agent", "x-amzn-trace-id",
	/* supplied by the signer itself */
	"authorization", "x-amz-date", "x-amz-security-token", NULL
};

static int
skip_for_signing(const char *name, int s3)
{
	for (const char *const *p = sigv4_unsigned_hdrs; *p; p++)
		if (strcasecmp(name, *p) == 0)
			return 1;
	(void)s3;
	return 0;
}

static int
lname_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
scope_word_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ',' || *s == '=' || is_ws(*s) ||
		    (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

int
sigv4_sign(const struct sigv4_req *rq, const struct sigv4_key *key,
    const char *region, const char *service, time_t now,
    struct sigv4_signed *out)
{
	struct sigv4_hdr *h = NULL;
	struct sigv4_req v;
	char **names = NULL, *creq = NULL, *sts = NULL, sig[65];
	struct sb sh;
	size_t nh = 0, nn = 0, i;
	const char *csha;
	int s3, rc, have_host = 0;

	memset(out, 0, sizeof(*out));
	if (rq == NULL || key == NULL || rq->method == NULL ||
	    rq->nhdr > SIGV4_NHDR_MAX || (rq->nhdr > 0 && rq->hdr == NULL) ||
	    !scope_word_ok(key->akid, SIGV4_AKID_MAX) ||
	    strnlen(key->secret, SIGV4_SECRET_MAX) >= SIGV4_SECRET_MAX ||
	    strnlen(key->token, SIGV4_TOKEN_MAX) >= SIGV4_TOKEN_MAX ||
	    !scope_word_ok(region, SIGV4_SCOPE_PART_MAX) ||
	    !scope_word_ok(service, SIGV4_SCOPE_PART_MAX))
		return -EINVAL;
	s3 = strcmp(service, "s3") == 0;
	sigv4_format_date(now, out->amz_date);
	csha = hdr_find(rq, "x-amz-content-sha256");

	h = xcalloc(rq->nhdr + 3, sizeof(*h));
	for (i = 0; i < rq->nhdr; i++) {
		if (rq->hdr[i].name == NULL || rq->hdr[i].name[0] == '\0' ||
		    skip_for_signing(rq->hdr[i].name, s3))
			continue;
		if (strcasecmp(rq->hdr[i].name, "host") == 0)
			have_host = 1;
		h[nh].name = rq->hdr[i].name;
		h[nh].value = rq->hdr[i].value ? rq->hdr[i].value : "";
		nh++;
	}
	if (!have_host) {
		rc = -EINVAL;
		goto out;
	}
	h[nh].name = "x-amz-date";
	h[nh++].value = out->amz_date;
	if (key->token[0] != '\0') {
		h[nh].name = "x-amz-security-token";
		h[nh++].value = key->token;
		out->add_token = 1;
	}
	if (csha != NULL) {
		snprintf(out->payload_hash, sizeof(out->payload_hash), "%s",
		    csha);
	} else {
		if (rq->payload_len == 0)
			snprintf(out->payload_hash, sizeof(out->payload_hash),
			    "%s", sigv4_empty_sha);
		else
			sha256_hex(rq->payload, rq->payload_len,
			    out->payload_hash);
		if (s3) {
			h[nh].name = "x-amz-content-sha256";
			h[nh++].value = out->payload_hash;
			out->add_content_sha = 1;
		}
	}

	/* Signed header list: sorted unique lowercase names. */
	names = xcalloc(nh, sizeof(*names));
	for (i = 0; i < nh; i++) {
		char *l = xstrdup(h[i].name);

		for (char *c = l; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		names[nn++] = l;
	}
	qsort(names, nn, sizeof(*names), lname_cmp);
	sb_init(&sh, 8192);
	for (i = 0; i < nn; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (i > 0)
			sb_putc(&sh, ';');
		sb_puts(&sh, names[i]);
	}
	{
		char *list = NULL;

		rc = sb_finish(&sh, &list);
		if (rc < 0)
			goto out;
		v = *rq;
		v.hdr = h;
		v.nhdr = nh;
		rc = sigv4_canonical_request(&v, list, s3 ? SIGV4_F_S3 : 0,
		    &creq);
		if (rc == 0)
			rc = sigv4_string_to_sign(creq, out->amz_date, region,
			    service, &sts);
		if (rc == 0)
			rc = sigv4_signature(key->secret, out->amz_date,
			    region, service, sts, sig);
		if (rc == 0 && (size_t)snprintf(out->authorization,
		    sizeof(out->authorization), "%s Credential=%s/%.8s/%s/%s/"
		    "aws4_request, SignedHeaders=%s, Signature=%s", SIGV4_ALGO,
		    key->akid, out->amz_date, region, service, list, sig) >=
		    sizeof(out->authorization))
			rc = -E2BIG;
		free(list);
	}
out:
	if (names != NULL)
		for (i = 0; i < nn; i++)
			free(names[i]);
	free(names);
	free(h);
	free(creq);
	free(sts);
	OPENSSL_cleanse(sig, sizeof(sig));
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
