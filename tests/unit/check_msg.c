/*
 * msg: CRC32C, frame round trips and every malformed-frame class, at the
 * codec level (socketpair) and against a live msg_srv on loopback.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"

Suite	*msg_suite(void);

static uint32_t
crc_ref(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

START_TEST(msg_crc32c_known_vector)
{
	ck_assert_uint_eq(msg_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(msg_crc32c(0, "", 0), 0);
}
END_TEST

START_TEST(msg_crc32c_matches_reference_all_sizes)
{
	static const size_t lens[] = { 1, 7, 8, 9, 63, 4095, 4096, 12287,
	    12288, 12289, 3 * 4096 * 2 + 5, 100000, 1 << 20 };
	uint8_t *buf = malloc((1 << 20) + 16);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(rand_bytes(buf, (1 << 20) + 16), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t off = 0; off < 3; off++) {
			uint32_t whole = msg_crc32c(0, buf + off, lens[i]);
			size_t half = lens[i] / 2;

			ck_assert_uint_eq(whole, crc_ref(buf + off, lens[i]));
			/* incremental == one-shot */
			ck_assert_uint_eq(msg_crc32c(msg_crc32c(0, buf + off,
			    half), buf + off + half, lens[i] - half), whole);
		}
	free(buf);
}
END_TEST

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

START_TEST(msg_send_recv_round_trip)
{
	struct msg_io io = { .ost = 3, .oid = 77, .offset = 4096,
	    .length = 10 };
	char a[] = "hello ", b[] = "world";
	struct iovec iov[2] = { { a, 6 }, { b, 5 } };
	struct msg_hdr h;
	struct msg_io rio;
	char bulk[64];
	int sv[2];

	pair(sv);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_OST_WRITE, MSG_F_SYNC, 42, 0,
	    &io, sizeof(io), iov, 2), 0);
	ck_assert_int_eq(msg_recv(sv[1], &h, &rio, sizeof(rio), bulk,
	    sizeof(bulk)), 0);
	ck_assert_uint_eq(h.opcode, MSG_OP_OST_WRITE);
	ck_assert_uint_eq(h.flags, MSG_F_SYNC);
	ck_assert_uint_eq(h.reqid, 42);
	ck_assert_uint_eq(h.body_len, sizeof(io));
	ck_assert_uint_eq(h.bulk_len, 11);
	ck_assert_int_eq(memcmp(&rio, &io, sizeof(io)), 0);
	ck_assert_int_eq(memcmp(bulk, "hello world", 11), 0);

	/* a reply with a negative status and nothing else */
	ck_assert_int_eq(msg_send(sv[1], MSG_OP_OST_WRITE, MSG_F_REPLY, 42,
	    -ENOSPC, NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(msg_recv(sv[0], &h, NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(h.status, -ENOSPC);
	ck_assert_uint_eq(h.bulk_crc, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* msg_in: header, body and bulk of a reply from one read-ahead buffer,
 * the bulk scattered over iovecs, a longer body truncated, a bulk too big
 * drained (stream still in sync), and bytes after a reply visible. */
START_TEST(msg_in_reply_scatters_and_stays_in_sync)
{
	struct msg_attr a = { .ino = 9 }, got;
	char data[5000], x[3000], y[3000], rbuf[MSG_IN_BUF];
	struct iovec out = { data, sizeof(data) };
	struct iovec in2[2] = { { x, sizeof(x) }, { y, sizeof(y) } };
	struct msg_in in;
	uint32_t bl, rl, small;
	int32_t st;
	int sv[2];

	pair(sv);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_MDS_GETATTR, MSG_F_REPLY, 5,
	    0, &a, sizeof(a), &out, 1), 0);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_MDS_GETATTR, MSG_F_REPLY, 6,
	    0, &a, sizeof(a), &out, 1), 0);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_PING, MSG_F_REPLY, 7, 0,
	    NULL, 0, NULL, 0), 0);
	msg_in_init(&in, sv[1], rbuf, sizeof(rbuf));
	ck_assert_int_eq(msg_in_reply(&in, 5, MSG_OP_MDS_GETATTR, &got,
	    sizeof(got), &rl, in2, 2, &bl, &st), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(rl, sizeof(got));
	ck_assert_uint_eq(got.ino, 9);
	ck_assert_uint_eq(bl, sizeof(data));
	ck_assert_int_eq(memcmp(x, data, sizeof(x)), 0);
	ck_assert_int_eq(memcmp(y, data + sizeof(x), sizeof(data) -
	    sizeof(x)), 0);
	/* body truncated to 4 bytes; bulk does not fit one 3000-byte iovec */
	ck_assert_int_eq(msg_in_reply(&in, 6, MSG_OP_MDS_GETATTR, &small,
	    sizeof(small), &rl, in2, 1, &bl, &st), -EMSGSIZE);
	/* still in sync: the next reply decodes, nothing after it */
	ck_assert_int_eq(msg_in_reply(&in, 7, MSG_OP_PING, NULL, 0, NULL,
	    NULL, 0, NULL, &st), 0);
	ck_assert_uint_eq(msg_in_pending(&in), 0);
	/* a reply to another request is -EPROTO */
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_PING, MSG_F_REPLY, 8, 0,
	    NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(msg_in_reply(&in, 9, MSG_OP_PING, NULL, 0, NULL,
	    NULL, 0, NULL, &st), -EPROTO);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * The peer of a waiting reader: after 10 ms it reads the request (on a
 * unix stream socket that read wakes sleepers on the reader's socket),
 * and 10 ms later it sends the reply, well within MSG_IN_POLL_MS.
 */
static void *
slow_peer(void *arg)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	int fd = *(int *)arg;
	struct msg_hdr h;

	nanosleep(&pause, NULL);
	if (msg_read_full(fd, &h, sizeof(h)) == 0) {
		nanosleep(&pause, NULL);
		(void)msg_send(fd, MSG_OP_PING, MSG_F_REPLY, h.reqid, 0, NULL,
		    0, NULL, 0);
	}
	return NULL;
}

/*
 * A reader waiting for a reply sleeps once: the peer's read of the
 * request does not wake it (msg.c, in_wait_readable). Counted as this
 * thread's voluntary context switches; a read(2) straight away sleeps
 * twice (woken for nothing when the peer reads).
 */
START_TEST(msg_in_reply_sleeps_once)
{
	char rbuf[MSG_IN_BUF];
	const char *preload = getenv("LD_PRELOAD");
	struct rusage r0, r1;
	struct msg_in in;
	pthread_t t;
	int32_t st = -1;
	int sv[2];

	pair(sv);
	ck_assert_int_eq(pthread_create(&t, NULL, slow_peer, &sv[1]), 0);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_PING, 0, 41, 0, NULL, 0,
	    NULL, 0), 0);
	msg_in_init(&in, sv[0], rbuf, sizeof(rbuf));
	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &r0), 0);
	ck_assert_int_eq(msg_in_reply(&in, 41, MSG_OP_PING, NULL, 0, NULL,
	    NULL, 0, NULL, &st), 0);
	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &r1), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	/* valgrind runs one thread at a time: its scheduler's hand-offs are
	 * voluntary switches too (make valgrind; LD_PRELOAD names its core) */
	if (preload == NULL || strstr(preload, "vgpreload") == NULL)
		ck_assert_int_eq(r1.ru_nvcsw - r0.ru_nvcsw, 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* msg_sock_open: listen on an ephemeral port, dial it, refuse nonsense. */
START_TEST(msg_sock_open_listens_and_dials)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int lfd, fd, afd;

	lfd = msg_sock_open("127.0.0.1", 0, 8, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	fd = msg_sock_open("127.0.0.1", ntohs(sin.sin_port), 0, 1000);
	ck_assert_int_ge(fd, 0);
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(afd);
	close(fd);
	close(lfd);
	ck_assert_int_eq(msg_sock_open("127.0.0.1", 0, 0, 0), -EINVAL);
	ck_assert_int_eq(msg_sock_open("127.0.0.1", 70000, 0, 0), -EINVAL);
	ck_assert_int_eq(msg_sock_open("no.such.host.invalid", 1, 0, 100),
	    -EHOSTUNREACH);
}
END_TEST

START_TEST(msg_send_rejects_oversized)
{
	static char big[16];
	struct iovec iov[2] = { { big, MSG_BULK_MAX }, { big, 1 } };
	int sv[2];

	pair(sv);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_PING, 0, 1, 0, big,
	    MSG_BODY_MAX + 1, NULL, 0), -EINVAL);
	ck_assert_int_eq(msg_send(sv[0], MSG_OP_PING, 0, 1, 0, NULL, 0,
	    iov, 2), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Send a raw header (resealed unless `raw`) and expect msg_recv's error. */
static int
recv_after(const struct msg_hdr *h, int reseal, const void *tail,
    size_t tail_len, int close_after, uint32_t bulk_cap)
{
	struct msg_hdr x = *h, got;
	uint8_t body[128], bulk[128];
	int sv[2], rc;

	if (reseal)
		x.hdr_crc = msg_crc32c(0, &x, offsetof(struct msg_hdr,
		    hdr_crc));
	pair(sv);
	ck_assert_int_eq(write(sv[0], &x, sizeof(x)), (ssize_t)sizeof(x));
	if (tail_len > 0)
		ck_assert_int_eq(write(sv[0], tail, tail_len),
		    (ssize_t)tail_len);
	if (close_after)
		shutdown(sv[0], SHUT_WR);
	rc = msg_recv(sv[1], &got, body, sizeof(body), bulk, bulk_cap);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

START_TEST(msg_recv_short_header_is_reset)
{
	struct msg_hdr h, got;
	int sv[2];

	msg_hdr_init(&h, MSG_OP_PING, 0, 1, 0, 0, 0, 0);
	pair(sv);
	ck_assert_int_eq(write(sv[0], &h, 20), 20);
	shutdown(sv[0], SHUT_WR);
	ck_assert_int_eq(msg_recv(sv[1], &got, NULL, 0, NULL, 0),
	    -ECONNRESET);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(msg_recv_malformed_classes)
{
	struct msg_hdr good, h;
	uint8_t data[16] = "0123456789abcdef";

	msg_hdr_init(&good, MSG_OP_PING, 0, 1, 0, 0, 0, 0);
	ck_assert_int_eq(msg_hdr_check(&good), 0);

	h = good;
	h.magic ^= 1;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.version = 2;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.reqid = 2;		/* not resealed: hdr_crc mismatch */
	ck_assert_int_eq(recv_after(&h, 0, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.opcode = 15;		/* no opcode (99 is MDS_HSM_GET now) */
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.opcode = 0;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.body_len = MSG_BODY_MAX + 1;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	h = good;
	h.bulk_len = MSG_BULK_MAX + 1;
	h.bulk_crc = 1;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	/* body larger than the receiver's buffer */
	h = good;
	h.body_len = 129;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	/* bulk larger than the receiver's buffer */
	msg_hdr_init(&h, MSG_OP_PING, 0, 1, 0, 0, 16,
	    msg_crc32c(0, data, 16));
	ck_assert_int_eq(recv_after(&h, 0, data, 16, 1, 8), -EMSGSIZE);
	ck_assert_int_eq(recv_after(&h, 0, data, 16, 1, 16), 0);
	/* bulk CRC mismatch */
	msg_hdr_init(&h, MSG_OP_PING, 0, 1, 0, 0, 16,
	    msg_crc32c(0, data, 16) ^ 1);
	ck_assert_int_eq(recv_after(&h, 0, data, 16, 1, 128), -EBADMSG);
	/* truncated bulk */
	msg_hdr_init(&h, MSG_OP_PING, 0, 1, 0, 0, 16,
	    msg_crc32c(0, data, 16));
	ck_assert_int_eq(recv_after(&h, 0, data, 10, 1, 128), -ECONNRESET);
	/* bulk_crc set without bulk */
	h = good;
	h.bulk_crc = 5;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
	/* positive status */
	h = good;
	h.status = 5;
	ck_assert_int_eq(recv_after(&h, 1, NULL, 0, 1, 128), -EPROTO);
}
END_TEST

START_TEST(msg_req_body_min_per_opcode)
{
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_HELLO),
	    sizeof(struct msg_hello));
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_OST_WRITE),
	    sizeof(struct msg_io));
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_OST_STATFS),
	    sizeof(struct msg_obj));
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_MDS_RENAME),
	    sizeof(struct msg_rename));
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_PING), 0);
	ck_assert_int_eq(msg_op_valid(MSG_OP_OST_STATFS), 1);
	ck_assert_int_eq(msg_op_valid(MSG_OP_OST_FALLOC), 1);
	ck_assert_uint_eq(msg_req_body_min(MSG_OP_OST_FALLOC),
	    sizeof(struct msg_falloc));
	ck_assert_int_eq(msg_op_valid(MSG_OP_OST_FALLOC + 1), 0);
	ck_assert_int_eq(msg_op_valid(MSG_OP_MAX), 0);
}
END_TEST

START_TEST(msg_secret_load_formats)
{
	char dir[] = "/tmp/check_msg.XXXXXX", *p;
	uint8_t sec[MSG_SECRET_LEN];
	const char *hex =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	p = xasprintf("%s/s", dir);
	ck_assert_int_eq(file_write_atomic(p, hex, 64), 0);
	ck_assert_int_eq(msg_secret_load(p, sec), 0);
	ck_assert_uint_eq(sec[0], 0x00);
	ck_assert_uint_eq(sec[31], 0xff);
	ck_assert_int_eq(file_write_atomic(p, "abcd\n", 5), 0);
	ck_assert_int_eq(msg_secret_load(p, sec), -EINVAL);
	{
		char line[80];

		snprintf(line, sizeof(line), "%s\n", hex);
		ck_assert_int_eq(file_write_atomic(p, line, 65), 0);
		ck_assert_int_eq(msg_secret_load(p, sec), 0);
		line[3] = 'z';
		ck_assert_int_eq(file_write_atomic(p, line, 65), 0);
		ck_assert_int_eq(msg_secret_load(p, sec), -EINVAL);
	}
	ck_assert_int_lt(msg_secret_load("/nonexistent/x", sec), 0);
	rm_rf(dir);
	free(p);
}
END_TEST

/* --- against a live server --- */

static const uint8_t test_secret[MSG_SECRET_LEN] = { 1, 2, 3, 4, 5 };
static struct msg_srv *srv;
static int srv_port;

/* OST_READ: reply with `length` bytes of 'r'; OST_WRITE: echo the bulk
 * length; others: not served. */
static int
test_dispatch(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk)
{
	const struct msg_io *io = body;
	struct msg_io_rep rep;
	struct iovec iov;
	uint8_t *buf;

	(void)ctx;
	switch (h->opcode) {
	case MSG_OP_OST_READ:
		if (io->length > MSG_BULK_MAX)
			return -EINVAL;
		buf = msg_srv_conn_buf(c);
		if (buf == NULL)
			return -ENOMEM;
		memset(buf, 'r', io->length);
		iov.iov_base = buf;
		iov.iov_len = io->length;
		return msg_srv_reply(c, h, 0, NULL, 0, &iov, 1);
	case MSG_OP_OST_WRITE:
		memset(&rep, 0, sizeof(rep));
		rep.length = h->bulk_len;
		rep.obj_size = bulk != NULL ? ((const uint8_t *)bulk)[0] : 0;
		return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
	default:
		return -EOPNOTSUPP;
	}
}

static size_t
test_stats(void *ctx, char *buf, size_t cap)
{
	int n;

	(void)ctx;
	n = snprintf(buf, cap, "test_counter 7\n");
	return n < 0 ? 0 : (size_t)n;
}

static void
srv_setup(void)
{
	struct msg_srv_conf conf;

	signal(SIGPIPE, SIG_IGN);
	memset(&conf, 0, sizeof(conf));
	conf.kind = 2;
	conf.nost = 1;
	memcpy(conf.secret, test_secret, MSG_SECRET_LEN);
	conf.dispatch = test_dispatch;
	conf.stats = test_stats;
	conf.frame_timeout_ms = 300;
	srv = msg_srv_new(&conf, NULL);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(msg_srv_listen(srv, "127.0.0.1", 0, NULL), 0);
	srv_port = msg_srv_port(srv);
	ck_assert_int_gt(srv_port, 0);
	ck_assert_int_eq(msg_srv_start(srv), 0);
}

static void
srv_teardown(void)
{
	msg_srv_free(srv);
	srv = NULL;
}

static int
raw_connect(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)srv_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

/* A raw connection that has passed HELLO. */
static int
raw_hello(void)
{
	struct msg_hello hello;
	struct msg_hello_rep rep;
	struct msg_hdr h;
	int fd = raw_connect();

	memset(&hello, 0, sizeof(hello));
	memcpy(hello.secret, test_secret, MSG_SECRET_LEN);
	ck_assert_int_eq(msg_send(fd, MSG_OP_HELLO, 0, 1, 0, &hello,
	    sizeof(hello), NULL, 0), 0);
	ck_assert_int_eq(msg_recv(fd, &h, &rep, sizeof(rep), NULL, 0), 0);
	ck_assert_int_eq(h.status, 0);
	ck_assert_uint_eq(rep.kind, 2);
	return fd;
}

/* After a bad frame: optionally a reply with `status`, then EOF. */
static void
expect_reply_then_eof(int fd, int32_t status)
{
	struct msg_hdr h;
	uint8_t body[64];
	char c;

	if (status != 0) {
		ck_assert_int_eq(msg_recv(fd, &h, body, sizeof(body), NULL, 0),
		    0);
		ck_assert_int_eq(h.status, status);
		ck_assert_uint_ne(h.flags & MSG_F_REPLY, 0);
	}
	ck_assert_int_eq(read(fd, &c, 1), 0);
	close(fd);
}

static void
expect_served(void)
{
	struct msg_ping_rep ping;
	uint32_t kind = 0, len = 0;
	int fd;

	fd = msg_connect("127.0.0.1", srv_port, test_secret, &kind);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(kind, 2);
	ck_assert_int_eq(msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0,
	    &ping, sizeof(ping), &len, NULL, 0, NULL), 0);
	ck_assert_uint_eq(len, sizeof(ping));
	ck_assert_uint_eq(ping.kind, 2);
	close(fd);
}

static void
send_raw(int fd, const struct msg_hdr *h, int reseal, const void *tail,
    size_t n)
{
	struct msg_hdr x = *h;

	if (reseal)
		x.hdr_crc = msg_crc32c(0, &x, offsetof(struct msg_hdr,
		    hdr_crc));
	ck_assert_int_eq(write(fd, &x, sizeof(x)), (ssize_t)sizeof(x));
	if (n > 0)
		ck_assert_int_eq(write(fd, tail, n), (ssize_t)n);
}

START_TEST(msg_srv_calls_work)
{
	struct msg_io io = { .ost = 0, .oid = 1, .offset = 0,
	    .length = 100000 };
	struct msg_io_rep rep;
	uint8_t *buf = malloc(200000);
	char stats[4096];
	struct iovec iov;
	uint32_t blen = 0, len = 0;
	int fd;

	fd = msg_connect("127.0.0.1", srv_port, test_secret, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_READ, 0, &io, sizeof(io),
	    NULL, 0, NULL, 0, NULL, buf, 200000, &blen), 0);
	ck_assert_uint_eq(blen, 100000);
	ck_assert_uint_eq(buf[99999], 'r');
	/* a reply bulk that does not fit is drained: still in sync */
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_READ, 0, &io, sizeof(io),
	    NULL, 0, NULL, 0, NULL, buf, 10, &blen), -EMSGSIZE);
	/* a reply body the caller did not ask for is dropped */
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_WRITE, 0, &io, sizeof(io),
	    NULL, 0, NULL, 0, NULL, NULL, 0, NULL), 0);
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_WRITE, 0, &io, sizeof(io),
	    NULL, 0, &rep, 8, &len, NULL, 0, NULL), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_uint_eq(rep.length, 0);
	memset(buf, 9, 5000);
	iov.iov_base = buf;
	iov.iov_len = 5000;
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_WRITE, 0, &io, sizeof(io),
	    &iov, 1, &rep, sizeof(rep), &len, NULL, 0, NULL), 0);
	ck_assert_uint_eq(len, sizeof(rep));
	ck_assert_uint_eq(rep.length, 5000);
	ck_assert_uint_eq(rep.obj_size, 9);
	/* not served by the dispatcher: error status, connection kept */
	ck_assert_int_eq(msg_call(fd, MSG_OP_OST_SYNC, 0, &io, sizeof(struct
	    msg_obj), NULL, 0, NULL, 0, NULL, NULL, 0, NULL), -EOPNOTSUPP);
	ck_assert_int_eq(msg_call(fd, MSG_OP_STATS, 0, NULL, 0, NULL, 0,
	    NULL, 0, NULL, stats, sizeof(stats) - 1, &blen), 0);
	stats[blen] = '\0';
	ck_assert_ptr_nonnull(strstr(stats, "frames "));
	ck_assert_ptr_nonnull(strstr(stats, "test_counter 7\n"));
	close(fd);
	free(buf);
}
END_TEST

/* The same-host shortcut (msg.h): a dial of the server's own (host, port)
 * lands on its abstract unix socket and works as TCP does; turned off, or
 * for another spelling of the host, TCP. */
static int
sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	return ss.ss_family;
}

START_TEST(msg_srv_local_socket_shortcut)
{
	char stats[4096];
	uint32_t blen = 0;
	int fd;

	fd = msg_connect("127.0.0.1", srv_port, test_secret, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_family(fd), AF_UNIX);
	ck_assert_int_eq(msg_call(fd, MSG_OP_STATS, 0, NULL, 0, NULL, 0,
	    NULL, 0, NULL, stats, sizeof(stats) - 1, &blen), 0);
	close(fd);
	/* the secret still decides */
	{
		uint8_t bad[MSG_SECRET_LEN];

		memset(bad, 0x5a, sizeof(bad));
		ck_assert_int_eq(msg_connect("127.0.0.1", srv_port, bad, NULL),
		    -EACCES);
	}
	/* another spelling of the address: no such local name, TCP */
	fd = msg_connect("127.0.0.001", srv_port, test_secret, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_family(fd), AF_INET);
	close(fd);
	setenv("FSX_NO_LOCAL_SOCKET", "1", 1);
	fd = msg_connect("127.0.0.1", srv_port, test_secret, NULL);
	unsetenv("FSX_NO_LOCAL_SOCKET");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sock_family(fd), AF_INET);
	ck_assert_int_eq(msg_call(fd, MSG_OP_STATS, 0, NULL, 0, NULL, 0,
	    NULL, 0, NULL, stats, sizeof(stats) - 1, &blen), 0);
	close(fd);
}
END_TEST

START_TEST(msg_srv_wrong_secret_closes)
{
	uint8_t bad[MSG_SECRET_LEN] = { 9 };

	ck_assert_int_eq(msg_connect("127.0.0.1", srv_port, bad, NULL),
	    -EACCES);
	expect_served();
}
END_TEST

START_TEST(msg_srv_request_before_hello_closes)
{
	int fd = raw_connect();

	ck_assert_int_eq(msg_send(fd, MSG_OP_PING, 0, 1, 0, NULL, 0, NULL,
	    0), 0);
	expect_reply_then_eof(fd, -EPROTO);
	expect_served();
}
END_TEST

START_TEST(msg_srv_malformed_frames_close_only_theirs)
{
	struct msg_hdr good, h;
	uint8_t data[64] = { 0 };
	int fd, keep;

	/* a healthy connection that lives through everything below */
	keep = raw_hello();
	msg_hdr_init(&good, MSG_OP_PING, 0, 5, 0, 0, 0, 0);

	/* short header, then the peer goes away */
	fd = raw_hello();
	ck_assert_int_eq(write(fd, &good, 20), 20);
	close(fd);

	h = good;
	h.magic = 0xdeadbeef;
	fd = raw_hello();
	send_raw(fd, &h, 1, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	h = good;
	h.version = 9;
	fd = raw_hello();
	send_raw(fd, &h, 1, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	h = good;
	h.reqid = 99;
	fd = raw_hello();
	send_raw(fd, &h, 0, NULL, 0);	/* bad hdr_crc */
	expect_reply_then_eof(fd, -EPROTO);

	h = good;
	h.body_len = MSG_BODY_MAX + 1;
	fd = raw_hello();
	send_raw(fd, &h, 1, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	h = good;
	h.bulk_len = MSG_BULK_MAX + 1;
	h.bulk_crc = 1;
	fd = raw_hello();
	send_raw(fd, &h, 1, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	h = good;
	h.opcode = 1000;
	fd = raw_hello();
	send_raw(fd, &h, 1, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	/* bulk CRC mismatch */
	msg_hdr_init(&h, MSG_OP_OST_WRITE, 0, 6, 0, sizeof(struct msg_io), 32,
	    12345);
	fd = raw_hello();
	send_raw(fd, &h, 0, data, sizeof(struct msg_io) + 32);
	expect_reply_then_eof(fd, -EBADMSG);

	/* body shorter than the opcode needs */
	msg_hdr_init(&h, MSG_OP_OST_READ, 0, 7, 0, 8, 0, 0);
	fd = raw_hello();
	send_raw(fd, &h, 0, data, 8);
	expect_reply_then_eof(fd, -EPROTO);

	/* a request flagged as a reply */
	msg_hdr_init(&h, MSG_OP_PING, MSG_F_REPLY, 8, 0, 0, 0, 0);
	fd = raw_hello();
	send_raw(fd, &h, 0, NULL, 0);
	expect_reply_then_eof(fd, -EPROTO);

	/* a second HELLO */
	msg_hdr_init(&h, MSG_OP_HELLO, 0, 9, 0, sizeof(struct msg_hello), 0,
	    0);
	fd = raw_hello();
	send_raw(fd, &h, 0, data, sizeof(struct msg_hello));
	expect_reply_then_eof(fd, -EPROTO);

	/* header promises a large bulk, then the client stalls: closed
	   after the frame timeout (300 ms here) */
	msg_hdr_init(&h, MSG_OP_OST_WRITE, 0, 10, 0, sizeof(struct msg_io),
	    MSG_BULK_MAX, 1);
	fd = raw_hello();
	send_raw(fd, &h, 0, data, sizeof(struct msg_io) + 10);
	expect_reply_then_eof(fd, 0);

	/* garbage instead of HELLO */
	fd = raw_connect();
	ck_assert_int_eq(write(fd, data, 40), 40);
	expect_reply_then_eof(fd, -EPROTO);

	/* the old connection and a new one still work */
	{
		struct msg_ping_rep ping;
		struct msg_hdr r;

		ck_assert_int_eq(msg_send(keep, MSG_OP_PING, 0, 77, 0, NULL,
		    0, NULL, 0), 0);
		ck_assert_int_eq(msg_recv(keep, &r, &ping, sizeof(ping),
		    NULL, 0), 0);
		ck_assert_uint_eq(r.reqid, 77);
		ck_assert_int_eq(r.status, 0);
		close(keep);
	}
	expect_served();
}
END_TEST

/* Silent peers: past pending_max the oldest is dropped, none outlives the
 * HELLO deadline, and an authenticated client gets through all along. */
START_TEST(msg_srv_silent_peers_evicted)
{
	struct msg_srv_conf conf;
	struct msg_srv *s2;
	int fds[12], fd, p2, saved = srv_port;
	char c;

	memset(&conf, 0, sizeof(conf));
	conf.kind = 2;
	memcpy(conf.secret, test_secret, MSG_SECRET_LEN);
	conf.dispatch = test_dispatch;
	conf.hello_timeout_ms = 400;
	conf.pending_max = 4;
	s2 = msg_srv_new(&conf, NULL);
	ck_assert_ptr_nonnull(s2);
	ck_assert_int_eq(msg_srv_listen(s2, "127.0.0.1", 0, NULL), 0);
	p2 = msg_srv_port(s2);
	ck_assert_int_eq(msg_srv_start(s2), 0);
	srv_port = p2;			/* raw_connect() dials it */
	for (int i = 0; i < 12; i++)
		fds[i] = raw_connect();
	usleep(100 * 1000);
	/* the 8 oldest were dropped to keep 4 pending */
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(read(fds[i], &c, 1), 0);
	fd = msg_connect("127.0.0.1", p2, test_secret, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0, NULL,
	    0, NULL, NULL, 0, NULL), 0);
	/* the rest go at the deadline; the authenticated one stays */
	usleep(700 * 1000);
	for (int i = 8; i < 12; i++)
		ck_assert_int_eq(read(fds[i], &c, 1), 0);
	ck_assert_int_eq(msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0, NULL,
	    0, NULL, NULL, 0, NULL), 0);
	for (int i = 0; i < 12; i++)
		close(fds[i]);
	close(fd);
	srv_port = saved;
	msg_srv_free(s2);
}
END_TEST

START_TEST(msg_srv_shutdown_stops_accepting)
{
	int fd = msg_connect("127.0.0.1", srv_port, test_secret, NULL);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(msg_call(fd, MSG_OP_SHUTDOWN, 0, NULL, 0, NULL, 0,
	    NULL, 0, NULL, NULL, 0, NULL), 0);
	close(fd);
}
END_TEST

Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("codec");
	TCase *ts = tcase_create("server");

	tcase_add_test(tc, msg_crc32c_known_vector);
	tcase_add_test(tc, msg_crc32c_matches_reference_all_sizes);
	tcase_add_test(tc, msg_send_recv_round_trip);
	tcase_add_test(tc, msg_send_rejects_oversized);
	tcase_add_test(tc, msg_sock_open_listens_and_dials);
	tcase_add_test(tc, msg_in_reply_scatters_and_stays_in_sync);
	tcase_add_test(tc, msg_in_reply_sleeps_once);
	tcase_add_test(tc, msg_recv_short_header_is_reset);
	tcase_add_test(tc, msg_recv_malformed_classes);
	tcase_add_test(tc, msg_req_body_min_per_opcode);
	tcase_add_test(tc, msg_secret_load_formats);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(ts, srv_setup, srv_teardown);
	tcase_add_test(ts, msg_srv_calls_work);
	tcase_add_test(ts, msg_srv_local_socket_shortcut);
	tcase_add_test(ts, msg_srv_wrong_secret_closes);
	tcase_add_test(ts, msg_srv_request_before_hello_closes);
	tcase_add_test(ts, msg_srv_malformed_frames_close_only_theirs);
	tcase_add_test(ts, msg_srv_shutdown_stops_accepting);
	tcase_add_test(ts, msg_srv_silent_peers_evicted);
	tcase_set_timeout(ts, 10);
	suite_add_tcase(s, ts);
	return s;
}
