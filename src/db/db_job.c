/*
 * The jobs table: work that outlives the request that asked for it, added
 * in the same transaction as the state change it serves and run by the
 * provisioner in id order.
 *
 *   pending -> running -> done | failed
 *   running -> pending      a retry (attempts counts tries)
 *
 * A job found `running` at start-up was cut short by a crash; the runner
 * takes it again (db_job_next returns it first).
 */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"

int
db_job_add(enum job_kind kind, const char *fs_id, long long capacity, int nost)
{
	static const char q[] = "INSERT INTO jobs (kind, fs_id, capacity, nost,"
	    " created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, job_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, capacity);
	sqlite3_bind_int(st, 4, nost);
	sqlite3_bind_double(st, 5, now_epoch());
	return db_step_done(st);
}

int
db_job_next(struct db_job *out)
{
	static const char q[] = "SELECT id, kind, state, fs_id, capacity, nost,"
	    " attempts FROM jobs WHERE state IN ('pending', 'running')"
	    " ORDER BY id LIMIT 1";
	sqlite3_stmt *st = db_stmt(q);
	int rc, kind, state;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	}
	out->id = sqlite3_column_int64(st, 0);
	kind = kind_parse(&kind_job_kind, db_col_text(st, 1));
	state = kind_parse(&kind_job_state, db_col_text(st, 2));
	db_col_copy(st, 3, out->fs_id, sizeof(out->fs_id));
	out->capacity = sqlite3_column_int64(st, 4);
	out->nost = sqlite3_column_int(st, 5);
	out->attempts = sqlite3_column_int(st, 6);
	sqlite3_reset(st);
	if (kind < 0 || state < 0) {
		/* a row this build does not know: fail it, never guess */
		db_job_set(out->id, JOB_FAILED, out->attempts, "unknown job kind");
		return -EIO;
	}
	out->kind = (enum job_kind)kind;
	out->state = (enum job_state)state;
	return 0;
}

int
db_job_set(long long id, enum job_state state, int attempts, const char *error)
{
	static const char q[] = "UPDATE jobs SET state = ?2, attempts = ?3,"
	    " error = ?4, updated = ?5 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, job_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempts);
	if (error != NULL)
		sqlite3_bind_text(st, 4, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 5, now_epoch());
	return db_step_done(st);
}

int
db_job_open_count(const char *fs_id)
{
	static const char q[] = "SELECT COUNT(*) FROM jobs WHERE fs_id = ?1"
	    " AND state IN ('pending', 'running')";
	sqlite3_stmt *st = db_stmt(q);
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? n : db_errno(rc);
}
