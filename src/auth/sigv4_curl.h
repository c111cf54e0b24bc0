/*
 * libcurl convenience for the SigV4 signer (sigv4.h): the signed headers
 * of one request as a curl_slist. Defined in sigv4_curl.c, which only
 * binaries that sign with libcurl (fsx-mount, the tests) pull in.
 */
#ifndef FSX_SIGV4_CURL_H
#define FSX_SIGV4_CURL_H

#include <stddef.h>
#include <time.h>

struct sigv4_key;

/*
 * libcurl convenience: sign "method url" with body and the extra headers
 * ("Name: value", NULL-terminated list, may be NULL). Returns a new list
 * with every header to set -- Host, the extra headers, X-Amz-Date,
 * X-Amz-Content-Sha256 (s3), X-Amz-Security-Token (with a token) and
 * Authorization -- for CURLOPT_HTTPHEADER; free with curl_slist_free_all.
 * NULL on a bad URL/arguments or out of memory.
 */
struct curl_slist;
struct curl_slist *sigv4_curl_headers(const char *method, const char *url,
	    const char *const *extra_headers, const void *body, size_t len,
	    const struct sigv4_key *key, const char *region,
	    const char *service, time_t now);

#endif
