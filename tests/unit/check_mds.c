/*
 * mds: the namespace store on a temporary SQLite database, and the real
 * fsx-mds binary over the wire (with a real fsx-oss when one is built).
 *
 *   mds_ns_create_*      create, EXCL, lookup
 *   mds_ns_rename_*      every rename rule and errno
 *   mds_ns_link_*        link/unlink nlink counts and errnos
 *   mds_ns_rmdir_*       ENOTEMPTY, ENOTDIR
 *   mds_ns_readdir_*     paging over 10,000 entries
 *   mds_ns_layout_*      default layout inheritance, stripe_count -1
 *   mds_ns_oid_*         object ids unique across a restart
 *   mds_ns_xattr_*       xattr rules
 *   mds_ns_destroy_*     destroy queue and orphans
 *   mds_wire_*           fsx-mds process: create, kill -9, restart;
 *                        every acked change of 4 busy clients survives
 *                        kill -9; a second engine on a store in use
 *                        exits 1
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_ns.h"
#include "msg/msg.h"

Suite	*mds_suite(void);

static char tdir[256];
static struct mds_ns *ns;

static void
ns_setup(void)
{
	static const uint32_t osts[] = { 0, 1, 2, 3 };

	snprintf(tdir, sizeof(tdir), "/tmp/check_mds.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	ck_assert_int_eq(mds_ns_open(tdir, &ns), 0);
	ck_assert_int_eq(mds_layout_set_pool(ns, osts, 4), 0);
}

static void
ns_teardown(void)
{
	mds_ns_close(ns);
	ns = NULL;
	rm_rf(tdir);
}

static void
ns_reopen(void)
{
	static const uint32_t osts[] = { 0, 1, 2, 3 };

	mds_ns_close(ns);
	ck_assert_int_eq(mds_ns_open(tdir, &ns), 0);
	ck_assert_int_eq(mds_layout_set_pool(ns, osts, 4), 0);
}

static struct msg_create
mkcr(uint64_t parent, const char *name, uint32_t mode, uint32_t flags)
{
	struct msg_create cr;

	memset(&cr, 0, sizeof(cr));
	cr.parent = parent;
	cr.mode = mode;
	cr.flags = flags;
	cr.namelen = (uint32_t)strlen(name);
	cr.cred.uid = 1000;
	cr.cred.gid = 1000;
	return cr;
}

/* Create a regular file and close it; returns its ino or -errno. */
static int64_t
mkfile(uint64_t parent, const char *name)
{
	struct msg_create cr = mkcr(parent, name, 0644, MSG_CR_EXCL);
	struct mds_layout lay;
	struct msg_attr a;
	struct msg_close c;
	uint64_t h;
	int created, rc;

	rc = mds_ns_create(ns, &cr, name, 7, &a, &h, &lay, &created, NULL);
	if (rc < 0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.ino = a.ino;
	c.handle = h;
	rc = mds_open_close(ns, &c, &a);
	if (rc < 0)
		return rc;
	return (int64_t)a.ino;
}

static int64_t
mkdir_(uint64_t parent, const char *name)
{
	struct msg_create cr = mkcr(parent, name, S_IFDIR | 0755, 0);
	struct msg_attr a;
	int rc;

	rc = mds_ns_mknod(ns, &cr, name, &a);
	return rc < 0 ? rc : (int64_t)a.ino;
}

static int
lookup(uint64_t parent, const char *name, struct msg_attr *a)
{
	struct msg_attr tmp;

	return mds_ns_lookup(ns, parent, name, strlen(name), a ? a : &tmp);
}

static int
rn(uint64_t op, const char *on, uint64_t np, const char *nn, uint32_t fl)
{
	return mds_ns_rename(ns, op, on, strlen(on), np, nn, strlen(nn), fl);
}

static uint32_t
nlink_of(uint64_t ino)
{
	struct msg_attr a;

	ck_assert_int_eq(mds_ns_getattr(ns, ino, &a), 0);
	return a.nlink;
}

START_TEST(mds_ns_root_is_0755_root)
{
	struct msg_attr a;

	ck_assert_int_eq(mds_ns_getattr(ns, MDS_ROOT_INO, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
	ck_assert_uint_eq(a.uid, 0);
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_int_eq(mds_ns_getattr(ns, 999999, &a), -ENOENT);
}
END_TEST

/* The parent's attributes returned by create and unlink are what a
 * GETATTR of the parent answers right after (clients serve the kernel's
 * permission check from them). */
START_TEST(mds_ns_create_unlink_return_parent_attrs)
{
	struct msg_create cr = mkcr(1, "p", 0640, MSG_CR_EXCL);
	struct mds_layout lay;
	struct msg_attr a, d, g;
	uint64_t h;
	int created;

	ck_assert_int_eq(mds_ns_getattr(ns, 1, &g), 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "p", 1, &a, &h, &lay,
	    &created, &d), 0);
	ck_assert_uint_eq(d.ino, 1);
	ck_assert(S_ISDIR(d.mode));
	ck_assert(d.mtime_sec > g.mtime_sec || (d.mtime_sec == g.mtime_sec &&
	    d.mtime_nsec >= g.mtime_nsec));
	ck_assert_int_eq(mds_ns_getattr(ns, 1, &g), 0);
	ck_assert_mem_eq(&d, &g, sizeof(d));
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "p", 1, &d), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, 1, &g), 0);
	ck_assert_mem_eq(&d, &g, sizeof(d));
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "p", 1, &d), -ENOENT);
}
END_TEST

START_TEST(mds_ns_create_excl_returns_eexist)
{
	struct msg_create cr = mkcr(1, "f", 0640, MSG_CR_EXCL);
	struct mds_layout lay;
	struct msg_attr a, b;
	uint64_t h, h2;
	int created;

	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &a, &h, &lay,
	    &created, NULL), 0);
	ck_assert_int_eq(created, 1);
	ck_assert_uint_ne(h, 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(a.open_writers, 1);
	ck_assert_uint_eq(lay.hdr.nent, 1);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &b, &h2, &lay,
	    &created, NULL), -EEXIST);
	cr.flags = 0;
	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &b, &h2, &lay,
	    &created, NULL), 0);
	ck_assert_int_eq(created, 0);
	ck_assert_uint_eq(b.ino, a.ino);
	ck_assert_int_eq(lookup(1, "f", &b), 0);
	ck_assert_uint_eq(b.ino, a.ino);
	ck_assert_int_eq(lookup(1, "nope", NULL), -ENOENT);
	ck_assert_int_eq(lookup(a.ino, "x", NULL), -ENOTDIR);
	/* existing dir without EXCL */
	ck_assert_int_gt(mkdir_(1, "d"), 0);
	cr = mkcr(1, "d", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "d", 1, &b, &h2, &lay,
	    &created, NULL), -EISDIR);
	/* parent errors and names */
	cr = mkcr(a.ino, "x", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "x", 1, &b, &h2, &lay,
	    &created, NULL), -ENOTDIR);
	cr = mkcr(777777, "x", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "x", 1, &b, &h2, &lay,
	    &created, NULL), -ENOENT);
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		cr = mkcr(1, big, 0644, 0);
		ck_assert_int_eq(mds_ns_create(ns, &cr, big, 1, &b, &h2,
		    &lay, &created, NULL), -ENAMETOOLONG);
	}
	cr = mkcr(1, "a/b", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "a/b", 1, &b, &h2, &lay,
	    &created, NULL), -EINVAL);
}
END_TEST

START_TEST(mds_ns_mknod_types_and_nlink)
{
	struct msg_create cr;
	struct msg_attr a;
	int64_t d;

	d = mkdir_(1, "d");
	ck_assert_int_gt(d, 0);
	ck_assert_uint_eq(nlink_of((uint64_t)d), 2);
	ck_assert_uint_eq(nlink_of(1), 3);
	ck_assert_int_eq(mkdir_(1, "d"), -EEXIST);
	cr = mkcr(1, "fifo", S_IFIFO | 0600, 0);
	ck_assert_int_eq(mds_ns_mknod(ns, &cr, "fifo", &a), 0);
	ck_assert_uint_eq(a.mode, S_IFIFO | 0600);
	cr = mkcr(1, "sock", S_IFSOCK | 0600, 0);
	ck_assert_int_eq(mds_ns_mknod(ns, &cr, "sock", &a), 0);
	cr = mkcr(1, "chr", S_IFCHR | 0600, 0);
	cr.rdev = makedev(1, 3);
	ck_assert_int_eq(mds_ns_mknod(ns, &cr, "chr", &a), 0);
	ck_assert_uint_eq(a.rdev, makedev(1, 3));
	cr = mkcr(1, "blk", S_IFBLK | 0600, 0);
	ck_assert_int_eq(mds_ns_mknod(ns, &cr, "blk", &a), 0);
	cr = mkcr(1, "lnk", S_IFLNK | 0600, 0);
	ck_assert_int_eq(mds_ns_mknod(ns, &cr, "lnk", &a), -EINVAL);
	/* setgid directory: gid and S_ISGID inherited */
	{
		struct msg_setattr sa;
		struct msg_attr b;

		memset(&sa, 0, sizeof(sa));
		sa.ino = (uint64_t)d;
		sa.valid = MSG_SA_MODE | MSG_SA_GID;
		sa.mode = S_ISGID | 0775;
		sa.gid = 4242;
		ck_assert_int_eq(mds_ns_setattr(ns, &sa, &b), 0);
		ck_assert_uint_eq(b.mode, S_IFDIR | S_ISGID | 0775);
		ck_assert_int_gt(mkdir_((uint64_t)d, "sub"), 0);
		ck_assert_int_eq(lookup((uint64_t)d, "sub", &b), 0);
		ck_assert_uint_eq(b.gid, 4242);
		ck_assert(b.mode & S_ISGID);
		ck_assert_int_gt(mkfile((uint64_t)d, "f"), 0);
		ck_assert_int_eq(lookup((uint64_t)d, "f", &b), 0);
		ck_assert_uint_eq(b.gid, 4242);
		ck_assert(!(b.mode & S_ISGID));
	}
}
END_TEST

START_TEST(mds_ns_symlink_readlink)
{
	struct msg_create cr = mkcr(1, "l", 0, 0);
	struct msg_attr a;
	char buf[MSG_PATH_MAX], big[MSG_PATH_MAX + 1];
	size_t len;

	ck_assert_int_eq(mds_ns_symlink(ns, &cr, "l", "/some/target", 12, &a),
	    0);
	ck_assert_uint_eq(a.mode, S_IFLNK | 0777);
	ck_assert_uint_eq(a.size, 12);
	ck_assert_int_eq(mds_ns_readlink(ns, a.ino, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(memcmp(buf, "/some/target", 12), 0);
	ck_assert_int_eq(mds_ns_readlink(ns, 1, buf, sizeof(buf), &len),
	    -EINVAL);
	memset(big, 'x', sizeof(big));
	cr = mkcr(1, "l2", 0, 0);
	ck_assert_int_eq(mds_ns_symlink(ns, &cr, "l2", big, 4095, &a), 0);
	cr = mkcr(1, "l3", 0, 0);
	ck_assert_int_eq(mds_ns_symlink(ns, &cr, "l3", big, 4096, &a),
	    -ENAMETOOLONG);
	cr = mkcr(1, "l", 0, 0);
	ck_assert_int_eq(mds_ns_symlink(ns, &cr, "l", "t", 1, &a), -EEXIST);
}
END_TEST

START_TEST(mds_ns_link_unlink_counts)
{
	struct msg_attr a;
	int64_t f, d;

	f = mkfile(1, "f");
	ck_assert_int_gt(f, 0);
	ck_assert_int_eq(mds_ns_link(ns, (uint64_t)f, 1, "g", 1, &a), 0);
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_int_eq(mds_ns_link(ns, (uint64_t)f, 1, "g", 1, &a), -EEXIST);
	d = mkdir_(1, "d");
	ck_assert_int_eq(mds_ns_link(ns, (uint64_t)d, 1, "d2", 2, &a), -EPERM);
	ck_assert_int_eq(mds_ns_link(ns, (uint64_t)f, (uint64_t)d, "h", 1, &a),
	    0);
	ck_assert_uint_eq(nlink_of((uint64_t)f), 3);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "f", 1, NULL), 0);
	ck_assert_uint_eq(nlink_of((uint64_t)f), 2);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "f", 1, NULL), -ENOENT);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "d", 1, NULL), -EISDIR);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "g", 1, NULL), 0);
	ck_assert_uint_eq(mds_destroy_pending(ns), 0);
	ck_assert_int_eq(mds_ns_unlink(ns, (uint64_t)d, "h", 1, NULL), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)f, &a), -ENOENT);
	ck_assert_uint_eq(mds_destroy_pending(ns), 1);
}
END_TEST

START_TEST(mds_ns_link_emlink)
{
	struct msg_attr a;
	char name[32];
	int64_t f;
	int rc = 0, i;

	f = mkfile(1, "f");
	for (i = 1; i < MDS_LINK_MAX + 1; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		rc = mds_ns_link(ns, (uint64_t)f, 1, name, strlen(name), &a);
		if (rc < 0)
			break;
	}
	ck_assert_int_eq(rc, -EMLINK);
	ck_assert_int_eq(i, MDS_LINK_MAX);
	ck_assert_uint_eq(nlink_of((uint64_t)f), MDS_LINK_MAX);
}
END_TEST

START_TEST(mds_ns_rmdir_rules)
{
	int64_t d;

	d = mkdir_(1, "d");
	ck_assert_int_gt(mkfile((uint64_t)d, "f"), 0);
	ck_assert_int_eq(mds_ns_rmdir(ns, 1, "d", 1), -ENOTEMPTY);
	ck_assert_int_eq(mds_ns_rmdir(ns, (uint64_t)d, "f", 1), -ENOTDIR);
	ck_assert_int_eq(mds_ns_rmdir(ns, 1, "zz", 2), -ENOENT);
	ck_assert_int_eq(mds_ns_unlink(ns, (uint64_t)d, "f", 1, NULL), 0);
	ck_assert_uint_eq(nlink_of(1), 3);
	ck_assert_int_eq(mds_ns_rmdir(ns, 1, "d", 1), 0);
	ck_assert_uint_eq(nlink_of(1), 2);
	ck_assert_int_eq(lookup(1, "d", NULL), -ENOENT);
	ck_assert_uint_eq(mds_ns_files(ns), 1);
}
END_TEST

START_TEST(mds_ns_rename_rules)
{
	struct msg_attr a, b;
	int64_t f, g, d, e, sub, d2;

	f = mkfile(1, "f");
	g = mkfile(1, "g");
	d = mkdir_(1, "d");
	e = mkdir_(1, "e");
	sub = mkdir_((uint64_t)d, "sub");
	ck_assert_int_gt(sub, 0);
	ck_assert_int_gt(mkfile((uint64_t)e, "x"), 0);

	/* missing source */
	ck_assert_int_eq(rn(1, "nope", 1, "z", 0), -ENOENT);
	/* file over file: g is replaced and its objects queued */
	ck_assert_int_eq(rn(1, "f", 1, "g", 0), 0);
	ck_assert_int_eq(lookup(1, "g", &a), 0);
	ck_assert_uint_eq(a.ino, (uint64_t)f);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)g, &b), -ENOENT);
	ck_assert_uint_eq(mds_destroy_pending(ns), 1);
	ck_assert_int_eq(lookup(1, "f", NULL), -ENOENT);
	/* file over dir, dir over file */
	ck_assert_int_eq(rn(1, "g", 1, "d", 0), -EISDIR);
	ck_assert_int_eq(rn(1, "d", 1, "g", 0), -ENOTDIR);
	/* dir over non-empty dir, dir into its own subtree */
	ck_assert_int_eq(rn(1, "d", 1, "e", 0), -ENOTEMPTY);
	ck_assert_int_eq(rn(1, "d", (uint64_t)sub, "d", 0), -EINVAL);
	ck_assert_int_eq(rn(1, "d", (uint64_t)d, "d", 0), -EINVAL);
	/* NOREPLACE */
	ck_assert_int_eq(rn(1, "g", (uint64_t)e, "x", MSG_RN_NOREPLACE),
	    -EEXIST);
	ck_assert_int_eq(rn(1, "g", 1, "g2", MSG_RN_NOREPLACE), 0);
	ck_assert_int_eq(rn(1, "g2", 1, "g", 0), 0);
	/* same inode under both names: no-op */
	ck_assert_int_eq(mds_ns_link(ns, (uint64_t)f, 1, "hard", 4, &a), 0);
	ck_assert_int_eq(rn(1, "g", 1, "hard", 0), 0);
	ck_assert_int_eq(lookup(1, "g", NULL), 0);
	ck_assert_int_eq(lookup(1, "hard", NULL), 0);
	ck_assert_uint_eq(nlink_of((uint64_t)f), 2);
	/* dir over empty dir across directories; parent nlinks */
	d2 = mkdir_((uint64_t)e, "empty");
	ck_assert_uint_eq(nlink_of((uint64_t)e), 3);
	ck_assert_uint_eq(nlink_of(1), 4);
	ck_assert_int_eq(rn((uint64_t)d, "sub", (uint64_t)e, "empty", 0), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)d2, &a), -ENOENT);
	ck_assert_uint_eq(nlink_of((uint64_t)e), 3);
	ck_assert_uint_eq(nlink_of((uint64_t)d), 2);
	ck_assert_int_eq(lookup((uint64_t)e, "empty", &a), 0);
	ck_assert_uint_eq(a.ino, (uint64_t)sub);
	ck_assert_int_eq(lookup((uint64_t)sub, "..", &a), 0);
	ck_assert_uint_eq(a.ino, (uint64_t)e);
	/* move a dir across: nlinks follow */
	ck_assert_int_eq(rn(1, "d", (uint64_t)e, "d", 0), 0);
	ck_assert_uint_eq(nlink_of(1), 3);
	ck_assert_uint_eq(nlink_of((uint64_t)e), 4);
	/* now e contains d: moving e under d is a loop */
	ck_assert_int_eq(rn(1, "e", (uint64_t)d, "e", 0), -EINVAL);
	/* bad flags */
	ck_assert_int_eq(rn(1, "g", 1, "q", MSG_RN_NOREPLACE |
	    MSG_RN_EXCHANGE), -EINVAL);
}
END_TEST

START_TEST(mds_ns_rename_exchange)
{
	struct msg_attr a;
	int64_t f, d, e;

	f = mkfile(1, "f");
	d = mkdir_(1, "d");
	e = mkdir_(1, "e");
	ck_assert_int_eq(rn(1, "f", 1, "zz", MSG_RN_EXCHANGE), -ENOENT);
	/* file <-> dir in another parent */
	ck_assert_int_gt(mkfile((uint64_t)e, "y"), 0);
	ck_assert_int_eq(rn(1, "d", (uint64_t)e, "y", MSG_RN_EXCHANGE), 0);
	ck_assert_int_eq(lookup(1, "d", &a), 0);
	ck_assert(S_ISREG(a.mode));
	ck_assert_int_eq(lookup((uint64_t)e, "y", &a), 0);
	ck_assert_uint_eq(a.ino, (uint64_t)d);
	ck_assert_uint_eq(nlink_of((uint64_t)e), 3);
	ck_assert_uint_eq(nlink_of(1), 3);
	ck_assert_int_eq(lookup((uint64_t)d, "..", &a), 0);
	ck_assert_uint_eq(a.ino, (uint64_t)e);
	/* exchanging a dir with its own ancestor is a loop */
	ck_assert_int_eq(rn((uint64_t)e, "y", 1, "e", MSG_RN_EXCHANGE),
	    -EINVAL);
	(void)f;
}
END_TEST

START_TEST(mds_ns_readdir_10000_each_once)
{
	enum { N = 10000 };
	static unsigned char seen[N];
	static char buf[4096];
	uint64_t cookie = 0;
	int64_t d;
	int total = 0, dots = 0, eof = 0, pages = 0;

	d = mkdir_(1, "big");
	for (int i = 0; i < N; i++) {
		char name[32];
		struct msg_create cr;
		struct msg_attr a;

		snprintf(name, sizeof(name), "entry-%05d", i);
		cr = mkcr((uint64_t)d, name, S_IFIFO | 0644, 0);
		ck_assert_int_eq(mds_ns_mknod(ns, &cr, name, &a), 0);
	}
	memset(seen, 0, sizeof(seen));
	while (!eof) {
		size_t used, off = 0;
		uint32_t count;

		ck_assert_int_eq(mds_ns_readdir(ns, (uint64_t)d, cookie, buf,
		    sizeof(buf), &used, &count, &eof), 0);
		ck_assert_uint_le(used, sizeof(buf));
		pages++;
		for (uint32_t k = 0; k < count; k++) {
			struct msg_dirent de;
			char name[300];

			memcpy(&de, buf + off, sizeof(de));
			memcpy(name, buf + off + sizeof(de), de.namelen);
			name[de.namelen] = '\0';
			off += de.reclen;
			ck_assert_uint_gt(de.cookie, cookie);
			cookie = de.cookie;
			if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
				dots++;
				continue;
			}
			ck_assert_uint_eq(de.mode, S_IFIFO);
			{
				int idx = atoi(name + 6);

				ck_assert_int_eq(seen[idx], 0);
				seen[idx] = 1;
				total++;
			}
			/* insert while listing: must not disturb paging */
			if (total == 5000 && k == 0) {
				struct msg_create cr = mkcr((uint64_t)d,
				    "late", S_IFIFO | 0644, 0);
				struct msg_attr a;

				ck_assert_int_eq(mds_ns_mknod(ns, &cr, "late",
				    &a), 0);
			}
		}
		ck_assert_uint_eq(off, used);
	}
	ck_assert_int_eq(dots, 2);
	ck_assert_int_ge(total, N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_int_gt(pages, 10);
	/* too small a buffer */
	{
		size_t used;
		uint32_t count;

		ck_assert_int_eq(mds_ns_readdir(ns, (uint64_t)d, 0, buf, 8,
		    &used, &count, &eof), -EINVAL);
	}
}
END_TEST

START_TEST(mds_ns_layout_inheritance)
{
	struct msg_create cr;
	struct mds_layout lay, got;
	struct msg_attr a;
	uint64_t h;
	int created;
	int64_t d, sub;

	/* fs default: 1 stripe, 1 MiB */
	ck_assert_int_gt(mkfile(1, "plain"), 0);
	ck_assert_int_eq(lookup(1, "plain", &a), 0);
	ck_assert_int_eq(mds_layout_get(ns, a.ino, &got), 0);
	ck_assert_int_eq(got.hdr.stripe_count, 1);
	ck_assert_uint_eq(got.hdr.stripe_size, 1024 * 1024);
	ck_assert_uint_eq(got.hdr.nent, 1);

	d = mkdir_(1, "wide");
	memset(&lay, 0, sizeof(lay));
	lay.hdr.magic = MSG_LOV_MAGIC;
	lay.hdr.stripe_count = -1;
	lay.hdr.stripe_size = 4 * 1024 * 1024;
	lay.hdr.stripe_offset = -1;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
	    sizeof(lay.hdr)), 0);
	cr = mkcr((uint64_t)d, "f", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &a, &h, &got,
	    &created, NULL), 0);
	ck_assert_int_eq(got.hdr.stripe_count, 4);
	ck_assert_uint_eq(got.hdr.nent, 4);
	ck_assert_uint_eq(got.hdr.stripe_size, 4 * 1024 * 1024);
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			ck_assert_uint_ne(got.ent[i].ost, got.ent[j].ost);
	/* subdirectories inherit; their files too */
	sub = mkdir_((uint64_t)d, "sub");
	cr = mkcr((uint64_t)sub, "f", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &a, &h, &got,
	    &created, NULL), 0);
	ck_assert_uint_eq(got.hdr.nent, 4);
	/* the lustre.lov xattr of the dir is its default */
	{
		char buf[MDS_LAYOUT_MAX];
		size_t len;

		ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)sub, 0,
		    "lustre.lov", 10, sizeof(buf), buf, sizeof(buf), &len), 0);
		ck_assert_uint_eq(len, sizeof(struct msg_layout));
		ck_assert_int_eq(mds_xattr_get(ns, 1, 0, "lustre.lov", 10,
		    sizeof(buf), buf, sizeof(buf), &len), -ENODATA);
		/* file's lustre.lov is its layout */
		ck_assert_int_eq(mds_xattr_get(ns, a.ino, 0, "lustre.lov",
		    10, sizeof(buf), buf, sizeof(buf), &len), 0);
		ck_assert_uint_eq(len, sizeof(struct msg_layout) +
		    4 * sizeof(struct msg_layout_ent));
	}
	/* stripe_offset and count 2 */
	lay.hdr.stripe_count = 2;
	lay.hdr.stripe_offset = 3;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
	    sizeof(lay.hdr)), 0);
	cr = mkcr((uint64_t)d, "g", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "g", 1, &a, &h, &got,
	    &created, NULL), 0);
	ck_assert_uint_eq(got.hdr.nent, 2);
	ck_assert_uint_eq(got.ent[0].ost, 3);
	ck_assert_uint_eq(got.ent[1].ost, 0);
	/* bad values */
	lay.hdr.stripe_offset = 9;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
	    sizeof(lay.hdr)), -EINVAL);
	lay.hdr.stripe_offset = -1;
	lay.hdr.stripe_size = 1000;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
	    sizeof(lay.hdr)), -EINVAL);
	/* count larger than the OSTs is capped */
	lay.hdr.stripe_size = 65536;
	lay.hdr.stripe_count = 100;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
	    sizeof(lay.hdr)), 0);
	cr = mkcr((uint64_t)d, "h", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "h", 1, &a, &h, &got,
	    &created, NULL), 0);
	ck_assert_uint_eq(got.hdr.nent, 4);
	/* root default applies to dirs without their own */
	lay.hdr.stripe_count = 3;
	ck_assert_int_eq(mds_layout_set(ns, 1, &lay, sizeof(lay.hdr)), 0);
	ck_assert_int_gt(mkfile(1, "r"), 0);
	ck_assert_int_eq(lookup(1, "r", &a), 0);
	ck_assert_int_eq(mds_layout_get(ns, a.ino, &got), 0);
	ck_assert_uint_eq(got.hdr.nent, 3);
}
END_TEST

/* atime_s of ino's row as committed (no deferred atime applied). */
static int64_t
row_atime(uint64_t ino)
{
	sqlite3_stmt *s;
	int64_t at = -1;

	mds_tx_rlock(ns);
	ck_assert_int_eq(sqlite3_prepare_v2(ns->db, "SELECT atime_s FROM "
	    "inode WHERE ino = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	if (sqlite3_step(s) == SQLITE_ROW)
		at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	pthread_mutex_unlock(&ns->lock);
	return at;
}

/* Set ino's atime, and its mtime unless mt < 0; *a: the attributes. */
static void
set_times(uint64_t ino, int64_t at, int64_t mt, struct msg_attr *a)
{
	struct msg_setattr sa;

	memset(&sa, 0, sizeof(sa));
	sa.ino = ino;
	sa.valid = MSG_SA_ATIME | (mt >= 0 ? MSG_SA_MTIME : 0);
	sa.atime_sec = at;
	sa.mtime_sec = mt >= 0 ? mt : 0;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, a), 0);
}

/* Open for reading, then CLOSE with the read reported. */
static void
read_close(uint64_t ino, struct msg_attr *a)
{
	struct mds_layout lay;
	struct msg_close c;
	uint64_t h;

	ck_assert_int_eq(mds_open_file(ns, ino, O_RDONLY, 1, a, &h, &lay), 0);
	memset(&c, 0, sizeof(c));
	c.ino = ino;
	c.handle = h;
	c.written = MSG_CLOSE_READ;
	ck_assert_int_eq(mds_open_close(ns, &c, a), 0);
}

/* A read reported at close moves atime by relatime's rules, durably. */
START_TEST(mds_ns_close_read_relatime)
{
	struct mds_layout lay;
	struct msg_setattr sa;
	struct msg_close c;
	struct msg_attr a;
	uint64_t h;
	int64_t f = mkfile(1, "r");

	ck_assert_int_gt(f, 0);
	/* atime older than mtime: a read moves it */
	set_times((uint64_t)f, 1000, 2000, &a);
	memset(&sa, 0, sizeof(sa));
	sa.ino = (uint64_t)f;
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDONLY, 1, &a,
	    &h, &lay), 0);
	memset(&c, 0, sizeof(c));
	c.ino = (uint64_t)f;
	c.handle = h;
	c.written = MSG_CLOSE_READ;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_gt(a.atime_sec, 2000);
	ck_assert_int_eq(a.mtime_sec, 2000);
	ns_reopen();
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)f, &a), 0);
	ck_assert_int_gt(a.atime_sec, 2000);
	/* atime newer than mtime and ctime, and recent: unchanged */
	sa.valid = MSG_SA_ATIME;
	sa.atime_sec = a.ctime_sec + 5;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDONLY, 1, &a,
	    &h, &lay), 0);
	c.handle = h;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.atime_sec, sa.atime_sec);
	/* a close without the flag, or without a handle, leaves it alone */
	sa.atime_sec = 1000;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDONLY, 1, &a,
	    &h, &lay), 0);
	c.handle = h;
	c.written = 0;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.atime_sec, 1000);
	c.handle = 0;
	c.written = MSG_CLOSE_READ;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.atime_sec, 1000);
	/* an explicit atime set while the reader is open wins over its
	   late CLOSE */
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDONLY, 1, &a,
	    &h, &lay), 0);
	sa.atime_sec = 1500;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	c.handle = h;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.atime_sec, 1500);
}
END_TEST

/*
 * An atime that only a read moved is not a transaction of its own
 * (design note 7 of mds_ns.c): seen at once, stored by a flush or a clean
 * close; an explicit atime set since wins; a removed file leaves nothing
 * to store.
 */
START_TEST(mds_ns_read_atime_deferred)
{
	struct msg_attr a;
	int64_t f = mkfile(1, "d"), g = mkfile(1, "e");

	ck_assert_int_gt(f, 0);
	ck_assert_int_gt(g, 0);
	set_times((uint64_t)f, 1000, 2000, &a);
	read_close((uint64_t)f, &a);
	ck_assert_int_gt(a.atime_sec, 2000);
	ck_assert_int_eq(row_atime((uint64_t)f), 1000);	/* noted only */
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)f, &a), 0);
	ck_assert_int_gt(a.atime_sec, 2000);
	ck_assert_int_eq(mds_ns_atime_flush(ns), 0);
	ck_assert_int_gt(row_atime((uint64_t)f), 2000);
	ck_assert_uint_eq(ns->nlazy, 0);

	/* an explicit atime after a noted read wins, noted or stored */
	set_times((uint64_t)f, 1000, -1, &a);
	read_close((uint64_t)f, &a);
	ck_assert_int_gt(a.atime_sec, 2000);
	set_times((uint64_t)f, 1500, -1, &a);
	ck_assert_int_eq(a.atime_sec, 1500);
	ck_assert_int_eq(mds_ns_atime_flush(ns), 0);
	ck_assert_int_eq(row_atime((uint64_t)f), 1500);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)f, &a), 0);
	ck_assert_int_eq(a.atime_sec, 1500);

	/* removed after a noted read: nothing left to store */
	set_times((uint64_t)f, 1000, -1, &a);
	read_close((uint64_t)f, &a);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "d", 1, NULL), 0);
	ck_assert_uint_eq(ns->nlazy, 0);

	/* a clean close stores what is noted */
	set_times((uint64_t)g, 1000, 2000, &a);
	read_close((uint64_t)g, &a);
	ck_assert_int_eq(row_atime((uint64_t)g), 1000);
	ns_reopen();
	ck_assert_int_gt(row_atime((uint64_t)g), 2000);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)g, &a), 0);
	ck_assert_int_gt(a.atime_sec, 2000);
}
END_TEST

/*
 * A commit of far more than 128 KiB of WAL frames: 3,000 noted atimes
 * stored in one transaction. The VFS's gathered WAL write once exceeded
 * what the unix VFS writes in one call and such commits failed (ENOSPC).
 */
START_TEST(mds_ns_big_commit)
{
	struct msg_attr a;
	char name[32];
	int64_t ids[3000];

	for (int k = 0; k < 3000; k++) {
		snprintf(name, sizeof(name), "x%05d", k);
		ids[k] = mkfile(1, name);
		ck_assert_int_gt(ids[k], 0);
	}
	mds_tx_wlock(ns);
	for (int k = 0; k < 3000; k++) {
		struct timespec t = { 5000 + k, 0 };

		ck_assert_int_ge(mds_ns_atime_defer(ns, (uint64_t)ids[k], &t),
		    0);
	}
	pthread_mutex_unlock(&ns->lock);
	ck_assert_uint_eq(ns->nlazy, 3000);
	ck_assert_int_eq(mds_ns_atime_flush(ns), 0);
	ck_assert_uint_eq(ns->nlazy, 0);
	for (int k = 0; k < 3000; k += 499)
		ck_assert_int_eq(row_atime((uint64_t)ids[k]), 5000 + k);
	ns_reopen();
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)ids[2999], &a), 0);
	ck_assert_int_eq(a.atime_sec, 7999);
}
END_TEST

/* A writer's CLOSE that arrives after an explicit mtime keeps the latter. */
START_TEST(mds_ns_close_after_utime_keeps_mtime)
{
	struct mds_layout lay;
	struct msg_setattr sa;
	struct msg_close c;
	struct msg_attr a;
	struct timespec t;
	uint64_t h;
	int64_t f = mkfile(1, "u");

	ck_assert_int_gt(f, 0);
	clock_gettime(CLOCK_REALTIME, &t);
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_WRONLY, 1, &a,
	    &h, &lay), 0);
	memset(&sa, 0, sizeof(sa));
	sa.ino = (uint64_t)f;
	sa.valid = MSG_SA_MTIME;
	sa.mtime_sec = 1200000000;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	memset(&c, 0, sizeof(c));
	c.ino = (uint64_t)f;
	c.handle = h;
	c.written = MSG_CLOSE_WRITTEN;
	c.size = 10;
	c.mtime_sec = t.tv_sec;		/* written before the utime */
	c.mtime_nsec = t.tv_nsec;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.mtime_sec, 1200000000);
	ck_assert_uint_eq(a.size, 10);
	/* a write after the utime sets it again */
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_WRONLY, 1, &a,
	    &h, &lay), 0);
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	clock_gettime(CLOCK_REALTIME, &t);
	c.handle = h;
	c.mtime_sec = t.tv_sec + 1;
	c.mtime_nsec = t.tv_nsec;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(a.mtime_sec, t.tv_sec + 1);
}
END_TEST

START_TEST(mds_ns_setlayout_file_rules)
{
	struct mds_layout lay, got;
	struct msg_close c;
	struct msg_attr a;
	int64_t f;

	f = mkfile(1, "f");
	memset(&lay, 0, sizeof(lay));
	lay.hdr.magic = MSG_LOV_MAGIC;
	lay.hdr.stripe_count = 2;
	lay.hdr.stripe_size = 65536;
	lay.hdr.stripe_offset = -1;
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)f, &lay,
	    sizeof(lay.hdr)), 0);
	ck_assert_int_eq(mds_layout_get(ns, (uint64_t)f, &got), 0);
	ck_assert_uint_eq(got.hdr.nent, 2);
	ck_assert_uint_eq(mds_destroy_pending(ns), 1);
	/* once written: EEXIST */
	memset(&c, 0, sizeof(c));
	c.ino = (uint64_t)f;
	c.written = 1;
	c.size = 10;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_uint_eq(a.size, 10);
	ck_assert_int_eq(mds_layout_set(ns, (uint64_t)f, &lay,
	    sizeof(lay.hdr)), -EEXIST);
	lay.hdr.magic = 1;
	ck_assert_int_eq(mds_layout_set(ns, 1, &lay, sizeof(lay.hdr)),
	    -EINVAL);
	ck_assert_int_eq(mds_layout_set(ns, 1, &lay, 3), -EINVAL);
}
END_TEST

START_TEST(mds_ns_oid_unique_across_restart)
{
	struct mds_layout got;
	struct msg_attr a;
	static uint64_t oids[4][3000];
	int n[4] = { 0 };
	char name[32];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 700; i++) {
			snprintf(name, sizeof(name), "f%d-%d", round, i);
			ck_assert_int_gt(mkfile(1, name), 0);
			ck_assert_int_eq(lookup(1, name, &a), 0);
			ck_assert_int_eq(mds_layout_get(ns, a.ino, &got), 0);
			ck_assert_uint_eq(got.hdr.nent, 1);
			ck_assert_uint_lt(got.ent[0].ost, 4);
			oids[got.ent[0].ost][n[got.ent[0].ost]++] =
			    got.ent[0].oid;
		}
		ns_reopen();
	}
	for (int o = 0; o < 4; o++)
		for (int i = 0; i < n[o]; i++)
			for (int j = i + 1; j < n[o]; j++)
				ck_assert_uint_ne(oids[o][i], oids[o][j]);
	/* inode numbers are not reused either */
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "f2-699", 6, NULL), 0);
	{
		int64_t f = mkfile(1, "again");

		ck_assert_int_gt(f, (int64_t)a.ino);
	}
}
END_TEST

START_TEST(mds_ns_xattr_rules)
{
	char buf[256];
	size_t len;
	int64_t f;
	static char big[MSG_XATTR_MAX + 1];

	f = mkfile(1, "f");
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "user.a", 6,
	    sizeof(buf), buf, sizeof(buf), &len), -ENODATA);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.a", 6,
	    "hello", 5, MSG_XA_REPLACE), -ENODATA);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.a", 6,
	    "hello", 5, MSG_XA_CREATE), 0);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.a", 6,
	    "hello", 5, MSG_XA_CREATE), -EEXIST);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.a", 6,
	    "world!", 6, MSG_XA_REPLACE), 0);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "user.a", 6,
	    sizeof(buf), buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(memcmp(buf, "world!", 6), 0);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "user.a", 6,
	    0, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "user.a", 6,
	    3, buf, sizeof(buf), &len), -ERANGE);
	/* empty value */
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.e", 6,
	    "", 0, 0), 0);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "user.e", 6,
	    sizeof(buf), buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 0);
	/* trusted.* is root's */
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "trusted.t",
	    9, "x", 1, 0), -EPERM);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 0, "trusted.t", 9,
	    "x", 1, 0), 0);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 1000, "trusted.t",
	    9, sizeof(buf), buf, sizeof(buf), &len), -ENODATA);
	ck_assert_int_eq(mds_xattr_get(ns, (uint64_t)f, 0, "trusted.t", 9,
	    sizeof(buf), buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(mds_xattr_list(ns, (uint64_t)f, 1000, buf,
	    sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 14);
	ck_assert_int_eq(memcmp(buf, "user.a\0user.e\0", 14), 0);
	ck_assert_int_eq(mds_xattr_list(ns, (uint64_t)f, 0, buf,
	    sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 24);
	ck_assert_int_eq(mds_xattr_list(ns, (uint64_t)f, 0, buf, 5, &len),
	    -ERANGE);
	ck_assert_int_eq(mds_xattr_remove(ns, (uint64_t)f, 1000, "trusted.t",
	    9), -EPERM);
	/* sizes and names */
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.big",
	    8, big, sizeof(big), 0), -E2BIG);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "user.max",
	    8, big, MSG_XATTR_MAX, 0), 0);
	ck_assert_int_eq(mds_xattr_set(ns, (uint64_t)f, 1000, "bogus.x", 7,
	    "x", 1, 0), -EOPNOTSUPP);
	ck_assert_int_eq(mds_xattr_remove(ns, (uint64_t)f, 1000, "user.a", 6),
	    0);
	ck_assert_int_eq(mds_xattr_remove(ns, (uint64_t)f, 1000, "user.a", 6),
	    -ENODATA);
	ck_assert_int_eq(mds_xattr_get(ns, 424242, 1000, "user.a", 6,
	    sizeof(buf), buf, sizeof(buf), &len), -ENOENT);
	{
		struct msg_create cr = mkcr(1, "l", 0, 0);
		struct msg_attr a;

		ck_assert_int_eq(mds_ns_symlink(ns, &cr, "l", "t", 1, &a), 0);
		ck_assert_int_eq(mds_xattr_set(ns, a.ino, 1000, "user.a",
		    6, "x", 1, 0), -EPERM);
		ck_assert_int_eq(mds_xattr_set(ns, a.ino, 0, "trusted.a",
		    9, "x", 1, 0), 0);
	}
}
END_TEST

START_TEST(mds_ns_destroy_orphan_deferred)
{
	struct msg_create cr = mkcr(1, "f", 0644, 0);
	struct mds_destroy rows[8];
	struct mds_layout lay;
	struct msg_close c;
	struct msg_attr a;
	uint64_t h, h2;
	int created;

	ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 5, &a, &h, &lay,
	    &created, NULL), 0);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "f", 1, NULL), 0);
	ck_assert_uint_eq(mds_destroy_pending(ns), 0);
	/* still open: attributes readable, nlink 0 */
	ck_assert_int_eq(mds_ns_getattr(ns, a.ino, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	memset(&c, 0, sizeof(c));
	c.ino = a.ino;
	c.handle = h;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, a.ino, &a), -ENOENT);
	ck_assert_int_eq(mds_destroy_next(ns, 0, rows, 8), 1);
	ck_assert_uint_eq(rows[0].ost, lay.ent[0].ost);
	ck_assert_uint_eq(rows[0].oid, lay.ent[0].oid);
	ck_assert_int_eq(mds_destroy_done(ns, rows[0].id), 0);
	ck_assert_int_eq(mds_destroy_next(ns, 0, rows, 8), 0);

	/* an orphan left by a crash is destroyed at the next open */
	cr = mkcr(1, "g", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "g", 5, &a, &h, &lay,
	    &created, NULL), 0);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "g", 1, NULL), 0);
	ns_reopen();
	ck_assert_int_eq(mds_ns_getattr(ns, a.ino, &a), -ENOENT);
	ck_assert_uint_eq(mds_destroy_pending(ns), 1);

	/* handles of a departed owner are dropped */
	cr = mkcr(1, "k", 0644, 0);
	ck_assert_int_eq(mds_ns_create(ns, &cr, "k", 9, &a, &h, &lay,
	    &created, NULL), 0);
	ck_assert_int_eq(mds_open_file(ns, a.ino, O_RDONLY, 9, &a, &h2,
	    &lay), 0);
	ck_assert_int_eq(mds_ns_unlink(ns, 1, "k", 1, NULL), 0);
	ck_assert_int_eq(mds_open_drop_owner(ns, 9), 2);
	ck_assert_int_eq(mds_ns_getattr(ns, a.ino, &a), -ENOENT);
	ck_assert_uint_eq(mds_destroy_pending(ns), 2);
}
END_TEST

/* Done rows go in runs of consecutive ids (one DELETE per run): a row
 * left out between done ones stays queued, whatever the order given. */
START_TEST(mds_ns_destroy_done_runs_keep_the_rest)
{
	struct mds_destroy rows[16];
	int64_t done[8];
	char name[8];
	int n;

	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		ck_assert_int_ge(mkfile(1, name), 0);
		ck_assert_int_eq(mds_ns_unlink(ns, 1, name, strlen(name),
		    NULL), 0);
	}
	n = mds_destroy_next(ns, 0, rows, 16);
	ck_assert_int_eq(n, 6);
	for (int i = 1; i < n; i++)
		ck_assert_int_eq(rows[i].id, rows[i - 1].id + 1);
	/* all but rows[2] and rows[5], out of order */
	done[0] = rows[4].id;
	done[1] = rows[0].id;
	done[2] = rows[3].id;
	done[3] = rows[1].id;
	ck_assert_int_eq(mds_destroy_done_many(ns, done, 4), 0);
	ck_assert_int_eq(mds_destroy_next(ns, 0, rows + 8, 8), 2);
	ck_assert_int_eq(rows[8].id, rows[2].id);
	ck_assert_int_eq(rows[9].id, rows[5].id);
	ck_assert_uint_eq(rows[8].oid, rows[2].oid);
	/* a duplicate id and the last ones */
	done[0] = rows[5].id;
	done[1] = rows[2].id;
	done[2] = rows[5].id;
	ck_assert_int_eq(mds_destroy_done_many(ns, done, 3), 0);
	ck_assert_int_eq(mds_destroy_next(ns, 0, rows, 16), 0);
	ck_assert_uint_eq(mds_destroy_pending(ns), 0);
}
END_TEST

/* An unlink reads the layout with the inode and queues every object of
 * it, in stripe order, four a statement or one each (4, 3 and 1
 * stripes); the directory's new times are stored (they survive a
 * reopen) and its other attributes are untouched. */
START_TEST(mds_ns_unlink_queues_each_stripe)
{
	static const int counts[] = { 4, 3, 1 };
	struct mds_destroy rows[16];
	struct mds_layout lay, got;
	struct msg_attr a, da, db;
	struct msg_create cr;
	struct msg_close c;
	uint64_t h;
	int created, n;
	int64_t d;

	for (int t = 0; t < 3; t++) {
		char dname[8];

		snprintf(dname, sizeof(dname), "s%d", counts[t]);
		d = mkdir_(1, dname);
		ck_assert_int_gt(d, 0);
		memset(&lay, 0, sizeof(lay));
		lay.hdr.magic = MSG_LOV_MAGIC;
		lay.hdr.stripe_count = counts[t];
		lay.hdr.stripe_size = 1024 * 1024;
		lay.hdr.stripe_offset = -1;
		ck_assert_int_eq(mds_layout_set(ns, (uint64_t)d, &lay,
		    sizeof(lay.hdr)), 0);
		cr = mkcr((uint64_t)d, "f", 0644, MSG_CR_EXCL);
		ck_assert_int_eq(mds_ns_create(ns, &cr, "f", 1, &a, &h, &got,
		    &created, NULL), 0);
		ck_assert_uint_eq(got.hdr.nent, (unsigned)counts[t]);
		memset(&c, 0, sizeof(c));
		c.ino = a.ino;
		c.handle = h;
		ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
		ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)d, &db), 0);
		usleep(2000);
		ck_assert_int_eq(mds_ns_unlink(ns, (uint64_t)d, "f", 1, &da),
		    0);
		ck_assert_int_eq(mds_ns_getattr(ns, a.ino, &a), -ENOENT);
		n = mds_destroy_next(ns, 0, rows, 16);
		ck_assert_int_eq(n, counts[t]);
		for (int k = 0; k < n; k++) {
			ck_assert_uint_eq(rows[k].ost, got.ent[k].ost);
			ck_assert_uint_eq(rows[k].oid, got.ent[k].oid);
			ck_assert_int_eq(mds_destroy_done(ns, rows[k].id), 0);
		}
		ck_assert_uint_eq(mds_destroy_pending(ns), 0);
		/* the parent: new mtime = ctime, the rest as before */
		ck_assert(da.mtime_sec > db.mtime_sec ||
		    (da.mtime_sec == db.mtime_sec &&
		    da.mtime_nsec > db.mtime_nsec));
		ck_assert_int_eq(da.ctime_sec, da.mtime_sec);
		ck_assert_int_eq(da.ctime_nsec, da.mtime_nsec);
		ns_reopen();
		ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)d, &a), 0);
		ck_assert_int_eq(a.mtime_sec, da.mtime_sec);
		ck_assert_int_eq(a.mtime_nsec, da.mtime_nsec);
		ck_assert_int_eq(a.ctime_nsec, da.ctime_nsec);
		ck_assert_uint_eq(a.mode, db.mode);
		ck_assert_uint_eq(a.nlink, db.nlink);
		ck_assert_uint_eq(a.uid, db.uid);
		ck_assert_uint_eq(a.size, db.size);
	}
}
END_TEST

/* One request inserts inode `ino` in its own mds_tx_begin .. mds_tx_end
 * and fails with `fail` (0: succeeds); no mds_tx_sync. */
static void
tx_insert(uint64_t ino, int fail)
{
	struct mds_ino i;

	memset(&i, 0, sizeof(i));
	i.ino = ino;
	i.mode = S_IFREG | 0600;
	i.nlink = 1;
	i.parent = 1;
	ck_assert_int_eq(mds_tx_begin(ns), 0);
	ck_assert_int_eq(mds_ns_ino_insert(ns, &i, NULL, 0, NULL), 0);
	ck_assert_int_eq(mds_tx_end(ns, fail), fail);
}

/* The request that opens a batch runs without a SAVEPOINT: when it fails
 * its change is undone (ROLLBACK, then an empty batch again) and the
 * batch goes on; a later request of the same batch that fails undoes
 * only its own change. What committed survives a reopen. */
START_TEST(mds_tx_first_request_undone_alone)
{
	struct msg_attr a;

	mds_tx_wlock(ns);
	tx_insert(900001, -EIO);	/* opens the batch, fails */
	tx_insert(900002, 0);		/* the same batch goes on */
	tx_insert(900003, -EEXIST);	/* a savepoint, fails */
	tx_insert(900004, 0);
	ck_assert_int_eq(mds_tx_sync(ns, 0), 0);
	pthread_mutex_unlock(&ns->lock);

	mds_tx_wlock(ns);
	tx_insert(900005, 0);		/* opens the next batch */
	ck_assert_int_eq(mds_tx_sync(ns, 0), 0);
	pthread_mutex_unlock(&ns->lock);

	mds_tx_wlock(ns);
	tx_insert(900006, -EIO);	/* a batch of one failed request */
	ck_assert_int_eq(mds_tx_sync(ns, -EIO), -EIO);
	pthread_mutex_unlock(&ns->lock);

	ns_reopen();
	ck_assert_int_eq(mds_ns_getattr(ns, 900001, &a), -ENOENT);
	ck_assert_int_eq(mds_ns_getattr(ns, 900002, &a), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, 900003, &a), -ENOENT);
	ck_assert_int_eq(mds_ns_getattr(ns, 900004, &a), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, 900005, &a), 0);
	ck_assert_int_eq(mds_ns_getattr(ns, 900006, &a), -ENOENT);
	/* and the store takes requests as before */
	ck_assert_int_gt(mkfile(1, "after"), 0);
}
END_TEST

/* Append 1 byte to f with killpriv; the mode bits it leaves. */
static void
append_kills(int64_t f, int killpriv, int want_killed, uint32_t want_mode)
{
	struct msg_attr a;
	uint64_t off;
	int killed;

	ck_assert_int_eq(mds_open_append(ns, (uint64_t)f, 0, 1, killpriv,
	    &off, &killed), 0);
	ck_assert_int_eq(killed, want_killed);
	ck_assert_int_eq(mds_ns_getattr(ns, (uint64_t)f, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, want_mode);
}

START_TEST(mds_ns_setattr_open_close_append)
{
	struct msg_setattr sa;
	struct mds_layout lay;
	struct msg_close c;
	struct msg_attr a, b;
	uint64_t h, off;
	int64_t f;
	int killed;

	f = mkfile(1, "f");
	memset(&sa, 0, sizeof(sa));
	sa.ino = 1;
	sa.valid = MSG_SA_SIZE;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), -EISDIR);
	sa.ino = (uint64_t)f;
	sa.size = 4096;
	sa.valid = MSG_SA_SIZE | MSG_SA_MTIME | MSG_SA_UID;
	sa.mtime_sec = 1000;
	sa.mtime_nsec = 5;
	sa.uid = 7;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_uint_eq(a.size, 4096);
	ck_assert_int_eq(a.mtime_sec, 1000);
	ck_assert_int_eq(a.mtime_nsec, 5);
	ck_assert_uint_eq(a.uid, 7);
	ck_assert_int_gt(a.ctime_sec, 1000);
	sa.valid = MSG_SA_ATIME;
	sa.atime_nsec = 2000000000;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), -EINVAL);
	/* append reserves ranges */
	ck_assert_int_eq(mds_open_append(ns, (uint64_t)f, 0, 100, 0, &off,
	    &killed), 0);
	ck_assert_uint_eq(off, 4096);
	ck_assert_int_eq(killed, 0);
	ck_assert_int_eq(mds_open_append(ns, (uint64_t)f, 0, 10, 1, &off,
	    &killed), 0);
	ck_assert_uint_eq(off, 4196);
	ck_assert_int_eq(killed, 0);		/* nothing to clear */
	/* an append by a writer without CAP_FSETID clears S_ISUID, and
	 * S_ISGID only with group execute (without, it marks mandatory
	 * locking), as a write(2) does */
	sa.valid = MSG_SA_MODE;
	sa.mode = 06755;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	append_kills(f, 0, 0, 06755);	/* CAP_FSETID keeps them */
	append_kills(f, 1, 1, 0755);
	sa.mode = 02644;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	append_kills(f, 1, 0, 02644);
	/* SETATTR's MSG_SA_KILLPRIV (a write a mount answers for) clears the
	 * same bits; with nothing to clear it stores nothing (1) */
	sa.valid = MSG_SA_KILLPRIV;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 1);
	ck_assert_uint_eq(a.mode & 07777, 02644);
	sa.valid = MSG_SA_MODE;
	sa.mode = 06775;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &b), 0);
	sa.valid = MSG_SA_KILLPRIV;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 0775);
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 1);
	sa.valid = 0x400;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), -EINVAL);
	sa.valid = MSG_SA_MODE;
	/* a truncate by another uid (SETATTR of the size), and an open with
	 * O_TRUNC by one (MDS_OPEN_KILLPRIV), clear them too; root's not */
	sa.mode = 06755;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	sa.valid = MSG_SA_SIZE;
	sa.size = 4209;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);	/* uid 0 */
	ck_assert_uint_eq(a.mode & 07777, 06755);
	sa.cred.uid = 1000;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 0755);
	sa.cred.uid = 0;
	sa.valid = MSG_SA_MODE;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_WRONLY | O_TRUNC |
	    MDS_OPEN_KILLPRIV, 1, &a, &h, &lay), 0);
	ck_assert_uint_eq(a.mode & 07777, 0755);
	ck_assert_uint_eq(a.size, 0);
	mds_open_drop_owner(ns, 1);
	sa.valid = MSG_SA_SIZE;
	sa.size = 4209;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	ck_assert_int_eq(mds_open_append(ns, (uint64_t)f, 0, 1, 0, &off,
	    &killed), 0);
	ck_assert_uint_eq(off, 4209);	/* after 4 more bytes */
	/* open with O_TRUNC sets size 0; close takes the client size */
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_WRONLY | O_TRUNC,
	    1, &a, &h, &lay), 0);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_uint_eq(a.open_writers, 1);
	ck_assert_uint_eq(lay.hdr.nent, 1);
	memset(&c, 0, sizeof(c));
	c.ino = (uint64_t)f;
	c.handle = h;
	c.written = 1;
	c.size = 77;
	c.mtime_sec = 2000;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_uint_eq(a.size, 77);
	ck_assert_int_eq(a.mtime_sec, 2000);
	ck_assert_uint_eq(a.open_writers, 0);
	/* a smaller client size does not shrink without a truncate */
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDWR, 1, &a, &h,
	    &lay), 0);
	c.handle = h;
	c.size = 10;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_uint_eq(a.size, 77);
	/* ... but does after a truncate during the open */
	ck_assert_int_eq(mds_open_file(ns, (uint64_t)f, O_RDWR, 1, &a, &h,
	    &lay), 0);
	sa.valid = MSG_SA_SIZE;
	sa.size = 0;
	ck_assert_int_eq(mds_ns_setattr(ns, &sa, &a), 0);
	c.handle = h;
	c.size = 10;
	ck_assert_int_eq(mds_open_close(ns, &c, &a), 0);
	ck_assert_uint_eq(a.size, 10);
	/* opening a dir for write */
	ck_assert_int_eq(mds_open_file(ns, 1, O_RDWR, 1, &a, &h, &lay),
	    -EISDIR);
}
END_TEST

struct cc_arg {
	int	id;
	int	rc;
};

static void *
cc_main(void *arg)
{
	struct cc_arg *a = arg;
	char name[32];

	for (int i = 0; i < 500 && a->rc == 0; i++) {
		int64_t r;

		snprintf(name, sizeof(name), "c%d-%d", a->id, i);
		r = mkfile(1, name);
		if (r < 0)
			a->rc = (int)r;
		if (i % 50 == 0 && a->rc == 0) {
			/* a failing request inside someone's batch */
			r = mkfile(1, name);
			if (r != -EEXIST)
				a->rc = -EPROTO;
		}
	}
	return NULL;
}

START_TEST(mds_ns_group_commit_concurrent)
{
	pthread_t t[4];
	struct cc_arg a[4];
	char name[32];

	for (int i = 0; i < 4; i++) {
		a[i].id = i;
		a[i].rc = 0;
		pthread_create(&t[i], NULL, cc_main, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(a[i].rc, 0);
	}
	ck_assert_uint_eq(mds_ns_files(ns), 1 + 4 * 500);
	ns_reopen();
	ck_assert_uint_eq(mds_ns_files(ns), 1 + 4 * 500);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 500; j++) {
			snprintf(name, sizeof(name), "c%d-%d", i, j);
			ck_assert_int_eq(lookup(1, name, NULL), 0);
		}
}
END_TEST

/* ---- the real fsx-mds over the wire ---- */

static char *
bin_path(const char *name)
{
	const char *dir = getenv("FSX_BIN");

	return xasprintf("%s/%s", dir ? dir : "build/bin", name);
}

static pid_t
spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for a port file to appear; returns the port or -1. */
static int
wait_port(const char *path)
{
	for (int i = 0; i < 500; i++) {
		char *txt = NULL;
		size_t len;

		if (file_read_all(path, &txt, &len, 64) == 0) {
			int port = atoi(txt);

			free(txt);
			if (port > 0)
				return port;
		}
		usleep(10000);
	}
	return -1;
}

static int
mds_connect(int port, const uint8_t *secret)
{
	uint32_t kind = 0;
	int fd = -1;

	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = msg_connect("127.0.0.1", port, secret, &kind);
		if (fd < 0)
			usleep(10000);
	}
	return fd;
}

/* OSTADD of OSTs 0..n-1, all on 127.0.0.1:oss_port with 1 GiB each. */
static int
ostadd(int port, const uint8_t *secret, int oss_port, unsigned n)
{
	struct msg_ost_ent e[8];
	struct iovec iov = { e, n * sizeof(e[0]) };
	int fd = mds_connect(port, secret), rc;

	if (fd < 0)
		return fd;
	memset(e, 0, sizeof(e));
	for (unsigned i = 0; i < n && i < 8; i++) {
		e[i].ost = i;
		e[i].port = (uint16_t)oss_port;
		snprintf(e[i].host, sizeof(e[i].host), "127.0.0.1");
		e[i].capacity = 1073741824;
	}
	rc = msg_call(fd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1, NULL, 0,
	    NULL, NULL, 0, NULL);
	close(fd);
	return rc;
}

START_TEST(mds_wire_create_survives_kill9)
{
	char *mds = bin_path("fsx-mds"), *oss = bin_path("fsx-oss");
	char *secf = xasprintf("%s/secret", tdir);
	char *mport = xasprintf("%s/mds.port", tdir);
	char *oport = xasprintf("%s/oss.port", tdir);
	char *mdir = xasprintf("%s/mdsdir", tdir);
	char *odir = xasprintf("%s/ost", tdir);
	char hexs[2 * MSG_SECRET_LEN + 2];
	uint8_t secret[MSG_SECRET_LEN];
	pid_t opid = -1, mpid;
	int port, fd, have_oss, oss_port;

	if (access(mds, X_OK) != 0) {
		fprintf(stderr, "mds_wire: %s not built, skipped\n", mds);
		goto out;
	}
	ck_assert_int_eq(rand_bytes(secret, sizeof(secret)), 0);
	hex_encode(secret, sizeof(secret), hexs);
	strcat(hexs, "\n");
	ck_assert_int_eq(file_write_atomic(secf, hexs, strlen(hexs)), 0);
	have_oss = access(oss, X_OK) == 0;
	if (have_oss) {
		char *o0 = xasprintf("0:%s0:1073741824", odir);
		char *o1 = xasprintf("1:%s1:1073741824", odir);
		char *argv[] = { oss, "--listen", "127.0.0.1:0",
		    "--port-file", oport, "--secret-file", secf, "--ost", o0,
		    "--ost", o1, NULL };

		opid = spawn(argv);
		free(o0);
		free(o1);
		port = wait_port(oport);
		if (port < 0) {
			fprintf(stderr, "mds_wire: fsx-oss did not start "
			    "(argument mismatch?); running without it\n");
			kill(opid, SIGKILL);
			waitpid(opid, NULL, 0);
			opid = -1;
			port = 1;	/* nothing listens there */
		}
	} else
		port = 1;
	oss_port = port;
	for (int round = 0; round < 2; round++) {
		char *argv[] = { mds, "--dir", mdir, "--listen",
		    "127.0.0.1:0", "--port-file", mport, "--secret-file",
		    secf, NULL };
		struct msg_create cr;
		struct msg_open_rep orep;
		struct msg_attr a;
		struct msg_name nm;
		char body[sizeof(cr) + 16], lbuf[MDS_LAYOUT_MAX];
		uint32_t rlen, blen;
		int rc;

		unlink(mport);
		mpid = spawn(argv);
		port = wait_port(mport);
		ck_assert_int_gt(port, 0);
		/* the map is told once; the store keeps it for round 1 */
		if (round == 0)
			ck_assert_int_eq(ostadd(port, secret, oss_port, 2), 0);
		fd = mds_connect(port, secret);
		ck_assert_int_ge(fd, 0);
		if (round == 0) {
			cr = mkcr(1, "wire", 0644, MSG_CR_EXCL);
			memcpy(body, &cr, sizeof(cr));
			memcpy(body + sizeof(cr), "wire", 4);
			rc = msg_call(fd, MSG_OP_MDS_CREATE, 0, body,
			    sizeof(cr) + 4, NULL, 0, &orep, sizeof(orep),
			    &rlen, lbuf, sizeof(lbuf), &blen);
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(rlen, sizeof(orep));
			ck_assert_uint_eq(blen, sizeof(struct msg_layout) +
			    sizeof(struct msg_layout_ent));
			ck_assert_uint_ne(orep.handle, 0);
		}
		memset(&nm, 0, sizeof(nm));
		nm.parent = 1;
		nm.namelen = 4;
		memcpy(body, &nm, sizeof(nm));
		memcpy(body + sizeof(nm), "wire", 4);
		rc = msg_call(fd, MSG_OP_MDS_LOOKUP, 0, body, sizeof(nm) + 4,
		    NULL, 0, &a, sizeof(a), &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(a.mode, S_IFREG | 0644);
		close(fd);
		kill(mpid, SIGKILL);
		waitpid(mpid, NULL, 0);
	}
	if (opid > 0) {
		kill(opid, SIGKILL);
		waitpid(opid, NULL, 0);
	}
out:
	free(mds);
	free(oss);
	free(secf);
	free(mport);
	free(oport);
	free(mdir);
	free(odir);
}
END_TEST


/*
 * Every acknowledged change survives kill -9: four clients create (and
 * close) files and unlink every third one as fast as they can, the MDS is
 * killed under them, and after a restart each acknowledged create is there
 * unless its acknowledged unlink removed it (only the request in flight
 * at the kill may have gone either way). The database passes SQLite's
 * integrity check.
 */
#define KILL_CLIENTS	4
#define KILL_NAMES	100000

enum { K_NONE, K_CREATED, K_UNLINKED, K_CREATING, K_UNLINKING };

struct kclient {
	pthread_t	 thr;
	int		 port;
	int		 id;
	const uint8_t	*secret;
	uint8_t		*state;		/* per name, K_* */
	int		 n;		/* names used */
};

static int
kname_call(int fd, uint16_t op, uint64_t parent, const char *name,
    struct msg_attr *a)
{
	struct msg_name nm;
	char body[sizeof(nm) + 32];
	uint32_t rlen, blen;

	memset(&nm, 0, sizeof(nm));
	nm.parent = parent;
	nm.namelen = (uint32_t)strlen(name);
	memcpy(body, &nm, sizeof(nm));
	memcpy(body + sizeof(nm), name, nm.namelen);
	return msg_call(fd, op, 0, body, (uint32_t)(sizeof(nm) + nm.namelen),
	    NULL, 0, a, a ? sizeof(*a) : 0, &rlen, NULL, 0, &blen);
}

static void *
kclient_main(void *arg)
{
	struct kclient *k = arg;
	struct msg_create cr;
	struct msg_open_rep orep;
	struct msg_close cl;
	struct msg_attr a;
	char name[32], body[sizeof(cr) + 32], lbuf[MDS_LAYOUT_MAX];
	uint32_t rlen, blen;
	uint64_t dir;
	int fd, rc;

	fd = mds_connect(k->port, k->secret);
	if (fd < 0)
		return NULL;
	snprintf(name, sizeof(name), "k%d", k->id);
	cr = mkcr(1, name, S_IFDIR | 0755, 0);
	memcpy(body, &cr, sizeof(cr));
	memcpy(body + sizeof(cr), name, cr.namelen);
	rc = msg_call(fd, MSG_OP_MDS_MKNOD, 0, body,
	    (uint32_t)(sizeof(cr) + cr.namelen), NULL, 0, &a, sizeof(a), &rlen,
	    NULL, 0, &blen);
	if (rc < 0)
		goto out;
	dir = a.ino;
	for (int j = 0; j < KILL_NAMES; j++) {
		snprintf(name, sizeof(name), "f%d", j);
		cr = mkcr(dir, name, 0644, MSG_CR_EXCL);
		memcpy(body, &cr, sizeof(cr));
		memcpy(body + sizeof(cr), name, cr.namelen);
		k->state[j] = K_CREATING;
		k->n = j + 1;
		rc = msg_call(fd, MSG_OP_MDS_CREATE, 0, body,
		    (uint32_t)(sizeof(cr) + cr.namelen), NULL, 0, &orep,
		    sizeof(orep), &rlen, lbuf, sizeof(lbuf), &blen);
		if (rc < 0)
			break;
		k->state[j] = K_CREATED;
		memset(&cl, 0, sizeof(cl));
		cl.ino = orep.attr.ino;
		cl.handle = orep.handle;
		rc = msg_call(fd, MSG_OP_MDS_CLOSE, 0, &cl, sizeof(cl), NULL, 0,
		    &a, sizeof(a), &rlen, NULL, 0, &blen);
		if (rc < 0)
			break;
		if (j % 3 == 2) {
			snprintf(name, sizeof(name), "f%d", j - 1);
			k->state[j - 1] = K_UNLINKING;
			if (kname_call(fd, MSG_OP_MDS_UNLINK, dir, name,
			    NULL) < 0)
				break;
			k->state[j - 1] = K_UNLINKED;
		}
	}
out:
	close(fd);
	return NULL;
}

START_TEST(mds_wire_acked_changes_survive_kill9)
{
	char *mds = bin_path("fsx-mds");
	char *secf = xasprintf("%s/secret", tdir);
	char *mport = xasprintf("%s/mds.port", tdir);
	char *mdir = xasprintf("%s/mdsdir", tdir);
	char *dbpath = xasprintf("%s/mds.db", mdir);
	char *argv[] = { mds, "--dir", mdir, "--listen", "127.0.0.1:0",
	    "--port-file", mport, "--secret-file", secf, NULL };
	char hexs[2 * MSG_SECRET_LEN + 2];
	struct kclient k[KILL_CLIENTS];
	uint8_t secret[MSG_SECRET_LEN];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	pid_t mpid;
	int port, fd, total = 0;

	if (access(mds, X_OK) != 0) {
		fprintf(stderr, "mds_wire: %s not built, skipped\n", mds);
		goto out;
	}
	ck_assert_int_eq(rand_bytes(secret, sizeof(secret)), 0);
	hex_encode(secret, sizeof(secret), hexs);
	strcat(hexs, "\n");
	ck_assert_int_eq(file_write_atomic(secf, hexs, strlen(hexs)), 0);
	mpid = spawn(argv);
	port = wait_port(mport);
	ck_assert_int_gt(port, 0);
	/* an OST map whose OSS does not exist (creates never reach it) */
	ck_assert_int_eq(ostadd(port, secret, 1, 1), 0);
	for (int i = 0; i < KILL_CLIENTS; i++) {
		k[i].port = port;
		k[i].id = i;
		k[i].secret = secret;
		k[i].state = xcalloc(KILL_NAMES, 1);
		k[i].n = 0;
		ck_assert_int_eq(pthread_create(&k[i].thr, NULL, kclient_main,
		    &k[i]), 0);
	}
	usleep(700 * 1000);
	kill(mpid, SIGKILL);
	waitpid(mpid, NULL, 0);
	for (int i = 0; i < KILL_CLIENTS; i++)
		pthread_join(k[i].thr, NULL);

	unlink(mport);
	mpid = spawn(argv);
	port = wait_port(mport);
	ck_assert_int_gt(port, 0);
	fd = mds_connect(port, secret);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < KILL_CLIENTS; i++) {
		struct msg_attr a;
		char name[32];
		uint64_t dir;
		int rc;

		if (k[i].n == 0)
			continue;
		snprintf(name, sizeof(name), "k%d", i);
		ck_assert_int_eq(kname_call(fd, MSG_OP_MDS_LOOKUP, 1, name,
		    &a), 0);
		dir = a.ino;
		for (int j = 0; j < k[i].n; j++) {
			snprintf(name, sizeof(name), "f%d", j);
			rc = kname_call(fd, MSG_OP_MDS_LOOKUP, dir, name, &a);
			if (k[i].state[j] == K_CREATED)
				ck_assert_msg(rc == 0, "client %d: acked "
				    "create of %s lost (%d)", i, name, rc);
			else if (k[i].state[j] == K_UNLINKED)
				ck_assert_msg(rc == -ENOENT, "client %d: acked "
				    "unlink of %s lost (%d)", i, name, rc);
			else
				ck_assert(rc == 0 || rc == -ENOENT);
		}
		total += k[i].n;
	}
	close(fd);
	kill(mpid, SIGTERM);
	waitpid(mpid, NULL, 0);
	ck_assert_int_gt(total, KILL_CLIENTS * 10);

	ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
	for (int i = 0; i < KILL_CLIENTS; i++)
		free(k[i].state);
out:
	free(mds);
	free(secf);
	free(mport);
	free(mdir);
	free(dbpath);
}
END_TEST

/* Start an OSS with OSTs 0 and 1 and an MDS, then tell the MDS about
 * them with OSTADD. */
struct wire {
	char	*secf, *mport, *oport, *mdir, *odir;
	uint8_t	 secret[MSG_SECRET_LEN];
	pid_t	 opid, mpid;
	int	 oport_n, mport_n;
};

/* (Re)start the MDS of w; 0 or -1. */
static int
wire_mds_start(struct wire *w)
{
	char *mds = bin_path("fsx-mds");
	char *argv[] = { mds, "--dir", w->mdir, "--listen", "127.0.0.1:0",
	    "--port-file", w->mport, "--secret-file", w->secf, NULL };

	unlink(w->mport);
	w->mpid = spawn(argv);
	free(mds);
	w->mport_n = wait_port(w->mport);
	return w->mport_n < 0 ? -1 : 0;
}

static int
wire_start(struct wire *w)
{
	char *mds = bin_path("fsx-mds"), *oss = bin_path("fsx-oss");
	char hexs[2 * MSG_SECRET_LEN + 2];
	char *o0, *o1;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	w->opid = w->mpid = -1;
	if (access(mds, X_OK) != 0 || access(oss, X_OK) != 0)
		goto out;
	w->secf = xasprintf("%s/secret", tdir);
	w->mport = xasprintf("%s/mds.port", tdir);
	w->oport = xasprintf("%s/oss.port", tdir);
	w->mdir = xasprintf("%s/mdsdir", tdir);
	w->odir = xasprintf("%s/ost", tdir);
	rand_bytes(w->secret, sizeof(w->secret));
	hex_encode(w->secret, sizeof(w->secret), hexs);
	strcat(hexs, "\n");
	file_write_atomic(w->secf, hexs, strlen(hexs));
	o0 = xasprintf("0:%s0:1073741824", w->odir);
	o1 = xasprintf("1:%s1:1073741824", w->odir);
	{
		char *argv[] = { oss, "--listen", "127.0.0.1:0",
		    "--port-file", w->oport, "--secret-file", w->secf,
		    "--ost", o0, "--ost", o1, NULL };

		w->opid = spawn(argv);
	}
	free(o0);
	free(o1);
	w->oport_n = wait_port(w->oport);
	if (w->oport_n < 0)
		goto out;
	if (wire_mds_start(w) < 0)
		goto out;
	rc = ostadd(w->mport_n, w->secret, w->oport_n, 2) == 0 ? 0 : -1;
out:
	free(mds);
	free(oss);
	return rc;
}

static void
wire_stop(struct wire *w)
{
	if (w->mpid > 0) {
		kill(w->mpid, SIGTERM);
		waitpid(w->mpid, NULL, 0);
	}
	if (w->opid > 0) {
		kill(w->opid, SIGTERM);
		waitpid(w->opid, NULL, 0);
	}
	free(w->secf);
	free(w->mport);
	free(w->oport);
	free(w->mdir);
	free(w->odir);
}

static int
ino_call(int fd, uint16_t op, uint64_t ino, void *rep, uint32_t cap,
    void *bulk, uint32_t bcap, uint32_t *blen)
{
	struct msg_ino mi;
	uint32_t rlen;

	memset(&mi, 0, sizeof(mi));
	mi.ino = ino;
	return msg_call(fd, op, 0, &mi, sizeof(mi), NULL, 0, rep, cap, &rlen,
	    bulk, bcap, blen);
}

START_TEST(mds_wire_glimpse_statfs_destroy)
{
	struct wire w;
	struct msg_create cr;
	struct msg_open_rep orep;
	struct msg_attr a;
	struct msg_statfs sf;
	struct msg_obj ob;
	struct msg_obj_attr oa;
	struct mds_layout lay;
	struct msg_ost_ent ents[4];
	char body[sizeof(cr) + 16], data[100];
	uint32_t rlen, blen;
	int mfd, ofd, rc;

	if (wire_start(&w) < 0) {
		fprintf(stderr, "mds_wire: fsx-mds/fsx-oss not runnable, "
		    "skipped\n");
		wire_stop(&w);
		return;
	}
	mfd = mds_connect(w.mport_n, w.secret);
	ofd = mds_connect(w.oport_n, w.secret);
	ck_assert_int_ge(mfd, 0);
	ck_assert_int_ge(ofd, 0);
	/* OST map */
	rc = msg_call(mfd, MSG_OP_MDS_OSTMAP, 0, NULL, 0, NULL, 0, NULL, 0,
	    &rlen, ents, sizeof(ents), &blen);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(blen, 2 * sizeof(struct msg_ost_ent));
	ck_assert_uint_eq(ents[1].ost, 1);
	ck_assert_uint_eq(ents[1].port, w.oport_n);
	/* create, then write 100 bytes at file offset 2 MiB + 100 through
	 * the OSS (stripe 1 MiB, 1 stripe: object offset = file offset) */
	cr = mkcr(1, "g", 0644, MSG_CR_EXCL);
	cr.namelen = 1;
	memcpy(body, &cr, sizeof(cr));
	memcpy(body + sizeof(cr), "g", 1);
	rc = msg_call(mfd, MSG_OP_MDS_CREATE, 0, body, sizeof(cr) + 1, NULL,
	    0, &orep, sizeof(orep), &rlen, &lay, sizeof(lay), &blen);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(lay.hdr.nent, 1);
	{
		struct msg_io io;
		struct msg_io_rep ir;
		struct iovec iov = { data, sizeof(data) };

		memset(&io, 0, sizeof(io));
		io.ost = lay.ent[0].ost;
		io.oid = lay.ent[0].oid;
		io.offset = 2 * 1024 * 1024 + 100;
		io.length = sizeof(data);
		memset(data, 'x', sizeof(data));
		rc = msg_call(ofd, MSG_OP_OST_WRITE, 0, &io, sizeof(io), &iov,
		    1, &ir, sizeof(ir), &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, 0);
	}
	/* glimpse: open for write, so the size comes from the object */
	rc = ino_call(mfd, MSG_OP_MDS_GETATTR, orep.attr.ino, &a, sizeof(a),
	    NULL, 0, &blen);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(a.open_writers, 1);
	ck_assert_uint_eq(a.size, 2 * 1024 * 1024 + 200);
	/* statfs sums both OSTs */
	rc = msg_call(mfd, MSG_OP_MDS_STATFS, 0, NULL, 0, NULL, 0, &sf,
	    sizeof(sf), &rlen, NULL, 0, &blen);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(sf.bsize * sf.blocks, 2ull * 1073741824);
	ck_assert_uint_lt(sf.bfree, sf.blocks);
	ck_assert_uint_eq(sf.files - sf.ffree, 2);
	/* unlink while open, then the connection (and its handle) goes:
	 * the object is destroyed on the OST */
	{
		struct msg_name nm;

		memset(&nm, 0, sizeof(nm));
		nm.parent = 1;
		nm.namelen = 1;
		memcpy(body, &nm, sizeof(nm));
		memcpy(body + sizeof(nm), "g", 1);
		rc = msg_call(mfd, MSG_OP_MDS_UNLINK, 0, body, sizeof(nm) + 1,
		    NULL, 0, NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, 0);
	}
	memset(&ob, 0, sizeof(ob));
	ob.ost = lay.ent[0].ost;
	ob.oid = lay.ent[0].oid;
	rc = msg_call(ofd, MSG_OP_OST_GETATTR, 0, &ob, sizeof(ob), NULL, 0,
	    &oa, sizeof(oa), &rlen, NULL, 0, &blen);
	ck_assert_int_eq(rc, 0);
	close(mfd);
	for (int i = 0; i < 300; i++) {
		rc = msg_call(ofd, MSG_OP_OST_GETATTR, 0, &ob, sizeof(ob), NULL,
		    0, &oa, sizeof(oa), &rlen, NULL, 0, &blen);
		if (rc == -ENOENT)
			break;
		usleep(20000);
	}
	ck_assert_int_eq(rc, -ENOENT);
	/* a malformed request (name longer than the body) is -EPROTO */
	mfd = mds_connect(w.mport_n, w.secret);
	ck_assert_int_ge(mfd, 0);
	{
		struct msg_name nm;

		memset(&nm, 0, sizeof(nm));
		nm.parent = 1;
		nm.namelen = 200;
		rc = msg_call(mfd, MSG_OP_MDS_LOOKUP, 0, &nm, sizeof(nm), NULL,
		    0, &a, sizeof(a), &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, -EPROTO);
	}
	close(mfd);
	/* OSTADD adds OSTs and updates known ones; SETCAP changes one
	 * capacity; the map is in the store, so a restart keeps it */
	{
		struct msg_ost_ent add[2];
		struct msg_ost_cap oc;
		struct iovec iov = { add, sizeof(add) };

		mfd = mds_connect(w.mport_n, w.secret);
		ck_assert_int_ge(mfd, 0);
		memset(add, 0, sizeof(add));
		for (int i = 0; i < 2; i++) {
			add[i].ost = 2 + (uint32_t)i;
			add[i].port = (uint16_t)w.oport_n;
			snprintf(add[i].host, sizeof(add[i].host),
			    "127.0.0.1");
			add[i].capacity = 1024;
		}
		for (int again = 0; again < 2; again++) {	/* idempotent */
			rc = msg_call(mfd, MSG_OP_MDS_OSTADD, 0, NULL, 0,
			    &iov, 1, NULL, 0, &rlen, NULL, 0, &blen);
			ck_assert_int_eq(rc, 0);
		}
		add[0].capacity = 4096;		/* an update by OSTADD */
		iov.iov_len = sizeof(add[0]);
		rc = msg_call(mfd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1,
		    NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, 0);
		memset(&oc, 0, sizeof(oc));
		oc.ost = 3;
		oc.capacity_bytes = 8192;
		rc = msg_call(mfd, MSG_OP_OST_SETCAP, 0, &oc, sizeof(oc), NULL,
		    0, NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, 0);
		oc.ost = 9;			/* never added */
		rc = msg_call(mfd, MSG_OP_OST_SETCAP, 0, &oc, sizeof(oc), NULL,
		    0, NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, -ENODEV);
		oc.ost = 3;
		oc.capacity_bytes = 0;
		rc = msg_call(mfd, MSG_OP_OST_SETCAP, 0, &oc, sizeof(oc), NULL,
		    0, NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, -EINVAL);
		/* a malformed OSTADD changes nothing */
		add[0].capacity = 1;
		iov.iov_len = sizeof(add[0]) - 1;
		rc = msg_call(mfd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1,
		    NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, -EINVAL);
		add[0].port = 0;
		iov.iov_len = sizeof(add);
		rc = msg_call(mfd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1,
		    NULL, 0, &rlen, NULL, 0, &blen);
		ck_assert_int_eq(rc, -EINVAL);
		close(mfd);

		for (int round = 0; round < 2; round++) {
			if (round == 1) {	/* restart: nothing re-sent */
				kill(w.mpid, SIGTERM);
				waitpid(w.mpid, NULL, 0);
				ck_assert_int_eq(wire_mds_start(&w), 0);
			}
			mfd = mds_connect(w.mport_n, w.secret);
			ck_assert_int_ge(mfd, 0);
			rc = msg_call(mfd, MSG_OP_MDS_OSTMAP, 0, NULL, 0, NULL,
			    0, NULL, 0, &rlen, ents, sizeof(ents), &blen);
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(blen, 4 * sizeof(struct msg_ost_ent));
			ck_assert_uint_eq(ents[0].capacity, 1073741824);
			ck_assert_uint_eq(ents[2].ost, 2);
			ck_assert_uint_eq(ents[2].capacity, 4096);
			ck_assert_uint_eq(ents[3].ost, 3);
			ck_assert_uint_eq(ents[3].port, w.oport_n);
			ck_assert_str_eq(ents[3].host, "127.0.0.1");
			ck_assert_uint_eq(ents[3].capacity, 8192);
			close(mfd);
		}
	}
	close(ofd);
	wire_stop(&w);
}
END_TEST

/* Run argv to its end with stderr in errf; its exit status, or -1. */
static int
run_to_exit(char *const argv[], const char *errf)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0)
			dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* 1 if the process answers PING over a new authenticated connection. */
static int
pings(int port, const uint8_t *secret)
{
	struct msg_ping_rep pr;
	uint32_t rlen = 0;
	int fd = mds_connect(port, secret), rc;

	if (fd < 0)
		return 0;
	rc = msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0, &pr, sizeof(pr),
	    &rlen, NULL, 0, NULL);
	close(fd);
	return rc == 0 && rlen == sizeof(pr);
}

/* A second fsx-mds or fsx-oss on a store in use exits 1 and names the
 * holder; the first goes on serving. */
START_TEST(mds_wire_second_engine_on_store_exits)
{
	struct wire w;
	char *mds = bin_path("fsx-mds"), *oss = bin_path("fsx-oss");
	char *errf = xasprintf("%s/err", tdir), *txt = NULL, *want;
	char *p2 = xasprintf("%s/mds2.port", tdir);
	char *o0 = NULL;

	if (wire_start(&w) < 0) {
		fprintf(stderr, "mds_wire: fsx-mds/fsx-oss not runnable, "
		    "skipped\n");
		goto out;
	}
	{
		char *argv[] = { mds, "--dir", w.mdir, "--listen",
		    "127.0.0.1:0", "--port-file", p2, "--secret-file",
		    w.secf, NULL };

		ck_assert_int_eq(run_to_exit(argv, errf), 1);
	}
	ck_assert_int_eq(file_read_all(errf, &txt, NULL, 65536), 0);
	want = xasprintf("store %s is in use by pid %d", w.mdir, (int)w.mpid);
	ck_assert_msg(strstr(txt, want) != NULL, "stderr: %s", txt);
	ck_assert_int_ne(access(p2, F_OK), 0);
	free(want);
	free(txt);
	txt = NULL;
	o0 = xasprintf("0:%s0", w.odir);
	{
		char *argv[] = { oss, "--listen", "127.0.0.1:0",
		    "--port-file", p2, "--secret-file", w.secf, "--ost", o0,
		    NULL };

		ck_assert_int_eq(run_to_exit(argv, errf), 1);
	}
	ck_assert_int_eq(file_read_all(errf, &txt, NULL, 65536), 0);
	want = xasprintf("store %s0 is in use by pid %d", w.odir,
	    (int)w.opid);
	ck_assert_msg(strstr(txt, want) != NULL, "stderr: %s", txt);
	free(want);
	ck_assert(pings(w.mport_n, w.secret));
	ck_assert(pings(w.oport_n, w.secret));
out:
	wire_stop(&w);
	free(txt);
	free(o0);
	free(p2);
	free(errf);
	free(mds);
	free(oss);
}
END_TEST

/* Random bodies and bulks for every MDS opcode: answers, never a crash. */
START_TEST(mds_wire_random_requests_survive)
{
	struct wire w;
	static uint8_t body[4096], bulk[8192], rbuf[1 << 16];
	uint32_t rlen, blen;
	unsigned seed = 12345;
	int fd, rc;

	if (wire_start(&w) < 0) {
		wire_stop(&w);
		return;
	}
	fd = mds_connect(w.mport_n, w.secret);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 3000; i++) {
		uint16_t op = (uint16_t)(MSG_OP_MDS_OSTMAP +
		    rand_r(&seed) % (MSG_OP_MAX - MSG_OP_MDS_OSTMAP));
		uint32_t bl = (uint32_t)(msg_req_body_min(op) +
		    (uint32_t)rand_r(&seed) % 64);
		uint32_t kl = (uint32_t)rand_r(&seed) % 3 == 0 ?
		    (uint32_t)rand_r(&seed) % sizeof(bulk) : 0;
		struct iovec iov = { bulk, kl };

		for (size_t k = 0; k < bl; k++)
			body[k] = (uint8_t)rand_r(&seed);
		/* small numbers make more requests reach real code */
		if (bl >= 8 && rand_r(&seed) % 2) {
			memset(body, 0, 8);
			body[0] = (uint8_t)(1 + rand_r(&seed) % 4);
		}
		for (size_t k = 0; k < kl; k++)
			bulk[k] = (uint8_t)rand_r(&seed);
		rc = msg_call(fd, op, 0, body, bl, &iov, kl ? 1 : 0, rbuf,
		    sizeof(rbuf), &rlen, rbuf, sizeof(rbuf), &blen);
		if (rc == -EPROTO || rc == -ECONNRESET || rc == -EMSGSIZE) {
			close(fd);
			fd = mds_connect(w.mport_n, w.secret);
			ck_assert_int_ge(fd, 0);
		}
	}
	rc = msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0, rbuf, sizeof(rbuf),
	    &rlen, NULL, 0, &blen);
	ck_assert_int_eq(rc, 0);
	close(fd);
	ck_assert_int_eq(waitpid(w.mpid, NULL, WNOHANG), 0);
	wire_stop(&w);
}
END_TEST

Suite *
mds_suite(void)
{
	Suite *s = suite_create("mds");
	TCase *tc = tcase_create("ns");

	tcase_add_checked_fixture(tc, ns_setup, ns_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, mds_ns_root_is_0755_root);
	tcase_add_test(tc, mds_ns_create_excl_returns_eexist);
	tcase_add_test(tc, mds_ns_create_unlink_return_parent_attrs);
	tcase_add_test(tc, mds_ns_mknod_types_and_nlink);
	tcase_add_test(tc, mds_ns_symlink_readlink);
	tcase_add_test(tc, mds_ns_link_unlink_counts);
	tcase_add_test(tc, mds_ns_link_emlink);
	tcase_add_test(tc, mds_ns_rmdir_rules);
	tcase_add_test(tc, mds_ns_rename_rules);
	tcase_add_test(tc, mds_ns_rename_exchange);
	tcase_add_test(tc, mds_ns_readdir_10000_each_once);
	tcase_add_test(tc, mds_ns_layout_inheritance);
	tcase_add_test(tc, mds_ns_setlayout_file_rules);
	tcase_add_test(tc, mds_ns_close_read_relatime);
	tcase_add_test(tc, mds_ns_read_atime_deferred);
	tcase_add_test(tc, mds_ns_big_commit);
	tcase_add_test(tc, mds_ns_close_after_utime_keeps_mtime);
	tcase_add_test(tc, mds_ns_oid_unique_across_restart);
	tcase_add_test(tc, mds_ns_xattr_rules);
	tcase_add_test(tc, mds_ns_destroy_orphan_deferred);
	tcase_add_test(tc, mds_ns_destroy_done_runs_keep_the_rest);
	tcase_add_test(tc, mds_ns_unlink_queues_each_stripe);
	tcase_add_test(tc, mds_tx_first_request_undone_alone);
	tcase_add_test(tc, mds_ns_setattr_open_close_append);
	tcase_add_test(tc, mds_ns_group_commit_concurrent);
	tcase_add_test(tc, mds_wire_create_survives_kill9);
	tcase_add_test(tc, mds_wire_acked_changes_survive_kill9);
	tcase_add_test(tc, mds_wire_glimpse_statfs_destroy);
	tcase_add_test(tc, mds_wire_random_requests_survive);
	tcase_add_test(tc, mds_wire_second_engine_on_store_exits);
	suite_add_tcase(s, tc);
	return s;
}
