/*
 * The tasks table: data repository tasks. One row per task: its
 * description (the JSON DescribeDataRepositoryTasks shows, without
 * Lifecycle and Tags), the columns queries need (owner, file system,
 * lifecycle) and the HSM_TASK document fsx-hsm is sent (docs/hsm.md).
 *
 * Invariants: the lifecycle column is the truth; a task's tags go with
 * its file system (trigger of migration 0006).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"

#define TASK_COLS "seq, id, fs_id, account, region, lifecycle, arn, " \
	DB_TAGS_OF("t") ", spec, created"

static void
task_row(sqlite3_stmt *st, struct db_task *t)
{
	int lc;

	memset(t, 0, sizeof(*t));
	t->seq = sqlite3_column_int64(st, 0);
	db_col_copy(st, 1, t->id, sizeof(t->id));
	db_col_copy(st, 2, t->fs_id, sizeof(t->fs_id));
	db_col_copy(st, 3, t->account, sizeof(t->account));
	db_col_copy(st, 4, t->region, sizeof(t->region));
	lc = kind_parse(&kind_task_lifecycle, db_col_text(st, 5));
	t->lifecycle = lc < 0 ? TASK_FAILED : (enum task_lifecycle)lc;
	db_col_copy(st, 6, t->arn, sizeof(t->arn));
	t->doc = xstrdup(db_col_text(st, 7));
	t->spec = xstrdup(db_col_text(st, 8));
	t->created = sqlite3_column_double(st, 9);
}

int
db_task_insert(struct db_task *t)
{
	static const char q[] = "INSERT INTO tasks (id, fs_id, account, region,"
	    " lifecycle, arn, doc, spec, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, task_lifecycle_name(t->lifecycle), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, t->doc ? t->doc : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, t->spec ? t->spec : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 9, t->created);
	rc = db_step_done(st);
	if (rc == 0)
		t->seq = sqlite3_last_insert_rowid(db_conn());
	return rc;
}

int
db_task_get(const char *id, const char *account, const char *region,
    struct db_task *out)
{
	static const char q[] = "SELECT " TASK_COLS " FROM tasks t WHERE id = ?1"
	    " AND (?2 IS NULL OR (account = ?2 AND region = ?3))";
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
		task_row(st, out);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

void
db_task_fini(struct db_task *t)
{
	free(t->doc);
	free(t->spec);
	t->doc = t->spec = NULL;
}

int
db_task_update(const char *id, const char *doc, int lifecycle)
{
	static const char q[] = "UPDATE tasks SET doc = COALESCE(?2, doc),"
	    " lifecycle = COALESCE(?3, lifecycle) WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (doc != NULL)
		sqlite3_bind_text(st, 2, doc, -1, SQLITE_STATIC);
	if (lifecycle >= 0)
		sqlite3_bind_text(st, 3, task_lifecycle_name(lifecycle), -1,
		    SQLITE_STATIC);
	return db_step_done(st);
}

int
db_task_list(const char *account, const char *region, const char *fs_id,
    long long after, db_task_row_fn fn, void *arg)
{
	static const char q[] = "SELECT " TASK_COLS " FROM tasks t"
	    " WHERE seq > ?1 AND (?2 IS NULL OR (account = ?2 AND region = ?3))"
	    " AND (?4 IS NULL OR fs_id = ?4) ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	struct db_task t;
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
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		task_row(st, &t);
		stop = fn(arg, &t);
		db_task_fini(&t);
	}
	sqlite3_reset(st);
	return stop || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int
db_task_count(const char *fs_id, unsigned mask)
{
	static const char q[] = "SELECT lifecycle, COUNT(*) FROM tasks"
	    " WHERE fs_id = ?1 GROUP BY lifecycle";
	sqlite3_stmt *st = db_stmt(q);
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int lc = kind_parse(&kind_task_lifecycle, db_col_text(st, 0));

		if (lc >= 0 && (mask & (1u << lc)))
			n += sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : db_errno(rc);
}
