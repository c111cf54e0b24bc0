/*
 * check_repo: the pieces of S3 data repositories that need no agent.
 *
 *   repo_fs_path_*   file system paths: normalised, bad forms refused
 *   repo_overlap_*   path overlap by components, / overlaps all
 *   repo_s3_path_*   s3://bucket[/prefix]: bucket names, trailing /
 *   repo_cursor_*    NextToken round trip; another kind's refused
 *   repo_db_*        dras and tasks rows: legacy rows hidden from
 *                    listings, updates, counts by lifecycle, tags and
 *                    rows gone with their file system (migration 0006)
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_repo.h"
#include "core/util.h"
#include "db/db.h"

Suite *repo_suite(void);

START_TEST(repo_fs_path_normalised)
{
	char out[64];

	ck_assert_int_eq(api_repo_fs_path("/ns1/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/ns1");
	ck_assert_int_eq(api_repo_fs_path("/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(api_repo_fs_path("///", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(api_repo_fs_path("/a/b.c/..d", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/a/b.c/..d");
	ck_assert_int_eq(api_repo_fs_path("ns1", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("/a//b", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("/a/./b", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("/a/..", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("/a\nb", out, sizeof(out)), -1);
	ck_assert_int_eq(api_repo_fs_path("/0123456789012345678901234567890123"
	    "456789012345678901234567890123456789", out, sizeof(out)), -1);
}
END_TEST

START_TEST(repo_overlap_by_components)
{
	ck_assert_int_eq(api_repo_fs_overlap("/ns1", "/ns1"), 1);
	ck_assert_int_eq(api_repo_fs_overlap("/ns1", "/ns1/ns2"), 1);
	ck_assert_int_eq(api_repo_fs_overlap("/ns1/ns2", "/ns1"), 1);
	ck_assert_int_eq(api_repo_fs_overlap("/ns1", "/ns10"), 0);
	ck_assert_int_eq(api_repo_fs_overlap("/", "/anything"), 1);
	ck_assert_int_eq(api_repo_fs_overlap("/a/b", "/a/c"), 0);
}
END_TEST

START_TEST(repo_s3_path_rules)
{
	char b[64], p[64];

	ck_assert_int_eq(api_repo_s3_path("s3://my-bucket", b, sizeof(b), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(b, "my-bucket");
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(api_repo_s3_path("s3://my.bucket/a/b", b, sizeof(b), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(p, "a/b/");
	ck_assert_int_eq(api_repo_s3_path("s3://b12/a/", b, sizeof(b), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(p, "a/");
	ck_assert_int_eq(api_repo_s3_path("s3://ab/x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://Bad_Bucket", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://a..b/x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://10.0.0.1/x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://-abc/x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("https://abc/x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://abc//x", b, sizeof(b), p,
	    sizeof(p)), -1);
	ck_assert_int_eq(api_repo_s3_path("s3://abc/x//y", b, sizeof(b), p,
	    sizeof(p)), -1);
}
END_TEST

START_TEST(repo_cursor_round_trip)
{
	json_t *t = api_repo_cursor("dra", 42);
	long long seq = 0;

	ck_assert_int_eq(api_repo_cursor_parse("dra", json_string_value(t),
	    &seq), 0);
	ck_assert_int_eq(seq, 42);
	ck_assert_int_eq(api_repo_cursor_parse("task", json_string_value(t),
	    &seq), -1);
	json_decref(t);
	t = api_repo_cursor("task", 7);
	ck_assert_int_eq(api_repo_cursor_parse("task", json_string_value(t),
	    &seq), 0);
	ck_assert_int_eq(seq, 7);
	json_decref(t);
	ck_assert_int_eq(api_repo_cursor_parse("dra", "ZnMxOjE=", &seq), -1);
	ck_assert_int_eq(api_repo_cursor_parse("dra", "!!", &seq), -1);
}
END_TEST

/* --- rows --- */

static char repo_dir[64];

static void
repo_setup(void)
{
	char file[128];

	snprintf(repo_dir, sizeof(repo_dir), "/tmp/check_repo.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(repo_dir));
	snprintf(file, sizeof(file), "%s/fsxd.db", repo_dir);
	ck_assert_int_eq(db_init(file), 0);
}

static void
repo_teardown(void)
{
	db_thread_fini();
	rm_rf(repo_dir);
}

static void
dra_row(struct db_dra *d, const char *id, const char *fs_id)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->fs_id, sizeof(d->fs_id), "%s", fs_id);
	snprintf(d->account, sizeof(d->account), "111111111111");
	snprintf(d->region, sizeof(d->region), "us-east-1");
	snprintf(d->arn, sizeof(d->arn), "arn:aws:fsx:us-east-1:111111111111:"
	    "association/%s/%s", fs_id, id);
	d->lifecycle = FS_CREATING;
	d->fs_path = (char *)"/ns1";
	d->repo_path = (char *)"s3://b/p/";
	d->doc = (char *)"{\"AssociationId\":\"x\"}";
	d->conf = (char *)"{\"fs_path\":\"/ns1\"}";
}

static int
collect(void *arg, const struct db_dra *d)
{
	char *ids = arg;

	strcat(ids, d->id);
	strcat(ids, " ");
	return 0;
}

START_TEST(repo_db_dras_and_legacy)
{
	struct db_fs f;
	struct db_dra d, g;
	char ids[256] = "";

	memset(&f, 0, sizeof(f));
	snprintf(f.id, sizeof(f.id), "fs-00000000000000001");
	snprintf(f.account, sizeof(f.account), "111111111111");
	snprintf(f.region, sizeof(f.region), "us-east-1");
	snprintf(f.deployment, sizeof(f.deployment), "SCRATCH_2");
	snprintf(f.arn, sizeof(f.arn), "arn:fs1");
	ck_assert_int_eq(db_fs_insert(&f), 0);
	dra_row(&d, "dra-00000000000000001", f.id);
	ck_assert_int_eq(db_dra_insert(&d), 0);
	ck_assert_int_eq(db_dra_insert(&d), -EEXIST);
	ck_assert_int_eq(db_tag_put(d.arn, "k", "v"), 0);
	dra_row(&d, DB_DRA_LEGACY, f.id);
	ck_assert_int_eq(db_dra_insert(&d), 0);
	/* listings leave the legacy row out unless asked */
	ck_assert_int_eq(db_dra_list("111111111111", "us-east-1", NULL, 0, 0,
	    collect, ids), 0);
	ck_assert_str_eq(ids, "dra-00000000000000001 ");
	ids[0] = '\0';
	ck_assert_int_eq(db_dra_list(NULL, NULL, f.id, 0, 1, collect, ids), 0);
	ck_assert_str_eq(ids, "dra-00000000000000001 legacy ");
	/* another owner sees nothing; tags come back in the doc */
	ck_assert_int_eq(db_dra_get("dra-00000000000000001", NULL,
	    "222222222222", "us-east-1", &g), -ENOENT);
	ck_assert_int_eq(db_dra_get("dra-00000000000000001", NULL,
	    "111111111111", "us-east-1", &g), 0);
	ck_assert_ptr_nonnull(strstr(g.doc, "\"Tags\""));
	ck_assert_int_eq(g.lifecycle, FS_CREATING);
	db_dra_fini(&g);
	ck_assert_int_eq(db_dra_update(f.id, "dra-00000000000000001", NULL,
	    NULL, FS_AVAILABLE), 0);
	ck_assert_int_eq(db_dra_get("dra-00000000000000001", f.id, NULL, NULL,
	    &g), 0);
	ck_assert_int_eq(g.lifecycle, FS_AVAILABLE);
	ck_assert_str_eq(g.conf, "{\"fs_path\":\"/ns1\"}");
	db_dra_fini(&g);
	/* the file system's rows and tags go with it */
	ck_assert_int_eq(db_fs_delete(f.id), 0);
	ck_assert_int_eq(db_dra_get(DB_DRA_LEGACY, f.id, NULL, NULL, &g),
	    -ENOENT);
	ck_assert_int_eq(db_tag_list(d.arn, 0, NULL, 0), 0);
	ck_assert_int_eq(db_tag_list("arn:aws:fsx:us-east-1:111111111111:"
	    "association/fs-00000000000000001/dra-00000000000000001", 0, NULL,
	    0), 0);
}
END_TEST

START_TEST(repo_db_tasks_count_by_lifecycle)
{
	struct db_task t, g;

	for (int i = 0; i < 3; i++) {
		memset(&t, 0, sizeof(t));
		snprintf(t.id, sizeof(t.id), "task-0000000000000000%d", i);
		snprintf(t.fs_id, sizeof(t.fs_id), "fs-00000000000000001");
		snprintf(t.account, sizeof(t.account), "111111111111");
		snprintf(t.region, sizeof(t.region), "us-east-1");
		t.lifecycle = TASK_PENDING;
		ck_assert_int_eq(db_task_insert(&t), 0);
	}
	ck_assert_int_eq(db_task_update("task-00000000000000001", "{\"a\":1}",
	    TASK_EXECUTING), 0);
	ck_assert_int_eq(db_task_count("fs-00000000000000001",
	    1u << TASK_PENDING), 2);
	ck_assert_int_eq(db_task_count("fs-00000000000000001",
	    1u << TASK_PENDING | 1u << TASK_EXECUTING), 3);
	ck_assert_int_eq(db_task_count("fs-00000000000000002",
	    1u << TASK_PENDING), 0);
	ck_assert_int_eq(db_task_get("task-00000000000000001", "111111111111",
	    "us-east-1", &g), 0);
	ck_assert_str_eq(g.doc, "{\"a\":1}");
	ck_assert_int_eq(g.lifecycle, TASK_EXECUTING);
	db_task_fini(&g);
	ck_assert_int_eq(db_task_get("task-00000000000000001", "111111111111",
	    "eu-west-1", &g), -ENOENT);
}
END_TEST

Suite *
repo_suite(void)
{
	Suite *s = suite_create("repo");
	TCase *tc = tcase_create("paths");
	TCase *db = tcase_create("rows");

	tcase_add_test(tc, repo_fs_path_normalised);
	tcase_add_test(tc, repo_overlap_by_components);
	tcase_add_test(tc, repo_s3_path_rules);
	tcase_add_test(tc, repo_cursor_round_trip);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(db, repo_setup, repo_teardown);
	tcase_add_test(db, repo_db_dras_and_legacy);
	tcase_add_test(db, repo_db_tasks_count_by_lifecycle);
	suite_add_tcase(s, db);
	return s;
}
