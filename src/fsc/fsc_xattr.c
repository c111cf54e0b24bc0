/*
 * libfsx extended attributes (see fsc.h): GETXATTR, SETXATTR, LISTXATTR,
 * REMOVEXATTR through the MDS, the lustre.lov layout xattr and SETLAYOUT,
 * and the client-side lustre.ostdf pseudo-xattr (per-OST usage).
 *
 * Contract: values are copied out whole or not at all (-ERANGE when the
 * caller's buffer is smaller; size 0 asks the size); ACL names are refused
 * here, as the MDS does not store ACLs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

/* ---- xattrs ---- */

/* Copy a value to the caller: size only, ERANGE, or the bytes. */
static int
fsc_xattr_out(const void *val, size_t vlen, void *buf, size_t cap,
    size_t *len)
{
	*len = vlen;
	if (cap == 0)
		return 0;
	if (vlen > cap)
		return -ERANGE;
	memcpy(buf, val, vlen);
	return 0;
}

static int
fsc_ostdf(struct fsc *fs, void *buf, size_t cap, size_t *len)
{
	struct msg_statfs st;
	struct fsc_oio *v = NULL;
	struct fsc_srv **srv = NULL;
	char *text = NULL;
	size_t tcap, tlen;
	uint32_t nosts;
	int n = 0, rc;

	rc = fsc_statfs(fs, &st);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&fs->mu);
	nosts = fs->nosts;
	v = xcalloc(nosts + 1, sizeof(*v));
	srv = xcalloc(nosts + 1, sizeof(*srv));
	for (uint32_t i = 0; i < nosts; i++) {
		if (fs->osts[i].srv == NULL)
			continue;
		v[n].op = MSG_OP_OST_STATFS;
		v[n].ost = i;
		srv[n] = fs->osts[i].srv;	/* servers live as long as fs */
		n++;
	}
	pthread_mutex_unlock(&fs->mu);
	fsc_oio_batch(fs, v, n);
	tcap = (size_t)(n + 1) * (160 + FSC_HOST_MAX);
	text = xmalloc(tcap);
	tlen = (size_t)snprintf(text, tcap, "MDT 0 %" PRIu64 " %" PRIu64
	    " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s:%d\n",
	    st.bsize, st.blocks, st.bfree, st.bavail, st.files, st.ffree,
	    fs->mds->host, fs->mds->port);
	for (int i = 0; i < n; i++) {
		if (v[i].rc < 0) {
			rc = v[i].rc;
			goto out;
		}
		tlen += (size_t)snprintf(text + tlen, tcap - tlen, "OST %u %"
		    PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		    " %" PRIu64 " %s:%d\n", v[i].ost, v[i].st.bsize,
		    v[i].st.blocks, v[i].st.bfree, v[i].st.bavail,
		    v[i].st.files, v[i].st.ffree, srv[i]->host, srv[i]->port);
	}
	rc = fsc_xattr_out(text, tlen, buf, cap, len);
out:
	free(text);
	free(v);
	free(srv);
	return rc;
}

/*
 * POSIX ACLs are not enforced (permissions are the mode bits), so they are
 * refused rather than stored: cp -a and tar then fall back to chmod.
 */
static int
fsc_xattr_acl(const char *name)
{
	return strncmp(name, "system.posix_acl_", 17) == 0;
}

/* Fixed-struct + name body for xattr calls. */
static int
fsc_xattr_body(union fsc_body *b, uint64_t ino, const char *name,
    const struct msg_cred *cred, uint32_t flags, uint32_t size)
{
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc == -ENAMETOOLONG ? -ERANGE : rc;
	memset(&b->x, 0, sizeof(b->x));
	b->x.ino = ino;
	b->x.cred = *cred;
	b->x.flags = flags;
	b->x.namelen = (uint32_t)len;
	b->x.size = size;
	memcpy(b->raw + sizeof(b->x), name, len);
	return (int)(sizeof(b->x) + len);
}

int
fsc_xattr_get(struct fsc *fs, uint64_t ino, const char *name,
    const struct msg_cred *cred, void *buf, size_t cap, size_t *len)
{
	union fsc_body b;
	struct fsc_req r;
	struct iovec iov;
	char *val;
	int rc, blen;

	*len = 0;
	if (fsc_xattr_acl(name))
		return -EOPNOTSUPP;
	if (strcmp(name, FSC_XATTR_OSTDF) == 0)
		return fsc_ostdf(fs, buf, cap, len);
	if (strcmp(name, FSC_XATTR_LOV) == 0) {
		char lbuf[FSC_LAYOUT_BUF];
		struct msg_ino mi;

		memset(&mi, 0, sizeof(mi));
		mi.ino = ino;
		mi.cred = *cred;
		iov.iov_base = lbuf;
		iov.iov_len = sizeof(lbuf);
		fsc_req_init(&r, MSG_OP_MDS_GETLAYOUT, &mi, sizeof(mi));
		r.rbulk = &iov;
		r.nrbulk = 1;
		rc = fsc_mds_call(fs, &r);
		if (rc < 0)
			return rc;
		if (r.rbulk_len < sizeof(struct msg_layout))
			return -ENODATA;
		return fsc_xattr_out(lbuf, r.rbulk_len, buf, cap, len);
	}
	blen = fsc_xattr_body(&b, ino, name, cred, 0, MSG_XATTR_MAX);
	if (blen < 0)
		return blen;
	val = xmalloc(MSG_XATTR_MAX);
	iov.iov_base = val;
	iov.iov_len = MSG_XATTR_MAX;
	fsc_req_init(&r, MSG_OP_MDS_GETXATTR, &b, (uint32_t)blen);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0)
		rc = fsc_xattr_out(val, r.rbulk_len, buf, cap, len);
	free(val);
	return rc;
}

int
fsc_xattr_set(struct fsc *fs, uint64_t ino, const char *name, const void *val,
    size_t len, uint32_t flags, const struct msg_cred *cred)
{
	union fsc_body b;
	struct fsc_req r;
	struct iovec iov;
	int blen, rc;

	if (strcmp(name, FSC_XATTR_OSTDF) == 0)
		return -EPERM;
	if (fsc_xattr_acl(name))
		return -EOPNOTSUPP;
	if (len > MSG_XATTR_MAX)
		return -E2BIG;
	iov.iov_base = (void *)val;
	iov.iov_len = len;
	if (strcmp(name, FSC_XATTR_LOV) == 0) {
		struct msg_ino mi;
		struct msg_layout ml;

		if (len < sizeof(ml))
			return -EINVAL;
		memcpy(&ml, val, sizeof(ml));
		if (ml.magic != MSG_LOV_MAGIC)
			return -EINVAL;
		memset(&mi, 0, sizeof(mi));
		mi.ino = ino;
		mi.cred = *cred;
		fsc_req_init(&r, MSG_OP_MDS_SETLAYOUT, &mi, sizeof(mi));
		r.bulk = &iov;
		r.nbulk = 1;
		rc = fsc_dir_call(fs, ino, &r);
		if (rc == 0)
			fsc_inode_relayout(fs, ino, cred);
		return rc;
	}
	blen = fsc_xattr_body(&b, ino, name, cred, flags, (uint32_t)len);
	if (blen < 0)
		return blen;
	fsc_req_init(&r, MSG_OP_MDS_SETXATTR, &b, (uint32_t)blen);
	r.bulk = &iov;
	r.nbulk = 1;
	return fsc_dir_call(fs, ino, &r);
}

int
fsc_xattr_list(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    void *buf, size_t cap, size_t *len)
{
	struct msg_ino b;
	struct fsc_req r;
	struct iovec iov;
	char *val;
	int rc;

	*len = 0;
	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	val = xmalloc(MSG_XATTR_MAX);
	iov.iov_base = val;
	iov.iov_len = MSG_XATTR_MAX;
	fsc_req_init(&r, MSG_OP_MDS_LISTXATTR, &b, sizeof(b));
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0 && r.rbulk_len > 0 && val[r.rbulk_len - 1] != '\0')
		rc = -EIO;
	if (rc == 0)
		rc = fsc_xattr_out(val, r.rbulk_len, buf, cap, len);
	free(val);
	return rc;
}

int
fsc_xattr_remove(struct fsc *fs, uint64_t ino, const char *name,
    const struct msg_cred *cred)
{
	union fsc_body b;
	struct fsc_req r;
	int blen;

	if (strcmp(name, FSC_XATTR_OSTDF) == 0 ||
	    strcmp(name, FSC_XATTR_LOV) == 0)
		return -EPERM;
	blen = fsc_xattr_body(&b, ino, name, cred, 0, 0);
	if (blen < 0)
		return blen;
	fsc_req_init(&r, MSG_OP_MDS_RMXATTR, &b, (uint32_t)blen);
	return fsc_dir_call(fs, ino, &r);
}

int
fsc_xattr_setlayout(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    uint32_t stripe_size, int32_t stripe_count, int32_t stripe_offset)
{
	struct msg_layout ml;

	memset(&ml, 0, sizeof(ml));
	ml.magic = MSG_LOV_MAGIC;
	ml.stripe_size = stripe_size;
	ml.stripe_count = stripe_count;
	ml.stripe_offset = stripe_offset;
	return fsc_xattr_set(fs, ino, FSC_XATTR_LOV, &ml, sizeof(ml), 0, cred);
}
