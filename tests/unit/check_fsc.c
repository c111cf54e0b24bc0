/*
 * libfsx tests.
 *
 * fsc-1.*: layout math: offset <-> (stripe, object offset) round trips for
 *          many stripe counts and sizes; range mapping covers each byte
 *          exactly once, in order; object sizes for a file size.
 * fsc-2.*: layout parsing of hostile bytes; mount specs; the mount
 *          cache's capacity.
 * fsc-3.*: the client against a real fsx-mds and one fsx-oss serving two
 *          OSTs on loopback ($FSX_BIN, default build/bin; skipped when the
 *          binaries are missing): create, striped write/read, truncate
 *          down/up, glimpse, namespace calls, xattrs, statfs, read-ahead,
 *          OSS and MDS restarts.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "fsc/fsc.h"
#include "fsc/fsc_int.h"
#include "fsc/fsc_mcache.h"
#include "mds/mds_lease.h"
#include "msg/msg.h"

Suite	*fsc_suite(void);

/* fsc-1.1: locate and file_off are inverse for many layouts. */
START_TEST(fsc_layout_roundtrip_is_identity)
{
	static const uint32_t sizes[] = { 65536, 131072, 1 << 20, 4 << 20 };
	static const uint32_t counts[] = { 1, 2, 3, 4, 7, 16, 128 };

	for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++) {
		for (size_t b = 0; b < sizeof(counts) / sizeof(counts[0]);
		    b++) {
			uint32_t s = sizes[a], c = counts[b];

			for (int i = 0; i < 2000; i++) {
				uint64_t x = ((uint64_t)random() << 20 ^
				    (uint64_t)random()) % (1ull << 44);
				uint32_t k;
				uint64_t o;

				fsc_layout_locate(x, s, c, &k, &o);
				ck_assert_uint_lt(k, c);
				ck_assert_uint_eq(k, (x / s) % c);
				ck_assert_uint_eq(o,
				    (x / ((uint64_t)s * c)) * s + x % s);
				ck_assert_uint_eq(fsc_layout_file_off(k, o, s,
				    c), x);
			}
		}
	}
}
END_TEST

/* fsc-1.2: a mapped range covers each byte once, in file order. */
START_TEST(fsc_layout_map_covers_each_byte_once)
{
	struct fsc_extent ext[512];

	for (int i = 0; i < 3000; i++) {
		uint32_t s = 65536u << (random() % 5);
		uint32_t c = 1 + random() % 9;
		uint64_t off = (uint64_t)random() % (64ull << 20);
		uint64_t len = (uint64_t)random() % (8ull << 20);
		uint64_t pos = off;
		int n;

		n = fsc_layout_map(off, len, s, c, ext, 512);
		ck_assert_int_ge(n, 0);
		for (int j = 0; j < n; j++) {
			uint32_t k;
			uint64_t o;

			ck_assert_uint_eq(ext[j].file_off, pos);
			ck_assert_uint_gt(ext[j].len, 0);
			/* one stripe unit at most */
			ck_assert_uint_eq(ext[j].file_off / s,
			    (ext[j].file_off + ext[j].len - 1) / s);
			fsc_layout_locate(pos, s, c, &k, &o);
			ck_assert_uint_eq(ext[j].stripe, k);
			ck_assert_uint_eq(ext[j].obj_off, o);
			pos += ext[j].len;
		}
		ck_assert_uint_eq(pos, off + len);
	}
	ck_assert_int_eq(fsc_layout_map(0, 10 << 20, 65536, 2, ext, 4),
	    -E2BIG);
	ck_assert_int_eq(fsc_layout_map(0, 10, 0, 2, ext, 4), -EINVAL);
	ck_assert_int_eq(fsc_layout_map(5, 0, 65536, 2, ext, 4), 0);
}
END_TEST

/* fsc-1.3: object sizes of a file sum to its size; the file end implied
 * by the largest object is the file size. */
START_TEST(fsc_layout_obj_size_sums_to_file_size)
{
	for (int i = 0; i < 5000; i++) {
		uint32_t s = 65536u << (random() % 4);
		uint32_t c = 1 + random() % 8;
		uint64_t fsize = (uint64_t)random() % (200ull << 20);
		uint64_t sum = 0, end = 0;

		if (i < 10)
			fsize = i;
		for (uint32_t k = 0; k < c; k++) {
			uint64_t os = fsc_layout_obj_size(fsize, k, s, c);
			uint64_t e = fsc_layout_file_end(k, os, s, c);

			sum += os;
			if (e > end)
				end = e;
		}
		ck_assert_uint_eq(sum, fsize);
		ck_assert_uint_eq(end, fsize);
	}
}
END_TEST

/* fsc-2.1: a layout is parsed only when whole and sane. */
START_TEST(fsc_layout_parse_rejects_bad_bytes)
{
	char buf[sizeof(struct msg_layout) + 3 * sizeof(struct msg_layout_ent)];
	struct msg_layout ml = { MSG_LOV_MAGIC, 65536, 3, -1, 3, 0 };
	struct msg_layout_ent e[3] = { { 0, 0, 10 }, { 1, 0, 11 }, { 0, 0, 12 } };
	struct fsc_layout *l;

	memcpy(buf, &ml, sizeof(ml));
	memcpy(buf + sizeof(ml), e, sizeof(e));
	l = fsc_layout_parse(buf, sizeof(buf));
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->count, 3);
	ck_assert_uint_eq(l->ent[2].oid, 12);
	free(l);
	ck_assert_ptr_null(fsc_layout_parse(buf, sizeof(buf) - 1));
	ck_assert_ptr_null(fsc_layout_parse(buf, 3));
	ml.nent = MSG_MAX_STRIPES + 1;
	memcpy(buf, &ml, sizeof(ml));
	ck_assert_ptr_null(fsc_layout_parse(buf, sizeof(buf)));
	ml.nent = 3;
	ml.stripe_size = 0;
	memcpy(buf, &ml, sizeof(ml));
	ck_assert_ptr_null(fsc_layout_parse(buf, sizeof(buf)));
	ml.stripe_size = 65536;
	ml.magic = 0;
	memcpy(buf, &ml, sizeof(ml));
	ck_assert_ptr_null(fsc_layout_parse(buf, sizeof(buf)));
}
END_TEST

/* fsc-2.2: mount specs in the forms FSx documents; others refused. */
START_TEST(fsc_spec_parse_accepts_fsx_forms)
{
	struct fsc_spec sp;

	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0", &sp), 0);
	ck_assert_str_eq(sp.fsid, "fs-0123456789abcdef0");
	ck_assert_str_eq(sp.mount_name, "");
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0.fsx.eu-west-1."
	    "amazonaws.com@tcp:/abcdefgh", &sp), 0);
	ck_assert_str_eq(sp.fsid, "fs-0123456789abcdef0");
	ck_assert_str_eq(sp.region, "eu-west-1");
	ck_assert_str_eq(sp.mount_name, "abcdefgh");
	ck_assert_str_eq(sp.subdir, "");
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0@tcp:/fsx/a/b",
	    &sp), 0);
	ck_assert_str_eq(sp.mount_name, "fsx");
	ck_assert_str_eq(sp.subdir, "a/b");
	ck_assert_str_eq(sp.region, "");
	ck_assert_int_eq(fsc_spec_parse("fs-0123", &sp), -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789ABCDEF0", &sp),
	    -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0.fsx", &sp),
	    -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0@tcp:/", &sp),
	    -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("fs-0123456789abcdef0@tcp:/a b",
	    &sp), -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("/dev/sda1", &sp), -EINVAL);
	ck_assert_int_eq(fsc_spec_parse("", &sp), -EINVAL);
}
END_TEST

/*
 * fsc-2.3: the mount cache holds what the MDS can lease one session
 * (MDS_LEASE_MAX leases, an attribute lease being two items) before it
 * refuses an item: a long-lived mount that filled it before cached
 * nothing new (every GETATTR of a second git clone went to the MDS).
 */
START_TEST(fsc_mcache_holds_a_full_session)
{
	struct fsc_mc_item *it, *next;
	struct msg_attr a, got;
	unsigned n = 0, per = FSC_MC_MAX / 3;
	char name[32];

	ck_assert_uint_ge(FSC_MC_MAX, 2u * MDS_LEASE_MAX);
	memset(&a, 0, sizeof(a));
	a.mode = S_IFREG | 0644;
	fsc_mc_lock();
	for (uint64_t ino = 1; ino <= per; ino++) {
		a.ino = ino;
		a.size = ino * 7;
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)ino);
		ck_assert_int_eq(fsc_mc_add(FSC_MC_ATTR, ino, NULL, 0, &a), 1);
		ck_assert_int_eq(fsc_mc_add(FSC_MC_PAGES, ino, NULL, 0, NULL),
		    1);
		ck_assert_int_eq(fsc_mc_add(FSC_MC_ENTRY, 1u << 30, name, ino,
		    NULL), 1);
	}
	for (uint64_t ino = 1; ino <= per; ino++) {
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)ino);
		ck_assert_int_eq(fsc_mc_lookup(1u << 30, name, &got), 1);
		ck_assert_uint_eq(got.size, ino * 7);
	}
	fsc_mc_unlock();
	ck_assert_uint_eq(fsc_mc_count(), 3 * per);
	fsc_mc_lock();
	for (n = 3 * per; n < FSC_MC_MAX; n++)
		ck_assert_int_eq(fsc_mc_add(FSC_MC_ATTR, (1ull << 40) + n,
		    NULL, 0, &a), 1);
	ck_assert_int_eq(fsc_mc_add(FSC_MC_ATTR, 1ull << 50, NULL, 0, &a), 0);
	fsc_mc_unlock();
	n = 0;
	for (it = fsc_mc_take_all(); it != NULL; it = next) {
		next = it->next;
		fsc_mc_item_free(it);
		n++;
	}
	ck_assert_uint_eq(n, FSC_MC_MAX);
	ck_assert_uint_eq(fsc_mc_count(), 0);
}
END_TEST

/* ---- live: 1 MDS + 1 OSS with 2 OSTs ---- */

static char	 live_dir[256];
static pid_t	 live_mds = -1, live_oss = -1;
static int	 live_ok;
static uint8_t	 live_secret[MSG_SECRET_LEN];
static int	 live_mds_port, live_oss_port;
static char	 live_bin[512];

static int
live_wait_port(const char *path, pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		char *s = NULL;
		size_t len;

		if (file_read_all(path, &s, &len, 64) == 0 && len > 0) {
			int p = atoi(s);

			free(s);
			if (p > 0)
				return p;
		}
		free(s);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

static pid_t
live_spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		char log[600];
		int fd;

		/* Own session: Check kills a forked test's process group. */
		setsid();
		snprintf(log, sizeof(log), "%s/%s.log", live_dir,
		    strrchr(argv[0], '/') + 1);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int
live_start_oss(int port)
{
	char bin[600], pf[600], sf[600], o0[600], o1[600], la[64], pidf[600];
	char *argv[] = { bin, "--listen", la, "--port-file", pf,
	    "--secret-file", sf, "--ost", o0, "--ost", o1, NULL };

	snprintf(bin, sizeof(bin), "%s/fsx-oss", live_bin);
	snprintf(pf, sizeof(pf), "%s/oss.port", live_dir);
	snprintf(sf, sizeof(sf), "%s/secret", live_dir);
	snprintf(o0, sizeof(o0), "0:%s/ost0:1073741824", live_dir);
	snprintf(o1, sizeof(o1), "1:%s/ost1:1073741824", live_dir);
	snprintf(la, sizeof(la), "127.0.0.1:%d", port);
	unlink(pf);
	live_oss = live_spawn(argv);
	/* The pid in a file: a forked test may restart the OSS. */
	snprintf(pidf, sizeof(pidf), "%s/oss.pid", live_dir);
	snprintf(la, sizeof(la), "%d", (int)live_oss);
	file_write_atomic(pidf, la, strlen(la));
	live_oss_port = live_wait_port(pf, live_oss);
	return live_oss_port > 0 ? 0 : -1;
}

/* Start (or restart, same port) the MDS; its pid goes to a file too. */
static int
live_start_mds(int port)
{
	char bin[600], pf[600], sf[600], dir[600], la[64], pidf[600];
	char *argv[] = { bin, "--dir", dir, "--listen", la,
	    "--port-file", pf, "--secret-file", sf, NULL };

	snprintf(bin, sizeof(bin), "%s/fsx-mds", live_bin);
	snprintf(sf, sizeof(sf), "%s/secret", live_dir);
	snprintf(dir, sizeof(dir), "%s/mds", live_dir);
	snprintf(pf, sizeof(pf), "%s/mds.port", live_dir);
	snprintf(la, sizeof(la), "127.0.0.1:%d", port);
	mkdir_p(dir, 0755);
	unlink(pf);
	live_mds = live_spawn(argv);
	snprintf(pidf, sizeof(pidf), "%s/mds.pid", live_dir);
	snprintf(la, sizeof(la), "%d", (int)live_mds);
	file_write_atomic(pidf, la, strlen(la));
	live_mds_port = live_wait_port(pf, live_mds);
	return live_mds_port > 0 ? 0 : -1;
}

static void
live_setup(void)
{
	char bin[600], sf[600], mf[600], hex[80];
	const char *b = getenv("FSX_BIN");
	struct msg_ost_ent e[2];
	struct iovec iov = { e, sizeof(e) };
	int fd;

	snprintf(live_bin, sizeof(live_bin), "%s", b ? b : "build/bin");
	snprintf(bin, sizeof(bin), "%s/fsx-mds", live_bin);
	snprintf(mf, sizeof(mf), "%s/fsx-oss", live_bin);
	if (access(bin, X_OK) != 0 || access(mf, X_OK) != 0) {
		fprintf(stderr, "fsc: %s/fsx-mds or fsx-oss missing; live "
		    "tests skipped\n", live_bin);
		return;
	}
	snprintf(live_dir, sizeof(live_dir), "/tmp/check_fsc.%d", getpid());
	mkdir_p(live_dir, 0755);
	rand_bytes(live_secret, sizeof(live_secret));
	hex_encode(live_secret, sizeof(live_secret), hex);
	snprintf(sf, sizeof(sf), "%s/secret", live_dir);
	file_write_atomic(sf, hex, strlen(hex));
	if (live_start_oss(0) < 0)
		return;
	if (live_start_mds(0) < 0)
		return;
	/* the MDS learns its OSTs once; its store keeps them over restarts */
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 2; i++) {
		e[i].ost = (uint32_t)i;
		e[i].port = (uint16_t)live_oss_port;
		snprintf(e[i].host, sizeof(e[i].host), "127.0.0.1");
		e[i].capacity = 1073741824;
	}
	fd = msg_connect("127.0.0.1", live_mds_port, live_secret, NULL);
	if (fd < 0)
		return;
	live_ok = msg_call(fd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1, NULL,
	    0, NULL, NULL, 0, NULL) == 0;
	close(fd);
}

/* Kill what a forked test restarted (its pid is only in the file). */
static void
live_kill_pidfile(const char *name, pid_t known)
{
	char pidf[600], *s = NULL;
	size_t len;

	snprintf(pidf, sizeof(pidf), "%s/%s", live_dir, name);
	if (file_read_all(pidf, &s, &len, 32) == 0) {
		pid_t p = (pid_t)atoi(s);

		if (p > 0 && p != known)
			kill(p, SIGKILL);
	}
	free(s);
}

static void
live_teardown(void)
{
	if (live_dir[0] == '\0')
		return;
	live_kill_pidfile("oss.pid", live_oss);
	live_kill_pidfile("mds.pid", live_mds);
	if (live_oss > 0) {
		kill(live_oss, SIGKILL);
		waitpid(live_oss, NULL, 0);
	}
	if (live_mds > 0) {
		kill(live_mds, SIGKILL);
		waitpid(live_mds, NULL, 0);
	}
	rm_rf(live_dir);
}

static struct fsc *
live_open(void)
{
	struct fsc_conf conf;
	struct fsc *fs;
	int err;

	memset(&conf, 0, sizeof(conf));
	conf.mds_host = "127.0.0.1";
	conf.mds_port = live_mds_port;
	memcpy(conf.secret, live_secret, MSG_SECRET_LEN);
	conf.retry_secs = 10;
	fs = fsc_open(&conf, &err);
	ck_assert_msg(fs != NULL, "fsc_open: %s", strerror(-err));
	return fs;
}

static const struct msg_cred root_cred = { 0, 0 };

/* Make a directory whose files get `count` stripes of 64 KiB. */
static uint64_t
live_striped_dir(struct fsc *fs, const char *name, int count)
{
	struct msg_attr a;

	ck_assert_int_eq(fsc_mkdir(fs, FSC_ROOT_INO, name, 0755, &root_cred,
	    &a), 0);
	ck_assert_int_eq(fsc_xattr_setlayout(fs, a.ino, &root_cred, 65536,
	    count,
	    -1), 0);
	return a.ino;
}

/* fsc-3.9: held calls (fsc.h, fsc_hold_*): a call waits until every
 * held one has ended; while one waits no new hold is taken, so the wait
 * ends; the thread that makes the held calls does not wait. */
struct hold_waiter {
	struct fsc	*fs;
	int		 exempt;
	int		 done;	/* atomic */
};

static void *
hold_waiter_main(void *arg)
{
	struct hold_waiter *w = arg;

	if (w->exempt)
		fsc_hold_exempt();
	fsc_hold_wait(w->fs);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int
hold_done_within(struct hold_waiter *w, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
			return 1;
		usleep(1000);
	}
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

START_TEST(fsc_hold_waits_for_every_held_call)
{
	struct hold_waiter w = { 0 }, ex = { 0 };
	struct fsc *fs = live_open();
	pthread_t t, te;

	fsc_hold_wait(fs);		/* nothing held: at once */
	ck_assert_int_eq(fsc_hold_begin(fs), 0);
	ck_assert_int_eq(fsc_hold_begin(fs), 0);
	w.fs = ex.fs = fs;
	ex.exempt = 1;
	ck_assert_int_eq(pthread_create(&te, NULL, hold_waiter_main, &ex), 0);
	ck_assert(hold_done_within(&ex, 2000));	/* the sender's thread */
	pthread_join(te, NULL);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_waiter_main, &w), 0);
	ck_assert(!hold_done_within(&w, 50));
	ck_assert_int_eq(fsc_hold_begin(fs), -EBUSY);	/* a call waits */
	fsc_hold_end(fs);
	ck_assert(!hold_done_within(&w, 50));		/* one still held */
	fsc_hold_end(fs);
	ck_assert(hold_done_within(&w, 2000));
	pthread_join(t, NULL);
	ck_assert_int_eq(fsc_hold_begin(fs), 0);	/* nobody waits now */
	fsc_hold_end(fs);
	fsc_free(fs);
}
END_TEST

/* fsc-3.1: striped write, read back, truncate down and up, unlink. */
START_TEST(fsc_live_striped_io_roundtrips)
{
	const size_t n = 3 * 1024 * 1024 + 12345;
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a;
	const struct fsc_layout *l;
	unsigned char *data, *back;
	uint64_t dir;
	size_t done;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_ost_count(fs), 2);
	dir = live_striped_dir(fs, "s2", 2);
	ck_assert_int_eq(fsc_create(fs, dir, "f", 0644, O_RDWR | O_CREAT,
	    &root_cred, &a, &f), 0);
	l = fsc_file_layout(f);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_uint_eq(l->stripe_size, 65536);
	ck_assert_uint_ne(l->ent[0].ost, l->ent[1].ost);

	data = xmalloc(n);
	back = xmalloc(n + 4096);
	rand_bytes(data, n);
	/* An unaligned write that spans many stripe units, in two calls. */
	ck_assert_int_eq(fsc_file_write(fs, f, data, 1000, 0, &done), 0);
	ck_assert_uint_eq(done, 1000);
	ck_assert_int_eq(fsc_file_write(fs, f, data + 1000, n - 1000, 1000,
	    &done),
	    0);
	ck_assert_uint_eq(done, n - 1000);

	/* Open for write here: a stat knows our size; another client's
	 * stat glimpses the objects. */
	ck_assert_int_eq(fsc_getattr(fs, a.ino, &root_cred, &a), 0);
	ck_assert_uint_eq(a.size, n);
	{
		struct fsc *fs2 = live_open();
		struct msg_attr a2;

		ck_assert_int_eq(fsc_getattr(fs2, a.ino, &root_cred, &a2), 0);
		ck_assert_uint_eq(a2.open_writers, 1);
		ck_assert_uint_eq(a2.size, n);
		ck_assert_int_eq(fsc_lookup(fs2, dir, "f", &root_cred, &a2),
		    0);
		ck_assert_uint_eq(a2.size, n);
		fsc_free(fs2);
	}

	memset(back, 0xaa, n + 4096);
	ck_assert_int_eq(fsc_file_read(fs, f, back, n + 4096, 0, &done), 0);
	ck_assert_uint_eq(done, n);
	ck_assert_mem_eq(back, data, n);
	ck_assert_int_eq(fsc_file_read(fs, f, back, 100, 77777, &done), 0);
	ck_assert_uint_eq(done, 100);
	ck_assert_mem_eq(back, data + 77777, 100);
	ck_assert_int_eq(fsc_file_read(fs, f, back, 100, n + 5, &done), 0);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);

	ck_assert_int_eq(fsc_lookup(fs, dir, "f", &root_cred, &a), 0);
	ck_assert_uint_eq(a.size, n);
	ck_assert_uint_eq(a.open_writers, 0);

	/* Truncate down (punches), then up (MDS only): zeros after. */
	{
		struct msg_setattr sa;
		const uint64_t cut = 100000, grow = 300000;

		memset(&sa, 0, sizeof(sa));
		sa.ino = a.ino;
		sa.valid = MSG_SA_SIZE;
		sa.size = cut;
		ck_assert_int_eq(fsc_setattr(fs, NULL, &sa, &a), 0);
		ck_assert_uint_eq(a.size, cut);
		sa.size = grow;
		ck_assert_int_eq(fsc_setattr(fs, NULL, &sa, &a), 0);
		ck_assert_int_eq(fsc_file_open(fs, a.ino, O_RDONLY,
		    &root_cred, &a, &f), 0);
		ck_assert_uint_eq(a.size, grow);
		memset(back, 0xaa, n);
		ck_assert_int_eq(fsc_file_read(fs, f, back, n, 0, &done), 0);
		ck_assert_uint_eq(done, grow);
		ck_assert_mem_eq(back, data, cut);
		for (uint64_t i = cut; i < grow; i++)
			ck_assert_uint_eq(back[i], 0);
		ck_assert_int_eq(fsc_file_write(fs, f, data, 1, 0, &done),
		    -EBADF);
		ck_assert_int_eq(fsc_file_close(fs, f), 0);
	}

	/* O_TRUNC open empties it. */
	ck_assert_int_eq(fsc_file_open(fs, a.ino, O_WRONLY | O_TRUNC,
	    &root_cred, &a, &f), 0);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	ck_assert_int_eq(fsc_getattr(fs, a.ino, &root_cred, &a), 0);
	ck_assert_uint_eq(a.size, 0);

	ck_assert_int_eq(fsc_unlink(fs, dir, "f", &root_cred), 0);
	ck_assert_int_eq(fsc_lookup(fs, dir, "f", &root_cred, &a), -ENOENT);
	ck_assert_int_eq(fsc_unlink(fs, dir, "f", &root_cred), -ENOENT);
	free(data);
	free(back);
	fsc_free(fs);
}
END_TEST

struct live_names {
	int		n;
	int		seen_x, seen_dot;
	uint64_t	last;
};

static int
live_dirent(void *arg, const char *name, size_t namelen, uint64_t ino,
    uint32_t mode, uint64_t cookie)
{
	struct live_names *ln = arg;

	(void)ino;
	(void)mode;
	ln->last = cookie;
	ln->n++;
	if (namelen == 1 && name[0] == '.')
		ln->seen_dot = 1;
	if (namelen == 4 && memcmp(name, "x005", 4) == 0)
		ln->seen_x = 1;
	return 0;
}

/* fsc-3.6: stripe units larger than one frame (MSG_BULK_MAX) are split
 * into several object requests. */
START_TEST(fsc_live_big_stripes_split)
{
	const size_t n = 2 * MSG_BULK_MAX + 12345;
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a;
	unsigned char *data, *back;
	size_t done;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_mkdir(fs, FSC_ROOT_INO, "big", 0755, &root_cred,
	    &a), 0);
	ck_assert_int_eq(fsc_xattr_setlayout(fs, a.ino, &root_cred, 32u << 20,
	    2,
	    -1), 0);
	ck_assert_int_eq(fsc_create(fs, a.ino, "f", 0644, O_RDWR | O_CREAT,
	    &root_cred, &a, &f), 0);
	ck_assert_uint_eq(fsc_file_layout(f)->stripe_size, 32u << 20);
	data = xmalloc(n);
	back = xmalloc(n);
	rand_bytes(data, n);
	ck_assert_int_eq(fsc_file_write(fs, f, data, n, 100, &done), 0);
	ck_assert_uint_eq(done, n);
	ck_assert_int_eq(fsc_file_read_direct(fs, f, back, n, 100, &done), 0);
	ck_assert_uint_eq(done, n);
	ck_assert_mem_eq(back, data, n);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	free(data);
	free(back);
	fsc_free(fs);
}
END_TEST

struct live_wb {
	struct fsc		*fs;
	struct fsc_file		*f;
	const char		*data;
	size_t			len;
};

static void *
live_wb_writer(void *arg)
{
	struct live_wb *w = arg;
	size_t done;
	int rc;

	/* begin was called by the test; the data lands late. */
	usleep(200000);
	rc = fsc_file_write(w->fs, w->f, w->data, w->len, 0, &done);
	fsc_file_write_end(w->fs, w->f, 0, w->len, rc);
	return NULL;
}

/* fsc-3.8: write-behind: a read waits for an overlapping write in
 * flight; a failure is told once, by the next begin or flush. */
START_TEST(fsc_live_write_behind_orders_and_reports)
{
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a;
	struct live_wb w;
	pthread_t t;
	char back[64];
	size_t done;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_create(fs, FSC_ROOT_INO, "wb", 0644,
	    O_RDWR | O_CREAT, &root_cred, &a, &f), 0);
	w.fs = fs;
	w.f = f;
	w.data = "written behind";
	w.len = 14;
	ck_assert_int_eq(fsc_file_write_begin(fs, f, 0, w.len), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, live_wb_writer, &w), 0);
	ck_assert_int_eq(fsc_file_read(fs, f, back, sizeof(back), 0, &done), 0);
	ck_assert_uint_eq(done, 14);
	ck_assert_mem_eq(back, "written behind", 14);
	pthread_join(t, NULL);

	ck_assert_int_eq(fsc_file_write_begin(fs, f, 100, 10), 0);
	fsc_file_write_end(fs, f, 100, 10, -ENOSPC);
	ck_assert_int_eq(fsc_file_flush(fs, f), -ENOSPC);
	ck_assert_int_eq(fsc_file_flush(fs, f), 0);
	ck_assert_int_eq(fsc_file_write_begin(fs, f, 100, 10), 0);
	fsc_file_write_end(fs, f, 100, 10, -EIO);
	/* told to every later write (a write's error may be hidden from
	 * the application in a short count), taken only by fsync */
	ck_assert_int_eq(fsc_file_write_begin(fs, f, 200, 10), -EIO);
	ck_assert_int_eq(fsc_file_write_begin(fs, f, 200, 10), -EIO);
	ck_assert_int_eq(fsc_file_fsync(fs, f), -EIO);
	ck_assert_int_eq(fsc_file_write_begin(fs, f, 200, 10), 0);
	fsc_file_write_end(fs, f, 200, 10, 0);
	ck_assert_int_eq(fsc_file_fsync(fs, f), 0);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	ck_assert_int_eq(fsc_unlink(fs, FSC_ROOT_INO, "wb", &root_cred), 0);
	fsc_free(fs);
}
END_TEST

/* fsc-3.5: sequential small reads through read-ahead windows match the
 * data, stop at EOF, and see a write made through another handle. */
START_TEST(fsc_live_readahead_is_coherent)
{
	const size_t n = 21 * 1024 * 1024 + 4321, chunk = 100000;
	struct fsc *fs;
	struct fsc_file *w, *r;
	struct msg_attr a;
	unsigned char *data, *back;
	uint64_t dir, off;
	size_t done;

	if (!live_ok)
		return;
	fs = live_open();	/* read-ahead is on by default */
	dir = live_striped_dir(fs, "ra", 2);
	ck_assert_int_eq(fsc_create(fs, dir, "f", 0644, O_RDWR | O_CREAT,
	    &root_cred, &a, &w), 0);
	data = xmalloc(n);
	back = xmalloc(chunk);
	rand_bytes(data, n);
	ck_assert_int_eq(fsc_file_write(fs, w, data, n, 0, &done), 0);
	ck_assert_int_eq(fsc_file_open(fs, a.ino, O_RDONLY, &root_cred, &a,
	    &r), 0);
	for (off = 0; off < n; off += done) {
		ck_assert_int_eq(fsc_file_read(fs, r, back, chunk, off, &done),
		    0);
		ck_assert_uint_eq(done, n - off < chunk ? n - off : chunk);
		ck_assert_mem_eq(back, data + off, done);
		if (off >= 5 * chunk && off < 6 * chunk) {
			/* Overwrite ahead of the reader. */
			memset(data + 6 * chunk, 0x5a, 3 * chunk);
			ck_assert_int_eq(fsc_file_write(fs, w, data + 6 * chunk,
			    3 * chunk, 6 * chunk, &done), 0);
			done = chunk;
		}
	}
	ck_assert_int_eq(fsc_file_read(fs, r, back, chunk, n, &done), 0);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(fsc_file_close(fs, r), 0);
	ck_assert_int_eq(fsc_file_close(fs, w), 0);
	free(data);
	free(back);
	fsc_free(fs);
}
END_TEST

/* fsc-3.2: namespace calls, readdir paging, symlinks, xattrs, statfs,
 * append, and an O_EXCL create that exists. */
START_TEST(fsc_live_namespace_works)
{
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a, d;
	struct msg_statfs st;
	struct live_names ln = { 0, 0, 0, 0 };
	char buf[4096];
	size_t len, done;
	uint64_t cookie = 0, off;
	int eof = 0, pages = 0;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_mkdir(fs, FSC_ROOT_INO, "ns", 0755, &root_cred,
	    &d), 0);
	ck_assert_int_eq(fsc_mkdir(fs, FSC_ROOT_INO, "ns", 0755, &root_cred,
	    &a), -EEXIST);
	for (int i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "x%03d", i);
		ck_assert_int_eq(fsc_create(fs, d.ino, name, 0600,
		    O_WRONLY | O_CREAT | O_EXCL, &root_cred, &a, &f), 0);
		ck_assert_int_eq(fsc_file_close(fs, f), 0);
	}
	ck_assert_int_eq(fsc_create(fs, d.ino, "x001", 0600,
	    O_WRONLY | O_CREAT | O_EXCL, &root_cred, &a, &f), -EEXIST);
	/* Small pages: resume by cookie. */
	while (!eof && pages < 100) {
		ck_assert_int_eq(fsc_readdir(fs, d.ino, &root_cred, cookie,
		    512, live_dirent, &ln, &eof), 0);
		ck_assert_uint_ne(ln.last, cookie);
		cookie = ln.last;
		pages++;
	}
	ck_assert_int_eq(eof, 1);
	ck_assert_int_gt(pages, 1);
	ck_assert_int_eq(ln.n, 42);	/* 40 files, "." and ".." */
	ck_assert_int_eq(ln.seen_x, 1);
	ck_assert_int_eq(ln.seen_dot, 1);

	ck_assert_int_eq(fsc_symlink(fs, d.ino, "ln", "x001/../x002",
	    &root_cred, &a), 0);
	ck_assert_int_eq(fsc_readlink(fs, a.ino, &root_cred, buf,
	    sizeof(buf), &len), 0);
	ck_assert_str_eq(buf, "x001/../x002");
	ck_assert_int_eq(fsc_readlink(fs, a.ino, &root_cred, buf, 4, &len),
	    -ERANGE);

	ck_assert_int_eq(fsc_lookup(fs, d.ino, "x003", &root_cred, &a), 0);
	ck_assert_int_eq(fsc_link(fs, a.ino, d.ino, "hard", &root_cred, &a),
	    0);
	ck_assert_uint_eq(a.nlink, 2);
	ck_assert_int_eq(fsc_rename(fs, d.ino, "hard", FSC_ROOT_INO, "moved",
	    0, &root_cred), 0);
	ck_assert_int_eq(fsc_lookup(fs, FSC_ROOT_INO, "moved", &root_cred,
	    &a), 0);
	ck_assert_int_eq(fsc_rename(fs, d.ino, "nope", FSC_ROOT_INO, "m2", 0,
	    &root_cred), -ENOENT);

	ck_assert_int_eq(fsc_xattr_set(fs, a.ino, "user.k", "v1", 2, 0,
	    &root_cred), 0);
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, "user.k", &root_cred, NULL,
	    0, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, "user.k", &root_cred, buf,
	    sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "v1", 2);
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, "user.k", &root_cred, buf,
	    1, &len), -ERANGE);
	ck_assert_int_eq(fsc_xattr_list(fs, a.ino, &root_cred, buf,
	    sizeof(buf), &len), 0);
	ck_assert_uint_ge(len, 7);
	ck_assert_int_eq(fsc_xattr_remove(fs, a.ino, "user.k", &root_cred), 0);
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, "user.k", &root_cred, buf,
	    sizeof(buf), &len), -ENODATA);
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, FSC_XATTR_LOV, &root_cred,
	    buf, sizeof(buf), &len), 0);
	ck_assert_uint_ge(len, sizeof(struct msg_layout) +
	    sizeof(struct msg_layout_ent));
	ck_assert_int_eq(fsc_xattr_get(fs, a.ino, FSC_XATTR_OSTDF, &root_cred,
	    buf, sizeof(buf) - 1, &len), 0);
	buf[len] = '\0';
	ck_assert_msg(strncmp(buf, "MDT 0 ", 6) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\nOST 0 "));
	ck_assert_ptr_nonnull(strstr(buf, "\nOST 1 "));

	ck_assert_int_eq(fsc_statfs(fs, &st), 0);
	ck_assert_uint_gt(st.bsize, 0);
	ck_assert_uint_eq(st.blocks * st.bsize, 2ull << 30);

	/* Append twice through two handles. */
	ck_assert_int_eq(fsc_create(fs, d.ino, "log", 0644,
	    O_WRONLY | O_CREAT | O_APPEND, &root_cred, &a, &f), 0);
	ck_assert_int_eq(fsc_file_append(fs, f, "hello ", 6, 0, &off), 0);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(fsc_file_append(fs, f, "world", 5, 0, &off), 0);
	ck_assert_uint_eq(off, 6);
	ck_assert_int_eq(fsc_file_fsync(fs, f), 0);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	ck_assert_int_eq(fsc_file_open(fs, a.ino, O_RDONLY, &root_cred, &a,
	    &f), 0);
	ck_assert_uint_eq(a.size, 11);
	ck_assert_int_eq(fsc_file_read(fs, f, buf, sizeof(buf), 0, &done), 0);
	ck_assert_uint_eq(done, 11);
	ck_assert_mem_eq(buf, "hello world", 11);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);

	ck_assert_int_eq(fsc_rmdir(fs, FSC_ROOT_INO, "ns", &root_cred),
	    -ENOTEMPTY);
	fsc_free(fs);
}
END_TEST

/* fsc-3.3: an OSS killed and restarted on the same port: I/O resumes. */
START_TEST(fsc_live_oss_restart_retries)
{
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a;
	char buf[70000], back[70000];
	size_t done;
	int old_port;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_create(fs, FSC_ROOT_INO, "restart", 0644,
	    O_RDWR | O_CREAT, &root_cred, &a, &f), 0);
	memset(buf, 'r', sizeof(buf));
	ck_assert_int_eq(fsc_file_write(fs, f, buf, sizeof(buf), 0, &done), 0);

	old_port = live_oss_port;
	kill(live_oss, SIGKILL);
	if (waitpid(live_oss, NULL, 0) < 0)
		usleep(200000);		/* not our child under CK_FORK */
	ck_assert_int_eq(live_start_oss(old_port), 0);
	ck_assert_int_eq(live_oss_port, old_port);
	ck_assert_int_eq(fsc_file_read(fs, f, back, sizeof(back), 0, &done), 0);
	ck_assert_uint_eq(done, sizeof(back));
	ck_assert_mem_eq(back, buf, sizeof(buf));
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	fsc_free(fs);
}
END_TEST

/* fsc-3.7: the MDS killed and restarted: calls resume, a handle opened
 * before still closes with its size, and the file reads back. */
START_TEST(fsc_live_mds_restart_retries)
{
	struct fsc *fs;
	struct fsc_file *f;
	struct msg_attr a;
	char buf[5000], back[5000];
	size_t done;
	int old_port;

	if (!live_ok)
		return;
	fs = live_open();
	ck_assert_int_eq(fsc_create(fs, FSC_ROOT_INO, "mdsrestart", 0644,
	    O_RDWR | O_CREAT, &root_cred, &a, &f), 0);
	memset(buf, 'm', sizeof(buf));
	ck_assert_int_eq(fsc_file_write(fs, f, buf, sizeof(buf), 0, &done), 0);

	old_port = live_mds_port;
	kill(live_mds, SIGKILL);
	if (waitpid(live_mds, NULL, 0) < 0)
		usleep(200000);
	ck_assert_int_eq(live_start_mds(old_port), 0);
	ck_assert_int_eq(live_mds_port, old_port);

	ck_assert_int_eq(fsc_lookup(fs, FSC_ROOT_INO, "mdsrestart",
	    &root_cred, &a), 0);
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	ck_assert_int_eq(fsc_file_open(fs, a.ino, O_RDONLY, &root_cred, &a,
	    &f), 0);
	ck_assert_uint_eq(a.size, sizeof(buf));
	ck_assert_int_eq(fsc_file_read(fs, f, back, sizeof(back), 0, &done), 0);
	ck_assert_uint_eq(done, sizeof(back));
	ck_assert_mem_eq(back, buf, sizeof(buf));
	ck_assert_int_eq(fsc_file_close(fs, f), 0);
	ck_assert_int_eq(fsc_unlink(fs, FSC_ROOT_INO, "mdsrestart",
	    &root_cred), 0);
	fsc_free(fs);
}
END_TEST

/* fsc-3.4: a wrong secret is EACCES, at once. */
START_TEST(fsc_live_wrong_secret_is_eacces)
{
	struct fsc_conf conf;
	struct fsc *fs;
	int err;

	if (!live_ok)
		return;
	memset(&conf, 0, sizeof(conf));
	conf.mds_host = "127.0.0.1";
	conf.mds_port = live_mds_port;
	memcpy(conf.secret, live_secret, MSG_SECRET_LEN);
	conf.secret[0] ^= 1;
	conf.retry_secs = 2;
	fs = fsc_open(&conf, &err);
	ck_assert_ptr_null(fs);
	ck_assert_int_eq(err, -EACCES);
}
END_TEST

Suite *
fsc_suite(void)
{
	Suite *s = suite_create("fsc");
	TCase *tc = tcase_create("layout");
	TCase *live = tcase_create("live");

	tcase_add_test(tc, fsc_layout_roundtrip_is_identity);
	tcase_add_test(tc, fsc_layout_map_covers_each_byte_once);
	tcase_add_test(tc, fsc_layout_obj_size_sums_to_file_size);
	tcase_add_test(tc, fsc_layout_parse_rejects_bad_bytes);
	tcase_add_test(tc, fsc_spec_parse_accepts_fsx_forms);
	tcase_add_test(tc, fsc_mcache_holds_a_full_session);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(live, live_setup, live_teardown);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, fsc_live_striped_io_roundtrips);
	tcase_add_test(live, fsc_live_namespace_works);
	tcase_add_test(live, fsc_live_readahead_is_coherent);
	tcase_add_test(live, fsc_live_big_stripes_split);
	tcase_add_test(live, fsc_live_write_behind_orders_and_reports);
	tcase_add_test(live, fsc_live_wrong_secret_is_eacces);
	tcase_add_test(live, fsc_live_oss_restart_retries);
	tcase_add_test(live, fsc_live_mds_restart_retries);
	tcase_add_test(live, fsc_hold_waits_for_every_held_call);
	suite_add_tcase(s, live);
	return s;
}
