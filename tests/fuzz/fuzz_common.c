/*
 * Helpers shared by the fuzz targets (fuzz.h): the HTTP splitter, the
 * fixtures' keys, temporary directories removed at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "fuzz.h"

static char *
trim(char *s, char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

int
fuzz_http_parse(const uint8_t *d, size_t n, struct fuzz_http *f)
{
	char *p, *eol, *sp, *q, *colon;

	memset(f, 0, sizeof(*f));
	f->text = malloc(n + 1);
	if (f->text == NULL)
		return -1;
	memcpy(f->text, d, n);
	f->text[n] = '\0';
	p = f->text;
	/* request line: METHOD SP TARGET SP VERSION */
	eol = memchr(p, '\n', n);
	if (eol == NULL)
		goto bad;
	*eol = '\0';
	sp = strchr(p, ' ');
	if (sp == NULL)
		goto bad;
	*sp = '\0';
	f->method = p;
	p = sp + 1;
	sp = strchr(p, ' ');
	if (sp != NULL)
		*sp = '\0';
	q = strchr(p, '?');
	if (q != NULL)
		*q++ = '\0';
	f->path = *p ? p : "/";
	f->query = q ? q : "";
	p = eol + 1;
	for (;;) {
		size_t left = n - (size_t)(p - f->text);

		eol = memchr(p, '\n', left);
		if (eol == NULL)
			goto bad;	/* the head never ends */
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			p = eol + 1;
			break;
		}
		if (f->nhdr == FUZZ_HDR_MAX)
			goto bad;
		*eol = '\0';
		colon = strchr(p, ':');
		if (colon == NULL)
			goto bad;
		*colon = '\0';
		f->hdr[f->nhdr].name = trim(p, colon);
		f->hdr[f->nhdr].value = trim(colon + 1, eol);
		f->nhdr++;
		p = eol + 1;
	}
	f->head_len = (size_t)(p - f->text);
	f->body = p;
	f->body_len = n - f->head_len;
	return 0;
bad:
	fuzz_http_free(f);
	return -1;
}

void
fuzz_http_free(struct fuzz_http *f)
{
	free(f->text);
	memset(f, 0, sizeof(*f));
}

const char *
fuzz_http_hdr(const struct fuzz_http *f, const char *name)
{
	for (size_t i = 0; i < f->nhdr; i++)
		if (strcasecmp(f->hdr[i].name, name) == 0)
			return f->hdr[i].value;
	return NULL;
}

static const struct {
	const char *akid, *secret, *account, *token;
} fuzz_keys[] = {
	/* AWS's SigV4 test suite (tests/unit/fixtures/sigv4/suite) */
	{ "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    "123456789012", "" },
	/* the captured botocore requests (fixtures/sigv4/captured) */
	{ "AKIAFSXLOCAL0EXAMPLE", "fsxLocalSecret/Key+0123456789abcdEXAMPLE",
	    "123456789012", "" },
	{ "ASIAFSXLOCAL0SESSION", "sessionSecret0123456789", "210987654321",
	    "FwoGZXIvYXdzEJr//////////wEaDEXAMPLETOKENfsxlocal+/="
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" },
};

int
fuzz_sigv4_lookup(void *arg, const char *akid, struct sigv4_secret *out)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(fuzz_keys) / sizeof(fuzz_keys[0]); i++) {
		if (strcmp(fuzz_keys[i].akid, akid) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		snprintf(out->secret, sizeof(out->secret), "%s",
		    fuzz_keys[i].secret);
		snprintf(out->account, sizeof(out->account), "%s",
		    fuzz_keys[i].account);
		snprintf(out->token, sizeof(out->token), "%s",
		    fuzz_keys[i].token);
		return 0;
	}
	return -ENOENT;
}

#define FUZZ_TMP_MAX	8
static char fuzz_tmp[FUZZ_TMP_MAX][64];
static int fuzz_ntmp;

static void
fuzz_tmp_clean(void)
{
	for (int i = 0; i < fuzz_ntmp; i++)
		rm_rf(fuzz_tmp[i]);
}

const char *
fuzz_tmpdir(const char *tag)
{
	char *d;

	if (fuzz_ntmp == FUZZ_TMP_MAX)
		abort();
	d = fuzz_tmp[fuzz_ntmp];
	snprintf(d, sizeof(fuzz_tmp[0]), "/tmp/fsx-fuzz-%s.XXXXXX", tag);
	if (mkdtemp(d) == NULL)
		abort();
	if (fuzz_ntmp++ == 0)
		atexit(fuzz_tmp_clean);
	return d;
}
