/*
 * The S3 client (see s3.h): one curl easy handle per client, every request
 * signed with sigv4_curl_headers() and retried by s3_do().
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "s3/s3.h"

#define S3_XML_MAX	(4u << 20)	/* a listing page or error, bytes */
#define S3_URL_MAX	(S3_KEY_MAX * 3 + 2048)
#define S3_BACKOFF_MS	100
#define S3_BACKOFF_MAX	5000

struct s3_client {
	struct s3_conf	 c;
	CURL		*curl;
	char		 host[256];	/* of the endpoint, for virtual hosts */
	char		 scheme[8];
};

/* One request: what to send, where the answer goes. */
struct s3_req {
	const char		*method;
	const char		*bucket;
	const char		*key;		/* NULL: the bucket itself */
	const char		*query;		/* "" or "a=b&c=d", encoded */
	const char *const	*headers;	/* extra "Name: value", NULL-ended */
	/* body: a buffer, or a range of an fd (signed UNSIGNED-PAYLOAD) */
	const void		*body;
	size_t			 body_len;
	int			 fd;		/* -1: none */
	uint64_t		 fd_off, fd_len;
	/* answer: a bounded buffer, or a stream for 2xx bodies */
	s3_data_fn		 sink;
	void			*sink_arg;
	struct s3_object	*head;		/* headers of interest */
	/* state of one attempt */
	struct buf		 xml;
	uint64_t		 sent, delivered;
	int			 sink_rc;
	long			 status;
};

static pthread_once_t s3_once = PTHREAD_ONCE_INIT;

static void
s3_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
copy_env(char *dst, size_t n, const char *name)
{
	const char *v = getenv(name);

	if (dst[0] == '\0' && v != NULL && *v != '\0')
		snprintf(dst, n, "%s", v);
}

int
s3_conf_env(struct s3_conf *c)
{
	size_t n;

	copy_env(c->region, sizeof(c->region), "AWS_REGION");
	copy_env(c->region, sizeof(c->region), "AWS_DEFAULT_REGION");
	if (c->region[0] == '\0')
		snprintf(c->region, sizeof(c->region), "us-east-1");
	copy_env(c->endpoint, sizeof(c->endpoint), "AWS_ENDPOINT_URL_S3");
	copy_env(c->endpoint, sizeof(c->endpoint), "AWS_ENDPOINT_URL");
	if (c->endpoint[0] == '\0') {
		snprintf(c->endpoint, sizeof(c->endpoint),
		    "https://s3.%s.amazonaws.com", c->region);
		c->path_style = 0;
	} else {
		c->path_style = 1;
	}
	n = strlen(c->endpoint);
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	if (strncmp(c->endpoint, "http://", 7) != 0 &&
	    strncmp(c->endpoint, "https://", 8) != 0)
		return -EINVAL;
	copy_env(c->key.akid, sizeof(c->key.akid), "AWS_ACCESS_KEY_ID");
	copy_env(c->key.secret, sizeof(c->key.secret), "AWS_SECRET_ACCESS_KEY");
	copy_env(c->key.token, sizeof(c->key.token), "AWS_SESSION_TOKEN");
	if (c->max_retries <= 0)
		c->max_retries = 4;
	if (c->timeout_ms <= 0)
		c->timeout_ms = 30000;
	if (c->part_size < S3_PART_MIN)
		c->part_size = S3_PART_DEFAULT;
	if (c->copy_max == 0 || c->copy_max > S3_COPY_MAX)
		c->copy_max = S3_COPY_MAX;
	return c->key.akid[0] && c->key.secret[0] ? 0 : -EINVAL;
}

struct s3_client *
s3_client_new(const struct s3_conf *c)
{
	struct s3_client *s;
	const char *h;
	size_t n;

	pthread_once(&s3_once, s3_global_init);
	s = xcalloc(1, sizeof(*s));
	s->c = *c;
	if (s->c.max_retries <= 0)
		s->c.max_retries = 4;
	if (s->c.timeout_ms <= 0)
		s->c.timeout_ms = 30000;
	if (s->c.part_size < S3_PART_MIN)
		s->c.part_size = S3_PART_DEFAULT;
	if (s->c.copy_max == 0 || s->c.copy_max > S3_COPY_MAX)
		s->c.copy_max = S3_COPY_MAX;
	else if (s->c.copy_max < S3_PART_MIN)
		s->c.copy_max = S3_PART_MIN;
	h = strstr(s->c.endpoint, "://");
	if (h == NULL) {
		free(s);
		return NULL;
	}
	n = (size_t)(h - s->c.endpoint);
	snprintf(s->scheme, sizeof(s->scheme), "%.*s", (int)n, s->c.endpoint);
	snprintf(s->host, sizeof(s->host), "%s", h + 3);
	s->curl = curl_easy_init();
	if (s->curl == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
s3_client_free(struct s3_client *s)
{
	if (s == NULL)
		return;
	curl_easy_cleanup(s->curl);
	explicit_bzero(&s->c.key, sizeof(s->c.key));
	free(s);
}

int
s3_url_split(const char *url, char *bucket, size_t blen, char *prefix,
    size_t plen)
{
	const char *b, *slash;
	size_t n;

	if (strncmp(url, "s3://", 5) != 0)
		return -EINVAL;
	b = url + 5;
	slash = strchr(b, '/');
	n = slash ? (size_t)(slash - b) : strlen(b);
	if (n < 3 || n > 63 || n >= blen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) ||
		    b[i] == '-' || b[i] == '.'))
			return -EINVAL;
	memcpy(bucket, b, n);
	bucket[n] = '\0';
	b = slash ? slash + 1 : "";
	if (strlen(b) >= plen || strlen(b) > S3_KEY_MAX)
		return -EINVAL;
	snprintf(prefix, plen, "%s", b);
	return 0;
}

/* Percent-encode s into b: RFC 3986 unreserved kept, '/' kept if keep_slash. */
static void
uri_encode(struct buf *b, const char *s, int keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/'))
			buf_add(b, s, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static char *
s3_url(struct s3_client *s, const struct s3_req *r)
{
	struct buf b;

	buf_init(&b, 256);
	if (s->c.path_style) {
		buf_printf(&b, "%s/%s", s->c.endpoint, r->bucket);
	} else {
		buf_printf(&b, "%s://%s.%s", s->scheme, r->bucket, s->host);
	}
	if (r->key != NULL) {
		buf_add(&b, "/", 1);
		uri_encode(&b, r->key, 1);
	} else if (!s->c.path_style) {
		buf_add(&b, "/", 1);
	}
	if (r->query != NULL && r->query[0] != '\0')
		buf_printf(&b, "?%s", r->query);
	return buf_take(&b);
}

static size_t
s3_write_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct s3_req *r = arg;
	size_t n = sz * nm;

	if (r->sink != NULL && r->status >= 200 && r->status < 300) {
		r->sink_rc = r->sink(r->sink_arg, p, n);
		if (r->sink_rc < 0)
			return 0;		/* abort the transfer */
		r->delivered += n;
		return n;
	}
	if (r->xml.len + n > S3_XML_MAX)
		return 0;
	buf_add(&r->xml, p, n);
	return n;
}

static void
hdr_value(const char *p, size_t n, char *out, size_t cap)
{
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	while (n > 0 && *p == ' ') {
		p++;
		n--;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static size_t
s3_header_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct s3_req *r = arg;
	size_t n = sz * nm;
	const char *colon = memchr(p, ':', n);
	struct s3_object *o = r->head;
	char val[512];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue or a redirect) */
		const char *sp = memchr(p, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return n;
	}
	if (colon == NULL || o == NULL)
		return n;
	hdr_value(colon + 1, n - (size_t)(colon + 1 - p), val, sizeof(val));
	if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		o->size = strtoull(val, NULL, 10);
	} else if ((size_t)(colon - p) == 13 &&
	    strncasecmp(p, "Last-Modified", 13) == 0) {
		time_t t = s3_parse_time(val);

		o->mtime = t < 0 ? 0 : t;
	} else if ((size_t)(colon - p) == 4 && strncasecmp(p, "ETag", 4) == 0) {
		char *v = val + (*val == '"');

		v[strcspn(v, "\"")] = '\0';
		snprintf(o->etag, sizeof(o->etag), "%s", v);
	} else if ((size_t)(colon - p) == 12 &&
	    strncasecmp(p, "Content-Type", 12) == 0) {
		if (strlen(val) < sizeof(o->ctype))
			memcpy(o->ctype, val, strlen(val) + 1);
		else
			o->meta_cut = 1;
	} else if ((size_t)(colon - p) > 11 && strncasecmp(p, "x-amz-meta-", 11) == 0) {
		struct s3_meta *m = &o->meta[o->nmeta];
		size_t l = (size_t)(colon - p) - 11;

		if (o->nmeta >= S3_META_MAX || l >= sizeof(m->name) ||
		    strlen(val) >= sizeof(m->value)) {
			o->meta_cut = 1;	/* not kept whole */
			return n;
		}
		o->nmeta++;
		for (size_t i = 0; i < l; i++)
			m->name[i] = (char)tolower((unsigned char)p[11 + i]);
		m->name[l] = '\0';
		memcpy(m->value, val, strlen(val) + 1);
	}
	return n;
}

static size_t
s3_read_cb(char *p, size_t sz, size_t nm, void *arg)
{
	struct s3_req *r = arg;
	size_t want = sz * nm;
	ssize_t got;

	if (r->sent >= r->fd_len)
		return 0;
	if (want > r->fd_len - r->sent)
		want = (size_t)(r->fd_len - r->sent);
	got = pread(r->fd, p, want, (off_t)(r->fd_off + r->sent));
	if (got <= 0)
		return CURL_READFUNC_ABORT;	/* short file: never send less */
	r->sent += (uint64_t)got;
	return (size_t)got;
}

static void
s3_error_fill(struct s3_req *r, CURLcode cc, struct s3_error *err)
{
	size_t pos = 0;

	memset(err, 0, sizeof(*err));
	err->status = r->status;
	if (cc != CURLE_OK && r->sink_rc == 0) {
		snprintf(err->code, sizeof(err->code), "TransportError");
		snprintf(err->message, sizeof(err->message), "%s",
		    curl_easy_strerror(cc));
		return;
	}
	if (r->xml.len > 0) {
		(void)s3_xml_text(r->xml.p, r->xml.len, &pos, "Code", err->code,
		    sizeof(err->code));
		pos = 0;
		(void)s3_xml_text(r->xml.p, r->xml.len, &pos, "Message",
		    err->message, sizeof(err->message));
	}
	if (err->code[0] == '\0')
		snprintf(err->code, sizeof(err->code), "%s", r->status == 404 ?
		    "NotFound" : r->status == 403 ? "AccessDenied" : "HttpError");
	if (err->message[0] == '\0')
		snprintf(err->message, sizeof(err->message), "HTTP %ld", r->status);
}

static int
s3_retryable(CURLcode cc, const struct s3_error *err)
{
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	    cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
	    cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE)
		return 1;
	return err->status >= 500 || err->status == 429 ||
	    strcmp(err->code, "SlowDown") == 0 ||
	    strcmp(err->code, "RequestTimeout") == 0;
}

static int
s3_errno(const struct s3_error *err)
{
	if (err->status == 404 || strcmp(err->code, "NoSuchBucket") == 0 ||
	    strcmp(err->code, "NoSuchKey") == 0)
		return -ENOENT;
	if (err->status == 403)
		return -EACCES;
	return -EIO;
}

/* One request with retries. 0 (2xx) or -errno with err filled. */
static int
s3_do(struct s3_client *s, struct s3_req *r, struct s3_error *err)
{
	char *url = s3_url(s, r);
	/* the caller's (metadata and a Content-Type at most), ours, NULL */
	const char *extra[S3_META_MAX + 8];
	struct curl_slist *hl;
	int nx = 0, rc = -EIO, typed = 0;
	CURLcode cc = CURLE_OK;

	memset(err, 0, sizeof(*err));
	for (int i = 0; r->headers != NULL && r->headers[i] != NULL &&
	    nx < S3_META_MAX + 4; i++) {
		typed |= strncasecmp(r->headers[i], "Content-Type:", 13) == 0;
		extra[nx++] = r->headers[i];
	}
	/* curl would label a body form data, which servers may parse away */
	if (!typed && (r->body != NULL || r->fd >= 0 ||
	    strcmp(r->method, "POST") == 0))
		extra[nx++] = "Content-Type: application/octet-stream";
	if (r->fd >= 0)
		extra[nx++] = "X-Amz-Content-Sha256: " SIGV4_UNSIGNED_PAYLOAD;
	extra[nx] = NULL;
	for (int attempt = 0; attempt <= s->c.max_retries; attempt++) {
		CURL *c = s->curl;

		if (attempt > 0) {
			long ms = S3_BACKOFF_MS << (attempt - 1);

			if (ms > S3_BACKOFF_MAX)
				ms = S3_BACKOFF_MAX;
			ms = ms / 2 + (long)(random() % (ms / 2 + 1));
			usleep((useconds_t)ms * 1000);
		}
		buf_fini(&r->xml);
		buf_init(&r->xml, 1024);
		r->sent = 0;
		r->sink_rc = 0;
		r->status = 0;
		if (r->head != NULL) {
			r->head->nmeta = 0;
			r->head->meta_cut = 0;
			r->head->ctype[0] = '\0';
		}
		hl = sigv4_curl_headers(r->method, url, extra, r->body, r->body_len,
		    &s->c.key, s->c.region, "s3", time(NULL));
		if (hl == NULL) {
			snprintf(err->code, sizeof(err->code), "SigningError");
			snprintf(err->message, sizeof(err->message),
			    "could not sign %s %s", r->method, url);
			rc = -EINVAL;
			break;
		}
		hl = curl_slist_append(hl, "Expect:");
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->c.timeout_ms);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_write_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_header_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		if (strcmp(r->method, "HEAD") == 0) {
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		} else if (strcmp(r->method, "PUT") == 0) {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			if (r->fd >= 0) {
				curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
				curl_easy_setopt(c, CURLOPT_READDATA, r);
				curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				    (curl_off_t)r->fd_len);
			} else {
				curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
				curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
				curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				    r->body ? r->body : "");
				curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				    (curl_off_t)r->body_len);
			}
		} else if (strcmp(r->method, "POST") == 0) {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)r->body_len);
		} else if (strcmp(r->method, "GET") != 0) {
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
		}
		cc = curl_easy_perform(c);
		curl_slist_free_all(hl);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		if (cc == CURLE_OK && r->status >= 200 && r->status < 300) {
			rc = 0;
			break;
		}
		if (r->sink_rc < 0) {
			rc = r->sink_rc;
			snprintf(err->code, sizeof(err->code), "Aborted");
			snprintf(err->message, sizeof(err->message),
			    "the receiver stopped the transfer: %s",
			    strerror(-rc));
			break;
		}
		s3_error_fill(r, cc, err);
		rc = s3_errno(err);
		if (!s3_retryable(cc, err) || r->delivered > 0)
			break;
		rc = -EAGAIN;
	}
	free(url);
	return rc;
}

static void
s3_req_init(struct s3_req *r, const char *method, const char *bucket,
    const char *key, const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->bucket = bucket;
	r->key = key;
	r->query = query ? query : "";
	r->fd = -1;
	buf_init(&r->xml, 64);
}

int
s3_head_bucket(struct s3_client *s, const char *bucket, struct s3_error *err)
{
	struct s3_req r;
	int rc;

	s3_req_init(&r, "HEAD", bucket, NULL, NULL);
	rc = s3_do(s, &r, err);
	if (rc == -ENOENT)
		snprintf(err->code, sizeof(err->code), "NoSuchBucket");
	buf_fini(&r.xml);
	return rc;
}

int
s3_head_object(struct s3_client *s, const char *bucket, const char *key,
    struct s3_object *out, struct s3_error *err)
{
	struct s3_req r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strlen(key) > S3_KEY_MAX)
		return -ENAMETOOLONG;
	snprintf(out->key, sizeof(out->key), "%s", key);
	s3_req_init(&r, "HEAD", bucket, key, NULL);
	r.head = out;
	rc = s3_do(s, &r, err);
	buf_fini(&r.xml);
	return rc;
}

/* Parse one ListObjectsV2 page; *more and token set for the next one. */
static int
s3_list_page(const struct buf *x, s3_list_fn fn, void *arg, int *more,
    char *token, size_t tcap, int *stop)
{
	struct s3_object *o = xcalloc(1, sizeof(*o));
	char num[32], date[64], trunc[8];
	size_t pos = 0, cs, ce, n = 0;
	int rc = 0;

	while (!*stop && s3_xml_elem(x->p, x->len, &pos, "Contents", &cs, &ce) == 0) {
		size_t p = 0, len = ce - cs;
		const char *e = x->p + cs;
		char *end;

		if (++n > S3_LIST_PAGE) {
			rc = -EBADMSG;
			goto out;
		}
		memset(o, 0, sizeof(*o));
		if (s3_xml_text(e, len, &p, "Key", o->key, sizeof(o->key)) < 0 ||
		    s3_url_decode(o->key) < 0) {
			rc = -EBADMSG;
			goto out;
		}
		p = 0;
		if (s3_xml_text(e, len, &p, "Size", num, sizeof(num)) < 0) {
			rc = -EBADMSG;
			goto out;
		}
		errno = 0;
		o->size = strtoull(num, &end, 10);
		if (errno != 0 || *end != '\0' || num[0] == '-' ||
		    o->size > (5ull << 40)) {
			rc = -EBADMSG;
			goto out;
		}
		p = 0;
		if (s3_xml_text(e, len, &p, "LastModified", date, sizeof(date)) == 0)
			o->mtime = s3_parse_time(date) < 0 ? 0 : s3_parse_time(date);
		p = 0;
		if (s3_xml_text(e, len, &p, "ETag", o->etag, sizeof(o->etag)) == 0) {
			char *q = o->etag + (o->etag[0] == '"');

			memmove(o->etag, q, strlen(q) + 1);
			o->etag[strcspn(o->etag, "\"")] = '\0';
		}
		if (fn(arg, o) != 0)
			*stop = 1;
	}
	pos = 0;
	*more = s3_xml_text(x->p, x->len, &pos, "IsTruncated", trunc,
	    sizeof(trunc)) == 0 && strcmp(trunc, "true") == 0;
	pos = 0;
	if (*more && s3_xml_text(x->p, x->len, &pos, "NextContinuationToken",
	    token, tcap) < 0)
		rc = -EBADMSG;		/* truncated without a way on */
out:
	free(o);
	return rc;
}

int
s3_list(struct s3_client *s, const char *bucket, const char *prefix,
    s3_list_fn fn, void *arg, struct s3_error *err)
{
	char token[2048] = "";
	int more = 1, stop = 0, rc = 0;

	while (more && !stop) {
		struct s3_req r;
		struct buf q;

		buf_init(&q, 256);
		buf_adds(&q, "list-type=2&encoding-type=url");
		if (token[0] != '\0') {
			buf_adds(&q, "&continuation-token=");
			uri_encode(&q, token, 0);
		}
		if (prefix != NULL && prefix[0] != '\0') {
			buf_adds(&q, "&prefix=");
			uri_encode(&q, prefix, 0);
		}
		s3_req_init(&r, "GET", bucket, NULL, q.p);
		rc = s3_do(s, &r, err);
		if (rc == 0) {
			rc = s3_list_page(&r.xml, fn, arg, &more, token,
			    sizeof(token), &stop);
			if (rc < 0) {
				snprintf(err->code, sizeof(err->code), "BadResponse");
				snprintf(err->message, sizeof(err->message),
				    "malformed ListObjectsV2 answer");
			}
		}
		buf_fini(&r.xml);
		buf_fini(&q);
		if (rc < 0)
			break;
	}
	return rc;
}

int
s3_get(struct s3_client *s, const char *bucket, const char *key, uint64_t off,
    uint64_t len, s3_data_fn fn, void *arg, struct s3_error *err)
{
	char range[80];
	const char *hdrs[2] = { range, NULL };
	struct s3_req r;
	int rc;

	if (len > 0)
		snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
		    (unsigned long long)off, (unsigned long long)(off + len - 1));
	else
		snprintf(range, sizeof(range), "Range: bytes=%llu-",
		    (unsigned long long)off);
	s3_req_init(&r, "GET", bucket, key, NULL);
	if (off > 0 || len > 0)
		r.headers = hdrs;
	r.sink = fn;
	r.sink_arg = arg;
	rc = s3_do(s, &r, err);
	buf_fini(&r.xml);
	return rc;
}

/* "x-amz-meta-name: value" headers, NULL-ended, in nmeta + 2 slots (the
 * caller may put one header more in place of the NULL). */
static const char **
meta_headers(const struct s3_meta *meta, int nmeta, char (*store)[400])
{
	const char **h = xcalloc((size_t)nmeta + 2, sizeof(char *));
	int n = 0;

	for (int i = 0; i < nmeta && i < S3_META_MAX; i++) {
		snprintf(store[i], 400, "x-amz-meta-%s: %s", meta[i].name,
		    meta[i].value);
		h[n++] = store[i];
	}
	h[n] = NULL;
	return h;
}

int
s3_put_buf(struct s3_client *s, const char *bucket, const char *key,
    const void *buf, size_t len, const char *content_type,
    struct s3_error *err)
{
	char ct[128];
	const char *hdrs[2] = { ct, NULL };
	struct s3_req r;
	int rc;

	snprintf(ct, sizeof(ct), "Content-Type: %s",
	    content_type ? content_type : "application/octet-stream");
	s3_req_init(&r, "PUT", bucket, key, NULL);
	r.headers = hdrs;
	r.body = buf;
	r.body_len = len;
	rc = s3_do(s, &r, err);
	buf_fini(&r.xml);
	return rc;
}

/* Read exactly n bytes of fd at off into p. */
static int
pread_full(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (char *)p + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		got += (size_t)k;
	}
	return 0;
}

/*
 * One multipart upload's parts, shared by its streams. The parts come
 * from a range of an fd (PUT of each part's bytes) or, for a copy
 * (fd -1), from an object S3 side (UploadPartCopy of each part's range).
 */
struct parts {
	struct s3_client	*s;
	const char		*bucket, *key, *upload;
	int			 fd;		/* an upload's source, or -1 */
	const char		*src_hdr;	/* a copy's x-amz-copy-source */
	const char		*match_hdr;	/* a copy's source ETag condition */
	uint64_t		 off, size, part, nparts;
	char			(*etags)[80];
	uint64_t		 next;		/* under mu */
	int			 rc;	/* the first failure, under mu */
	pthread_mutex_t		 mu;
	struct s3_error		*err;	/* the first failure's */
};

/* "x-amz-copy-source: /bucket/key" (encoded) into h. */
static void
copy_source(struct buf *h, const char *bucket, const char *src)
{
	buf_printf(h, "X-Amz-Copy-Source: /%s/", bucket);
	uri_encode(h, src, 1);
}

/* A copy can fail after its 200 began: then the body is an Error. */
static int
copy_answer(const struct s3_req *r, int rc, const char *what,
    struct s3_error *err)
{
	if (rc == 0 && r->xml.len > 0 && memmem(r->xml.p, r->xml.len,
	    "<Error>", 7) != NULL) {
		snprintf(err->code, sizeof(err->code), "InternalError");
		snprintf(err->message, sizeof(err->message),
		    "%s failed after it started", what);
		rc = -EIO;
	}
	return rc;
}

/* The query of part i (0-based) of the upload. */
static void
part_query(const struct parts *ps, uint64_t i, struct buf *q)
{
	buf_init(q, 64);
	buf_printf(q, "partNumber=%llu&uploadId=", (unsigned long long)i + 1);
	uri_encode(q, ps->upload, 0);
}

/* Copy part i (0-based) with client c: its range of the source, S3 side;
 * the ETag is in the answer's CopyPartResult. */
static int
part_copy(struct parts *ps, struct s3_client *c, uint64_t i,
    struct s3_error *err)
{
	uint64_t at = i * ps->part;
	uint64_t n = ps->size - at < ps->part ? ps->size - at : ps->part;
	char range[96], etag[96] = "", *v = etag;
	const char *hdrs[4] = { ps->src_hdr, range, ps->match_hdr, NULL };
	struct s3_req r;
	struct buf q;
	size_t pos = 0;
	int rc;

	snprintf(range, sizeof(range), "X-Amz-Copy-Source-Range: bytes=%llu-%llu",
	    (unsigned long long)at, (unsigned long long)(at + n - 1));
	part_query(ps, i, &q);
	s3_req_init(&r, "PUT", ps->bucket, ps->key, q.p);
	r.headers = hdrs;
	r.body = "";
	r.body_len = 0;
	rc = copy_answer(&r, s3_do(c, &r, err), "UploadPartCopy", err);
	if (rc == 0 && s3_xml_text(r.xml.p, r.xml.len, &pos, "ETag", etag,
	    sizeof(etag)) < 0)
		rc = -EBADMSG;
	buf_fini(&r.xml);
	buf_fini(&q);
	if (rc < 0 && rc != -EBADMSG)
		return rc;
	v += *v == '"';
	v[strcspn(v, "\"")] = '\0';
	if (*v == '\0' || strlen(v) >= sizeof(ps->etags[i])) {
		snprintf(err->code, sizeof(err->code), "BadAnswer");
		snprintf(err->message, sizeof(err->message),
		    "UploadPartCopy answered without a usable ETag");
		return -EBADMSG;
	}
	snprintf(ps->etags[i], sizeof(ps->etags[i]), "%s", v);
	return 0;
}

/* Upload part i (0-based) with client c. */
static int
part_put(struct parts *ps, struct s3_client *c, uint64_t i, char *chunk,
    struct s3_error *err)
{
	uint64_t at = i * ps->part;
	uint64_t n = ps->size - at < ps->part ? ps->size - at : ps->part;
	struct s3_object head;
	struct s3_req r;
	struct buf q;
	int rc;

	if (ps->fd < 0)
		return part_copy(ps, c, i, err);
	rc = pread_full(ps->fd, chunk, n, ps->off + at);
	if (rc < 0) {
		snprintf(err->code, sizeof(err->code), "ReadError");
		snprintf(err->message, sizeof(err->message),
		    "reading part %llu: %s", (unsigned long long)i + 1,
		    strerror(-rc));
		return rc;
	}
	part_query(ps, i, &q);
	memset(&head, 0, sizeof(head));
	s3_req_init(&r, "PUT", ps->bucket, ps->key, q.p);
	r.body = chunk;
	r.body_len = n;
	r.head = &head;
	rc = s3_do(c, &r, err);
	buf_fini(&r.xml);
	buf_fini(&q);
	if (rc == 0 && head.etag[0] == '\0')
		rc = -EBADMSG;
	snprintf(ps->etags[i], sizeof(ps->etags[i]), "%s", head.etag);
	return rc;
}

/* Take parts until none is left or one failed. */
static void
parts_run(struct parts *ps, struct s3_client *c)
{
	char *chunk = ps->fd >= 0 ? xmalloc(ps->part) : NULL;
	struct s3_error e;

	for (;;) {
		uint64_t i;
		int rc;

		pthread_mutex_lock(&ps->mu);
		i = ps->rc == 0 && ps->next < ps->nparts ? ps->next++ :
		    ps->nparts;
		pthread_mutex_unlock(&ps->mu);
		if (i >= ps->nparts)
			break;
		memset(&e, 0, sizeof(e));
		rc = part_put(ps, c, i, chunk, &e);
		if (rc < 0) {
			pthread_mutex_lock(&ps->mu);
			if (ps->rc == 0) {
				ps->rc = rc;
				*ps->err = e;
			}
			pthread_mutex_unlock(&ps->mu);
		}
	}
	free(chunk);
}

static void *
parts_main(void *arg)
{
	struct parts *ps = arg;
	struct s3_client *c = s3_client_new(&ps->s->c);

	if (c == NULL) {
		pthread_mutex_lock(&ps->mu);
		if (ps->rc == 0) {
			ps->rc = -ENOMEM;
			snprintf(ps->err->code, sizeof(ps->err->code),
			    "ClientError");
		}
		pthread_mutex_unlock(&ps->mu);
		return NULL;
	}
	parts_run(ps, c);
	s3_client_free(c);
	return NULL;
}

/*
 * One multipart upload of ps's parts to ps->bucket/ps->key (the caller
 * fills s, bucket, key, the source: fd and off, or src_hdr and match_hdr,
 * size and part; ps->part is doubled while that makes over
 * S3_PARTS_MAX): CreateMultipartUpload with hdrs (user metadata), the
 * parts, S3_PART_STREAMS at once, CompleteMultipartUpload; aborted on
 * failure.
 */
static int
s3_multipart(struct parts *ps, const char **hdrs, struct s3_error *err)
{
	struct s3_client *s = ps->s;
	const char *bucket = ps->bucket, *key = ps->key;
	uint64_t nparts;
	char upload[1024], query[1200], (*etags)[80] = NULL;
	struct s3_req r;
	struct buf body;
	size_t pos = 0;
	int rc;

	while ((ps->size + ps->part - 1) / ps->part > S3_PARTS_MAX)
		ps->part *= 2;
	nparts = (ps->size + ps->part - 1) / ps->part;
	s3_req_init(&r, "POST", bucket, key, "uploads");
	r.headers = hdrs;
	rc = s3_do(s, &r, err);
	if (rc == 0 && s3_xml_text(r.xml.p, r.xml.len, &pos, "UploadId", upload,
	    sizeof(upload)) < 0)
		rc = -EBADMSG;
	buf_fini(&r.xml);
	if (rc < 0)
		return rc;
	etags = xcalloc(nparts, sizeof(*etags));
	{
		pthread_t thr[S3_PART_STREAMS - 1];
		int n = 0;

		ps->upload = upload;
		ps->nparts = nparts;
		ps->etags = etags;
		ps->next = 0;
		ps->rc = 0;
		ps->err = err;
		pthread_mutex_init(&ps->mu, NULL);
		/* parts in parallel, each stream with its own client; this
		   thread is one of them */
		for (; n < S3_PART_STREAMS - 1 && (uint64_t)n + 1 < nparts;
		    n++)
			if (pthread_create(&thr[n], NULL, parts_main, ps) != 0)
				break;
		parts_run(ps, s);
		for (int i = 0; i < n; i++)
			pthread_join(thr[i], NULL);
		rc = ps->rc;
		pthread_mutex_destroy(&ps->mu);
	}
	{
		struct buf q;

		buf_init(&q, 64);
		buf_adds(&q, "uploadId=");
		uri_encode(&q, upload, 0);
		snprintf(query, sizeof(query), "%s", q.p);
		buf_fini(&q);
	}
	if (rc == 0) {
		static const char *const xml_ct[] = {
			"Content-Type: application/xml", NULL };
		struct s3_error cerr;

		buf_init(&body, 64 * nparts + 64);
		buf_adds(&body, "<CompleteMultipartUpload>");
		for (uint64_t i = 0; i < nparts; i++)
			buf_printf(&body, "<Part><PartNumber>%llu</PartNumber>"
			    "<ETag>\"%s\"</ETag></Part>", (unsigned long long)i + 1,
			    etags[i]);
		buf_adds(&body, "</CompleteMultipartUpload>");
		s3_req_init(&r, "POST", bucket, key, query);
		r.headers = xml_ct;
		r.body = body.p;
		r.body_len = body.len;
		rc = s3_do(s, &r, &cerr);
		/* S3 may answer 200 with an <Error> body */
		pos = 0;
		if (rc == 0 && s3_xml_text(r.xml.p, r.xml.len, &pos, "Code",
		    cerr.code, sizeof(cerr.code)) == 0) {
			rc = -EIO;
			snprintf(cerr.message, sizeof(cerr.message),
			    "CompleteMultipartUpload failed");
		}
		if (rc < 0)
			*err = cerr;
		buf_fini(&r.xml);
		buf_fini(&body);
	}
	if (rc < 0) {
		struct s3_error aerr;

		s3_req_init(&r, "DELETE", bucket, key, query);
		(void)s3_do(s, &r, &aerr);	/* abort; the first error stands */
		buf_fini(&r.xml);
	}
	free(etags);
	return rc;
}

int
s3_put_fd(struct s3_client *s, const char *bucket, const char *key, int fd,
    uint64_t off, uint64_t size, const struct s3_meta *meta, int nmeta,
    struct s3_error *err)
{
	char (*store)[400] = xcalloc(S3_META_MAX, 400);
	const char **hdrs = meta_headers(meta, nmeta, store);
	struct s3_req r;
	int rc;

	memset(err, 0, sizeof(*err));
	if (size > s->c.part_size) {
		struct parts ps = { .s = s, .bucket = bucket, .key = key,
		    .fd = fd, .off = off, .size = size, .part = s->c.part_size };

		rc = s3_multipart(&ps, hdrs, err);
	} else {
		s3_req_init(&r, "PUT", bucket, key, NULL);
		r.headers = hdrs;
		r.fd = fd;
		r.fd_off = off;
		r.fd_len = size;
		rc = s3_do(s, &r, err);
		buf_fini(&r.xml);
	}
	free(hdrs);
	free(store);
	return rc;
}

int
s3_delete(struct s3_client *s, const char *bucket, const char *key,
    struct s3_error *err)
{
	struct s3_req r;
	int rc;

	s3_req_init(&r, "DELETE", bucket, key, NULL);
	rc = s3_do(s, &r, err);
	buf_fini(&r.xml);
	return rc;
}

int
s3_copy_plan(uint64_t size, uint64_t copy_max, uint64_t *part,
    uint64_t *nparts)
{
	uint64_t p = copy_max < S3_COPY_PART ? copy_max : S3_COPY_PART;
	uint64_t need = (size + S3_PARTS_MAX - 1) / S3_PARTS_MAX;

	if (p < S3_PART_MIN)
		p = S3_PART_MIN;
	if (need > p)
		p = (need + (1u << 20) - 1) & ~((uint64_t)(1u << 20) - 1);
	if (p > S3_COPY_MAX)
		return -EFBIG;
	*part = p;
	*nparts = (size + p - 1) / p;
	return 0;
}

/* One CopyObject, metadata copied with the object. */
static int
copy_one(struct s3_client *s, const char *bucket, const char *src,
    const char *dst, struct s3_error *err)
{
	const char *hdrs[3];
	struct s3_req r;
	struct buf h;
	int rc;

	buf_init(&h, 256);
	copy_source(&h, bucket, src);
	hdrs[0] = h.p;
	hdrs[1] = "X-Amz-Metadata-Directive: COPY";
	hdrs[2] = NULL;
	s3_req_init(&r, "PUT", bucket, dst, NULL);
	r.headers = hdrs;
	r.body = "";
	r.body_len = 0;
	rc = copy_answer(&r, s3_do(s, &r, err), "CopyObject", err);
	buf_fini(&r.xml);
	buf_fini(&h);
	return rc;
}

int
s3_copy(struct s3_client *s, const char *bucket, const char *src,
    const char *dst, uint64_t size, struct s3_error *err)
{
	struct s3_object *o = NULL;
	char (*store)[400] = NULL, match[128];
	const char **hdrs = NULL;
	struct parts ps = { .s = s, .bucket = bucket, .key = dst, .fd = -1 };
	struct buf h;
	int rc;

	memset(err, 0, sizeof(*err));
	buf_init(&h, 256);
	if (size <= s->c.copy_max) {
		rc = copy_one(s, bucket, src, dst, err);
		goto out;
	}
	/* a multipart copy takes no metadata along: what HeadObject says */
	o = xcalloc(1, sizeof(*o));
	rc = s3_head_object(s, bucket, src, o, err);
	if (rc < 0)
		goto out;
	if (o->size <= s->c.copy_max) {
		rc = copy_one(s, bucket, src, dst, err);
		goto out;
	}
	rc = s3_copy_plan(o->size, s->c.copy_max, &ps.part, &ps.nparts);
	if (rc == 0 && o->etag[0] == '\0')
		rc = -EBADMSG;
	else if (rc == 0 && o->meta_cut)
		rc = -E2BIG;	/* what this client cannot carry: refused */
	if (rc < 0) {
		snprintf(err->code, sizeof(err->code), "%s", rc == -EFBIG ?
		    "EntityTooLarge" : rc == -E2BIG ? "MetadataTooLarge" :
		    "BadAnswer");
		snprintf(err->message, sizeof(err->message), "%s",
		    rc == -EFBIG ? "the object is too large to copy" :
		    rc == -E2BIG ? "more user metadata than a part copy carries" :
		    "HeadObject answered without an ETag");
		goto out;
	}
	store = xcalloc(S3_META_MAX + 1, 400);
	hdrs = meta_headers(o->meta, o->nmeta, store);
	if (o->ctype[0] != '\0') {	/* meta_headers leaves a slot */
		snprintf(store[S3_META_MAX], 400, "Content-Type: %s", o->ctype);
		hdrs[o->nmeta] = store[S3_META_MAX];
		hdrs[o->nmeta + 1] = NULL;
	}
	copy_source(&h, bucket, src);
	/* every part of the one version HeadObject saw */
	snprintf(match, sizeof(match), "X-Amz-Copy-Source-If-Match: \"%s\"",
	    o->etag);
	ps.src_hdr = h.p;
	ps.match_hdr = match;
	ps.size = o->size;
	rc = s3_multipart(&ps, hdrs, err);
out:
	free(hdrs);
	free(store);
	free(o);
	buf_fini(&h);
	return rc;
}
