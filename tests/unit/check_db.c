/*
 * check_db: fsxd's store and migrations.
 *
 *   db_migrate_*   migrations apply once, in order, to user_version
 *   db_stmt_*      prepared statement cache
 *   db_errno_*     SQLite codes map to negative errnos
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "db/db.h"

static char db_dir[64];
static char db_file[128];

static void
db_setup(void)
{
	snprintf(db_dir, sizeof(db_dir), "/tmp/check_db.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(db_dir));
	snprintf(db_file, sizeof(db_file), "%s/fsxd.db", db_dir);
}

static void
db_teardown(void)
{
	db_thread_fini();
	rm_rf(db_dir);
}

static int
count_rows(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(db_conn(), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

START_TEST(db_migrate_fresh_reaches_latest)
{
	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_ge(db_user_version(), 1);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM sqlite_master WHERE"
	    " type = 'table' AND name IN ('file_systems', 'jobs', 'procs',"
	    " 'idem_tokens')"), 4);
}
END_TEST

START_TEST(db_migrate_reopen_keeps_rows)
{
	static const char ins[] = "INSERT INTO jobs (kind, fs_id, created, updated)"
	    " VALUES ('create', 'fs-0123456789abcdef0', 1, 1)";
	int v;

	ck_assert_int_eq(db_init(db_file), 0);
	v = db_user_version();
	ck_assert_int_eq(sqlite3_exec(db_conn(), ins, NULL, NULL, NULL), SQLITE_OK);
	db_thread_fini();
	/* A second start applies nothing and keeps the data. */
	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_user_version(), v);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM jobs"), 1);
}
END_TEST

START_TEST(db_migrate_wal_and_busy_timeout)
{
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(sqlite3_prepare_v2(db_conn(), "PRAGMA journal_mode",
	    -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
}
END_TEST

START_TEST(db_stmt_cached_per_sql)
{
	static const char q[] = "SELECT 1";
	sqlite3_stmt *a, *b;

	ck_assert_int_eq(db_init(db_file), 0);
	a = db_stmt(q);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(sqlite3_step(a), SQLITE_ROW);
	b = db_stmt(q);
	ck_assert_ptr_eq(a, b);
	/* Handed back reset: it steps from the start again. */
	ck_assert_int_eq(sqlite3_step(b), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(b, 0), 1);
}
END_TEST

START_TEST(db_stmt_bad_sql_returns_null)
{
	static const char q[] = "SELEC nothing";

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_ptr_null(db_stmt(q));
}
END_TEST

START_TEST(db_errno_maps_codes)
{
	ck_assert_int_eq(db_errno(SQLITE_DONE), 0);
	ck_assert_int_eq(db_errno(SQLITE_CONSTRAINT), -EEXIST);
	ck_assert_int_eq(db_errno(SQLITE_BUSY), -EBUSY);
	ck_assert_int_eq(db_errno(SQLITE_FULL), -ENOSPC);
	ck_assert_int_eq(db_errno(SQLITE_CORRUPT), -EIO);
}
END_TEST

START_TEST(db_begin_rollback_discards)
{
	static const char ins[] = "INSERT INTO jobs (kind, fs_id, created, updated)"
	    " VALUES ('delete', 'fs-0123456789abcdef0', 1, 1)";

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_begin(), 0);
	ck_assert_int_eq(sqlite3_exec(db_conn(), ins, NULL, NULL, NULL), SQLITE_OK);
	db_rollback();
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM jobs"), 0);
	ck_assert_int_eq(db_begin(), 0);
	ck_assert_int_eq(sqlite3_exec(db_conn(), ins, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(db_commit(), 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM jobs"), 1);
}
END_TEST

Suite *db_suite(void);

Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");

	tcase_add_checked_fixture(tc, db_setup, db_teardown);
	tcase_add_test(tc, db_migrate_fresh_reaches_latest);
	tcase_add_test(tc, db_migrate_reopen_keeps_rows);
	tcase_add_test(tc, db_migrate_wal_and_busy_timeout);
	tcase_add_test(tc, db_stmt_cached_per_sql);
	tcase_add_test(tc, db_stmt_bad_sql_returns_null);
	tcase_add_test(tc, db_errno_maps_codes);
	tcase_add_test(tc, db_begin_rollback_discards);
	suite_add_tcase(s, tc);
	return s;
}
