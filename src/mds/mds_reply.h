/*
 * Reply reconstruction, as Lustre's MDT does it: a request the MDS already
 * executed and that a client sends again (its reply was lost with the
 * connection, or the MDS restarted before the client read it) is answered
 * with the reply of the first execution, rebuilt, instead of being run
 * again (a resent exclusive create would get EEXIST, a resent unlink
 * ENOENT). A resend is the same (client id, reqid): the client names
 * itself in HELLO (MSG_HELLO_CLIENT_ID, msg.h), keeps a request's reqid
 * across its resends and flags them MSG_F_RESENT; only flagged requests
 * are looked up in the records.
 *
 * Invariants:
 *  1. A request is recorded (table xid: client, reqid, op) in the same
 *     savepoint as its change: mds_tx_end() calls mds_reply_note() before
 *     releasing it. So the record is durable exactly when the change is
 *     (it survives kill -9), and a request that changed nothing (failed,
 *     rolled back) has none: its resend runs again and fails or succeeds
 *     on its own.
 *  2. Recorded opcodes (mds_reply_wanted): CREATE, MKNOD, SYMLINK, LINK,
 *     UNLINK, RMDIR, RENAME, SETXATTR, RMXATTR, SETATTR, CLOSE,
 *     SETLAYOUT, APPEND, and OPEN with O_TRUNC. Their replies are rebuilt
 *     from the state as it is now (mds_reply_rebuild): the name looked up
 *     for CREATE, MKNOD, SYMLINK and LINK; the parent's attributes for
 *     UNLINK; the inode's for SETATTR and CLOSE; for APPEND the offset it
 *     reserved, kept in the record (mds_reply_set_val), so a resend does
 *     not reserve a second range; nothing else for the rest. CREATE and OPEN get a new open handle owned by the resending
 *     connection (the first one went with its connection) and OPEN does
 *     not truncate again. A rebuilt reply can differ from the lost one
 *     where others changed the file since (as in Lustre, it is the
 *     current state of the same object); if the name is gone its lookup
 *     error is the answer.
 *  3. Not recorded: reads, and a CLOSE that changed nothing (its
 *     resend finds no handle and changes nothing either).
 *  4. A resend that arrives while its first execution still runs (on the
 *     old connection's thread) waits for it to end (mds_reply_begin).
 *  5. Bounded: a connection carries one request at a time, and a client
 *     sends the next one on it only after it read the reply of the last
 *     (it closes a connection whose reply failed); so when a connection's
 *     request is recorded, the record of the one before it on that
 *     connection can never be asked for again and is deleted in the same
 *     savepoint. What is left is one record per connection, and those of
 *     connections that broke: a client's records more than
 *     MDS_REPLY_WINDOW reqids older than its newest are deleted as new
 *     ones are written (a client's reqids only grow, and it resends only
 *     its requests in flight), and every MDS_REPLY_AGE_EVERY records,
 *     those older than MDS_REPLY_AGE_S seconds go (far past any client's
 *     retry time: clients that went away leave nothing behind); at most
 *     MDS_REPLY_INFLIGHT requests are tracked as running (one more is run
 *     untracked, i.e. without 4). Before, every record stayed for the
 *     hour, and a busy client's table (and the MDS's page cache with it)
 *     grew all that time.
 */
#ifndef FSX_MDS_REPLY_H
#define FSX_MDS_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "msg/msg.h"

#define MDS_REPLY_WINDOW	(1u << 20)	/* reqids kept per client */
#define MDS_REPLY_INFLIGHT	1024		/* tracked running requests */
#define MDS_REPLY_AGE_S		3600		/* records kept at most */
#define MDS_REPLY_AGE_EVERY	1024		/* records between age trims */

struct mds_ns;
struct mds_reply;

struct mds_reply	*mds_reply_new(void);
void			 mds_reply_free(struct mds_reply *r);	/* NULL ok */

/* Is this request recorded (invariant 2)? body: h->body_len bytes. */
int	mds_reply_wanted(const struct msg_hdr *h, const void *body);

/*
 * Before running a wanted request of `client`: waits while a request with
 * the same (client, reqid) runs, then returns 1 when it was executed
 * already (only a MSG_F_RESENT one can be) (answer with
 * mds_reply_rebuild), or 0 with the request marked as running in this
 * thread (run it, then mds_reply_end). -errno on a store error.
 * *last belongs to the connection the request came on: the reqid of the
 * last request recorded from it (0: none); the record of that one goes
 * with this one's (invariant 5), and mds_reply_end sets *last.
 */
int	mds_reply_begin(struct mds_ns *ns, uint64_t client,
	    const struct msg_hdr *h, uint64_t *last);
void	mds_reply_end(struct mds_ns *ns);

/* mds_tx_end(), inside the savepoint of a change that is about to be
 * kept: record this thread's running request (once). 0 or -errno. */
int	mds_reply_note(struct mds_ns *ns);
/* The batch holding this thread's note was rolled back: note again. */
void	mds_reply_note_lost(void);
/* Records held (STATS: mds_reply_records; 0 on a store error). */
uint64_t mds_reply_count(struct mds_ns *ns);
/* Inside that savepoint, before mds_tx_end(): the one number the reply
 * carries (APPEND's offset), kept with the record for a rebuild. */
void	mds_reply_set_val(uint64_t val);

/* A rebuilt reply: what mds_srv sends. */
enum mds_rebuilt_kind {
	MDS_RB_EMPTY,		/* status only */
	MDS_RB_ATTR,		/* msg_attr */
	MDS_RB_OPEN,		/* msg_open_rep (+ dir for CREATE) + layout */
	MDS_RB_APPEND		/* msg_append_rep */
};
struct mds_rebuilt {
	enum mds_rebuilt_kind	kind;
	struct msg_attr		attr;
	struct msg_attr		dir;	/* CREATE: the parent's */
	int			has_dir;
	uint64_t		handle;
	uint64_t		offset;	/* APPEND */
};

/* Rebuild the reply of an executed request (invariant 2); an OPEN or
 * CREATE opens a handle for `owner` and fills *lay (a struct mds_layout,
 * NULL allowed for other opcodes). 0 or the request's answer as -errno. */
struct mds_layout;
int	mds_reply_rebuild(struct mds_ns *ns, const struct msg_hdr *h,
	    const void *body, uint64_t owner, struct mds_rebuilt *out,
	    struct mds_layout *lay);

#endif
