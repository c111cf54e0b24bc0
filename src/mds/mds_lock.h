/*
 * The MDS's lock manager: flock and POSIX byte-range locks for every
 * client of one file system (the part of Lustre's LDLM that applications
 * see). Pure bookkeeping: no I/O, no knowledge of connections; a blocked
 * request is queued and its waker is called when it is granted, so no
 * thread waits inside the manager.
 *
 * Owners: a lock belongs to (client, owner): client is the session's id,
 * owner the client's lock owner (FUSE's lock_owner: the process's files
 * table for POSIX locks, the open file for flock). POSIX locks and flock
 * locks are two separate sets on an inode, as on Linux: they never
 * conflict with each other.
 *
 * Invariants (under the manager's mutex):
 *  1. The locks of one owner in one set never overlap, and two of them
 *     of the same type are never adjacent (they are merged).
 *  2. No two granted locks of different owners in the same set overlap
 *     unless both are read locks.
 *  3. A queued waiter conflicts with some granted lock; after every
 *     release on an inode its waiters are retried in arrival order.
 *  4. A POSIX waiter is never queued where waiting would close a cycle in
 *     the wait-for graph (owner -> owners of the locks it waits on): that
 *     request gets -EDEADLK instead (flock waits are not checked, as on
 *     Linux).
 *
 * Waker: wake(arg, rc) is called exactly once per queued request, with
 * the manager's mutex held: rc 0 when it is granted (from the thread whose
 * call released the conflicting lock), -ECANCELED when it is forgotten
 * (mds_lock_cancel, mds_lock_drop_client, mds_lock_free). It must not call
 * back into the manager.
 */
#ifndef FSX_MDS_LOCK_H
#define FSX_MDS_LOCK_H

#include <stdint.h>

#define MDS_LOCK_QUEUED	1		/* mds_lock_set: the waker will run */
#define MDS_LOCK_EOF	UINT64_MAX

struct mds_lock;

struct mds_lock_req {
	uint64_t	ino;
	uint64_t	client;
	uint64_t	owner;
	uint64_t	start;
	uint64_t	end;		/* inclusive; MDS_LOCK_EOF */
	uint32_t	type;		/* MSG_LK_RD, MSG_LK_WR, MSG_LK_UN */
	uint32_t	pid;
	int		flock;		/* the flock set; whole file */
	int		wait;
};

typedef void (*mds_lock_wake_fn)(void *arg, int rc);

struct mds_lock	*mds_lock_new(void);
void		 mds_lock_free(struct mds_lock *lm);	/* NULL ok */

/*
 * Take, change or release (MSG_LK_UN) a lock. 0: done. -EAGAIN: a
 * conflict and !rq->wait. -EDEADLK: see invariant 4. -EINVAL: start > end
 * or a bad type. MDS_LOCK_QUEUED: rq->wait and a conflict: wake(arg, 0)
 * runs once it is granted; `key` names the waiter for mds_lock_cancel.
 */
int	mds_lock_set(struct mds_lock *lm, const struct mds_lock_req *rq,
	    mds_lock_wake_fn wake, void *arg, const void *key);
/* getlk: 0 with *out the first conflicting lock, or out->type MSG_LK_UN. */
int	mds_lock_test(struct mds_lock *lm, const struct mds_lock_req *rq,
	    struct mds_lock_req *out);
/* Forget the waiters queued with `key` (their connection went away),
 * waking each with -ECANCELED; returns how many. */
int	mds_lock_cancel(struct mds_lock *lm, const void *key);
/* Release every lock and waiter of a client (it went away or was
 * evicted); waiters of other clients that now fit are granted. Returns
 * the number of locks released. */
int	mds_lock_drop_client(struct mds_lock *lm, uint64_t client);
/* Granted locks (all inodes), for stats and tests. */
unsigned mds_lock_count(struct mds_lock *lm);

#endif
