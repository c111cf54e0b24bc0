/*
 * An S3 client on libcurl, signed by the project's one SigV4 module
 * (src/auth/sigv4.h). What the data-repository features need and no more:
 * HeadBucket, ListObjectsV2 (every page), HeadObject, GetObject by range,
 * PutObject, multipart upload (aborted on failure), DeleteObject,
 * CopyObject (UploadPartCopy parts above conf.copy_max).
 *
 * Contract:
 *  - Nothing is buffered whole: GETs stream to a callback, PUTs stream from
 *    a file descriptor (UNSIGNED-PAYLOAD), a multipart upload holds one
 *    part per stream (S3_PART_STREAMS parts go at once, each stream with
 *    a client of its own: s3_put_fd starts threads).
 *  - Every byte from the endpoint is hostile: XML is read by a bounded
 *    scanner (s3_xml.c), sizes and counts are range-checked, a listing page
 *    is at most S3_LIST_PAGE keys, keys at most S3_KEY_MAX bytes.
 *  - Retries: 5xx, 429, SlowDown, RequestTimeout and transport errors are
 *    retried with exponential backoff and jitter up to conf.max_retries; a
 *    GET that delivered bytes to its callback is not retried (the caller
 *    asks again for the rest).
 *  - Errors: functions return 0 or a negative errno and fill struct
 *    s3_error with the HTTP status, S3's Code and Message (or a transport
 *    description). -ENOENT: NoSuchBucket/NoSuchKey/404; -EACCES: 403;
 *    -EAGAIN: retries exhausted on a retryable failure; -EIO otherwise.
 *  - Thread safety: one s3_client per thread (it owns a curl easy handle).
 */
#ifndef FSX_S3_H
#define FSX_S3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "auth/sigv4.h"

#define S3_KEY_MAX		1024	/* S3's own limit, bytes */
#define S3_LIST_PAGE		1000
#define S3_PART_MIN		(5ull << 20)
#define S3_PART_DEFAULT		(16ull << 20)
#define S3_PART_STREAMS		4	/* parts of an upload at once */
#define S3_PARTS_MAX		10000
#define S3_META_MAX		16	/* user metadata pairs kept */
#define S3_COPY_MAX		(5ull << 30)	/* S3's: one CopyObject or part */
#define S3_COPY_PART		(1ull << 30)	/* a big copy's parts */

struct s3_conf {
	char		 endpoint[512];	/* scheme://host[:port], no trailing / */
	char		 region[64];
	struct sigv4_key key;
	int		 path_style;	/* 1: endpoint/bucket/key; 0: bucket.host */
	int		 max_retries;	/* default 4 */
	int		 timeout_ms;	/* per attempt, default 30000 */
	uint64_t	 part_size;	/* multipart part, default 16 MiB */
	uint64_t	 copy_max;	/* one CopyObject up to this, part
					   copies above; default and at most
					   S3_COPY_MAX, at least S3_PART_MIN */
};

/*
 * Fill c from the SDKs' environment: AWS_ENDPOINT_URL_S3, else
 * AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com;
 * AWS_REGION / AWS_DEFAULT_REGION (default us-east-1); AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Path style unless the endpoint
 * is AWS's. Fields already set (non-empty) are kept, so flags and config
 * files applied first win. 0 or -EINVAL (no credentials, bad endpoint).
 */
int	s3_conf_env(struct s3_conf *c);

struct s3_error {
	long	status;		/* HTTP status, 0 for transport errors */
	char	code[64];	/* S3's Code, e.g. NoSuchBucket */
	char	message[512];
};

struct s3_meta {
	char	name[64];	/* lower case, without x-amz-meta- */
	char	value[256];
};

struct s3_object {
	char		key[S3_KEY_MAX + 1];
	uint64_t	size;
	time_t		mtime;
	char		etag[80];	/* without quotes */
	struct s3_meta	meta[S3_META_MAX];	/* HeadObject only */
	int		nmeta;
	int		meta_cut;	/* HeadObject: a pair (or the
					   Content-Type) not kept whole */
	char		ctype[128];	/* HeadObject: Content-Type */
};

struct s3_client;

struct s3_client *s3_client_new(const struct s3_conf *c);
void	s3_client_free(struct s3_client *s);

int	s3_head_bucket(struct s3_client *s, const char *bucket,
	    struct s3_error *err);

/* Every object under prefix, in key order: fn(arg, obj) for each until it
 * returns non-zero (then 0 is returned). */
typedef int (*s3_list_fn)(void *arg, const struct s3_object *obj);
int	s3_list(struct s3_client *s, const char *bucket, const char *prefix,
	    s3_list_fn fn, void *arg, struct s3_error *err);

int	s3_head_object(struct s3_client *s, const char *bucket, const char *key,
	    struct s3_object *out, struct s3_error *err);

/* Bytes [off, off+len) (len 0: to the end) to fn, in order; fn returns 0
 * or -errno (which aborts the transfer and is returned). */
typedef int (*s3_data_fn)(void *arg, const void *buf, size_t n);
int	s3_get(struct s3_client *s, const char *bucket, const char *key,
	    uint64_t off, uint64_t len, s3_data_fn fn, void *arg,
	    struct s3_error *err);

/* Upload `size` bytes of fd from offset `off` (pread; fd's position is not
 * used) with user metadata; one PUT up to part_size, multipart above (an
 * upload that fails is aborted). */
int	s3_put_fd(struct s3_client *s, const char *bucket, const char *key,
	    int fd, uint64_t off, uint64_t size, const struct s3_meta *meta,
	    int nmeta, struct s3_error *err);
/* A small object from memory (directories' markers, reports). */
int	s3_put_buf(struct s3_client *s, const char *bucket, const char *key,
	    const void *buf, size_t len, const char *content_type,
	    struct s3_error *err);

int	s3_delete(struct s3_client *s, const char *bucket, const char *key,
	    struct s3_error *err);
/* Copy src to dst within bucket, S3 side, user metadata kept. `size` is
 * the caller's idea of src's size: up to conf.copy_max one CopyObject;
 * above, HeadObject (the size, ETag, metadata and Content-Type that
 * count) and a multipart upload of UploadPartCopy ranges (s3_copy_plan),
 * each made on the condition that src's ETag has not changed, aborted on
 * failure. Metadata this client cannot hold whole (over S3_META_MAX
 * pairs, long names or values: meta_cut) is -E2BIG, MetadataTooLarge,
 * rather than a copy that loses some. */
int	s3_copy(struct s3_client *s, const char *bucket, const char *src,
	    const char *dst, uint64_t size, struct s3_error *err);
/* The parts of a multipart copy of `size` bytes under copy_max: parts of
 * copy_max clamped to [S3_PART_MIN, S3_COPY_PART], larger (whole MiB) when
 * that makes over S3_PARTS_MAX. 0, or -EFBIG when a part would pass
 * S3_COPY_MAX. */
int	s3_copy_plan(uint64_t size, uint64_t copy_max, uint64_t *part,
	    uint64_t *nparts);

/* Split "s3://bucket/prefix" into bucket and prefix (may be empty). 0 or
 * -EINVAL. */
int	s3_url_split(const char *url, char *bucket, size_t blen, char *prefix,
	    size_t plen);

/* --- the bounded XML scanner (s3_xml.c), exposed for tests --- */

/*
 * The text of the first <tag>...</tag> at or after *pos inside
 * [doc, doc+len), entity-decoded into out (cap bytes with the NUL; longer
 * text is -E2BIG). *pos moves past the closing tag. 0, -ENOENT (no such
 * element), -E2BIG, or -EBADMSG (malformed).
 */
int	s3_xml_text(const char *doc, size_t len, size_t *pos, const char *tag,
	    char *out, size_t cap);
/* The inner span of the next <tag>...</tag> element at or after *pos:
 * [*start, *end). 0 or -ENOENT / -EBADMSG. */
int	s3_xml_elem(const char *doc, size_t len, size_t *pos, const char *tag,
	    size_t *start, size_t *end);
/* Percent-decode in place (encoding-type=url listings). 0 or -EBADMSG. */
int	s3_url_decode(char *s);
/* RFC 3339 / ISO 8601 UTC ("2026-12-03T11:21:23.000Z") or RFC 1123
 * ("Thu, 03 Dec 2026 11:21:23 GMT") to epoch seconds; -1 when neither. */
time_t	s3_parse_time(const char *s);

#endif
