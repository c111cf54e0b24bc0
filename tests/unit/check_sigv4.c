/*
 * SigV4 tests.
 *
 *   sigv4_suite_*     AWS's aws-sig-v4-test-suite vectors
 *                     (tests/unit/fixtures/sigv4/suite/<name>/): canonical
 *                     request, string to sign, Authorization; verify; sign.
 *   sigv4_captured_*  real botocore FSx requests (fixtures/sigv4/captured/):
 *                     verify OK, then every way to fail.
 *   sigv4_verify_*    Authorization parsing and messages.
 *   sigv4_sign_*      sign -> verify round trips, libcurl headers.
 *
 * Fixtures are read from the source tree; run from the repository root.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/creds.h"
#include "auth/sigv4.h"
#include "core/util.h"

#define FIX		"tests/unit/fixtures/sigv4/"
#define SUITE_AKID	"AKIDEXAMPLE"
#define SUITE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME	1440938160	/* 20150830T123600Z */
#define MAXH		64

/* A parsed fixture request; owns its strings. */
struct treq {
	char			*buf;
	char			*method;
	char			*path;
	char			*query;
	struct sigv4_hdr	 hdr[MAXH];
	char			*own[MAXH];	/* header values we replaced */
	size_t			 nhdr;
	char			*body;
	size_t			 body_len;
};

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *
read_fixture(const char *path, size_t *len)
{
	char *p = NULL;
	size_t n = 0;
	int rc;

	rc = file_read_all(path, &p, &n, 1 << 20);
	ck_assert_msg(rc == 0, "cannot read %s (%d); run from the repo root",
	    path, rc);
	if (len)
		*len = n;
	return p;
}

/* Parse "METHOD URI HTTP/1.1\nName:value\n...\n\nbody". */
static void
treq_parse(struct treq *t, const char *path)
{
	size_t len;
	char *p, *nl, *sp, *end, *c, *q;

	memset(t, 0, sizeof(*t));
	t->buf = read_fixture(path, &len);
	t->buf = realloc(t->buf, len + 1);
	ck_assert_ptr_nonnull(t->buf);
	t->buf[len] = '\0';
	end = strstr(t->buf, "\n\n");
	if (end != NULL) {
		*end = '\0';
		t->body = end + 2;
		t->body_len = len - (size_t)(t->body - t->buf);
	} else {
		t->body = t->buf + len;
		t->body_len = 0;
	}
	p = t->buf;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	sp = strchr(p, ' ');
	ck_assert_ptr_nonnull(sp);
	*sp = '\0';
	t->method = p;
	t->path = sp + 1;
	c = strstr(t->path, " HTTP/1.1");
	ck_assert_ptr_nonnull(c);
	*c = '\0';
	q = strchr(t->path, '?');
	if (q) {
		*q = '\0';
		t->query = q + 1;
	} else {
		t->query = t->path + strlen(t->path);
	}
	p = nl ? nl + 1 : NULL;
	while (p && *p) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		c = strchr(p, ':');
		ck_assert_ptr_nonnull(c);
		*c = '\0';
		ck_assert_uint_lt(t->nhdr, MAXH);
		t->hdr[t->nhdr].name = p;
		c++;
		while (*c == ' ')
			c++;
		t->hdr[t->nhdr].value = c;
		t->nhdr++;
		p = nl ? nl + 1 : NULL;
	}
}

static void
treq_free(struct treq *t)
{
	for (size_t i = 0; i < MAXH; i++)
		free(t->own[i]);
	free(t->buf);
}

static struct sigv4_req
treq_view(const struct treq *t)
{
	struct sigv4_req rq = {
		.method = t->method, .path = t->path, .query = t->query,
		.nhdr = t->nhdr, .hdr = t->hdr, .payload = t->body,
		.payload_len = t->body_len,
	};

	return rq;
}

static ssize_t
treq_find(const struct treq *t, const char *name)
{
	for (size_t i = 0; i < t->nhdr; i++)
		if (strcasecmp(t->hdr[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Set (replace or add) a header; value copied. */
static void
treq_set(struct treq *t, const char *name, const char *value)
{
	ssize_t i = treq_find(t, name);

	if (i < 0) {
		ck_assert_uint_lt(t->nhdr, MAXH);
		i = (ssize_t)t->nhdr++;
		t->hdr[i].name = name;
	}
	free(t->own[i]);
	t->own[i] = xstrdup(value);
	t->hdr[i].value = t->own[i];
}

static void
treq_del(struct treq *t, const char *name)
{
	ssize_t i = treq_find(t, name);

	if (i < 0)
		return;
	free(t->own[i]);
	for (size_t j = (size_t)i; j + 1 < t->nhdr; j++) {
		t->hdr[j] = t->hdr[j + 1];
		t->own[j] = t->own[j + 1];
	}
	t->nhdr--;
	t->own[t->nhdr] = NULL;
}

/* ---- key lookup used by the tests ---- */

struct tkey {
	char	akid[128];
	char	secret[128];
	char	account[16];
	char	token[1024];
};

/* Copies, so entries outlive the test that added them (CK_FORK=no). */
static struct tkey tkeys[8] = {
	{ SUITE_AKID, SUITE_SECRET, "111122223333", "" },
	{ "test", "test", "000000000000", "" },
};
static int tkeys_skip;	/* answer every key with skip_signature */

static int
tlookup(void *arg, const char *akid, struct sigv4_secret *out)
{
	(void)arg;
	if (tkeys_skip) {
		snprintf(out->account, sizeof(out->account), "000000000000");
		out->skip_signature = 1;
		return 0;
	}
	for (size_t i = 0; i < 8 && tkeys[i].akid[0]; i++) {
		if (strcmp(tkeys[i].akid, akid) != 0)
			continue;
		snprintf(out->secret, sizeof(out->secret), "%s",
		    tkeys[i].secret);
		snprintf(out->account, sizeof(out->account), "%s",
		    tkeys[i].account);
		snprintf(out->token, sizeof(out->token), "%s",
		    tkeys[i].token);
		return 0;
	}
	return -ENOENT;
}

static void
tkeys_add(const char *akid, const char *secret, const char *account,
    const char *token)
{
	for (size_t i = 0; i < 8; i++) {
		if (tkeys[i].akid[0] && strcmp(tkeys[i].akid, akid) != 0)
			continue;
		snprintf(tkeys[i].akid, sizeof(tkeys[i].akid), "%s", akid);
		snprintf(tkeys[i].secret, sizeof(tkeys[i].secret), "%s",
		    secret);
		snprintf(tkeys[i].account, sizeof(tkeys[i].account), "%s",
		    account);
		snprintf(tkeys[i].token, sizeof(tkeys[i].token), "%s",
		    token ? token : "");
		return;
	}
	ck_abort_msg("key table full");
}

/* ---- the AWS test suite ---- */

static const char *const suite_names[] = {
	"get-header-key-duplicate",
	"get-header-value-order",
	"get-header-value-trim",
	"get-space",
	"get-unreserved",
	"get-utf8",
	"get-vanilla",
	"get-vanilla-empty-query-key",
	"get-vanilla-query",
	"get-vanilla-query-order-key",
	"get-vanilla-query-order-key-case",
	"get-vanilla-query-order-value",
	"get-vanilla-query-unreserved",
	"get-vanilla-utf8-query",
	"normalize-path-get-relative",
	"normalize-path-get-relative-relative",
	"normalize-path-get-slash",
	"normalize-path-get-slash-dot-slash",
	"normalize-path-get-slash-pointless-dot",
	"normalize-path-get-slashes",
	"normalize-path-get-space",
	"post-header-key-case",
	"post-header-key-sort",
	"post-header-value-case",
	"post-sts-header-before",
	"post-vanilla",
	"post-vanilla-empty-query-value",
	"post-vanilla-query",
	"post-x-www-form-urlencoded",
	"post-x-www-form-urlencoded-parameters",
};
#define NSUITE (sizeof(suite_names) / sizeof(suite_names[0]))

/* The ';' list of every header name, sorted, lowercase, unique. */
static char *
all_signed(const struct treq *t)
{
	char *names[MAXH], *out, *tmp;
	size_t n = 0, i, j;

	for (i = 0; i < t->nhdr; i++) {
		names[n] = xstrdup(t->hdr[i].name);
		for (char *c = names[n]; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		n++;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			tmp = names[j];
			names[j] = names[j - 1];
			names[j - 1] = tmp;
		}
	out = xstrdup("");
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0) {
			tmp = xasprintf("%s%s%s", out, *out ? ";" : "",
			    names[i]);
			free(out);
			out = tmp;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return out;
}

START_TEST(sigv4_suite_stages_match)
{
	const char *name = suite_names[_i];
	char path[512], *creq, *sts, *authz, *got = NULL, *gsts = NULL;
	char *sh, sig[65], *gauthz;
	struct treq t;
	struct sigv4_req rq;

	snprintf(path, sizeof(path), FIX "suite/%s/req", name);
	treq_parse(&t, path);
	snprintf(path, sizeof(path), FIX "suite/%s/creq", name);
	creq = read_fixture(path, NULL);
	snprintf(path, sizeof(path), FIX "suite/%s/sts", name);
	sts = read_fixture(path, NULL);
	snprintf(path, sizeof(path), FIX "suite/%s/authz", name);
	authz = read_fixture(path, NULL);

	rq = treq_view(&t);
	sh = all_signed(&t);
	ck_assert_int_eq(sigv4_canonical_request(&rq, sh, 0, &got), 0);
	ck_assert_msg(strcmp(got, creq) == 0, "%s: creq\n%s\n--- want\n%s",
	    name, got, creq);
	ck_assert_int_eq(sigv4_string_to_sign(got, "20150830T123600Z",
	    "us-east-1", "service", &gsts), 0);
	ck_assert_msg(strcmp(gsts, sts) == 0, "%s: sts\n%s\n--- want\n%s",
	    name, gsts, sts);
	ck_assert_int_eq(sigv4_signature(SUITE_SECRET, "20150830T123600Z",
	    "us-east-1", "service", gsts, sig), 0);
	gauthz = xasprintf("AWS4-HMAC-SHA256 Credential=" SUITE_AKID
	    "/20150830/us-east-1/service/aws4_request, SignedHeaders=%s, "
	    "Signature=%s", sh, sig);
	ck_assert_str_eq(gauthz, authz);
	free(gauthz);
	free(sh);
	free(got);
	free(gsts);
	free(creq);
	free(sts);
	free(authz);
	treq_free(&t);
}
END_TEST

START_TEST(sigv4_suite_verify_ok)
{
	const char *name = suite_names[_i];
	char path[512], *authz;
	struct treq t;
	struct sigv4_req rq;
	struct sigv4_result res;
	int rc;

	snprintf(path, sizeof(path), FIX "suite/%s/req", name);
	treq_parse(&t, path);
	snprintf(path, sizeof(path), FIX "suite/%s/authz", name);
	authz = read_fixture(path, NULL);
	treq_set(&t, "Authorization", authz);
	rq = treq_view(&t);
	tkeys_skip = 0;
	rc = sigv4_verify(&rq, SUITE_TIME, 0, tlookup, NULL, &res);
	ck_assert_msg(rc == 0 && res.status == SIGV4_OK, "%s: %s (%s)", name,
	    sigv4_status_name(res.status), res.message);
	ck_assert_str_eq(res.akid, SUITE_AKID);
	ck_assert_str_eq(res.region, "us-east-1");
	ck_assert_str_eq(res.service, "service");
	ck_assert_str_eq(res.account, "111122223333");
	ck_assert_int_eq(res.date, SUITE_TIME);
	free(authz);
	treq_free(&t);
}
END_TEST

/* sigv4_sign on the request without X-Amz-Date gives the suite's value. */
START_TEST(sigv4_suite_sign_reproduces)
{
	const char *name = suite_names[_i];
	char path[512], *authz;
	struct treq t;
	struct sigv4_req rq;
	struct sigv4_key key;
	struct sigv4_signed sg;
	ssize_t ti;

	snprintf(path, sizeof(path), FIX "suite/%s/req", name);
	treq_parse(&t, path);
	snprintf(path, sizeof(path), FIX "suite/%s/authz", name);
	authz = read_fixture(path, NULL);
	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), SUITE_AKID);
	snprintf(key.secret, sizeof(key.secret), SUITE_SECRET);
	ti = treq_find(&t, "X-Amz-Security-Token");
	if (ti >= 0) {
		snprintf(key.token, sizeof(key.token), "%s",
		    t.hdr[ti].value);
		treq_del(&t, "X-Amz-Security-Token");
	}
	treq_del(&t, "X-Amz-Date");
	rq = treq_view(&t);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "service",
	    SUITE_TIME, &sg), 0);
	ck_assert_str_eq(sg.amz_date, "20150830T123600Z");
	ck_assert_str_eq(sg.authorization, authz);
	ck_assert_int_eq(sg.add_token, ti >= 0);
	ck_assert_int_eq(sg.add_content_sha, 0);
	free(authz);
	treq_free(&t);
}
END_TEST

/* ---- captured botocore requests ---- */

static const char *const cap_names[] = {
	"create-file-system",
	"create-file-system-token",
	"describe-file-systems",
	"describe-file-systems-token",
	/* S3 (path not normalized, payload hash header) from here on */
	"s3-list-objects",
	"s3-put-object",
};
#define NCAP (sizeof(cap_names) / sizeof(cap_names[0]))
#define NCAP_FSX 4	/* the FSx ones: JSON body, X-Amz-Target signed */

struct cap {
	struct treq	t;
	char		akid[128], secret[128], account[16], token[1024];
	char		region[64], service[64];
	long long	when;
	char		*kbuf;
};

static void
cap_load(struct cap *c, const char *name)
{
	char path[512];

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), FIX "captured/%s/req", name);
	treq_parse(&c->t, path);
	snprintf(path, sizeof(path), FIX "captured/%s/key", name);
	c->kbuf = read_fixture(path, NULL);
	ck_assert_int_eq(sscanf(c->kbuf, "%127s %127s %15s %1023s %63s %63s "
	    "%lld", c->akid, c->secret, c->account, c->token, c->region,
	    c->service, &c->when), 7);
	if (strcmp(c->token, "-") == 0)
		c->token[0] = '\0';
	tkeys_skip = 0;
	tkeys_add(c->akid, c->secret, c->account,
	    c->token[0] ? c->token : NULL);
}

static void
cap_free(struct cap *c)
{
	treq_free(&c->t);
	free(c->kbuf);
}

static enum sigv4_status
cap_verify(struct cap *c, long long now, struct sigv4_result *res)
{
	struct sigv4_req rq = treq_view(&c->t);
	int rc = sigv4_verify(&rq, (time_t)now, 0, tlookup, NULL, res);

	ck_assert_int_eq(rc == 0, res->status == SIGV4_OK);
	/* No message ever carries the secret or the signature. */
	if (strlen(c->secret) >= 8)	/* "test" is also the access key */
		ck_assert_ptr_null(strstr(res->message, c->secret));
	{
		ssize_t ai = treq_find(&c->t, "Authorization");
		const char *s = ai >= 0 ?
		    strstr(c->t.hdr[ai].value, "Signature=") : NULL;

		if (s != NULL && strlen(s + 10) >= 64) {
			char sig[65];

			memcpy(sig, s + 10, 64);
			sig[64] = '\0';
			ck_assert_ptr_null(strstr(res->message, sig));
		}
	}
	return res->status;
}

START_TEST(sigv4_captured_verify_ok)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	ck_assert_msg(cap_verify(&c, c.when, &res) == SIGV4_OK, "%s: %s",
	    cap_names[_i], res.message);
	ck_assert_str_eq(res.akid, c.akid);
	ck_assert_str_eq(res.region, c.region);
	ck_assert_str_eq(res.service, c.service);
	ck_assert_str_eq(res.account, c.account);
	/* Inside the window on both sides. */
	ck_assert_int_eq(cap_verify(&c, c.when + 299, &res), SIGV4_OK);
	ck_assert_int_eq(cap_verify(&c, c.when - 299, &res), SIGV4_OK);
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_flipped_body_mismatch)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	ck_assert_uint_gt(c.t.body_len, 0);
	c.t.body[c.t.body_len / 2] ^= 0x01;
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	ck_assert_str_eq(res.message, "The request signature we calculated "
	    "does not match the signature you provided. Check your AWS "
	    "Secret Access Key and signing method. Consult the service "
	    "documentation for details.");
	ck_assert_str_eq(sigv4_status_code(res.status),
	    "InvalidSignatureException");
	cap_free(&c);
}
END_TEST

/* S3: the body must match X-Amz-Content-Sha256; the key path matters. */
START_TEST(sigv4_captured_s3_content_sha_mismatch)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, "s3-put-object");
	c.t.body[0] = 'j';
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	c.t.body[0] = 'h';
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_OK);
	c.t.path[5] = 'D';	/* "/bkt/dir/..." -> "/bkt/Dir/..." */
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	cap_free(&c);

	cap_load(&c, "s3-list-objects");
	c.t.query[0] = 'L';	/* list-type -> List-type */
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_wrong_secret_mismatch)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	tkeys_add(c.akid, "not-the-secret", c.account,
	    c.token[0] ? c.token : NULL);
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	ck_assert_str_eq(res.account, "");
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_tampered_signed_header_mismatch)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	treq_set(&c.t, "X-Amz-Target",
	    "AWSSimbaAPIService_v20180301.DeleteFileSystem");
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISMATCH);
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_unsigned_header_ignored)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	treq_set(&c.t, "User-Agent", "something else");
	treq_set(&c.t, "X-Forwarded-For", "10.0.0.1");
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_OK);
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_shifted_time_expired_or_not_yet)
{
	struct cap c;
	struct sigv4_result res;
	char d[17], lo[17], hi[17], now[17], want[512];

	cap_load(&c, cap_names[_i]);
	sigv4_format_date((time_t)c.when, d);

	/* Server clock 6 minutes later: expired. */
	sigv4_format_date((time_t)(c.when + 360), now);
	sigv4_format_date((time_t)(c.when + 60), lo);
	ck_assert_int_eq(cap_verify(&c, c.when + 360, &res), SIGV4_EXPIRED);
	snprintf(want, sizeof(want), "Signature expired: %s is now earlier "
	    "than %s (%s - 5 min.)", d, lo, now);
	ck_assert_str_eq(res.message, want);

	/* Server clock 6 minutes earlier: not yet current. */
	sigv4_format_date((time_t)(c.when - 360), now);
	sigv4_format_date((time_t)(c.when - 60), hi);
	ck_assert_int_eq(cap_verify(&c, c.when - 360, &res), SIGV4_NOT_YET);
	snprintf(want, sizeof(want), "Signature not yet current: %s is still "
	    "later than %s (%s + 5 min.)", d, hi, now);
	ck_assert_str_eq(res.message, want);
	ck_assert_str_eq(sigv4_status_code(res.status),
	    "InvalidSignatureException");
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_unknown_key)
{
	struct cap c;
	struct sigv4_result res;
	ssize_t ai;
	char *a, *p;

	cap_load(&c, cap_names[_i]);
	ai = treq_find(&c.t, "Authorization");
	a = xstrdup(c.t.hdr[ai].value);
	p = strstr(a, "Credential=");
	ck_assert_ptr_nonnull(p);
	p[11] = 'Z';		/* first letter of the access key */
	treq_set(&c.t, "Authorization", a);
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_UNKNOWN_KEY);
	ck_assert_str_eq(res.message,
	    "The security token included in the request is invalid.");
	ck_assert_str_eq(sigv4_status_code(res.status),
	    "UnrecognizedClientException");
	free(a);
	cap_free(&c);
}
END_TEST

/* A token-bound key: wrong token, no token. Others: key gains a token. */
START_TEST(sigv4_captured_wrong_token)
{
	struct cap c;
	struct sigv4_result res;

	cap_load(&c, cap_names[_i]);
	if (c.token[0] != '\0') {
		treq_set(&c.t, "X-Amz-Security-Token", "AQoDYXdzEwrong");
		ck_assert_int_eq(cap_verify(&c, c.when, &res),
		    SIGV4_BAD_TOKEN);
		treq_del(&c.t, "X-Amz-Security-Token");
		ck_assert_int_eq(cap_verify(&c, c.when, &res),
		    SIGV4_BAD_TOKEN);
	} else {
		tkeys_add(c.akid, c.secret, c.account, "RequiredToken");
		ck_assert_int_eq(cap_verify(&c, c.when, &res),
		    SIGV4_BAD_TOKEN);
	}
	ck_assert_str_eq(res.message,
	    "The security token included in the request is invalid.");
	cap_free(&c);
}
END_TEST

START_TEST(sigv4_captured_missing_parts_incomplete)
{
	struct cap c;
	struct sigv4_result res;
	ssize_t ai;
	char *orig, *a;

	cap_load(&c, cap_names[_i]);
	ai = treq_find(&c.t, "Authorization");
	orig = xstrdup(c.t.hdr[ai].value);

	/* No Signature= */
	a = xstrdup(orig);
	*strstr(a, ", Signature=") = '\0';
	treq_set(&c.t, "Authorization", a);
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_INCOMPLETE);
	ck_assert_msg(starts_with(res.message, "Authorization header requires "
	    "'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "
	    "Credential="), "%s", res.message);
	ck_assert_str_eq(sigv4_status_code(res.status),
	    "IncompleteSignatureException");
	free(a);

	/* No Credential= and no Signature= */
	a = xstrdup(strstr(orig, "SignedHeaders="));
	*strstr(a, ", Signature=") = '\0';
	{
		char *b = xasprintf("AWS4-HMAC-SHA256 %s", a);

		treq_set(&c.t, "Authorization", b);
		free(b);
	}
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_INCOMPLETE);
	ck_assert_msg(starts_with(res.message, "Authorization header requires "
	    "'Credential' parameter. Authorization header requires "
	    "'Signature' parameter. Authorization=AWS4-HMAC-SHA256 "
	    "SignedHeaders="), "%s", res.message);
	free(a);

	/* No date header at all. */
	treq_set(&c.t, "Authorization", orig);
	treq_del(&c.t, "X-Amz-Date");
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_INCOMPLETE);
	ck_assert_msg(strstr(res.message, "Authorization header requires "
	    "existence of either a 'X-Amz-Date' or a 'Date' header.") != NULL,
	    "%s", res.message);
	/* The echoed header never shows the signature. */
	ck_assert_ptr_nonnull(strstr(res.message, "Signature=***"));

	/* No Authorization header: missing. */
	treq_del(&c.t, "Authorization");
	ck_assert_int_eq(cap_verify(&c, c.when, &res), SIGV4_MISSING);
	ck_assert_str_eq(res.message, "Missing Authentication Token");
	ck_assert_str_eq(sigv4_status_code(res.status),
	    "MissingAuthenticationTokenException");
	free(orig);
	cap_free(&c);
}
END_TEST

/* sigv4_sign over the headers botocore signed gives botocore's value. */
START_TEST(sigv4_captured_sign_reproduces_botocore)
{
	struct cap c;
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_hdr h[MAXH];
	struct sigv4_req rq;
	const char *authz, *sh;
	size_t nh = 0;
	ssize_t ai;

	cap_load(&c, cap_names[_i]);
	ai = treq_find(&c.t, "Authorization");
	authz = c.t.hdr[ai].value;
	sh = strstr(authz, "SignedHeaders=");
	ck_assert_ptr_nonnull(sh);
	sh += 14;
	for (size_t i = 0; i < c.t.nhdr; i++) {
		const char *n = c.t.hdr[i].name;
		const char *p = sh;
		size_t len = strlen(n);
		int found = 0;

		/* keep the headers named in SignedHeaders */
		while (*p && *p != ',') {
			size_t l = strcspn(p, ";,");

			if (l == len && strncasecmp(p, n, l) == 0)
				found = 1;
			p += l;
			if (*p == ';')
				p++;
		}
		if (found)
			h[nh++] = c.t.hdr[i];
	}
	rq = treq_view(&c.t);
	rq.hdr = h;
	rq.nhdr = nh;
	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "%s", c.akid);
	snprintf(key.secret, sizeof(key.secret), "%s", c.secret);
	snprintf(key.token, sizeof(key.token), "%s", c.token);
	ck_assert_int_eq(sigv4_sign(&rq, &key, c.region, c.service,
	    (time_t)c.when, &sg), 0);
	ck_assert_str_eq(sg.authorization, authz);
	cap_free(&c);
}
END_TEST

/* ---- Authorization parsing and messages ---- */

static struct treq vt;

static void
vt_setup(const char *authz, const char *date)
{
	static char buf[] = "";

	memset(&vt, 0, sizeof(vt));
	vt.method = (char *)"POST";
	vt.path = (char *)"/";
	vt.query = buf;
	vt.body = buf;
	treq_set(&vt, "Host", "localhost:4566");
	if (date)
		treq_set(&vt, "X-Amz-Date", date);
	if (authz)
		treq_set(&vt, "Authorization", authz);
}

static enum sigv4_status
vt_verify(time_t now, struct sigv4_result *res)
{
	struct sigv4_req rq = treq_view(&vt);

	tkeys_skip = 0;
	sigv4_verify(&rq, now, 0, tlookup, NULL, res);
	return res->status;
}

START_TEST(sigv4_verify_expired_message_matches_aws)
{
	struct sigv4_result res;
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_req rq;
	time_t signed_at = 1556611052;	/* 20190430T075732Z */
	time_t now = 1556621949;	/* 20190430T105909Z */

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "test");
	snprintf(key.secret, sizeof(key.secret), "test");
	vt_setup(NULL, NULL);
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "fsx", signed_at,
	    &sg), 0);
	treq_set(&vt, "X-Amz-Date", sg.amz_date);
	treq_set(&vt, "Authorization", sg.authorization);
	ck_assert_int_eq(vt_verify(now, &res), SIGV4_EXPIRED);
	ck_assert_str_eq(res.message, "Signature expired: 20190430T075732Z "
	    "is now earlier than 20190430T105409Z (20190430T105909Z - 5 min.)");
	/* The mirror case from AWS's docs. */
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "fsx",
	    1556625549 /* 20190430T115909Z */, &sg), 0);
	treq_set(&vt, "X-Amz-Date", sg.amz_date);
	treq_set(&vt, "Authorization", sg.authorization);
	ck_assert_int_eq(vt_verify(now, &res), SIGV4_NOT_YET);
	ck_assert_str_eq(res.message, "Signature not yet current: "
	    "20190430T115909Z is still later than 20190430T110409Z "
	    "(20190430T105909Z + 5 min.)");
	treq_free(&vt);
}
END_TEST

START_TEST(sigv4_verify_malformed_incomplete)
{
	static const char *const bad[] = {
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/fsx/"
		    "aws4_request",
		"AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/fsx, "
		    "SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/fsx/"
		    "aws5_request, SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/2024051/us-east-1/fsx/"
		    "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=/20240517/us-east-1/fsx/"
		    "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/fsx/"
		    "aws4_request, SignedHeaders=x-amz-date, Signature=00",
		"AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/fsx/"
		    "aws4_request, SignedHeaders=host, Signature=00, junk",
		"AWS4-HMAC-SHA256 Credential=test/20240517//fsx/"
		    "aws4_request, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA1 Credential=test/20240517/us-east-1/fsx/"
		    "aws4_request, SignedHeaders=host, Signature=00",
		"Basic dGVzdDp0ZXN0",
		"",
		"  ,,, ",
		"AWS4-HMAC-SHA256 Credential==, SignedHeaders==, Signature==",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g, SignedHeaders=host,"
		    " Signature=00",
	};
	struct sigv4_result res;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vt_setup(bad[i], "20240517T093015Z");
		ck_assert_msg(vt_verify(1715938215, &res) == SIGV4_INCOMPLETE,
		    "case %zu: %s (%s)", i, sigv4_status_name(res.status),
		    res.message);
		ck_assert_str_ne(res.message, "");
		treq_free(&vt);
	}
}
END_TEST

START_TEST(sigv4_verify_bad_date_incomplete)
{
	static const char a[] = "AWS4-HMAC-SHA256 Credential=test/20240517/"
	    "us-east-1/fsx/aws4_request, SignedHeaders=host;x-amz-date, "
	    "Signature=0000000000000000000000000000000000000000000000000000"
	    "000000000000";
	static const char *const dates[] = {
		"2024-05-17T09:30:15Z", "20240517T093015", "20241317T093015Z",
		"2024051TT093015Z", "", "20240517T093015Z ",
	};
	struct sigv4_result res;

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		vt_setup(a, dates[i]);
		ck_assert_msg(vt_verify(1715938215, &res) == SIGV4_INCOMPLETE,
		    "case %zu: %s", i, res.message);
		treq_free(&vt);
	}
}
END_TEST

START_TEST(sigv4_verify_scope_date_mismatch)
{
	struct sigv4_result res;

	vt_setup("AWS4-HMAC-SHA256 Credential=test/20240516/us-east-1/fsx/"
	    "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	    "20240517T093015Z");
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_MISMATCH);
	ck_assert_str_eq(res.message, "Date in Credential scope does not "
	    "match YYYYMMDD from ISO-8601 version of date from HTTP: "
	    "'20240516' != '20240517', from '20240517T093015Z'.");
	treq_free(&vt);
}
END_TEST

/* Spaces instead of ", ", extra commas, any order: all accepted. */
START_TEST(sigv4_verify_tolerates_spacing)
{
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_result res;
	struct sigv4_req rq;
	char sig[65], *a;
	const char *s;

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "test");
	snprintf(key.secret, sizeof(key.secret), "test");
	vt_setup(NULL, NULL);
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "fsx", 1715938215,
	    &sg), 0);
	s = strstr(sg.authorization, "Signature=") + 10;
	memcpy(sig, s, 64);
	sig[64] = '\0';
	treq_set(&vt, "X-Amz-Date", sg.amz_date);
	a = xasprintf("  AWS4-HMAC-SHA256   Signature=%s ,,SignedHeaders="
	    "host;x-amz-date\tCredential=test/20240517/us-east-1/fsx/"
	    "aws4_request ", sig);
	treq_set(&vt, "Authorization", a);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_OK);
	free(a);
	treq_free(&vt);
}
END_TEST

/* The Date header is accepted when X-Amz-Date is absent. */
START_TEST(sigv4_verify_http_date_header)
{
	struct sigv4_result res;
	char sig[65], *creq = NULL, *sts = NULL, *a;
	struct sigv4_req rq;

	vt_setup(NULL, NULL);
	treq_set(&vt, "Date", "Fri, 17 May 2024 09:30:15 GMT");
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_canonical_request(&rq, "date;host", 0, &creq),
	    0);
	ck_assert_int_eq(sigv4_string_to_sign(creq, "20240517T093015Z",
	    "us-east-1", "fsx", &sts), 0);
	ck_assert_int_eq(sigv4_signature("test", "20240517T093015Z",
	    "us-east-1", "fsx", sts, sig), 0);
	a = xasprintf("AWS4-HMAC-SHA256 Credential=test/20240517/us-east-1/"
	    "fsx/aws4_request, SignedHeaders=date;host, Signature=%s", sig);
	treq_set(&vt, "Authorization", a);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_OK);
	ck_assert_str_eq(res.account, "000000000000");
	free(a);
	free(creq);
	free(sts);
	treq_free(&vt);
}
END_TEST

/* skip_signature keys: any signature, but the rest is still checked. */
START_TEST(sigv4_verify_skip_signature_still_checks_form)
{
	struct sigv4_result res;
	struct sigv4_req rq;

	vt_setup("AWS4-HMAC-SHA256 Credential=whatever/20240517/us-east-1/"
	    "fsx/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
	    "20240517T093015Z");
	rq = treq_view(&vt);
	tkeys_skip = 1;
	sigv4_verify(&rq, 1715938215, 0, tlookup, NULL, &res);
	ck_assert_int_eq(res.status, SIGV4_OK);
	ck_assert_str_eq(res.akid, "whatever");
	sigv4_verify(&rq, 1715938215 + 3600, 0, tlookup, NULL, &res);
	ck_assert_int_eq(res.status, SIGV4_EXPIRED);
	tkeys_skip = 0;
	treq_free(&vt);
}
END_TEST

/* A hashed X-Amz-Content-Sha256 must match the body. */
START_TEST(sigv4_verify_content_sha_checked)
{
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_result res;
	struct sigv4_req rq;
	static char body[] = "{\"a\":1}";

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "test");
	snprintf(key.secret, sizeof(key.secret), "test");
	vt_setup(NULL, NULL);
	vt.body = body;
	vt.body_len = strlen(body);
	treq_set(&vt, "X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb9"
	    "2427ae41e4649b934ca495991b7852b855");	/* the empty hash */
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "s3", 1715938215,
	    &sg), 0);
	ck_assert_int_eq(sg.add_content_sha, 0);
	treq_set(&vt, "X-Amz-Date", sg.amz_date);
	treq_set(&vt, "Authorization", sg.authorization);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_MISMATCH);
	/* UNSIGNED-PAYLOAD is taken as is. */
	treq_set(&vt, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
	treq_del(&vt, "Authorization");
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "s3", 1715938215,
	    &sg), 0);
	treq_set(&vt, "Authorization", sg.authorization);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_OK);
	treq_free(&vt);
}
END_TEST

/* ---- signing ---- */

/* S3 paths: not normalized, encoded once (already-encoded stays). */
START_TEST(sigv4_sign_s3_path_single_encoded)
{
	struct sigv4_hdr h[] = { { "Host", "b.s3.amazonaws.com" } };
	struct sigv4_req rq = {
		.method = "GET", .path = "/a%20b/./c//d~e%2Fx+y!", .query = "",
		.nhdr = 1, .hdr = h,
	};
	char *creq = NULL;

	ck_assert_int_eq(sigv4_canonical_request(&rq, "host", SIGV4_F_S3,
	    &creq), 0);
	ck_assert_str_eq(creq, "GET\n/a%20b/./c//d~e%2Fx%2By%21\n\n"
	    "host:b.s3.amazonaws.com\n\nhost\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(creq);
	/* Other services: normalized, then encoded again. */
	ck_assert_int_eq(sigv4_canonical_request(&rq, "host", 0, &creq), 0);
	ck_assert_str_eq(creq, "GET\n/a%2520b/c/d~e%252Fx%2By%21\n\n"
	    "host:b.s3.amazonaws.com\n\nhost\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(creq);
}
END_TEST

START_TEST(sigv4_sign_query_encoded_and_sorted)
{
	struct sigv4_hdr h[] = { { "Host", "h" } };
	struct sigv4_req rq = {
		.method = "get", .path = "", .nhdr = 1, .hdr = h,
		.query = "prefix=a%2Fb c&list-type=2&&acl&x=%zz&b=2&b=1",
	};
	char *creq = NULL;

	ck_assert_int_eq(sigv4_canonical_request(&rq, "host", SIGV4_F_S3,
	    &creq), 0);
	ck_assert_str_eq(creq, "GET\n/\nacl=&b=1&b=2&list-type=2&"
	    "prefix=a%2Fb%20c&x=%25zz\nhost:h\n\nhost\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(creq);
}
END_TEST

START_TEST(sigv4_sign_verify_roundtrip)
{
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_result res;
	struct sigv4_req rq;
	static char body[] = "{\"FileSystemType\":\"LUSTRE\"}";

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), SUITE_AKID);
	snprintf(key.secret, sizeof(key.secret), SUITE_SECRET);
	snprintf(key.token, sizeof(key.token), "SessionTok/+=");
	tkeys_add(SUITE_AKID, SUITE_SECRET, "111122223333", "SessionTok/+=");
	vt_setup(NULL, NULL);
	vt.body = body;
	vt.body_len = strlen(body);
	treq_set(&vt, "Content-Type", "application/x-amz-json-1.1");
	treq_set(&vt, "X-Amz-Target",
	    "AWSSimbaAPIService_v20180301.CreateFileSystem");
	treq_set(&vt, "User-Agent", "fsx-local");
	vt.query = (char *)"";
	rq = treq_view(&vt);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "ap-south-1", "fsx",
	    1715938215, &sg), 0);
	ck_assert_int_eq(sg.add_token, 1);
	ck_assert_ptr_nonnull(strstr(sg.authorization, "SignedHeaders="
	    "content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "));
	treq_set(&vt, "X-Amz-Date", sg.amz_date);
	treq_set(&vt, "X-Amz-Security-Token", key.token);
	treq_set(&vt, "Authorization", sg.authorization);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_OK);
	ck_assert_str_eq(res.region, "ap-south-1");
	ck_assert_str_eq(res.account, "111122223333");
	treq_free(&vt);
	tkeys_add(SUITE_AKID, SUITE_SECRET, "111122223333", NULL);
}
END_TEST

/*
 * The signature with the signing key derived from scratch by OpenSSL's
 * HMAC(), independent of sigv4.c and of its per-thread key cache.
 */
static void
ref_signature(const char *secret, const char *date8, const char *region,
    const char *service, const char *sts, char out[65])
{
	const char *parts[4] = { date8, region, service, "aws4_request" };
	unsigned char k[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	unsigned int klen = 0, slen = 0;
	char k0[128];

	snprintf(k0, sizeof(k0), "AWS4%s", secret);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), k0, (int)strlen(k0),
	    (const unsigned char *)parts[0], strlen(parts[0]), k, &klen));
	for (int i = 1; i < 4; i++)
		ck_assert_ptr_nonnull(HMAC(EVP_sha256(), k, (int)klen,
		    (const unsigned char *)parts[i], strlen(parts[i]), k, &klen));
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), k, (int)klen,
	    (const unsigned char *)sts, strlen(sts), sig, &slen));
	for (unsigned int i = 0; i < slen; i++)
		sprintf(out + 2 * i, "%02x", sig[i]);
}

/*
 * The signing-key cache (one per thread) is keyed by secret, date, region
 * and service: a request that differs in any one of them must not reuse
 * the previous key, and going back must give the first key again.
 */
START_TEST(sigv4_key_cache_keyed_by_all_parts)
{
	static const struct {
		const char *secret, *date, *region, *service;
	} v[] = {
		{ "secret-a", "20260101T000000Z", "us-east-1", "fsx" },
		{ "secret-a", "20260101T000000Z", "us-east-1", "fsx" },	/* hit */
		{ "secret-b", "20260101T000000Z", "us-east-1", "fsx" },
		{ "secret-a", "20260102T000000Z", "us-east-1", "fsx" },
		{ "secret-a", "20260102T000000Z", "eu-west-1", "fsx" },
		{ "secret-a", "20260102T000000Z", "eu-west-1", "s3" },
		/* same length and prefix, last byte differs */
		{ "secret-c", "20260102T000000Z", "eu-west-1", "s3" },
		{ "secret-a", "20260101T000000Z", "us-east-1", "fsx" },	/* back */
	};
	const char *sts = "AWS4-HMAC-SHA256\n20260101T000000Z\n"
	    "20260101/us-east-1/fsx/aws4_request\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char got[65], want[65], prev[65] = "";

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char date8[9];

		memcpy(date8, v[i].date, 8);
		date8[8] = '\0';
		ck_assert_int_eq(sigv4_signature(v[i].secret, v[i].date,
		    v[i].region, v[i].service, sts, got), 0);
		ref_signature(v[i].secret, date8, v[i].region, v[i].service,
		    sts, want);
		ck_assert_msg(strcmp(got, want) == 0, "case %zu: %s != %s", i,
		    got, want);
		if (i != 1)
			ck_assert_str_ne(got, prev);
		else
			ck_assert_str_eq(got, prev);
		snprintf(prev, sizeof(prev), "%s", got);
	}
}
END_TEST

/*
 * A cached signing key is kept as its HMAC pad states: each message
 * signed with it (empty, one block, many blocks, across the 55/56-byte
 * padding edge) must still give RFC 2104's HMAC, on a hit as on a miss.
 */
START_TEST(sigv4_cached_key_signs_any_message)
{
	static const size_t lens[] = { 0, 1, 55, 56, 63, 64, 65, 119, 120,
	    200, 1000 };
	char msg[1001], got[65], want[65];

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (size_t j = 0; j < lens[i]; j++)
				msg[j] = (char)('a' + (j * 7 + i + round) % 26);
			msg[lens[i]] = '\0';
			ck_assert_int_eq(sigv4_signature("cached-secret",
			    "20260301T000000Z", "us-east-1", "fsx", msg, got), 0);
			ref_signature("cached-secret", "20260301", "us-east-1",
			    "fsx", msg, want);
			ck_assert_msg(strcmp(got, want) == 0, "len %zu: %s != %s",
			    lens[i], got, want);
		}
		/* round 2 starts from another key: a miss, then hits again */
		ck_assert_int_eq(sigv4_signature("other", "20260301T000000Z",
		    "us-east-1", "fsx", "x", got), 0);
	}
}
END_TEST

START_TEST(sigv4_sign_rejects_bad_arguments)
{
	struct sigv4_key key;
	struct sigv4_signed sg;
	struct sigv4_hdr h[] = { { "X-Other", "1" } };
	struct sigv4_req rq = {
		.method = "GET", .path = "/", .query = "", .nhdr = 1, .hdr = h,
	};
	struct sigv4_hdr hh[] = { { "Host", "h" } };

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "test");
	snprintf(key.secret, sizeof(key.secret), "test");
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "fsx", 0, &sg),
	    -EINVAL);	/* no Host */
	rq.hdr = hh;
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us/east", "fsx", 0, &sg),
	    -EINVAL);
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "", 0, &sg),
	    -EINVAL);
	snprintf(key.akid, sizeof(key.akid), "a b");
	ck_assert_int_eq(sigv4_sign(&rq, &key, "us-east-1", "fsx", 0, &sg),
	    -EINVAL);
}
END_TEST

/* Turn a curl_slist into request headers and verify it. */
START_TEST(sigv4_sign_curl_headers_verify)
{
	static const char *const extra[] = {
		"Content-Type: application/x-amz-json-1.1",
		"X-Amz-Target: AWSSimbaAPIService_v20180301.DescribeFileSystems",
		NULL
	};
	static char body[] = "{}";
	struct sigv4_key key;
	struct sigv4_result res;
	struct curl_slist *l, *p;
	char *lines[16];
	size_t n = 0;
	int saw_host = 0, saw_sha = 0;

	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "test");
	snprintf(key.secret, sizeof(key.secret), "test");
	l = sigv4_curl_headers("POST", "http://LocalHost:4566/?a=b#frag",
	    extra, body, 2, &key, "us-east-1", "fsx", 1715938215);
	ck_assert_ptr_nonnull(l);
	memset(&vt, 0, sizeof(vt));
	vt.method = (char *)"POST";
	vt.path = (char *)"/";
	vt.query = (char *)"a=b";
	vt.body = body;
	vt.body_len = 2;
	for (p = l; p; p = p->next) {
		char *c;

		ck_assert_uint_lt(n, 16);
		lines[n] = xstrdup(p->data);
		c = strchr(lines[n], ':');
		ck_assert_ptr_nonnull(c);
		*c++ = '\0';
		while (*c == ' ')
			c++;
		vt.hdr[vt.nhdr].name = lines[n];
		vt.hdr[vt.nhdr].value = c;
		vt.nhdr++;
		if (strcmp(lines[n], "Host") == 0) {
			ck_assert_str_eq(c, "localhost:4566");
			saw_host = 1;
		}
		if (strcmp(lines[n], "X-Amz-Content-Sha256") == 0)
			saw_sha = 1;
		n++;
	}
	ck_assert(saw_host);
	ck_assert(!saw_sha);
	ck_assert_int_eq(vt_verify(1715938215, &res), SIGV4_OK);
	curl_slist_free_all(l);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);

	/* s3: X-Amz-Content-Sha256 present, token added, default port gone. */
	snprintf(key.token, sizeof(key.token), "tok");
	l = sigv4_curl_headers("PUT", "https://bucket.s3.example:443/k%20ey",
	    NULL, "x", 1, &key, "us-east-1", "s3", 1715938215);
	ck_assert_ptr_nonnull(l);
	saw_host = saw_sha = 0;
	for (p = l; p; p = p->next) {
		if (strcmp(p->data, "Host: bucket.s3.example") == 0)
			saw_host = 1;
		if (strcmp(p->data, "X-Amz-Content-Sha256: 2d711642b726b04401627"
		    "ca9fbac32f5c8530fb1903cc4db02258717921a4881") == 0)
			saw_sha = 1;
		if (strcmp(p->data, "X-Amz-Security-Token: tok") == 0)
			saw_sha |= 2;
	}
	ck_assert(saw_host);
	ck_assert_int_eq(saw_sha, 3);
	curl_slist_free_all(l);

	ck_assert_ptr_null(sigv4_curl_headers("GET", "localhost:4566/", NULL,
	    NULL, 0, &key, "us-east-1", "s3", 0));
	ck_assert_ptr_null(sigv4_curl_headers("GET", "http://h:99999/", NULL,
	    NULL, 0, &key, "us-east-1", "s3", 0));
	ck_assert_ptr_null(sigv4_curl_headers("GET", "ftp://h/", NULL,
	    NULL, 0, &key, "us-east-1", "s3", 0));
}
END_TEST

/* Hostile bytes: never crash, never OK. */
START_TEST(sigv4_verify_garbage_never_ok)
{
	struct sigv4_result res;
	char a[600];
	unsigned int seed = 12345;

	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(rand_r(&seed) % (sizeof(a) - 1));

		memcpy(a, "AWS4-HMAC-SHA256 ", 17);
		for (size_t j = 17; j < n; j++) {
			static const char al[] = "Credential=SignedHeaders="
			    "Signature=/;,  aws4_request20240517host\t\x01\xff";

			a[j] = al[rand_r(&seed) % (sizeof(al) - 1)];
		}
		a[n > 17 ? n : 17] = '\0';
		vt_setup(a, (i & 1) ? "20240517T093015Z" : NULL);
		ck_assert_int_ne(vt_verify(1715938215, &res), SIGV4_OK);
		treq_free(&vt);
	}
}
END_TEST

/* ---- creds ---- */

static char tdir[64];

static char *
tfile(const char *name, const char *text)
{
	char *p;

	if (tdir[0] == '\0') {
		snprintf(tdir, sizeof(tdir), "/tmp/check_sigv4.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(tdir));
	}
	p = xasprintf("%s/%s", tdir, name);
	ck_assert_int_eq(file_write_atomic(p, text, strlen(text)), 0);
	return p;
}

static void
tdir_clean(void)
{
	if (tdir[0] != '\0')
		rm_rf(tdir);
	tdir[0] = '\0';
}

START_TEST(creds_default_pair_present)
{
	struct creds *c = creds_new(0);
	struct sigv4_secret s;

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(creds_count(c), 1);
	ck_assert_int_eq(creds_lookup(c, "test", &s), 0);
	ck_assert_str_eq(s.secret, "test");
	ck_assert_str_eq(s.account, "000000000000");
	ck_assert_str_eq(s.token, "");
	ck_assert_int_eq(s.skip_signature, 0);
	ck_assert_int_eq(creds_lookup(c, "nobody", &s), -ENOENT);
	creds_free(c);
	c = creds_new(CREDS_F_NO_DEFAULT);
	ck_assert_uint_eq(creds_count(c), 0);
	ck_assert_int_eq(creds_lookup(c, "test", &s), -ENOENT);
	creds_free(c);
	creds_free(NULL);
}
END_TEST

START_TEST(creds_add_validates_fields)
{
	struct creds *c = creds_new(CREDS_F_NO_DEFAULT);
	char big[200];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(creds_add(c, "AK", "S", "123456789012", NULL), 0);
	ck_assert_int_eq(creds_add(c, "AK", "S", "12345678901", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "AK", "S", "12345678901x", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "", "S", "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "A K", "S", "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "A/K", "S", "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, big, "S", "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "AK", big, "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "AK", "", "123456789012", NULL),
	    -EINVAL);
	ck_assert_int_eq(creds_add(c, "AK", "S", "123456789012", "t k"),
	    -EINVAL);
	/* Replacing keeps one entry. */
	ck_assert_int_eq(creds_add(c, "AK", "S2", "210987654321", "tok"), 0);
	ck_assert_uint_eq(creds_count(c), 1);
	creds_free(c);
}
END_TEST

START_TEST(creds_load_file_parses_lines)
{
	struct creds *c = creds_new(0);
	struct sigv4_secret s;
	char *p;

	p = tfile("good", "# fsxd credentials\n\n"
	    "AKIA1 secret/one+1 111111111111   # trailing comment\n"
	    "\tAKIA2\tsecret2\t222222222222\tTOKEN/+=\r\n"
	    "test othersecret 333333333333\n"
	    "   \n");
	ck_assert_int_eq(creds_load_file(c, p), 0);
	ck_assert_uint_eq(creds_count(c), 3);
	ck_assert_int_eq(creds_lookup(c, "AKIA1", &s), 0);
	ck_assert_str_eq(s.secret, "secret/one+1");
	ck_assert_str_eq(s.account, "111111111111");
	ck_assert_int_eq(creds_lookup(c, "AKIA2", &s), 0);
	ck_assert_str_eq(s.token, "TOKEN/+=");
	ck_assert_int_eq(creds_lookup(c, "test", &s), 0);
	ck_assert_str_eq(s.secret, "othersecret");	/* file replaces */
	free(p);
	p = tfile("bad1", "AKIA1 secret\n");
	ck_assert_int_eq(creds_load_file(c, p), -EINVAL);
	free(p);
	p = tfile("bad2", "AKIA1 secret 1111 extra toomany\n");
	ck_assert_int_eq(creds_load_file(c, p), -EINVAL);
	free(p);
	p = tfile("bad3", "AKIA1 secret notanaccount\n");
	ck_assert_int_eq(creds_load_file(c, p), -EINVAL);
	free(p);
	p = xasprintf("%s/missing", tdir);
	ck_assert_int_eq(creds_load_file(c, p), -ENOENT);
	free(p);
	creds_free(c);
	tdir_clean();
}
END_TEST

START_TEST(creds_load_env_parses_entries)
{
	struct creds *c = creds_new(0);
	struct sigv4_secret s;

	ck_assert_int_eq(creds_load_env(c, NULL), 0);
	ck_assert_int_eq(creds_load_env(c, "AK1:S1/+:111111111111, "
	    "AK2:S2:222222222222:TOK==,,"), 0);
	ck_assert_uint_eq(creds_count(c), 3);
	ck_assert_int_eq(creds_lookup(c, "AK1", &s), 0);
	ck_assert_str_eq(s.secret, "S1/+");
	ck_assert_int_eq(creds_lookup(c, "AK2", &s), 0);
	ck_assert_str_eq(s.account, "222222222222");
	ck_assert_str_eq(s.token, "TOK==");
	ck_assert_int_eq(creds_load_env(c, "AK3:S3"), -EINVAL);
	ck_assert_int_eq(creds_load_env(c, "AK3:S3:1:2:3"), -EINVAL);
	ck_assert_int_eq(creds_load_env(c, "AK3:S3:abcdefghijkl"), -EINVAL);
	creds_free(c);
}
END_TEST

START_TEST(creds_any_key_maps_account)
{
	struct creds *c = creds_new(CREDS_F_ANY_KEY);
	struct sigv4_secret s;

	ck_assert_int_eq(creds_add(c, "KNOWN", "k", "444444444444", "tok"),
	    0);
	ck_assert_int_eq(creds_lookup(c, "AKIARANDOM123", &s), 0);
	ck_assert_str_eq(s.account, "000000000000");
	ck_assert_int_eq(s.skip_signature, 1);
	ck_assert_int_eq(creds_lookup(c, "123456789012", &s), 0);
	ck_assert_str_eq(s.account, "123456789012");
	ck_assert_int_eq(creds_lookup(c, "1234567890123", &s), 0);
	ck_assert_str_eq(s.account, "000000000000");
	ck_assert_int_eq(creds_lookup(c, "KNOWN", &s), 0);
	ck_assert_str_eq(s.account, "444444444444");
	ck_assert_int_eq(s.skip_signature, 1);
	creds_free(c);
}
END_TEST

/* The global store through sigv4_verify, as fsxd uses it. */
START_TEST(creds_init_global_verifies_captured)
{
	struct cap cp;
	struct sigv4_result res;
	struct sigv4_req rq;
	char *p;

	p = tfile("creds", "AKIAFSXLOCAL0EXAMPLE "
	    "fsxLocalSecret/Key+0123456789abcdEXAMPLE 123456789012\n");
	setenv("FSXD_CREDENTIALS", "ASIAFSXLOCAL0SESSION:sessionSecret"
	    "0123456789:210987654321:FwoGZXIvYXdzEJr//////////wEaDEXAMPLE"
	    "TOKENfsxlocal+/=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ", 1);
	ck_assert_int_eq(creds_init(p, 0), 0);
	for (size_t i = 0; i < NCAP_FSX; i++) {
		cap_load(&cp, cap_names[i]);
		rq = treq_view(&cp.t);
		sigv4_verify(&rq, (time_t)cp.when, 0, creds_lookup, NULL,
		    &res);
		ck_assert_msg(res.status == SIGV4_OK, "%s: %s", cap_names[i],
		    res.message);
		ck_assert_str_eq(res.account, cp.account);
		/* A wrong body fails with real keys... */
		cp.t.body[0] ^= 1;
		sigv4_verify(&rq, (time_t)cp.when, 0, creds_lookup, NULL,
		    &res);
		ck_assert_int_eq(res.status, SIGV4_MISMATCH);
		cap_free(&cp);
	}
	/* ...and passes in any-key mode, with FSXD_DEFAULT_CREDENTIALS=0. */
	setenv("FSXD_DEFAULT_CREDENTIALS", "0", 1);
	ck_assert_int_eq(creds_init(NULL, 1), 0);
	cap_load(&cp, "describe-file-systems");
	cp.t.body[0] ^= 1;
	rq = treq_view(&cp.t);
	sigv4_verify(&rq, (time_t)cp.when, 0, creds_lookup, NULL, &res);
	ck_assert_int_eq(res.status, SIGV4_OK);
	ck_assert_str_eq(res.account, "000000000000");
	sigv4_verify(&rq, (time_t)cp.when + 900, 0, creds_lookup, NULL,
	    &res);
	ck_assert_int_eq(res.status, SIGV4_EXPIRED);
	cap_free(&cp);
	/* A bad file fails init and keeps the previous store. */
	free(p);
	p = tfile("creds-bad", "only two\n");
	ck_assert_int_eq(creds_init(p, 0), -EINVAL);
	/* fsxd hands FSXD_CREDENTIALS over as the file: inline list... */
	unsetenv("FSXD_DEFAULT_CREDENTIALS");
	setenv("FSXD_CREDENTIALS", "AKX:SX:555555555555", 1);
	ck_assert_int_eq(creds_init(getenv("FSXD_CREDENTIALS"), 0), 0);
	{
		struct sigv4_secret s;

		ck_assert_int_eq(creds_lookup(NULL, "AKX", &s), 0);
		ck_assert_str_eq(s.account, "555555555555");
		ck_assert_int_eq(creds_lookup(NULL, "test", &s), 0);
	}
	/* ...or a file name, in either place. */
	free(p);
	p = tfile("creds:2", "AKY SY 666666666666\n");
	setenv("FSXD_CREDENTIALS", p, 1);
	ck_assert_int_eq(creds_init(NULL, 0), 0);
	ck_assert_int_eq(creds_lookup(NULL, "AKY", &(struct sigv4_secret){0}),
	    0);
	ck_assert_int_eq(creds_init(p, 0), 0);
	ck_assert_int_eq(creds_lookup(NULL, "AKY", &(struct sigv4_secret){0}),
	    0);
	creds_fini();
	ck_assert_int_eq(creds_lookup(NULL, "test", &(struct sigv4_secret){0}),
	    -ENOENT);
	unsetenv("FSXD_CREDENTIALS");
	unsetenv("FSXD_DEFAULT_CREDENTIALS");
	free(p);
	tdir_clean();
}
END_TEST

static void
client_env_clear(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}

START_TEST(creds_client_from_env_order)
{
	struct sigv4_key k;
	char *cf, *home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;

	client_env_clear();
	setenv("HOME", "/nonexistent-fsx-home", 1);
	ck_assert_int_eq(creds_client_from_env(&k), 0);
	ck_assert_str_eq(k.akid, "test");
	ck_assert_str_eq(k.secret, "test");
	ck_assert_str_eq(k.token, "");

	cf = tfile("credentials", "[default]\naws_access_key_id = AKDEF\n"
	    "aws_secret_access_key=SDEF\n\n[dev]\n  aws_access_key_id = AKDEV"
	    "  \naws_secret_access_key = SDEV/+\naws_session_token = TDEV\n"
	    "[broken\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cf, 1);
	ck_assert_int_eq(creds_client_from_env(&k), 0);
	ck_assert_str_eq(k.akid, "AKDEF");
	ck_assert_str_eq(k.secret, "SDEF");
	setenv("AWS_PROFILE", "dev", 1);
	ck_assert_int_eq(creds_client_from_env(&k), 0);
	ck_assert_str_eq(k.akid, "AKDEV");
	ck_assert_str_eq(k.secret, "SDEV/+");
	ck_assert_str_eq(k.token, "TDEV");
	setenv("AWS_PROFILE", "absent", 1);
	ck_assert_int_eq(creds_client_from_env(&k), 0);
	ck_assert_str_eq(k.akid, "test");

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SENV", 1);
	setenv("AWS_SESSION_TOKEN", "TENV", 1);
	ck_assert_int_eq(creds_client_from_env(&k), 0);
	ck_assert_str_eq(k.akid, "AKENV");
	ck_assert_str_eq(k.secret, "SENV");
	ck_assert_str_eq(k.token, "TENV");
	client_env_clear();
	if (home) {
		setenv("HOME", home, 1);
		free(home);
	}
	free(cf);
	tdir_clean();
}
END_TEST

START_TEST(creds_client_region_order)
{
	char r[64], small[4];
	char *cf;

	client_env_clear();
	setenv("AWS_CONFIG_FILE", "/nonexistent-fsx-config", 1);
	ck_assert_int_eq(creds_client_region(r, sizeof(r)), 0);
	ck_assert_str_eq(r, "us-east-1");
	ck_assert_int_eq(creds_client_region(small, sizeof(small)),
	    -ENAMETOOLONG);
	cf = tfile("config", "[default]\nregion = eu-west-3\n"
	    "[profile dev]\noutput = json\nregion=ap-southeast-2\n");
	setenv("AWS_CONFIG_FILE", cf, 1);
	ck_assert_int_eq(creds_client_region(r, sizeof(r)), 0);
	ck_assert_str_eq(r, "eu-west-3");
	setenv("AWS_PROFILE", "dev", 1);
	ck_assert_int_eq(creds_client_region(r, sizeof(r)), 0);
	ck_assert_str_eq(r, "ap-southeast-2");
	setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
	ck_assert_int_eq(creds_client_region(r, sizeof(r)), 0);
	ck_assert_str_eq(r, "ca-central-1");
	setenv("AWS_REGION", "sa-east-1", 1);
	ck_assert_int_eq(creds_client_region(r, sizeof(r)), 0);
	ck_assert_str_eq(r, "sa-east-1");
	client_env_clear();
	free(cf);
	tdir_clean();
}
END_TEST

Suite	*sigv4_suite(void);

Suite *
sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("suite");

	tcase_add_loop_test(tc, sigv4_suite_stages_match, 0, NSUITE);
	tcase_add_loop_test(tc, sigv4_suite_verify_ok, 0, NSUITE);
	tcase_add_loop_test(tc, sigv4_suite_sign_reproduces, 0, NSUITE);
	suite_add_tcase(s, tc);

	tc = tcase_create("captured");
	tcase_add_loop_test(tc, sigv4_captured_verify_ok, 0, NCAP);
	tcase_add_loop_test(tc, sigv4_captured_flipped_body_mismatch, 0,
	    NCAP_FSX);
	tcase_add_test(tc, sigv4_captured_s3_content_sha_mismatch);
	tcase_add_loop_test(tc, sigv4_captured_wrong_secret_mismatch, 0, NCAP);
	tcase_add_loop_test(tc, sigv4_captured_tampered_signed_header_mismatch,
	    0, NCAP_FSX);
	tcase_add_loop_test(tc, sigv4_captured_unsigned_header_ignored, 0,
	    NCAP);
	tcase_add_loop_test(tc, sigv4_captured_shifted_time_expired_or_not_yet,
	    0, NCAP);
	tcase_add_loop_test(tc, sigv4_captured_unknown_key, 0, NCAP);
	tcase_add_loop_test(tc, sigv4_captured_wrong_token, 0, NCAP);
	tcase_add_loop_test(tc, sigv4_captured_missing_parts_incomplete, 0,
	    NCAP);
	tcase_add_loop_test(tc, sigv4_captured_sign_reproduces_botocore, 0,
	    NCAP);
	suite_add_tcase(s, tc);

	tc = tcase_create("verify");
	tcase_add_test(tc, sigv4_verify_expired_message_matches_aws);
	tcase_add_test(tc, sigv4_verify_malformed_incomplete);
	tcase_add_test(tc, sigv4_verify_bad_date_incomplete);
	tcase_add_test(tc, sigv4_verify_scope_date_mismatch);
	tcase_add_test(tc, sigv4_verify_tolerates_spacing);
	tcase_add_test(tc, sigv4_verify_http_date_header);
	tcase_add_test(tc, sigv4_verify_skip_signature_still_checks_form);
	tcase_add_test(tc, sigv4_verify_content_sha_checked);
	tcase_add_test(tc, sigv4_verify_garbage_never_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_test(tc, sigv4_sign_s3_path_single_encoded);
	tcase_add_test(tc, sigv4_sign_query_encoded_and_sorted);
	tcase_add_test(tc, sigv4_sign_verify_roundtrip);
	tcase_add_test(tc, sigv4_sign_rejects_bad_arguments);
	tcase_add_test(tc, sigv4_key_cache_keyed_by_all_parts);
	tcase_add_test(tc, sigv4_cached_key_signs_any_message);
	tcase_add_test(tc, sigv4_sign_curl_headers_verify);
	suite_add_tcase(s, tc);

	tc = tcase_create("creds");
	tcase_add_test(tc, creds_default_pair_present);
	tcase_add_test(tc, creds_add_validates_fields);
	tcase_add_test(tc, creds_load_file_parses_lines);
	tcase_add_test(tc, creds_load_env_parses_entries);
	tcase_add_test(tc, creds_any_key_maps_account);
	tcase_add_test(tc, creds_init_global_verifies_captured);
	tcase_add_test(tc, creds_client_from_env_order);
	tcase_add_test(tc, creds_client_region_order);
	suite_add_tcase(s, tc);
	return s;
}
