/*
 * fsx-mount's extended attribute handlers (see fm.h): get, set, list and
 * remove go to the MDS (fsc_xattr_*), except the kernel's question for
 * security.capability before a write, answered here for files known to
 * have none (fm_nocap_*).
 *
 * Contract: a file is "known to have no capability" for at most
 * FM_NOCAP_NS after the MDS said so or this mount created it; a set or
 * remove through this mount forgets it at once, one through another
 * mount is seen within that time, like any attribute.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc_mcache.h"

/*
 * The kernel asks for security.capability before every write. Files
 * without one are remembered for the attribute timeout, so a stream of
 * writes costs no MDS round trips; a set or remove here forgets at once,
 * one from another client is seen within the timeout like any attribute.
 */
#define FM_NOCAP_SLOTS	1024
#define FM_NOCAP_NS	1000000000ull	/* the attribute timeout */
#define FM_XATTR_CAP	"security.capability"

static struct {
	uint64_t	ino;
	uint64_t	until_ns;
} fm_nocap[FM_NOCAP_SLOTS];
static pthread_mutex_t	fm_nocap_mu = PTHREAD_MUTEX_INITIALIZER;

static int
fm_nocap_known(uint64_t ino)
{
	int hit;

	pthread_mutex_lock(&fm_nocap_mu);
	hit = fm_nocap[ino % FM_NOCAP_SLOTS].ino == ino &&
	    fm_nocap[ino % FM_NOCAP_SLOTS].until_ns > now_mono_ns();
	pthread_mutex_unlock(&fm_nocap_mu);
	return hit;
}

void
fm_nocap_set(uint64_t ino, int none)
{
	pthread_mutex_lock(&fm_nocap_mu);
	if (none) {
		fm_nocap[ino % FM_NOCAP_SLOTS].ino = ino;
		fm_nocap[ino % FM_NOCAP_SLOTS].until_ns = now_mono_ns() +
		    FM_NOCAP_NS;
	} else if (fm_nocap[ino % FM_NOCAP_SLOTS].ino == ino) {
		fm_nocap[ino % FM_NOCAP_SLOTS].until_ns = 0;
	}
	pthread_mutex_unlock(&fm_nocap_mu);
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
	fm_nocap_set(ino, 0);
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
	if (is_cap && fm_nocap_known(ino)) {
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
		fm_nocap_set(ino, rc == -ENODATA);
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
	fm_nocap_set(ino, 0);
	rc = fsc_xattr_remove(fm_fs, fm_ino(ino), name, &c);
	fsc_mc_changed(fm_ino(ino));
	fuse_reply_err(req, -rc);
}
