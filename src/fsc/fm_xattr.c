/*
 * fsx-mount's extended attribute handlers (see fm.h): get, set, list and
 * remove go to the MDS (fsc_xattr_*), except the kernel's question for
 * security.capability before a write, answered here for files known to
 * have none; and what a write clears when the kernel leaves it to us
 * (fm_kill_privs, FUSE_HANDLE_KILLPRIV_V2: fm_io.c).
 *
 * Contract: a file is "known to have no capability" (or "no S_ISUID or
 * S_ISGID to clear") for at most FM_PRIV_NS after the MDS said so, this
 * mount created it or cleared them; a set or remove through this mount,
 * or the revocation of the mount's lease on the file (any change by
 * another client), forgets it at once. A change through another mount
 * that holds no lease is seen within that time, like any attribute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc_mcache.h"

/*
 * The kernel asks for security.capability before every write it does
 * not leave to us. Files without one are remembered for the attribute
 * timeout, so a stream of writes costs no MDS round trips.
 */
#define FM_PRIV_SLOTS	1024
#define FM_PRIV_NS	1000000000ull	/* the attribute timeout */
#define FM_XATTR_CAP	"security.capability"

enum { FM_NOCAP, FM_NOSID };

static struct {
	uint64_t	ino;
	uint64_t	until_ns[2];	/* FM_NOCAP, FM_NOSID */
} fm_priv[FM_PRIV_SLOTS];
static pthread_mutex_t	fm_priv_mu = PTHREAD_MUTEX_INITIALIZER;

static int
fm_priv_known(uint64_t ino, int what)
{
	int hit;

	pthread_mutex_lock(&fm_priv_mu);
	hit = fm_priv[ino % FM_PRIV_SLOTS].ino == ino &&
	    fm_priv[ino % FM_PRIV_SLOTS].until_ns[what] > now_mono_ns();
	pthread_mutex_unlock(&fm_priv_mu);
	return hit;
}

/* ino has no `what` (yes 1) for FM_PRIV_NS, or may have (yes 0). */
static void
fm_priv_note(uint64_t ino, int what, int yes)
{
	pthread_mutex_lock(&fm_priv_mu);
	if (yes) {
		if (fm_priv[ino % FM_PRIV_SLOTS].ino != ino) {
			fm_priv[ino % FM_PRIV_SLOTS].ino = ino;
			fm_priv[ino % FM_PRIV_SLOTS].until_ns[FM_NOCAP] = 0;
			fm_priv[ino % FM_PRIV_SLOTS].until_ns[FM_NOSID] = 0;
		}
		fm_priv[ino % FM_PRIV_SLOTS].until_ns[what] = now_mono_ns() +
		    FM_PRIV_NS;
	} else if (fm_priv[ino % FM_PRIV_SLOTS].ino == ino) {
		fm_priv[ino % FM_PRIV_SLOTS].until_ns[what] = 0;
	}
	pthread_mutex_unlock(&fm_priv_mu);
}

void
fm_privs_forget(uint64_t ino)
{
	pthread_mutex_lock(&fm_priv_mu);
	if (fm_priv[ino % FM_PRIV_SLOTS].ino == ino)
		fm_priv[ino % FM_PRIV_SLOTS].ino = 0;	/* knows nothing */
	pthread_mutex_unlock(&fm_priv_mu);
}

void
fm_privs_forget_all(void)
{
	pthread_mutex_lock(&fm_priv_mu);
	memset(fm_priv, 0, sizeof(fm_priv));
	pthread_mutex_unlock(&fm_priv_mu);
}

void
fm_privs_seen(uint64_t ino, const struct msg_attr *a, int created)
{
	if (created)
		fm_priv_note(ino, FM_NOCAP, 1);
	if (msg_killpriv(a->mode) == 0)
		fm_priv_note(ino, FM_NOSID, 1);
}

int
fm_kill_privs(uint64_t ino, int sid)
{
	const struct msg_cred root = { 0, 0 };	/* the kernel's own act */
	struct msg_setattr sa;
	struct msg_attr a;
	uint64_t i = fm_ino(ino);
	int held, changed = 0, rc;
	size_t len;

	if (!fm_io_killpriv())
		return 0;	/* the kernel does it */
	if (sid && !fm_priv_known(ino, FM_NOSID)) {
		fsc_mc_lock();
		held = fsc_mc_attr(i, &a) || fsc_mc_watched(i, &a);
		fsc_mc_unlock();
		if (!held || msg_killpriv(a.mode) != 0) {
			/* the MDS clears what it holds, atomically */
			memset(&sa, 0, sizeof(sa));
			sa.ino = i;
			sa.cred = root;
			sa.valid = MSG_SA_KILLPRIV;
			rc = fsc_setattr(fm_fs, NULL, &sa, &a);
			if (rc < 0 && rc != -ENOENT && rc != -ESTALE)
				return rc;	/* (a file gone keeps nothing) */
			fm_priv_note(ino, FM_NOSID, 1);
			changed = 1;
		}
	}
	if (!fm_priv_known(ino, FM_NOCAP)) {
		rc = fsc_xattr_get(fm_fs, i, FM_XATTR_CAP, &root, NULL, 0,
		    &len);
		if (rc == 0) {
			rc = fsc_xattr_remove(fm_fs, i, FM_XATTR_CAP, &root);
			changed = 1;
		}
		if (rc < 0 && rc != -ENODATA && rc != -EOPNOTSUPP &&
		    rc != -ENOENT && rc != -ESTALE)
			return rc;
		fm_priv_note(ino, FM_NOCAP, 1);
	}
	if (changed) {
		/* our own change: the mount's copy and the kernel's go (the
		 * kernel keeps the mode after a write; pages are untouched,
		 * as the writer may hold them locked) */
		fsc_mc_changed(i);
		if (fm_se != NULL)
			(void)fuse_lowlevel_notify_inval_inode(fm_se, ino,
			    -1, 0);
	}
	return 0;
}

/* The answer to a get or list: the size asked for, or the value. */
static void
fm_xattr_reply(fuse_req_t req, int rc, char *buf, size_t size, size_t len)
{
	if (rc < 0)
		fm_err(req, rc);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else
		fuse_reply_buf(req, buf, len);
	free(buf);
}

void
fm_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	struct msg_cred c;
	int rc;

	fm_count(FM_OP_setxattr);
	fm_cred(req, &c);
	fm_priv_note(ino, FM_NOCAP, 0);
	rc = fsc_xattr_set(fm_fs, fm_ino(ino), name, value, size,
	    (uint32_t)flags & (MSG_XA_CREATE | MSG_XA_REPLACE), &c);
	fsc_mc_changed(fm_ino(ino));	/* ctime; a layout */
	fuse_reply_err(req, -rc);
}

void
fm_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	int is_cap = strcmp(name, FM_XATTR_CAP) == 0;
	struct msg_cred c;
	char *buf = NULL;
	size_t len;
	int rc;

	fm_count(FM_OP_getxattr);
	if (is_cap && fm_priv_known(ino, FM_NOCAP)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	fm_cred(req, &c);
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fm_err(req, -ENOMEM);
		return;
	}
	rc = fsc_xattr_get(fm_fs, fm_ino(ino), name, &c, buf, size, &len);
	if (is_cap)
		fm_priv_note(ino, FM_NOCAP, rc == -ENODATA);
	fm_xattr_reply(req, rc, buf, size, len);
}

void
fm_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct msg_cred c;
	char *buf = NULL;
	size_t len;
	int rc;

	fm_count(FM_OP_listxattr);
	fm_cred(req, &c);
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fm_err(req, -ENOMEM);
		return;
	}
	rc = fsc_xattr_list(fm_fs, fm_ino(ino), &c, buf, size, &len);
	fm_xattr_reply(req, rc, buf, size, len);
}

void
fm_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct msg_cred c;
	int rc;

	fm_count(FM_OP_removexattr);
	fm_cred(req, &c);
	fm_priv_note(ino, FM_NOCAP, 0);
	rc = fsc_xattr_remove(fm_fs, fm_ino(ino), name, &c);
	fsc_mc_changed(fm_ino(ino));
	fuse_reply_err(req, -rc);
}
