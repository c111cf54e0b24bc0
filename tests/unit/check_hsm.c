/*
 * HSM: the per-file state machine of the MDS (mds_hsm_next: every
 * transition and its guard), and the agent's pure parts: the bucket-check
 * verdict, FSx's report CSV quoting, POSIX metadata from S3 user metadata,
 * the sorted listings auto-import compares (and their file), and the
 * record's parsing,
 * association lifecycle and durability (hsm_state.c on a temp store).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "hsm/hsm.h"
#include "hsm/hsm_repo.h"
#include "hsm/hsm_task.h"
#include "hsm/hsm_xfer.h"
#include "mds/mds_hsm.h"

Suite	*hsm_suite(void);

#define E	MSG_HSM_EXISTS
#define A	MSG_HSM_ARCHIVED
#define R	MSG_HSM_RELEASED
#define D	MSG_HSM_DIRTY
#define L	MSG_HSM_LOST

START_TEST(hsm_transitions)
{
	ck_assert_int_eq(mds_hsm_next(0, MDS_HSM_EV_IMPORT), E | A | R);
	ck_assert_int_eq(mds_hsm_next(E | A | D, MDS_HSM_EV_IMPORT), E | A | R);
	/* writes */
	ck_assert_int_eq(mds_hsm_next(0, MDS_HSM_EV_WRITTEN), D);
	ck_assert_int_eq(mds_hsm_next(E | A, MDS_HSM_EV_WRITTEN), E | A | D);
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_WRITTEN), -EBUSY);
	/* archive */
	ck_assert_int_eq(mds_hsm_next(D, MDS_HSM_EV_ARCHIVED), E | A);
	ck_assert_int_eq(mds_hsm_next(E | A | D | L, MDS_HSM_EV_ARCHIVED),
	    E | A);
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_ARCHIVED), -EINVAL);
	/* release: archived and clean only */
	ck_assert_int_eq(mds_hsm_next(E | A, MDS_HSM_EV_RELEASE), E | A | R);
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_RELEASE), E | A | R);
	ck_assert_int_eq(E | A | R, 0x0d);	/* what FSx's docs show */
	ck_assert_int_eq(mds_hsm_next(E | A | D, MDS_HSM_EV_RELEASE), -EBUSY);
	ck_assert_int_eq(mds_hsm_next(0, MDS_HSM_EV_RELEASE), -EBUSY);
	ck_assert_int_eq(mds_hsm_next(D, MDS_HSM_EV_RELEASE), -EBUSY);
	ck_assert_int_eq(mds_hsm_next(E | A | L, MDS_HSM_EV_RELEASE), -EBUSY);
	ck_assert_int_eq(mds_hsm_next(A, MDS_HSM_EV_RELEASE), -EBUSY);
	/* restore */
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_RESTORED), E | A);
	ck_assert_int_eq(mds_hsm_next(E | A, MDS_HSM_EV_RESTORED), -EINVAL);
	/* O_TRUNC: the data goes, no restore; changed if it had a copy */
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_TRUNCATED),
	    E | A | D);
	ck_assert_int_eq(mds_hsm_next(0, MDS_HSM_EV_TRUNCATED), 0);
	/* lost */
	ck_assert_int_eq(mds_hsm_next(E | A, MDS_HSM_EV_LOST), E | L);
	ck_assert_int_eq(mds_hsm_next(E | A | R, MDS_HSM_EV_LOST),
	    E | A | R | L);
	ck_assert_int_eq(mds_hsm_next(0, 99), -EINVAL);
}
END_TEST

/* Over every state and event: RELEASED never without ARCHIVED and
 * EXISTS, and a released file never turns DIRTY. */
START_TEST(hsm_invariants_everywhere)
{
	for (uint32_t f = 0; f <= MSG_HSM_ALL; f++) {
		if (f & ~MSG_HSM_ALL)
			continue;
		int valid = !(f & R) || ((f & A) && (f & E) && !(f & D));

		if (!valid)
			continue;
		for (int ev = MDS_HSM_EV_IMPORT; ev <= MDS_HSM_EV_LOST; ev++) {
			int n = mds_hsm_next(f, ev);

			if (n < 0)
				continue;
			if (n & R)
				ck_assert_msg((n & A) && (n & E),
				    "%#x --%d--> %#x", f, ev, n);
			ck_assert_msg(!((n & R) && (n & D)),
			    "%#x --%d--> %#x", f, ev, n);
			ck_assert_int_eq(n & ~MSG_HSM_ALL, 0);
		}
	}
}
END_TEST

START_TEST(hsm_verdicts)
{
	struct s3_error e;
	char st[HSM_STATE_MAX], msg[HSM_MSG_MAX];

	memset(&e, 0, sizeof(e));
	hsm_check_verdict(0, &e, "b", st, msg);
	ck_assert_str_eq(st, "AVAILABLE");
	ck_assert_str_eq(msg, "");
	hsm_check_verdict(-ENOENT, &e, "nob", st, msg);
	ck_assert_str_eq(st, "FAILED");
	ck_assert_ptr_nonnull(strstr(msg, "nob"));
	ck_assert_ptr_nonnull(strstr(msg, "does not exist"));
	snprintf(e.code, sizeof(e.code), "AccessDenied");
	snprintf(e.message, sizeof(e.message), "Access Denied");
	hsm_check_verdict(-EACCES, &e, "priv", st, msg);
	ck_assert_str_eq(st, "MISCONFIGURED");
	ck_assert_ptr_nonnull(strstr(msg, "does not have the required "
	    "permissions for the S3 bucket priv"));
	memset(&e, 0, sizeof(e));
	hsm_check_verdict(-EAGAIN, &e, "far", st, msg);
	ck_assert_str_eq(st, "FAILED");
	ck_assert_ptr_nonnull(strstr(msg, "unable to reach"));
}
END_TEST

START_TEST(hsm_report_csv)
{
	struct buf b;
	char *s;

	buf_init(&b, 64);
	hsm_report_line(&b, "dir1/myLargeFile", "FileSizeTooLarge");
	hsm_report_line(&b, "a,b", "S3Error");
	hsm_report_line(&b, "say \"hi\"", "S3Error");
	hsm_report_line(&b, "@f", "InternalError");
	hsm_report_line(&b, "=1+1", "InternalError");
	s = buf_take(&b);
	ck_assert_str_eq(s,
	    "dir1/myLargeFile,failed,FileSizeTooLarge\n"
	    "\"a,b\",failed,S3Error\n"
	    "\"say \"\"hi\"\"\",failed,S3Error\n"
	    "\"\"\"@f\"\"\",failed,InternalError\n"
	    "\"\"\"=1+1\"\"\",failed,InternalError\n");
	free(s);
	buf_fini(&b);
}
END_TEST

START_TEST(hsm_posix_metadata_both_ways)
{
	struct s3_object *o = xcalloc(1, sizeof(*o));
	struct msg_hsm_import im;
	struct msg_attr a;
	struct s3_meta m[8];
	int n;

	memset(&a, 0, sizeof(a));
	a.mode = 0100640;
	a.uid = 1234;
	a.gid = 4321;
	a.mtime_sec = 1595002920;
	a.mtime_nsec = 5;
	a.atime_sec = 1595002921;
	n = hsm_posix_meta(&a, m);
	ck_assert_int_eq(n, 5);
	ck_assert_str_eq(m[0].name, "file-permissions");
	ck_assert_str_eq(m[0].value, "0100640");
	ck_assert_str_eq(m[4].value, "1595002920000000005ns");
	memcpy(o->meta, m, sizeof(m[0]) * (size_t)n);
	o->nmeta = n;
	memset(&im, 0, sizeof(im));
	im.mode = 0644;
	hsm_posix_from_meta(o, &im);
	ck_assert_uint_eq(im.mode, 0640);
	ck_assert_uint_eq(im.uid, 1234);
	ck_assert_uint_eq(im.gid, 4321);
	ck_assert_int_eq(im.mtime_sec, 1595002920);
	ck_assert_int_eq(im.mtime_nsec, 5);
	ck_assert_int_eq(im.atime_sec, 1595002921);
	/* hostile values change nothing */
	memset(&im, 0, sizeof(im));
	im.mode = 0644;
	snprintf(o->meta[0].value, sizeof(o->meta[0].value), "040755");
	snprintf(o->meta[1].value, sizeof(o->meta[1].value), "-1x");
	snprintf(o->meta[4].value, sizeof(o->meta[4].value), "soon");
	hsm_posix_from_meta(o, &im);
	ck_assert_uint_eq(im.mode, 0644);
	ck_assert_uint_eq(im.uid, 0);
	ck_assert_int_eq(im.mtime_sec, 0);
	free(o);
}
END_TEST

START_TEST(hsm_listing_order)
{
	struct hsm_objs l;

	memset(&l, 0, sizeof(l));
	hsm_objs_put(&l, "b", 2, "e2");
	hsm_objs_put(&l, "a", 1, "e1");
	hsm_objs_put(&l, "c", 3, "e3");
	hsm_objs_put(&l, "b", 20, "e20");
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0].key, "a");
	ck_assert_str_eq(l.v[1].key, "b");
	ck_assert_str_eq(hsm_objs_find(&l, "b")->etag, "e20");
	hsm_objs_del(&l, "a");
	ck_assert_ptr_null(hsm_objs_find(&l, "a"));
	ck_assert_str_eq(l.v[0].key, "b");
	hsm_objs_free(&l);
	ck_assert_int_eq(hsm_path_under("/ns1/a", "/ns1"), 1);
	ck_assert_int_eq(hsm_path_under("/ns1", "/ns1/"), 1);
	ck_assert_int_eq(hsm_path_under("/ns10", "/ns1"), 0);
	ck_assert_int_eq(hsm_path_under("/x", "/"), 1);
}
END_TEST

/* The auto-import listing's file: keys with % TAB CR LF survive, the
 * order is kept, and a torn, unordered or foreign file is refused. */
START_TEST(hsm_listing_file)
{
	char dir[] = "/tmp/check-hsm-snap-XXXXXX", *path, *bad;
	struct hsm_objs l, back;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/snap", dir);
	memset(&l, 0, sizeof(l));
	hsm_objs_put(&l, "p/a\tb", 1, "\"e1\"");
	hsm_objs_put(&l, "p/%41\nz", 2, "\"e2\"");
	hsm_objs_put(&l, "p/z/\r", 18446744073709551615ull, "");
	ck_assert_int_eq(hsm_objs_save(path, &l), 0);
	ck_assert_int_eq(hsm_objs_load(path, &back), 0);
	ck_assert_int_eq(hsm_objs_same(&l, &back), 1);
	ck_assert_str_eq(back.v[0].key, "p/%41\nz");
	ck_assert_uint_eq(back.v[2].size, 18446744073709551615ull);
	hsm_objs_put(&back, "p/new", 1, "x");
	ck_assert_int_eq(hsm_objs_same(&l, &back), 0);
	hsm_objs_free(&back);
	hsm_objs_free(&l);
	/* torn last line, keys out of order, another magic, nothing */
	bad = "fsx-hsm-snapshot 1\ne\t1\tp/a\ne\t2\tp/b";
	ck_assert_int_eq(file_write_atomic(path, bad, strlen(bad)), 0);
	ck_assert_int_eq(hsm_objs_load(path, &back), -EBADMSG);
	bad = "fsx-hsm-snapshot 1\ne\t1\tp/b\ne\t2\tp/a\n";
	ck_assert_int_eq(file_write_atomic(path, bad, strlen(bad)), 0);
	ck_assert_int_eq(hsm_objs_load(path, &back), -EBADMSG);
	bad = "something else\n";
	ck_assert_int_eq(file_write_atomic(path, bad, strlen(bad)), 0);
	ck_assert_int_eq(hsm_objs_load(path, &back), -EBADMSG);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(hsm_objs_load(path, &back), -ENOENT);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
}
END_TEST

#define CONF_DOC \
    "{\"mds\": \"127.0.0.1:1\", \"s3\": {\"endpoint\": \"http://127.0.0.1:9\"," \
    " \"access_key\": \"AK\", \"secret_key\": \"SK\"}, \"poll_ms\": 500," \
    " \"associations\": [{\"id\": \"dra-1\", \"fs_path\": \"/ns1\"," \
    " \"bucket\": \"b\", \"prefix\": \"p/\", \"import\": [\"NEW\"]," \
    " \"export\": [], \"state\": \"%s\"}]}"

static int
conf_with(struct hsm *h, const char *state, const char *import)
{
	char doc[1024], *p;

	snprintf(doc, sizeof(doc), CONF_DOC, state);
	p = strstr(doc, "[\"NEW\"]");
	if (import != NULL)
		memcpy(p, import, strlen(import));	/* same length */
	return hsm_conf_apply(h, doc, strlen(doc));
}

/* Where exports go: the legacy ExportPath's prefix when one is sent, even
 * "" (ExportPath at the bucket's root), else the association's prefix; a
 * restarted agent keeps the distinction. */
START_TEST(hsm_export_prefix_root_and_default)
{
	static const char *const ep[] = { "", "out/", NULL };
	static const char *const want[] = { "", "out/", "p/" };

	for (int i = 0; i < 3; i++) {
		struct hsm *h = xcalloc(1, sizeof(*h));
		char doc[1024], extra[64] = "", dir[] = "/tmp/check-hsm-XXXXXX";
		struct hsm_assoc *a;

		ck_assert_ptr_nonnull(mkdtemp(dir));
		if (ep[i] != NULL)
			snprintf(extra, sizeof(extra),
			    ", \"export_prefix\": \"%s\"", ep[i]);
		snprintf(doc, sizeof(doc), "{\"mds\": \"127.0.0.1:1\", "
		    "\"s3\": {\"endpoint\": \"http://127.0.0.1:9\"}, "
		    "\"associations\": [{\"id\": \"legacy\", \"fs_path\": "
		    "\"/\", \"bucket\": \"b\", \"prefix\": \"p/\", "
		    "\"import\": [], \"export\": [], \"state\": "
		    "\"AVAILABLE\"%s}]}", extra);
		ck_assert_int_eq(hsm_init(h, dir), 0);
		ck_assert_int_eq(hsm_conf_apply(h, doc, strlen(doc)), 0);
		a = hsm_assoc_find(h, "legacy");
		ck_assert_ptr_nonnull(a);
		ck_assert_str_eq(hsm_export_prefix(a), want[i]);
		hsm_fini(h);
		memset(h, 0, sizeof(*h));
		ck_assert_int_eq(hsm_init(h, dir), 0);	/* from state.json */
		a = hsm_assoc_find(h, "legacy");
		ck_assert_ptr_nonnull(a);
		ck_assert_str_eq(hsm_export_prefix(a), want[i]);
		hsm_fini(h);
		free(h);
		rm_rf(dir);
	}
}
END_TEST

/* s3.copy_max (objects above it move by part copies): a whole number of
 * bytes in [S3_PART_MIN, S3_COPY_MAX]; anything else refuses the whole
 * document and keeps the configuration in force. */
START_TEST(hsm_conf_copy_max_strict)
{
	static const char *const bad[] = { "\"6291456\"", "1048576",
	    "5368709121", "-1", "6291456.5", "true", "{}", NULL };
	struct hsm *h = xcalloc(1, sizeof(*h));
	char doc[512], dir[] = "/tmp/check-hsm-XXXXXX";

#define COPY_DOC "{\"mds\": \"127.0.0.1:1\", \"s3\": {\"endpoint\": " \
	"\"http://127.0.0.1:9\"%s%s}}"
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(hsm_init(h, dir), 0);
	snprintf(doc, sizeof(doc), COPY_DOC, "", "");
	ck_assert_int_eq(hsm_conf_apply(h, doc, strlen(doc)), 0);
	ck_assert_uint_eq(h->s3.copy_max, 0);	/* the client's 5 GiB */
	snprintf(doc, sizeof(doc), COPY_DOC, ", \"copy_max\": ", "6291456");
	ck_assert_int_eq(hsm_conf_apply(h, doc, strlen(doc)), 0);
	ck_assert_uint_eq(h->s3.copy_max, 6u << 20);
	snprintf(doc, sizeof(doc), COPY_DOC, ", \"copy_max\": ", "5368709120");
	ck_assert_int_eq(hsm_conf_apply(h, doc, strlen(doc)), 0);
	ck_assert_uint_eq(h->s3.copy_max, S3_COPY_MAX);
	for (int i = 0; bad[i] != NULL; i++) {
		snprintf(doc, sizeof(doc), COPY_DOC, ", \"copy_max\": ", bad[i]);
		ck_assert_msg(hsm_conf_apply(h, doc, strlen(doc)) == -EINVAL,
		    "copy_max %s accepted", bad[i]);
		ck_assert_uint_eq(h->s3.copy_max, S3_COPY_MAX);
	}
#undef COPY_DOC
	hsm_fini(h);
	free(h);
	rm_rf(dir);
}
END_TEST

START_TEST(hsm_record_lifecycle_and_restart)
{
	char dir[] = "/tmp/check-hsm-XXXXXX";
	struct hsm_assoc *a;
	struct hsm *h = xcalloc(1, sizeof(*h));
	const char *t1 = "{\"id\": \"task-1\", \"type\": "
	    "\"EXPORT_TO_REPOSITORY\", \"paths\": [\"/ns1\"]}";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(hsm_init(h, dir), 0);
	ck_assert_int_eq(conf_with(h, "CREATING", NULL), 0);
	a = hsm_assoc_find(h, "dra-1");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->state, "CREATING");
	ck_assert_int_eq(a->work, 1);
	ck_assert_uint_eq(a->import_ev, HSM_EV_NEW);
	/* the worker's verdict, then an update of the policies */
	snprintf(a->state, sizeof(a->state), "AVAILABLE");
	a->work = 0;
	ck_assert_int_eq(conf_with(h, "CREATING", NULL), 0);
	ck_assert_int_eq(a->work, 0);	/* idempotent */
	ck_assert_int_eq(conf_with(h, "UPDATING", "[\"DEL\"]"), -EINVAL);
	ck_assert_int_eq(conf_with(h, "UPDATING", "[]     "), 0);
	ck_assert_str_eq(a->state, "UPDATING");
	ck_assert_int_eq(a->work, 1);
	ck_assert_uint_eq(a->import_ev, 0);
	snprintf(a->state, sizeof(a->state), "AVAILABLE");
	a->work = 0;
	ck_assert_int_eq(conf_with(h, "DELETING", NULL), 0);
	ck_assert_str_eq(a->state, "DELETING");
	/* tasks */
	ck_assert_int_eq(hsm_task_add(h, t1, strlen(t1)), 0);
	ck_assert_int_eq(hsm_task_add(h, t1, strlen(t1)), 0);
	ck_assert_int_eq(h->ntask, 1);
	ck_assert_int_eq(hsm_task_cancel(h, "{\"id\": \"task-9\"}",
	    strlen("{\"id\": \"task-9\"}")),
	    -ENOENT);
	/* a restarted agent has the same record, without the credentials */
	hsm_fini(h);
	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(hsm_init(h, dir), 0);
	ck_assert_int_eq(h->have_s3, 0);
	a = hsm_assoc_find(h, "dra-1");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->state, "DELETING");
	ck_assert_int_eq(a->work, 1);
	ck_assert_int_eq(h->ntask, 1);
	ck_assert_str_eq(h->task[0].state, "PENDING");
	ck_assert_int_eq(hsm_task_cancel(h, "{\"id\": \"task-1\"}",
	    strlen("{\"id\": \"task-1\"}")), 0);
	ck_assert_str_eq(h->task[0].state, "CANCELED");
	{
		char *txt = NULL, *path = xasprintf("%s/state.json", dir);
		size_t len;

		ck_assert_int_eq(file_read_all(path, &txt, &len, 1 << 20), 0);
		ck_assert_ptr_null(strstr(txt, "SK"));	/* no secret key */
		free(txt);
		free(path);
	}
	/* an absent association is forgotten */
	{
		const char *empty = "{\"s3\": {}, \"associations\": []}";

		ck_assert_int_eq(hsm_conf_apply(h, empty, strlen(empty)), 0);
	}
	ck_assert_int_eq(h->nassoc, 0);
	hsm_fini(h);
	free(h);
	rm_rf(dir);
}
END_TEST

Suite *
hsm_suite(void)
{
	Suite *s = suite_create("hsm");
	TCase *tc = tcase_create("hsm");

	tcase_add_test(tc, hsm_transitions);
	tcase_add_test(tc, hsm_invariants_everywhere);
	tcase_add_test(tc, hsm_verdicts);
	tcase_add_test(tc, hsm_report_csv);
	tcase_add_test(tc, hsm_posix_metadata_both_ways);
	tcase_add_test(tc, hsm_listing_order);
	tcase_add_test(tc, hsm_listing_file);
	tcase_add_test(tc, hsm_record_lifecycle_and_restart);
	tcase_add_test(tc, hsm_export_prefix_root_and_default);
	tcase_add_test(tc, hsm_conf_copy_max_strict);
	suite_add_tcase(s, tc);
	return s;
}
