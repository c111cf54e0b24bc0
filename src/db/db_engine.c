/*
 * The procs and osts tables: the engine processes of each file system and
 * the OSTs they serve. Rows are what fsxd decided (which OSS serves which
 * OST, with what capacity, on which port); whether a process runs is
 * decided by its store lock (core/lockfile.h), and the pid and start time
 * kept here are only the last ones seen.
 */
#include <errno.h>
#include <string.h>

#include "db/db.h"
#include "db/db_int.h"

int
db_proc_list(const char *fs_id, struct db_proc *out, int max)
{
	static const char q[] = "SELECT role, idx, pid, starttime, port, node"
	    " FROM procs WHERE fs_id = ?1 ORDER BY role, idx";
	sqlite3_stmt *st = db_stmt(q);
	int n = 0, rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		struct db_proc *p = &out[n];
		int role = kind_parse(&kind_proc_role, db_col_text(st, 0));

		if (role < 0)
			continue;
		memset(p, 0, sizeof(*p));
		p->role = (enum proc_role)role;
		p->idx = sqlite3_column_int(st, 1);
		p->pid = (pid_t)sqlite3_column_int(st, 2);
		p->starttime = sqlite3_column_int64(st, 3);
		p->port = sqlite3_column_int(st, 4);
		db_col_copy(st, 5, p->node, sizeof(p->node));
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_proc_put(const char *fs_id, const struct db_proc *p)
{
	static const char q[] = "INSERT OR REPLACE INTO procs (fs_id, role, idx,"
	    " pid, starttime, port, node) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, proc_role_name(p->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, p->idx);
	sqlite3_bind_int(st, 4, (int)p->pid);
	sqlite3_bind_int64(st, 5, p->starttime);
	sqlite3_bind_int(st, 6, p->port);
	sqlite3_bind_text(st, 7, p->node[0] ? p->node : "local", -1,
	    SQLITE_STATIC);
	return db_step_done(st);
}

int
db_proc_port_used(const char *node, int port)
{
	static const char q[] = "SELECT 1 FROM procs WHERE port = ?1"
	    " AND node = ?2 LIMIT 1";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int(st, 1, port);
	sqlite3_bind_text(st, 2, node, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_errno(rc);
}

long long
db_node_used(const char *node)
{
	static const char q[] = "SELECT COALESCE(SUM(o.capacity), 0) FROM osts o"
	    " JOIN procs p ON p.fs_id = o.fs_id AND p.role = 'oss'"
	    " AND p.idx = o.oss WHERE p.node = ?1";
	sqlite3_stmt *st = db_stmt(q);
	long long used = 0;
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		used = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? used : db_errno(rc);
}

int
db_ost_list(const char *fs_id, struct db_ost *out, int max)
{
	static const char q[] = "SELECT idx, oss, capacity FROM osts"
	    " WHERE fs_id = ?1 ORDER BY idx";
	sqlite3_stmt *st = db_stmt(q);
	int n = 0, rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		out[n].idx = sqlite3_column_int(st, 0);
		out[n].oss = sqlite3_column_int(st, 1);
		out[n].capacity = (unsigned long long)sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : db_errno(rc);
}

int
db_ost_put(const char *fs_id, const struct db_ost *o)
{
	static const char q[] = "INSERT OR REPLACE INTO osts (fs_id, idx, oss,"
	    " capacity) VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, o->idx);
	sqlite3_bind_int(st, 3, o->oss);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)o->capacity);
	return db_step_done(st);
}

int
db_ost_set_capacity(const char *fs_id, unsigned long long capacity)
{
	static const char q[] = "UPDATE osts SET capacity = ?2 WHERE fs_id = ?1";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)capacity);
	return db_step_done(st);
}

int
db_engine_forget(const char *fs_id)
{
	static const char qp[] = "DELETE FROM procs WHERE fs_id = ?1";
	static const char qo[] = "DELETE FROM osts WHERE fs_id = ?1";
	sqlite3_stmt *st = db_stmt(qp);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc < 0)
		return rc;
	st = db_stmt(qo);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	return db_step_done(st);
}

int
db_proc_delete(const char *fs_id, enum proc_role role, int idx)
{
	static const char q[] = "DELETE FROM procs WHERE fs_id = ?1"
	    " AND role = ?2 AND idx = ?3";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, proc_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, idx);
	return db_step_done(st);
}
