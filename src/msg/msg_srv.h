/*
 * A small server for the engine protocol, shared by fsx-oss and fsx-mds.
 *
 * Model: one listening socket, one accept thread (msg_srv_run() in the
 * caller's thread, or msg_srv_start() in a new one), one thread per
 * connection. Connections are counted in two pools: at most
 * conf.pending_max (default MSG_SRV_PENDING_MAX) that have not sent HELLO
 * yet, and at most MSG_SRV_CONN_MAX authenticated ones. A connection that
 * finds the pending pool full evicts (closes) the oldest pending one, and a
 * pending connection is closed when conf.hello_timeout_ms (default
 * MSG_SRV_HELLO_TIMEOUT_MS) has passed since it was accepted, so silent
 * peers never lock authenticated clients out. Each connection thread:
 *
 *   1. waits for HELLO; anything else gets -EPROTO and the connection is
 *      closed; a wrong secret (constant-time compare) gets -EACCES and the
 *      connection is closed; a HELLO with MSG_SRV_CONN_MAX clients already
 *      authenticated gets -EBUSY and is closed. The HELLO reply is a
 *      msg_hello_rep with the conf's kind and nost and a random
 *      per-process server_id.
 *   2. loops: reads a header (waiting without limit while idle; once a
 *      frame has started, no single read may wait longer than
 *      conf.frame_timeout_ms, else the connection is closed), checks it, reads the body into a
 *      64 KiB per-connection buffer and the bulk into a per-connection buffer of
 *      MSG_BULK_MAX bytes allocated on first use, verifies the bulk CRC,
 *      checks body_len >= msg_req_body_min(opcode), then:
 *        PING      -> replied here (msg_ping_rep, kind = conf.kind)
 *        STATS     -> replied here: bulk of "name value\n" lines: the
 *                     framework's counters, then conf.stats()'s text
 *        SHUTDOWN  -> replied here, then conf.on_shutdown(ctx) if set, then
 *                     msg_srv_stop()
 *        HELLO     -> -EPROTO (only once), close
 *        other     -> conf.dispatch()
 *      A malformed frame (bad header, oversized lengths, bulk CRC mismatch,
 *      short body, a frame with MSG_F_REPLY set) is answered with -EPROTO
 *      when its header could be read, logged at warn, and the connection is
 *      closed. Other connections are not affected.
 *
 * The dispatcher: called in the connection's thread with the request's
 * header, its body (h->body_len bytes, 8-byte aligned, at least
 * msg_req_body_min(h->opcode) bytes) and bulk (h->bulk_len bytes; NULL when
 * 0). Both stay valid until dispatch returns. It either replies itself with
 * msg_srv_reply() and returns 0, or returns a negative errno, which the
 * framework sends as a reply with no body (-EOPNOTSUPP for opcodes it does
 * not serve, for example). Returning -EPROTO also closes the connection.
 * Returning MSG_SRV_CLOSE closes it without a reply. Calls for different
 * connections run concurrently unless conf.serial is set, in which case the
 * framework holds one server-wide mutex around every dispatch (and around
 * conn_fini), so a single-threaded engine such as an SQLite-backed MDS can
 * use it as is.
 *
 * Buffers: msg_srv_conn_buf() gives the connection's MSG_BULK_MAX buffer
 * (the one the request bulk was read into; allocated on first use, NULL if
 * out of memory). A handler that has no request bulk (a read) can build its
 * reply bulk there without allocating.
 *
 * Per-connection state for the dispatcher: msg_srv_conn_set_data() /
 * msg_srv_conn_data(); conf.conn_fini(ctx, c) is called when the connection
 * ends (for example to drop the open handles of a client that went away).
 *
 * Stopping: msg_srv_stop() is async-signal-safe (it writes to a pipe); the
 * accept loop returns, connections are shut down, and msg_srv_run() returns
 * after every connection thread has ended. msg_srv_free() stops, waits and
 * frees.
 *
 * Memory: per authenticated connection 68 KiB + (on first bulk) 8 MiB;
 * unauthenticated peers get nothing beyond the thread (and a 4 KiB read
 * buffer); the body buffer is allocated after HELLO.
 *
 * Descriptors: up to MSG_SRV_CONN_MAX + pending_max connections; callers
 * raise RLIMIT_NOFILE (engine_nofile_raise()).
 */
#ifndef FSX_MSG_SRV_H
#define FSX_MSG_SRV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "msg/msg.h"

#define MSG_SRV_CONN_MAX	1024	/* authenticated connections */
#define MSG_SRV_PENDING_MAX	256	/* connections before HELLO */
#define MSG_SRV_HELLO_TIMEOUT_MS 2000	/* accept to HELLO, at most */
#define MSG_SRV_CLOSE		1	/* dispatch: close without reply */

struct msg_srv;
struct msg_srv_conn;

struct msg_srv_conf {
	uint32_t	kind;		/* 1 = MDS, 2 = OSS (HELLO, PING replies) */
	uint32_t	nost;		/* for the HELLO reply */
	uint8_t		secret[MSG_SECRET_LEN];
	int		serial;		/* 1: one dispatch at a time, server-wide */
	int		frame_timeout_ms; /* 0 = 60000 */
	int		hello_timeout_ms; /* 0 = MSG_SRV_HELLO_TIMEOUT_MS */
	int		pending_max;	/* 0 = MSG_SRV_PENDING_MAX */
	/* required; see above */
	int		(*dispatch)(void *ctx, struct msg_srv_conn *c,
			    const struct msg_hdr *h, const void *body,
			    const void *bulk);
	/* optional: append "name value\n" lines to buf (at most cap bytes);
	   return bytes written */
	size_t		(*stats)(void *ctx, char *buf, size_t cap);
	/* optional */
	void		(*on_shutdown)(void *ctx);
	void		(*conn_fini)(void *ctx, struct msg_srv_conn *c);
	/*
	 * optional: server-initiated requests (msg_srv_send) and their
	 * answers. When set, a frame with MSG_F_REPLY and no bulk is not
	 * malformed: it is read (body into the connection's body buffer)
	 * and handed to on_reply in the connection's thread, outside the
	 * serial mutex; the connection goes on. Without it such a frame is
	 * -EPROTO, as before.
	 */
	void		(*on_reply)(void *ctx, struct msg_srv_conn *c,
			    const struct msg_hdr *h, const void *body);
};

/* A new server (conf is copied). NULL on out of memory. */
struct msg_srv	*msg_srv_new(const struct msg_srv_conf *conf, void *ctx);
/*
 * Bind and listen on host:port (port 0 = ephemeral). When port_file is not
 * NULL the bound port is written to it atomically, as decimal text and a
 * newline, after listen() succeeded. 0 or -errno.
 */
int	msg_srv_listen(struct msg_srv *s, const char *host, int port,
	    const char *port_file);
int	msg_srv_port(const struct msg_srv *s);	/* bound port */
/* Accept loop in the calling thread, until msg_srv_stop(). 0 or -errno. */
int	msg_srv_run(struct msg_srv *s);
/* The same loop in a new thread; msg_srv_free() joins it. */
int	msg_srv_start(struct msg_srv *s);
void	msg_srv_stop(struct msg_srv *s);	/* async-signal-safe */
void	msg_srv_free(struct msg_srv *s);	/* NULL ok */

/*
 * Send the reply to request `req` on connection c: same opcode and reqid,
 * MSG_F_REPLY set. Call it from the dispatcher (the connection may be
 * freed once dispatch has returned); a mutex orders concurrent replies if
 * the dispatcher hands work to helper threads and waits for them.
 * 0 or -errno (the connection is then closed by its thread at the next
 * read).
 */
int	msg_srv_reply(struct msg_srv_conn *c, const struct msg_hdr *req,
	    int32_t status, const void *body, uint32_t body_len,
	    const struct iovec *bulk, int nbulk);
/*
 * Send a request frame of the server's own on connection c (flags 0, the
 * given reqid), ordered with replies by the same mutex; the answer comes
 * to conf.on_reply. The caller keeps c alive (between conn_set_data and
 * conn_fini). 0 or -errno.
 */
int	msg_srv_send(struct msg_srv_conn *c, uint16_t op, uint64_t reqid,
	    const void *body, uint32_t body_len);
/* Shut the connection's socket down: its thread's next read fails and the
 * connection ends as if the peer had closed it (conn_fini runs). Same
 * liveness rule as msg_srv_send. */
void	msg_srv_conn_shutdown(struct msg_srv_conn *c);
void	*msg_srv_conn_buf(struct msg_srv_conn *c);
void	*msg_srv_conn_data(const struct msg_srv_conn *c);
void	msg_srv_conn_set_data(struct msg_srv_conn *c, void *data);
const char *msg_srv_conn_peer(const struct msg_srv_conn *c); /* "ip:port" */
/* The client id its HELLO named (MSG_HELLO_CLIENT_ID), or 0. */
uint64_t msg_srv_conn_client(const struct msg_srv_conn *c);

#endif
