/*
 * Extended attributes in the MDS store (table xattr): user.*, trusted.*
 * (root only), security.*, system.* and the lustre.lov pseudo-xattr (the
 * layout, read and set through mds_layout.c; never listed).
 *
 * Contract: at most XATTR_TOTAL_MAX bytes of names and values per inode;
 * GETXATTR with want 0 asks the size, -ERANGE when want is smaller than
 * the value. Every public function takes the store lock and commits as
 * mds_tx.c says.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"

/* ---- xattrs ---- */

#define XA_LOV		"lustre.lov"

enum xa_ns { XK_USER, XK_TRUSTED, XK_SECURITY, XK_SYSTEM, XK_LOV };

static int
xattr_name(const char *name, size_t len, enum xa_ns *kind)
{
	static const struct {
		const char	*prefix;
		enum xa_ns	 kind;
	} pfx[] = {
		{ "user.", XK_USER },
		{ "trusted.", XK_TRUSTED },
		{ "security.", XK_SECURITY },
		{ "system.", XK_SYSTEM },
	};

	if (len == 0 || len > MSG_NAME_MAX)
		return -ERANGE;
	if (memchr(name, '\0', len) != NULL)
		return -EINVAL;
	if (len == strlen(XA_LOV) && memcmp(name, XA_LOV, len) == 0) {
		*kind = XK_LOV;
		return 0;
	}
	for (size_t k = 0; k < sizeof(pfx) / sizeof(pfx[0]); k++) {
		size_t pl = strlen(pfx[k].prefix);

		if (len > pl && memcmp(name, pfx[k].prefix, pl) == 0) {
			*kind = pfx[k].kind;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

int
mds_xattr_get(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen, uint32_t want, void *buf, size_t cap,
    size_t *len)
{
	struct mds_layout l;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	const void *v = NULL;
	size_t n = 0;
	int rc;

	*len = 0;
	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (kind == XK_TRUSTED && uid != 0)
		return -ENODATA;
	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (kind == XK_LOV) {
		if (S_ISDIR(i.mode)) {
			rc = mds_layout_load(ns, ino, &l);
			if (rc == 0)
				rc = -ENODATA;
		} else
			rc = mds_layout_get_locked(ns, &i, &l);
		if (rc < 0)
			goto out;
		rc = 0;
		v = &l;
		n = mds_layout_size(&l);
	} else {
		s = mds_tx_st(ns, Q_XA_GET);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = mds_tx_row(ns, s);
		if (rc <= 0) {
			rc = rc == 0 ? -ENODATA : rc;
			goto out;
		}
		rc = 0;
		v = sqlite3_column_blob(s, 0);
		n = (size_t)sqlite3_column_bytes(s, 0);
	}
	*len = n;
	if (want != 0 && n > want)
		rc = -ERANGE;
	else if (n > cap)
		rc = -ERANGE;
	else if (n > 0)
		memcpy(buf, v, n);
	if (kind != XK_LOV)
		sqlite3_reset(ns->st[Q_XA_GET]);
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_xattr_set(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen, const void *val, size_t vlen,
    uint32_t flags)
{
	struct timespec now;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	uint64_t total;
	int rc, exists;

	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (flags & ~(MSG_XA_CREATE | MSG_XA_REPLACE))
		return -EINVAL;
	if (kind == XK_TRUSTED && uid != 0)
		return -EPERM;
	if (vlen > MSG_XATTR_MAX)
		return -E2BIG;
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (kind == XK_LOV) {
		rc = mds_layout_set_locked(ns, &i, val, vlen);
		goto touch;
	}
	if (kind == XK_USER && !S_ISREG(i.mode) && !S_ISDIR(i.mode)) {
		rc = -EPERM;	/* as Linux: user.* only on files and dirs */
		goto end;
	}
	s = mds_tx_st(ns, Q_XA_GET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	rc = mds_tx_row(ns, s);
	if (rc < 0)
		goto end;
	sqlite3_reset(s);
	exists = rc;
	if ((flags & MSG_XA_CREATE) && exists) {
		rc = -EEXIST;
		goto end;
	}
	if ((flags & MSG_XA_REPLACE) && !exists) {
		rc = -ENODATA;
		goto end;
	}
	s = mds_tx_st(ns, Q_XA_TOTAL);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	rc = mds_tx_row(ns, s);
	if (rc <= 0) {
		rc = rc == 0 ? -EIO : rc;
		goto end;
	}
	total = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (total + namelen + vlen > XATTR_TOTAL_MAX) {
		rc = -ENOSPC;
		goto end;
	}
	s = mds_tx_st(ns, Q_XA_SET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, vlen ? val : "", (int)vlen, SQLITE_STATIC);
	rc = mds_tx_exec(ns, s);
touch:
	if (rc < 0)
		goto end;
	i.ct = now;
	rc = mds_ns_ino_store(ns, &i);
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_xattr_list(struct mds_ns *ns, uint64_t ino, uint32_t uid, void *buf,
    size_t cap, size_t *len)
{
	struct mds_ino i;
	sqlite3_stmt *s;
	enum xa_ns kind;
	size_t used = 0;
	int rc, step;

	*len = 0;
	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	s = mds_tx_st(ns, Q_XA_LIST);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	for (;;) {
		const char *n;
		int nl;

		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = mds_tx_errno(step);
			break;
		}
		n = sqlite3_column_blob(s, 0);
		nl = sqlite3_column_bytes(s, 0);
		if (n == NULL || nl <= 0 ||
		    xattr_name(n, (size_t)nl, &kind) < 0)
			continue;
		if (kind == XK_TRUSTED && uid != 0)
			continue;
		if (used + (size_t)nl + 1 > cap) {
			rc = -ERANGE;
			break;
		}
		memcpy((char *)buf + used, n, (size_t)nl);
		used += (size_t)nl;
		((char *)buf)[used++] = '\0';
	}
	sqlite3_reset(s);
	*len = used;
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_xattr_remove(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen)
{
	struct timespec now;
	struct mds_layout l;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	int rc;

	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (kind == XK_TRUSTED && uid != 0)
		return -EPERM;
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (kind == XK_LOV) {
		if (!S_ISDIR(i.mode)) {
			rc = -EPERM;
			goto end;
		}
		rc = mds_layout_load(ns, ino, &l);
		if (rc == 0)
			rc = -ENODATA;
		if (rc == 1)
			rc = mds_layout_store(ns, ino, NULL);
	} else {
		s = mds_tx_st(ns, Q_XA_GET);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = mds_tx_row(ns, s);
		if (rc == 1)
			sqlite3_reset(s);
		if (rc == 0)
			rc = -ENODATA;
		if (rc < 0)
			goto end;
		s = mds_tx_st(ns, Q_XA_DEL);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = mds_tx_exec(ns, s);
	}
	if (rc < 0)
		goto end;
	i.ct = now;
	rc = mds_ns_ino_store(ns, &i);
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}
