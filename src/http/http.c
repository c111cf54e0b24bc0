/*
 * HTTP front end (see http.h).
 *
 * Request lifecycle: the access handler is called once with no data (we
 * allocate the struct http_req), then with body chunks (appended up to
 * conf->body_max; past it the request is marked too large and the rest is
 * drained), then once more with *upload_data_size == 0: we answer. The
 * request is freed in one place, http_completed().
 *
 * Connections: the front door (http_door.c) accepts each one and checks
 * its first head before handing it to libmicrohttpd; http_guard.c bounds
 * the wait for later heads. API requests then go through, in order: SigV4
 * -> the operation (X-Amz-Target on POST /, or an fsx-local operation's
 * own path) -> JSON parse -> api_validate() -> api_call() -> handler.
 * Every response carries x-amzn-RequestId.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs_desc.h"
#include "auth/creds.h"
#include "auth/sigv4.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "http/http.h"
#include "http/http_door.h"
#include "http/http_guard.h"
#include "http/metrics.h"

#define TARGET_PREFIX	"AWSSimbaAPIService_v20180301."
#define HTTP_STACK_HDRS	32
#define HTTP_BACKLOG	4096
/*
 * Request head limits (http_door.h). libmicrohttpd refuses a head that
 * does not fit in the connection's memory pool with its own HTML page:
 * the door checks a connection's first head before libmicrohttpd sees
 * it, and for later heads on a kept-alive connection the pool is made
 * large enough for the limits so that http_head_check() and
 * http_verify() answer first. libmicrohttpd 0.9.75 still answers broken
 * chunk framing, a malformed request line, and a kept-alive connection's
 * bad Content-Length or head too large for the pool itself (over ~24 KiB,
 * or more than ~300 header lines): it has no hook to shape that answer.
 *
 * The pool's size is paid on every request: libmicrohttpd zeroes the
 * whole pool when a kept-alive connection starts its next request, and
 * the unused half of its read buffer once the head is parsed. With
 * 64 KiB heads the pool had to be 112 KiB and that memset was 18% of
 * fsxd's CPU under load; 36 KiB is the smallest size (in steps of
 * 4 KiB, measured) at which a later head of HTTP_DOOR_NHDR_MAX + 1
 * header lines in HTTP_DOOR_HEAD_MAX bytes, or of HTTP_DOOR_HEAD_MAX + 1
 * bytes, still reaches fsxd and is answered in JSON
 * (test_frontdoor.py, frontdoor-3.5); 40 KiB leaves a margin.
 */
#define HTTP_POOL	(40u * 1024)	/* MHD_OPTION_CONNECTION_MEMORY_LIMIT */
_Static_assert(HTTP_DOOR_NHDR_MAX <= SIGV4_NHDR_MAX, "the verifier takes every header");
/* fsx-mount's signed look-up of a file system's MDS (ops.def, API_LOCAL) */
#define HTTP_MOUNT_INFO_PATH	"/fsx-local/mount-info"
#define HTTP_MOUNT_INFO_OP	"FsxLocalMountInfo"
#define CT_JSON		"application/x-amz-json-1.1"

struct http_srv {
	struct MHD_Daemon	*mhd;
	struct http_guard	*guard;
	struct http_door	*door;
	int			 lfd;
	const struct fsxd_conf	*conf;
	int			 port;
};

struct http_req {
	char		 rid[40];
	uint64_t	 t0;
	struct buf	 body;			/* p NULL until the first byte */
	int		 too_big;
	int		 close;			/* answer with Connection: close */
	int		 op_idx;		/* index in api_ops, -1 if none */
	char		 account[16];
	char		 op_name[64];
};

/*
 * The request's headers for the verifier: on the stack for the usual
 * handful, on the heap past that, up to HTTP_DOOR_NHDR_MAX.
 */
struct hdr_list {
	struct sigv4_hdr	*h;
	size_t			 n, cap;
	int			 overflow;
	struct sigv4_hdr	 stack[HTTP_STACK_HDRS];
};

/*
 * A version 4 UUID for x-amzn-RequestId. uuid_generate_random() makes
 * five system calls per id; request ids need uniqueness, not secrecy, so
 * each thread draws them from xoshiro256** seeded once from getrandom.
 */
static void
http_request_id(char out[37])
{
	static __thread uint64_t s[4];
	static __thread int seeded;
	uint64_t r[2];
	uuid_t u;

	if (!seeded) {
		rand_bytes(s, sizeof(s));
		s[0] |= 1;
		seeded = 1;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t t = s[1] << 17, x = s[1] * 5;

		r[i] = ((x << 7) | (x >> 57)) * 9;
		s[2] ^= s[0];
		s[3] ^= s[1];
		s[1] ^= s[2];
		s[0] ^= s[3];
		s[2] ^= t;
		s[3] = (s[3] << 45) | (s[3] >> 19);
	}
	memcpy(u, r, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;		/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;		/* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

static enum MHD_Result
hdr_collect(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct hdr_list *l = cls;

	(void)kind;
	if (l->n == l->cap) {
		struct sigv4_hdr *nh;

		if (l->cap >= HTTP_DOOR_NHDR_MAX) {
			l->overflow = 1;
			return MHD_NO;
		}
		nh = xmalloc(2 * l->cap * sizeof(*nh));
		memcpy(nh, l->h, l->n * sizeof(*nh));
		if (l->h != l->stack)
			free(l->h);
		l->h = nh;
		l->cap *= 2;
	}
	l->h[l->n].name = k;
	l->h[l->n].value = v ? v : "";
	l->n++;
	return MHD_YES;
}

/*
 * SigV4 signs the path and query as sent, so libmicrohttpd must not
 * percent-decode them: the access handler sees the raw path, and "/%2F"
 * or "/%00" is not "/".
 */
static size_t
http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* The raw query string back from libmicrohttpd's (undecoded) arguments. */
static enum MHD_Result
query_collect(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct buf *q = cls;

	(void)kind;
	if (q->len > 0)
		buf_adds(q, "&");
	buf_adds(q, k);
	if (v != NULL) {
		buf_adds(q, "=");
		buf_adds(q, v);
	}
	return MHD_YES;
}

/* Queue a response that owns `text` (malloc'd). */
static enum MHD_Result
http_reply(struct MHD_Connection *c, struct http_req *rq, int status,
    const char *ctype, char *text, const char *errtype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "x-amzn-RequestId", rq->rid);
	if (errtype != NULL)
		MHD_add_response_header(r, "x-amzn-ErrorType", errtype);
	if (rq->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	metrics_request(rq->op_idx, status, (now_mono_ns() - rq->t0) / 1e9);
	log_info("access rid=%s account=%s op=%s status=%d latency_ms=%.3f",
	    rq->rid, rq->account[0] ? rq->account : "-",
	    rq->op_name[0] ? rq->op_name : "-", status,
	    (now_mono_ns() - rq->t0) / 1e6);
	return ret;
}

static enum MHD_Result
http_reply_json(struct MHD_Connection *c, struct http_req *rq, int status,
    json_t *body, const char *errtype)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17));

	json_decref(body);
	if (text == NULL)
		return MHD_NO;
	return http_reply(c, rq, status, CT_JSON, text, errtype);
}

static enum MHD_Result
http_reply_err(struct MHD_Connection *c, struct http_req *rq,
    struct api_error *err)
{
	int status = api_err_status(err->code);
	json_t *body = api_error_body(err);
	const char *type = api_err_type(err->code);

	api_error_clear(err);
	return http_reply_json(c, rq, status, body, type);
}

static enum MHD_Result
http_fail(struct MHD_Connection *c, struct http_req *rq, enum api_err code,
    const char *msg)
{
	struct api_error err = { 0 };

	api_fail(&err, code, "%s", msg);
	return http_reply_err(c, rq, &err);
}

/*
 * SigV4: verify the request and fill the caller's identity. Returns 0, or
 * -1 with err set to the front-end error AWS would give.
 */
static int
http_auth(struct MHD_Connection *c, struct http_req *rq, const char *method,
    const char *url, const struct fsxd_conf *conf, struct sigv4_result *res,
    struct api_error *err)
{
	struct hdr_list hl;
	struct buf q = { 0 };
	struct sigv4_req sr;

	hl.h = hl.stack;
	hl.n = 0;
	hl.cap = HTTP_STACK_HDRS;
	hl.overflow = 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, hdr_collect, &hl);
	if (hl.overflow) {
		if (hl.h != hl.stack)
			free(hl.h);
		api_fail(err, API_E_INCOMPLETE_SIGNATURE, "Too many headers.");
		return -1;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = method;
	sr.path = url;
	sr.query = "";
	/* most requests have no query: no buffer for them */
	if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL,
	    NULL) > 0) {
		buf_init(&q, 256);
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
		    query_collect, &q);
		sr.query = q.p;
	}
	sr.nhdr = hl.n;
	sr.hdr = hl.h;
	sr.payload = rq->body.p ? rq->body.p : "";
	sr.payload_len = rq->body.len;
	sigv4_verify(&sr, time(NULL), conf->skew_sec, creds_lookup, NULL, res);
	if (hl.h != hl.stack)
		free(hl.h);
	buf_fini(&q);
	switch (res->status) {
	case SIGV4_OK:
		if (strcmp(res->service, "fsx") != 0) {
			api_fail(err, API_E_INVALID_SIGNATURE,
			    "Credential should be scoped to correct service: 'fsx'. ");
			return -1;
		}
		str_copy(rq->account, sizeof(rq->account), res->account);
		return 0;
	case SIGV4_MISSING:
		api_fail(err, API_E_MISSING_AUTH_TOKEN, "%s", res->message);
		break;
	case SIGV4_INCOMPLETE:
		api_fail(err, API_E_INCOMPLETE_SIGNATURE, "%s", res->message);
		break;
	case SIGV4_UNKNOWN_KEY:
	case SIGV4_BAD_TOKEN:
		api_fail(err, API_E_UNRECOGNIZED_CLIENT, "%s", res->message);
		break;
	default:
		api_fail(err, API_E_INVALID_SIGNATURE, "%s", res->message);
		break;
	}
	return -1;
}

/* Parse the body as a JSON object ({} when empty). NULL + err otherwise. */
static json_t *
http_parse_body(struct http_req *rq, struct api_error *err)
{
	json_error_t je;
	json_t *in;

	if (rq->body.len == 0)
		return json_object();
	in = json_loadb(rq->body.p, rq->body.len, JSON_REJECT_DUPLICATES, &je);
	if (in == NULL) {
		api_fail(err, API_E_SERIALIZATION,
		    "Unable to parse request body as JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(in)) {
		json_decref(in);
		api_fail(err, API_E_SERIALIZATION,
		    "Request body must be a JSON object.");
		return NULL;
	}
	return in;
}

/*
 * The operation an API request names: X-Amz-Target on POST /, or the URL
 * path of an fsx-local operation (API_LOCAL, which X-Amz-Target never
 * reaches). NULL with err set when there is none.
 */
static const struct api_op *
http_op(struct MHD_Connection *c, const char *url, struct api_error *err)
{
	const struct api_op *op;
	const char *target;

	if (strcmp(url, HTTP_MOUNT_INFO_PATH) == 0)
		return api_op_find(HTTP_MOUNT_INFO_OP);
	target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
	if (target == NULL) {
		api_fail(err, API_E_UNKNOWN_OPERATION, "Missing X-Amz-Target header.");
		return NULL;
	}
	op = NULL;
	if (strncmp(target, TARGET_PREFIX, strlen(TARGET_PREFIX)) == 0)
		op = api_op_find(target + strlen(TARGET_PREFIX));
	if (op == NULL || (op->flags & API_LOCAL)) {
		api_fail(err, API_E_UNKNOWN_OPERATION,
		    "The requested operation is not recognized by the service.");
		return NULL;
	}
	return op;
}

/*
 * An API request, whichever way it names its operation: SigV4 -> the
 * operation (ops.def) -> JSON body -> api_validate() against the model ->
 * the handler.
 */
static enum MHD_Result
http_api(struct MHD_Connection *c, struct http_req *rq, const char *url,
    const struct fsxd_conf *conf)
{
	struct api_error err = { 0 };
	struct sigv4_result res;
	struct api_ctx cx;
	struct api_reply reply;
	const struct api_op *op;
	json_t *in;
	int rc;

	if (http_auth(c, rq, "POST", url, conf, &res, &err) < 0)
		return http_reply_err(c, rq, &err);
	op = http_op(c, url, &err);
	if (op == NULL)
		return http_reply_err(c, rq, &err);
	rq->op_idx = (int)(op - api_ops);
	str_copy(rq->op_name, sizeof(rq->op_name), op->name);

	in = http_parse_body(rq, &err);
	if (in == NULL)
		return http_reply_err(c, rq, &err);
	if (api_validate(op->name, in, &err) < 0) {
		json_decref(in);
		return http_reply_err(c, rq, &err);
	}
	memset(&cx, 0, sizeof(cx));
	cx.conf = conf;
	cx.account = rq->account;
	cx.region = res.region;
	cx.partition = fs_desc_partition(res.region);
	cx.request_id = rq->rid;
	rc = api_call(op, &cx, in, &reply, &err);
	json_decref(in);
	if (rc < 0)
		return http_reply_err(c, rq, &err);
	if (reply.kind == API_REPLY_TEXT)
		return http_reply(c, rq, 200, CT_JSON, reply.text, NULL);
	return http_reply_json(c, rq, 200, reply.json, NULL);
}

static enum MHD_Result
http_too_big(struct MHD_Connection *c, struct http_req *rq,
    const struct fsxd_conf *conf)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Request body exceeds the limit of %zu bytes.",
	    conf->body_max);
	return http_fail(c, rq, API_E_REQUEST_TOO_LARGE, msg);
}

/*
 * Check the request head against our limits, before the body is read.
 * Returns MHD_YES with *answered = 0 when it is within them.
 */
static enum MHD_Result
http_head_check(struct MHD_Connection *c, struct http_req *rq, const char *url,
    int *answered)
{
	const union MHD_ConnectionInfo *ci;
	char msg[128];

	*answered = 1;
	if (strlen(url) > HTTP_DOOR_URL_MAX) {
		rq->close = 1;
		snprintf(msg, sizeof(msg), "Request URI exceeds the limit of"
		    " %u bytes.", HTTP_DOOR_URL_MAX);
		return http_fail(c, rq, API_E_URI_TOO_LONG, msg);
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci != NULL && ci->header_size > HTTP_DOOR_HEAD_MAX) {
		rq->close = 1;
		snprintf(msg, sizeof(msg), "Request headers exceed the limit of"
		    " %u bytes.", HTTP_DOOR_HEAD_MAX);
		return http_fail(c, rq, API_E_HEADERS_TOO_LARGE, msg);
	}
	*answered = 0;
	return MHD_YES;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_srv *s = cls;
	struct http_req *rq = *con_cls;

	(void)version;
	if (rq == NULL) {
		const char *cl;
		enum MHD_Result ret;
		int answered;

		http_guard_headers_done(c);
		rq = xcalloc(1, sizeof(*rq));
		http_request_id(rq->rid);
		rq->t0 = now_mono_ns();
		rq->op_idx = -1;
		*con_cls = rq;
		ret = http_head_check(c, rq, url, &answered);
		if (answered)
			return ret;
		/*
		 * A declared body over the cap is refused now, before it is
		 * read (libmicrohttpd then closes the connection); a chunked
		 * one is drained and refused at its end.
		 */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > s->conf->body_max)
			return http_too_big(c, rq, s->conf);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (rq->too_big)
			return MHD_YES;
		/*
		 * Sized by the first chunk (usually the whole body): a 4 KiB
		 * buffer for "{}" made glibc consolidate its fast bins on
		 * every request. Later chunks grow it.
		 */
		if (rq->body.p == NULL)
			buf_init_max(&rq->body, n < 4096 ? n + 1 : 4096,
			    s->conf->body_max);
		if (buf_append(&rq->body, upload, n) < 0)
			rq->too_big = 1;	/* past body_max; buffer freed */
		return MHD_YES;
	}

	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return http_reply(c, rq, 200, "application/json",
		    xstrdup("{\"status\":\"ok\"}"), NULL);
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0)
		return http_reply(c, rq, 200,
		    "text/plain; version=0.0.4; charset=utf-8", metrics_render(s->conf),
		    NULL);
	if (rq->too_big)
		return http_too_big(c, rq, s->conf);
	if (strcmp(method, "POST") == 0 && (strcmp(url, "/") == 0 ||
	    strcmp(url, HTTP_MOUNT_INFO_PATH) == 0))
		return http_api(c, rq, url, s->conf);
	return http_fail(c, rq, API_E_UNKNOWN_OPERATION,
	    "The requested operation is not recognized by the service.");
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *rq = *con_cls;

	(void)cls;
	(void)toe;
	http_guard_request_done(c);
	if (rq == NULL)
		return;
	buf_fini(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warn("mhd: %s", buf);
}

/*
 * The door's refusal (http_door.h): the whole response in AWS's error
 * shape, written at once to a fresh socket, then closed by the door.
 */
static void
http_door_reject(int fd, enum api_err code, const char *text)
{
	struct api_error err = { 0 };
	char rid[40], head[512];
	char *body;
	int status = api_err_status(code), n;
	json_t *o;

	http_request_id(rid);
	api_fail(&err, code, "%s", text);
	o = api_error_body(&err);
	api_error_clear(&err);
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (body == NULL)
		return;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: " CT_JSON "\r\n"
	    "x-amzn-RequestId: %s\r\n"
	    "x-amzn-ErrorType: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", status,
	    MHD_get_reason_phrase_for((unsigned)status), rid,
	    api_err_type(code), strlen(body));
	if (n > 0 && (size_t)n < sizeof(head) &&
	    send(fd, head, (size_t)n, MSG_NOSIGNAL | MSG_MORE) == n)
		(void)send(fd, body, strlen(body), MSG_NOSIGNAL);
	free(body);
	metrics_request(-1, status, 0);
	log_info("access rid=%s account=- op=- status=%d latency_ms=0 (door)",
	    rid, status);
}

/*
 * The listening socket, made here rather than by libmicrohttpd so that a
 * failure is reported with its errno. SO_REUSEADDR only (a restart may
 * rebind over TIME_WAIT); never SO_REUSEPORT, with which a second fsxd on
 * the same port would bind too and the kernel would split connections
 * between the two. Returns the socket, or -errno.
 */
static int
http_listen_socket(const struct fsxd_conf *conf)
{
	struct sockaddr_in sa;
	int fd, one = 1, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)conf->port);
	if (inet_pton(AF_INET, conf->listen, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rc == 0)
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0)
		rc = listen(fd, HTTP_BACKLOG);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

struct http_srv *
http_start(const struct fsxd_conf *conf, int *err)
{
	struct http_srv *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	unsigned idle = conf->conn_timeout > 0 ? (unsigned)conf->conn_timeout : 60;
	unsigned limit = http_guard_limit();
	int fd;

	fd = http_listen_socket(conf);
	if (fd < 0) {
		*err = fd;
		free(s);
		return NULL;
	}
	s->conf = conf;
	s->guard = http_guard_new(limit, idle);
	if (s->guard == NULL) {
		close(fd);
		*err = -ENOMEM;
		free(s);
		return NULL;
	}
	s->lfd = fd;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_USE_ITC, 0, NULL, NULL,
	    http_access, s,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, http_unescape_none, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)conf->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, s->guard,
	    MHD_OPTION_CONNECTION_TIMEOUT, idle,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
	    MHD_OPTION_END);
	if (s->mhd != NULL)
		s->door = http_door_new(fd, s->mhd, limit, idle,
		    http_door_reject);
	if (s->door == NULL) {
		if (s->mhd != NULL)
			MHD_stop_daemon(s->mhd);
		http_guard_free(s->guard);
		close(fd);
		*err = -ENOMEM;
		free(s);
		return NULL;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0)
		s->port = ntohs(sa.sin_port);
	else
		s->port = conf->port;
	return s;
}

int
http_port(const struct http_srv *s)
{
	return s->port;
}

void
http_stop(struct http_srv *s)
{
	if (s == NULL)
		return;
	http_door_free(s->door);		/* no new connections */
	MHD_stop_daemon(s->mhd);
	http_guard_free(s->guard);
	close(s->lfd);
	free(s);
}
