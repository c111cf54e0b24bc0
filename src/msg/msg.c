/*
 * The engine wire protocol: CRC32C, header sealing and checking, blocking
 * frame I/O and the client connection helpers (see msg.h for the frame
 * layout).
 *
 * Error conventions of the frame I/O (every function returns 0 or -errno):
 *
 *   -ECONNRESET  the peer closed the connection (at any point of a frame)
 *   -ETIMEDOUT   SO_RCVTIMEO/SO_SNDTIMEO or a poll timeout expired
 *   -EPROTO      a header failed msg_hdr_check(), or a body did not fit
 *   -EMSGSIZE    a bulk did not fit the caller's buffer (header and body
 *                were read; the bulk is still in the socket)
 *   -EBADMSG     the bulk's CRC32C did not match the header
 *
 * After any of these the stream is out of sync and the connection must be
 * closed, except after -EMSGSIZE from msg_call(), which drains the bulk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "core/log.h"
#include "core/util.h"
#include "msg/msg.h"

/* --- CRC32C (Castagnoli, reflected polynomial 0x82f63b78) --- */

static uint32_t crc_tab[8][256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = crc_tab[0][i];

		for (int t = 1; t < 8; t++) {
			c = crc_tab[0][c & 0xff] ^ (c >> 8);
			crc_tab[t][i] = c;
		}
	}
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	if (getenv("FSX_CRC_SOFT") != NULL)
		crc_hw = 0;
}

/* Slicing-by-8 over a raw (pre-inverted) crc. */
static uint32_t
crc_soft(uint32_t c, const uint8_t *p, size_t len)
{
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= c;
		c = crc_tab[7][w & 0xff] ^
		    crc_tab[6][(w >> 8) & 0xff] ^
		    crc_tab[5][(w >> 16) & 0xff] ^
		    crc_tab[4][(w >> 24) & 0xff] ^
		    crc_tab[3][(w >> 32) & 0xff] ^
		    crc_tab[2][(w >> 40) & 0xff] ^
		    crc_tab[1][(w >> 48) & 0xff] ^
		    crc_tab[0][(w >> 56) & 0xff];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
/*
 * The SSE4.2 crc32 instruction has a latency of 3 cycles and a throughput
 * of 1 per cycle, so three independent streams are interleaved over large
 * buffers and combined with the shift tables below.
 */
#define CRC_LANE	4096		/* bytes per lane per round */

static uint32_t crc_shift_tab[4][256];	/* multiply by x^(8*CRC_LANE) */
static pthread_once_t crc_shift_once = PTHREAD_ONCE_INIT;

/* Multiply a and b modulo P in the reflected domain. */
static uint32_t
crc_gf_mul(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;

	for (int i = 0; i < 32; i++) {
		if (a & 0x80000000u)
			prod ^= b;
		a <<= 1;
		b = (b & 1) ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return prod;
}

static void
crc_shift_init(void)
{
	uint32_t xn = 0x80000000u;	/* x^0 in the reflected domain */
	uint32_t x8 = 0x00800000u;	/* x^8 */

	/* x^(8 * CRC_LANE), by repeated multiplication: runs once */
	for (int i = 0; i < CRC_LANE; i++)
		xn = crc_gf_mul(xn, x8);
	for (int t = 0; t < 4; t++)
		for (uint32_t i = 0; i < 256; i++)
			crc_shift_tab[t][i] = crc_gf_mul(i << (8 * t), xn);
}

static inline uint32_t
crc_shift(uint32_t c)
{
	return crc_shift_tab[0][c & 0xff] ^ crc_shift_tab[1][(c >> 8) & 0xff] ^
	    crc_shift_tab[2][(c >> 16) & 0xff] ^ crc_shift_tab[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t
crc_hw_run(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c0 = c;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c0 = _mm_crc32_u8((uint32_t)c0, *p++);
		len--;
	}
	if (len >= 3 * CRC_LANE)
		pthread_once(&crc_shift_once, crc_shift_init);
	while (len >= 3 * CRC_LANE) {
		uint64_t c1 = 0, c2 = 0;
		const uint8_t *p1 = p + CRC_LANE, *p2 = p + 2 * CRC_LANE;

		for (size_t i = 0; i < CRC_LANE; i += 8) {
			uint64_t w0, w1, w2;

			memcpy(&w0, p + i, 8);
			memcpy(&w1, p1 + i, 8);
			memcpy(&w2, p2 + i, 8);
			c0 = _mm_crc32_u64(c0, w0);
			c1 = _mm_crc32_u64(c1, w1);
			c2 = _mm_crc32_u64(c2, w2);
		}
		c0 = crc_shift((uint32_t)c0) ^ (uint32_t)c1;
		c0 = crc_shift((uint32_t)c0) ^ (uint32_t)c2;
		p += 3 * CRC_LANE;
		len -= 3 * CRC_LANE;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c0 = _mm_crc32_u64(c0, w);
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c0 = _mm_crc32_u8((uint32_t)c0, *p++);
	return (uint32_t)c0;
}
#endif

uint32_t
msg_crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc_hw_run(c, buf, len);
#endif
	return ~crc_soft(c, buf, len);
}

/* --- headers --- */

void
msg_hdr_init(struct msg_hdr *h, uint16_t op, uint32_t flags, uint64_t reqid,
    int32_t status, uint32_t body_len, uint32_t bulk_len, uint32_t bulk_crc)
{
	h->magic = MSG_MAGIC;
	h->version = MSG_VERSION;
	h->opcode = op;
	h->flags = flags;
	h->status = status;
	h->reqid = reqid;
	h->body_len = body_len;
	h->bulk_len = bulk_len;
	h->bulk_crc = bulk_len ? bulk_crc : 0;
	h->hdr_crc = msg_crc32c(0, h, offsetof(struct msg_hdr, hdr_crc));
}

static const char *const msg_op_names[MSG_OP_MAX] = {
	[MSG_OP_HELLO] = "hello",
	[MSG_OP_PING] = "ping",
	[MSG_OP_STATS] = "stats",
	[MSG_OP_SHUTDOWN] = "shutdown",
	[MSG_OP_OST_CREATE] = "ost_create",
	[MSG_OP_OST_DESTROY] = "ost_destroy",
	[MSG_OP_OST_READ] = "ost_read",
	[MSG_OP_OST_WRITE] = "ost_write",
	[MSG_OP_OST_PUNCH] = "ost_punch",
	[MSG_OP_OST_SYNC] = "ost_sync",
	[MSG_OP_OST_GETATTR] = "ost_getattr",
	[MSG_OP_OST_STATFS] = "ost_statfs",
	[MSG_OP_OST_FALLOC] = "ost_falloc",
	[MSG_OP_OST_DESTROY_MANY] = "ost_destroy_many",
	[MSG_OP_OST_LOCAL] = "ost_local",
	[MSG_OP_OST_SNAP] = "ost_snap",
	[MSG_OP_MDS_REVOKE] = "revoke",
	[MSG_OP_HSM_CONF] = "hsm_conf",
	[MSG_OP_HSM_STATUS] = "hsm_status",
	[MSG_OP_HSM_TASK] = "hsm_task",
	[MSG_OP_HSM_CANCEL] = "hsm_cancel",
	[MSG_OP_MDS_HSM_ACTION] = "hsm_action",
	[MSG_OP_MDS_OSTMAP] = "ostmap",
	[MSG_OP_MDS_LOOKUP] = "lookup",
	[MSG_OP_MDS_GETATTR] = "getattr",
	[MSG_OP_MDS_SETATTR] = "setattr",
	[MSG_OP_MDS_CREATE] = "create",
	[MSG_OP_MDS_MKNOD] = "mknod",
	[MSG_OP_MDS_SYMLINK] = "symlink",
	[MSG_OP_MDS_LINK] = "link",
	[MSG_OP_MDS_UNLINK] = "unlink",
	[MSG_OP_MDS_RMDIR] = "rmdir",
	[MSG_OP_MDS_RENAME] = "rename",
	[MSG_OP_MDS_READDIR] = "readdir",
	[MSG_OP_MDS_READLINK] = "readlink",
	[MSG_OP_MDS_OPEN] = "open",
	[MSG_OP_MDS_CLOSE] = "close",
	[MSG_OP_MDS_GETXATTR] = "getxattr",
	[MSG_OP_MDS_SETXATTR] = "setxattr",
	[MSG_OP_MDS_LISTXATTR] = "listxattr",
	[MSG_OP_MDS_RMXATTR] = "rmxattr",
	[MSG_OP_MDS_STATFS] = "statfs",
	[MSG_OP_MDS_GETLAYOUT] = "getlayout",
	[MSG_OP_MDS_SETLAYOUT] = "setlayout",
	[MSG_OP_MDS_APPEND] = "append",
	[MSG_OP_MDS_OSTADD] = "ostadd",
	[MSG_OP_OST_SETCAP] = "setcap",
	[MSG_OP_MDS_SESSION] = "session",
	[MSG_OP_MDS_LOCK] = "lock",
	[MSG_OP_MDS_SNAP] = "snap",
	[MSG_OP_MDS_HSM_REGISTER] = "hsm_register",
	[MSG_OP_MDS_HSM_DONE] = "hsm_done",
	[MSG_OP_MDS_HSM_GET] = "hsm_get",
	[MSG_OP_MDS_HSM_SET] = "hsm_set",
	[MSG_OP_MDS_HSM_IMPORT] = "hsm_import",
	[MSG_OP_MDS_HSM_LIST] = "hsm_list",
	[MSG_OP_MDS_HSM_PROGRESS] = "hsm_progress",
};

const char *
msg_op_name(uint16_t op)
{
	if (op < MSG_OP_MAX && msg_op_names[op] != NULL)
		return msg_op_names[op];
	return "unknown";
}

int
msg_op_valid(uint16_t op)
{
	if (op >= MSG_OP_HELLO && op <= MSG_OP_SHUTDOWN)
		return 1;
	if (op >= MSG_OP_OST_CREATE && op <= MSG_OP_OST_FALLOC)
		return 1;
	if (op >= MSG_OP_MDS_OSTMAP && op < MSG_OP_MAX)
		return 1;
	return 0;
}

int
msg_hdr_check(const struct msg_hdr *h)
{
	if (h->magic != MSG_MAGIC || h->version != MSG_VERSION)
		return -EPROTO;
	if (h->hdr_crc != msg_crc32c(0, h, offsetof(struct msg_hdr, hdr_crc)))
		return -EPROTO;
	/* an error reply may echo any opcode (the answer to an unknown one) */
	if (!msg_op_valid(h->opcode) && !((h->flags & MSG_F_REPLY) &&
	    h->status < 0 && h->body_len == 0 && h->bulk_len == 0))
		return -EPROTO;
	if (h->body_len > MSG_BODY_MAX || h->bulk_len > MSG_BULK_MAX)
		return -EPROTO;
	if (h->bulk_len == 0 && h->bulk_crc != 0)
		return -EPROTO;
	if (h->status > 0 || h->status < -4095)
		return -EPROTO;
	return 0;
}

size_t
msg_req_body_min(uint16_t op)
{
	switch (op) {
	case MSG_OP_HELLO:
		return sizeof(struct msg_hello);
	case MSG_OP_OST_CREATE:
	case MSG_OP_OST_DESTROY:
	case MSG_OP_OST_DESTROY_MANY:
	case MSG_OP_OST_SYNC:
	case MSG_OP_OST_GETATTR:
	case MSG_OP_OST_STATFS:
	case MSG_OP_OST_LOCAL:
		return sizeof(struct msg_obj);
	case MSG_OP_OST_READ:
	case MSG_OP_OST_WRITE:
	case MSG_OP_OST_PUNCH:
		return sizeof(struct msg_io);
	case MSG_OP_OST_FALLOC:
		return sizeof(struct msg_falloc);
	case MSG_OP_MDS_LOOKUP:
	case MSG_OP_MDS_UNLINK:
	case MSG_OP_MDS_RMDIR:
		return sizeof(struct msg_name);
	case MSG_OP_MDS_GETATTR:
	case MSG_OP_MDS_READLINK:
	case MSG_OP_MDS_LISTXATTR:
	case MSG_OP_MDS_GETLAYOUT:
	case MSG_OP_MDS_SETLAYOUT:
		return sizeof(struct msg_ino);
	case MSG_OP_MDS_SETATTR:
		return sizeof(struct msg_setattr);
	case MSG_OP_MDS_CREATE:
	case MSG_OP_MDS_MKNOD:
	case MSG_OP_MDS_SYMLINK:
		return sizeof(struct msg_create);
	case MSG_OP_MDS_LINK:
		return sizeof(struct msg_link);
	case MSG_OP_MDS_RENAME:
		return sizeof(struct msg_rename);
	case MSG_OP_MDS_READDIR:
		return sizeof(struct msg_readdir);
	case MSG_OP_MDS_OPEN:
		return sizeof(struct msg_open);
	case MSG_OP_MDS_CLOSE:
		return sizeof(struct msg_close);
	case MSG_OP_MDS_GETXATTR:
	case MSG_OP_MDS_SETXATTR:
	case MSG_OP_MDS_RMXATTR:
		return sizeof(struct msg_xattr);
	case MSG_OP_MDS_APPEND:
		return sizeof(struct msg_append);
	case MSG_OP_OST_SETCAP:
		return sizeof(struct msg_ost_cap);
	case MSG_OP_MDS_SESSION:
		return sizeof(struct msg_session);
	case MSG_OP_MDS_REVOKE:
		return sizeof(struct msg_revoke);
	case MSG_OP_MDS_LOCK:
		return sizeof(struct msg_lock);
	case MSG_OP_OST_SNAP:
	case MSG_OP_MDS_SNAP:
		return sizeof(struct msg_snap);
	case MSG_OP_MDS_HSM_REGISTER:
		return sizeof(struct msg_hsm_reg);
	case MSG_OP_MDS_HSM_ACTION:
		return sizeof(struct msg_hsm_action);
	case MSG_OP_MDS_HSM_DONE:
		return sizeof(struct msg_hsm_done);
	case MSG_OP_MDS_HSM_GET:
		return sizeof(struct msg_ino);
	case MSG_OP_MDS_HSM_SET:
		return sizeof(struct msg_hsm_set);
	case MSG_OP_MDS_HSM_IMPORT:
		return sizeof(struct msg_hsm_import);
	case MSG_OP_MDS_HSM_LIST:
		return sizeof(struct msg_hsm_list);
	case MSG_OP_MDS_HSM_PROGRESS:
		return sizeof(struct msg_hsm_progress);
	default:
		return 0;
	}
}

char *
msg_obj_name(char buf[MSG_OBJ_NAME_MAX], uint64_t oid)
{
	snprintf(buf, MSG_OBJ_NAME_MAX, "%02x/%" PRIu64,
	    (unsigned)(oid & 0xff), oid);
	return buf;
}

int
msg_boot_id(char out[MSG_BOOT_ID_LEN], uint64_t *netns)
{
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	memset(out, 0, MSG_BOOT_ID_LEN);
	*netns = 0;
	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	*netns = (uint64_t)st.st_ino;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, MSG_BOOT_ID_LEN - 1);
	if (n < 0)
		rc = -errno;
	close(fd);
	if (rc < 0 || n < 32) {
		memset(out, 0, MSG_BOOT_ID_LEN);
		return rc < 0 ? rc : -EIO;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return 0;
}

/* --- blocking socket I/O --- */

static int
io_errno(void)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -ETIMEDOUT;
	if (errno == EPIPE)
		return -ECONNRESET;
	return -errno;
}

int
msg_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return io_errno();
		}
		if (r == 0)
			return -ECONNRESET;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Write every byte of iov[0..n) (the array is modified). */
static int
write_iov(int fd, struct iovec *iov, int n)
{
	struct msghdr mh;
	int use_send = 1;

	while (n > 0) {
		ssize_t w;

		if (iov->iov_len == 0) {
			iov++;
			n--;
			continue;
		}
		if (use_send) {
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)(n > 1024 ? 1024 : n);
			w = sendmsg(fd, &mh, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				use_send = 0;
				continue;
			}
		} else
			w = writev(fd, iov, n > 1024 ? 1024 : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return io_errno();
		}
		while (w > 0 && n > 0) {
			if ((size_t)w >= iov->iov_len) {
				w -= (ssize_t)iov->iov_len;
				iov++;
				n--;
			} else {
				iov->iov_base = (uint8_t *)iov->iov_base + w;
				iov->iov_len -= (size_t)w;
				w = 0;
			}
		}
	}
	return 0;
}

int
msg_send(int fd, uint16_t op, uint32_t flags, uint64_t reqid,
    int32_t status, const void *body, uint32_t body_len,
    const struct iovec *bulk, int nbulk)
{
	struct iovec iov[2 + MSG_IOV_MAX];
	struct msg_hdr h;
	uint64_t blen = 0;
	uint32_t crc = 0;
	int n = 0;

	if (nbulk < 0 || nbulk > MSG_IOV_MAX || body_len > MSG_BODY_MAX ||
	    (body_len > 0 && body == NULL))
		return -EINVAL;
	for (int i = 0; i < nbulk; i++) {
		blen += bulk[i].iov_len;
		if (blen > MSG_BULK_MAX)
			return -EMSGSIZE;
	}
	for (int i = 0; i < nbulk; i++)
		crc = msg_crc32c(crc, bulk[i].iov_base, bulk[i].iov_len);
	msg_hdr_init(&h, op, flags, reqid, status, body_len, (uint32_t)blen,
	    crc);
	iov[n].iov_base = &h;
	iov[n++].iov_len = sizeof(h);
	if (body_len > 0) {
		iov[n].iov_base = (void *)(uintptr_t)body;
		iov[n++].iov_len = body_len;
	}
	for (int i = 0; i < nbulk; i++)
		if (bulk[i].iov_len > 0)
			iov[n++] = bulk[i];
	return write_iov(fd, iov, n);
}

/* --- frame decoding: one reader for servers, clients and tools --- */

void
msg_in_init(struct msg_in *in, int fd, void *buf, size_t cap)
{
	in->fd = fd;
	in->buf = buf;
	in->cap = buf != NULL ? cap : 0;
	in->off = in->len = 0;
}

size_t
msg_in_pending(const struct msg_in *in)
{
	return in->len - in->off;
}

/*
 * Wait (at most MSG_IN_POLL_MS) until fd is readable, before the read(2)
 * that waits for a frame to begin. A reader asleep in read(2) on a
 * unix stream socket is woken each time the peer reads what this side
 * sent (the peer's read frees the skb, and the kernel's write-space
 * callback wakes every sleeper on this socket's queue, whatever it waits
 * for): a client waiting for a reply woke once for nothing when the
 * server took its request, and a server waiting for the next request
 * woke when the client took the reply. poll(2) sleeps on the same queue
 * but is woken only for POLLIN: on the engine's request-reply
 * connections this halved the MDS's context switches and took its CPU
 * per unlink from 98 to 63 µs (docs/design.md, "Engine"). After
 * MSG_IN_POLL_MS, or if poll fails, the read waits as before, with the
 * socket's own SO_RCVTIMEO (a timeout thus runs up to MSG_IN_POLL_MS
 * late).
 */
static void
in_wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	(void)poll(&p, 1, MSG_IN_POLL_MS);
}

int
msg_in_fill(struct msg_in *in, size_t want, int idle)
{
	if (want > in->cap)
		return -EINVAL;
	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	while (in->len < want) {
		ssize_t r;

		if (in->len == 0)
			in_wait_readable(in->fd);
		r = read(in->fd, in->buf + in->len, in->cap - in->len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && idle &&
			    in->len == 0)
				continue;	/* idle: no frame begun */
			return io_errno();
		}
		if (r == 0)
			return -ECONNRESET;
		in->len += (size_t)r;
	}
	return 0;
}

/* Up to len buffered bytes into dst (NULL: dropped); returns how many. */
static size_t
in_buffered(struct msg_in *in, void *dst, size_t len)
{
	size_t k = in->len - in->off;

	if (k > len)
		k = len;
	if (k == 0)
		return 0;	/* also: no read-ahead buffer (NULL) */
	if (dst != NULL)
		memcpy(dst, in->buf + in->off, k);
	in->off += k;
	if (in->off == in->len)
		in->off = in->len = 0;
	return k;
}

int
msg_in_take(struct msg_in *in, void *dst, size_t len)
{
	size_t k = in_buffered(in, dst, len);

	if (k == len)
		return 0;
	if (dst == NULL)
		return msg_drain(in->fd, (uint32_t)(len - k));
	return msg_read_full(in->fd, (uint8_t *)dst + k, len - k);
}

/*
 * len bytes into the segments of iov (which must hold them: else -EPROTO,
 * nothing read), buffered bytes first, then readv(2) straight into place.
 */
static int
in_takev(struct msg_in *in, const struct iovec *iov, int n, size_t len)
{
	struct iovec v[MSG_IOV_MAX];
	struct iovec *cur = v;
	int nv = 0;

	for (size_t left = len; left > 0; iov++, n--) {
		size_t l;

		if (n == 0 || nv == MSG_IOV_MAX)
			return -EPROTO;
		l = iov->iov_len < left ? iov->iov_len : left;
		if (l == 0)
			continue;
		v[nv].iov_base = iov->iov_base;
		v[nv++].iov_len = l;
		left -= l;
	}
	while (nv > 0) {
		size_t k = in_buffered(in, cur->iov_base, cur->iov_len);
		ssize_t r;

		if (k < cur->iov_len) {
			cur->iov_base = (uint8_t *)cur->iov_base + k;
			cur->iov_len -= k;
			r = readv(in->fd, cur, nv > 1024 ? 1024 : nv);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return io_errno();
			if (r == 0)
				return -ECONNRESET;
			k = (size_t)r;
		}
		while (nv > 0 && k >= cur->iov_len) {
			k -= cur->iov_len;
			cur++;
			nv--;
		}
		if (nv > 0) {
			cur->iov_base = (uint8_t *)cur->iov_base + k;
			cur->iov_len -= k;
		}
	}
	return 0;
}

static uint32_t
iov_crc(const struct iovec *iov, int n, size_t len)
{
	uint32_t crc = 0;

	for (int i = 0; i < n && len > 0; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		crc = msg_crc32c(crc, iov[i].iov_base, l);
		len -= l;
	}
	return crc;
}

int
msg_in_hdr(struct msg_in *in, struct msg_hdr *h, int idle)
{
	int rc;

	if (in->cap >= sizeof(*h)) {
		rc = msg_in_fill(in, sizeof(*h), idle);
		if (rc == 0)
			rc = msg_in_take(in, h, sizeof(*h));
	} else
		rc = msg_read_full(in->fd, h, sizeof(*h));
	if (rc < 0)
		return rc;
	return msg_hdr_check(h);
}

int
msg_in_payload(struct msg_in *in, const struct msg_hdr *h, void *body,
    uint32_t body_cap, const struct iovec *bulk, int nbulk)
{
	size_t cap = 0;
	int rc;

	if (h->body_len > body_cap)
		return -EPROTO;
	rc = msg_in_take(in, body, h->body_len);
	if (rc < 0 || h->bulk_len == 0)
		return rc;
	for (int i = 0; i < nbulk; i++)
		cap += bulk[i].iov_len;
	if (h->bulk_len > cap || nbulk > MSG_IOV_MAX)
		return -EMSGSIZE;
	rc = in_takev(in, bulk, nbulk, h->bulk_len);
	if (rc < 0)
		return rc;
	if (iov_crc(bulk, nbulk, h->bulk_len) != h->bulk_crc)
		return -EBADMSG;
	return 0;
}

int
msg_in_reply(struct msg_in *in, uint64_t reqid, uint16_t op,
    void *rbody, uint32_t rbody_cap, uint32_t *rbody_len,
    const struct iovec *rbulk, int nrbulk, uint32_t *rbulk_len,
    int32_t *status)
{
	struct msg_hdr h;
	uint32_t keep;
	int rc;

	rc = msg_in_hdr(in, &h, 0);
	if (rc < 0)
		return rc;
	if (h.reqid != reqid || h.opcode != op || !(h.flags & MSG_F_REPLY))
		return -EPROTO;
	/* a reply body longer than expected (a newer server) is truncated */
	keep = h.body_len < rbody_cap ? h.body_len : rbody_cap;
	if (rbody == NULL)
		keep = 0;
	rc = msg_in_take(in, rbody, keep);
	if (rc == 0)
		rc = msg_in_take(in, NULL, h.body_len - keep);
	if (rc < 0)
		return rc;
	h.body_len = 0;			/* consumed; now the bulk */
	rc = msg_in_payload(in, &h, NULL, 0, rbulk, nrbulk);
	if (rc == -EMSGSIZE) {
		/* keep the stream in sync: the reply did not fit */
		rc = msg_in_take(in, NULL, h.bulk_len);
		return rc < 0 ? rc : -EMSGSIZE;
	}
	if (rc < 0)
		return rc;
	if (rbody_len)
		*rbody_len = keep;
	if (rbulk_len)
		*rbulk_len = h.bulk_len;
	*status = h.status;
	return 0;
}

int
msg_recv_hdr(int fd, struct msg_hdr *h)
{
	struct msg_in in;

	msg_in_init(&in, fd, NULL, 0);
	return msg_in_hdr(&in, h, 0);
}

int
msg_recv_payload(int fd, const struct msg_hdr *h, void *body,
    uint32_t body_cap, void *bulk, uint32_t bulk_cap)
{
	struct iovec iov = { bulk, bulk != NULL ? bulk_cap : 0 };
	struct msg_in in;

	msg_in_init(&in, fd, NULL, 0);
	return msg_in_payload(&in, h, body, body_cap, &iov, 1);
}

int
msg_recv(int fd, struct msg_hdr *h, void *body, uint32_t body_cap,
    void *bulk, uint32_t bulk_cap)
{
	int rc = msg_recv_hdr(fd, h);

	if (rc < 0)
		return rc;
	return msg_recv_payload(fd, h, body, body_cap, bulk, bulk_cap);
}

int
msg_drain(int fd, uint32_t len)
{
	uint8_t buf[16384];

	while (len > 0) {
		uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
		int rc = msg_read_full(fd, buf, n);

		if (rc < 0)
			return rc;
		len -= n;
	}
	return 0;
}

/* --- client side --- */

static _Atomic uint64_t msg_reqid_next = 1;

uint64_t
msg_reqid_new(void)
{
	return atomic_fetch_add(&msg_reqid_next, 1);
}

void
msg_sock_tune(int fd)
{
	int one = 1, sz = 4 * 1024 * 1024;


	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

int
msg_call(int fd, uint16_t op, uint32_t flags, const void *body,
    uint32_t body_len, const struct iovec *bulk, int nbulk,
    void *rbody, uint32_t rbody_cap, uint32_t *rbody_len,
    void *rbulk, uint32_t rbulk_cap, uint32_t *rbulk_len)
{
	struct iovec riov = { rbulk, rbulk != NULL ? rbulk_cap : 0 };
	uint64_t reqid = msg_reqid_new();
	char rbuf[MSG_IN_BUF];
	struct msg_in in;
	int32_t status;
	int rc;

	if (rbody_len)
		*rbody_len = 0;
	if (rbulk_len)
		*rbulk_len = 0;
	rc = msg_send(fd, op, flags & ~MSG_F_REPLY, reqid, 0, body, body_len,
	    bulk, nbulk);
	if (rc < 0)
		return rc;
	msg_in_init(&in, fd, rbuf, sizeof(rbuf));
	rc = msg_in_reply(&in, reqid, op, rbody, rbody_cap, rbody_len, &riov,
	    1, rbulk_len, &status);
	if (rc == 0 && msg_in_pending(&in) != 0)
		rc = -EPROTO;		/* bytes after the reply */
	return rc < 0 ? rc : status;
}

/* The abstract name of (host, port): "\0fsx/<host>/<port>". */
static int
local_addr(const char *host, int port, struct sockaddr_un *sa,
    socklen_t *len)
{
	int n;

	if (host == NULL || port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
	    "fsx/%s/%d", host, port);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		return -ENAMETOOLONG;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
	return 0;
}

static int
local_off(void)
{
	const char *v = getenv("FSX_NO_LOCAL_SOCKET");

	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* An AF_UNIX stream socket and the abstract name of (host, port), or
 * -errno (-ENOTSUP: the shortcut is off). */
static int
local_sock(const char *host, int port, struct sockaddr_un *sa,
    socklen_t *len)
{
	int fd, rc;

	if (local_off())
		return -ENOTSUP;
	rc = local_addr(host, port, sa, len);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int
msg_sock_local(const char *host, int port, int backlog)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd = local_sock(host, port, &sa, &len), rc;

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    listen(fd, backlog) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* A connection to the server of (host, port) on this host, or -errno. */
static int
local_connect(const char *host, int port, const struct timeval *tv)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd = local_sock(host, port, &sa, &len), rc;

	if (fd < 0)
		return fd;
	if (tv->tv_sec > 0 || tv->tv_usec > 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof(*tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, sizeof(*tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
msg_sock_open(const char *host, int port, int backlog, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char portstr[16];
	int fd = -1, rc, one = 1;

	if (port < 0 || port > 65535 || (backlog <= 0 && port == 0))
		return -EINVAL;
	if (backlog <= 0 && (fd = local_connect(host, port, &tv)) >= 0)
		return fd;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (backlog > 0 ? AI_PASSIVE : 0);
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0)
		return rc == EAI_SYSTEM ? -errno :
		    backlog > 0 ? -EADDRNOTAVAIL : -EHOSTUNREACH;
	rc = backlog > 0 ? -EADDRNOTAVAIL : -ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (backlog > 0) {
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
			    listen(fd, backlog) == 0)
				break;
		} else {
			if (timeout_ms > 0) {
				(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
				    &tv, sizeof(tv));
				(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
				    &tv, sizeof(tv));
			}
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		}
		rc = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd < 0 ? rc : fd;
}

int
msg_hello(int fd, const uint8_t *secret, struct msg_hello_rep *rep)
{
	return msg_hello_client(fd, secret, 0, rep);
}

int
msg_hello_client(int fd, const uint8_t *secret, uint64_t client_id,
    struct msg_hello_rep *rep)
{
	struct {
		struct msg_hello	h;
		uint64_t		client_id;
	} hello;
	uint32_t replen = 0, len = sizeof(hello.h);
	int rc;

	memset(&hello, 0, sizeof(hello));
	memcpy(hello.h.secret, secret, MSG_SECRET_LEN);
	hello.h.client_uid = (uint32_t)getuid();
	if (client_id != 0) {
		hello.h.flags |= MSG_HELLO_CLIENT_ID;
		hello.client_id = client_id;
		len = sizeof(hello);
	}
	memset(rep, 0, sizeof(*rep));
	rc = msg_call(fd, MSG_OP_HELLO, 0, &hello, len, NULL, 0,
	    rep, sizeof(*rep), &replen, NULL, 0, NULL);
	explicit_bzero(&hello, sizeof(hello));
	if (rc == 0 && replen < sizeof(*rep))
		rc = -EPROTO;
	return rc;
}

int
msg_connect(const char *host, int port, const uint8_t *secret,
    uint32_t *kind_out)
{
	return msg_connect_timeout(host, port, secret, kind_out, 0);
}

int
msg_connect_timeout(const char *host, int port, const uint8_t *secret,
    uint32_t *kind_out, int timeout_ms)
{
	struct msg_hello_rep rep;
	int fd, rc;

	fd = msg_sock_open(host, port, 0, timeout_ms);
	if (fd < 0)
		return fd;
	msg_sock_tune(fd);
	rc = msg_hello(fd, secret, &rep);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (kind_out)
		*kind_out = rep.kind;
	return fd;
}

int
msg_secret_load(const char *path, uint8_t *secret)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = file_read_all(path, &buf, &len, 4096);
	if (rc < 0)
		return rc;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (len != 2 * MSG_SECRET_LEN || strlen(buf) != len)
		rc = -EINVAL;
	else
		rc = hex_decode(buf, secret, MSG_SECRET_LEN);
	memset(buf, 0, len);
	free(buf);
	return rc;
}
