/*
 * fsxd's defence against clients that hold connections without finishing
 * a request (slow headers, "slowloris") once libmicrohttpd has them: the
 * front door (http_door.h) bounds the wait for a connection's first head,
 * the guard the wait for the next head of a kept-alive one.
 * libmicrohttpd only knows an idle timeout, which a client defeats by
 * sending one byte now and then; the guard adds:
 *
 *   1. a total header deadline: a connection whose request headers are not
 *      complete HTTP_GUARD_HEADER_SEC seconds after it was accepted (or,
 *      on a kept-alive connection, after its last response plus the idle
 *      timeout) is shut down by a sweeper thread;
 *   2. eviction: when the connections in use pass 7/8 of the limit, the
 *      oldest ones still waiting for headers (at least
 *      HTTP_GUARD_EVICT_MIN_MS old) are shut down at once, so a new client
 *      always finds a free slot;
 *   3. capacity: http_guard_limit() raises RLIMIT_NOFILE's soft limit to
 *      the hard one and sizes MHD_OPTION_CONNECTION_LIMIT from it.
 *
 * Shutting down is shutdown(2) on the connection's socket: libmicrohttpd
 * sees the end of the stream on its own thread and closes the connection
 * as it would any other, so it is never freed under its feet. The socket
 * is valid while the guard holds it: libmicrohttpd calls
 * http_guard_notify(CLOSED) before closing it, and that waits for the
 * guard's mutex.
 *
 * Threads: the notify/headers/request callbacks run on libmicrohttpd's
 * threads; all state is under one mutex. Memory: one small record per
 * connection, freed at CLOSED.
 */
#ifndef FSX_HTTP_GUARD_H
#define FSX_HTTP_GUARD_H

#include <microhttpd.h>

#define HTTP_GUARD_HEADER_SEC	10
#define HTTP_GUARD_EVICT_MIN_MS	1000

struct http_guard;

/*
 * Raise RLIMIT_NOFILE to its hard limit and return the connection limit
 * that leaves room for fsxd's own files (database, engine sockets).
 */
unsigned	 http_guard_limit(void);
/*
 * A guard for `limit` connections whose idle timeout is `idle_sec`; starts
 * the sweeper thread. NULL when out of memory or threads.
 */
struct http_guard *http_guard_new(unsigned limit, unsigned idle_sec);
/* Stop the sweeper and free; call after MHD_stop_daemon. NULL is a no-op. */
void		 http_guard_free(struct http_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void		 http_guard_notify(void *cls, struct MHD_Connection *c,
		    void **socket_context,
		    enum MHD_ConnectionNotificationCode toe);
/* The request's headers are complete (the access handler's first call). */
void		 http_guard_headers_done(struct MHD_Connection *c);
/* The request is over; a kept-alive connection waits for the next one. */
void		 http_guard_request_done(struct MHD_Connection *c);
#endif
