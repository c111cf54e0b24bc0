/*
 * The dras table: data repository associations. One row per association:
 * its description (the JSON DescribeDataRepositoryAssociations shows,
 * without Lifecycle and Tags), the columns queries need (owner, file
 * system, lifecycle, both paths) and its HSM_CONF entry (docs/hsm.md),
 * which the provisioner sends without reading the description.
 *
 * A file system's legacy ImportPath link is the row with id "legacy"
 * (DB_DRA_LEGACY): it is configured like an association but never listed
 * as one (db_dra_list skips it unless asked).
 *
 * Invariants: the lifecycle column is the truth; (fs_id, id) is unique;
 * a row's tags go with it (db_dra_delete; the file system's trigger in
 * migration 0006).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"

#define DRA_COLS "seq, id, fs_id, account, region, lifecycle, fs_path," \
	" repo_path, arn, " DB_TAGS_OF("d") ", conf, created"

static void
dra_row(sqlite3_stmt *st, struct db_dra *d)
{
	int lc;

	memset(d, 0, sizeof(*d));
	d->seq = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, d->id, sizeof(d->id));
	db_col_copy(st, 2, d->fs_id, sizeof(d->fs_id));
	db_col_copy(st, 3, d->account, sizeof(d->account));
	db_col_copy(st, 4, d->region, sizeof(d->region));
	lc = kind_parse(&kind_fs_lifecycle, db_col_text(st, 5));
	d->lifecycle = lc < 0 ? FS_FAILED : (enum fs_lifecycle)lc;
	d->fs_path = xstrdup(db_col_text(st, 6));
	d->repo_path = xstrdup(db_col_text(st, 7));
	db_col_copy(st, 8, d->arn, sizeof(d->arn));
	d->doc = xstrdup(db_col_text(st, 9));
	d->conf = xstrdup(db_col_text(st, 10));
	d->created = sqlite3_column_double(st, 11);
}

int
db_dra_insert(struct db_dra *d)
{
	static const char q[] = "INSERT INTO dras (id, fs_id, account, region,"
	    " lifecycle, fs_path, repo_path, arn, doc, conf, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, fs_lifecycle_name(d->lifecycle), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, d->fs_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, d->repo_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, d->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, d->doc ? d->doc : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, d->conf ? d->conf : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 11, d->created);
	rc = db_step_done(st);
	if (rc == 0)
		d->seq = sqlite3_last_insert_rowid(db_conn());
	return rc;
}

int
db_dra_get(const char *id, const char *fs_id, const char *account,
    const char *region, struct db_dra *out)
{
	static const char q[] = "SELECT " DRA_COLS " FROM dras d WHERE id = ?1"
	    " AND (?2 IS NULL OR fs_id = ?2)"
	    " AND (?3 IS NULL OR (account = ?3 AND region = ?4))"
	    " ORDER BY seq LIMIT 1";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (fs_id != NULL)
		sqlite3_bind_text(st, 2, fs_id, -1, SQLITE_STATIC);
	if (account != NULL) {
		sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, region, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		dra_row(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

void
db_dra_fini(struct db_dra *d)
{
	free(d->fs_path);
	free(d->repo_path);
	free(d->doc);
	free(d->conf);
	d->fs_path = d->repo_path = d->doc = d->conf = NULL;
}

int
db_dra_update(const char *fs_id, const char *id, const char *doc,
    const char *conf, int lifecycle)
{
	static const char q[] = "UPDATE dras SET doc = COALESCE(?3, doc),"
	    " conf = COALESCE(?4, conf), lifecycle = COALESCE(?5, lifecycle)"
	    " WHERE fs_id = ?1 AND id = ?2";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (doc != NULL)
		sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	if (conf != NULL)
		sqlite3_bind_text(st, 4, conf, -1, SQLITE_STATIC);
	if (lifecycle >= 0)
		sqlite3_bind_text(st, 5, fs_lifecycle_name(lifecycle), -1,
		    SQLITE_STATIC);
	return db_step_done(st);
}

int
db_dra_delete(const char *fs_id, const char *id)
{
	static const char qt[] = "DELETE FROM tags WHERE arn IN (SELECT arn"
	    " FROM dras WHERE fs_id = ?1 AND id = ?2)";
	static const char q[] = "DELETE FROM dras WHERE fs_id = ?1 AND id = ?2";
	const char *qs[2] = { qt, q };
	int rc = 0;

	for (int i = 0; rc == 0 && i < 2; i++) {
		sqlite3_stmt *st = db_stmt(qs[i]);

		if (st == NULL)
			return -EIO;
		sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		rc = db_step_done(st);
	}
	return rc;
}

int
db_dra_list(const char *account, const char *region, const char *fs_id,
    long long after, int legacy, db_dra_row_fn fn, void *arg)
{
	static const char q[] = "SELECT " DRA_COLS " FROM dras d"
	    " WHERE seq > ?1 AND (?2 IS NULL OR (account = ?2 AND region = ?3))"
	    " AND (?4 IS NULL OR fs_id = ?4) AND (?5 OR id != '"
	    DB_DRA_LEGACY "') ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	struct db_dra d;
	int rc, stop = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, after);
	if (account != NULL) {
		sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, region, -1, SQLITE_STATIC);
	}
	if (fs_id != NULL)
		sqlite3_bind_text(st, 4, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, legacy != 0);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		dra_row(st, &d);
		stop = fn(arg, &d);
		db_dra_fini(&d);
	}
	sqlite3_reset(st);
	return stop || rc == SQLITE_DONE ? 0 : db_errno(rc);
}
