/*
 * Reply reconstruction (see mds_reply.h for the contract): the records of
 * executed requests in the store's xid table, the table of requests
 * running now, and the rebuilding of a reply from the current state.
 *
 * The running request of a thread is thread-local (mds_reply_cur): set by
 * mds_reply_begin, read by mds_reply_note from inside mds_tx_end (same
 * thread, store lock held), cleared by mds_reply_end.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_ns.h"
#include "mds/mds_reply.h"

struct mds_reply_run {
	uint64_t	client;
	uint64_t	reqid;
	int		used;
};

struct mds_reply {
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	struct mds_reply_run	run[MDS_REPLY_INFLIGHT];
	int			hi;	/* run[hi..] are all unused */
	unsigned		notes;	/* under the store lock */
};

static _Thread_local struct {
	uint64_t	client;
	uint64_t	reqid;
	uint16_t	op;
	int		on;		/* a wanted request runs here */
	int		noted;		/* its record is written */
	int		slot;		/* in run[], or -1 */
	uint64_t	val;		/* the reply's number, to record */
	uint64_t	found;		/* the recorded one, for a rebuild */
	uint64_t	*last;		/* the connection's last recorded */
	uint64_t	prev;		/* *last when this request began */
} mds_reply_cur;

struct mds_reply *
mds_reply_new(void)
{
	struct mds_reply *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	return r;
}

void
mds_reply_free(struct mds_reply *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

int
mds_reply_wanted(const struct msg_hdr *h, const void *body)
{
	struct msg_open o;

	switch (h->opcode) {
	case MSG_OP_MDS_CREATE:
	case MSG_OP_MDS_MKNOD:
	case MSG_OP_MDS_SYMLINK:
	case MSG_OP_MDS_LINK:
	case MSG_OP_MDS_UNLINK:
	case MSG_OP_MDS_RMDIR:
	case MSG_OP_MDS_RENAME:
	case MSG_OP_MDS_SETXATTR:
	case MSG_OP_MDS_RMXATTR:
	case MSG_OP_MDS_SETATTR:
	case MSG_OP_MDS_CLOSE:
	case MSG_OP_MDS_SETLAYOUT:
	case MSG_OP_MDS_APPEND:
		return 1;
	case MSG_OP_MDS_OPEN:
		memcpy(&o, body, sizeof(o));	/* body_len checked */
		return (o.flags & O_TRUNC) && (o.flags & O_ACCMODE) != O_RDONLY;
	default:
		return 0;
	}
}

/* Was (client, reqid, op) executed? 1, 0 or -errno. */
static int
mds_reply_recorded(struct mds_ns *ns, uint64_t client, const struct msg_hdr *h)
{
	sqlite3_stmt *s;
	int rc;

	mds_tx_rlock(ns);
	s = mds_tx_st(ns, Q_XID_GET);
	sqlite3_bind_int64(s, 1, (int64_t)client);
	sqlite3_bind_int64(s, 2, (int64_t)h->reqid);
	sqlite3_bind_int(s, 3, h->opcode);
	rc = mds_tx_row(ns, s);
	if (rc == 1) {
		mds_reply_cur.found = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

uint64_t
mds_reply_count(struct mds_ns *ns)
{
	return mds_ns_count_now(ns, "SELECT count(*) FROM xid");
}

void
mds_reply_set_val(uint64_t val)
{
	mds_reply_cur.val = val;
}

int
mds_reply_begin(struct mds_ns *ns, uint64_t client, const struct msg_hdr *h,
    uint64_t *last)
{
	struct mds_reply *r = ns->replies;
	int slot = -1, busy, rc;

	pthread_mutex_lock(&r->mu);
	do {
		busy = 0;
		slot = -1;
		/* only run[0..hi) can be used: a scan costs what runs
		 * now, not MDS_REPLY_INFLIGHT slots per request */
		for (int i = 0; i < r->hi + 1 && i < MDS_REPLY_INFLIGHT;
		    i++) {
			if (!r->run[i].used) {
				if (slot < 0)
					slot = i;
			} else if (r->run[i].client == client &&
			    r->run[i].reqid == h->reqid) {
				busy = 1;	/* invariant 4 */
				break;
			}
		}
		if (busy)
			pthread_cond_wait(&r->cv, &r->mu);
	} while (busy);
	if (slot >= 0) {
		r->run[slot].used = 1;
		r->run[slot].client = client;
		r->run[slot].reqid = h->reqid;
		if (slot >= r->hi)
			r->hi = slot + 1;
	}
	pthread_mutex_unlock(&r->mu);
	mds_reply_cur.slot = slot;
	/* Only a resend can have run: first sends cost no lookup. */
	rc = (h->flags & MSG_F_RESENT) ? mds_reply_recorded(ns, client, h) : 0;
	if (rc != 0) {
		mds_reply_end(ns);	/* executed, or an error: not running */
		return rc;
	}
	mds_reply_cur.client = client;
	mds_reply_cur.reqid = h->reqid;
	mds_reply_cur.op = h->opcode;
	mds_reply_cur.noted = 0;
	mds_reply_cur.val = 0;
	mds_reply_cur.last = last;
	mds_reply_cur.prev = last != NULL ? *last : 0;
	mds_reply_cur.on = 1;
	return 0;
}

void
mds_reply_end(struct mds_ns *ns)
{
	struct mds_reply *r = ns->replies;
	int slot = mds_reply_cur.slot;

	if (mds_reply_cur.on && mds_reply_cur.noted &&
	    mds_reply_cur.last != NULL)
		*mds_reply_cur.last = mds_reply_cur.reqid;
	mds_reply_cur.last = NULL;
	mds_reply_cur.on = 0;
	mds_reply_cur.slot = -1;
	if (slot < 0)
		return;
	pthread_mutex_lock(&r->mu);
	r->run[slot].used = 0;
	while (r->hi > 0 && !r->run[r->hi - 1].used)
		r->hi--;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int
mds_reply_note(struct mds_ns *ns)
{
	struct timespec now;
	sqlite3_stmt *s;
	int rc;

	if (!mds_reply_cur.on || mds_reply_cur.noted)
		return 0;
	mds_ns_now(&now);
	s = mds_tx_st(ns, Q_XID_PUT);
	sqlite3_bind_int64(s, 1, (int64_t)mds_reply_cur.client);
	sqlite3_bind_int64(s, 2, (int64_t)mds_reply_cur.reqid);
	sqlite3_bind_int(s, 3, mds_reply_cur.op);
	sqlite3_bind_int64(s, 4, now.tv_sec);
	sqlite3_bind_int64(s, 5, (int64_t)mds_reply_cur.val);
	rc = mds_tx_exec(ns, s);
	/* its connection's request before it was answered (invariant 5) */
	if (rc == 0 && mds_reply_cur.prev != 0 &&
	    mds_reply_cur.prev != mds_reply_cur.reqid) {
		s = mds_tx_st(ns, Q_XID_DEL);
		sqlite3_bind_int64(s, 1, (int64_t)mds_reply_cur.client);
		sqlite3_bind_int64(s, 2, (int64_t)mds_reply_cur.prev);
		rc = mds_tx_exec(ns, s);
	}
	if (rc == 0 && ns->replies->notes++ % MDS_REPLY_AGE_EVERY == 0) {
		s = mds_tx_st(ns, Q_XID_AGE);	/* invariant 5 */
		sqlite3_bind_int64(s, 1, now.tv_sec - MDS_REPLY_AGE_S);
		rc = mds_tx_exec(ns, s);
	}
	if (rc == 0 && mds_reply_cur.reqid > MDS_REPLY_WINDOW) {
		s = mds_tx_st(ns, Q_XID_TRIM);	/* invariant 5 */
		sqlite3_bind_int64(s, 1, (int64_t)mds_reply_cur.client);
		sqlite3_bind_int64(s, 2,
		    (int64_t)(mds_reply_cur.reqid - MDS_REPLY_WINDOW));
		rc = mds_tx_exec(ns, s);
	}
	if (rc == 0)
		mds_reply_cur.noted = 1;
	return rc;
}

void
mds_reply_note_lost(void)
{
	mds_reply_cur.noted = 0;
}

/* The name after a body struct of `base` bytes. */
static int
mds_reply_name(const struct msg_hdr *h, const void *body, size_t base,
    uint32_t len, const char **name)
{
	if (len > MSG_NAME_MAX)
		return -ENAMETOOLONG;
	if ((size_t)h->body_len < base + len)
		return -EPROTO;
	*name = (const char *)body + base;
	return 0;
}

/* UNLINK, SETATTR and CLOSE name the inode whose attributes they answer
 * in their body's first field. */
_Static_assert(offsetof(struct msg_name, parent) == 0 &&
    offsetof(struct msg_setattr, ino) == 0 &&
    offsetof(struct msg_close, ino) == 0, "inode first");

int
mds_reply_rebuild(struct mds_ns *ns, const struct msg_hdr *h,
    const void *body, uint64_t owner, struct mds_rebuilt *out,
    struct mds_layout *lay)
{
	struct msg_create cr;
	struct msg_link ln;
	struct msg_open op;
	const char *name;
	uint64_t ino;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->kind = MDS_RB_EMPTY;
	switch (h->opcode) {
	case MSG_OP_MDS_CREATE:
	case MSG_OP_MDS_MKNOD:
	case MSG_OP_MDS_SYMLINK:
		memcpy(&cr, body, sizeof(cr));
		rc = mds_reply_name(h, body, sizeof(cr), cr.namelen, &name);
		if (rc == 0)
			rc = mds_ns_lookup(ns, cr.parent, name, cr.namelen,
			    &out->attr);
		if (rc < 0 || h->opcode != MSG_OP_MDS_CREATE) {
			out->kind = MDS_RB_ATTR;
			break;
		}
		if (!S_ISREG(out->attr.mode))
			return -EEXIST;
		rc = mds_open_file(ns, out->attr.ino, O_RDWR, owner,
		    &out->attr, &out->handle, lay);
		out->has_dir = mds_ns_getattr(ns, cr.parent, &out->dir) == 0;
		out->kind = MDS_RB_OPEN;
		break;
	case MSG_OP_MDS_LINK:
		memcpy(&ln, body, sizeof(ln));
		rc = mds_reply_name(h, body, sizeof(ln), ln.newnamelen, &name);
		if (rc == 0)
			rc = mds_ns_lookup(ns, ln.newparent, name,
			    ln.newnamelen, &out->attr);
		out->kind = MDS_RB_ATTR;
		break;
	case MSG_OP_MDS_UNLINK:		/* the parent's attributes */
	case MSG_OP_MDS_SETATTR:	/* the inode's, */
	case MSG_OP_MDS_CLOSE:		/* as they are now */
		memcpy(&ino, body, sizeof(ino));
		rc = mds_ns_getattr(ns, ino, &out->attr);
		out->kind = MDS_RB_ATTR;
		break;
	case MSG_OP_MDS_OPEN:
		memcpy(&op, body, sizeof(op));
		rc = mds_open_file(ns, op.ino, op.flags & ~(uint32_t)O_TRUNC,
		    owner, &out->attr, &out->handle, lay);
		out->kind = MDS_RB_OPEN;
		break;
	case MSG_OP_MDS_APPEND:
		out->offset = mds_reply_cur.found;
		out->kind = MDS_RB_APPEND;
		break;
	default:	/* RMDIR, RENAME, SETXATTR, RMXATTR, SETLAYOUT:
			   status only */
		break;
	}
	if (rc == 0)
		log_debug("%s: op %u reqid %llu rebuilt", __func__,
		    h->opcode, (unsigned long long)h->reqid);
	return rc;
}
