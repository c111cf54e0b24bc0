/*
 * passthrough: the honest FUSE baseline for the engine benchmarks.
 *
 * A libfuse3 low-level file system that mirrors one directory, written for
 * this project in the manner of libfuse's passthrough_ll example and tuned
 * the way fsx-mount is: max_write 1 MiB, 4 MiB readahead, 64 background
 * requests, parallel directory operations, the multithreaded session loop
 * with a cloned device fd per thread (8 threads), per-thread read buffers
 * allocated once and reused (fresh buffers per request cap cold reads near
 * 300 MiB/s here), splice for reads on request (--splice).
 *
 *   passthrough [--splice] SRCDIR MOUNTPOINT [-f] [-d] [-o opt,...]
 *
 * Inodes.  Each FUSE inode is a (st_dev, st_ino) pair with a lookup count
 * and a file handle (name_to_handle_at).  The open-file limit on these hosts
 * is 20,000 per process and cannot be raised, so an inode does not own a
 * descriptor: O_PATH descriptors are kept in a bounded LRU (PT_FD_MAX) and
 * reopened with open_by_handle_at() when evicted.  An operation pins the
 * descriptors it uses (pt_fd_get/pt_fd_put) so eviction never closes a
 * descriptor in use.  One mutex guards the inode table and the LRU.
 *
 * Needs CAP_DAC_READ_SEARCH (root) for open_by_handle_at().
 */
#define FUSE_USE_VERSION 312

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PT_FD_MAX	4096		/* cached O_PATH descriptors */
#define PT_HASH_SIZE	65536		/* inode hash buckets (power of 2) */
#define PT_IO_MAX	(1024 * 1024)	/* max_write, max_read */
#define PT_READAHEAD	(4u << 20)	/* as fsx-mount */
#define PT_MAX_THREADS	8		/* as fsx-mount */
#define PT_HANDLE_MAX	128		/* MAX_HANDLE_SZ */
#define PT_TIMEOUT	1.0		/* entry and attr timeout, as fsx-mount */

struct pt_inode {
	struct pt_inode		*hnext;
	struct pt_inode		*lru_prev;
	struct pt_inode		*lru_next;
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 nlookup;
	int			 fd;		/* O_PATH or -1 */
	int			 pins;
	int			 dead;		/* forgotten while pinned */
	int			 on_lru;
	struct file_handle	*fh;
};

struct pt_dir {
	DIR		*dp;
	struct dirent	*entry;
	off_t		 offset;
};

struct pt {
	pthread_mutex_t		 lock;
	struct pt_inode		*hash[PT_HASH_SIZE];
	struct pt_inode		 root;
	struct pt_inode		*lru_head;	/* most recently used */
	struct pt_inode		*lru_tail;
	int			 nopen;		/* descriptors on the LRU */
	int			 mount_fd;	/* for open_by_handle_at */
	int			 splice;
};

static struct pt	 pt;
static pthread_key_t	 pt_buf_key;

static void
pt_buf_free(void *p)
{
	free(p);
}

/* Per-thread read buffer, allocated once per worker and reused. */
static char *
pt_buf_get(void)
{
	char	*b;

	b = pthread_getspecific(pt_buf_key);
	if (b != NULL)
		return b;
	if (posix_memalign((void **)&b, 4096, PT_IO_MAX) != 0)
		return NULL;
	if (pthread_setspecific(pt_buf_key, b) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

static size_t
pt_hash(dev_t dev, ino_t ino)
{
	uint64_t	h;

	h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;
	return (size_t)(h >> 20) & (PT_HASH_SIZE - 1);
}

static struct pt_inode *
pt_inode_of(fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &pt.root;
	return (struct pt_inode *)(uintptr_t)ino;
}

static void
pt_lru_unlink(struct pt_inode *in)
{
	if (!in->on_lru)
		return;
	if (in->lru_prev != NULL)
		in->lru_prev->lru_next = in->lru_next;
	else
		pt.lru_head = in->lru_next;
	if (in->lru_next != NULL)
		in->lru_next->lru_prev = in->lru_prev;
	else
		pt.lru_tail = in->lru_prev;
	in->lru_prev = in->lru_next = NULL;
	in->on_lru = 0;
}

static void
pt_lru_push(struct pt_inode *in)
{
	in->lru_prev = NULL;
	in->lru_next = pt.lru_head;
	if (pt.lru_head != NULL)
		pt.lru_head->lru_prev = in;
	pt.lru_head = in;
	if (pt.lru_tail == NULL)
		pt.lru_tail = in;
	in->on_lru = 1;
}

/* Close the least recently used unpinned descriptors down to `keep`. */
static void
pt_lru_trim(int keep)
{
	struct pt_inode	*in;

	while (pt.nopen > keep && pt.lru_tail != NULL) {
		in = pt.lru_tail;
		pt_lru_unlink(in);
		close(in->fd);
		in->fd = -1;
		pt.nopen--;
	}
}

static void
pt_inode_free(struct pt_inode *in)
{
	struct pt_inode	**pp;

	pp = &pt.hash[pt_hash(in->dev, in->ino)];
	while (*pp != NULL && *pp != in)
		pp = &(*pp)->hnext;
	if (*pp == in)
		*pp = in->hnext;
	if (in->fd >= 0) {
		if (in->on_lru) {
			pt_lru_unlink(in);
			pt.nopen--;
		}
		close(in->fd);
	}
	free(in->fh);
	free(in);
}

/*
 * Pin the inode's O_PATH descriptor, reopening it from its handle when it
 * was evicted.  Returns the descriptor or -errno; pair with pt_fd_put().
 */
static int
pt_fd_get(struct pt_inode *in)
{
	int	fd, tries;

	pthread_mutex_lock(&pt.lock);
	if (in->fd < 0) {
		for (tries = 0; ; tries++) {
			fd = open_by_handle_at(pt.mount_fd, in->fh,
			    O_PATH | O_NOFOLLOW);
			if (fd >= 0 || tries > 0 ||
			    (errno != EMFILE && errno != ENFILE))
				break;
			pt_lru_trim(pt.nopen / 2);
		}
		if (fd < 0) {
			fd = -errno;
			pthread_mutex_unlock(&pt.lock);
			return fd;
		}
		in->fd = fd;
	} else if (in->on_lru) {
		pt_lru_unlink(in);
		pt.nopen--;
	}
	in->pins++;
	fd = in->fd;
	pthread_mutex_unlock(&pt.lock);
	return fd;
}

static void
pt_fd_put(struct pt_inode *in)
{
	pthread_mutex_lock(&pt.lock);
	if (--in->pins == 0 && in != &pt.root) {
		if (in->dead) {
			pt_inode_free(in);
		} else {
			pt_lru_push(in);
			pt.nopen++;
			pt_lru_trim(PT_FD_MAX);
		}
	}
	pthread_mutex_unlock(&pt.lock);
}

/* Open with O_PATH-relative retry when the descriptor table is full. */
static int
pt_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	int	fd;

	fd = openat(dirfd, name, flags, mode);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		pthread_mutex_lock(&pt.lock);
		pt_lru_trim(pt.nopen / 2);
		pthread_mutex_unlock(&pt.lock);
		fd = openat(dirfd, name, flags, mode);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Look `name` up under the pinned parent descriptor and fill `e`; the
 * inode's lookup count goes up by one.  Returns 0 or -errno.
 */
static int
pt_do_lookup(int pfd, const char *name, struct fuse_entry_param *e)
{
	struct pt_inode		*in, *n;
	struct file_handle	*fh;
	int			 fd, rc, mount_id;
	size_t			 b;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = PT_TIMEOUT;
	e->entry_timeout = PT_TIMEOUT;
	fd = pt_openat(pfd, name, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;

	pthread_mutex_lock(&pt.lock);
	b = pt_hash(e->attr.st_dev, e->attr.st_ino);
	for (in = pt.hash[b]; in != NULL; in = in->hnext)
		if (in->ino == e->attr.st_ino && in->dev == e->attr.st_dev &&
		    !in->dead)
			break;
	if (in != NULL) {
		in->nlookup++;
		e->ino = (fuse_ino_t)(uintptr_t)in;
		pthread_mutex_unlock(&pt.lock);
		close(fd);
		return 0;
	}
	pthread_mutex_unlock(&pt.lock);

	fh = malloc(sizeof(*fh) + PT_HANDLE_MAX);
	n = calloc(1, sizeof(*n));
	if (fh == NULL || n == NULL) {
		free(fh);
		free(n);
		close(fd);
		return -ENOMEM;
	}
	fh->handle_bytes = PT_HANDLE_MAX;
	if (name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) < 0) {
		rc = -errno;
		free(fh);
		free(n);
		close(fd);
		return rc;
	}
	n->dev = e->attr.st_dev;
	n->ino = e->attr.st_ino;
	n->nlookup = 1;
	n->fd = fd;
	n->fh = fh;

	pthread_mutex_lock(&pt.lock);
	/* Another thread may have added it meanwhile. */
	for (in = pt.hash[b]; in != NULL; in = in->hnext)
		if (in->ino == n->ino && in->dev == n->dev && !in->dead)
			break;
	if (in != NULL) {
		in->nlookup++;
		e->ino = (fuse_ino_t)(uintptr_t)in;
		pthread_mutex_unlock(&pt.lock);
		close(fd);
		free(fh);
		free(n);
		return 0;
	}
	n->hnext = pt.hash[b];
	pt.hash[b] = n;
	pt_lru_push(n);
	pt.nopen++;
	pt_lru_trim(PT_FD_MAX);
	e->ino = (fuse_ino_t)(uintptr_t)n;
	pthread_mutex_unlock(&pt.lock);
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

static void
pt_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = PT_IO_MAX;
	conn->max_read = PT_IO_MAX;
	conn->max_readahead = conn->max_readahead > PT_READAHEAD ?
	    conn->max_readahead : PT_READAHEAD;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	if (pt.splice) {
		if (conn->capable & FUSE_CAP_SPLICE_WRITE)
			conn->want |= FUSE_CAP_SPLICE_WRITE;
		if (conn->capable & FUSE_CAP_SPLICE_MOVE)
			conn->want |= FUSE_CAP_SPLICE_MOVE;
	} else {
		conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
		    FUSE_CAP_SPLICE_READ);
	}
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
}

static void
pt_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param	 e;
	struct pt_inode		*p = pt_inode_of(parent);
	int			 pfd, rc;

	pfd = pt_fd_get(p);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	rc = pt_do_lookup(pfd, name, &e);
	pt_fd_put(p);
	if (rc == -ENOENT) {
		/* Negative entry, cached like a positive one. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = PT_TIMEOUT;
		fuse_reply_entry(req, &e);
	} else if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else {
		fuse_reply_entry(req, &e);
	}
}

static void
pt_forget_one(fuse_ino_t ino, uint64_t n)
{
	struct pt_inode	*in = pt_inode_of(ino);

	if (in == &pt.root)
		return;
	pthread_mutex_lock(&pt.lock);
	in->nlookup = n >= in->nlookup ? 0 : in->nlookup - n;
	if (in->nlookup == 0) {
		if (in->pins > 0) {
			in->dead = 1;
		} else {
			pt_inode_free(in);
		}
	}
	pthread_mutex_unlock(&pt.lock);
}

static void
pt_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	pt_forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void
pt_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	size_t	i;

	for (i = 0; i < count; i++)
		pt_forget_one(f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

static void
pt_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_inode	*in = pt_inode_of(ino);
	struct stat	 st;
	int		 fd, rc;

	(void)fi;
	fd = pt_fd_get(in);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	rc = fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	rc = rc < 0 ? errno : 0;
	pt_fd_put(in);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, PT_TIMEOUT);
}

static void
pt_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	struct pt_inode	*in = pt_inode_of(ino);
	struct timespec	 tv[2];
	struct stat	 st;
	char		 path[64];
	uid_t		 uid;
	gid_t		 gid;
	int		 fd, rc = 0;

	fd = pt_fd_get(in);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (valid & FUSE_SET_ATTR_MODE) {
		if (fi != NULL)
			rc = fchmod((int)fi->fh, attr->st_mode);
		else
			rc = chmod(path, attr->st_mode);
		if (rc < 0)
			goto err;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		rc = fchownat(fd, "", uid, gid,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
		if (rc < 0)
			goto err;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (fi != NULL)
			rc = ftruncate((int)fi->fh, attr->st_size);
		else
			rc = truncate(path, attr->st_size);
		if (rc < 0)
			goto err;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		tv[0].tv_sec = 0;
		tv[0].tv_nsec = UTIME_OMIT;
		tv[1] = tv[0];
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		if (fi != NULL)
			rc = futimens((int)fi->fh, tv);
		else
			rc = utimensat(AT_FDCWD, path, tv, 0);
		if (rc < 0)
			goto err;
	}
	rc = fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (rc < 0)
		goto err;
	pt_fd_put(in);
	fuse_reply_attr(req, &st, PT_TIMEOUT);
	return;
err:
	rc = errno;
	pt_fd_put(in);
	fuse_reply_err(req, rc);
}

static void
pt_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fuse_entry_param	 e;
	struct pt_inode		*p = pt_inode_of(parent);
	int			 pfd, rc;

	pfd = pt_fd_get(p);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	rc = mkdirat(pfd, name, mode);
	rc = rc < 0 ? -errno : pt_do_lookup(pfd, name, &e);
	pt_fd_put(p);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void
pt_unlink_common(fuse_req_t req, fuse_ino_t parent, const char *name,
    int flags)
{
	struct pt_inode	*p = pt_inode_of(parent);
	int		 pfd, rc;

	pfd = pt_fd_get(p);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	rc = unlinkat(pfd, name, flags);
	rc = rc < 0 ? errno : 0;
	pt_fd_put(p);
	fuse_reply_err(req, rc);
}

static void
pt_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pt_unlink_common(req, parent, name, 0);
}

static void
pt_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pt_unlink_common(req, parent, name, AT_REMOVEDIR);
}

static void
pt_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct pt_inode	*p = pt_inode_of(parent);
	struct pt_inode	*np = pt_inode_of(newparent);
	int		 pfd, npfd, rc;

	pfd = pt_fd_get(p);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	npfd = pt_fd_get(np);
	if (npfd < 0) {
		pt_fd_put(p);
		fuse_reply_err(req, -npfd);
		return;
	}
	rc = renameat2(pfd, name, npfd, newname, flags);
	rc = rc < 0 ? errno : 0;
	pt_fd_put(np);
	pt_fd_put(p);
	fuse_reply_err(req, rc);
}

static void
pt_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct pt_inode	*in = pt_inode_of(ino);
	char		 buf[PATH_MAX + 1];
	ssize_t		 n;
	int		 fd, rc;

	fd = pt_fd_get(in);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	rc = n < 0 ? errno : 0;
	pt_fd_put(in);
	if (rc != 0) {
		fuse_reply_err(req, rc);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

static void
pt_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_inode	*in = pt_inode_of(ino);
	struct pt_dir	*d;
	int		 fd, dfd, rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = pt_fd_get(in);
	if (fd < 0) {
		free(d);
		fuse_reply_err(req, -fd);
		return;
	}
	dfd = pt_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0);
	pt_fd_put(in);
	if (dfd < 0) {
		free(d);
		fuse_reply_err(req, -dfd);
		return;
	}
	d->dp = fdopendir(dfd);
	if (d->dp == NULL) {
		rc = errno;
		close(dfd);
		free(d);
		fuse_reply_err(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void
pt_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct pt_dir	*d = (struct pt_dir *)(uintptr_t)fi->fh;
	struct stat	 st;
	char		*buf, *p;
	size_t		 rem, len;

	(void)ino;
	buf = pt_buf_get();
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (size > PT_IO_MAX)
		size = PT_IO_MAX;
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	p = buf;
	rem = size;
	for (;;) {
		if (d->entry == NULL) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (d->entry == NULL) {
				if (errno != 0 && p == buf) {
					fuse_reply_err(req, errno);
					return;
				}
				break;
			}
		}
		memset(&st, 0, sizeof(st));
		st.st_ino = d->entry->d_ino;
		st.st_mode = (mode_t)d->entry->d_type << 12;
		len = fuse_add_direntry(req, p, rem, d->entry->d_name, &st,
		    d->entry->d_off);
		if (len > rem)
			break;
		p += len;
		rem -= len;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	fuse_reply_buf(req, buf, size - rem);
}

static void
pt_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_dir	*d = (struct pt_dir *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void
pt_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct fuse_entry_param	 e;
	struct pt_inode		*p = pt_inode_of(parent);
	int			 pfd, fd, rc;

	pfd = pt_fd_get(p);
	if (pfd < 0) {
		fuse_reply_err(req, -pfd);
		return;
	}
	fd = pt_openat(pfd, name, (fi->flags | O_CREAT) & ~O_NOFOLLOW, mode);
	if (fd < 0) {
		pt_fd_put(p);
		fuse_reply_err(req, -fd);
		return;
	}
	rc = pt_do_lookup(pfd, name, &e);
	pt_fd_put(p);
	if (rc < 0) {
		close(fd);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)fd;
	if (fuse_reply_create(req, &e, fi) != 0) {
		close(fd);
		pt_forget_one(e.ino, 1);
	}
}

static void
pt_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct pt_inode	*in = pt_inode_of(ino);
	char		 path[64];
	int		 fd, ofd;

	fd = pt_fd_get(in);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ofd = pt_openat(AT_FDCWD, path, fi->flags & ~(O_NOFOLLOW | O_CREAT), 0);
	pt_fd_put(in);
	if (ofd < 0) {
		fuse_reply_err(req, -ofd);
		return;
	}
	fi->fh = (uint64_t)ofd;
	if (fuse_reply_open(req, fi) != 0)
		close(ofd);
}

static void
pt_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void
pt_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void
pt_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	int	rc;

	(void)ino;
	if (datasync)
		rc = fdatasync((int)fi->fh);
	else
		rc = fsync((int)fi->fh);
	fuse_reply_err(req, rc < 0 ? errno : 0);
}

static void
pt_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fuse_bufvec	 bv = FUSE_BUFVEC_INIT(size);
	ssize_t			 n;
	char			*buf;

	(void)ino;
	if (pt.splice) {
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = (int)fi->fh;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	buf = pt_buf_get();
	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (size > PT_IO_MAX)
		size = PT_IO_MAX;
	n = pread((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void
pt_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
    off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec	 out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	ssize_t			 n;

	(void)ino;
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, in, 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
pt_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
    off_t len, struct fuse_file_info *fi)
{
	(void)ino;
	fuse_reply_err(req, fallocate((int)fi->fh, mode, off, len) < 0 ?
	    errno : 0);
}

static void
pt_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs	st;

	(void)ino;
	if (fstatvfs(pt.root.fd, &st) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops pt_ops = {
	.init		= pt_init,
	.lookup		= pt_lookup,
	.forget		= pt_forget,
	.forget_multi	= pt_forget_multi,
	.getattr	= pt_getattr,
	.setattr	= pt_setattr,
	.readlink	= pt_readlink,
	.mkdir		= pt_mkdir,
	.unlink		= pt_unlink,
	.rmdir		= pt_rmdir,
	.rename		= pt_rename,
	.opendir	= pt_opendir,
	.readdir	= pt_readdir,
	.releasedir	= pt_releasedir,
	.create		= pt_create,
	.open		= pt_open,
	.release	= pt_release,
	.flush		= pt_flush,
	.fsync		= pt_fsync,
	.read		= pt_read,
	.write_buf	= pt_write_buf,
	.fallocate	= pt_fallocate,
	.statfs		= pt_statfs,
};

static void
pt_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--splice] SRCDIR MOUNTPOINT "
	    "[-f] [-d] [-o opt,...]\n", prog);
}

int
main(int argc, char **argv)
{
	struct fuse_args		 args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts	 opts;
	struct fuse_loop_config		*cfg = NULL;
	struct fuse_session		*se = NULL;
	struct stat			 st;
	const char			*src = NULL;
	char				**av;
	int				 i, ac = 0, rc = 1;

	av = calloc((size_t)argc + 3, sizeof(*av));
	if (av == NULL)
		return 1;
	av[ac++] = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--splice") == 0)
			pt.splice = 1;
		else if (src == NULL && argv[i][0] != '-' &&
		    (i == 1 || strcmp(argv[i - 1], "-o") != 0))
			src = argv[i];
		else
			av[ac++] = argv[i];
	}
	/* Name the mount in /proc/mounts and keep the kernel's permission
	 * checks, as fsx-mount does. */
	av[ac++] = "-ofsname=passthrough,subtype=passthrough,"
	    "default_permissions,max_read=1048576";
	args.argc = ac;
	args.argv = av;
	if (src == NULL) {
		pt_usage(argv[0]);
		goto out_free;
	}
	if (fuse_parse_cmdline(&args, &opts) != 0)
		goto out_free;
	if (opts.show_help || opts.mountpoint == NULL) {
		pt_usage(argv[0]);
		fuse_cmdline_help();
		goto out_opts;
	}

	pthread_mutex_init(&pt.lock, NULL);
	if (pthread_key_create(&pt_buf_key, pt_buf_free) != 0)
		goto out_opts;
	pt.root.fd = open(src, O_PATH | O_DIRECTORY);
	if (pt.root.fd < 0 || fstat(pt.root.fd, &st) < 0) {
		fprintf(stderr, "passthrough: %s: %s\n", src, strerror(errno));
		goto out_opts;
	}
	pt.root.dev = st.st_dev;
	pt.root.ino = st.st_ino;
	pt.root.pins = 1;	/* never evicted */
	pt.root.nlookup = 2;
	/* open_by_handle_at() refuses an O_PATH descriptor (EBADF). */
	pt.mount_fd = open(src, O_RDONLY | O_DIRECTORY);
	if (pt.mount_fd < 0) {
		fprintf(stderr, "passthrough: %s: %s\n", src, strerror(errno));
		goto out_opts;
	}

	se = fuse_session_new(&args, &pt_ops, sizeof(pt_ops), NULL);
	if (se == NULL)
		goto out_opts;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);

	if (opts.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		if (cfg == NULL)
			goto out_unmount;
		/* fsx-mount's loop: a device fd per thread, no idle reaping. */
		fuse_loop_cfg_set_clone_fd(cfg, 1);
		fuse_loop_cfg_set_max_threads(cfg, PT_MAX_THREADS);
		fuse_loop_cfg_set_idle_threads(cfg, PT_MAX_THREADS);
		rc = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	rc = rc != 0 ? 1 : 0;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_opts:
	free(opts.mountpoint);
out_free:
	fuse_opt_free_args(&args);
	free(av);
	if (pt.root.fd > 0)
		close(pt.root.fd);
	if (pt.mount_fd > 0)
		close(pt.mount_fd);
	return rc;
}
