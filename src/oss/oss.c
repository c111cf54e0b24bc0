/*
 * The object storage server's request handlers and OST space accounting
 * (see oss.h for the opcode semantics).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/util.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"
#include "oss/oss.h"
#include "oss/oss_snap.h"

#define OSS_BSIZE	4096
#define OSS_OFF_MAX	((uint64_t)1 << 50)	/* 1 PiB per object */
#define OSS_CAP_FILE	"CAPACITY"	/* DIR/CAPACITY: decimal bytes */

struct oss_ost {
	uint32_t		 idx;
	char			*dir;
	char			*oabs;		/* DIR/O resolved, or NULL */
	int			 odirfd;	/* DIR/O */
	_Atomic uint64_t	 capacity;	/* see ost_cap_* */
	_Atomic uint64_t	 used;		/* allocated bytes */
	_Atomic uint64_t	 objects;
};

struct oss {
	struct oss_obj_cache	*oc;
	struct oss_ost		*ost[OSS_OST_MAX];
	int			 nost;
	_Atomic uint64_t	 n_read, n_write, n_punch, n_destroy;
	_Atomic uint64_t	 n_create, n_sync, n_getattr, n_statfs;
	_Atomic uint64_t	 n_local;	/* OST_LOCAL answered */
	char			 boot_id[MSG_BOOT_ID_LEN];	/* or zeros */
	uint64_t		 netns;
	_Atomic uint64_t	 read_bytes, write_bytes, n_enospc;
	_Atomic uint64_t	 n_direct;	/* transfers that used O_DIRECT */
	int			 direct;	/* large aligned I/O bypasses cache */
	pthread_mutex_t		 caplock;	/* orders SETCAPs and their files */
	struct oss_snap		*snap;		/* backups' barrier (oss_snap.h) */
};

struct oss *
oss_new(int fdcache)
{
	struct oss *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->oc = oss_obj_cache_new(fdcache);
	o->snap = oss_snap_new();
	if (o->oc == NULL || o->snap == NULL) {
		oss_obj_cache_free(o->oc);
		oss_snap_free(o->snap);
		free(o);
		return NULL;
	}
	o->direct = 1;
	(void)msg_boot_id(o->boot_id, &o->netns);
	pthread_mutex_init(&o->caplock, NULL);
	return o;
}

void
oss_set_direct(struct oss *o, int on)
{
	o->direct = on;
}

/*
 * The descriptor for a transfer of `len` bytes at `off` from or to `buf`.
 * A large transfer whose offset, length and buffer are all block aligned
 * goes O_DIRECT: the bytes move between the wire buffer and the disk
 * without filling page cache that the client's own cache already holds
 * (Lustre's OSS does the same for bulk I/O). On this machine, filling fresh
 * page cache costs more than the disk write itself. Linux keeps direct I/O
 * coherent with cached pages of the same file (flushes and invalidates the
 * range), so small and ragged transfers stay buffered beside it.
 */
static int
obj_io_fd(struct oss *o, struct oss_obj *ob, const void *buf, uint64_t off,
    uint64_t len)
{
	int fd;

	if (!o->direct || len < OSS_DIO_MIN ||
	    ((off | len | (uintptr_t)buf) & (OSS_DIO_ALIGN - 1)) != 0)
		return oss_obj_fd(ob);
	fd = oss_obj_dfd(ob);
	if (fd < 0)
		return oss_obj_fd(ob);
	atomic_fetch_add(&o->n_direct, 1);
	return fd;
}

/*
 * Move `len` bytes between `buf` and the object at `off` (to the object
 * when `wr`) on obj_io_fd's descriptor, falling back to the cached one
 * where O_DIRECT is refused (EINVAL: no O_DIRECT on this file system, or a
 * short transfer left the rest misaligned). A read stops at end of file.
 * *done: bytes moved. 0 or -errno.
 */
static int
obj_xfer(struct oss *o, struct oss_obj *ob, int wr, void *buf, uint64_t len,
    uint64_t off, uint64_t *done)
{
	int fd = obj_io_fd(o, ob, buf, off, len);
	uint8_t *p = buf;
	ssize_t r;

	*done = 0;
	while (*done < len) {
		if (wr)
			r = FP_CALL("oss.pwrite", pwrite(fd, p + *done,
			    len - *done, (off_t)(off + *done)));
		else
			r = FP_SHORT("oss.pread.short", FP_CALL("oss.pread",
			    pread(fd, p + *done, len - *done, (off_t)(off + *done))));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EINVAL && fd != oss_obj_fd(ob)) {
				fd = oss_obj_fd(ob);
				continue;
			}
			return -errno;
		}
		if (r == 0)
			break;
		*done += (uint64_t)r;
	}
	return 0;
}

void
oss_free(struct oss *o)
{
	if (o == NULL)
		return;
	oss_obj_cache_free(o->oc);
	for (int i = 0; i < o->nost; i++) {
		close(o->ost[i]->odirfd);
		free(o->ost[i]->dir);
		free(o->ost[i]->oabs);
		free(o->ost[i]);
	}
	pthread_mutex_destroy(&o->caplock);
	oss_snap_free(o->snap);
	free(o);
}

int
oss_nost(const struct oss *o)
{
	return o->nost;
}

static struct oss_ost *
ost_find(struct oss *o, uint32_t idx)
{
	for (int i = 0; i < o->nost; i++)
		if (o->ost[i]->idx == idx)
			return o->ost[i];
	return NULL;
}

int
oss_ost_parse(const char *spec, uint32_t *idx, char *dir, size_t dircap,
    uint64_t *capacity)
{
	const char *c1 = strchr(spec, ':'), *c2 = strrchr(spec, ':');
	const char *dend;
	unsigned long long v;
	char *end;
	size_t n;

	if (c1 == NULL || c1 == spec)
		return -EINVAL;
	errno = 0;
	v = strtoull(spec, &end, 10);
	if (errno != 0 || end != c1 || v > UINT32_MAX || spec[0] == '-')
		return -EINVAL;
	*idx = (uint32_t)v;
	*capacity = 0;
	dend = spec + strlen(spec);
	/* a last ":..." that starts like a number is the capacity */
	if (c2 != c1 && (c2[1] == '-' || (c2[1] >= '0' && c2[1] <= '9'))) {
		errno = 0;
		if (c2[1] == '-')
			return -EINVAL;
		v = strtoull(c2 + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v == 0)
			return -EINVAL;
		*capacity = v;
		dend = c2;
	}
	n = (size_t)(dend - c1 - 1);
	if (n == 0 || n >= dircap)
		return -EINVAL;
	memcpy(dir, c1 + 1, n);
	dir[n] = '\0';
	return 0;
}

/*
 * Capacity: what SETCAP (or --ost IDX:DIR:CAP) last said, kept in
 * DIR/CAPACITY (written atomically, by this process alone, under
 * o->caplock). An OST never told its capacity is limited by the file
 * system it lives on (statvfs), until it is told.
 */
static int
ost_cap_read(const char *dir, uint64_t *cap)
{
	char *path = xasprintf("%s/%s", dir, OSS_CAP_FILE), *txt = NULL, *end;
	unsigned long long v;
	int rc;

	rc = file_read_all(path, &txt, NULL, 64);
	if (rc < 0)
		goto out;
	errno = 0;
	v = strtoull(txt, &end, 10);
	if (errno != 0 || end == txt || (*end != '\n' && *end != '\0') ||
	    v == 0 || txt[0] == '-') {
		log_warn("%s: %s: not a capacity, ignored", __func__, path);
		rc = -EINVAL;
		goto out;
	}
	*cap = v;
out:
	free(txt);
	free(path);
	return rc;
}

static int
ost_cap_write(const char *dir, uint64_t cap)
{
	char *path = xasprintf("%s/%s", dir, OSS_CAP_FILE), txt[32];
	int n = snprintf(txt, sizeof(txt), "%llu\n", (unsigned long long)cap);
	int rc;

	rc = file_write_atomic(path, txt, (size_t)n);
	if (rc < 0)
		log_err("%s: %s: %s", __func__, path, strerror(-rc));
	free(path);
	return rc;
}

/* The capacity an OST starts with: given, else stored, else its disk's. */
static int
ost_cap_initial(const char *dir, uint64_t given, uint64_t *cap)
{
	struct statvfs sv;
	int rc;

	if (given > 0) {
		uint64_t old = 0;

		*cap = given;
		if (ost_cap_read(dir, &old) == 0 && old == given)
			return 0;
		return ost_cap_write(dir, given);
	}
	rc = ost_cap_read(dir, cap);
	if (rc == 0)
		return 0;
	if (statvfs(dir, &sv) < 0)
		return -errno;
	*cap = (uint64_t)sv.f_blocks * sv.f_frsize;
	log_warn("%s: %s: no capacity set yet; the file system's %llu bytes "
	    "until OST_SETCAP", __func__, dir, (unsigned long long)*cap);
	return 0;
}

int
oss_ost_setcap(struct oss *o, uint32_t idx, uint64_t capacity)
{
	struct oss_ost *t = ost_find(o, idx);
	int rc;

	if (t == NULL)
		return -ENODEV;
	if (capacity == 0)
		return -EINVAL;
	pthread_mutex_lock(&o->caplock);
	rc = ost_cap_write(t->dir, capacity);
	if (rc == 0)
		t->capacity = capacity;
	pthread_mutex_unlock(&o->caplock);
	if (rc == 0)
		log_info("%s: ost %u capacity %llu", __func__, idx,
		    (unsigned long long)capacity);
	return rc;
}

/* Sum the allocated bytes and count the objects under DIR/O. */
static int
ost_scan(struct oss_ost *t)
{
	uint64_t used = 0, objects = 0;

	for (int i = 0; i < 256; i++) {
		char sub[4];
		struct dirent *de;
		DIR *d;
		int dfd;

		snprintf(sub, sizeof(sub), "%02x", i);
		dfd = openat(t->odirfd, sub, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (dfd < 0 && errno == ENOENT)
			continue;	/* made on first use */
		if (dfd < 0)
			return -errno;
		d = fdopendir(dfd);
		if (d == NULL) {
			int rc = -errno;

			close(dfd);
			return rc;
		}
		for (de = readdir(d); de != NULL; de = readdir(d)) {
			struct stat st;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			if (fstatat(dfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
				continue;
			used += (uint64_t)st.st_blocks * 512;
			objects++;
		}
		closedir(d);
	}
	t->used = used;
	t->objects = objects;
	return 0;
}

int
oss_ost_add(struct oss *o, uint32_t idx, const char *dir, uint64_t capacity)
{
	struct oss_ost *t;
	char *odir;
	int rc;

	if (ost_find(o, idx) != NULL)
		return -EEXIST;
	if (o->nost >= OSS_OST_MAX)
		return -E2BIG;
	odir = xasprintf("%s/O", dir);
	rc = mkdir_p(odir, 0700);
	if (rc < 0) {
		free(odir);
		return rc;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		free(odir);
		return -ENOMEM;
	}
	t->idx = idx;
	t->dir = xstrdup(dir);
	t->odirfd = open(odir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->oabs = realpath(odir, NULL);	/* NULL: no local reads */
	free(odir);
	if (t->odirfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = ost_cap_initial(dir, capacity, &capacity);
	if (rc < 0)
		goto fail;
	t->capacity = capacity;
	rc = ost_scan(t);
	if (rc < 0)
		goto fail;
	o->ost[o->nost++] = t;
	log_info("%s: ost %u at %s: %" PRIu64 " objects, %" PRIu64
	    " of %" PRIu64 " bytes used", __func__, idx, dir,
	    (uint64_t)t->objects, (uint64_t)t->used, capacity);
	return 0;
fail:
	if (t->odirfd >= 0)
		close(t->odirfd);
	free(t->dir);
	free(t->oabs);
	free(t);
	return rc;
}

int
oss_ost_usage(struct oss *o, uint32_t idx, uint64_t *used, uint64_t *objects)
{
	struct oss_ost *t = ost_find(o, idx);

	if (t == NULL)
		return -ENODEV;
	if (used)
		*used = t->used;
	if (objects)
		*objects = t->objects;
	return 0;
}

int
oss_open_objects(struct oss *o)
{
	return oss_obj_cache_count(o->oc);
}

/* Apply a change of allocated bytes to the OST's usage. */
static void
ost_account(struct oss_ost *t, uint64_t before, uint64_t after)
{
	if (after >= before)
		atomic_fetch_add(&t->used, after - before);
	else {
		uint64_t d = before - after, cur = t->used;

		/* never wrap below zero */
		while (!atomic_compare_exchange_weak(&t->used, &cur,
		    cur > d ? cur - d : 0))
			;
	}
}

/* Reserve `n` bytes of capacity; -ENOSPC if they do not fit. */
static int
ost_reserve(struct oss_ost *t, uint64_t n)
{
	uint64_t cur = t->used, cap = t->capacity;

	if (n == 0)
		return 0;
	do {
		if (cur > cap || n > cap - cur)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak(&t->used, &cur, cur + n));
	return 0;
}

static int
obj_get(struct oss *o, struct oss_ost *t, uint64_t oid, int flags,
    struct oss_obj **ob)
{
	int created = 0, rc;

	rc = oss_obj_get(o->oc, t->idx, t->odirfd, oid, flags, ob, &created);
	if (rc == 0 && created)
		atomic_fetch_add(&t->objects, 1);
	return rc;
}

/*
 * Get the object and its modification lock, retrying if a concurrent
 * destroy killed the entry between the lookup and the lock.
 */
static int
obj_get_locked(struct oss *o, struct oss_ost *t, uint64_t oid, int flags,
    struct oss_obj **out)
{
	for (int tries = 0; tries < 8; tries++) {
		struct oss_obj *ob;
		int rc = obj_get(o, t, oid, flags, &ob);

		if (rc < 0)
			return rc;
		oss_obj_lock(ob);
		if (!oss_obj_dead(ob)) {
			*out = ob;
			return 0;
		}
		oss_obj_unlock(ob);
		oss_obj_put(o->oc, ob);
	}
	return -EAGAIN;
}

static void
obj_release(struct oss *o, struct oss_obj *ob)
{
	oss_obj_unlock(ob);
	oss_obj_put(o->oc, ob);
}

/*
 * obj_get_locked for a change of the object's data: an open snapshot
 * captures the object first, and an object a snapshot or backup links is
 * copied up (oss_snap.h), the entry of the old inode forgotten.
 */
static int
obj_get_change(struct oss *o, struct oss_ost *t, uint64_t oid, int flags,
    struct oss_obj **out)
{
	int rc = obj_get_locked(o, t, oid, flags, out);

	if (rc < 0)
		return rc;
	(void)oss_snap_capture(o->snap, t->idx, t->odirfd, oid);
	rc = oss_snap_cow(o->snap, t->odirfd, oid, oss_obj_fd(*out));
	if (rc <= 0) {
		if (rc < 0)
			obj_release(o, *out);
		return rc;
	}
	oss_obj_kill(o->oc, *out);
	obj_release(o, *out);
	return obj_get_locked(o, t, oid, flags, out);
}

/* Refresh the entry from fstat and account the allocation change. */
static int
obj_refresh(struct oss_ost *t, struct oss_obj *ob)
{
	struct stat st;

	if (fstat(oss_obj_fd(ob), &st) < 0)
		return -errno;
	ost_account(t, oss_obj_alloc(ob), (uint64_t)st.st_blocks * 512);
	oss_obj_set(ob, (uint64_t)st.st_blocks * 512, (uint64_t)st.st_size);
	return 0;
}

/*
 * Make the object's data durable: fdatasync, and for an object created by
 * this process, fsync its O/xx directory (and O, which may have gained xx)
 * so the name survives a crash too. Called with the object locked.
 */
static int
obj_sync(struct oss_ost *t, struct oss_obj *ob, uint64_t oid)
{
	char sub[4];
	int dfd, rc = 0;

	if (fdatasync(oss_obj_fd(ob)) < 0)
		return -errno;
	if (!oss_obj_name_dirty(ob))
		return 0;
	snprintf(sub, sizeof(sub), "%02x", (unsigned)(oid & 0xff));
	dfd = openat(t->odirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0 || fsync(t->odirfd) < 0)
		rc = -errno;
	close(dfd);
	if (rc == 0)
		oss_obj_name_synced(ob);
	return rc;
}

static int
h_write(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h, const struct msg_io *io, const uint8_t *bulk)
{
	struct msg_io_rep rep;
	struct oss_obj *ob;
	uint64_t len = h->bulk_len, growth, done = 0, alloc, size;
	int rc, rc2;

	if (io->length != len)
		return -EINVAL;
	if (io->offset > OSS_OFF_MAX || len > OSS_OFF_MAX - io->offset)
		return -EFBIG;
	rc = obj_get_change(o, t, io->oid, OSS_OBJ_CREATE, &ob);
	if (rc < 0)
		return rc;
	/*
	 * Growth estimate: nothing when the range is inside a fully
	 * allocated file, else the whole write rounded up to blocks.
	 */
	alloc = oss_obj_alloc(ob);
	size = oss_obj_size(ob);
	if (io->offset + len <= size && alloc >= size)
		growth = 0;
	else
		growth = (len + OSS_BSIZE - 1) / OSS_BSIZE * OSS_BSIZE;
	rc = ost_reserve(t, growth);
	if (rc < 0) {
		atomic_fetch_add(&o->n_enospc, 1);
		goto out;
	}
	rc = obj_xfer(o, ob, 1, (void *)(uintptr_t)bulk, len, io->offset,
	    &done);
	if (rc == 0 && done < len)
		rc = -EIO;	/* pwrite wrote nothing */
	if (rc == 0 && (h->flags & MSG_F_SYNC))
		rc = obj_sync(t, ob, io->oid);
	/* account what really happened, then give back the reservation; a
	   write inside a fully allocated file changed neither */
	rc2 = growth != 0 ? obj_refresh(t, ob) : 0;
	ost_account(t, growth, 0);
	if (rc == 0)
		rc = rc2;
	if (rc < 0)
		goto out;
	atomic_fetch_add(&o->n_write, 1);
	atomic_fetch_add(&o->write_bytes, len);
	memset(&rep, 0, sizeof(rep));
	rep.length = done;
	rep.obj_size = oss_obj_size(ob);
	obj_release(o, ob);
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
out:
	obj_release(o, ob);
	return rc;
}

static int
h_read(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h, const struct msg_io *io)
{
	struct msg_io_rep rep;
	struct oss_obj *ob = NULL;
	struct iovec iov;
	uint8_t *buf;
	uint64_t done = 0;
	int rc;

	if (io->length > MSG_BULK_MAX)
		return -EINVAL;
	memset(&rep, 0, sizeof(rep));
	rc = obj_get(o, t, io->oid, 0, &ob);
	if (rc == -ENOENT)
		return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
	if (rc < 0)
		return rc;
	buf = msg_srv_conn_buf(c);
	if (buf == NULL) {
		oss_obj_put(o->oc, ob);
		return -ENOMEM;
	}
	if (io->offset <= OSS_OFF_MAX)
		rc = obj_xfer(o, ob, 0, buf, io->length, io->offset, &done);
	rep.obj_size = oss_obj_size(ob);
	oss_obj_put(o->oc, ob);
	if (rc < 0)
		return rc;
	rep.length = done;
	atomic_fetch_add(&o->n_read, 1);
	atomic_fetch_add(&o->read_bytes, done);
	iov.iov_base = buf;
	iov.iov_len = done;
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), &iov, done ? 1 : 0);
}

static int
h_punch(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h, const struct msg_io *io)
{
	struct msg_io_rep rep;
	struct oss_obj *ob;
	int rc;

	if (io->offset > OSS_OFF_MAX)
		return -EFBIG;
	memset(&rep, 0, sizeof(rep));
	rc = obj_get_change(o, t, io->oid, io->offset ? OSS_OBJ_CREATE : 0,
	    &ob);
	if (rc == -ENOENT)
		return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
	if (rc < 0)
		return rc;
	if (ftruncate(oss_obj_fd(ob), (off_t)io->offset) < 0)
		rc = -errno;
	{
		int rc2 = obj_refresh(t, ob);

		if (rc == 0)
			rc = rc2;
	}
	rep.obj_size = oss_obj_size(ob);
	obj_release(o, ob);
	if (rc < 0)
		return rc;
	atomic_fetch_add(&o->n_punch, 1);
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
}

_Static_assert(MSG_FA_KEEP_SIZE == FALLOC_FL_KEEP_SIZE &&
    MSG_FA_PUNCH_HOLE == FALLOC_FL_PUNCH_HOLE &&
    MSG_FA_ZERO_RANGE == FALLOC_FL_ZERO_RANGE, "wire modes are Linux's");

/*
 * OST_FALLOC (msg.h). Growth is reserved as for a write (the whole range,
 * in blocks) and the real change accounted after. A file system without
 * ZERO_RANGE gets a punch and, without KEEP_SIZE, an extension instead.
 */
static int
h_falloc(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h, const struct msg_falloc *fa)
{
	struct msg_io_rep rep;
	struct oss_obj *ob;
	uint64_t growth = 0, end;
	int mode = (int)fa->mode, fd, rc, rc2;

	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) &&
	    mode != FALLOC_FL_ZERO_RANGE &&
	    mode != (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if (fa->length == 0)
		return -EINVAL;
	if (fa->offset > OSS_OFF_MAX || fa->length > OSS_OFF_MAX - fa->offset)
		return -EFBIG;
	end = fa->offset + fa->length;
	memset(&rep, 0, sizeof(rep));
	rc = obj_get_change(o, t, fa->oid, (mode & FALLOC_FL_PUNCH_HOLE) ?
	    0 : OSS_OBJ_CREATE, &ob);
	if (rc == -ENOENT)	/* nothing to punch */
		return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
	if (rc < 0)
		return rc;
	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		growth = (fa->length + OSS_BSIZE - 1) / OSS_BSIZE * OSS_BSIZE;
	rc = ost_reserve(t, growth);
	if (rc < 0) {
		atomic_fetch_add(&o->n_enospc, 1);
		goto out;
	}
	fd = oss_obj_fd(ob);
	if (fallocate(fd, mode, (off_t)fa->offset, (off_t)fa->length) < 0)
		rc = -errno;
	if (rc == -EOPNOTSUPP && (mode & FALLOC_FL_ZERO_RANGE)) {
		rc = 0;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)fa->offset, (off_t)fa->length) < 0)
			rc = -errno;
		if (rc == 0 && !(mode & FALLOC_FL_KEEP_SIZE) &&
		    end > oss_obj_size(ob) && ftruncate(fd, (off_t)end) < 0)
			rc = -errno;
	}
	rc2 = obj_refresh(t, ob);
	ost_account(t, growth, 0);
	if (rc == 0)
		rc = rc2;
	rep.length = fa->length;
	rep.obj_size = oss_obj_size(ob);
out:
	obj_release(o, ob);
	if (rc < 0)
		return rc;
	atomic_fetch_add(&o->n_punch, 1);
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
}

static int
h_destroy(struct oss *o, struct oss_ost *t, uint64_t oid)
{
	struct oss_obj *ob;
	char name[MSG_OBJ_NAME_MAX];
	int rc;

	rc = obj_get_locked(o, t, oid, 0, &ob);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	(void)oss_snap_capture(o->snap, t->idx, t->odirfd, oid);
	oss_obj_kill(o->oc, ob);
	msg_obj_name(name, oid);
	if (unlinkat(t->odirfd, name, 0) < 0 && errno != ENOENT)
		rc = -errno;
	if (rc == 0) {
		ost_account(t, oss_obj_alloc(ob), 0);
		oss_obj_set(ob, 0, 0);
		atomic_fetch_sub(&t->objects, 1);
	}
	obj_release(o, ob);
	atomic_fetch_add(&o->n_destroy, 1);
	return rc;
}

/* The MDS's destroy queue in one request per OST and pass: every oid,
 * then the first error. */
static int
h_destroy_many(struct oss *o, struct oss_ost *t, const struct msg_hdr *h,
    const void *bulk)
{
	uint32_t n = h->bulk_len / sizeof(uint64_t);
	int rc = 0, one;

	if (h->bulk_len % sizeof(uint64_t) != 0 || n > MSG_DESTROY_MANY_MAX ||
	    (n > 0 && bulk == NULL))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t oid;

		memcpy(&oid, (const char *)bulk + i * sizeof(oid), sizeof(oid));
		one = h_destroy(o, t, oid);
		if (one < 0 && rc == 0)
			rc = one;
	}
	return rc;
}

static int
h_getattr(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h, uint64_t oid)
{
	struct msg_obj_attr a;
	struct oss_obj *ob;
	struct stat st;
	int rc;

	rc = obj_get(o, t, oid, 0, &ob);
	if (rc < 0)
		return rc;
	rc = fstat(oss_obj_fd(ob), &st) < 0 ? -errno : 0;
	oss_obj_put(o->oc, ob);
	if (rc < 0)
		return rc;
	atomic_fetch_add(&o->n_getattr, 1);
	memset(&a, 0, sizeof(a));
	a.size = (uint64_t)st.st_size;
	a.blocks = (uint64_t)st.st_blocks;
	a.mtime_sec = st.st_mtim.tv_sec;
	a.mtime_nsec = st.st_mtim.tv_nsec;
	return msg_srv_reply(c, h, 0, &a, sizeof(a), NULL, 0);
}

static int
h_statfs(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h)
{
	struct msg_statfs sf;
	uint64_t used = t->used, objs = t->objects, cap = t->capacity;
	uint64_t freeb = used < cap ? cap - used : 0;

	atomic_fetch_add(&o->n_statfs, 1);
	memset(&sf, 0, sizeof(sf));
	sf.bsize = OSS_BSIZE;
	sf.blocks = cap / OSS_BSIZE;
	sf.bfree = freeb / OSS_BSIZE;
	sf.bavail = sf.bfree;
	sf.files = objs;
	/* one object per 64 KiB of capacity, as a nominal inode budget */
	sf.ffree = cap / 65536 > objs ? cap / 65536 - objs : 0;
	sf.namemax = MSG_NAME_MAX;
	return msg_srv_reply(c, h, 0, &sf, sizeof(sf), NULL, 0);
}

/*
 * OST_LOCAL (msg.h): where OST t's objects are, for a client on this
 * host that reads them itself. -EOPNOTSUPP when this process cannot say
 * (no resolved path or no boot id): the client then reads over the wire.
 */
static int
h_local(struct oss *o, struct oss_ost *t, struct msg_srv_conn *c,
    const struct msg_hdr *h)
{
	struct msg_ost_local rep;
	struct iovec path;
	struct stat st;

	if (t->oabs == NULL || o->boot_id[0] == '\0')
		return -EOPNOTSUPP;
	if (fstat(t->odirfd, &st) < 0)
		return -errno;
	memset(&rep, 0, sizeof(rep));
	rep.dev = (uint64_t)st.st_dev;
	rep.ino = (uint64_t)st.st_ino;
	rep.netns = o->netns;
	memcpy(rep.boot_id, o->boot_id, sizeof(rep.boot_id));
	atomic_fetch_add(&o->n_local, 1);
	path.iov_base = t->oabs;
	path.iov_len = strlen(t->oabs) + 1;
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), &path, 1);
}

/* OST_SNAP (msg.h): one phase of a snapshot of OST t. */
static int
h_snap(struct oss *o, struct oss_ost *t, const struct msg_snap *sn)
{
	int n;

	if (!oss_snap_name_ok(sn->name, sizeof(sn->name)))
		return -EINVAL;
	switch (sn->phase) {
	case MSG_SNAP_FREEZE:
		return oss_snap_freeze(o->snap);
	case MSG_SNAP_MARK:
		return oss_snap_mark(o->snap, t->idx, t->dir, sn->name);
	case MSG_SNAP_LINK:
		n = oss_snap_link(o->snap, t->idx, t->odirfd, sn->name);
		if (n >= 0)
			log_info("%s: ost %u: %d objects in snapshot %s",
			    __func__, t->idx, n, sn->name);
		return n < 0 ? n : 0;
	case MSG_SNAP_THAW:
		oss_snap_thaw(o->snap);
		return 0;
	default:
		return -EINVAL;
	}
}

int
oss_dispatch(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk)
{
	struct oss *o = ctx;
	struct msg_obj obj;
	struct msg_io io;
	struct oss_ost *t;
	int rc;

	/* the framework checked body_len >= msg_req_body_min(opcode) */
	switch (h->opcode) {
	case MSG_OP_OST_SETCAP: {
		struct msg_ost_cap oc;

		memcpy(&oc, body, sizeof(oc));
		rc = oss_ost_setcap(o, oc.ost, oc.capacity_bytes);
		if (rc < 0)
			return rc;
		return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	}
	case MSG_OP_OST_READ:
	case MSG_OP_OST_WRITE:
	case MSG_OP_OST_PUNCH:
		memcpy(&io, body, sizeof(io));
		t = ost_find(o, io.ost);
		if (t == NULL)
			return -ENODEV;
		if (h->opcode == MSG_OP_OST_READ)
			return h_read(o, t, c, h, &io);
		if (h->bulk_len == 0 && io.length == 0 &&
		    h->opcode == MSG_OP_OST_WRITE) {
			struct msg_io_rep rep = { 0, 0 };

			return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL,
			    0);
		}
		oss_snap_enter(o->snap);
		if (h->opcode == MSG_OP_OST_PUNCH)
			rc = h_punch(o, t, c, h, &io);
		else
			rc = h_write(o, t, c, h, &io, bulk);
		oss_snap_leave(o->snap);
		return rc;
	case MSG_OP_OST_FALLOC: {
		struct msg_falloc fa;

		memcpy(&fa, body, sizeof(fa));
		t = ost_find(o, fa.ost);
		if (t == NULL)
			return -ENODEV;
		oss_snap_enter(o->snap);
		rc = h_falloc(o, t, c, h, &fa);
		oss_snap_leave(o->snap);
		return rc;
	}
	case MSG_OP_OST_SNAP: {
		struct msg_snap sn;

		memcpy(&sn, body, sizeof(sn));
		t = ost_find(o, sn.ost);
		if (t == NULL)
			return -ENODEV;
		rc = h_snap(o, t, &sn);
		if (rc < 0)
			return rc;
		return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	}
	case MSG_OP_OST_CREATE:
	case MSG_OP_OST_DESTROY:
	case MSG_OP_OST_DESTROY_MANY:
	case MSG_OP_OST_SYNC:
	case MSG_OP_OST_GETATTR:
	case MSG_OP_OST_STATFS:
	case MSG_OP_OST_LOCAL:
		memcpy(&obj, body, sizeof(obj));
		t = ost_find(o, obj.ost);
		if (t == NULL)
			return -ENODEV;
		break;
	default:
		return -EOPNOTSUPP;
	}

	switch (h->opcode) {
	case MSG_OP_OST_CREATE: {
		struct oss_obj *ob;

		rc = obj_get(o, t, obj.oid, OSS_OBJ_CREATE, &ob);
		if (rc < 0)
			return rc;
		oss_obj_put(o->oc, ob);
		atomic_fetch_add(&o->n_create, 1);
		break;
	}
	case MSG_OP_OST_DESTROY:
		rc = h_destroy(o, t, obj.oid);
		break;
	case MSG_OP_OST_DESTROY_MANY:
		rc = h_destroy_many(o, t, h, bulk);
		break;
	case MSG_OP_OST_SYNC: {
		struct oss_obj *ob;

		rc = obj_get_locked(o, t, obj.oid, 0, &ob);
		if (rc == -ENOENT) {
			rc = 0;
			break;
		}
		if (rc < 0)
			return rc;
		rc = obj_sync(t, ob, obj.oid);
		obj_release(o, ob);
		atomic_fetch_add(&o->n_sync, 1);
		break;
	}
	case MSG_OP_OST_GETATTR:
		return h_getattr(o, t, c, h, obj.oid);
	case MSG_OP_OST_STATFS:
		return h_statfs(o, t, c, h);
	case MSG_OP_OST_LOCAL:
		return h_local(o, t, c, h);
	default:
		return -EOPNOTSUPP;
	}
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
}

size_t
oss_stats(void *ctx, char *buf, size_t cap)
{
	struct oss *o = ctx;
	size_t n = 0;
	int w;

#define EMIT(...) do {							\
	if (n < cap) {							\
		w = snprintf(buf + n, cap - n, __VA_ARGS__);		\
		if (w > 0)						\
			n += (size_t)w < cap - n ? (size_t)w :		\
			    cap - n - 1;				\
	}								\
} while (0)
	EMIT("oss_reads %llu\noss_writes %llu\noss_read_bytes %llu\n"
	    "oss_write_bytes %llu\noss_punches %llu\noss_destroys %llu\n"
	    "oss_creates %llu\noss_syncs %llu\noss_getattrs %llu\n"
	    "oss_statfs %llu\noss_enospc %llu\noss_open_objects %d\n"
	    "oss_direct_io %llu\noss_local_asks %llu\n",
	    (unsigned long long)o->n_read, (unsigned long long)o->n_write,
	    (unsigned long long)o->read_bytes,
	    (unsigned long long)o->write_bytes,
	    (unsigned long long)o->n_punch, (unsigned long long)o->n_destroy,
	    (unsigned long long)o->n_create, (unsigned long long)o->n_sync,
	    (unsigned long long)o->n_getattr, (unsigned long long)o->n_statfs,
	    (unsigned long long)o->n_enospc, oss_obj_cache_count(o->oc),
	    (unsigned long long)o->n_direct,
	    (unsigned long long)o->n_local);
	for (int i = 0; i < o->nost; i++) {
		struct oss_ost *t = o->ost[i];

		EMIT("ost%u_capacity %llu\nost%u_used %llu\n"
		    "ost%u_objects %llu\n",
		    t->idx, (unsigned long long)atomic_load(&t->capacity),
		    t->idx,
		    (unsigned long long)t->used, t->idx,
		    (unsigned long long)t->objects);
	}
	{
		uint64_t fr, cows, maxus;

		oss_snap_counters(o->snap, &fr, &cows, &maxus);
		EMIT("oss_snap_freezes %llu\noss_snap_copyups %llu\n"
		    "oss_snap_freeze_max_us %llu\n", (unsigned long long)fr,
		    (unsigned long long)cows, (unsigned long long)maxus);
	}
#undef EMIT
	return n;
}
