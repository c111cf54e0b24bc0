/*
 * The file_systems table: one row per file system, its description (the
 * JSON DescribeFileSystems shows, without Lifecycle) plus the columns
 * queries need (owner, lifecycle, deployment type, capacity), the engine
 * secret and the OST count provisioned.
 *
 * Invariant: the lifecycle column is the truth; descriptions never store
 * one (callers add it on output).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"

static int
fs_lifecycle_col(sqlite3_stmt *st, int i)
{
	int lc = kind_parse(&kind_fs_lifecycle, db_col_text(st, i));

	return lc < 0 ? FS_FAILED : lc;
}

int
db_fs_insert(struct db_fs *f)
{
	static const char q[] = "INSERT INTO file_systems (id, account, region,"
	    " lifecycle, deployment, capacity, created, doc, secret, nost, arn)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, fs_lifecycle_name(f->lifecycle), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->deployment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->capacity);
	sqlite3_bind_double(st, 7, f->created);
	sqlite3_bind_text(st, 8, f->doc ? f->doc : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, f->secret, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, f->nost);
	sqlite3_bind_text(st, 11, f->arn, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc == 0)
		f->seq = sqlite3_last_insert_rowid(db_conn());
	return rc;
}

int
db_fs_get(const char *id, const char *account, const char *region,
    struct db_fs *out)
{
	static const char q[] = "SELECT seq, id, account, region, lifecycle,"
	    " deployment, capacity, created, nost, secret, arn, " DB_TAGS_OF("f")
	    " FROM file_systems f"
	    " WHERE id = ?1 AND (?2 IS NULL OR (account = ?2 AND region = ?3))";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (account != NULL) {
		sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, region, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	}
	out->seq = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, out->id, sizeof(out->id));
	db_col_copy(st, 2, out->account, sizeof(out->account));
	db_col_copy(st, 3, out->region, sizeof(out->region));
	out->lifecycle = fs_lifecycle_col(st, 4);
	db_col_copy(st, 5, out->deployment, sizeof(out->deployment));
	out->capacity = sqlite3_column_int64(st, 6);
	out->created = sqlite3_column_double(st, 7);
	out->nost = sqlite3_column_int(st, 8);
	db_col_copy(st, 9, out->secret, sizeof(out->secret));
	db_col_copy(st, 10, out->arn, sizeof(out->arn));
	out->doc = xstrdup(db_col_text(st, 11));
	sqlite3_reset(st);
	return 0;
}

void
db_fs_fini(struct db_fs *f)
{
	free(f->doc);
	f->doc = NULL;
}

int
db_fs_update(const char *id, const char *doc, int lifecycle,
    long long capacity)
{
	static const char q[] = "UPDATE file_systems SET doc = ?2,"
	    " lifecycle = COALESCE(?3, lifecycle), capacity = ?4 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, doc, -1, SQLITE_STATIC);
	if (lifecycle >= 0)
		sqlite3_bind_text(st, 3, fs_lifecycle_name(lifecycle), -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, capacity);
	return db_step_done(st);
}

int
db_fs_set_lifecycle(const char *id, enum fs_lifecycle lc)
{
	static const char q[] = "UPDATE file_systems SET lifecycle = ?2"
	    " WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fs_lifecycle_name(lc), -1, SQLITE_STATIC);
	return db_step_done(st);
}

int
db_fs_set_nost(const char *id, int nost)
{
	static const char q[] = "UPDATE file_systems SET nost = ?2 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, nost);
	return db_step_done(st);
}

int
db_fs_delete(const char *id)
{
	static const char qt[] = "DELETE FROM tags WHERE arn ="
	    " (SELECT arn FROM file_systems WHERE id = ?1)";
	static const char q[] = "DELETE FROM file_systems WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(qt);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc < 0)
		return rc;
	st = db_stmt(q);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return db_step_done(st);
}

int
db_fs_list(const char *account, const char *region, long long after,
    db_fs_row_fn fn, void *arg)
{
	static const char q[] = "SELECT seq, " DB_TAGS_OF("f") ", lifecycle"
	    " FROM file_systems f"
	    " WHERE account = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(arg, sqlite3_column_int64(st, 0), db_col_text(st, 1),
		    (enum fs_lifecycle)fs_lifecycle_col(st, 2)) != 0)
			break;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int
db_fs_usage(const char *account, const char *region, const char *prefix,
    long long *count, long long *storage)
{
	static const char q[] = "SELECT COUNT(*), COALESCE(SUM(capacity), 0)"
	    " FROM file_systems WHERE account = ?1 AND region = ?2"
	    " AND substr(deployment, 1, length(?3)) = ?3";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	*count = *storage = 0;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		*storage = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_errno(rc);
}

/* Step st (column 0 the id, column 1 the lifecycle) into ids: the rows
 * whose lifecycle bit is in mask. */
static int
fs_ids_step(sqlite3_stmt *st, unsigned mask, char (*ids)[DB_ID_MAX], int max)
{
	int n = 0, rc;

	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((mask & (1u << fs_lifecycle_col(st, 1))) == 0)
			continue;
		if (n < max)
			db_col_copy(st, 0, ids[n], DB_ID_MAX);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_fs_ids(unsigned mask, char (*ids)[DB_ID_MAX], int max)
{
	static const char q[] = "SELECT id, lifecycle FROM file_systems"
	    " ORDER BY seq";

	return fs_ids_step(db_stmt(q), mask, ids, max);
}

int
db_fs_ids_auto_backup(char (*ids)[DB_ID_MAX], int max)
{
	static const char q[] = "SELECT id, lifecycle FROM file_systems"
	    " WHERE json_extract(doc,"
	    " '$.LustreConfiguration.AutomaticBackupRetentionDays') > 0"
	    " ORDER BY seq";

	return fs_ids_step(db_stmt(q), 1u << FS_AVAILABLE | 1u << FS_UPDATING,
	    ids, max);
}

int
db_fs_count_by_lifecycle(long long counts[FS_LIFECYCLE__COUNT])
{
	static const char q[] = "SELECT lifecycle, COUNT(*) FROM file_systems"
	    " GROUP BY lifecycle";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	memset(counts, 0, sizeof(long long) * FS_LIFECYCLE__COUNT);
	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		counts[fs_lifecycle_col(st, 0)] += sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}
