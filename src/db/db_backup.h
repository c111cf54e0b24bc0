/*
 * The backups and restores tables (db_backup.c, migration 0005), behind
 * typed functions like the rest of src/db (see db.h for the conventions:
 * 0 or a count, -ENOENT, -EEXIST, -EBUSY, -EIO).
 *
 * A backup row keeps its description (the JSON DescribeBackups shows)
 * without Lifecycle, ProgressPercent, SizeInBytes and FailureDetails,
 * which are columns (the truth), and without Tags, which are rows of the
 * tags table under its ARN; every doc read back carries its Tags.
 */
#ifndef FSX_DB_BACKUP_H
#define FSX_DB_BACKUP_H

#include "core/kinds.h"
#include "db/db.h"

struct db_backup {
	long long		 seq;		/* creation order, listing cursor */
	char			 id[DB_ID_MAX];
	char			 arn[160];
	char			 account[16];
	char			 region[32];
	char			 fs_id[DB_ID_MAX];	/* the backed-up file system */
	char			 fs_type[16];
	enum backup_type	 type;
	enum backup_lifecycle	 lifecycle;
	int			 progress;	/* 0..100 */
	long long		 size;		/* bytes, once AVAILABLE */
	char			 message[256];	/* FAILED: why */
	double			 created;
	char			 source_id[DB_ID_MAX];	/* copies */
	char			 source_region[32];
	char			*doc;		/* owned; with Tags */
};

#define DB_BK_MASK(lc)	(1u << (lc))
#define DB_BK_OPEN	(DB_BK_MASK(BK_PENDING) | DB_BK_MASK(BK_CREATING) | \
			 DB_BK_MASK(BK_TRANSFERRING) | DB_BK_MASK(BK_COPYING))

/* Insert (b->seq assigned); b->doc carries no Tags (db_tag_put). */
int	db_backup_insert(struct db_backup *b);
/* The row of id; account NULL: any owner's. Free with db_backup_fini. */
int	db_backup_get(const char *id, const char *account, const char *region,
	    struct db_backup *out);
void	db_backup_fini(struct db_backup *b);
/* Set lifecycle and progress; size when >= 0; message when not NULL. */
int	db_backup_set_state(const char *id, enum backup_lifecycle lc,
	    int progress, long long size, const char *message);
/* Delete the row and its tags. */
int	db_backup_delete(const char *id);
/* The owner's rows with seq > after, in seq order, until fn returns
 * non-zero. The row is borrowed for the call. */
typedef int (*db_backup_row_fn)(void *arg, const struct db_backup *b);
int	db_backup_list(const char *account, const char *region,
	    long long after, db_backup_row_fn fn, void *arg);
/* Rows of the owner whose type is `type` (-1: any) and whose lifecycle
 * bit is in mask. */
int	db_backup_count(const char *account, const char *region, int type,
	    unsigned mask);
/* Ids of the backups of fs_id of `type` (-1: any) with a lifecycle in
 * mask, oldest first: up to max into ids; returns how many there are. */
int	db_backup_of_fs(const char *fs_id, int type, unsigned mask,
	    char (*ids)[DB_ID_MAX], int max);
/* Copies of src_id with a lifecycle in mask: how many, the first's id. */
int	db_backup_copies_of(const char *src_id, unsigned mask,
	    char *first, size_t len);

/* restores: the backup a CreateFileSystemFromBackup reads, while it runs */
int	db_restore_put(const char *fs_id, const char *backup_id);
int	db_restore_backup(const char *fs_id, char *backup_id, size_t len);
/* A file system being restored from backup_id (its id), or -ENOENT. */
int	db_restore_using(const char *backup_id, char *fs_id, size_t len);
int	db_restore_delete(const char *fs_id);

#endif
