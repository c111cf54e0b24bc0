/*
 * Local reads (docs/design.md, "Local reads"): a client on the same host
 * as an OSS reads that OSS's objects from their files itself, with no
 * round trip and no copy through a socket. HDFS's short-circuit reads are
 * the same idea; Lustre has no equivalent because its clients are never
 * on the server's host. Only reads: every change of an object still goes
 * to its OSS, which alone accounts space, holds snapshots' barrier and
 * copies up linked objects.
 *
 * Contract:
 *  1. An OST is read locally only after OST_LOCAL named its object
 *     directory and this process opened a directory there with the same
 *     device and inode numbers, under the same kernel boot id, in the same
 *     network namespace (msg.h). Otherwise (an OSS without OST_LOCAL,
 *     another host, a path that does not open here, -o nolocalread) every
 *     read of that OST goes over the wire.
 *     The answer is asked once per OST and kept for the life of the
 *     process; a transport failure decides nothing (asked again later).
 *  2. Each read opens the object by name anew (openat, preadv, close). The
 *     OSS may put a new file under an object's name (a snapshot's copy-up
 *     renames a copy over it, oss_snap.h), and a descriptor kept from
 *     before would go on reading the old inode. A read that begins after
 *     a write was acknowledged opens after that rename, so it sees the
 *     write; the name lookup costs about a microsecond, the round trip it
 *     replaces tens.
 *  3. Results are those of OST_READ: a missing object reads as a hole
 *     (nothing read), a short read is EOF (the rest reads as zeros), an
 *     I/O error reaches the reader (the OSS would read the same disk).
 *     An object that does not open for another reason (EACCES, EMFILE)
 *     is read over the wire instead.
 *  4. The OSS writes the same inode with pwrite, buffered or O_DIRECT;
 *     Linux keeps both coherent with these buffered reads.
 *
 * Locking: fs->mu guards the table of OST directories (fs->ldir); a
 * descriptor in it, once set, stays open until fsc_local_fini.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

#define LDIR_UNKNOWN	(-1)	/* not asked yet */
#define LDIR_REMOTE	(-2)	/* read over the wire */

static atomic_uint_fast64_t fsc_local_n, fsc_local_bytes;

void
fsc_local_fini(struct fsc *fs)
{
	for (uint32_t i = 0; i < fs->nldir; i++)
		if (fs->ldir[i] >= 0)
			close(fs->ldir[i]);
	free(fs->ldir);
	fs->ldir = NULL;
	fs->nldir = 0;
}

/* Under fs->mu: the slot of `ost`, the table grown to hold it; NULL
 * when out of memory (the read goes over the wire). */
static int *
ldir_slot(struct fsc *fs, uint32_t ost)
{
	if (ost >= fs->nldir) {
		uint32_t n = ost + 1 > 2 * fs->nldir ? ost + 1 : 2 * fs->nldir;
		int *t = realloc(fs->ldir, n * sizeof(*t));

		if (t == NULL)
			return NULL;
		for (uint32_t i = fs->nldir; i < n; i++)
			t[i] = LDIR_UNKNOWN;
		fs->ldir = t;
		fs->nldir = n;
	}
	return &fs->ldir[ost];
}

/*
 * Ask the OSS of `ost` where its objects are and open that directory if
 * it is the same one here (contract 1). The descriptor, LDIR_REMOTE, or
 * LDIR_UNKNOWN after a transport failure.
 */
static int
ldir_ask(struct fsc *fs, uint32_t ost)
{
	char path[MSG_PATH_MAX + 1], boot[MSG_BOOT_ID_LEN];
	struct iovec iov = { path, sizeof(path) - 1 };
	struct msg_ost_local rep;
	struct msg_obj obj;
	struct fsc_req r;
	struct stat st;
	uint64_t netns;
	int fd, rc;

	memset(&obj, 0, sizeof(obj));
	obj.ost = ost;
	memset(&r, 0, sizeof(r));
	r.op = MSG_OP_OST_LOCAL;
	r.body = &obj;
	r.body_len = sizeof(obj);
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_ost_call(fs, ost, &r);
	if (rc == -EIO || rc == -ETIMEDOUT)
		return LDIR_UNKNOWN;	/* unreachable for now */
	if (rc < 0 || r.rbody_len < sizeof(rep) || r.rbulk_len < 2 ||
	    path[r.rbulk_len - 1] != '\0' || strlen(path) + 1 != r.rbulk_len ||
	    path[0] != '/')
		return LDIR_REMOTE;
	if (msg_boot_id(boot, &netns) < 0 || memchr(rep.boot_id, '\0',
	    sizeof(rep.boot_id)) == NULL || strcmp(boot, rep.boot_id) != 0 ||
	    netns != rep.netns)
		return LDIR_REMOTE;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return LDIR_REMOTE;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != rep.dev ||
	    (uint64_t)st.st_ino != rep.ino) {
		close(fd);
		return LDIR_REMOTE;
	}
	log_info("%s: OST %u read locally from %s", __func__, ost, path);
	return fd;
}

/* The object directory of `ost` when it is read locally, else -1. */
static int
ldir_get(struct fsc *fs, uint32_t ost)
{
	int *slot, v, fd;

	if (fs->conf.nolocal || ost > FSC_OST_MAXIDX)
		return -1;
	pthread_mutex_lock(&fs->mu);
	slot = ldir_slot(fs, ost);
	v = slot != NULL ? *slot : LDIR_REMOTE;
	pthread_mutex_unlock(&fs->mu);
	if (v != LDIR_UNKNOWN)
		return v >= 0 ? v : -1;
	fd = ldir_ask(fs, ost);
	pthread_mutex_lock(&fs->mu);
	slot = ldir_slot(fs, ost);	/* the table may have moved */
	v = slot != NULL ? *slot : LDIR_REMOTE;
	if (slot != NULL && v == LDIR_UNKNOWN) {
		*slot = fd;
		v = fd;
	} else if (fd >= 0) {
		close(fd);	/* another thread asked first */
	}
	pthread_mutex_unlock(&fs->mu);
	return v >= 0 ? v : -1;
}

int
fsc_local_read(struct fsc *fs, struct fsc_oio *o)
{
	char name[MSG_OBJ_NAME_MAX];
	struct iovec iov[FSC_IOV_MAX];
	uint64_t got = 0;
	int dfd, fd, n, k = 0, rc = 0;
	ssize_t r;

	dfd = ldir_get(fs, o->ost);
	if (dfd < 0 || o->niov > FSC_IOV_MAX)
		return 0;
	msg_obj_name(name, o->oid);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
	if (fd < 0 && errno == EPERM)	/* O_NOATIME needs the owner */
		fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			return 0;	/* contract 3: over the wire */
		o->got = 0;		/* never written: a hole */
		o->rc = 0;
		return 1;
	}
	n = o->niov;
	memcpy(iov, o->iov, (size_t)n * sizeof(iov[0]));
	while (k < n) {
		r = FP_SHORT("fsc.pread.short", FP_CALL("fsc.pread",
		    preadv(fd, iov + k, n - k, (off_t)(o->off + got))));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;		/* end of the object */
		got += (uint64_t)r;
		while (k < n && (size_t)r >= iov[k].iov_len)
			r -= (ssize_t)iov[k++].iov_len;
		if (k < n) {
			iov[k].iov_base = (char *)iov[k].iov_base + r;
			iov[k].iov_len -= (size_t)r;
		}
	}
	close(fd);
	o->got = rc < 0 ? 0 : got;
	o->rc = rc;
	atomic_fetch_add_explicit(&fsc_local_n, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fsc_local_bytes, got, memory_order_relaxed);
	return 1;
}

int
fsc_local_blocks(struct fsc *fs, const struct msg_layout_ent *ents,
    uint32_t n, uint64_t *blocks)
{
	char name[MSG_OBJ_NAME_MAX];
	struct stat st;
	int dfd;

	*blocks = 0;
	for (uint32_t k = 0; k < n; k++) {
		dfd = ldir_get(fs, ents[k].ost);
		if (dfd < 0)
			return -1;
		msg_obj_name(name, ents[k].oid);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -1;
			continue;	/* never written: no blocks */
		}
		*blocks += (uint64_t)st.st_blocks;
	}
	return 0;
}

size_t
fsc_local_stats(char *buf, size_t cap)
{
	uint64_t n = atomic_load_explicit(&fsc_local_n, memory_order_relaxed);
	int k;

	if (n == 0 || cap == 0)
		return 0;
	k = snprintf(buf, cap, "local_reads %llu\nlocal_read_bytes %llu\n",
	    (unsigned long long)n, (unsigned long long)atomic_load_explicit(
	    &fsc_local_bytes, memory_order_relaxed));
	return k < 0 || (size_t)k >= cap ? 0 : (size_t)k;
}
