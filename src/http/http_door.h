/*
 * fsxd's front door: the thread that accepts connections and reads each
 * one's first request head before libmicrohttpd sees it.
 *
 * Why: libmicrohttpd 0.9.75 answers what it cannot parse (a head larger
 * than its pool, a malformed Content-Length) with its own HTML page, and
 * has no hook to shape that answer. The door looks at the head first,
 * with recv(MSG_PEEK) so that nothing is consumed, and refuses in AWS's
 * JSON error shape what libmicrohttpd would refuse; a good head's socket
 * goes to libmicrohttpd (MHD_add_connection), which then reads the
 * request itself. Requests after the first on a kept-alive connection
 * are libmicrohttpd's alone (http_guard.h watches those).
 *
 * The door also bounds the wait: a head not complete HTTP_GUARD_HEADER_SEC
 * seconds after accept, or with no new bytes for the idle timeout, is
 * closed, and when HTTP_DOOR's waiting room is
 * 7/8 full the oldest waiters (at least HTTP_GUARD_EVICT_MIN_MS old) are
 * closed at once.
 *
 * Threads: one, the door's own; the reject callback runs on it. Memory:
 * one record per waiting connection and one peek buffer of
 * HTTP_DOOR_HEAD_MAX + 1 bytes.
 */
#ifndef FSX_HTTP_DOOR_H
#define FSX_HTTP_DOOR_H

#include <microhttpd.h>
#include <stddef.h>

#include "api.h"

/*
 * Limits on a request head, first or later on a kept-alive connection.
 * FSx's endpoint documents none; AWS's front ends allow API Gateway
 * 10 KiB of header values, ALB 16 KiB per header line and 64 KiB in all;
 * an SDK's signed head, session token included, is 1-3 KiB. They are no
 * higher because libmicrohttpd holds a later head in its connection pool
 * and zeroes the whole pool before each kept-alive request (http.c,
 * HTTP_POOL): 64 KiB in all cost fsxd 18% of its CPU on every request.
 */
#define HTTP_DOOR_HEAD_MAX	(16u * 1024)	/* request line + headers */
#define HTTP_DOOR_URL_MAX	(8u * 1024)	/* the request target */
#define HTTP_DOOR_NHDR_MAX	256u		/* header lines; <= SIGV4_NHDR_MAX */

/*
 * Write a complete error response to fd (blocking is not allowed: fd is
 * non-blocking; the answer is small). The door closes fd afterwards.
 */
typedef void (*http_door_reject_fn)(int fd, enum api_err code,
    const char *msg);

struct http_door;

/*
 * Start the door on a listening socket (non-blocking), handing good
 * connections to mhd (started with MHD_USE_NO_LISTEN_SOCKET and
 * MHD_USE_ITC). waiting_max bounds the connections waiting for their
 * head; idle_sec is the idle timeout. NULL when out of memory or threads.
 * listen_fd stays the caller's.
 */
struct http_door *http_door_new(int listen_fd, struct MHD_Daemon *mhd,
		    unsigned waiting_max, unsigned idle_sec,
		    http_door_reject_fn reject);
/* Stop the thread and close every waiting connection. NULL is a no-op. */
void		 http_door_free(struct http_door *d);

/*
 * Check a request head: buf holds the first n bytes received (n may be
 * HTTP_DOOR_HEAD_MAX + 1): its size, its request target, its number of
 * header lines and its Content-Length. Returns 1 when the head is complete and
 * acceptable, 0 when more bytes are needed, -1 with *code and msg set
 * when it must be refused.
 */
int		 http_door_head_check(const char *buf, size_t n,
		    enum api_err *code, char *msg, size_t msgsz);

#endif
