/*
 * The MDS store's SQLite VFS (see mds_vfs.h): "unix-excl" with the WAL
 * appends of a commit written by one pwrite().
 *
 * Every file is a struct vfile followed by the real unix-excl file. Only
 * files opened with SQLITE_OPEN_WAL buffer writes: a write that continues
 * the buffered run (same file offset as its end) is appended to it; any
 * other write, and every other method that looks at the file, first
 * writes the run out. Locks and the in-heap WAL index go straight to the
 * real file.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mds/mds_vfs.h"

#define VFS_BASE	"unix-excl"
/*
 * A run is written with one xWrite of the unix VFS, whose seekAndWrite()
 * masks the byte count to 17 bits (SQLite never writes more than a 64 KiB
 * page plus a frame header at once): a run of 128 KiB or more came back
 * short and the commit failed with SQLITE_FULL (256 KiB here once did,
 * for every commit of more than ~125 frames of 1 KiB pages).
 */
#define WBUF_MAX	(96 * 1024)
_Static_assert(WBUF_MAX < 0x20000, "unixWrite writes at most 0x1ffff bytes");

struct vfile {
	sqlite3_file	 base;		/* pMethods: ours */
	sqlite3_file	*real;		/* the unix-excl file, after us */
	int		 wal;
	char		*buf;		/* pending run [off, off + len) */
	sqlite3_int64	 off;
	int		 len;
};

static sqlite3_vfs *vfs_real;
static sqlite3_vfs vfs_ours;
static sqlite3_io_methods vfs_methods;
static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_rc;

static int
vf_flush(struct vfile *f)
{
	int rc, len = f->len;

	if (len == 0)
		return SQLITE_OK;
	f->len = 0;
	rc = f->real->pMethods->xWrite(f->real, f->buf, len, f->off);
	return rc;
}

static int
vf_close(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	int rc, rc2;

	rc = vf_flush(f);
	rc2 = f->real->pMethods->xClose(f->real);
	sqlite3_free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
vf_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xRead(f->real, p, n, off);
}

static int
vf_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	if (!f->wal || n <= 0 || n > WBUF_MAX)
		goto direct;
	if (f->buf == NULL) {
		f->buf = sqlite3_malloc(WBUF_MAX);
		if (f->buf == NULL)
			goto direct;
	}
	if (f->len > 0 && (off != f->off + f->len ||
	    f->len + n > WBUF_MAX)) {
		rc = vf_flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, p, (size_t)n);
	f->len += n;
	return SQLITE_OK;
direct:
	rc = vf_flush(f);
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xWrite(f->real, p, n, off);
}

static int
vf_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xTruncate(f->real, size);
}

/*
 * A commit syncs the WAL with SQLITE_SYNC_NORMAL (synchronous=FULL): the
 * run goes to the kernel, not to the disk (synchronous=NORMAL's promise).
 * Checkpoints and WAL restarts sync it with SQLITE_SYNC_FULL
 * (checkpoint_fullfsync): those, and every other file, reach the disk.
 */
static int
vf_sync(sqlite3_file *file, int flags)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	if (f->wal && (flags & 0x0f) == SQLITE_SYNC_NORMAL)
		return SQLITE_OK;
	return f->real->pMethods->xSync(f->real, flags);
}

static int
vf_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFileSize(f->real, size);
}

static int
vf_lock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xLock(f->real, lock);
}

static int
vf_unlock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
vf_reserved(sqlite3_file *file, int *out)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
vf_fcntl(sqlite3_file *file, int op, void *arg)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	if (op == SQLITE_FCNTL_VFSNAME) {
		/* ours on top of the real one's */
		int rc2 = f->real->pMethods->xFileControl(f->real, op, arg);

		if (rc2 == SQLITE_OK && *(char **)arg != NULL) {
			char *n = sqlite3_mprintf("%s/%z", MDS_VFS_NAME,
			    *(char **)arg);

			*(char **)arg = n;
		}
		return rc2;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
vf_sector(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
vf_devchar(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
vf_shm_map(sqlite3_file *file, int pg, int pgsz, int extend,
    void volatile **pp)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int
vf_shm_lock(sqlite3_file *file, int ofs, int n, int flags)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmLock(f->real, ofs, n, flags);
}

static void
vf_shm_barrier(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	f->real->pMethods->xShmBarrier(f->real);
}

static int
vf_shm_unmap(sqlite3_file *file, int del)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int
vf_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **pp)
{
	struct vfile *f = (struct vfile *)file;
	int rc = vf_flush(f);

	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int
vf_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static int
vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *outflags)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = vfs_real->xOpen(vfs_real, name, f->real, flags, outflags);
	if (rc != SQLITE_OK || f->real->pMethods == NULL) {
		f->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	if (f->real->pMethods->iVersion < vfs_methods.iVersion) {
		/* an older real file than we forward to */
		f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->base.pMethods = &vfs_methods;
	return SQLITE_OK;
}

static void
vfs_init(void)
{
	static const sqlite3_io_methods m = {
		.iVersion = 3,
		.xClose = vf_close,
		.xRead = vf_read,
		.xWrite = vf_write,
		.xTruncate = vf_truncate,
		.xSync = vf_sync,
		.xFileSize = vf_size,
		.xLock = vf_lock,
		.xUnlock = vf_unlock,
		.xCheckReservedLock = vf_reserved,
		.xFileControl = vf_fcntl,
		.xSectorSize = vf_sector,
		.xDeviceCharacteristics = vf_devchar,
		.xShmMap = vf_shm_map,
		.xShmLock = vf_shm_lock,
		.xShmBarrier = vf_shm_barrier,
		.xShmUnmap = vf_shm_unmap,
		.xFetch = vf_fetch,
		.xUnfetch = vf_unfetch,
	};

	vfs_real = sqlite3_vfs_find(VFS_BASE);
	if (vfs_real == NULL) {
		vfs_rc = -ENOSYS;
		return;
	}
	vfs_methods = m;
	/* The real VFS's other methods take our vfs: they only read
	 * mxPathname and pAppData, copied here. */
	vfs_ours = *vfs_real;
	vfs_ours.pNext = NULL;
	vfs_ours.zName = MDS_VFS_NAME;
	vfs_ours.szOsFile = (int)((sizeof(struct vfile) + 7) / 8 * 8) +
	    vfs_real->szOsFile;
	vfs_ours.xOpen = vfs_open;
	if (sqlite3_vfs_register(&vfs_ours, 0) != SQLITE_OK)
		vfs_rc = -ENOMEM;
}

int
mds_vfs_register(void)
{
	pthread_once(&vfs_once, vfs_init);
	return vfs_rc;
}

int
mds_vfs_flush(sqlite3 *db)
{
	sqlite3_file *file = NULL;
	int rc;

	rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &file);
	if (rc != SQLITE_OK || file == NULL || file->pMethods != &vfs_methods)
		return 0;
	rc = vf_flush((struct vfile *)file);
	return rc == SQLITE_OK ? 0 : -EIO;
}
