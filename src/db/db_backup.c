/*
 * The backups and restores tables (see db_backup.h). Invariant: the
 * lifecycle, progress, size and message columns are the truth; a stored
 * doc never has those members (api/api_backup.c adds them on output).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "db/db_backup.h"
#include "db/db_int.h"

#define BK_COLS	"seq, id, arn, account, region, fs_id, fs_type, type," \
		" lifecycle, progress, size, message, created, source_id," \
		" source_region, " DB_TAGS_OF("b")

static void
row_read(sqlite3_stmt *st, struct db_backup *b)
{
	int v;

	memset(b, 0, sizeof(*b));
	b->seq = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, b->id, sizeof(b->id));
	db_col_copy(st, 2, b->arn, sizeof(b->arn));
	db_col_copy(st, 3, b->account, sizeof(b->account));
	db_col_copy(st, 4, b->region, sizeof(b->region));
	db_col_copy(st, 5, b->fs_id, sizeof(b->fs_id));
	db_col_copy(st, 6, b->fs_type, sizeof(b->fs_type));
	v = kind_parse(&kind_backup_type, db_col_text(st, 7));
	b->type = v < 0 ? BK_USER_INITIATED : (enum backup_type)v;
	v = kind_parse(&kind_backup_lifecycle, db_col_text(st, 8));
	b->lifecycle = v < 0 ? BK_FAILED : (enum backup_lifecycle)v;
	b->progress = sqlite3_column_int(st, 9);
	b->size = sqlite3_column_int64(st, 10);
	db_col_copy(st, 11, b->message, sizeof(b->message));
	b->created = sqlite3_column_double(st, 12);
	db_col_copy(st, 13, b->source_id, sizeof(b->source_id));
	db_col_copy(st, 14, b->source_region, sizeof(b->source_region));
	b->doc = xstrdup(db_col_text(st, 15));
}

int
db_backup_insert(struct db_backup *b)
{
	static const char q[] = "INSERT INTO backups (id, arn, account, region,"
	    " fs_id, fs_type, type, lifecycle, progress, size, created,"
	    " source_id, source_region, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, NULLIF(?12, ''), NULLIF(?13, ''), ?14)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b->fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, b->fs_type[0] ? b->fs_type : "LUSTRE", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, backup_type_name(b->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, backup_lifecycle_name(b->lifecycle), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 9, b->progress);
	sqlite3_bind_int64(st, 10, b->size);
	sqlite3_bind_double(st, 11, b->created);
	sqlite3_bind_text(st, 12, b->source_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, b->source_region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, b->doc ? b->doc : "{}", -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc == 0)
		b->seq = sqlite3_last_insert_rowid(db_conn());
	return rc;
}

int
db_backup_get(const char *id, const char *account, const char *region,
    struct db_backup *out)
{
	static const char q[] = "SELECT " BK_COLS " FROM backups b"
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
	if (rc == SQLITE_ROW)
		row_read(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

void
db_backup_fini(struct db_backup *b)
{
	free(b->doc);
	b->doc = NULL;
}

int
db_backup_set_state(const char *id, enum backup_lifecycle lc, int progress,
    long long size, const char *message)
{
	static const char q[] = "UPDATE backups SET lifecycle = ?2,"
	    " progress = ?3, size = CASE WHEN ?4 >= 0 THEN ?4 ELSE size END,"
	    " message = COALESCE(?5, message) WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, backup_lifecycle_name(lc), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, progress);
	sqlite3_bind_int64(st, 4, size);
	if (message != NULL)
		sqlite3_bind_text(st, 5, message, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc == 0 && sqlite3_changes(db_conn()) == 0)
		return -ENOENT;
	return rc;
}

/* Run q (no rows) with ?1 = id: 0, or -ENOENT when it changed nothing. */
static int
run_id(const char *q, const char *id, int need_change)
{
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc == 0 && need_change && sqlite3_changes(db_conn()) == 0)
		return -ENOENT;
	return rc;
}

int
db_backup_delete(const char *id)
{
	static const char qt[] = "DELETE FROM tags WHERE arn ="
	    " (SELECT arn FROM backups WHERE id = ?1)";
	static const char q[] = "DELETE FROM backups WHERE id = ?1";
	int rc = run_id(qt, id, 0);

	return rc < 0 ? rc : run_id(q, id, 1);
}

int
db_backup_list(const char *account, const char *region, long long after,
    db_backup_row_fn fn, void *arg)
{
	static const char q[] = "SELECT " BK_COLS " FROM backups b"
	    " WHERE account = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	struct db_backup b;
	int rc, stop = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_read(st, &b);
		stop = fn(arg, &b);
		db_backup_fini(&b);
	}
	sqlite3_reset(st);
	return stop || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* 1 when the lifecycle column text is in mask. */
static int
lc_in(sqlite3_stmt *st, int col, unsigned mask)
{
	int lc = kind_parse(&kind_backup_lifecycle, db_col_text(st, col));

	return lc >= 0 && (mask & (1u << lc)) != 0;
}

int
db_backup_count(const char *account, const char *region, int type,
    unsigned mask)
{
	static const char q[] = "SELECT lifecycle FROM backups"
	    " WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR type = ?3)";
	sqlite3_stmt *st = db_stmt(q);
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	if (type >= 0)
		sqlite3_bind_text(st, 3, backup_type_name(type), -1,
		    SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n += lc_in(st, 0, mask);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_backup_of_fs(const char *fs_id, int type, unsigned mask,
    char (*ids)[DB_ID_MAX], int max)
{
	static const char q[] = "SELECT lifecycle, id FROM backups"
	    " WHERE fs_id = ?1 AND (?2 IS NULL OR type = ?2) ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	if (type >= 0)
		sqlite3_bind_text(st, 2, backup_type_name(type), -1,
		    SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!lc_in(st, 0, mask))
			continue;
		if (n < max)
			db_col_copy(st, 1, ids[n], DB_ID_MAX);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_backup_copies_of(const char *src_id, unsigned mask, char *first, size_t len)
{
	static const char q[] = "SELECT lifecycle, id FROM backups"
	    " WHERE source_id = ?1 ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, src_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!lc_in(st, 0, mask))
			continue;
		if (n++ == 0 && first != NULL)
			db_col_copy(st, 1, first, len);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_restore_put(const char *fs_id, const char *backup_id)
{
	static const char q[] = "INSERT OR REPLACE INTO restores (fs_id,"
	    " backup_id) VALUES (?1, ?2)";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, backup_id, -1, SQLITE_STATIC);
	return db_step_done(st);
}

/* One text column of the first row of q bound to key, into out. */
static int
one_text(const char *q, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_col_copy(st, 0, out, len);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

int
db_restore_backup(const char *fs_id, char *backup_id, size_t len)
{
	static const char q[] = "SELECT backup_id FROM restores"
	    " WHERE fs_id = ?1";

	return one_text(q, fs_id, backup_id, len);
}

int
db_restore_using(const char *backup_id, char *fs_id, size_t len)
{
	static const char q[] = "SELECT fs_id FROM restores"
	    " WHERE backup_id = ?1 LIMIT 1";

	return one_text(q, backup_id, fs_id, len);
}

int
db_restore_delete(const char *fs_id)
{
	static const char q[] = "DELETE FROM restores WHERE fs_id = ?1";

	return run_id(q, fs_id, 0);
}
