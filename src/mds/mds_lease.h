/*
 * Sessions and leases of the MDS (docs/leases.md): what lets a client
 * cache a file's attributes and pages and the names of a directory for as
 * long as it likes, and still see every change made elsewhere at once.
 *
 * A session is a client that said SESSION on its connections (one of them
 * its callback connection). A lease is (key, session) where key is an
 * inode (MSG_LEASE_ATTR: its attributes and pages) or a name in a
 * directory (MSG_LEASE_ENTRY). Leases are granted with replies and taken
 * back by revocations: a change revokes the leases of every other session
 * on what it changes BEFORE its reply goes out: the MDS sends REVOKE on
 * each holder's callback connection and waits for the answers, at most
 * revoke_ms; a holder that does not answer in time is evicted.
 *
 * Invariants (under the module's mutex):
 *  1. Only a live (not evicted) session with a callback connection holds
 *     leases; losing the callback connection or being evicted drops them
 *     all (the client drops its whole cache when it reconnects, so no
 *     change is missed).
 *  2. A revoked lease is removed before its REVOKE is sent; the change's
 *     reply waits for every answer or for the eviction of the silent.
 *  3. A grant taken with seq s (mds_lease_seq before the reply's data was
 *     read) is refused if a revocation of its key came after s: a reply
 *     never grants a lease on data older than a revocation it missed.
 *  4. An evicted session's id is remembered (a ring of MDS_LEASE_EVICTED
 *     ids): its connections and any SESSION naming it get -ESTALE; its
 *     connections are shut down, its locks released.
 *  5. A session ends when its last connection closes: leases dropped,
 *     locks released (a client killed with kill -9).
 *  6. A session holds at most `max` leases (mds_lease_new). From 7/8 of
 *     it, a grant that adds one makes the session give back its least
 *     recently granted leases, MDS_LEASE_SHED at a time and one batch in
 *     flight: each is sent a REVOKE as a change would send, and stays in
 *     the table, *leaving*, until the client's answer to it (or to a
 *     later REVOKE: answers come in order) frees it. A change meanwhile
 *     revokes a leaving lease like any other and waits for its answer;
 *     a grant never reuses a leaving lease (it adds a new one), so what
 *     the client keeps from a reply is always backed by a lease that
 *     stays until the client has dropped it (docs/leases.md, "Giving
 *     leases back").
 *  7. A delegation (docs/leases.md, "Delegated directories") is the
 *     entry lease (dir, MSG_DELEG_NAME), granted only with the MKDIR
 *     that made dir, so no other session knew dir or anything in it
 *     then. Its holder may acknowledge unlinks in dir before the MDS has
 *     them; any request of another session naming dir recalls it
 *     (mds_lease_recall) before that request runs, and the holder
 *     answers the REVOKE only when those unlinks are done. Never given
 *     back (invariant 6): its answer may come after later ones.
 *
 * Threads: any; one mutex; the wait for answers releases it.
 */
#ifndef FSX_MDS_LEASE_H
#define FSX_MDS_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "msg/msg.h"
#include "msg/msg_srv.h"

#define MDS_LEASE_REVOKE_MS	2000	/* default answer deadline */
#define MDS_LEASE_MAX		(128 * 1024)	/* leases per session */
#define MDS_LEASE_SHED		64	/* leases given back per batch */
#define MDS_LEASE_EVICTED	256
#define MDS_LEASE_PING_NS	1000000000ull	/* a lock ping's answer holds */

struct mds_lease;
struct mds_lock;
struct mds_lconn;	/* one connection's binding to its session */

/* What a change revokes: ino != 0, its attribute lease; name != NULL,
 * the entry lease of name in parent. drop: MSG_LEASE_* bits of the
 * changer's own leases on these keys that go too, silently (a name that
 * no longer exists, an inode destroyed: the changer forgets them itself). */
struct mds_lease_tgt {
	uint64_t	ino;
	uint64_t	parent;
	const char	*name;
	uint32_t	namelen;
	uint32_t	drop;
};

/* revoke_ms 0: MDS_LEASE_REVOKE_MS; max 0: MDS_LEASE_MAX leases per
 * session (invariant 6). */
struct mds_lease *mds_lease_new(struct mds_lock *locks, int revoke_ms,
	    unsigned max);
void	mds_lease_free(struct mds_lease *l);

/* SESSION on connection c: bind it (*lcp is the binding, to pass to the
 * calls below and to mds_lease_conn_fini). 0, -EINVAL (client 0),
 * -EEXIST (already bound to another session), -ESTALE (evicted). */
int	mds_lease_session(struct mds_lease *l, struct msg_srv_conn *c,
	    const struct msg_session *req, struct mds_lconn **lcp,
	    struct msg_session_rep *rep);
/* The connection closed (lc may be NULL). */
void	mds_lease_conn_fini(struct mds_lease *l, struct mds_lconn *lc);
/* 0, or -ESTALE when lc's session was evicted (lc NULL: 0). */
int	mds_lease_check(struct mds_lease *l, const struct mds_lconn *lc);
/* The session's client id, 0 for none. */
uint64_t mds_lease_client(const struct mds_lconn *lc);

uint64_t mds_lease_seq(struct mds_lease *l);
/* Invariant 3: grant what can be granted; returns MSG_LEASE_* bits. */
uint32_t mds_lease_grant(struct mds_lease *l, const struct mds_lconn *lc,
	    uint64_t seq, uint64_t ino, uint64_t parent, const char *name,
	    uint32_t namelen);
/* Invariant 2: revoke the targets from every session but lc's. */
void	mds_lease_revoke(struct mds_lease *l, const struct mds_lconn *lc,
	    const struct mds_lease_tgt *t, int n);
/* The same, and grant lc what g names (g->ino: attributes; g->name: the
 * entry) with the change's reply, if invariant 3 allows it for seq taken
 * before the change: the changer's own revocation does not count, and
 * any later change revokes the grant like any lease. Returns the
 * MSG_LEASE_* bits granted. */
uint32_t mds_lease_change(struct mds_lease *l, const struct mds_lconn *lc,
	    uint64_t seq, const struct mds_lease_tgt *t, int n,
	    const struct mds_lease_tgt *g);
/*
 * Invariant 7: before a request of lc (NULL: a connection without a
 * session) that names directory dir runs, recall another session's
 * delegation of dir, if there is one, and wait for the answer (or the
 * holder's eviction). One hash lookup when there is none. 1 if one
 * was recalled (what the request read before may have changed).
 */
int	mds_lease_recall(struct mds_lease *l, const struct mds_lconn *lc,
	    uint64_t dir);
/* Recall every delegation (a snapshot must see every acknowledged
 * unlink). */
void	mds_lease_recall_all(struct mds_lease *l);
/*
 * A lock of `client` blocks someone (Lustre's blocking callback): unless
 * it answered one within MDS_LEASE_PING_NS or one is on its way, send it
 * a REVOKE that revokes nothing, from a thread of its own; a client that
 * does not answer within revoke_ms is evicted like one that ignores a
 * revocation, and its locks go. A client holding only locks, stopped
 * (SIGSTOP), no longer keeps them for ever.
 */
void	mds_lease_ping(struct mds_lease *l, uint64_t client);

/* An answer (reply frame) on lc's connection. */
void	mds_lease_answer(struct mds_lease *l, const struct mds_lconn *lc,
	    uint64_t reqid);

/* "name value\n" lines: sessions, leases, revocations, evictions,
 * leases given back (invariant 6). */
size_t	mds_lease_stats(struct mds_lease *l, char *buf, size_t cap);

#endif
