/*
 * check_db_backup: the backups and restores tables (src/db/db_backup.c).
 *
 *   db_backup_rows_*     insert, get scoped by owner, columns round trip,
 *                        Tags spliced into the doc, state changes, delete
 *                        takes its tags
 *   db_backup_queries_*  listing order and cursor, counts by type and
 *                        lifecycle, backups of a file system, copies of a
 *                        backup
 *   db_restore_*         which backup a restore reads, and who reads one
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_backup.h"

static char dir[64];
static char file[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_dbbk.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/fsxd.db", dir);
	ck_assert_int_eq(db_init(file), 0);
}

static void
teardown(void)
{
	db_thread_fini();
	rm_rf(dir);
}

static void
put(const char *id, const char *fs, const char *region, enum backup_type t,
    enum backup_lifecycle lc, const char *src)
{
	struct db_backup b;

	memset(&b, 0, sizeof(b));
	snprintf(b.id, sizeof(b.id), "%s", id);
	snprintf(b.arn, sizeof(b.arn), "arn:aws:fsx:%s:111:backup/%s", region, id);
	snprintf(b.account, sizeof(b.account), "111");
	snprintf(b.region, sizeof(b.region), "%s", region);
	snprintf(b.fs_id, sizeof(b.fs_id), "%s", fs);
	if (src != NULL) {
		snprintf(b.source_id, sizeof(b.source_id), "%s", src);
		snprintf(b.source_region, sizeof(b.source_region), "us-east-1");
	}
	b.type = t;
	b.lifecycle = lc;
	b.created = 1000.5;
	b.doc = "{\"BackupId\":\"x\"}";
	ck_assert_int_eq(db_backup_insert(&b), 0);
	ck_assert_int_gt(b.seq, 0);
}

START_TEST(db_backup_rows_roundtrip_scope_state_delete)
{
	struct db_backup b;

	put("backup-1", "fs-a", "us-east-1", BK_AUTOMATIC, BK_CREATING, NULL);
	ck_assert_int_eq(db_backup_get("backup-1", "111", "us-east-1", &b), 0);
	ck_assert_str_eq(b.fs_id, "fs-a");
	ck_assert_str_eq(b.fs_type, "LUSTRE");
	ck_assert_int_eq(b.type, BK_AUTOMATIC);
	ck_assert_int_eq(b.lifecycle, BK_CREATING);
	ck_assert_str_eq(b.source_id, "");
	ck_assert_str_eq(b.doc, "{\"BackupId\":\"x\"}");
	ck_assert(b.created == 1000.5);
	db_backup_fini(&b);
	/* another owner, or region, does not see it; NULL owner does */
	ck_assert_int_eq(db_backup_get("backup-1", "222", "us-east-1", &b), -ENOENT);
	ck_assert_int_eq(db_backup_get("backup-1", "111", "eu-west-1", &b), -ENOENT);
	ck_assert_int_eq(db_backup_get("backup-1", NULL, NULL, &b), 0);
	db_backup_fini(&b);
	/* duplicate id */
	{
		struct db_backup d;

		memset(&d, 0, sizeof(d));
		snprintf(d.id, sizeof(d.id), "backup-1");
		ck_assert_int_eq(db_backup_insert(&d), -EEXIST);
	}
	/* tags come back inside the doc */
	ck_assert_int_eq(db_tag_put("arn:aws:fsx:us-east-1:111:backup/backup-1",
	    "k", "v"), 0);
	ck_assert_int_eq(db_backup_get("backup-1", NULL, NULL, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.doc, "\"Tags\""));
	db_backup_fini(&b);
	/* state: size kept when -1, message kept when NULL */
	ck_assert_int_eq(db_backup_set_state("backup-1", BK_TRANSFERRING, 40,
	    -1, NULL), 0);
	ck_assert_int_eq(db_backup_set_state("backup-1", BK_FAILED, 0, 77,
	    "why"), 0);
	ck_assert_int_eq(db_backup_set_state("backup-1", BK_FAILED, 0, -1,
	    NULL), 0);
	ck_assert_int_eq(db_backup_get("backup-1", NULL, NULL, &b), 0);
	ck_assert_int_eq(b.lifecycle, BK_FAILED);
	ck_assert_int_eq(b.size, 77);
	ck_assert_str_eq(b.message, "why");
	db_backup_fini(&b);
	ck_assert_int_eq(db_backup_set_state("backup-9", BK_FAILED, 0, -1,
	    NULL), -ENOENT);
	/* delete takes the tags */
	ck_assert_int_eq(db_backup_delete("backup-1"), 0);
	ck_assert_int_eq(db_backup_delete("backup-1"), -ENOENT);
	ck_assert_int_eq(db_tag_list("arn:aws:fsx:us-east-1:111:backup/backup-1",
	    0, NULL, 0), 0);
}
END_TEST

struct seen {
	char	ids[8][DB_ID_MAX];
	int	n, stop_at;
};

static int
collect(void *arg, const struct db_backup *b)
{
	struct seen *s = arg;

	snprintf(s->ids[s->n++], DB_ID_MAX, "%s", b->id);
	return s->n == s->stop_at;
}

START_TEST(db_backup_queries_list_count_of_fs_copies)
{
	char ids[4][DB_ID_MAX], first[DB_ID_MAX];
	struct seen s;
	struct db_backup b;

	put("backup-1", "fs-a", "us-east-1", BK_USER_INITIATED, BK_AVAILABLE, NULL);
	put("backup-2", "fs-b", "us-east-1", BK_AUTOMATIC, BK_AVAILABLE, NULL);
	put("backup-3", "fs-a", "us-east-1", BK_USER_INITIATED, BK_CREATING, NULL);
	put("backup-4", "fs-a", "us-west-2", BK_USER_INITIATED, BK_COPYING,
	    "backup-1");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(db_backup_list("111", "us-east-1", 0, collect, &s), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.ids[0], "backup-1");
	ck_assert_str_eq(s.ids[2], "backup-3");
	/* the cursor resumes after a row; fn can stop the walk */
	ck_assert_int_eq(db_backup_get("backup-1", NULL, NULL, &b), 0);
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	ck_assert_int_eq(db_backup_list("111", "us-east-1", b.seq, collect, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_str_eq(s.ids[0], "backup-2");
	db_backup_fini(&b);
	/* counts by type and lifecycle, per region */
	ck_assert_int_eq(db_backup_count("111", "us-east-1", BK_USER_INITIATED,
	    ~0u), 2);
	ck_assert_int_eq(db_backup_count("111", "us-east-1", -1, DB_BK_OPEN), 1);
	ck_assert_int_eq(db_backup_count("111", "us-west-2", -1,
	    DB_BK_MASK(BK_COPYING)), 1);
	ck_assert_int_eq(db_backup_count("222", "us-east-1", -1, ~0u), 0);
	/* backups of a file system, oldest first, any region */
	ck_assert_int_eq(db_backup_of_fs("fs-a", -1, ~0u, ids, 4), 3);
	ck_assert_str_eq(ids[0], "backup-1");
	ck_assert_str_eq(ids[2], "backup-4");
	ck_assert_int_eq(db_backup_of_fs("fs-a", BK_USER_INITIATED, DB_BK_OPEN,
	    ids, 1), 2);
	ck_assert_str_eq(ids[0], "backup-3");
	ck_assert_int_eq(db_backup_of_fs("fs-b", BK_USER_INITIATED, ~0u, ids, 4), 0);
	/* copies of a backup */
	ck_assert_int_eq(db_backup_copies_of("backup-1", DB_BK_MASK(BK_COPYING),
	    first, sizeof(first)), 1);
	ck_assert_str_eq(first, "backup-4");
	ck_assert_int_eq(db_backup_copies_of("backup-1", DB_BK_MASK(BK_AVAILABLE),
	    first, sizeof(first)), 0);
	ck_assert_int_eq(db_backup_get("backup-4", NULL, NULL, &b), 0);
	ck_assert_str_eq(b.source_region, "us-east-1");
	db_backup_fini(&b);
}
END_TEST

START_TEST(db_restore_rows)
{
	char id[DB_ID_MAX];

	ck_assert_int_eq(db_restore_backup("fs-new", id, sizeof(id)), -ENOENT);
	ck_assert_int_eq(db_restore_using("backup-1", id, sizeof(id)), -ENOENT);
	ck_assert_int_eq(db_restore_put("fs-new", "backup-1"), 0);
	ck_assert_int_eq(db_restore_backup("fs-new", id, sizeof(id)), 0);
	ck_assert_str_eq(id, "backup-1");
	ck_assert_int_eq(db_restore_using("backup-1", id, sizeof(id)), 0);
	ck_assert_str_eq(id, "fs-new");
	ck_assert_int_eq(db_restore_delete("fs-new"), 0);
	ck_assert_int_eq(db_restore_using("backup-1", id, sizeof(id)), -ENOENT);
	ck_assert_int_ge(db_user_version(), 5);	/* 0005 applied */
}
END_TEST

Suite *db_backup_suite(void);

Suite *
db_backup_suite(void)
{
	Suite *s = suite_create("db_backup");
	TCase *tc = tcase_create("db_backup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, db_backup_rows_roundtrip_scope_state_delete);
	tcase_add_test(tc, db_backup_queries_list_count_of_fs_copies);
	tcase_add_test(tc, db_restore_rows);
	suite_add_tcase(s, tc);
	return s;
}
