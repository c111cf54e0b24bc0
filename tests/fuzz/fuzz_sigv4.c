/*
 * Fuzz target: the SigV4 verifier (src/auth/sigv4.c). The input is a raw
 * HTTP request; it is split as a server would and verified at the time its
 * own X-Amz-Date names (so well-formed seeds get as far as the signature
 * comparison), with the fixtures' keys. Also built: the canonical request
 * for the SignedHeaders the input claims, and a signature of the request.
 * Checks: the verdict and the return value agree, and no message carries
 * a secret the request did not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4.h"
#include "fuzz.h"

static time_t
amz_time(const char *v)
{
	struct tm tm;
	const char *e;

	if (v == NULL)
		return 1440938160;	/* 20150830T123600Z, the suite's */
	memset(&tm, 0, sizeof(tm));
	e = strptime(v, "%Y%m%dT%H%M%SZ", &tm);
	if (e == NULL)
		return 1440938160;
	return timegm(&tm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_http f;
	struct sigv4_req rq;
	struct sigv4_result res;
	struct sigv4_key key;
	struct sigv4_signed sg;
	const char *auth, *sh;
	char *creq = NULL;
	int rc;

	if (size > 256 * 1024 || fuzz_http_parse(data, size, &f) < 0)
		return 0;
	memset(&rq, 0, sizeof(rq));
	rq.method = f.method;
	rq.path = f.path;
	rq.query = f.query;
	rq.hdr = f.hdr;
	rq.nhdr = f.nhdr;
	rq.payload = f.body;
	rq.payload_len = f.body_len;
	rc = sigv4_verify(&rq, amz_time(fuzz_http_hdr(&f, "X-Amz-Date")), 0,
	    fuzz_sigv4_lookup, NULL, &res);
	if ((rc == 0) != (res.status == SIGV4_OK))
		abort();
	/* a secret in a message must have come from the request itself */
	if ((strstr(res.message, "wJalrXUtnFEMI") != NULL ||
	    strstr(res.message, "fsxLocalSecret") != NULL) &&
	    memmem(data, size, "wJalrXUtnFEMI", 13) == NULL &&
	    memmem(data, size, "fsxLocalSecret", 14) == NULL)
		abort();
	(void)sigv4_status_code(res.status);
	auth = fuzz_http_hdr(&f, "Authorization");
	sh = auth ? strstr(auth, "SignedHeaders=") : NULL;
	if (sh != NULL) {
		char names[1024];

		snprintf(names, sizeof(names), "%.*s",
		    (int)strcspn(sh + 14, ", "), sh + 14);
		if (sigv4_canonical_request(&rq, names, 0, &creq) == 0)
			free(creq);
		creq = NULL;
		if (sigv4_canonical_request(&rq, names, SIGV4_F_S3, &creq) == 0)
			free(creq);
	}
	memset(&key, 0, sizeof(key));
	snprintf(key.akid, sizeof(key.akid), "AKIDEXAMPLE");
	snprintf(key.secret, sizeof(key.secret), "secret");
	(void)sigv4_sign(&rq, &key, res.region[0] ? res.region : "us-east-1",
	    res.service[0] ? res.service : "fsx", 1440938160, &sg);
	fuzz_http_free(&f);
	return 0;
}
