/*
 * The engine protocol server: accept loop, one thread per connection, HELLO
 * handshake, frame checking and the generic opcodes (see msg_srv.h).
 *
 * Connections are in one list (s->conns, under s->mu) and in one of two
 * pools, counted apart:
 *
 *   pending  accepted, no HELLO yet (c->authed == 0): at most
 *            conf.pending_max. A new connection that finds the pool full
 *            evicts the oldest pending one; the accept loop also evicts
 *            every pending connection older than conf.hello_timeout_ms.
 *   authed   passed HELLO: at most MSG_SRV_CONN_MAX; a HELLO that would
 *            exceed it is answered -EBUSY and closed.
 *
 * Invariants (under s->mu): npending + nauth + nevicted == conns.n, the
 * number of connections in the list; a connection moves pending -> authed
 * only in srv_auth() and is evicted only while pending (srv_evict(): its
 * socket is shut down, so its thread's next read fails and it ends, freeing
 * the connection as any other). So silent or slow peers never hold a slot
 * that an authenticated client needs, and never for longer than the HELLO
 * deadline.
 *
 * A server listens on TCP and, for clients of the same host, on the
 * abstract unix socket of its (host, port) (msg_sock_local in msg.h); both
 * feed the same accept path, HELLO and pools.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/dlist.h"
#include "core/failpoint.h"
#include "core/log.h"
#include "core/util.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"

#define SRV_STACK	(512 * 1024)
#define SRV_STATS_MAX	(64 * 1024)
#define SRV_IN		4096	/* bytes one read may take ahead */
#define SRV_HELLO_BODY_MAX 1024	/* a longer HELLO body is -EPROTO */
#define SRV_TICK_MS	250	/* accept loop wake-up while peers pend */

struct msg_srv_conn {
	struct dlink		 link;		/* first: s->conns */
	struct msg_srv		*srv;
	int			 fd;
	struct msg_in		 rd;		/* reads through inbuf */
	char			 inbuf[SRV_IN];
	pthread_mutex_t		 send_mu;
	void			*body;		/* MSG_BODY_MAX, 8-aligned */
	void			*bulk;		/* MSG_BULK_MAX, lazily */
	void			*data;
	int			 authed;	/* passed HELLO (under s->mu) */
	int			 evicted;	/* shut down while pending */
	uint64_t		 client_id;	/* from HELLO; 0: none */
	uint64_t		 accepted_ns;
	char			 peer[64];
};

struct msg_srv {
	struct msg_srv_conf	 conf;
	void			*ctx;
	int			 lfd;
	int			 ufd;	/* msg_sock_local; -1: none */
	int			 port;
	int			 stop_pipe[2];
	pthread_mutex_t		 mu;		/* conns and the pools */
	pthread_cond_t		 cv;
	struct dlist		 conns;		/* oldest first */
	int			 npending, nauth, nevicted;
	pthread_mutex_t		 serial_mu;
	pthread_t		 accept_thr;
	int			 accept_started;
	uint64_t		 server_id;
	uint64_t		 start_ns;
	_Atomic uint64_t	 n_accepted, n_rejected, n_frames, n_errors;
	_Atomic uint64_t	 n_evicted;
	_Atomic uint64_t	 n_bytes_in, n_bytes_out;
};

static int
ct_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

struct msg_srv *
msg_srv_new(const struct msg_srv_conf *conf, void *ctx)
{
	struct msg_srv *s;

	if (conf->dispatch == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->conf = *conf;
	if (s->conf.frame_timeout_ms <= 0)
		s->conf.frame_timeout_ms = 60000;
	if (s->conf.hello_timeout_ms <= 0)
		s->conf.hello_timeout_ms = MSG_SRV_HELLO_TIMEOUT_MS;
	if (s->conf.pending_max <= 0)
		s->conf.pending_max = MSG_SRV_PENDING_MAX;
	s->ctx = ctx;
	s->lfd = -1;
	s->ufd = -1;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->serial_mu, NULL);
	if (rand_bytes(&s->server_id, sizeof(s->server_id)) < 0)
		s->server_id = now_mono_ns();
	s->start_ns = now_mono_ns();
	return s;
}

int
msg_srv_listen(struct msg_srv *s, const char *host, int port,
    const char *port_file)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char txt[16];
	int fd, rc;

	if (port < 0 || port > 65535 || s->lfd >= 0)
		return -EINVAL;
	fd = msg_sock_open(host, port, 512, 0);
	if (fd < 0)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (ss.ss_family == AF_INET)
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else
		s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	s->lfd = fd;
	/* the same-host shortcut (msg.h); without it, TCP serves alone */
	s->ufd = msg_sock_local(host, s->port, 512);
	if (s->ufd < 0 && s->ufd != -ENOTSUP && s->ufd != -EINVAL)
		log_warn("%s: no local socket for %s:%d: %s", __func__,
		    host, s->port, strerror(-s->ufd));
	if (port_file != NULL) {
		int n = snprintf(txt, sizeof(txt), "%d\n", s->port);

		rc = file_write_atomic(port_file, txt, (size_t)n);
		if (rc < 0) {
			log_err("%s: write %s: %s", __func__, port_file,
			    strerror(-rc));
			close(fd);
			s->lfd = -1;
			if (s->ufd >= 0)
				close(s->ufd);
			s->ufd = -1;
			return rc;
		}
	}
	return 0;
}

int
msg_srv_port(const struct msg_srv *s)
{
	return s->port;
}

void
msg_srv_stop(struct msg_srv *s)
{
	ssize_t r;

	r = write(s->stop_pipe[1], "x", 1);
	(void)r;
}

int
msg_srv_reply(struct msg_srv_conn *c, const struct msg_hdr *req,
    int32_t status, const void *body, uint32_t body_len,
    const struct iovec *bulk, int nbulk)
{
	int rc;

	if (FP_KEY("msg_srv.reply", req->opcode) < 0) { shutdown(c->fd, SHUT_RDWR); return -ECONNRESET; }	/* a lost reply */
	pthread_mutex_lock(&c->send_mu);
	rc = msg_send(c->fd, req->opcode, MSG_F_REPLY, req->reqid, status,
	    body, body_len, bulk, nbulk);
	pthread_mutex_unlock(&c->send_mu);
	if (rc == 0) {
		uint64_t n = MSG_HDR_SIZE + body_len;

		for (int i = 0; i < nbulk; i++)
			n += bulk[i].iov_len;
		atomic_fetch_add(&c->srv->n_bytes_out, n);
	}
	return rc;
}

int
msg_srv_send(struct msg_srv_conn *c, uint16_t op, uint64_t reqid,
    const void *body, uint32_t body_len)
{
	int rc;

	pthread_mutex_lock(&c->send_mu);
	rc = msg_send(c->fd, op, 0, reqid, 0, body, body_len, NULL, 0);
	pthread_mutex_unlock(&c->send_mu);
	return rc;
}

void
msg_srv_conn_shutdown(struct msg_srv_conn *c)
{
	(void)shutdown(c->fd, SHUT_RDWR);
}

void *
msg_srv_conn_buf(struct msg_srv_conn *c)
{
	if (c->bulk == NULL &&
	    posix_memalign(&c->bulk, 4096, MSG_BULK_MAX) != 0)
		c->bulk = NULL;
	return c->bulk;
}

void *
msg_srv_conn_data(const struct msg_srv_conn *c)
{
	return c->data;
}

void
msg_srv_conn_set_data(struct msg_srv_conn *c, void *data)
{
	c->data = data;
}

uint64_t
msg_srv_conn_client(const struct msg_srv_conn *c)
{
	return c->client_id;
}

const char *
msg_srv_conn_peer(const struct msg_srv_conn *c)
{
	return c->peer;
}

static void
srv_stats(struct msg_srv *s, struct msg_srv_conn *c, const struct msg_hdr *h)
{
	struct iovec iov;
	char *buf = malloc(SRV_STATS_MAX);
	int n, nconn, npending;

	if (buf == NULL) {
		(void)msg_srv_reply(c, h, -ENOMEM, NULL, 0, NULL, 0);
		return;
	}
	pthread_mutex_lock(&s->mu);
	nconn = s->nauth;
	npending = s->npending;
	pthread_mutex_unlock(&s->mu);
	n = snprintf(buf, SRV_STATS_MAX,
	    "uptime_ns %llu\nconnections %d\npending %d\naccepted %llu\n"
	    "rejected %llu\nevicted %llu\n"
	    "frames %llu\nerrors %llu\nbytes_in %llu\nbytes_out %llu\n",
	    (unsigned long long)(now_mono_ns() - s->start_ns), nconn, npending,
	    (unsigned long long)s->n_accepted,
	    (unsigned long long)s->n_rejected,
	    (unsigned long long)s->n_evicted,
	    (unsigned long long)s->n_frames, (unsigned long long)s->n_errors,
	    (unsigned long long)s->n_bytes_in,
	    (unsigned long long)s->n_bytes_out);
	if (n < 0)
		n = 0;
	if (n > SRV_STATS_MAX)
		n = SRV_STATS_MAX;
	if (s->conf.stats != NULL && n < SRV_STATS_MAX) {
		size_t m = s->conf.stats(s->ctx, buf + n,
		    (size_t)(SRV_STATS_MAX - n));

		if (m > (size_t)(SRV_STATS_MAX - n))
			m = (size_t)(SRV_STATS_MAX - n);
		n += (int)m;
	}
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	(void)msg_srv_reply(c, h, 0, NULL, 0, &iov, 1);
	free(buf);
}

/* Shut a pending connection down (its thread ends it). Under s->mu. */
static void
srv_evict(struct msg_srv *s, struct msg_srv_conn *c, const char *why)
{
	c->evicted = 1;
	s->npending--;
	s->nevicted++;
	shutdown(c->fd, SHUT_RDWR);
	atomic_fetch_add(&s->n_evicted, 1);
	log_debug("%s: %s: %s", __func__, c->peer, why);
}

/* c leaves the list and its pool (under s->mu); whoever waits for the
 * list to empty is woken. */
static void
srv_unlist(struct msg_srv *s, struct msg_srv_conn *c)
{
	dlist_remove(&s->conns, &c->link);
	if (c->authed)
		s->nauth--;
	else if (c->evicted)
		s->nevicted--;
	else
		s->npending--;
	pthread_cond_broadcast(&s->cv);
}

/*
 * Evict pending connections past the HELLO deadline, and (when `room`)
 * the oldest pending one if the pool is full. Under s->mu. Returns the
 * milliseconds until the next deadline (-1: nothing pending).
 */
static int
srv_pending_sweep(struct msg_srv *s, int room)
{
	uint64_t now = now_mono_ns();
	uint64_t limit = (uint64_t)s->conf.hello_timeout_ms * 1000000;
	uint64_t next = UINT64_MAX;
	struct msg_srv_conn *oldest = NULL;

	for (struct dlink *k = s->conns.head; k != NULL; k = k->next) {
		struct msg_srv_conn *c = (struct msg_srv_conn *)k;

		if (c->authed || c->evicted)
			continue;
		if (now - c->accepted_ns >= limit) {
			srv_evict(s, c, "no HELLO in time");
			continue;
		}
		if (c->accepted_ns + limit < next)
			next = c->accepted_ns + limit;
		if (oldest == NULL)	/* the list is oldest first */
			oldest = c;
	}
	if (room && oldest != NULL && s->npending >= s->conf.pending_max)
		srv_evict(s, oldest, "pending pool full: oldest dropped");
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now) / 1000000) + 1;
}

/* HELLO passed: move c to the authenticated pool. 0 or -EBUSY (full) or
 * -ECONNABORTED (evicted meanwhile). */
static int
srv_auth(struct msg_srv *s, struct msg_srv_conn *c)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (c->evicted)
		rc = -ECONNABORTED;
	else if (s->nauth >= MSG_SRV_CONN_MAX)
		rc = -EBUSY;
	else {
		c->authed = 1;
		s->npending--;
		s->nauth++;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/*
 * Read the HELLO frame and answer it. 0 when the client is authenticated
 * (and counted in the authenticated pool); otherwise the connection must be
 * closed. Waits at most conf.hello_timeout_ms for the first byte; the
 * accept loop bounds the whole handshake by the same deadline.
 */
static int
srv_hello(struct msg_srv *s, struct msg_srv_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct msg_hello_rep rep;
	struct msg_hello hello;
	struct msg_hdr h;
	uint64_t body[SRV_HELLO_BODY_MAX / 8];
	int rc;

	memset(&h, 0, sizeof(h));
	rc = poll(&pfd, 1, s->conf.hello_timeout_ms);
	if (rc <= 0)
		return -ETIMEDOUT;
	rc = msg_in_hdr(&c->rd, &h, 0);
	if (rc < 0)
		goto bad;
	if (h.opcode != MSG_OP_HELLO || (h.flags & MSG_F_REPLY) ||
	    h.bulk_len != 0 || h.body_len < sizeof(hello) ||
	    h.body_len > sizeof(body)) {
		rc = -EPROTO;
		goto bad;
	}
	rc = msg_in_payload(&c->rd, &h, body, sizeof(body), NULL, 0);
	if (rc < 0)
		goto bad;
	memcpy(&hello, body, sizeof(hello));
	if ((hello.flags & MSG_HELLO_CLIENT_ID) &&
	    h.body_len >= sizeof(hello) + sizeof(c->client_id))
		memcpy(&c->client_id, (char *)body + sizeof(hello),
		    sizeof(c->client_id));
	explicit_bzero(body, sizeof(body));
	if (!ct_memeq(hello.secret, s->conf.secret, MSG_SECRET_LEN)) {
		log_warn("%s: %s: wrong secret", __func__, c->peer);
		explicit_bzero(&hello, sizeof(hello));
		(void)msg_srv_reply(c, &h, -EACCES, NULL, 0, NULL, 0);
		return -EACCES;
	}
	explicit_bzero(&hello.secret, sizeof(hello.secret));
	rc = srv_auth(s, c);
	if (rc == -EBUSY) {
		atomic_fetch_add(&s->n_rejected, 1);
		log_warn("%s: %s: too many clients (%d)", __func__, c->peer,
		    MSG_SRV_CONN_MAX);
		(void)msg_srv_reply(c, &h, rc, NULL, 0, NULL, 0);
	}
	if (rc < 0)
		return rc;
	log_debug("%s: %s: client uid %u", __func__, c->peer,
	    hello.client_uid);
	if (posix_memalign(&c->body, 64, MSG_BODY_MAX) != 0) {
		c->body = NULL;
		(void)msg_srv_reply(c, &h, -ENOMEM, NULL, 0, NULL, 0);
		return -ENOMEM;
	}
	memset(&rep, 0, sizeof(rep));
	rep.server_id = s->server_id;
	rep.kind = s->conf.kind;
	rep.nost = s->conf.nost;
	return msg_srv_reply(c, &h, 0, &rep, sizeof(rep), NULL, 0);
bad:
	if (rc != -ECONNRESET)
		log_warn("%s: %s: bad first frame: %s", __func__, c->peer,
		    strerror(-rc));
	/* a header that was read gets an answer */
	if (rc == -EPROTO || rc == -EBADMSG)
		(void)msg_srv_reply(c, &h, -EPROTO, NULL, 0, NULL, 0);
	return rc;
}

/*
 * Requests are read with as few read(2)s as they allow (msg_in, msg.h):
 * one read takes whatever has arrived, up to SRV_IN bytes (a header and
 * its body come together; pipelined requests wait there for their turn),
 * and bodies and bulks go on from there straight into their buffers. No
 * poll(2) per request: idle, the read itself waits, and SO_RCVTIMEO
 * expiring before any byte of a frame came is just a quiet client
 * (msg_srv_stop shuts the socket down, which ends the read). Once a frame
 * has begun, each read may wait for the frame timeout.
 */
/* One request; 0 to keep the connection, <0 to close it. */
static int
srv_frame(struct msg_srv *s, struct msg_srv_conn *c)
{
	struct msg_ping_rep ping;
	struct msg_hdr h;
	struct iovec biov = { NULL, 0 };
	void *bulk = NULL;
	int rc;

	memset(&h, 0, sizeof(h));
	rc = msg_in_hdr(&c->rd, &h, 1);
	if (rc == -ECONNRESET && msg_in_pending(&c->rd) == 0)
		return rc;
	if (rc == 0 && (h.flags & MSG_F_REPLY)) {
		if (s->conf.on_reply == NULL || h.bulk_len != 0)
			rc = -EPROTO;
		else
			rc = msg_in_payload(&c->rd, &h, c->body, MSG_BODY_MAX,
			    NULL, 0);
		if (rc < 0)
			goto bad;
		s->conf.on_reply(s->ctx, c, &h, c->body);
		return 0;
	}
	if (rc < 0)
		goto bad;
	if (h.bulk_len > 0) {
		bulk = msg_srv_conn_buf(c);
		if (bulk == NULL) {
			log_err("%s: out of memory for bulk", __func__);
			(void)msg_srv_reply(c, &h, -ENOMEM, NULL, 0, NULL, 0);
			return -ENOMEM;
		}
	}
	biov.iov_base = bulk;
	biov.iov_len = bulk != NULL ? MSG_BULK_MAX : 0;
	rc = msg_in_payload(&c->rd, &h, c->body, MSG_BODY_MAX, &biov, 1);
	if (rc < 0)
		goto bad;
	if (h.body_len < msg_req_body_min(h.opcode) ||
	    h.opcode == MSG_OP_HELLO) {
		rc = -EPROTO;
		goto bad;
	}
	atomic_fetch_add(&s->n_frames, 1);
	atomic_fetch_add(&s->n_bytes_in,
	    MSG_HDR_SIZE + (uint64_t)h.body_len + h.bulk_len);

	switch (h.opcode) {
	case MSG_OP_PING:
		memset(&ping, 0, sizeof(ping));
		ping.uptime_ns = now_mono_ns() - s->start_ns;
		ping.kind = s->conf.kind;
		return msg_srv_reply(c, &h, 0, &ping, sizeof(ping), NULL, 0);
	case MSG_OP_STATS:
		srv_stats(s, c, &h);
		return 0;
	case MSG_OP_SHUTDOWN:
		log_info("%s: shutdown requested by %s", __func__, c->peer);
		(void)msg_srv_reply(c, &h, 0, NULL, 0, NULL, 0);
		if (s->conf.on_shutdown != NULL)
			s->conf.on_shutdown(s->ctx);
		msg_srv_stop(s);
		return 0;
	default:
		break;
	}

	(void)FP_KEY("msg_srv.dispatch", h.opcode);	/* delay, kill before it runs */
	if (s->conf.serial)
		pthread_mutex_lock(&s->serial_mu);
	rc = s->conf.dispatch(s->ctx, c, &h, c->body, h.bulk_len ? bulk :
	    NULL);
	if (s->conf.serial)
		pthread_mutex_unlock(&s->serial_mu);
	if (rc == MSG_SRV_CLOSE)
		return -ECONNABORTED;
	if (rc > 0)
		rc = -EIO;
	if (rc < 0) {
		int src;

		src = msg_srv_reply(c, &h, rc, NULL, 0, NULL, 0);
		if (rc == -EPROTO)
			return rc;
		return src;
	}
	return 0;
bad:
	atomic_fetch_add(&s->n_errors, 1);
	if (rc == -ETIMEDOUT)
		log_warn("%s: %s: frame timed out", __func__, c->peer);
	else
		log_warn("%s: %s: malformed frame (op %u): %s", __func__,
		    c->peer, h.opcode, strerror(-rc));
	/* the header was read: answer it, then close */
	if (rc == -EPROTO || rc == -EBADMSG)
		(void)msg_srv_reply(c, &h, rc, NULL, 0, NULL, 0);
	return rc;
}

static void *
srv_conn_main(void *arg)
{
	struct msg_srv_conn *c = arg;
	struct msg_srv *s = c->srv;
	struct timeval tv;
	int rc;

	tv.tv_sec = s->conf.hello_timeout_ms / 1000;
	tv.tv_usec = (s->conf.hello_timeout_ms % 1000) * 1000;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	rc = srv_hello(s, c);
	if (rc == 0) {
		tv.tv_sec = s->conf.frame_timeout_ms / 1000;
		tv.tv_usec = (s->conf.frame_timeout_ms % 1000) * 1000;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv));
		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv));
		msg_sock_tune(c->fd);
	}
	while (rc == 0)
		rc = srv_frame(s, c);
	log_debug("%s: %s: closed: %s", __func__, c->peer, strerror(-rc));

	if (s->conf.conn_fini != NULL) {
		if (s->conf.serial)
			pthread_mutex_lock(&s->serial_mu);
		s->conf.conn_fini(s->ctx, c);
		if (s->conf.serial)
			pthread_mutex_unlock(&s->serial_mu);
	}
	pthread_mutex_lock(&s->mu);
	srv_unlist(s, c);
	pthread_mutex_unlock(&s->mu);

	close(c->fd);
	pthread_mutex_destroy(&c->send_mu);
	free(c->body);
	free(c->bulk);
	free(c);
	return NULL;
}

static void
srv_peer_name(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
			port = ntohs(in6->sin6_port);
		} else if (ss.ss_family == AF_UNIX) {
			snprintf(buf, cap, "local");
			return;
		}
	}
	snprintf(buf, cap, "%s:%d", ip, port);
}

static void
srv_accept_one(struct msg_srv *s, int lfd)
{
	struct msg_srv_conn *c;
	pthread_attr_t attr;
	pthread_t thr;
	int fd, rc;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("%s: accept: %s", __func__, strerror(errno));
			usleep(100 * 1000);
		}
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	msg_in_init(&c->rd, fd, c->inbuf, sizeof(c->inbuf));
	c->accepted_ns = now_mono_ns();
	pthread_mutex_init(&c->send_mu, NULL);
	srv_peer_name(fd, c->peer, sizeof(c->peer));

	/* room for it in the pending pool: the oldest silent peer goes */
	pthread_mutex_lock(&s->mu);
	(void)srv_pending_sweep(s, 1);
	dlist_append(&s->conns, &c->link);
	s->npending++;
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add(&s->n_accepted, 1);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SRV_STACK);
	rc = pthread_create(&thr, &attr, srv_conn_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warn("%s: pthread_create: %s", __func__, strerror(rc));
		pthread_mutex_lock(&s->mu);
		srv_unlist(s, c);
		pthread_mutex_unlock(&s->mu);
		close(fd);
		pthread_mutex_destroy(&c->send_mu);
		free(c);
	}
}

int
msg_srv_run(struct msg_srv *s)
{
	struct pollfd pfd[3];
	char drain[64];

	if (s->lfd < 0)
		return -EINVAL;
	for (;;) {
		int rc, wait_ms;

		pthread_mutex_lock(&s->mu);
		wait_ms = srv_pending_sweep(s, 0);
		pthread_mutex_unlock(&s->mu);
		if (wait_ms > SRV_TICK_MS)
			wait_ms = SRV_TICK_MS;
		pfd[0].fd = s->lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s->stop_pipe[0];
		pfd[1].events = POLLIN;
		pfd[2].fd = s->ufd;		/* -1: ignored */
		pfd[2].events = POLLIN;
		rc = poll(pfd, 3, wait_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_err("%s: poll: %s", __func__, strerror(errno));
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents & POLLIN)
			srv_accept_one(s, s->lfd);
		if (pfd[2].revents & POLLIN)
			srv_accept_one(s, s->ufd);
	}
	while (read(s->stop_pipe[0], drain, sizeof(drain)) > 0)
		;

	/* end every connection and wait for its thread */
	pthread_mutex_lock(&s->mu);
	for (struct dlink *k = s->conns.head; k != NULL; k = k->next)
		shutdown(((struct msg_srv_conn *)k)->fd, SHUT_RDWR);
	while (s->conns.n > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void *
srv_accept_main(void *arg)
{
	(void)msg_srv_run(arg);
	return NULL;
}

int
msg_srv_start(struct msg_srv *s)
{
	int rc;

	if (s->lfd < 0 || s->accept_started)
		return -EINVAL;
	rc = pthread_create(&s->accept_thr, NULL, srv_accept_main, s);
	if (rc != 0)
		return -rc;
	s->accept_started = 1;
	return 0;
}

void
msg_srv_free(struct msg_srv *s)
{
	if (s == NULL)
		return;
	if (s->accept_started) {
		msg_srv_stop(s);
		pthread_join(s->accept_thr, NULL);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ufd >= 0)
		close(s->ufd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->serial_mu);
	explicit_bzero(s->conf.secret, sizeof(s->conf.secret));
	free(s);
}
