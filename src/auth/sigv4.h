/*
 * AWS Signature Version 4: one module that verifies (fsxd, for every API
 * request) and signs (fsx-mount, the S3 client).
 *
 * The canonical request follows AWS's rules exactly:
 *   - path: for every service but S3 the raw path is normalized (dot
 *     segments and empty segments removed) and then URI-encoded again
 *     ("double encoding": a '%' becomes "%25"). For S3 the path is not
 *     normalized; each segment is percent-decoded and re-encoded once, so a
 *     path sent already encoded comes out unchanged.
 *   - query: pairs split on '&', each key and value percent-decoded and
 *     re-encoded, sorted by key then value; "k" alone is "k=".
 *   - headers: lowercase names, values trimmed with runs of white space
 *     collapsed to one space, repeated headers joined with ',' in order.
 *   - payload: the X-Amz-Content-Sha256 header value when present
 *     (UNSIGNED-PAYLOAD, or a hex hash that must then match the body when
 *     verifying), else the hex SHA-256 of the body.
 * The S3 rules apply when the service is "s3".
 *
 * Nothing here logs, and no message ever contains a secret or signature.
 */
#ifndef FSX_SIGV4_H
#define FSX_SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_NHDR_MAX		512		/* headers per request, signed or verified */
#define SIGV4_ALGO		"AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_SKEW_DEFAULT	300	/* seconds, AWS's "5 min." */

#define SIGV4_AKID_MAX		128	/* buffer sizes, with the NUL */
#define SIGV4_SECRET_MAX	128
#define SIGV4_TOKEN_MAX		4096
#define SIGV4_SCOPE_PART_MAX	64	/* region, service */
#define SIGV4_ACCOUNT_MAX	16	/* 12 digits */
#define SIGV4_MSG_MAX		1024

#define SIGV4_F_S3		0x1	/* S3 path rules (no normalization) */

/* One header as received or to be sent; duplicates allowed, in order. */
struct sigv4_hdr {
	const char	*name;
	const char	*value;
};

/* A borrowed view of one HTTP request. */
struct sigv4_req {
	const char		*method;
	const char		*path;	/* raw URI path as sent, "/" if empty */
	const char		*query;	/* raw query without '?', "" if none */
	size_t			 nhdr;
	const struct sigv4_hdr	*hdr;
	const void		*payload;
	size_t			 payload_len;
};

/* Client credentials; token[0] == '\0' means no session token. */
struct sigv4_key {
	char	akid[SIGV4_AKID_MAX];
	char	secret[SIGV4_SECRET_MAX];
	char	token[SIGV4_TOKEN_MAX];
};

/*
 * What a verifier's key lookup gives back. token[0] == '\0': no session
 * token required. skip_signature: the key is accepted without comparing
 * the signature (creds' any-key mode; see creds.h).
 */
struct sigv4_secret {
	char	secret[SIGV4_SECRET_MAX];
	char	account[SIGV4_ACCOUNT_MAX];
	char	token[SIGV4_TOKEN_MAX];
	int	skip_signature;
};

/*
 * Look up an access key: 0 and *out filled, or -ENOENT for an unknown key
 * (any other negative errno is treated the same way). Must be thread-safe
 * when the verifier is called from several threads.
 */
typedef int (*sigv4_lookup_fn)(void *arg, const char *akid,
    struct sigv4_secret *out);

enum sigv4_status {
	SIGV4_OK = 0,
	SIGV4_MISSING,		/* MissingAuthenticationTokenException */
	SIGV4_INCOMPLETE,	/* IncompleteSignatureException */
	SIGV4_MISMATCH,		/* InvalidSignatureException */
	SIGV4_EXPIRED,		/* InvalidSignatureException */
	SIGV4_NOT_YET,		/* InvalidSignatureException */
	SIGV4_UNKNOWN_KEY,	/* UnrecognizedClientException */
	SIGV4_BAD_TOKEN		/* UnrecognizedClientException */
};

/*
 * The verdict. Identity fields are filled as far as parsing got (akid,
 * region, service from the Authorization header; account only on OK).
 */
struct sigv4_result {
	enum sigv4_status	status;
	char			message[SIGV4_MSG_MAX];
	char			akid[SIGV4_AKID_MAX];
	char			region[SIGV4_SCOPE_PART_MAX];
	char			service[SIGV4_SCOPE_PART_MAX];
	char			account[SIGV4_ACCOUNT_MAX];
	char			amz_date[17];	/* YYYYMMDDTHHMMSSZ */
	time_t			date;		/* the request's signing time */
};

/* What sigv4_sign() produces: headers the caller must add. */
struct sigv4_signed {
	char	amz_date[17];		/* X-Amz-Date */
	char	payload_hash[65];	/* X-Amz-Content-Sha256 (s3) */
	char	authorization[1024];	/* Authorization */
	int	add_token;		/* add X-Amz-Security-Token: key->token */
	int	add_content_sha;	/* add X-Amz-Content-Sha256 (s3) */
};

/*
 * Check one request. now: the server's clock; skew_sec <= 0 means
 * SIGV4_SKEW_DEFAULT. Always fills *res; returns 0 when res->status is
 * SIGV4_OK, else -EACCES. The caller should also check res->service.
 */
int	 sigv4_verify(const struct sigv4_req *rq, time_t now, int skew_sec,
	    sigv4_lookup_fn lookup, void *arg, struct sigv4_result *res);

/*
 * Sign a request at time now. Every header of rq is signed except the
 * hop-by-hop ones botocore leaves out (user-agent, expect, connection,
 * transfer-encoding, ...) and except Authorization, X-Amz-Date,
 * X-Amz-Security-Token and (for s3) X-Amz-Content-Sha256 which the signer
 * supplies itself; a Host header must be among rq's headers. For s3 the
 * payload hash is sent as X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD when rq's
 * own X-Amz-Content-Sha256 header says so). Returns 0 or -EINVAL
 * (no Host, bad arguments), -E2BIG (request too large to sign).
 */
int	 sigv4_sign(const struct sigv4_req *rq, const struct sigv4_key *key,
	    const char *region, const char *service, time_t now,
	    struct sigv4_signed *out);

/*
 * The stages, exposed for tests and debugging. signed_headers is the
 * ';'-separated list of lowercase names to include. *out is a new
 * NUL-terminated string (free()). Return 0 or -errno.
 */
int	 sigv4_canonical_request(const struct sigv4_req *rq,
	    const char *signed_headers, int flags, char **out);
int	 sigv4_string_to_sign(const char *canonical_request,
	    const char *amz_date, const char *region, const char *service,
	    char **out);
int	 sigv4_signature(const char *secret, const char *amz_date,
	    const char *region, const char *service, const char *sts,
	    char out[65]);

/* AWS's error code for a status, e.g. "InvalidSignatureException". */
const char	*sigv4_status_code(enum sigv4_status st);
/* A short name for logs, e.g. "expired". */
const char	*sigv4_status_name(enum sigv4_status st);
/* Format t as YYYYMMDDTHHMMSSZ (UTC); out holds 17 bytes. */
void		 sigv4_format_date(time_t t, char out[17]);

/* The libcurl convenience, sigv4_curl_headers(): sigv4_curl.h. */
#include "auth/sigv4_curl.h"

#endif
