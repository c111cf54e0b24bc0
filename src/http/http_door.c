/*
 * The front door (see http_door.h): accept, peek at the first head,
 * refuse it in JSON or hand the socket to libmicrohttpd.
 *
 * Invariants:
 *   1. A socket is either on the door's list (waiting for its head, or
 *      closing after a refusal) or libmicrohttpd's, never both: it leaves
 *      the list and the epoll set before MHD_add_connection().
 *   2. The list is in accept order, so deadlines and eviction take it
 *      from the head.
 *   3. Nothing of a request is consumed before libmicrohttpd reads it:
 *      the door only peeks (edge-triggered, so unread bytes do not wake
 *      it again; new bytes do).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dlist.h"
#include "core/log.h"
#include "core/util.h"
#include "http/http_door.h"
#include "http/http_guard.h"

#define DOOR_TICK_MS		250
#define DOOR_LINGER_SEC		2	/* drain a refused request this long */
#define DOOR_LINGER_MAX		(4u << 20)	/* ... or this many bytes */
#define DOOR_EVENTS		64

enum door_state { DOOR_WAITING, DOOR_CLOSING };

struct door_conn {
	struct dlink		 link;		/* first: d->list */
	int			 fd;
	enum door_state		 state;
	uint64_t		 since;		/* ns, monotonic */
	uint64_t		 last;		/* last bytes seen */
	size_t			 drained;	/* DOOR_CLOSING */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
};

struct http_door {
	int			 lfd, efd, stopfd;
	struct MHD_Daemon	*mhd;
	http_door_reject_fn	 reject;
	unsigned		 max, high;
	uint64_t		 idle_ns;
	struct dlist		 list;		/* waiting or closing, by age */
	pthread_t		 thread;
	char			 peek[HTTP_DOOR_HEAD_MAX + 1];
};

/* --- the head check (pure) ---------------------------------------------- */

static const char *
door_find(const char *buf, size_t n, const char *s)
{
	return memmem(buf, n, s, strlen(s));
}

/* The end of the head (just past the empty line), or NULL. */
static const char *
door_head_end(const char *buf, size_t n)
{
	const char *crlf = door_find(buf, n, "\r\n\r\n");
	const char *lf = door_find(buf, n, "\n\n");

	if (crlf != NULL && (lf == NULL || crlf < lf))
		return crlf + 4;
	return lf != NULL ? lf + 2 : NULL;
}

/* Content-Length's value v[0..n): 0 good, -1 malformed, -2 too large. */
static int
door_clen(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	for (i = 0; i < n; i++) {
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -2;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

static int
door_refuse(enum api_err *code, char *msg, size_t msgsz, enum api_err c,
    const char *text)
{
	*code = c;
	snprintf(msg, msgsz, "%s", text);
	return -1;
}

int
http_door_head_check(const char *buf, size_t n, enum api_err *code,
    char *msg, size_t msgsz)
{
	const char *end = door_head_end(buf, n);
	const char *eol, *sp1, *sp2, *p;
	uint64_t cl, first = 0;
	int have_cl = 0, rc;
	unsigned nhdr = 0;
	char text[64];

	if (end == NULL && door_find(buf, n, "\n") == NULL &&
	    n > HTTP_DOOR_URL_MAX)
		goto long_uri;
	if (end == NULL || (size_t)(end - buf) > HTTP_DOOR_HEAD_MAX) {
		if (n <= HTTP_DOOR_HEAD_MAX && end == NULL)
			return 0;
		snprintf(text, sizeof(text), "Request headers exceed the limit"
		    " of %u bytes.", HTTP_DOOR_HEAD_MAX);
		return door_refuse(code, msg, msgsz, API_E_HEADERS_TOO_LARGE,
		    text);
	}
	eol = memchr(buf, '\n', (size_t)(end - buf));
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp2 != NULL && (size_t)(sp2 - sp1 - 1) > HTTP_DOOR_URL_MAX)
		goto long_uri;
	for (p = eol + 1; p < end; ) {
		const char *le = memchr(p, '\n', (size_t)(end - p));
		const char *colon;

		if (le == NULL)
			break;
		if (le > p + 1 && ++nhdr > HTTP_DOOR_NHDR_MAX)
			return door_refuse(code, msg, msgsz,
			    API_E_INCOMPLETE_SIGNATURE, "Too many headers.");
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon != NULL && colon - p == 14 &&
		    strncasecmp(p, "Content-Length", 14) == 0) {
			rc = door_clen(colon + 1, (size_t)(le - colon - 1), &cl);
			if (rc == -2)
				return door_refuse(code, msg, msgsz,
				    API_E_REQUEST_TOO_LARGE,
				    "Content-Length is too large.");
			if (rc < 0 || (have_cl && cl != first))
				return door_refuse(code, msg, msgsz,
				    API_E_SERIALIZATION,
				    "Malformed Content-Length header.");
			first = cl;
			have_cl = 1;
		}
		p = le + 1;
	}
	return 1;
long_uri:
	snprintf(text, sizeof(text), "Request URI exceeds the limit of %u"
	    " bytes.", HTTP_DOOR_URL_MAX);
	return door_refuse(code, msg, msgsz, API_E_URI_TOO_LONG, text);
}

/* --- the thread ------------------------------------------------------------ */

static struct door_conn *
door_oldest(struct http_door *d)
{
	return (struct door_conn *)d->list.head;
}

static void
door_unlink(struct http_door *d, struct door_conn *k)
{
	dlist_remove(&d->list, &k->link);
}

static void
door_append(struct http_door *d, struct door_conn *k)
{
	dlist_append(&d->list, &k->link);
}

static void
door_close(struct http_door *d, struct door_conn *k)
{
	door_unlink(d, k);
	epoll_ctl(d->efd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k);
}

/* Refused: answer, stop writing, and drain what the client still sends
 * for a while so that closing does not reset the answer away. */
static void
door_refused(struct http_door *d, struct door_conn *k, enum api_err code,
    const char *msg)
{
	d->reject(k->fd, code, msg);
	(void)shutdown(k->fd, SHUT_WR);
	door_unlink(d, k);
	k->state = DOOR_CLOSING;
	k->since = now_mono_ns();
	door_append(d, k);
}

static void
door_drain(struct http_door *d, struct door_conn *k)
{
	for (;;) {
		ssize_t r = recv(k->fd, d->peek, sizeof(d->peek), 0);

		if (r > 0) {
			k->drained += (size_t)r;
			if (k->drained < DOOR_LINGER_MAX)
				continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		door_close(d, k);
		return;
	}
}

static void
door_readable(struct http_door *d, struct door_conn *k)
{
	enum api_err code;
	char msg[128];
	ssize_t r;
	int rc;

	if (k->state == DOOR_CLOSING) {
		door_drain(d, k);
		return;
	}
	k->last = now_mono_ns();
	r = recv(k->fd, d->peek, sizeof(d->peek), MSG_PEEK);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		door_close(d, k);
		return;
	}
	rc = http_door_head_check(d->peek, (size_t)r, &code, msg, sizeof(msg));
	if (rc == 0)
		return;
	if (rc < 0) {
		door_refused(d, k, code, msg);
		return;
	}
	door_unlink(d, k);
	epoll_ctl(d->efd, EPOLL_CTL_DEL, k->fd, NULL);
	if (MHD_add_connection(d->mhd, k->fd, (struct sockaddr *)&k->addr,
	    k->addrlen) != MHD_YES)
		log_warn("%s: libmicrohttpd refused a connection: %s",
		    __func__, strerror(errno));	/* it closed the socket */
	free(k);
}

/* Close the oldest waiters (older than the eviction age) down to high. */
static void
door_evict(struct http_door *d)
{
	uint64_t old = now_mono_ns() - HTTP_GUARD_EVICT_MIN_MS * 1000000ull;

	while (d->list.n >= d->high && door_oldest(d) != NULL &&
	    door_oldest(d)->since <= old)
		door_close(d, door_oldest(d));
}

static void
door_accept(struct http_door *d)
{
	for (;;) {
		struct door_conn *k;
		struct epoll_event ev;
		int fd;

		k = xcalloc(1, sizeof(*k));
		k->addrlen = sizeof(k->addr);
		fd = accept4(d->lfd, (struct sockaddr *)&k->addr, &k->addrlen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			free(k);
			if (errno == EMFILE || errno == ENFILE)
				log_warn("%s: %s", __func__, strerror(errno));
			return;
		}
		if (d->list.n >= d->high)
			door_evict(d);
		if (d->list.n >= d->max) {
			close(fd);		/* full of fresh waiters */
			free(k);
			continue;
		}
		k->fd = fd;
		k->state = DOOR_WAITING;
		k->since = k->last = now_mono_ns();
		door_append(d, k);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = k;
		if (epoll_ctl(d->efd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			door_unlink(d, k);
			close(fd);
			free(k);
			continue;
		}
		door_readable(d, k);	/* the head may be there already */
	}
}

/*
 * Deadlines: heads not complete in time or idle for the idle timeout,
 * refusals drained long enough.
 */
static void
door_sweep(struct http_door *d)
{
	uint64_t now = now_mono_ns();
	struct door_conn *k, *next;

	for (k = door_oldest(d); k != NULL; k = next) {
		uint64_t limit = k->state == DOOR_CLOSING ? DOOR_LINGER_SEC :
		    HTTP_GUARD_HEADER_SEC;

		next = (struct door_conn *)k->link.next;
		if (k->since + limit * 1000000000ull <= now ||
		    (k->state == DOOR_WAITING && k->last + d->idle_ns <= now))
			door_close(d, k);
	}
}

static void *
door_main(void *arg)
{
	struct http_door *d = arg;
	struct epoll_event ev[DOOR_EVENTS];
	uint64_t last = now_mono_ns();

	for (;;) {
		int n = epoll_wait(d->efd, ev, DOOR_EVENTS, DOOR_TICK_MS);

		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &d->lfd)
				door_accept(d);
			else if (ev[i].data.ptr == &d->stopfd)
				return NULL;
			else
				door_readable(d, ev[i].data.ptr);
		}
		if (now_mono_ns() - last >= DOOR_TICK_MS * 1000000ull) {
			door_sweep(d);
			last = now_mono_ns();
		}
	}
}

struct http_door *
http_door_new(int listen_fd, struct MHD_Daemon *mhd, unsigned waiting_max,
    unsigned idle_sec, http_door_reject_fn reject)
{
	struct http_door *d = xcalloc(1, sizeof(*d));
	struct epoll_event ev;

	d->lfd = listen_fd;
	d->mhd = mhd;
	d->reject = reject;
	d->max = waiting_max;
	d->idle_ns = (uint64_t)idle_sec * 1000000000ull;
	d->high = waiting_max - waiting_max / 8;
	d->efd = epoll_create1(EPOLL_CLOEXEC);
	d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0 || d->stopfd < 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &d->lfd;
	if (epoll_ctl(d->efd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		goto fail;
	ev.data.ptr = &d->stopfd;
	if (epoll_ctl(d->efd, EPOLL_CTL_ADD, d->stopfd, &ev) < 0)
		goto fail;
	if (pthread_create(&d->thread, NULL, door_main, d) != 0)
		goto fail;
	return d;
fail:
	if (d->efd >= 0)
		close(d->efd);
	if (d->stopfd >= 0)
		close(d->stopfd);
	free(d);
	return NULL;
}

void
http_door_free(struct http_door *d)
{
	uint64_t one = 1;

	if (d == NULL)
		return;
	if (write(d->stopfd, &one, sizeof(one)) < 0)
		log_warn("%s: %s", __func__, strerror(errno));
	pthread_join(d->thread, NULL);
	while (door_oldest(d) != NULL)
		door_close(d, door_oldest(d));
	close(d->efd);
	close(d->stopfd);
	free(d);
}
