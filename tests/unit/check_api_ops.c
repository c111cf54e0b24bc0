/*
 * check_api_ops: the operation table.
 *
 *   api_ops_*      every operation is declared once and is in the model
 *   api_absent_*   every operation routed to api_absent names its resource
 *   api_call_*     a handler's answer reaches the dispatcher typed
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_ops.h"
#include "model.h"

Suite *api_ops_suite(void);

START_TEST(api_ops_each_once_and_in_model)
{
	json_t *ops;
	size_t n = 0;

	ck_assert_int_eq(api_model_init(), 0);
	for (const struct api_op *a = api_ops; a->name != NULL; a++, n++) {
		ck_assert_msg(api_model_has_op(a->name), "%s not in model", a->name);
		ck_assert_ptr_eq(api_op_find(a->name), a);
		ck_assert_ptr_nonnull(a->handler);
	}
	ops = api_model_ops();
	ck_assert_uint_eq(n, json_array_size(ops));
	json_decref(ops);
	ck_assert_ptr_null(api_op_find("DescribeUnicorns"));
	/* the front end's errors are errors.def's last block */
	ck_assert(api_err_front_end(API_E_UNKNOWN_OPERATION));
	ck_assert(api_err_front_end(API_E_HEADERS_TOO_LARGE));
	ck_assert(!api_err_front_end(API_E_BAD_REQUEST));
	ck_assert(!api_err_front_end(API_E_BACKUP_IN_PROGRESS));
}
END_TEST

START_TEST(api_absent_every_routed_op_answers)
{
	struct fsxd_conf conf;
	json_t *in = json_object();

	memset(&conf, 0, sizeof(conf));
	for (const struct api_op *a = api_ops; a->name != NULL; a++) {
		struct api_error err = { 0 };
		struct api_ctx cx;
		json_t *out;

		if (a->handler != api_absent)
			continue;
		memset(&cx, 0, sizeof(cx));
		cx.conf = &conf;
		cx.account = "000000000000";
		cx.region = "us-east-1";
		cx.op = a->name;
		cx.opdef = a;
		out = a->handler(&cx, in, &err);
		if (out != NULL) {
			/* a listing: one empty array */
			ck_assert_msg(json_object_size(out) == 1, "%s", a->name);
			json_decref(out);
		} else {
			ck_assert_msg(err.code != API_E_INTERNAL_SERVER_ERROR,
			    "%s: %s", a->name, err.message);
			ck_assert_int_eq(api_err_status(err.code), 400);
		}
		api_error_clear(&err);
	}
	json_decref(in);
}
END_TEST

START_TEST(api_absent_named_id_is_not_found)
{
	struct fsxd_conf conf;
	struct api_error err = { 0 };
	struct api_ctx cx;
	json_t *in = json_pack("{s:[s]}", "VolumeIds", "fsvol-0123456789abcdef0");

	memset(&conf, 0, sizeof(conf));
	memset(&cx, 0, sizeof(cx));
	cx.conf = &conf;
	cx.op = "DescribeVolumes";
	cx.opdef = api_op_find("DescribeVolumes");
	ck_assert_ptr_null(api_absent(&cx, in, &err));
	ck_assert_str_eq(api_err_type(err.code), "VolumeNotFound");
	ck_assert_str_eq(err.message,
	    "Volume 'fsvol-0123456789abcdef0' does not exist.");
	api_error_clear(&err);
	json_decref(in);
}
END_TEST

static json_t *
t_text_handler(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	(void)in;
	(void)err;
	return api_reply_text(cx, strdup("{\"FileSystems\":[]}"));
}

static json_t *
t_json_handler(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	(void)cx;
	(void)in;
	(void)err;
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
t_fail_handler(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	(void)in;
	/* text set, then a failure: the text must not leak or be sent */
	(void)api_reply_text(cx, strdup("{}"));
	return api_fail(err, API_E_BAD_REQUEST, "no");
}

START_TEST(api_call_typed_replies)
{
	static const struct api_op ops[] = {
		{ "T", t_text_handler, 0, API_RES_NONE, NULL },
		{ "J", t_json_handler, 0, API_RES_NONE, NULL },
		{ "F", t_fail_handler, 0, API_RES_NONE, NULL },
	};
	struct api_error err = { 0 };
	struct api_reply r;
	struct api_ctx cx;
	json_t *in = json_object();

	memset(&cx, 0, sizeof(cx));
	ck_assert_int_eq(api_call(&ops[0], &cx, in, &r, &err), 0);
	ck_assert_int_eq(r.kind, API_REPLY_TEXT);
	ck_assert_str_eq(r.text, "{\"FileSystems\":[]}");
	ck_assert_ptr_null(r.json);
	ck_assert_ptr_eq(cx.opdef, &ops[0]);
	api_reply_fini(&r);
	ck_assert_int_eq(api_call(&ops[1], &cx, in, &r, &err), 0);
	ck_assert_int_eq(r.kind, API_REPLY_JSON);
	ck_assert(json_is_true(json_object_get(r.json, "ok")));
	ck_assert_ptr_null(r.text);
	api_reply_fini(&r);
	ck_assert_int_eq(api_call(&ops[2], &cx, in, &r, &err), -1);
	ck_assert_int_eq(r.kind, API_REPLY_ERROR);
	ck_assert_int_eq(err.code, API_E_BAD_REQUEST);
	ck_assert_ptr_null(cx.reply.text);
	api_error_clear(&err);
	json_decref(in);
}
END_TEST

Suite *
api_ops_suite(void)
{
	Suite *s = suite_create("api_ops");
	TCase *tc = tcase_create("api_ops");

	tcase_add_test(tc, api_ops_each_once_and_in_model);
	tcase_add_test(tc, api_absent_every_routed_op_answers);
	tcase_add_test(tc, api_absent_named_id_is_not_found);
	tcase_add_test(tc, api_call_typed_replies);
	suite_add_tcase(s, tc);
	return s;
}
