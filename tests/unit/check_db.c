/*
 * check_db: fsxd's store and migrations.
 *
 *   db_migrate_*   migrations apply once, in order, to user_version
 *   db_stmt_*      prepared statement cache
 *   db_errno_*     SQLite codes map to negative errnos
 *   db_tx_*        one call per transaction: commit, or roll back on error
 *   db_fs_*        file_systems: insert, owner scoping, listing, usage
 *   db_tag_*       tags by ARN: order, update in place, pages, spliced
 *                  into descriptions, gone with their file system, and
 *                  moved out of version-2 descriptions by migration 0003
 *   db_token_*     idempotency tokens
 *   db_job_*       jobs: order, states, enums round trip
 *   db_engine_*    procs and osts rows; the 0001 -> 0002 migration
 *   db_file_*      the database is private (0600) even when it existed
 *
 * Only the db_migrate, db_stmt and db_errno groups reach into SQLite
 * (db_int.h): they test the layer's own machinery.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"
#include "migrations.h"

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

static int
tx_add_job_then(void *arg)
{
	int rc = db_job_add(JOB_DELETE, "fs-0123456789abcdef0", 0, 0);

	return rc < 0 ? rc : *(int *)arg;
}

START_TEST(db_tx_rollback_discards_commit_keeps)
{
	int fail = -EINVAL, ok = 0;

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_tx(tx_add_job_then, &fail), -EINVAL);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM jobs"), 0);
	ck_assert_int_eq(db_tx(tx_add_job_then, &ok), 0);
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM jobs"), 1);
}
END_TEST

static void
fs_row(struct db_fs *f, const char *id, const char *account,
    const char *deployment, long long cap)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	snprintf(f->account, sizeof(f->account), "%s", account);
	snprintf(f->region, sizeof(f->region), "us-east-1");
	snprintf(f->deployment, sizeof(f->deployment), "%s", deployment);
	snprintf(f->secret, sizeof(f->secret), "%064d", 7);
	f->lifecycle = FS_CREATING;
	f->capacity = cap;
	f->created = 1.5;
	f->doc = (char *)"{\"FileSystemId\":\"x\"}";
}

static int
list_collect(void *arg, long long seq, const char *doc, enum fs_lifecycle lc)
{
	long long *seqs = arg;

	(void)doc;
	(void)lc;
	for (int i = 0; i < 8; i++)
		if (seqs[i] == 0) {
			seqs[i] = seq;
			return i == 1;		/* stop after two */
		}
	return 1;
}

START_TEST(db_fs_insert_get_scoped_by_owner)
{
	struct db_fs f, g;

	ck_assert_int_eq(db_init(db_file), 0);
	fs_row(&f, "fs-00000000000000001", "111111111111", "SCRATCH_2", 1200);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	ck_assert_int_gt(f.seq, 0);
	ck_assert_int_eq(db_fs_insert(&f), -EEXIST);
	ck_assert_int_eq(db_fs_get(f.id, "111111111111", "us-east-1", &g), 0);
	ck_assert_str_eq(g.doc, f.doc);
	ck_assert_int_eq(g.lifecycle, FS_CREATING);
	ck_assert_int_eq(g.capacity, 1200);
	ck_assert_str_eq(g.secret, f.secret);
	db_fs_fini(&g);
	/* another account or region sees nothing; NULL owner sees it */
	ck_assert_int_eq(db_fs_get(f.id, "222222222222", "us-east-1", &g), -ENOENT);
	ck_assert_int_eq(db_fs_get(f.id, "111111111111", "eu-west-1", &g), -ENOENT);
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), 0);
	db_fs_fini(&g);
	ck_assert_int_eq(db_fs_update(f.id, "{\"a\":1}", FS_AVAILABLE, 2400), 0);
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), 0);
	ck_assert_str_eq(g.doc, "{\"a\":1}");
	ck_assert_int_eq(g.lifecycle, FS_AVAILABLE);
	ck_assert_int_eq(g.capacity, 2400);
	db_fs_fini(&g);
	ck_assert_int_eq(db_fs_update(f.id, "{}", -1, 2400), 0);
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), 0);
	ck_assert_int_eq(g.lifecycle, FS_AVAILABLE);	/* -1 keeps it */
	db_fs_fini(&g);
	ck_assert_int_eq(db_fs_delete(f.id), 0);
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), -ENOENT);
}
END_TEST

START_TEST(db_fs_list_usage_ids)
{
	struct db_fs f;
	long long seqs[8] = { 0 }, count, storage, by[FS_LIFECYCLE__COUNT];
	char ids[4][DB_ID_MAX];

	ck_assert_int_eq(db_init(db_file), 0);
	fs_row(&f, "fs-00000000000000001", "111111111111", "SCRATCH_2", 1200);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	fs_row(&f, "fs-00000000000000002", "111111111111", "SCRATCH_1", 2400);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	fs_row(&f, "fs-00000000000000003", "111111111111", "PERSISTENT_2", 1200);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	fs_row(&f, "fs-00000000000000004", "222222222222", "SCRATCH_2", 4800);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	/* seq order, resumes after the cursor, stops when told */
	ck_assert_int_eq(db_fs_list("111111111111", "us-east-1", 1, list_collect,
	    seqs), 0);
	ck_assert_int_eq(seqs[0], 2);
	ck_assert_int_eq(seqs[1], 3);
	ck_assert_int_eq(seqs[2], 0);
	ck_assert_int_eq(db_fs_usage("111111111111", "us-east-1", "SCRATCH",
	    &count, &storage), 0);
	ck_assert_int_eq(count, 2);
	ck_assert_int_eq(storage, 3600);
	ck_assert_int_eq(db_fs_usage("111111111111", "us-east-1", "PERSISTENT_1",
	    &count, &storage), 0);
	ck_assert_int_eq(count, 0);
	ck_assert_int_eq(db_fs_set_lifecycle("fs-00000000000000003",
	    FS_AVAILABLE), 0);
	ck_assert_int_eq(db_fs_ids(1u << FS_AVAILABLE, ids, 4), 1);
	ck_assert_str_eq(ids[0], "fs-00000000000000003");
	ck_assert_int_eq(db_fs_ids(1u << FS_CREATING, ids, 2), 3);	/* > max */
	ck_assert_int_eq(db_fs_count_by_lifecycle(by), 0);
	ck_assert_int_eq(by[FS_CREATING], 3);
	ck_assert_int_eq(by[FS_AVAILABLE], 1);
}
END_TEST

/* The automatic-backup tick's list: retention > 0, AVAILABLE or UPDATING. */
START_TEST(db_fs_ids_auto_backup_filters)
{
	static const char *docs[4] = {
		"{\"LustreConfiguration\":{\"AutomaticBackupRetentionDays\":3}}",
		"{\"LustreConfiguration\":{\"AutomaticBackupRetentionDays\":0}}",
		"{\"LustreConfiguration\":{}}",
		"{\"LustreConfiguration\":{\"AutomaticBackupRetentionDays\":1}}",
	};
	static const enum fs_lifecycle lcs[4] = {
		FS_AVAILABLE, FS_AVAILABLE, FS_AVAILABLE, FS_UPDATING,
	};
	char ids[4][DB_ID_MAX], id[DB_ID_MAX];
	struct db_fs f;

	ck_assert_int_eq(db_init(db_file), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "fs-0000000000000000%d", i + 1);
		fs_row(&f, id, "111111111111", "PERSISTENT_2", 1200);
		f.doc = (char *)docs[i];
		ck_assert_int_eq(db_fs_insert(&f), 0);
		ck_assert_int_eq(db_fs_set_lifecycle(id, lcs[i]), 0);
	}
	ck_assert_int_eq(db_fs_ids_auto_backup(ids, 4), 2);
	ck_assert_str_eq(ids[0], "fs-00000000000000001");
	ck_assert_str_eq(ids[1], "fs-00000000000000004");
	/* a file system being deleted is not backed up */
	ck_assert_int_eq(db_fs_set_lifecycle("fs-00000000000000001",
	    FS_DELETING), 0);
	ck_assert_int_eq(db_fs_ids_auto_backup(ids, 4), 1);
	ck_assert_str_eq(ids[0], "fs-00000000000000004");
}
END_TEST

START_TEST(db_tag_rows_and_descriptions)
{
	const char *arn = "arn:aws:fsx:us-east-1:111111111111:file-system/fs-1";
	const char *keys[3] = { "b", "z", "q" };
	struct db_tag t[4];
	struct db_fs f, g;

	ck_assert_int_eq(db_init(db_file), 0);
	fs_row(&f, "fs-00000000000000001", "111111111111", "SCRATCH_2", 1200);
	snprintf(f.arn, sizeof(f.arn), "%s", arn);
	ck_assert_int_eq(db_fs_insert(&f), 0);
	/* no tags: no Tags member */
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), 0);
	ck_assert_ptr_null(strstr(g.doc, "Tags"));
	db_fs_fini(&g);
	ck_assert_int_eq(db_tag_put(arn, "b", "1"), 0);
	ck_assert_int_eq(db_tag_put(arn, "a", "2"), 0);
	ck_assert_int_eq(db_tag_put(arn, "b", "3"), 0);	/* keeps its place */
	ck_assert_int_eq(db_tag_new_keys(arn, keys, 3), 2);
	ck_assert_int_eq(db_tag_list(arn, 0, t, 4), 2);
	ck_assert_str_eq(t[0].key, "b");
	ck_assert_str_eq(t[0].value, "3");
	ck_assert_str_eq(t[1].key, "a");
	ck_assert_int_eq(db_tag_list(arn, 1, t, 4), 2);	/* a page from 1 */
	ck_assert_str_eq(t[0].key, "a");
	ck_assert_int_eq(db_fs_get(f.id, NULL, NULL, &g), 0);
	ck_assert_ptr_nonnull(strstr(g.doc, "\"Tags\":[{\"Key\":\"b\",\"Value\":\"3\"},"
	    "{\"Key\":\"a\",\"Value\":\"2\"}]"));
	db_fs_fini(&g);
	ck_assert_int_eq(db_tag_delete(arn, "b"), 0);
	ck_assert_int_eq(db_tag_delete(arn, "nope"), 0);
	ck_assert_int_eq(db_tag_list(arn, 0, t, 4), 1);
	ck_assert_int_eq(db_fs_delete(f.id), 0);
	ck_assert_int_eq(db_tag_list(arn, 0, t, 4), 0);
}
END_TEST

/* A version-2 database keeps Tags inside descriptions; 0003 moves them. */
START_TEST(db_tag_migration_from_v2)
{
	struct db_tag t[4];
	struct db_fs g;
	sqlite3 *c;

	ck_assert_int_eq(sqlite3_open(db_file, &c), SQLITE_OK);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(sqlite3_exec(c, (const char *)db_migrations[i].data,
		    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(c, "INSERT INTO file_systems (id, account,"
	    " region, lifecycle, deployment, capacity, created, doc, secret, nost)"
	    " VALUES ('fs-a', '1', 'r', 'AVAILABLE', 'SCRATCH_2', 1200, 1,"
	    " '{\"ResourceARN\":\"arn:x\",\"Tags\":[{\"Key\":\"k2\",\"Value\":\"v2\"},"
	    "{\"Key\":\"k1\",\"Value\":\"v1\"}]}', 's', 1)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(c);
	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_tag_list("arn:x", 0, t, 4), 2);
	ck_assert_str_eq(t[0].key, "k2");
	ck_assert_str_eq(t[1].value, "v1");
	ck_assert_int_eq(db_fs_get("fs-a", NULL, NULL, &g), 0);
	ck_assert_str_eq(g.arn, "arn:x");
	ck_assert_ptr_nonnull(strstr(g.doc, "\"Key\":\"k2\""));
	db_fs_fini(&g);
	/* the stored doc itself no longer holds them */
	ck_assert_int_eq(count_rows("SELECT COUNT(*) FROM file_systems WHERE"
	    " json_type(doc, '$.Tags') IS NOT NULL"), 0);
}
END_TEST

START_TEST(db_token_roundtrip)
{
	char res[64], *params;

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_token_get("1", "r", "CreateFileSystem", "t",
	    &params, res, sizeof(res)), -ENOENT);
	ck_assert_ptr_null(params);
	ck_assert_int_eq(db_token_put("1", "r", "CreateFileSystem", "t",
	    "{\"a\":1}", "fs-1"), 0);
	ck_assert_int_eq(db_token_get("1", "r", "CreateFileSystem", "t",
	    &params, res, sizeof(res)), 0);
	ck_assert_str_eq(params, "{\"a\":1}");
	ck_assert_str_eq(res, "fs-1");
	free(params);
	/* scoped by operation */
	ck_assert_int_eq(db_token_get("1", "r", "UpdateFileSystem", "t",
	    &params, res, sizeof(res)), -ENOENT);
}
END_TEST

START_TEST(db_job_order_and_states)
{
	struct db_job j;

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_job_next(&j), -ENOENT);
	ck_assert_int_eq(db_job_add(JOB_CREATE, "fs-a", 1200, 1), 0);
	ck_assert_int_eq(db_job_add(JOB_GROW, "fs-a", 2400, 2), 0);
	ck_assert_int_eq(db_job_open_count("fs-a"), 2);
	ck_assert_int_eq(db_job_next(&j), 0);
	ck_assert_int_eq(j.kind, JOB_CREATE);
	ck_assert_int_eq(j.state, JOB_PENDING);
	ck_assert_int_eq(j.nost, 1);
	ck_assert_int_eq(db_job_set(j.id, JOB_RUNNING, 1, NULL), 0);
	/* a running job (cut short by a crash) comes back first */
	ck_assert_int_eq(db_job_next(&j), 0);
	ck_assert_int_eq(j.kind, JOB_CREATE);
	ck_assert_int_eq(j.state, JOB_RUNNING);
	ck_assert_int_eq(j.attempts, 1);
	ck_assert_int_eq(db_job_set(j.id, JOB_DONE, 1, NULL), 0);
	ck_assert_int_eq(db_job_next(&j), 0);
	ck_assert_int_eq(j.kind, JOB_GROW);
	ck_assert_int_eq(j.capacity, 2400);
	ck_assert_int_eq(j.nost, 2);
	ck_assert_int_eq(db_job_set(j.id, JOB_FAILED, 3, "boom"), 0);
	ck_assert_int_eq(db_job_next(&j), -ENOENT);
	ck_assert_int_eq(db_job_open_count("fs-a"), 0);
}
END_TEST

START_TEST(db_job_unknown_kind_is_failed_not_run)
{
	struct db_job j;

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(sqlite3_exec(db_conn(), "INSERT INTO jobs (kind, fs_id,"
	    " created, updated) VALUES ('explode', 'fs-a', 1, 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(db_job_next(&j), -EIO);
	ck_assert_int_eq(db_job_next(&j), -ENOENT);
}
END_TEST

START_TEST(db_engine_rows)
{
	struct db_proc p[4], q = { .role = ROLE_OSS, .idx = 1, .pid = 42,
	    .starttime = 7, .port = 9000 };
	struct db_ost o[4], t = { .idx = 3, .oss = 1, .capacity = 1ull << 40 };

	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_proc_put("fs-a", &q), 0);
	q.role = ROLE_MDS;
	q.idx = 0;
	q.port = 9001;
	ck_assert_int_eq(db_proc_put("fs-a", &q), 0);
	ck_assert_int_eq(db_proc_list("fs-a", p, 4), 2);
	ck_assert_int_eq(p[0].role, ROLE_MDS);		/* MDS first */
	ck_assert_int_eq(p[0].port, 9001);
	ck_assert_int_eq(p[1].role, ROLE_OSS);
	ck_assert_int_eq(p[1].pid, 42);
	ck_assert_int_eq(db_ost_put("fs-a", &t), 0);
	t.idx = 1;
	ck_assert_int_eq(db_ost_put("fs-a", &t), 0);
	ck_assert_int_eq(db_ost_set_capacity("fs-a", 5ull << 30), 0);
	ck_assert_int_eq(db_ost_list("fs-a", o, 4), 2);
	ck_assert_int_eq(o[0].idx, 1);
	ck_assert_int_eq(o[1].idx, 3);
	ck_assert(o[1].capacity == 5ull << 30);
	ck_assert_int_eq(db_engine_forget("fs-a"), 0);
	ck_assert_int_eq(db_proc_list("fs-a", p, 4), 0);
	ck_assert_int_eq(db_ost_list("fs-a", o, 4), 0);
}
END_TEST

/* A version-1 database with "0,1,2" OST lists migrates to osts rows. */
START_TEST(db_engine_migration_from_v1)
{
	struct db_ost o[8];
	sqlite3 *c;

	ck_assert_int_eq(sqlite3_open(db_file, &c), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(c, (const char *)db_migrations[0].data,
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(c, "INSERT INTO file_systems (id, account,"
	    " region, lifecycle, deployment, capacity, created, doc, secret, nost)"
	    " VALUES ('fs-a', '1', 'r', 'AVAILABLE', 'SCRATCH_2', 3600, 1, '{}',"
	    " 's', 3); INSERT INTO procs (fs_id, role, idx, osts) VALUES"
	    " ('fs-a', 'oss', 0, '0,2'), ('fs-a', 'oss', 1, '1'),"
	    " ('fs-a', 'mds', 0, '');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(c);
	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_ge(db_user_version(), 2);
	ck_assert_int_eq(db_ost_list("fs-a", o, 8), 3);
	ck_assert_int_eq(o[0].oss, 0);
	ck_assert_int_eq(o[1].oss, 1);
	ck_assert_int_eq(o[2].oss, 0);
	ck_assert(o[2].capacity == 1200ull << 30);
}
END_TEST

START_TEST(db_file_private_even_if_it_existed)
{
	struct stat st;
	int fd = open(db_file, O_CREAT | O_WRONLY, 0644);

	ck_assert_int_ge(fd, 0);
	fchmod(fd, 0644);
	close(fd);
	ck_assert_int_eq(db_init(db_file), 0);
	ck_assert_int_eq(db_job_add(JOB_DELETE, "fs-a", 0, 0), 0);
	ck_assert_int_eq(stat(db_file, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
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
	tcase_add_test(tc, db_tx_rollback_discards_commit_keeps);
	tcase_add_test(tc, db_fs_insert_get_scoped_by_owner);
	tcase_add_test(tc, db_fs_list_usage_ids);
	tcase_add_test(tc, db_fs_ids_auto_backup_filters);
	tcase_add_test(tc, db_tag_rows_and_descriptions);
	tcase_add_test(tc, db_tag_migration_from_v2);
	tcase_add_test(tc, db_token_roundtrip);
	tcase_add_test(tc, db_job_order_and_states);
	tcase_add_test(tc, db_job_unknown_kind_is_failed_not_run);
	tcase_add_test(tc, db_engine_rows);
	tcase_add_test(tc, db_engine_migration_from_v1);
	tcase_add_test(tc, db_file_private_even_if_it_existed);
	suite_add_tcase(s, tc);
	return s;
}
