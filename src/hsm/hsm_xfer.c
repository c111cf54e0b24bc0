/*
 * Data between S3 and the file system: restores (the restore threads) and
 * the export of one file.
 *
 * Restore of a RELEASED file (the MDS asked, an opener waits):
 *   the file is opened for write (the MDS lets the agent's opens through),
 *   HSM_RESTORE_STREAMS threads each take the next HSM_RESTORE_RANGE bytes
 *   of the object, GET that range from S3 into a buffer of their own and
 *   write it at the same offset (libfsx stripes it over the layout's
 *   objects), until the whole size is written; then the file's times are
 *   put back (the close moved mtime) and HSM_DONE(0) clears RELEASED.
 *   S3 failures are retried (with the client's own backoff) until
 *   restore_ms has passed, then HSM_DONE(-EIO): the openers get EIO, the
 *   file stays RELEASED and a later open restores it again. Nothing is
 *   ever made visible half-restored: RELEASED is cleared only at the end.
 *
 * Export: the file is read (the agent's reads never wait for a restore)
 * into an unnamed temporary file in the store, which s3_put_fd uploads
 * (multipart above the part size), with FSx's POSIX user metadata.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "hsm/hsm_fs.h"
#include "hsm/hsm_xfer.h"

int
hsm_origin_split(const char *origin, char *bucket, size_t blen,
    const char **key)
{
	const char *slash = strchr(origin, '/');
	size_t n;

	if (slash == NULL || slash == origin || slash[1] == '\0')
		return -EINVAL;
	n = (size_t)(slash - origin);
	if (n >= blen)
		return -EINVAL;
	memcpy(bucket, origin, n);
	bucket[n] = '\0';
	*key = slash + 1;
	return 0;
}

/* One restore's shared state. */
struct rjob {
	struct hsm	*h;
	struct fsc	*fs;
	struct fsc_file	*f;
	struct s3_conf	 conf;
	char		 bucket[64];
	const char	*key;
	uint64_t	 size;
	uint64_t	 deadline_ns;
	atomic_uint_fast64_t next;	/* next range to fetch */
	atomic_uint_fast64_t moved;	/* bytes written, for hsm_action */
	uint64_t	 ino;
	atomic_int	 rc;
};

struct rbuf {
	char	*p;
	size_t	 n, cap;
};

static int
rbuf_put(void *arg, const void *buf, size_t n)
{
	struct rbuf *b = arg;

	if (n > b->cap - b->n)
		return -EIO;	/* more than asked for */
	memcpy(b->p + b->n, buf, n);
	b->n += n;
	return 0;
}

/* One stream: ranges until none is left or something failed. */
static void *
rstream_main(void *arg)
{
	struct rjob *j = arg;
	struct s3_client *s3 = s3_client_new(&j->conf);
	struct rbuf b = { xmalloc(HSM_RESTORE_RANGE), 0, HSM_RESTORE_RANGE };

	if (s3 == NULL)
		atomic_store(&j->rc, -ENOMEM);
	while (s3 != NULL && atomic_load(&j->rc) == 0) {
		uint64_t off = atomic_fetch_add(&j->next, HSM_RESTORE_RANGE);
		uint64_t len;
		struct s3_error e;
		size_t done;
		int rc;

		if (off >= j->size)
			break;
		len = j->size - off < HSM_RESTORE_RANGE ? j->size - off :
		    HSM_RESTORE_RANGE;
		for (;;) {
			b.n = 0;
			memset(&e, 0, sizeof(e));
			rc = s3_get(s3, j->bucket, j->key, off, len, rbuf_put,
			    &b, &e);
			if (rc == 0 && b.n != len)
				rc = -EIO;	/* the object changed size */
			if (rc == 0 || rc == -ENOENT || rc == -EACCES ||
			    now_mono_ns() >= j->deadline_ns ||
			    atomic_load(&j->rc) != 0)
				break;
			log_warn("hsm: restore %s/%s @%" PRIu64 ": %s %s; "
			    "retrying", j->bucket, j->key, off, e.code,
			    e.message);
			usleep(200 * 1000);
		}
		if (rc == 0)
			rc = fsc_file_write(j->fs, j->f, b.p, len, off, &done);
		if (rc == 0)
			(void)hsm_fs_progress(j->fs, j->ino, MSG_HSM_RESTORE,
			    atomic_fetch_add(&j->moved, len) + len, 1);
		if (rc < 0) {
			log_warn("hsm: restore %s/%s @%" PRIu64 ": %s %s",
			    j->bucket, j->key, off, strerror(-rc), e.message);
			atomic_store(&j->rc, -EIO);
		}
	}
	s3_client_free(s3);
	free(b.p);
	return NULL;
}

int
hsm_restore_one(struct hsm *h, struct fsc *fs, uint64_t ino,
    const char *origin)
{
	pthread_t thr[HSM_RESTORE_STREAMS];
	struct msg_setattr sa;
	struct msg_attr a, after;
	struct rjob *j;
	int n = 0, rc;

	j = xcalloc(1, sizeof(*j));
	j->h = h;
	j->fs = fs;
	j->ino = ino;
	rc = hsm_origin_split(origin, j->bucket, sizeof(j->bucket), &j->key);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&h->mu);
	j->conf = h->s3;
	rc = h->have_s3 ? 0 : -EAGAIN;
	j->deadline_ns = now_mono_ns() +
	    (uint64_t)(h->restore_ms > 500 ? h->restore_ms - 300 :
	    h->restore_ms) * 1000000ull;
	pthread_mutex_unlock(&h->mu);
	if (rc < 0)
		goto out;
	rc = fsc_getattr(fs, ino, &hsm_root, &a);
	if (rc < 0)
		goto out;
	j->size = a.size;
	rc = fsc_file_open(fs, ino, O_WRONLY, &hsm_root, &after, &j->f);
	if (rc < 0)
		goto out;
	for (; n < HSM_RESTORE_STREAMS && (uint64_t)n * HSM_RESTORE_RANGE <
	    j->size; n++)
		if (pthread_create(&thr[n], NULL, rstream_main, j) != 0)
			break;
	for (int i = 0; i < n; i++)
		pthread_join(thr[i], NULL);
	rc = atomic_load(&j->rc);
	if (n == 0 && j->size > 0 && rc == 0)
		rc = -EAGAIN;
	{
		int crc = fsc_file_close(fs, j->f);

		if (rc == 0)
			rc = crc;
	}
	if (rc == 0) {
		/* the close stamped our write time: put the file's back */
		memset(&sa, 0, sizeof(sa));
		sa.ino = ino;
		sa.cred = hsm_root;
		sa.valid = MSG_SA_MTIME | MSG_SA_ATIME;
		sa.mtime_sec = a.mtime_sec;
		sa.mtime_nsec = a.mtime_nsec;
		sa.atime_sec = a.atime_sec;
		sa.atime_nsec = a.atime_nsec;
		rc = fsc_setattr(fs, NULL, &sa, &after);
	}
out:
	if (atomic_load(&j->moved) > 0)
		(void)hsm_fs_progress(fs, ino, MSG_HSM_RESTORE, 0, 0);
	explicit_bzero(&j->conf, sizeof(j->conf));
	free(j);
	return rc;
}

static void *
restore_main(void *arg)
{
	struct hsm *h = arg;

	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct hsm_action *a = hsm_action_pop(&h->restores);
		struct fsc *fs;
		uint64_t t0;
		int rc;

		if (a == NULL) {
			pthread_cond_wait(&h->rcond, &h->mu);
			continue;
		}
		pthread_mutex_unlock(&h->mu);
		t0 = now_mono_ns();
		fs = hsm_fs_get(h);
		rc = fs != NULL ? hsm_restore_one(h, fs, a->ino, a->origin) :
		    -ENOTCONN;
		if (fs != NULL)
			(void)hsm_fs_done(fs, a->ino, rc < 0 ? -EIO : 0);
		log_info("hsm: restore of ino %" PRIu64 " from %s (%" PRIu64
		    " bytes): %s in %.3f s", a->ino, a->origin, a->size,
		    rc < 0 ? strerror(-rc) : "done",
		    (double)(now_mono_ns() - t0) / 1e9);
		pthread_mutex_lock(&h->mu);
		if (rc < 0)
			h->n_restore_failed++;
		else
			h->n_restored++;
		free(a);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int
hsm_restore_start(struct hsm *h)
{
	for (int i = 0; i < HSM_RESTORE_THREADS; i++) {
		int rc = pthread_create(&h->rthr[i], NULL, restore_main, h);

		if (rc != 0)
			return -rc;
		h->nrthr++;
	}
	return 0;
}

void
hsm_restore_stop(struct hsm *h)
{
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->rcond);
	pthread_mutex_unlock(&h->mu);
	for (int i = 0; i < h->nrthr; i++)
		pthread_join(h->rthr[i], NULL);
	h->nrthr = 0;
}

/* ---- export ---- */

static void
meta_set(struct s3_meta *m, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
meta_set(struct s3_meta *m, const char *name, const char *fmt, ...)
{
	va_list ap;

	snprintf(m->name, sizeof(m->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(m->value, sizeof(m->value), fmt, ap);
	va_end(ap);
}

int
hsm_posix_meta(const struct msg_attr *a, struct s3_meta *m)
{
	meta_set(&m[0], "file-permissions", "%07o", a->mode);
	meta_set(&m[1], "file-owner", "%u", a->uid);
	meta_set(&m[2], "file-group", "%u", a->gid);
	meta_set(&m[3], "file-atime", "%" PRId64 "ns",
	    a->atime_sec * 1000000000 + a->atime_nsec);
	meta_set(&m[4], "file-mtime", "%" PRId64 "ns",
	    a->mtime_sec * 1000000000 + a->mtime_nsec);
	return 5;
}

/* "1595002920000000000ns" -> sec, nsec. 0 or -EINVAL. */
static int
ns_parse(const char *s, int64_t *sec, int64_t *nsec)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || (strcmp(end, "ns") != 0 && *end != '\0')
	    || v < 0)
		return -EINVAL;
	*sec = v / 1000000000;
	*nsec = v % 1000000000;
	return 0;
}

void
hsm_posix_from_meta(const struct s3_object *o, struct msg_hsm_import *im)
{
	for (int i = 0; i < o->nmeta; i++) {
		const char *n = o->meta[i].name, *v = o->meta[i].value;
		char *end;
		unsigned long x;

		errno = 0;
		if (strcmp(n, "file-permissions") == 0) {
			x = strtoul(v, &end, 8);
			if (errno == 0 && *end == '\0' &&
			    ((x & S_IFMT) == S_IFREG || (x & S_IFMT) == 0))
				im->mode = (uint32_t)(x & 07777);
		} else if (strcmp(n, "file-owner") == 0) {
			x = strtoul(v, &end, 10);
			if (errno == 0 && *end == '\0' && x < 0xffffffffUL)
				im->uid = (uint32_t)x;
		} else if (strcmp(n, "file-group") == 0) {
			x = strtoul(v, &end, 10);
			if (errno == 0 && *end == '\0' && x < 0xffffffffUL)
				im->gid = (uint32_t)x;
		} else if (strcmp(n, "file-mtime") == 0) {
			(void)ns_parse(v, &im->mtime_sec, &im->mtime_nsec);
		} else if (strcmp(n, "file-atime") == 0) {
			(void)ns_parse(v, &im->atime_sec, &im->atime_nsec);
		}
	}
}

int
hsm_export_marker(struct hsm *h, struct s3_client *s3, const char *bucket,
    const char *key, const struct msg_attr *at, const void *data,
    size_t len, struct s3_error *e)
{
	struct s3_meta meta[8];
	int nmeta = hsm_posix_meta(at, meta), fd, rc;

	/* s3_put_fd carries the metadata: a small unnamed file */
	fd = open(h->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = len > 0 && write(fd, data, len) != (ssize_t)len ? -EIO : 0;
	if (rc == 0)
		rc = s3_put_fd(s3, bucket, key, fd, 0, len, meta, nmeta, e);
	close(fd);
	return rc;
}

int
hsm_export_file(struct hsm *h, struct fsc *fs, struct s3_client *s3,
    uint64_t ino, const char *bucket, const char *key, struct s3_error *e)
{
	struct s3_meta meta[8];
	struct msg_attr a, after;
	struct fsc_file *f = NULL;
	char origin[2048], *buf = NULL;
	uint64_t off = 0;
	int fd, rc, nmeta;

	memset(e, 0, sizeof(*e));
	if (snprintf(origin, sizeof(origin), "%s/%s", bucket, key) >=
	    (int)sizeof(origin))
		return -ENAMETOOLONG;
	fd = open(h->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = fsc_file_open(fs, ino, O_RDONLY, &hsm_root, &a, &f);
	if (rc < 0)
		goto out;
	(void)hsm_fs_progress(fs, ino, MSG_HSM_ARCHIVE, 0, 1);
	buf = xmalloc(4u << 20);
	while (rc == 0 && off < a.size) {
		size_t done = 0;

		rc = fsc_file_read(fs, f, buf, 4u << 20, off, &done);
		if (rc == 0 && done == 0)
			break;
		if (rc == 0 && pwrite(fd, buf, done, (off_t)off) !=
		    (ssize_t)done)
			rc = -errno ? -errno : -EIO;
		off += done;
	}
	(void)fsc_file_close(fs, f);
	if (rc < 0)
		goto out;
	nmeta = hsm_posix_meta(&a, meta);
	rc = s3_put_fd(s3, bucket, key, fd, 0, off, meta, nmeta, e);
	if (rc < 0)
		goto out;
	/* changed while we copied it: stays DIRTY, exported again later */
	rc = fsc_getattr(fs, ino, &hsm_root, &after);
	if (rc == 0 && (after.mtime_sec != a.mtime_sec ||
	    after.mtime_nsec != a.mtime_nsec || after.size != a.size))
		rc = -ESTALE;
	if (rc == 0)
		rc = hsm_fs_set(fs, ino, MSG_HSM_EXISTS | MSG_HSM_ARCHIVED,
		    MSG_HSM_DIRTY | MSG_HSM_LOST, origin, NULL);
out:
	if (buf != NULL)	/* it was shown running */
		(void)hsm_fs_progress(fs, ino, MSG_HSM_ARCHIVE, off, 0);
	free(buf);
	close(fd);
	pthread_mutex_lock(&h->mu);
	if (rc < 0)
		h->n_export_failed++;
	else
		h->n_exported++;
	pthread_mutex_unlock(&h->mu);
	return rc;
}
