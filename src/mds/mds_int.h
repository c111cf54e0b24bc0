/*
 * Internal to the MDS store (mds_ns.c and the files split from it:
 * mds_tx.c, mds_open.c, mds_layout.c, mds_xattr.c, mds_destroy.c): its
 * structures and the functions one of those files offers the others. Not
 * for mds_srv.c or anyone outside the store: they use mds_ns.h.
 *
 * Locking: every function below expects the store lock held (taken with
 * mds_tx_wlock/mds_tx_rlock) and, when it writes, a transaction begun with
 * mds_tx_begin(); none of them commits.
 */
#ifndef FSX_MDS_INT_H
#define FSX_MDS_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "mds/mds_ns.h"
#include "mds/mds_vfs.h"

#define OHASH_SIZE	4096
#define XATTR_TOTAL_MAX	(1024 * 1024)	/* names + values per inode */
#define BATCH_MAX	128		/* requests per group commit */
#define FAILED_RING	16
#define MDS_RESERVE_BYTES (4 * 1024 * 1024)	/* mds.reserve (mds_tx.c) */
#define LAZY_HASH	1024		/* buckets of deferred atimes */
#define LAZY_BATCH	256		/* deferred atimes stored together */
#define LAZY_AGE_NS	1000000000ull	/* or once the oldest is this old */

/*
 * The store is private to one fsx-mds process: its VFS (mds_vfs.h) is
 * "unix-excl", which takes one exclusive lock on the database file for the
 * life of the process and keeps the WAL index in heap memory shared by
 * this process's connections, so transactions need no fcntl() lock calls
 * (8 per commit, 4 per read otherwise) and no -shm file; a second process
 * opening the same store fails with SQLITE_BUSY. On top of it the WAL
 * frames of a commit are written with one pwrite() (not two per page).
 */
#define NS_VFS		MDS_VFS_NAME

struct mds_ino {
	uint64_t	ino;
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	nlink;
	uint64_t	size;
	uint64_t	rdev;
	struct timespec	at, mt, ct;
	uint64_t	gen;
	uint64_t	parent;		/* dirs: the parent directory */
	uint64_t	dseq;		/* dirs: last entry sequence number */
	int		written;	/* regular: data ever written */
	int64_t		blocks;		/* regular: 512-byte blocks of its
					   objects at the last writer's
					   close; -1: not known */
};

struct ofile {
	uint64_t	ino;
	uint32_t	opens;
	uint32_t	writers;
	uint32_t	trunc_gen;
	struct timespec	mt_set;		/* last SETATTR of mtime or size */
	uint32_t	at_gen;		/* atime SETATTRs while open */
	/* APPENDs reserve at the MDS, and their data reaches the OSTs
	 * later: with app_open, the stored size may end in ranges not
	 * written yet, and app_base is the size before them, raised by
	 * CLOSEs (their data is written) and reset by a size SETATTR or
	 * O_TRUNC. A backup takes app_base, then what the objects hold. */
	uint64_t	app_base;
	int		app_open;
	struct ofile	*next;
};

struct ohandle {
	uint64_t	handle;
	uint64_t	owner;
	uint64_t	ino;
	uint32_t	flags;
	uint32_t	trunc_gen;
	uint32_t	at_gen;		/* ofile's at_gen at open */
	struct ohandle	*next;
};

struct idrange {
	uint32_t	ost;
	int		valid;
	uint64_t	next;
	uint64_t	end;
};

enum q {
	Q_INO_GET,
	Q_INO_GET_LAY,
	Q_INO_TIMES,
	Q_INO_INS,
	Q_INO_UPD,
	Q_INO_DEL,
	Q_INO_ATIME,
	Q_LAYOUT_GET,
	Q_LAYOUT_SET,
	Q_TARGET_GET,
	Q_DENT_GET,
	Q_DENT_INS,
	Q_DENT_DEL,
	Q_DENT_UPD,
	Q_DENT_ANY,
	Q_DENT_LIST,
	Q_XA_GET,
	Q_XA_SET,
	Q_XA_DEL,
	Q_XA_DELALL,
	Q_XA_LIST,
	Q_XA_TOTAL,
	Q_DESTROY_INS,
	Q_DESTROY_INS4,
	Q_DESTROY_NEXT,
	Q_DESTROY_DEL,
	Q_CTR_GET,
	Q_CTR_SET,
	Q_OST_PUT,
	Q_OST_SETCAP,
	Q_OST_LIST,
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_XID_PUT,
	Q_XID_GET,
	Q_XID_TRIM,
	Q_XID_DEL,
	Q_XID_AGE,
	Q_MAX
};



struct mds_reply;

struct mds_ns {
	pthread_mutex_t	 lock;
	struct mds_reply *replies;	/* mds_reply.c */
	sqlite3		*db;
	sqlite3_stmt	*st[Q_MAX];

	struct idrange	 inos;
	struct idrange	*oids;		/* one per OST ever used */
	unsigned	 noids;

	uint32_t	*pool;		/* OSTs for new layouts, sorted */
	unsigned	 npool;
	unsigned	 rr;		/* round-robin start */

	uint64_t	 files;		/* inode count */
	int64_t		 files_delta;	/* in the current request */
	int		 tx_queued;	/* destroy rows added by it */

	/* group commit */
	atomic_int	 waiters;	/* mutating requests wanting the lock */
	int		 in_tx;		/* a batch is open */
	int		 tx_first;	/* the request opened it: no SAVEPOINT */
	uint64_t	 batch;		/* current (or last) batch number */
	uint64_t	 committed;	/* last batch ended */
	int		 batch_ops;
	int64_t		 batch_delta;
	int		 batch_queued;
	uint64_t	 failed[FAILED_RING];
	int		 failed_rc[FAILED_RING];	/* why each failed */
	unsigned	 nfailed;

	/* the space reserve (mds_tx.c) */
	pthread_mutex_t	 rsv_mu;
	int		 rsv_fd;	/* -1: none */
	int		 rsv_out;	/* freed, not allocated again yet */
	pthread_cond_t	 commit_cond;
	void		(*destroy_hook)(void *);
	void		*destroy_arg;

	sqlite3		*ckdb;		/* the checkpointer's connection */
	pthread_t	 ckthr;
	int		 ckthr_started;
	int		 ckstop;
	atomic_int	 ckdirty;	/* commits since the last checkpoint */
	pthread_mutex_t	 cklock;
	pthread_cond_t	 ckcond;

	struct ofile	*ofiles[OHASH_SIZE];
	struct ohandle	*handles[OHASH_SIZE];
	uint64_t	 handle_next;

	/* atimes moved by reads, not stored yet (mds_ns.c, note 7) */
	struct lazy_at	*lazy[LAZY_HASH];
	unsigned	 nlazy;
	uint64_t	 lazy_since;	/* CLOCK_MONOTONIC ns of the oldest */
};

/* mds_ns.c: inodes (rows of table inode) and small helpers */
void	mds_ns_now(struct timespec *ts);
int	mds_ns_ino_load(struct mds_ns *ns, uint64_t ino, struct mds_ino *i);
int	mds_ns_ino_store(struct mds_ns *ns, const struct mds_ino *i);
/* INSERT a new inode row (target: a symlink's, lay: a file's layout) */
int	mds_ns_ino_insert(struct mds_ns *ns, const struct mds_ino *i,
	    const void *target, size_t tlen, const struct mds_layout *lay);
void	mds_ns_ino_to_attr(struct mds_ns *ns, const struct mds_ino *i,
	    struct msg_attr *a);
/* Delete the inode and its xattrs, queue its objects for destroy. */
int	mds_ns_ino_destroy(struct mds_ns *ns, const struct mds_ino *i);
int	mds_ns_count(struct mds_ns *ns, const char *sql, uint64_t *out);
/* The same under the store's read lock; 0 on a store error (stats). */
uint64_t mds_ns_count_now(struct mds_ns *ns, const char *sql);
int	mds_ns_ts_valid(int64_t sec, int64_t nsec);
/*
 * Deferred atimes (design note 7). Lock held. defer: 0 when noted, 1
 * when noted and the caller must store every noted one now, in its
 * transaction (LAZY_BATCH of them, or the oldest LAZY_AGE_NS old), -1
 * when it could not be noted (the caller stores the inode itself).
 * store: write every noted atime in the caller's transaction and forget
 * them. flush: take the lock, store them in a transaction of their own,
 * commit (a snapshot first, a clean close; 0 when none were noted).
 * free: forget them unstored.
 */
int	mds_ns_atime_defer(struct mds_ns *ns, uint64_t ino,
	    const struct timespec *at);
int	mds_ns_atime_store(struct mds_ns *ns);
int	mds_ns_atime_flush(struct mds_ns *ns);
void	mds_ns_atime_free(struct mds_ns *ns);

/* mds_tx.c: statements, locks, transactions, id ranges, checkpoints */
int	mds_tx_errno(int rc);		/* SQLITE_* -> -errno */
sqlite3_stmt *mds_tx_st(struct mds_ns *ns, enum q q);	/* reset, unbound */
int	mds_tx_exec(struct mds_ns *ns, sqlite3_stmt *s);	/* no rows */
int	mds_tx_row(struct mds_ns *ns, sqlite3_stmt *s);	/* 1, 0, -errno */
void	mds_tx_wlock(struct mds_ns *ns);
void	mds_tx_rlock(struct mds_ns *ns);
int	mds_tx_begin(struct mds_ns *ns);
int	mds_tx_end(struct mds_ns *ns, int rc);
int	mds_tx_sync(struct mds_ns *ns, int rc);
int	mds_tx_ino_alloc(struct mds_ns *ns, uint64_t *ino);
int	mds_tx_oid_alloc(struct mds_ns *ns, uint32_t ost, uint64_t *oid);
int	mds_tx_ckpt_start(struct mds_ns *ns, const char *path);
/* The space reserve: a file of MDS_RESERVE_BYTES beside the store, freed
 * when the disk is full so that removals can still commit. rsv_fd is -1
 * and rsv_mu initialised from mds_ns_open's start. */
void	mds_tx_reserve_open(struct mds_ns *ns, const char *dir);
void	mds_tx_reserve_close(struct mds_ns *ns);
/* Free it, and truncate the WAL after a full checkpoint (takes the
 * lock: call without it): 1 if space was freed (run the failed removal
 * again), else 0. */
int	mds_tx_reserve_release(struct mds_ns *ns);

/* mds_open.c: open files */
struct ofile *mds_open_ofile(struct mds_ns *ns, uint64_t ino);	/* or NULL */
/* The size of open file ino was set (SETATTR, O_TRUNC): handles open
 * now see a truncate, and APPEND reservations before it are gone. */
void	mds_open_truncated(struct mds_ns *ns, uint64_t ino);
uint64_t mds_open_handle_new(struct mds_ns *ns, uint64_t ino,
	    uint32_t flags, uint64_t owner);
uint32_t mds_open_count(struct mds_ns *ns, uint64_t ino);

/* mds_layout.c */
int	mds_layout_load(struct mds_ns *ns, uint64_t ino,
	    struct mds_layout *l);
int	mds_layout_store(struct mds_ns *ns, uint64_t ino,
	    const struct mds_layout *l);
int	mds_layout_default(struct mds_ns *ns, uint64_t dir,
	    struct mds_layout *l);
int	mds_layout_alloc(struct mds_ns *ns, const struct mds_layout *def,
	    struct mds_layout *out);
int	mds_layout_get_locked(struct mds_ns *ns, const struct mds_ino *i,
	    struct mds_layout *l);
int	mds_layout_set_locked(struct mds_ns *ns, struct mds_ino *i,
	    const void *blob, size_t len);

/* mds_destroy.c */
int	mds_destroy_queue(struct mds_ns *ns, const struct mds_layout *l);

#endif
