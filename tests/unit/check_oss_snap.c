/*
 * check_oss_snap: the OSS side of backups (src/oss/oss_snap.c) and the
 * sparse copy they share (src/core/fcopy.c).
 *
 *   oss_snap_barrier_*  a freeze waits for changes in flight and holds
 *                       new ones until thawed; freezes nest
 *   oss_snap_link_*     a snapshot opens at MARK without touching objects;
 *                       a capture links an object before its change;
 *                       LINK links the rest, nothing else, and closes it
 *   oss_snap_cow_*      an object with two links is copied before a
 *                       change, holes kept; one link is left alone
 *   fcopy_*             holes stay holes, sizes match
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fcopy.h"
#include "core/util.h"
#include "oss/oss_snap.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_osssnap.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	rm_rf(dir);
}

struct changer {
	struct oss_snap	*s;
	atomic_int	 entered;
};

static void *
change(void *arg)
{
	struct changer *c = arg;

	oss_snap_enter(c->s);
	atomic_store(&c->entered, 1);
	oss_snap_leave(c->s);
	return NULL;
}

START_TEST(oss_snap_barrier_holds_changes_until_thaw)
{
	struct changer c = { oss_snap_new(), 0 };
	uint64_t fr, cows, maxus;
	pthread_t t;

	ck_assert_int_eq(oss_snap_freeze(c.s), 0);
	ck_assert_int_eq(oss_snap_freeze(c.s), 0);	/* nested: 2 OSTs */
	pthread_create(&t, NULL, change, &c);
	usleep(100000);
	ck_assert_int_eq(atomic_load(&c.entered), 0);
	oss_snap_thaw(c.s);
	usleep(100000);
	ck_assert_int_eq(atomic_load(&c.entered), 0);	/* one still frozen */
	oss_snap_thaw(c.s);
	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&c.entered), 1);
	oss_snap_counters(c.s, &fr, &cows, &maxus);
	ck_assert_int_eq(fr, 2);
	ck_assert_uint_ge(maxus, 100000);
	oss_snap_free(c.s);
}
END_TEST

START_TEST(oss_snap_barrier_freeze_waits_for_running_change)
{
	struct oss_snap *s = oss_snap_new();
	uint64_t t0;

	oss_snap_enter(s);
	t0 = now_mono_ns();
	/* the change never leaves: the freeze gives up, unfrozen */
	ck_assert_int_eq(oss_snap_freeze(s), -ETIMEDOUT);
	ck_assert_uint_ge(now_mono_ns() - t0, 4000000000ull);
	oss_snap_leave(s);
	oss_snap_enter(s);		/* not frozen: goes through */
	oss_snap_leave(s);
	oss_snap_free(s);
}
END_TEST

static int
mkobj(int odirfd, const char *name, const void *data, size_t len, off_t at)
{
	int fd = openat(odirfd, name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, data, len, at), (ssize_t)len);
	return fd;
}

START_TEST(oss_snap_link_and_cow)
{
	char *odir = xasprintf("%s/O", dir), *p;
	struct oss_snap *s = oss_snap_new();
	struct stat st, st2;
	char buf[8];
	int odirfd, fd, rc;

	ck_assert_int_eq(mkdir_p(odir, 0700), 0);
	odirfd = open(odir, O_RDONLY | O_DIRECTORY);
	p = xasprintf("%s/O/05", dir);
	ck_assert_int_eq(mkdir_p(p, 0700), 0);
	free(p);
	fd = mkobj(odirfd, "05/5", "old", 3, 1 << 22);	/* sparse: 4 MiB hole */
	close(mkobj(odirfd, "05/.cow.9", "x", 1, 0));	/* not an object */
	/* one link: nothing to copy */
	ck_assert_int_eq(oss_snap_cow(s, odirfd, 5, fd), 0);
	/* LINK needs the snapshot open (MARK) */
	ck_assert_int_eq(oss_snap_link(s, 0, odirfd, "backup-1"), -ESTALE);
	ck_assert_int_eq(oss_snap_mark(s, 0, dir, "backup-1"), 0);
	p = xasprintf("%s/snap/backup-1/05/5", dir);
	ck_assert_int_eq(stat(p, &st), -1);	/* nothing linked in the pause */
	/* a capture before a change links it; a second one keeps the first */
	ck_assert_int_eq(oss_snap_capture(s, 0, odirfd, 5), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(oss_snap_capture(s, 0, odirfd, 5), 0);
	ck_assert_int_eq(oss_snap_capture(s, 1, odirfd, 5), 0);	/* no epoch */
	ck_assert_int_eq(oss_snap_capture(s, 0, odirfd, 77), 0);	/* gone */
	ck_assert_int_eq(oss_snap_link(s, 0, odirfd, "backup-1"), 1);
	ck_assert_int_eq(oss_snap_link(s, 0, odirfd, "backup-1"), -ESTALE);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_nlink, 2);
	/* two links: copied to a new inode, the snapshot's untouched */
	rc = oss_snap_cow(s, odirfd, 5, fd);
	ck_assert_int_eq(rc, 1);
	close(fd);
	ck_assert_int_eq(fstatat(odirfd, "05/5", &st2, 0), 0);
	ck_assert_int_ne(st2.st_ino, st.st_ino);
	ck_assert_int_eq(st2.st_nlink, 1);
	ck_assert_int_eq(st2.st_size, (1 << 22) + 3);
	ck_assert_int_lt(st2.st_blocks * 512, 1 << 20);	/* the hole stayed */
	fd = openat(odirfd, "05/5", O_RDWR);
	ck_assert_int_eq(pwrite(fd, "new", 3, 1 << 22), 3);
	close(fd);
	fd = open(p, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 3, 1 << 22), 3);
	ck_assert_int_eq(memcmp(buf, "old", 3), 0);
	close(fd);
	ck_assert_int_eq(oss_snap_drop(dir, "backup-1"), 0);
	ck_assert_int_eq(stat(p, &st), -1);
	/* a snapshot whose directory was removed (its backup failed) closes
	   at the next capture, quietly */
	ck_assert_int_eq(oss_snap_mark(s, 0, dir, "backup-2"), 0);
	ck_assert_int_eq(oss_snap_drop(dir, "backup-2"), 0);
	ck_assert_int_eq(oss_snap_capture(s, 0, odirfd, 5), 0);
	ck_assert_int_eq(oss_snap_link(s, 0, odirfd, "backup-2"), -ESTALE);
	ck_assert_int_eq(oss_snap_name_ok("backup-1", 64), 1);
	ck_assert_int_eq(oss_snap_name_ok("../x", 64), 0);
	ck_assert_int_eq(oss_snap_name_ok("", 64), 0);
	free(p);
	close(odirfd);
	free(odir);
	oss_snap_free(s);
}
END_TEST

/* Objects born after MARK are not of the snapshot: no capture, no link. */
START_TEST(oss_snap_skips_objects_born_after_mark)
{
	char *odir = xasprintf("%s/O", dir), *p, *q;
	struct oss_snap *s = oss_snap_new();
	struct statx sx;
	struct stat st;
	int odirfd;

	ck_assert_int_eq(mkdir_p(odir, 0700), 0);
	odirfd = open(odir, O_RDONLY | O_DIRECTORY);
	p = xasprintf("%s/O/07", dir);
	ck_assert_int_eq(mkdir_p(p, 0700), 0);
	free(p);
	close(mkobj(odirfd, "07/7", "before", 6, 0));
	if (statx(odirfd, "07/7", 0, STATX_BTIME, &sx) < 0 ||
	    !(sx.stx_mask & STATX_BTIME)) {
		/* no birth times here: every object is taken, as before */
		close(odirfd);
		free(odir);
		oss_snap_free(s);
		return;
	}
	ck_assert_int_eq(oss_snap_mark(s, 0, dir, "backup-3"), 0);
	usleep(20000);			/* past the coarse clock's tick */
	close(mkobj(odirfd, "07/263", "after", 5, 0));
	close(mkobj(odirfd, "07/519", "after", 5, 0));
	ck_assert_int_eq(oss_snap_capture(s, 0, odirfd, 263), 0);
	p = xasprintf("%s/snap/backup-3/07/263", dir);
	q = xasprintf("%s/snap/backup-3/07/7", dir);
	ck_assert_int_eq(stat(p, &st), -1);		/* not captured */
	ck_assert_int_eq(oss_snap_link(s, 0, odirfd, "backup-3"), 3);
	ck_assert_int_eq(stat(p, &st), -1);		/* nor linked */
	free(p);
	p = xasprintf("%s/snap/backup-3/07/519", dir);
	ck_assert_int_eq(stat(p, &st), -1);
	ck_assert_int_eq(stat(q, &st), 0);		/* the older one is */
	ck_assert_int_eq(st.st_nlink, 2);
	free(p);
	free(q);
	close(odirfd);
	free(odir);
	oss_snap_free(s);
}
END_TEST

START_TEST(fcopy_keeps_holes)
{
	char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir);
	int in = open(a, O_RDWR | O_CREAT, 0600), out;
	uint64_t bytes = 0;
	struct stat st;

	ck_assert_int_eq(pwrite(in, "x", 1, 0), 1);
	ck_assert_int_eq(pwrite(in, "y", 1, 64 << 20), 1);
	ck_assert_int_eq(ftruncate(in, (96 << 20)), 0);	/* trailing hole */
	out = open(b, O_RDWR | O_CREAT, 0600);
	ck_assert_int_eq(fcopy_sparse(in, out, &bytes), 0);
	ck_assert_int_eq(fstat(out, &st), 0);
	ck_assert_int_eq(st.st_size, 96 << 20);
	ck_assert_int_lt(st.st_blocks * 512, 1 << 20);
	ck_assert_uint_lt(bytes, 1 << 20);
	close(in);
	close(out);
	free(a);
	free(b);
}
END_TEST

Suite *oss_snap_suite(void);

Suite *
oss_snap_suite(void)
{
	Suite *s = suite_create("oss_snap");
	TCase *tc = tcase_create("oss_snap");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, oss_snap_barrier_holds_changes_until_thaw);
	tcase_add_test(tc, oss_snap_barrier_freeze_waits_for_running_change);
	tcase_add_test(tc, oss_snap_link_and_cow);
	tcase_add_test(tc, oss_snap_skips_objects_born_after_mark);
	tcase_add_test(tc, fcopy_keeps_holes);
	suite_add_tcase(s, tc);
	return s;
}
