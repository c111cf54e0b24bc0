/*
 * oss: objects on temporary OSTs through the real server over loopback
 * (msg_srv + oss_dispatch in this process), and the fsx-oss binary itself
 * when $FSX_BIN points at it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"
#include "oss/oss.h"

Suite	*oss_suite(void);

#define CAP_SMALL	(1024 * 1024)	/* OST 1 */
#define CAP_BIG		(1ull << 40)	/* OST 0 */

static const uint8_t sec[MSG_SECRET_LEN] = { 7, 7, 7 };
static char tmpdir[64];
static struct oss *oss;
static struct msg_srv *srv;
static int port;
static int cfd = -1;

/* OSTs 0 and 1 with these capacities (0: what DIR/CAPACITY says). */
static void
start_srv_caps(int fdcache, uint64_t cap0, uint64_t cap1)
{
	struct msg_srv_conf conf;
	char *d0 = xasprintf("%s/ost0", tmpdir), *d1 = xasprintf("%s/ost1",
	    tmpdir);

	oss = oss_new(fdcache);
	ck_assert_ptr_nonnull(oss);
	ck_assert_int_eq(oss_ost_add(oss, 0, d0, cap0), 0);
	ck_assert_int_eq(oss_ost_add(oss, 1, d1, cap1), 0);
	ck_assert_int_eq(oss_ost_add(oss, 1, d1, cap1), -EEXIST);
	free(d0);
	free(d1);
	memset(&conf, 0, sizeof(conf));
	conf.kind = 2;
	conf.nost = 2;
	memcpy(conf.secret, sec, sizeof(sec));
	conf.dispatch = oss_dispatch;
	conf.stats = oss_stats;
	srv = msg_srv_new(&conf, oss);
	ck_assert_ptr_nonnull(srv);
	ck_assert_int_eq(msg_srv_listen(srv, "127.0.0.1", 0, NULL), 0);
	port = msg_srv_port(srv);
	ck_assert_int_eq(msg_srv_start(srv), 0);
	cfd = msg_connect("127.0.0.1", port, sec, NULL);
	ck_assert_int_ge(cfd, 0);
}

static void
start_srv(int fdcache)
{
	start_srv_caps(fdcache, CAP_BIG, CAP_SMALL);
}

static void
stop_srv(void)
{
	if (cfd >= 0)
		close(cfd);
	cfd = -1;
	msg_srv_free(srv);
	srv = NULL;
	oss_free(oss);
	oss = NULL;
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_oss.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	start_srv(0);
}

static void
teardown(void)
{
	stop_srv();
	rm_rf(tmpdir);
}

static int
owrite(int fd, uint32_t ost, uint64_t oid, uint64_t off, const void *buf,
    size_t len, uint32_t flags, struct msg_io_rep *rep)
{
	struct msg_io io = { .ost = ost, .oid = oid, .offset = off,
	    .length = len };
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msg_io_rep r;
	uint32_t rl = 0;
	int rc;

	rc = msg_call(fd, MSG_OP_OST_WRITE, flags, &io, sizeof(io), &iov,
	    len ? 1 : 0, &r, sizeof(r), &rl, NULL, 0, NULL);
	if (rc == 0) {
		ck_assert_uint_eq(rl, sizeof(r));
		if (rep)
			*rep = r;
	}
	return rc;
}

/* Returns bytes read or -errno. */
static int64_t
oread(int fd, uint32_t ost, uint64_t oid, uint64_t off, void *buf,
    size_t len)
{
	struct msg_io io = { .ost = ost, .oid = oid, .offset = off,
	    .length = len };
	struct msg_io_rep r;
	uint32_t rl = 0, bl = 0;
	int rc;

	rc = msg_call(fd, MSG_OP_OST_READ, 0, &io, sizeof(io), NULL, 0, &r,
	    sizeof(r), &rl, buf, (uint32_t)len, &bl);
	if (rc < 0)
		return rc;
	ck_assert_uint_eq(r.length, bl);
	return bl;
}

static int
oobj(int fd, uint16_t op, uint32_t ost, uint64_t oid, void *rep,
    uint32_t repcap)
{
	struct msg_obj ob = { .ost = ost, .oid = oid };
	uint32_t rl = 0;

	return msg_call(fd, op, 0, &ob, sizeof(ob), NULL, 0, rep, repcap, &rl,
	    NULL, 0, NULL);
}

static int
opunch(int fd, uint32_t ost, uint64_t oid, uint64_t size)
{
	struct msg_io io = { .ost = ost, .oid = oid, .offset = size };
	struct msg_io_rep r;

	return msg_call(fd, MSG_OP_OST_PUNCH, 0, &io, sizeof(io), NULL, 0, &r,
	    sizeof(r), NULL, NULL, 0, NULL);
}

START_TEST(oss_write_read_round_trip)
{
	size_t n = 1 << 20;
	uint8_t *a = malloc(n), *b = malloc(n + 100);
	struct msg_io_rep rep;
	struct msg_obj_attr at;

	ck_assert_int_eq(rand_bytes(a, n), 0);
	ck_assert_int_eq(owrite(cfd, 0, 1000, 0, a, n, 0, &rep), 0);
	ck_assert_uint_eq(rep.length, n);
	ck_assert_uint_eq(rep.obj_size, n);
	ck_assert_int_eq(oread(cfd, 0, 1000, 0, b, n), (int64_t)n);
	ck_assert_int_eq(memcmp(a, b, n), 0);
	/* short at EOF, empty past it */
	ck_assert_int_eq(oread(cfd, 0, 1000, n - 10, b, 100), 10);
	ck_assert_int_eq(memcmp(a + n - 10, b, 10), 0);
	ck_assert_int_eq(oread(cfd, 0, 1000, n + 5, b, 100), 0);
	/* overwrite in the middle, durable */
	ck_assert_int_eq(owrite(cfd, 0, 1000, 4096, "xyz", 3, MSG_F_SYNC,
	    &rep), 0);
	ck_assert_int_eq(oread(cfd, 0, 1000, 4095, b, 5), 5);
	ck_assert_int_eq(memcmp(b + 1, "xyz", 3), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 1000, &at,
	    sizeof(at)), 0);
	ck_assert_uint_eq(at.size, n);
	ck_assert_uint_ge(at.blocks * 512, n);
	ck_assert_int_gt(at.mtime_sec, 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_SYNC, 0, 1000, NULL, 0), 0);
	free(a);
	free(b);
}
END_TEST

START_TEST(oss_object_file_layout)
{
	char *p = xasprintf("%s/ost0/O/%02x/%u", tmpdir, 4242 % 256, 4242);
	struct stat st;

	ck_assert_int_eq(owrite(cfd, 0, 4242, 0, "abc", 3, 0, NULL), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 3);
	free(p);
}
END_TEST

/*
 * OST_LOCAL (msg.h): the directory named is this OST's object directory
 * (same device and inode, under the name msg_obj_name gives, the object
 * written over the wire is there), with this kernel's boot id and network
 * namespace; an unknown OST is -ENODEV.
 */
START_TEST(oss_local_names_the_object_directory)
{
	char path[4096], boot[MSG_BOOT_ID_LEN], name[MSG_OBJ_NAME_MAX];
	char *want = xasprintf("%s/ost1/O", tmpdir), *rp = realpath(want, NULL);
	struct msg_obj ob = { .ost = 1 };
	struct msg_ost_local rep;
	uint32_t rl = 0, bl = 0;
	uint64_t netns;
	struct stat st;
	char buf[8];
	int dfd, fd;

	ck_assert_ptr_nonnull(rp);
	ck_assert_int_eq(owrite(cfd, 1, 300, 0, "local", 5, 0, NULL), 0);
	ck_assert_int_eq(msg_call(cfd, MSG_OP_OST_LOCAL, 0, &ob, sizeof(ob),
	    NULL, 0, &rep, sizeof(rep), &rl, path, sizeof(path), &bl), 0);
	ck_assert_uint_eq(rl, sizeof(rep));
	ck_assert_uint_eq(bl, strlen(rp) + 1);
	ck_assert_str_eq(path, rp);
	ck_assert_int_eq(msg_boot_id(boot, &netns), 0);
	ck_assert_str_eq(rep.boot_id, boot);
	ck_assert_uint_eq(rep.netns, netns);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(fstat(dfd, &st), 0);
	ck_assert_uint_eq(rep.dev, (uint64_t)st.st_dev);
	ck_assert_uint_eq(rep.ino, (uint64_t)st.st_ino);
	fd = openat(dfd, msg_obj_name(name, 300), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 5);
	ck_assert_int_eq(memcmp(buf, "local", 5), 0);
	close(fd);
	close(dfd);
	ck_assert_str_eq(msg_obj_name(name, 0x1ff), "ff/511");
	ob.ost = 9;
	ck_assert_int_eq(msg_call(cfd, MSG_OP_OST_LOCAL, 0, &ob, sizeof(ob),
	    NULL, 0, &rep, sizeof(rep), &rl, path, sizeof(path), &bl),
	    -ENODEV);
	free(rp);
	free(want);
}
END_TEST

START_TEST(oss_missing_objects_read_as_holes)
{
	uint8_t buf[8192];
	struct msg_obj_attr at;

	ck_assert_int_eq(oread(cfd, 0, 77, 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 77, &at,
	    sizeof(at)), -ENOENT);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_SYNC, 0, 77, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_DESTROY, 0, 77, NULL, 0), 0);
	/* a write past the start leaves a hole that reads as zeros */
	ck_assert_int_eq(owrite(cfd, 0, 78, 8192, "z", 1, 0, NULL), 0);
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(oread(cfd, 0, 78, 0, buf, 4096), 4096);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(buf[i], 0);
}
END_TEST

START_TEST(oss_create_punch_destroy)
{
	struct msg_obj_attr at;
	uint8_t buf[256] = { 0 };
	uint64_t used0, objs0, used1, objs1;

	ck_assert_int_eq(oss_ost_usage(oss, 0, &used0, &objs0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_CREATE, 0, 5, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_CREATE, 0, 5, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 5, &at,
	    sizeof(at)), 0);
	ck_assert_uint_eq(at.size, 0);
	ck_assert_int_eq(owrite(cfd, 0, 5, 0, buf, sizeof(buf), 0, NULL), 0);
	ck_assert_int_eq(owrite(cfd, 0, 5, 65536, buf, sizeof(buf), 0, NULL),
	    0);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used1, &objs1), 0);
	ck_assert_uint_eq(objs1, objs0 + 1);
	ck_assert_uint_ge(used1, used0 + 8192);

	ck_assert_int_eq(opunch(cfd, 0, 5, 100), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 5, &at,
	    sizeof(at)), 0);
	ck_assert_uint_eq(at.size, 100);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used1, NULL), 0);
	ck_assert_uint_le(used1, used0 + 4096);

	/* punch on a missing object: 0 keeps it missing, > 0 makes it */
	ck_assert_int_eq(opunch(cfd, 0, 6, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 6, &at,
	    sizeof(at)), -ENOENT);
	ck_assert_int_eq(opunch(cfd, 0, 6, 12345), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 6, &at,
	    sizeof(at)), 0);
	ck_assert_uint_eq(at.size, 12345);

	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_DESTROY, 0, 5, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_DESTROY, 0, 5, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_DESTROY, 0, 6, NULL, 0), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_GETATTR, 0, 5, &at,
	    sizeof(at)), -ENOENT);
	ck_assert_int_eq(oread(cfd, 0, 5, 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used1, &objs1), 0);
	ck_assert_uint_eq(used1, used0);
	ck_assert_uint_eq(objs1, objs0);
}
END_TEST

START_TEST(oss_statfs_and_enospc)
{
	struct msg_statfs sf;
	size_t n = 512 * 1024;
	uint8_t *buf = calloc(1, 1024 * 1024);

	memset(buf, 'q', 1024 * 1024);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 1, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.bsize, 4096);
	ck_assert_uint_eq(sf.blocks, CAP_SMALL / 4096);
	ck_assert_uint_eq(sf.bfree, CAP_SMALL / 4096);
	ck_assert_uint_eq(sf.files, 0);

	ck_assert_int_eq(owrite(cfd, 1, 1, 0, buf, n, 0, NULL), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 1, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.files, 1);
	ck_assert_uint_le(sf.bfree, (CAP_SMALL - n) / 4096);
	/* does not fit */
	ck_assert_int_eq(owrite(cfd, 1, 2, 0, buf, 768 * 1024, 0, NULL),
	    -ENOSPC);
	/* an overwrite of allocated space still works */
	ck_assert_int_eq(owrite(cfd, 1, 1, 0, buf, n, 0, NULL), 0);
	/* freeing space makes room again */
	ck_assert_int_eq(opunch(cfd, 1, 1, 0), 0);
	ck_assert_int_eq(owrite(cfd, 1, 2, 0, buf, 768 * 1024, 0, NULL), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 1, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.files, 2);
	/* the big OST is unaffected */
	ck_assert_int_eq(owrite(cfd, 0, 2, 0, buf, 1024 * 1024, 0, NULL), 0);
	free(buf);
}
END_TEST

static int
setcap(int fd, uint32_t ost, uint64_t cap)
{
	struct msg_ost_cap oc = { .ost = ost, .capacity_bytes = cap };

	return msg_call(fd, MSG_OP_OST_SETCAP, 0, &oc, sizeof(oc), NULL, 0,
	    NULL, 0, NULL, NULL, 0, NULL);
}

/* SETCAP lowers (or raises) the quota at once, statfs reports it, and
 * DIR/CAPACITY keeps it for the next start; only after HELLO. */
START_TEST(oss_setcap_enforced_and_kept)
{
	struct msg_statfs sf;
	struct msg_hdr h;
	struct msg_ost_cap oc = { .ost = 0, .capacity_bytes = 4096 };
	uint8_t *buf = calloc(1, 256 * 1024);
	char *path = xasprintf("%s/ost0/CAPACITY", tmpdir), *txt = NULL;
	uint64_t used;
	int raw;

	ck_assert_int_eq(owrite(cfd, 0, 1, 0, buf, 128 * 1024, 0, NULL), 0);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used, NULL), 0);
	/* lower it to what is used plus 64 KiB */
	ck_assert_int_eq(setcap(cfd, 0, used + 65536), 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 0, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.blocks, (used + 65536) / 4096);
	ck_assert_uint_eq(sf.bfree, 65536 / 4096);
	ck_assert_int_eq(owrite(cfd, 0, 2, 0, buf, 128 * 1024, 0, NULL),
	    -ENOSPC);
	ck_assert_int_eq(owrite(cfd, 0, 2, 0, buf, 32 * 1024, 0, NULL), 0);
	ck_assert_int_eq(file_read_all(path, &txt, NULL, 64), 0);
	ck_assert_uint_eq(strtoull(txt, NULL, 10), used + 65536);
	free(txt);
	/* refused: unknown OST, zero bytes */
	ck_assert_int_eq(setcap(cfd, 9, 1 << 20), -ENODEV);
	ck_assert_int_eq(setcap(cfd, 0, 0), -EINVAL);
	/* before HELLO it is a protocol error and changes nothing */
	raw = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)port),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		ck_assert_int_eq(connect(raw, (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
	}
	ck_assert_int_eq(msg_send(raw, MSG_OP_OST_SETCAP, 0, 1, 0, &oc,
	    sizeof(oc), NULL, 0), 0);
	ck_assert_int_eq(msg_recv_hdr(raw, &h), 0);
	ck_assert_int_eq(h.status, -EPROTO);
	close(raw);
	/* a restart without a capacity takes the stored one */
	stop_srv();
	start_srv_caps(0, 0, 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 0, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.blocks, (used + 65536) / 4096);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 1, 0, &sf, sizeof(sf)),
	    0);
	ck_assert_uint_eq(sf.blocks, CAP_SMALL / 4096);
	ck_assert_int_eq(owrite(cfd, 0, 3, 0, buf, 128 * 1024, 0, NULL),
	    -ENOSPC);
	/* raising it makes room */
	ck_assert_int_eq(setcap(cfd, 0, CAP_BIG), 0);
	ck_assert_int_eq(owrite(cfd, 0, 3, 0, buf, 128 * 1024, 0, NULL), 0);
	free(path);
	free(buf);
}
END_TEST

START_TEST(oss_bad_requests_fail_cleanly)
{
	struct msg_io io = { .ost = 0, .oid = 1, .offset = 0, .length = 10 };
	struct iovec iov = { "abc", 3 };
	uint8_t buf[16];

	/* unknown OST */
	ck_assert_int_eq(oread(cfd, 9, 1, 0, buf, sizeof(buf)), -ENODEV);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_STATFS, 9, 0, NULL, 0),
	    -ENODEV);
	/* length disagrees with the bulk */
	ck_assert_int_eq(msg_call(cfd, MSG_OP_OST_WRITE, 0, &io, sizeof(io),
	    &iov, 1, NULL, 0, NULL, NULL, 0, NULL), -EINVAL);
	/* read larger than a frame */
	io.length = MSG_BULK_MAX + 1;
	ck_assert_int_eq(msg_call(cfd, MSG_OP_OST_READ, 0, &io, sizeof(io),
	    NULL, 0, NULL, 0, NULL, NULL, 0, NULL), -EINVAL);
	/* offset overflow */
	ck_assert_int_eq(owrite(cfd, 0, 1, UINT64_MAX - 1, "ab", 2, 0, NULL),
	    -EFBIG);
	/* an MDS opcode */
	ck_assert_int_eq(msg_call(cfd, MSG_OP_MDS_STATFS, 0, NULL, 0, NULL, 0,
	    NULL, 0, NULL, NULL, 0, NULL), -EOPNOTSUPP);
	/* the connection is still fine */
	ck_assert_int_eq(owrite(cfd, 0, 1, 0, "abc", 3, 0, NULL), 0);
}
END_TEST

START_TEST(oss_restart_rescans_usage)
{
	uint8_t buf[10000];
	uint64_t used, objs, used2, objs2;

	memset(buf, 3, sizeof(buf));
	for (uint64_t oid = 1; oid <= 20; oid++)
		ck_assert_int_eq(owrite(cfd, 0, oid * 37, 0, buf, sizeof(buf),
		    0, NULL), 0);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used, &objs), 0);
	ck_assert_uint_eq(objs, 20);
	stop_srv();
	start_srv(0);
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used2, &objs2), 0);
	ck_assert_uint_eq(objs2, 20);
	ck_assert_uint_eq(used2, used);
	ck_assert_int_eq(oread(cfd, 0, 37, 0, buf, sizeof(buf)), 10000);
}
END_TEST

static uint64_t
stat_of(const char *key)
{
	char buf[2048], *p;
	size_t n = oss_stats(oss, buf, sizeof(buf) - 1);

	buf[n] = '\0';
	p = strstr(buf, key);
	ck_assert_ptr_nonnull(p);
	return strtoull(p + strlen(key) + 1, NULL, 10);
}

/* Large aligned transfers (O_DIRECT) and ragged ones (page cache) on one
 * object give one consistent picture, also across the end of file. */
static void
mixed_io(void)
{
	size_t big = 512 * 1024, n = 2 * big + 1000;
	uint8_t *want = malloc(n), *got = malloc(big);

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	for (size_t i = 0; i < n; i++)
		want[i] = (uint8_t)(i * 7 + i / 4096);
	ck_assert_int_eq(owrite(cfd, 0, 5, 0, want, 2 * big, 0, NULL), 0);
	/* ragged: inside the direct range, then a tail past it */
	memset(want + 4097, 0xab, 3000);
	ck_assert_int_eq(owrite(cfd, 0, 5, 4097, want + 4097, 3000, 0, NULL),
	    0);
	ck_assert_int_eq(owrite(cfd, 0, 5, 2 * big, want + 2 * big, 1000, 0,
	    NULL), 0);
	for (size_t off = 0; off < n; off += big) {
		size_t len = n - off < big ? n - off : big;

		/* aligned request; the last one runs past end of file */
		ck_assert_int_eq(oread(cfd, 0, 5, off, got, big),
		    (int64_t)len);
		ck_assert_mem_eq(got, want + off, len);
	}
	free(want);
	free(got);
}

/* Does the file system under tmpdir take O_DIRECT? */
static int
direct_ok(void)
{
	char *p = xasprintf("%s/direct-probe", tmpdir);
	int fd = open(p, O_CREAT | O_RDWR | O_DIRECT, 0600);

	if (fd >= 0)
		close(fd);
	unlink(p);
	free(p);
	return fd >= 0;
}

START_TEST(oss_direct_and_cached_io_agree)
{
	uint64_t before = stat_of("oss_direct_io");

	mixed_io();
	if (direct_ok())
		ck_assert_uint_gt(stat_of("oss_direct_io"), before);
	/* the same with every transfer cached */
	stop_srv();
	start_srv(0);
	oss_set_direct(oss, 0);
	ck_assert_int_eq(oobj(cfd, MSG_OP_OST_DESTROY, 0, 5, NULL, 0), 0);
	mixed_io();
	ck_assert_uint_eq(stat_of("oss_direct_io"), 0);
}
END_TEST

START_TEST(oss_fd_cache_stays_bounded)
{
	uint8_t buf[64];

	stop_srv();
	start_srv(16);
	for (uint64_t oid = 1; oid <= 200; oid++) {
		memset(buf, (int)oid, sizeof(buf));
		ck_assert_int_eq(owrite(cfd, 0, oid, 0, buf, sizeof(buf), 0,
		    NULL), 0);
	}
	ck_assert_int_le(oss_open_objects(oss), 16);
	for (uint64_t oid = 1; oid <= 200; oid++) {
		ck_assert_int_eq(oread(cfd, 0, oid, 0, buf, sizeof(buf)), 64);
		ck_assert_uint_eq(buf[63], (uint8_t)oid);
	}
	ck_assert_int_le(oss_open_objects(oss), 16);
}
END_TEST

struct worker {
	int		id;
	int		fails;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[4096], rb[4096];
	int fd = msg_connect("127.0.0.1", port, sec, NULL);

	if (fd < 0) {
		w->fails++;
		return NULL;
	}
	for (int i = 0; i < 200; i++) {
		uint64_t oid = 1 + (uint64_t)(i % 40);	/* shared objects */
		uint64_t off = (uint64_t)w->id * 4096;

		memset(buf, w->id * 31 + i, sizeof(buf));
		if (owrite(fd, 0, oid, off, buf, sizeof(buf), 0, NULL) != 0)
			w->fails++;
		if (oread(fd, 0, oid, off, rb, sizeof(rb)) != 4096 ||
		    memcmp(buf, rb, sizeof(rb)) != 0)
			w->fails++;
		if (i % 50 == 49 &&
		    oobj(fd, MSG_OP_OST_DESTROY, 0, 1000 + oid, NULL, 0) != 0)
			w->fails++;
	}
	close(fd);
	return NULL;
}

START_TEST(oss_concurrent_clients_small_cache)
{
	pthread_t th[4];
	struct worker w[4];
	uint64_t used, objs;

	stop_srv();
	start_srv(16);
	for (int i = 0; i < 4; i++) {
		w[i].id = i;
		w[i].fails = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].fails, 0);
	}
	ck_assert_int_eq(oss_ost_usage(oss, 0, &used, &objs), 0);
	ck_assert_uint_eq(objs, 40);
	ck_assert_uint_ge(used, 40 * 4 * 4096);
}
END_TEST

static void *
filler_main(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(65536);
	int fd = msg_connect("127.0.0.1", port, sec, NULL), rc = 0;

	memset(buf, 1, 65536);
	for (uint64_t off = 0; fd >= 0 && rc == 0; off += 65536) {
		rc = owrite(fd, 1, 500 + (uint64_t)w->id, off, buf, 65536, 0,
		    NULL);
		if (rc == 0)
			w->fails++;	/* counts admitted writes here */
	}
	if (rc != -ENOSPC)
		w->id = -1;
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Concurrent writers on a full OST: together they never exceed it. */
START_TEST(oss_concurrent_writers_respect_capacity)
{
	pthread_t th[4];
	struct worker w[4];
	uint64_t used;
	int admitted = 0;

	for (int i = 0; i < 4; i++) {
		w[i].id = i;
		w[i].fails = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, filler_main,
		    &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_ge(w[i].id, 0);
		admitted += w[i].fails;
	}
	ck_assert_int_eq(oss_ost_usage(oss, 1, &used, NULL), 0);
	ck_assert_uint_le(used, CAP_SMALL);
	/* exactly 16 on ext4; allow for file systems that allocate ahead */
	ck_assert_int_le(admitted, CAP_SMALL / 65536);
	ck_assert_int_ge(admitted, CAP_SMALL / 65536 / 2);
}
END_TEST

/* The real binary: port file, pid file, I/O, SIGTERM. */
START_TEST(oss_binary_serves_and_exits_on_sigterm)
{
	const char *bin = getenv("FSX_BIN");
	char *exe, *pf, *pidf, *sf, *ost, *txt = NULL;
	char hexs[2 * MSG_SECRET_LEN + 2];
	uint8_t buf[16];
	pid_t pid;
	int st, fd, p = 0;

	if (bin == NULL)
		bin = "build/bin";
	exe = xasprintf("%s/fsx-oss", bin);
	if (access(exe, X_OK) != 0) {
		/* not built in this tree yet: nothing to run */
		free(exe);
		return;
	}
	pf = xasprintf("%s/port", tmpdir);
	pidf = xasprintf("%s/pid", tmpdir);
	sf = xasprintf("%s/secret", tmpdir);
	ost = xasprintf("3:%s/bin-ost3:%llu", tmpdir, 1ull << 30);
	hex_encode(sec, MSG_SECRET_LEN, hexs);
	strcat(hexs, "\n");
	ck_assert_int_eq(file_write_atomic(sf, hexs, strlen(hexs)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(exe, "fsx-oss", "--listen", "127.0.0.1:0", "--port-file",
		    pf, "--secret-file", sf, "--ost", ost, "--pid-file", pidf,
		    "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && p == 0; i++) {
		if (file_read_all(pf, &txt, NULL, 64) == 0) {
			p = atoi(txt);
			free(txt);
		} else
			usleep(2000);
	}
	ck_assert_int_gt(p, 0);
	ck_assert_int_eq(access(pidf, F_OK), 0);
	fd = msg_connect("127.0.0.1", p, sec, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(owrite(fd, 3, 9, 0, "hello", 5, 0, NULL), 0);
	ck_assert_int_eq(oread(fd, 3, 9, 0, buf, sizeof(buf)), 5);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_ne(access(pidf, F_OK), 0);
	close(fd);
	free(exe);
	free(pf);
	free(pidf);
	free(sf);
	free(ost);
}
END_TEST

START_TEST(oss_ost_parse_specs)
{
	char dir[64];
	uint32_t idx;
	uint64_t cap;

	ck_assert_int_eq(oss_ost_parse("2:/a:b/c:1000", &idx, dir,
	    sizeof(dir), &cap), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_str_eq(dir, "/a:b/c");
	ck_assert_uint_eq(cap, 1000);
	ck_assert_int_eq(oss_ost_parse("x:/a:1", &idx, dir, sizeof(dir),
	    &cap), -EINVAL);
	ck_assert_int_eq(oss_ost_parse("1:/a", &idx, dir, sizeof(dir),
	    &cap), 0);
	ck_assert_str_eq(dir, "/a");
	ck_assert_uint_eq(cap, 0);
	ck_assert_int_eq(oss_ost_parse("1:/a:b/c", &idx, dir, sizeof(dir),
	    &cap), 0);
	ck_assert_str_eq(dir, "/a:b/c");
	ck_assert_uint_eq(cap, 0);
	ck_assert_int_eq(oss_ost_parse("1:", &idx, dir, sizeof(dir),
	    &cap), -EINVAL);
	ck_assert_int_eq(oss_ost_parse("1::5", &idx, dir, sizeof(dir),
	    &cap), -EINVAL);
	ck_assert_int_eq(oss_ost_parse("1:/a:-5", &idx, dir, sizeof(dir),
	    &cap), -EINVAL);
	ck_assert_int_eq(oss_ost_parse("1:/a:5x", &idx, dir, sizeof(dir),
	    &cap), -EINVAL);
}
END_TEST

Suite *
oss_suite(void)
{
	Suite *s = suite_create("oss");
	TCase *tc = tcase_create("objects");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, oss_write_read_round_trip);
	tcase_add_test(tc, oss_object_file_layout);
	tcase_add_test(tc, oss_local_names_the_object_directory);
	tcase_add_test(tc, oss_missing_objects_read_as_holes);
	tcase_add_test(tc, oss_create_punch_destroy);
	tcase_add_test(tc, oss_statfs_and_enospc);
	tcase_add_test(tc, oss_setcap_enforced_and_kept);
	tcase_add_test(tc, oss_bad_requests_fail_cleanly);
	tcase_add_test(tc, oss_restart_rescans_usage);
	tcase_add_test(tc, oss_fd_cache_stays_bounded);
	tcase_add_test(tc, oss_direct_and_cached_io_agree);
	tcase_add_test(tc, oss_concurrent_clients_small_cache);
	tcase_add_test(tc, oss_concurrent_writers_respect_capacity);
	tcase_add_test(tc, oss_binary_serves_and_exits_on_sigterm);
	tcase_add_test(tc, oss_ost_parse_specs);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}
