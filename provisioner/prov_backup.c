/*
 * Backup jobs (docs/backups.md): take a backup, restore one into a new
 * file system, copy one, delete one. Rows of prov_jobs[] (prov.c); each
 * job's fs_id names its subject: the backup for backup, backup-copy and
 * backup-delete, the new file system for restore.
 *
 * Layout under STATE/backups:
 *   data/xx/KEY             one immutable file per object version; KEY
 *                           names the version (file system, OST, object,
 *                           inode, mtime, size) so an object unchanged
 *                           since an earlier backup is found, not copied
 *   <id>/mds.db             the namespace at the snapshot
 *   <id>/ostNNNN/xx/OID     hard links to data/xx/KEY
 *   <id>/manifest.json      OSTs, objects, bytes, snapshot time
 *   <id>.part/              a backup or copy being built
 * A data file is the snapshot's own inode when the store is on the OST's
 * file system and the object is at most LINK_MAX (a link: no byte moves),
 * else a copy. The collector removes the data files no backup directory
 * links (by inode), whatever else (a live or restored store) links them.
 *
 * Invariants:
 *  1. A backup is AVAILABLE only once <id>/ exists whole: it is built in
 *     <id>.part, each new data file's data synced (fdatasync), then every
 *     directory of the part and of data/ (fsync), then renamed and the
 *     root synced. No syncfs (nor in restores and copies): the disk's
 *     other writers are not flushed.
 *  2. Every run starts from nothing it left before (a job cut short by a
 *     crash is run again from the start), and a backup that fails for
 *     good leaves no part, no snapshot and no unreferenced data.
 *  3. Nothing is copied or linked in the pause (mds_snap.c, oss_snap.c):
 *     the OSSes link objects after it (captures before changes, then
 *     LINK); the data is linked or copied here, after that, and each
 *     snapshot link is removed as soon as its object is stored.
 *  4. A version key names one content: while anything else links an
 *     object, the OSS changes only a copy (a new inode). A linked data
 *     file is the object's inode, so it never changes in place; for a
 *     copied one, the snapshot link of an object whose mtime is less than
 *     KEY_SETTLE_S old is kept until that much time has passed, so a
 *     later in-place change always gets a later mtime than the one in
 *     the key (timestamps are coarse).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fcopy.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db_backup.h"
#include "prov.h"
#include "prov_int.h"

#define SNAP_TIMEOUT_MS	60000
#define KEY_SETTLE_S	1
#define KEY_MAX		400
#define BK_THREADS	2	/* copiers: one reads while the other writes */
/*
 * Objects of up to LINK_MAX bytes are shared by hard link (a backup takes
 * the snapshot's inode, a restore the backup's), larger ones copied: the
 * OSS copies a linked object up before its first change, and the cap
 * bounds what that first write costs.
 */
#define LINK_MAX	(64ll << 20)

/* One object of the snapshot to store. */
struct bk_item {
	char		*path;		/* OSTDIR/snap/<id>/xx/OID */
	const char	*name;		/* OID, inside path */
	int		 ost;
	unsigned	 xx;
};

struct bk {
	const char	*id;		/* the backup */
	const char	*fs_id;
	char		*root;		/* STATE/backups */
	char		*data;		/* STATE/backups/data */
	char		*part;		/* STATE/backups/<id>.part */
	double		 snap_time;
	long long	 objects, done;
	long long	 logical;	/* allocated bytes of the objects */
	long long	 stored;	/* bytes of new versions in data/ */
	long long	 copied;	/* of which copied (not linked) */
	double		 settle;	/* newest mtime of a kept link */
	int		 pct;		/* last progress reported */
	struct bk_item	*items;		/* the snapshot's objects */
	pthread_mutex_t	 mu;		/* logical, stored, settle */
	atomic_llong	 next, ndone;	/* items taken, items stored */
	atomic_int	 err, running;	/* first error; copiers running */
};

static char *
bk_root(void)
{
	return xasprintf("%s/backups", prov_conf->state_dir);
}

static int
report(const char *id, enum backup_lifecycle lc, int pct, long long size,
    const char *msg)
{
	struct prov_result r = { .event = PROV_BACKUP_STATE, .fs_id = id,
	    .lifecycle = (int)lc, .progress = pct, .size = size };

	if (msg != NULL)
		snprintf(r.message, sizeof(r.message), "%s", msg);
	return prov_report(&r);
}

/* The directory of OST `ost` of f (its node's path), or NULL. */
static char *
ost_dir(const struct prov_fs *f, int ost)
{
	char sub[16];

	snprintf(sub, sizeof(sub), "ost%04d", ost);
	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_MDS)
			return prov_store_path(prov_node(f->procs[i].node),
			    f->id, sub);
	return NULL;
}

static char *
mds_dir(const struct prov_fs *f)
{
	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_MDS)
			return prov_store_path(prov_node(f->procs[i].node),
			    f->id, "mds");
	return NULL;
}

/* Backups read and write stores directly: every process must be local. */
static int
all_local(const struct prov_fs *f)
{
	for (int i = 0; i < f->nprocs; i++)
		if (prov_node(f->procs[i].node)->ssh)
			return 0;
	return 1;
}

/* Remove the snapshot `name` from every store of f. */
static void
snaps_drop(const struct prov_fs *f, const char *name)
{
	char *d = mds_dir(f), *p;

	if (d != NULL) {
		p = xasprintf("%s/snap/%s", d, name);
		(void)rm_rf(p);
		free(p);
		free(d);
	}
	for (int i = 0; i < f->nosts; i++) {
		d = ost_dir(f, f->osts[i].idx);
		if (d == NULL)
			continue;
		p = xasprintf("%s/snap/%s", d, name);
		(void)rm_rf(p);
		free(p);
		free(d);
	}
}

/*
 * After MDS_SNAP: each OSS links the objects of its OSTs its open
 * snapshot has not captured yet (msg.h, OST_SNAP LINK), which closes it.
 */
static int
snaps_link(const struct prov_fs *f, struct msg_snap *sn)
{
	int rc = 0;

	sn->phase = MSG_SNAP_LINK;
	for (int i = 0; rc == 0 && i < f->nosts; i++) {
		const struct db_proc *oss = NULL;

		for (int j = 0; j < f->nprocs; j++)
			if (f->procs[j].role == ROLE_OSS &&
			    f->procs[j].idx == f->osts[i].oss)
				oss = &f->procs[j];
		if (oss == NULL)
			return -ENOENT;
		sn->ost = (uint32_t)f->osts[i].idx;
		rc = prov_call(f, oss, MSG_OP_OST_SNAP, sn, sizeof(*sn), NULL,
		    0, SNAP_TIMEOUT_MS);
	}
	return rc;
}

/* A set of inodes: those of the files under a directory (recursively). */
struct inos {
	ino_t		*v;
	size_t		 n, cap;
};

static void
inos_add_tree(struct inos *s, int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (d == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			sub = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				inos_add_tree(s, sub);
			continue;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 4096;
			s->v = realloc(s->v, s->cap * sizeof(*s->v));
			if (s->v == NULL)
				fatal("%s: out of memory", __func__);
		}
		s->v[s->n++] = st.st_ino;
	}
	closedir(d);
}

static int
ino_cmp(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Remove the data files no backup directory (nor a .part being built)
 * links: the inodes under every entry of root but data/ are the ones in
 * use. Returns the bytes freed (files nothing else linked).
 */
static long long
bk_collect(const struct bk *k)
{
	struct inos used = { 0 };
	long long freed = 0;
	DIR *r = opendir(k->root);
	struct dirent *de;

	if (r == NULL)
		return 0;
	while ((de = readdir(r)) != NULL) {
		int fd;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "data") == 0)
			continue;
		fd = openat(dirfd(r), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (fd >= 0)
			inos_add_tree(&used, fd);
	}
	closedir(r);
	if (used.n > 0)
		qsort(used.v, used.n, sizeof(*used.v), ino_cmp);
	for (int i = 0; i < 256; i++) {
		char *sub = xasprintf("%s/%02x", k->data, i);
		DIR *d = opendir(sub);

		free(sub);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			struct stat st;

			if (de->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || (used.n > 0 &&
			    bsearch(&st.st_ino, used.v, used.n,
			    sizeof(*used.v), ino_cmp) != NULL))
				continue;
			if (unlinkat(dirfd(d), de->d_name, 0) == 0 &&
			    st.st_nlink == 1)
				freed += (long long)st.st_blocks * 512;
		}
		closedir(d);
	}
	free(used.v);
	return freed;
}

static int
mkdir_at(const char *fmt_a, const char *b)
{
	char *p = xasprintf("%s/%s", fmt_a, b);
	int rc = mkdir_p(p, 0700);

	free(p);
	return rc;
}

/* fdatasync the file at path. */
static int
file_datasync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* fsync the directory at path and, with `deep`, every directory under it. */
static int
dirs_sync(const char *path, int deep)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	if (!deep || rc < 0) {
		close(fd);
		return rc;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *sub;

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", path, de->d_name);
		rc = dirs_sync(sub, 1);
		free(sub);
	}
	closedir(d);
	return rc;
}

/*
 * Put the version of it->path (stat st) at kpath: its own inode by a link
 * when it may be shared (invariant 4), else a copy (across file systems,
 * or larger than LINK_MAX). *copied gets the bytes copied; *linked says
 * which.
 */
static int
bk_put(const struct bk_item *it, const struct stat *st, const char *kpath,
    uint64_t *copied, int *linked)
{
	char *tmp;
	int in = -1, out = -1, rc = 0;

	*linked = 0;
	if (st->st_size <= LINK_MAX) {
		if (link(it->path, kpath) == 0 || errno == EEXIST) {
			*linked = 1;
			return file_datasync(kpath);
		}
		if (errno != EXDEV && errno != EPERM && errno != EMLINK)
			return -errno;
	}
	tmp = xasprintf("%s.tmp", kpath);
	in = open(it->path, O_RDONLY | O_CLOEXEC);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		rc = -errno;
	if (rc == 0)
		rc = fcopy_sparse(in, out, copied);
	if (rc == 0 && fdatasync(out) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, kpath) < 0)
		rc = -errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc < 0)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}

/* Store one object of the snapshot (see the layout at the top). */
static int
bk_object(struct bk *k, const struct bk_item *it)
{
	char key[KEY_MAX], sub[8];
	int kn, linked = 0, rc = 0;
	char *kpath, *dst;
	struct stat st;
	uint64_t copied = 0;
	long long added = 0;
	double mtime;

	if (lstat(it->path, &st) < 0)
		return -errno;
	snprintf(sub, sizeof(sub), "%02x", it->xx);
	kn = snprintf(key, sizeof(key), "%s.%d.%s.%ju.%jd.%09ld.%jd", k->fs_id,
	    it->ost, it->name, (uintmax_t)st.st_ino, (intmax_t)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec, (intmax_t)st.st_size);
	if (kn < 0 || (size_t)kn >= sizeof(key))
		return -ENAMETOOLONG;
	kpath = xasprintf("%s/%s/%s", k->data, sub, key);
	dst = xasprintf("%s/ost%04d/%s/%s", k->part, it->ost, sub, it->name);
	if (link(kpath, dst) < 0) {
		if (errno != ENOENT) {
			rc = -errno;
			goto out;
		}
		/* not stored by an earlier backup */
		rc = bk_put(it, &st, kpath, &copied, &linked);
		if (rc == 0 && link(kpath, dst) < 0)
			rc = -errno;
		if (rc < 0)
			goto out;
		added = (long long)st.st_blocks * 512;
	} else {
		struct stat ks;		/* stored before: the inode, or a copy */

		linked = stat(kpath, &ks) == 0 && ks.st_ino == st.st_ino &&
		    ks.st_dev == st.st_dev;
	}
	mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	linked = linked || mtime + KEY_SETTLE_S < now_epoch();
	if (linked)
		(void)unlink(it->path);		/* invariant 3 */
	pthread_mutex_lock(&k->mu);
	k->stored += added;
	k->copied += (long long)copied;
	k->logical += (long long)st.st_blocks * 512;
	if (!linked && mtime > k->settle)
		k->settle = mtime;			/* invariant 4 */
	pthread_mutex_unlock(&k->mu);
out:
	free(dst);
	free(kpath);
	return rc;
}

/* List the objects of one OST's snapshot (and make their directories). */
static int
bk_collect_ost(struct bk *k, const char *snapdir, int ost, long long *cap)
{
	int rc = 0;

	for (unsigned xx = 0; rc == 0 && xx < 256; xx++) {
		char *p = xasprintf("%s/%02x", snapdir, xx), sub[32];
		DIR *d = opendir(p);
		struct dirent *de;

		if (d == NULL) {
			free(p);
			continue;
		}
		snprintf(sub, sizeof(sub), "ost%04d/%02x", ost, xx);
		rc = mkdir_at(k->part, sub);
		snprintf(sub, sizeof(sub), "%02x", xx);
		if (rc == 0)
			rc = mkdir_at(k->data, sub);
		while (rc == 0 && (de = readdir(d)) != NULL) {
			struct bk_item *it;

			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			if (k->objects == *cap) {
				*cap = *cap ? *cap * 2 : 1024;
				k->items = realloc(k->items, (size_t)*cap *
				    sizeof(*k->items));
				if (k->items == NULL)
					fatal("%s: out of memory", __func__);
			}
			it = &k->items[k->objects++];
			it->path = xasprintf("%s/%s", p, de->d_name);
			it->name = strrchr(it->path, '/') + 1;
			it->ost = ost;
			it->xx = xx;
		}
		closedir(d);
		free(p);
	}
	return rc;
}

/* A copier: store items until none is left or one failed. */
static void *
bk_copier(void *arg)
{
	struct bk *k = arg;

	for (;;) {
		long long i = atomic_fetch_add(&k->next, 1);
		int rc;

		if (i >= k->objects || atomic_load(&k->err) != 0)
			break;
		rc = bk_object(k, &k->items[i]);
		if (rc < 0) {
			int zero = 0;

			(void)atomic_compare_exchange_strong(&k->err, &zero, rc);
			break;
		}
		atomic_fetch_add(&k->ndone, 1);
	}
	atomic_fetch_sub(&k->running, 1);
	return NULL;
}

/*
 * Store every listed object with BK_THREADS copiers (the disk reads for
 * one while the other writes); this thread reports the progress.
 */
static int
bk_store_all(struct bk *k)
{
	pthread_t t[BK_THREADS];
	int n = 0, rc = 0;

	atomic_store(&k->running, BK_THREADS);
	for (; n < BK_THREADS; n++)
		if (pthread_create(&t[n], NULL, bk_copier, k) != 0)
			break;
	atomic_fetch_sub(&k->running, BK_THREADS - n);
	if (n == 0)
		return -EAGAIN;
	while (atomic_load(&k->running) > 0) {
		long long done = atomic_load(&k->ndone);

		usleep(50000);
		if (rc == 0 && k->objects > 0 &&
		    10 + 85 * done / k->objects >= k->pct + 5) {
			k->pct = (int)(10 + 85 * done / k->objects);
			rc = report(k->id, BK_TRANSFERRING, k->pct, -1, NULL);
			if (rc < 0)
				atomic_store(&k->err, rc);
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return rc < 0 ? rc : atomic_load(&k->err);
}

static int
bk_manifest(const struct bk *k, const struct prov_fs *f, const char *path)
{
	json_t *m = json_object(), *osts = json_array();
	char *text;
	int rc;

	for (int i = 0; i < f->nosts; i++)
		json_array_append_new(osts, json_integer(f->osts[i].idx));
	json_object_set_new(m, "FileSystemId", json_string(k->fs_id));
	json_object_set_new(m, "Osts", osts);
	json_object_set_new(m, "Objects", json_integer(k->objects));
	json_object_set_new(m, "LogicalBytes", json_integer(k->logical));
	json_object_set_new(m, "StoredBytes", json_integer(k->stored));
	json_object_set_new(m, "CopiedBytes", json_integer(k->copied));
	json_object_set_new(m, "SnapshotTime", json_real(k->snap_time));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	rc = file_write_atomic(path, text, strlen(text));
	free(text);
	return rc;
}

/* Copy a whole file (holes kept) from src to a new file dst. */
static int
copy_file(const char *src, const char *dst, uint64_t *bytes)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out, rc;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	rc = fcopy_sparse(in, out, bytes);
	if (rc == 0 && fdatasync(out) < 0)
		rc = -errno;
	close(in);
	close(out);
	return rc;
}

static void
bk_fini(struct bk *k)
{
	for (long long i = 0; i < k->objects && k->items != NULL; i++)
		free(k->items[i].path);
	free(k->items);
	pthread_mutex_destroy(&k->mu);
	free(k->root);
	free(k->data);
	free(k->part);
}

static void
bk_init(struct bk *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
	k->id = id;
	k->root = bk_root();
	k->data = xasprintf("%s/data", k->root);
	k->part = xasprintf("%s/%s.part", k->root, id);
}

/* The backup job: snapshot, store, AVAILABLE (see the top of the file). */
int
job_backup(const struct db_job *j, struct prov_fs *f)
{
	struct db_backup b;
	struct msg_snap sn;
	struct db_proc *mds;
	enum fs_lifecycle lc;
	struct bk k;
	char *final = NULL, *p = NULL, *d;
	uint64_t dbbytes = 0, t0 = now_mono_ns(), t1 = 0, t2 = 0, t3 = 0;
	struct stat st;
	long long cap = 0;
	int rc;

	rc = db_backup_get(j->fs_id, NULL, NULL, &b);
	if (rc == -ENOENT)
		return 0;		/* deleted meanwhile */
	if (rc < 0)
		return rc;
	if (b.lifecycle == BK_AVAILABLE || b.lifecycle == BK_FAILED) {
		db_backup_fini(&b);
		return 0;		/* finished before a crash */
	}
	bk_init(&k, j->fs_id);
	k.fs_id = b.fs_id;
	rc = prov_fs_load(b.fs_id, f, &lc, NULL);
	if (rc == 0 && (lc == FS_CREATING || lc == FS_FAILED))
		rc = -EAGAIN;
	if (rc == 0 && !all_local(f))
		rc = -EOPNOTSUPP;
	mds = rc == 0 ? prov_mds(f) : NULL;
	if (rc == 0 && mds == NULL)
		rc = -ENOENT;
	if (rc < 0)
		goto out;
	/* invariant 2: nothing of an earlier run */
	(void)rm_rf(k.part);
	snaps_drop(f, k.id);
	rc = mkdir_p(k.part, 0700);
	if (rc == 0)
		rc = mkdir_p(k.data, 0700);
	if (rc == 0)
		rc = report(k.id, BK_CREATING, 0, -1, NULL);
	if (rc < 0)
		goto out;
	memset(&sn, 0, sizeof(sn));
	snprintf(sn.name, sizeof(sn.name), "%s", k.id);
	k.snap_time = now_epoch();
	rc = prov_call(f, mds, MSG_OP_MDS_SNAP, &sn, sizeof(sn), NULL, 0,
	    SNAP_TIMEOUT_MS);
	if (rc < 0) {
		log_warn("%s: %s: snapshot of %s: %s", __func__, k.id, b.fs_id,
		    strerror(-rc));
		goto out;
	}
	t1 = now_mono_ns();
	rc = snaps_link(f, &sn);
	t2 = now_mono_ns();
	if (rc < 0) {
		log_warn("%s: %s: links of %s: %s", __func__, k.id, b.fs_id,
		    strerror(-rc));
		goto out;
	}
	k.pct = 10;
	rc = report(k.id, BK_TRANSFERRING, k.pct, -1, NULL);
	for (int i = 0; rc == 0 && i < f->nosts; i++) {
		d = ost_dir(f, f->osts[i].idx);
		p = xasprintf("%s/snap/%s", d, k.id);
		rc = bk_collect_ost(&k, p, f->osts[i].idx, &cap);
		free(p);
		free(d);
	}
	if (rc == 0)
		rc = bk_store_all(&k);
	if (rc < 0)
		goto out;
	d = mds_dir(f);
	p = xasprintf("%s/snap/%s/mds.db", d, k.id);
	free(d);
	d = xasprintf("%s/mds.db", k.part);
	rc = link(p, d) == 0 ? 0 : copy_file(p, d, &dbbytes);	/* the snapshot's is ours */
	if (rc == 0)
		rc = file_datasync(d);
	if (rc == 0 && stat(d, &st) == 0) {
		k.logical += (long long)st.st_blocks * 512;
		k.stored += (long long)st.st_blocks * 512;
		k.copied += (long long)dbbytes;
	}
	free(p);
	free(d);
	p = xasprintf("%s/manifest.json", k.part);
	if (rc == 0)
		rc = bk_manifest(&k, f, p);
	free(p);
	t3 = now_mono_ns();
	if (rc == 0)
		rc = dirs_sync(k.part, 1);		/* invariant 1 */
	if (rc == 0)
		rc = dirs_sync(k.data, 1);
	final = xasprintf("%s/%s", k.root, k.id);
	(void)rm_rf(final);
	if (rc == 0 && rename(k.part, final) < 0)
		rc = -errno;
	if (rc == 0)
		rc = dirs_sync(k.root, 0);
	if (rc < 0)
		goto out;
	while (now_epoch() < k.settle + KEY_SETTLE_S)	/* invariant 4 */
		usleep(20000);
	snaps_drop(f, k.id);
	log_info("%s: %s of %s: %lld objects, %lld bytes, %lld stored"
	    " (%lld copied); snapshot %.3f s, links %.3f s, store %.3f s,"
	    " sync and settle %.3f s", __func__, k.id, b.fs_id, k.objects,
	    k.logical, k.stored, k.copied, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9,
	    (now_mono_ns() - t3) / 1e9);
	rc = report(k.id, BK_AVAILABLE, 100, k.logical, NULL);
out:
	free(final);
	bk_fini(&k);
	db_backup_fini(&b);
	return rc;
}

/* What a backup that failed for good leaves: nothing (invariant 2). */
void
job_backup_failed(const struct db_job *j, int rc)
{
	struct prov_fs *f = xcalloc(1, sizeof(*f));
	struct db_backup b;
	char msg[256];
	struct bk k;

	bk_init(&k, j->fs_id);
	(void)rm_rf(k.part);
	if (db_backup_get(j->fs_id, NULL, NULL, &b) == 0) {
		if (prov_fs_load(b.fs_id, f, NULL, NULL) == 0)
			snaps_drop(f, j->fs_id);
		db_backup_fini(&b);
	}
	(void)bk_collect(&k);
	snprintf(msg, sizeof(msg), "The backup could not be taken: %s.",
	    rc == -EOPNOTSUPP ? "its file system runs on remote storage"
	    " nodes" : strerror(-rc));
	(void)report(j->fs_id, BK_FAILED, 0, -1, msg);
	bk_fini(&k);
	free(f);
}

/* Link every file under src (recursively) to the same path under dst. */
static int
link_tree(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = mkdir_p(dst, 0700);

	if (d == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *s, *t;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = xasprintf("%s/%s", src, de->d_name);
		t = xasprintf("%s/%s", dst, de->d_name);
		if (de->d_type == DT_DIR)
			rc = link_tree(s, t);
		else if (link(s, t) < 0)
			rc = -errno;
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/*
 * backup-copy: the copy's directory holds links to the source's files
 * (its objects are the same immutable data files), so a copy costs
 * metadata only and outlives its source.
 */
int
job_backup_copy(const struct db_job *j, struct prov_fs *f)
{
	struct db_backup b;
	char *src = NULL, *final = NULL;
	struct bk k;
	int rc;

	(void)f;
	rc = db_backup_get(j->fs_id, NULL, NULL, &b);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (b.lifecycle != BK_COPYING) {
		db_backup_fini(&b);
		return 0;
	}
	if (prov_conf->create_delay_sec > 0)	/* to watch COPYING */
		usleep((useconds_t)(prov_conf->create_delay_sec * 1e6));
	bk_init(&k, j->fs_id);
	src = xasprintf("%s/%s", k.root, b.source_id);
	final = xasprintf("%s/%s", k.root, j->fs_id);
	(void)rm_rf(k.part);
	rc = link_tree(src, k.part);
	if (rc == 0)
		rc = dirs_sync(k.part, 1);
	(void)rm_rf(final);
	if (rc == 0 && rename(k.part, final) < 0)
		rc = -errno;
	if (rc == 0)
		rc = dirs_sync(k.root, 0);
	if (rc == 0)
		rc = report(j->fs_id, BK_AVAILABLE, 100, -1, NULL);
	free(src);
	free(final);
	bk_fini(&k);
	db_backup_fini(&b);
	return rc;
}

void
job_backup_copy_failed(const struct db_job *j, int rc)
{
	char msg[256];
	struct bk k;

	bk_init(&k, j->fs_id);
	(void)rm_rf(k.part);
	snprintf(msg, sizeof(msg), "The backup could not be copied: %s.",
	    strerror(-rc));
	(void)report(j->fs_id, BK_FAILED, 0, -1, msg);
	bk_fini(&k);
}

/* backup-delete: the row is gone already; remove its files and collect. */
int
job_backup_delete(const struct db_job *j, struct prov_fs *f)
{
	struct bk k;
	char *final;
	long long freed;

	(void)f;
	bk_init(&k, j->fs_id);
	final = xasprintf("%s/%s", k.root, j->fs_id);
	(void)rm_rf(k.part);
	(void)rm_rf(final);
	freed = bk_collect(&k);
	log_info("%s: %s: %lld bytes freed", __func__, j->fs_id, freed);
	free(final);
	bk_fini(&k);
	return 0;
}

/*
 * One object into a new store: a link to the backup's immutable data file
 * when it is at most LINK_MAX (the OSS copies it up before its
 * first change, so the backup never changes; the cap bounds what that
 * first write costs), else a copy.
 */
static int
restore_object(const char *src, const char *dst)
{
	struct stat st;

	if (stat(src, &st) < 0)
		return -errno;
	if (st.st_size <= LINK_MAX && link(src, dst) == 0)
		return 0;
	return copy_file(src, dst, NULL);
}

/* Fill the stores of f (laid out, not running) from backup dir `src`. */
static int
restore_fill(const struct prov_fs *f, const char *src)
{
	char *d = mds_dir(f), *s, *t;
	int rc;

	s = xasprintf("%s/mds.db", src);
	t = xasprintf("%s/mds.db", d);
	rc = mkdir_p(d, 0700);
	if (rc == 0)
		rc = copy_file(s, t, NULL);
	free(s);
	free(t);
	free(d);
	for (int i = 0; rc == 0 && i < f->nosts; i++) {
		int ost = f->osts[i].idx;

		d = ost_dir(f, ost);
		for (unsigned xx = 0; rc == 0 && xx < 256; xx++) {
			char *sd = xasprintf("%s/ost%04d/%02x", src, ost, xx);
			char *td = xasprintf("%s/O/%02x", d, xx);
			DIR *dir = opendir(sd);
			struct dirent *de;

			if (dir != NULL)
				rc = mkdir_p(td, 0700);
			while (dir != NULL && rc == 0 &&
			    (de = readdir(dir)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				s = xasprintf("%s/%s", sd, de->d_name);
				t = xasprintf("%s/%s", td, de->d_name);
				rc = restore_object(s, t);
				free(s);
				free(t);
			}
			if (dir != NULL)
				closedir(dir);
			free(sd);
			free(td);
		}
		free(d);
	}
	/* copies were synced one by one; links need their directories */
	d = mds_dir(f);
	if (rc == 0)
		rc = dirs_sync(d, 1);
	for (int i = 0; rc == 0 && i < f->nosts; i++) {
		char *o = ost_dir(f, f->osts[i].idx);

		rc = dirs_sync(o, 1);
		free(o);
	}
	if (rc == 0) {
		s = xstrdup(d);
		rc = dirs_sync(dirname(s), 0);
		free(s);
	}
	free(d);
	return rc;
}

/* The OST count a backup holds (its manifest), or -errno. */
static int
restore_nost(const char *src)
{
	char *p = xasprintf("%s/manifest.json", src);
	json_t *m = json_load_file(p, 0, NULL);
	int n;

	free(p);
	if (m == NULL)
		return -EIO;
	n = (int)json_array_size(json_object_get(m, "Osts"));
	json_decref(m);
	return n > 0 ? n : -EIO;
}

/*
 * restore: lay out the new file system with the backup's OST count, fill
 * its stores before any process starts (the database copied, objects
 * linked or copied: restore_object), then start them (as a create) and
 * report CREATED. A run cut short is started over from empty stores.
 */
int
job_restore(const struct db_job *j, struct prov_fs *f)
{
	struct prov_result r = { .event = PROV_CREATED, .fs_id = j->fs_id };
	char bid[DB_ID_MAX], *root, *src;
	enum fs_lifecycle lc;
	long long gib;
	int nost, rc;

	rc = prov_fs_load(j->fs_id, f, &lc, &gib);
	if (rc == -ENOENT || (rc == 0 && lc != FS_CREATING))
		return 0;
	if (rc < 0)
		return rc;
	rc = db_restore_backup(j->fs_id, bid, sizeof(bid));
	if (rc < 0)
		return rc;
	if (prov_conf->create_delay_sec > 0)	/* as a create's CREATING */
		usleep((useconds_t)(prov_conf->create_delay_sec * 1e6));
	root = bk_root();
	src = xasprintf("%s/%s", root, bid);
	free(root);
	nost = restore_nost(src);
	if (nost < 0) {
		free(src);
		return nost;
	}
	if (f->nprocs > 0) {		/* an earlier run: start over */
		prov_down(j->fs_id);
		rc = prov_fs_load(j->fs_id, f, &lc, &gib);
	}
	pthread_mutex_lock(&prov_proc_mu);
	if (rc == 0)
		rc = prov_layout(f, nost, gib);
	if (rc == 0 && (f->nosts != nost || !all_local(f)))
		rc = -EOPNOTSUPP;
	if (rc == 0)
		rc = prov_proc_dirs(f);
	if (rc == 0)
		rc = restore_fill(f, src);
	if (rc == 0)
		rc = prov_up(f);
	pthread_mutex_unlock(&prov_proc_mu);
	free(src);
	if (rc < 0)
		return rc;
	r.nost = f->nosts;
	return prov_report(&r);
}

void
job_restore_failed(const struct db_job *j, int rc)
{
	struct prov_result r = { .event = PROV_CREATE_FAILED, .fs_id = j->fs_id };

	snprintf(r.message, sizeof(r.message), "The file system could not be"
	    " restored from its backup: %s.", rc == -EOPNOTSUPP ? "the backup's"
	    " OSTs do not fit this endpoint's layout" : strerror(-rc));
	prov_down(j->fs_id);
	(void)prov_report(&r);
}
