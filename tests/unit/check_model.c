/*
 * api/model.c: the embedded model loads, every model pattern translates
 * and accepts documented examples, and api_validate() produces AWS's exact
 * SerializationException / BadRequest texts against real operations.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "model.h"
#include "model_json.h"

Suite	*model_suite(void);

#define ARN_FS	"arn:aws:fsx:us-east-1:123456789012:file-system/" \
		"fs-0123456789abcdef0"
#define SUBNET	"subnet-0123456789abcdef0"
#define PAT_ARN	"^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|(?=[a-z0-9-.]{1,63})(?!\\d{1,3}" \
		  "(\\.\\d{1,3}){3})(?![^:]*-{2})(?![^:]*-\\.)(?![^:]*\\.-)[a-z0-9].*" \
		  "(?<!-)):){4}(?!/).{0,1024}$"

static struct api_error verr;

/* Validate a JSON text; returns api_validate()'s result, message in verr. */
static int
val(const char *op, const char *json)
{
	json_error_t jerr;
	json_t *in = NULL;
	int rc;

	api_error_clear(&verr);
	if (json != NULL) {
		in = json_loads(json, JSON_DECODE_ANY, &jerr);
		ck_assert_msg(in != NULL, "bad test JSON %s: %s", json, jerr.text);
	}
	rc = api_validate(op, in, &verr);
	json_decref(in);
	return rc;
}

static void
expect_bad(const char *op, const char *json, const char *msg)
{
	ck_assert_int_eq(val(op, json), -1);
	ck_assert_str_eq(api_err_type(verr.code), "BadRequest");
	ck_assert_str_eq(verr.message, msg);
}

static void
expect_serial(const char *op, const char *json, const char *msg)
{
	ck_assert_int_eq(val(op, json), -1);
	ck_assert_str_eq(api_err_type(verr.code), "SerializationException");
	ck_assert_str_eq(verr.message, msg);
}

static void
expect_ok(const char *op, const char *json)
{
	int rc = val(op, json);

	ck_assert_msg(rc == 0, "%s %s: %s", op, json ? json : "-",
	    verr.message);
}

START_TEST(t_load)
{
	json_t *ops;

	ck_assert_int_eq(api_model_init(), 0);
	ck_assert_int_eq(api_model_init(), 0);
	ops = api_model_ops();
	ck_assert_ptr_nonnull(ops);
	ck_assert_int_eq(json_array_size(ops), 49);	/* 48 + FsxLocalMountInfo */
	ck_assert_str_eq(json_string_value(json_array_get(ops, 0)),
	    "AssociateFileSystemAliases");
	json_decref(ops);
	ck_assert_str_eq(api_model_target_prefix(),
	    "AWSSimbaAPIService_v20180301");
	ck_assert_int_eq(api_model_has_op("CreateFileSystem"), 1);
	ck_assert_int_eq(api_model_has_op("TagResource"), 1);
	ck_assert_int_eq(api_model_has_op("FsxLocalMountInfo"), 1);
	ck_assert_int_eq(api_model_op_declares("CreateFileCache", "BadRequest"), 1);
	ck_assert_int_eq(api_model_op_declares("CreateFileCache",
	    "UnsupportedOperation"), 0);
	ck_assert_int_eq(api_model_op_declares("FsxLocalMountInfo",
	    "FileSystemNotFound"), 1);
	ck_assert_int_eq(api_model_op_declares("DescribeUnicorns", "BadRequest"), 0);
	ck_assert_int_eq(api_model_has_op("CreateBucket"), 0);
	ck_assert_int_eq(api_model_has_op(NULL), 0);
	ck_assert_str_eq(api_model_token_member("CreateFileSystem"),
	    "ClientRequestToken");
	ck_assert_str_eq(api_model_token_member("DeleteFileSystem"),
	    "ClientRequestToken");
	ck_assert_ptr_null(api_model_token_member("TagResource"));
	ck_assert_ptr_null(api_model_token_member("DescribeFileSystems"));
	ck_assert_ptr_null(api_model_token_member("CancelDataRepositoryTask"));
	ck_assert_ptr_null(api_model_token_member("Nope"));
	/* every distinct pattern of the model translated */
	ck_assert_int_eq(api_model_npatterns(), 53);
	/* unload and load again */
	api_model_fini();
	api_model_fini();
	ck_assert_int_eq(api_model_has_op("DescribeFileSystems"), 1);
}
END_TEST

/* Each model pattern with documented / typical values. */
static const struct pat_case {
	const char	*pattern;
	const char	*good[3];
	const char	*bad[4];
} pat_cases[] = {
	{ "^(fs-[0-9a-f]{8,})$", { "fs-0123456789abcdef0", "fs-01234567" },
	  { "fs-0123456", "fs-0123456789ABCDEF0", "xfs-01234567",
	    "fs-01234567\n" } },
	{ "^(subnet-[0-9a-f]{8,})$", { SUBNET }, { "subnet-1", "sub-01234567" } },
	{ "^(sg-[0-9a-f]{8,})$", { "sg-0123456789abcdef0" }, { "sg-xyz" } },
	{ "^(vpc-[0-9a-f]{8,})$", { "vpc-0123456789abcdef0" }, { "vpc-1" } },
	{ "^(eni-[0-9a-f]{8,})$", { "eni-0123456789abcdef0" }, { "eni-" } },
	{ "^(rtb-[0-9a-f]{8,})$", { "rtb-0123456789abcdef0" }, { "rtb-z" } },
	{ "^(dra-[0-9a-f]{8,})$", { "dra-872abab4b4503bfc2" }, { "dra-1" } },
	{ "^(fc-[0-9a-f]{8,})$", { "fc-0123456789abcdef0" }, { "fs-01234567" } },
	{ "^(task-[0-9a-f]{17,})$", { "task-0123456789abcdef0" },
	  { "task-01234567" } },
	{ "^(backup-[0-9a-f]{8,})$", { "backup-0123456789abcdef0" },
	  { "backup-xyz" } },
	{ "^(fsvol-[0-9a-f]{17,})$", { "fsvol-0123456789abcdef0" },
	  { "fsvol-01234567" } },
	{ "^(svm-[0-9a-f]{17,})$", { "svm-0123456789abcdef0" }, { "svm-1" } },
	{ "^((fs)?volsnap-[0-9a-f]{8,})$",
	  { "fsvolsnap-0123456789abcdef0", "volsnap-01234567" },
	  { "snap-01234567" } },
	{ "^(aggr[0-9]{1,2})$", { "aggr1", "aggr23" }, { "aggr", "aggr123" } },
	{ "^d-[0-9a-f]{10}$", { "d-1234567890" }, { "d-123" } },
	{ "^\\d{12}$", { "123456789012" }, { "12345678901", "12345678901a" } },
	{ "^((fs|fc)i?-[0-9a-f]{8,}\\..{4,253})$",
	  { "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com",
	    "fsi-01234567.abcd" }, { "fs-0123.fsx.aws", "fs-01234567.ab" } },
	{ "^(?:[A-Za-z0-9+\\/]{4})*(?:[A-Za-z0-9+\\/]{2}==|[A-Za-z0-9+\\/]{3}=)?$",
	  { "YWJjZA==", "YWJj", "YWI+/w==" }, { "abc!", "YWJjZ", "YQ=" } },
	{ "^(?=[a-z0-9])[a-z0-9-]{1,48}[a-z0-9]$", { "my-ap1", "ab" },
	  { "-myap", "myap-", "a", "My-ap" } },
	{ "^(?i)(true|false)$", { "TRUE", "false", "True" }, { "yes", "truex" } },
	{ "^([0-9\\[\\]\\-]*\\.){3}([0-9\\[\\]\\-]*)@tcp$",
	  { "10.0.1.6@tcp", "10.0.[2-10].[1-255]@tcp" },
	  { "10.0.1@tcp", "10.0.1.6@o2ib" } },
	{ "^([0-9]{1,10}):([0-9]{1,10})$", { "65534:65534", "0:0" },
	  { "root", "1:" } },
	{ "^([01]\\d|2[0-3]):?([0-5]\\d)$", { "05:00", "23:59", "0500" },
	  { "24:00", "5:00" } },
	{ "^[1-7]:([01]\\d|2[0-3]):?([0-5]\\d)$", { "1:05:00", "7:23:59" },
	  { "8:05:00", "0:05:00" } },
	{ "^([A-Za-z0-9_-]{1,8})$", { "fsx", "abc_-XY9" },
	  { "toolongname", "", "a b" } },
	{ "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
	  { "Name", "h\xc3\xa9llo w\xc3\xb6rld/:=+-@_.", "\xe6\x97\xa5\xe6\x9c\xac" },
	  { "bad#char", "tab\tchar", "a,b" } },
	{ "^.{1,2048}$", { "arn:aws:kms:us-east-1:123456789012:key/x", "\xc3\xa9" },
	  { "", "a\nb", "a\rb" } },
	{ "^.{1,256}$", { "secret p@ss" }, { "" } },
	{ "^[ -~]{1,128}$", { "*", "10.0.0.0/8" }, { "\xc3\xa9", "" } },
	{ "^[0-9](.[0-9]*)*$", { "2.15", "2", "2.10.1" }, { "v2", "" } },
	{ "^[0-9a-zA-Z\\*\\.\\\\/\\?\\-\\_]*$",
	  { "fs-0123*", "a\\b/c?d_e.f" }, { "a b", "a,b" } },
	{ "^[0-9a-z\\\\-]{1,63}", { "my-alias-abc", "-x", "ab\\c" },
	  { "Abc", "" } },
	{ "^[A-za-z0-9\\_\\.\\:\\-\\/]*$", { "/vol1", "a^b", "a`b" },
	  { "a b", "a{b" } },
	{ "^[a-z0-9-]{1,20}$", { "us-east-1" }, { "US-EAST-1", "" } },
	{ "^[a-zA-Z0-9_:.-]{1,203}$", { "snap_1:a.b-c" }, { "snap 1" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{0,4096}$",
	  { "", "/path/to/x", "\xc3\xbc" },
	  { "a\nb", "a\xc2\x85" "b", "a\xe2\x80\xa8" "b", "a\rb" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,2000}$",
	  { "OU=fsx,DC=corp,DC=example,DC=com" }, { "" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,203}$", { "vol1" }, { "" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,255}$",
	  { "corp.example.com" }, { "a\xe2\x80\xa9" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,256}$", { "Admin" },
	  { "" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,36}$",
	  { "123e4567-e89b-12d3-a456-426614174000" },
	  { "123e4567-e89b-12d3-a456-4266141740001" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,4096}$", { "/ns" }, { "" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{1,47}$", { "svm1" }, { "" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{3,4357}$",
	  { "s3://bucket/prefix" }, { "s3" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{4,253}$",
	  { "accounting.corp.example.com" }, { "abc" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{4,43}$", { "fd00::/56" },
	  { "fd0" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{8,50}$", { "p@ssw0rd" },
	  { "short" } },
	{ "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{9,17}$", { "198.19.0.0/24" },
	  { "10.0.0.0" } },
	{ "[A-za-z0-9_.-]{0,63}$",	/* unanchored start: anything matches */
	  { "token-1", "550e8400-e29b-41d4-a716-446655440000", "!!" }, { NULL } },
	{ "(^((([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\\.){3}([0-9]|"
	  "[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))$|^(([0-9a-fA-F]{1,4}:){7,7}"
	  "[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:"
	  "[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|"
	  "([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:)"
	  "{1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]"
	  "{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]"
	  "{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0"
	  "{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25"
	  "[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]"
	  "|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9])"
	  "{0,1}[0-9]))$)",
	  { "10.0.1.5", "fe80::1", "2001:db8::8a2e:370:7334" },
	  { "10.0.1.256", "abc", "1.2.3" } },
	{ PAT_ARN,
	  { ARN_FS, "arn:aws:fsx:us-east-1:123456789012:backup/"
	    "backup-0123456789abcdef0",
	    "arn:aws-cn:fsx:cn-north-1:123456789012:task/task-0123456789abcdef0" },
	  { "arn:aws:s3:::bucket", "arn:aws:fsx:us-east-1:1234:file-system/x",
	    "arn:aws:fsx:us--east-1:123456789012:file-system/x",
	    "arn:aws:fsx:us-east-1:123456789012:/file-system" } },
	{ "^arn:[^:]{1,63}:[^:]{0,63}:[^:]{0,63}:(?:|\\d{12}):[^/].{0,1023}$",
	  { "arn:aws:logs:us-east-1:123456789012:log-group:/aws/fsx/lustre",
	    "arn:aws:s3:::bucket" },
	  { "arn:aws:logs:us-east-1:12345:x", "arn::logs:r:123456789012:x",
	    "arn:aws:s3:::/bucket" } },
	{ "^arn:[^:]{1,63}:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:"
	  "[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$",
	  { "arn:aws:secretsmanager:us-east-1:123456789012:secret:my-secret-AbCdEf" },
	  { "arn:aws:secretsmanager:us-east-1:123456789012:secret:mysecret" } },
};

START_TEST(t_patterns)
{
	const struct pat_case *c = &pat_cases[_i];

	for (int i = 0; i < 3 && c->good[i] != NULL; i++)
		ck_assert_msg(api_model_pattern_match(c->pattern, c->good[i],
		    strlen(c->good[i])) == 1, "%s should accept '%s'",
		    c->pattern, c->good[i]);
	for (int i = 0; i < 4 && c->bad[i] != NULL; i++)
		ck_assert_msg(api_model_pattern_match(c->pattern, c->bad[i],
		    strlen(c->bad[i])) == 0, "%s should refuse '%s'",
		    c->pattern, c->bad[i]);
}
END_TEST

/* The table above covers every pattern in the embedded model. */
START_TEST(t_patterns_cover_model)
{
	json_t *root, *shapes, *s;
	const char *name, *p;
	size_t i, n = 0;

	root = json_loadb((const char *)api_model_json[0].data,
	    api_model_json[0].len, 0, NULL);
	ck_assert_ptr_nonnull(root);
	shapes = json_object_get(root, "shapes");
	json_object_foreach(shapes, name, s) {
		p = json_string_value(json_object_get(s, "pattern"));
		if (p == NULL)
			continue;
		n++;
		for (i = 0; i < sizeof(pat_cases) / sizeof(pat_cases[0]); i++)
			if (strcmp(pat_cases[i].pattern, p) == 0)
				break;
		ck_assert_msg(i < sizeof(pat_cases) / sizeof(pat_cases[0]),
		    "no test for pattern of %s: %s", name, p);
	}
	ck_assert_int_eq(n, 65);
	json_decref(root);
}
END_TEST

START_TEST(t_pattern_edges)
{
	/* embedded NUL never matches a regex pattern */
	ck_assert_int_eq(api_model_pattern_match("^(fs-[0-9a-f]{8,})$",
	    "fs-01234567\0", 12), 0);
	ck_assert_int_eq(api_model_pattern_match(
	    "^[^\\u0000\\u0085\\u2028\\u2029\\r\\n]{0,4096}$", "a\0b", 3), 0);
	/* counts are code points, not bytes */
	ck_assert_int_eq(api_model_pattern_match("^.{1,2}$", "\xc3\xa9\xc3\xa9",
	    4), 1);
	ck_assert_int_eq(api_model_pattern_match("^.{1,2}$", "abc", 3), 0);
	/* what we do not translate is refused, not guessed */
	ck_assert_int_eq(api_model_pattern_match("^a(?=b)", "ab", 2), -EINVAL);
	ck_assert_int_eq(api_model_pattern_match("^(a)\\1$", "aa", 2), -EINVAL);
	ck_assert_int_eq(api_model_pattern_match("^a*+$", "aa", 2), -EINVAL);
	ck_assert_int_eq(api_model_pattern_match("[a-z&&[^b]]", "a", 1),
	    -EINVAL);
	/* lazy quantifiers keep the language; \S, \w, \s */
	ck_assert_int_eq(api_model_pattern_match("^a+?b$", "aab", 3), 1);
	ck_assert_int_eq(api_model_pattern_match("^\\S+\\s\\w$", "x-y z", 5), 1);
	ck_assert_int_eq(api_model_pattern_match("^\\S+$", "x y", 3), 0);
	/* a long ARN-like string is bounded, not exponential */
	{
		size_t n = 20000;
		char *s = malloc(n + 1);

		ck_assert_ptr_nonnull(s);
		memcpy(s, "arn:aws:fsx:us-east-1:123456789012:", 36);
		for (size_t i = 36; i < n; i++)
			s[i] = (i % 2) ? ':' : 'a';
		s[n] = '\0';
		ck_assert_int_eq(api_model_pattern_match(PAT_ARN,
		    s, 2000), 1);
		ck_assert_int_eq(api_model_pattern_match(PAT_ARN,
		    s, n), 0);
		free(s);
	}
}
END_TEST

START_TEST(t_required)
{
	expect_bad("CreateFileSystem", "{}",
	    "2 validation errors detected: Value null at 'fileSystemType' "
	    "failed to satisfy constraint: Member must not be null; Value null "
	    "at 'subnetIds' failed to satisfy constraint: Member must not be "
	    "null");
	/* JSON null is the same as absent */
	expect_bad("CreateFileSystem", "{\"FileSystemType\": null, "
	    "\"SubnetIds\": [\"" SUBNET "\"]}",
	    "1 validation error detected: Value null at 'fileSystemType' "
	    "failed to satisfy constraint: Member must not be null");
	/* no body at all */
	expect_bad("DeleteFileSystem", NULL,
	    "1 validation error detected: Value null at 'fileSystemId' failed "
	    "to satisfy constraint: Member must not be null");
	expect_ok("DescribeFileSystems", NULL);
	expect_ok("DescribeFileSystems", "{}");
}
END_TEST

START_TEST(t_list_element)
{
	/* spec 1.4, word for word */
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"subnet-1\"]}",
	    "1 validation error detected: Value '[subnet-1]' at 'subnetIds' "
	    "failed to satisfy constraint: Member must satisfy constraint: "
	    "[Member must have length less than or equal to 24, Member must "
	    "have length greater than or equal to 15, Member must satisfy "
	    "regular expression pattern: ^(subnet-[0-9a-f]{8,})$]");
	/* one bad element reports the whole list once */
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\", \"x\", \"y\"]}",
	    "1 validation error detected: Value '[" SUBNET ", x, y]' at "
	    "'subnetIds' failed to satisfy constraint: Member must satisfy "
	    "constraint: [Member must have length less than or equal to 24, "
	    "Member must have length greater than or equal to 15, Member must "
	    "satisfy regular expression pattern: ^(subnet-[0-9a-f]{8,})$]");
	/* an enum element */
	expect_bad("DescribeBackups", "{\"Filters\": [{\"Name\": "
	    "\"file-system-id\", \"Values\": [\"fs 1\"]}]}",
	    "1 validation error detected: Value '[fs 1]' at "
	    "'filters.1.member.values' failed to satisfy constraint: Member "
	    "must satisfy constraint: [Member must have length less than or "
	    "equal to 128, Member must have length greater than or equal to 1, "
	    "Member must satisfy regular expression pattern: "
	    "^[0-9a-zA-Z\\*\\.\\\\/\\?\\-\\_]*$]");
	/* a null element */
	expect_bad("DescribeFileSystems", "{\"FileSystemIds\": "
	    "[\"fs-0123456789abcdef0\", null]}",
	    "1 validation error detected: Value null at "
	    "'fileSystemIds.2.member' failed to satisfy constraint: Member "
	    "must not be null");
}
END_TEST

START_TEST(t_list_size)
{
	char buf[4096];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "{\"FileSystemIds\": [");
	for (int i = 0; i < 51; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		    "%s\"fs-%017x\"", i ? "," : "", i);
	snprintf(buf + n, sizeof(buf) - n, "]}");
	ck_assert_int_eq(val("DescribeFileSystems", buf), -1);
	ck_assert_str_eq(api_err_type(verr.code), "BadRequest");
	{
		const char *want = "1 validation error detected: Value "
		    "'[fs-00000000000000000, fs-00000000000000001, ";

		ck_assert_msg(strncmp(verr.message, want, strlen(want)) == 0,
		    "%s", verr.message);
	}
	/* the whole list is rendered; the message is cut to the buffer */
	ck_assert_uint_eq(strlen(verr.message), sizeof(verr.message) - 1);
	expect_bad("TagResource", "{\"ResourceARN\": \"" ARN_FS "\", "
	    "\"Tags\": []}",
	    "1 validation error detected: Value '[]' at 'tags' failed to "
	    "satisfy constraint: Member must have length greater than or "
	    "equal to 1");
}
END_TEST

START_TEST(t_enum_nested)
{
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"NTFS\", "
	    "\"SubnetIds\": [\"" SUBNET "\"]}",
	    "1 validation error detected: Value 'NTFS' at 'fileSystemType' "
	    "failed to satisfy constraint: Member must satisfy enum value set: "
	    "[WINDOWS, LUSTRE, ONTAP, OPENZFS]");
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\"], \"LustreConfiguration\": "
	    "{\"DeploymentType\": \"SCRATCH_9\", \"LogConfiguration\": {}}}",
	    "2 validation errors detected: Value 'SCRATCH_9' at "
	    "'lustreConfiguration.deploymentType' failed to satisfy "
	    "constraint: Member must satisfy enum value set: [SCRATCH_1, "
	    "SCRATCH_2, PERSISTENT_1, PERSISTENT_2]; Value null at "
	    "'lustreConfiguration.logConfiguration.level' failed to satisfy "
	    "constraint: Member must not be null");
	/* struct elements of a list: tags.N.member.key */
	expect_bad("TagResource", "{\"ResourceARN\": \"" ARN_FS "\", "
	    "\"Tags\": [{\"Key\": \"ok\", \"Value\": \"v\"}, {\"Key\": "
	    "\"a#b\"}]}",
	    "2 validation errors detected: Value 'a#b' at 'tags.2.member.key' "
	    "failed to satisfy constraint: Member must satisfy regular "
	    "expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$; Value "
	    "null at 'tags.2.member.value' failed to satisfy constraint: "
	    "Member must not be null");
}
END_TEST

START_TEST(t_numbers_lengths)
{
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\"], \"StorageCapacity\": -1}",
	    "1 validation error detected: Value '-1' at 'storageCapacity' "
	    "failed to satisfy constraint: Member must have value greater "
	    "than or equal to 0");
	expect_bad("DescribeFileSystems", "{\"MaxResults\": 0}",
	    "1 validation error detected: Value '0' at 'maxResults' failed to "
	    "satisfy constraint: Member must have value greater than or equal "
	    "to 1");
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\"], \"LustreConfiguration\": "
	    "{\"AutomaticBackupRetentionDays\": 91, \"ImportedFileChunkSize\": "
	    "512001.0}}",
	    "2 validation errors detected: Value '512001' at "
	    "'lustreConfiguration.importedFileChunkSize' failed to satisfy "
	    "constraint: Member must have value less than or equal to 512000; "
	    "Value '91' at 'lustreConfiguration.automaticBackupRetentionDays' "
	    "failed to satisfy constraint: Member must have value less than or "
	    "equal to 90");
	expect_bad("DescribeFileSystems", "{\"NextToken\": \"\"}",
	    "1 validation error detected: Value '' at 'nextToken' failed to "
	    "satisfy constraint: Member must have length greater than or equal "
	    "to 1");
	/* length and pattern both fail: two errors, length first */
	expect_bad("DeleteFileSystem", "{\"FileSystemId\": \"fs-xyz\"}",
	    "2 validation errors detected: Value 'fs-xyz' at 'fileSystemId' "
	    "failed to satisfy constraint: Member must have length greater "
	    "than or equal to 11; Value 'fs-xyz' at 'fileSystemId' failed to "
	    "satisfy constraint: Member must satisfy regular expression "
	    "pattern: ^(fs-[0-9a-f]{8,})$");
	/* lengths count characters (UTF-16 units), not bytes */
	expect_ok("UntagResource", "{\"ResourceARN\": \"" ARN_FS "\", "
	    "\"TagKeys\": [\"\xe6\x97\xa5\xe6\x9c\xac\"]}");
	expect_bad("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\"], \"LustreConfiguration\": "
	    "{\"WeeklyMaintenanceStartTime\": \"1:0500\"}}",
	    "1 validation error detected: Value '1:0500' at "
	    "'lustreConfiguration.weeklyMaintenanceStartTime' failed to "
	    "satisfy constraint: Member must have length greater than or equal "
	    "to 7");
}
END_TEST

START_TEST(t_types)
{
	expect_serial("CreateFileSystem", "{\"FileSystemType\": \"LUSTRE\", "
	    "\"SubnetIds\": [\"" SUBNET "\"], \"StorageCapacity\": \"1200\"}",
	    "class java.lang.String can not be converted to an Integer (at "
	    "'storageCapacity')");
	/* type errors win over constraint errors */
	expect_serial("CreateFileSystem", "{\"SubnetIds\": \"subnet-1\"}",
	    "class java.lang.String can not be converted to a List (at "
	    "'subnetIds')");
	expect_serial("CreateFileSystem", "{\"LustreConfiguration\": []}",
	    "Start of list found where not expected (at "
	    "'lustreConfiguration')");
	expect_serial("CreateFileSystem", "{\"FileSystemType\": {}}",
	    "Start of structure or map found where not expected (at "
	    "'fileSystemType')");
	expect_serial("CreateFileSystem", "{\"FileSystemType\": 5}",
	    "class java.math.BigDecimal can not be converted to a String (at "
	    "'fileSystemType')");
	expect_serial("CreateFileSystem", "{\"LustreConfiguration\": "
	    "{\"CopyTagsToBackups\": \"yes\"}}",
	    "class java.lang.String can not be converted to a Boolean (at "
	    "'lustreConfiguration.copyTagsToBackups')");
	expect_serial("CreateFileSystem", "{\"LustreConfiguration\": "
	    "{\"EfaEnabled\": 1}}",
	    "class java.math.BigDecimal can not be converted to a Boolean (at "
	    "'lustreConfiguration.efaEnabled')");
	expect_serial("DescribeFileSystems", "{\"MaxResults\": true}",
	    "class java.lang.Boolean can not be converted to an Integer (at "
	    "'maxResults')");
	expect_serial("DescribeFileSystems", "{\"MaxResults\": 1.5}",
	    "Value 1.5 can not be converted to an Integer (at 'maxResults')");
	expect_serial("DescribeFileSystems", "{\"MaxResults\": 4294967296}",
	    "Value 4294967296 is out of range for an Integer (at "
	    "'maxResults')");
	expect_serial("DescribeFileSystems", "{\"FileSystemIds\": [1]}",
	    "class java.math.BigDecimal can not be converted to a String (at "
	    "'fileSystemIds.1.member')");
	expect_serial("TagResource", "{\"Tags\": [\"k\"]}",
	    "class java.lang.String can not be converted to a Structure (at "
	    "'tags.1.member')");
	expect_serial("DescribeFileSystems", "[]",
	    "Start of list found where not expected");
	expect_serial("DescribeFileSystems", "\"x\"",
	    "class java.lang.String can not be converted to a Structure");
	/* integral reals and big longs are fine */
	expect_ok("DescribeFileSystems", "{\"MaxResults\": 10.0}");
	expect_ok("UpdateFileSystem", "{\"FileSystemId\": "
	    "\"fs-0123456789abcdef0\", \"OpenZFSConfiguration\": "
	    "{\"ThroughputCapacity\": 160}, \"StorageCapacity\": 2400}");
}
END_TEST

START_TEST(t_valid)
{
	/* unknown members (newer SDKs) are ignored, at every level */
	expect_ok("CreateFileSystem", "{\"ClientRequestToken\": "
	    "\"550e8400-e29b-41d4-a716-446655440000\", \"FileSystemType\": "
	    "\"LUSTRE\", \"StorageCapacity\": 1200, \"SubnetIds\": [\"" SUBNET
	    "\"], \"SecurityGroupIds\": [\"sg-0123456789abcdef0\"], \"Tags\": "
	    "[{\"Key\": \"Name\", \"Value\": \"\"}], \"LustreConfiguration\": "
	    "{\"DeploymentType\": \"PERSISTENT_2\", \"PerUnitStorageThroughput\": "
	    "125, \"WeeklyMaintenanceStartTime\": \"1:05:00\", "
	    "\"DataCompressionType\": \"LZ4\", \"LogConfiguration\": {\"Level\": "
	    "\"WARN_ERROR\", \"Destination\": \"arn:aws:logs:us-east-1:"
	    "123456789012:log-group:/aws/fsx/lustre\"}, \"FutureThing\": 1, "
	    "\"RootSquashConfiguration\": {\"RootSquash\": \"65534:65534\", "
	    "\"NoSquashNids\": [\"10.0.1.6@tcp\"]}}, \"FileSystemTypeVersion\": "
	    "\"2.15\", \"NewFancyField\": {\"x\": [1, 2]}}");
	expect_ok("TagResource", "{\"ResourceARN\": \"" ARN_FS "\", \"Tags\": "
	    "[{\"Key\": \"\xc3\xa9t\xc3\xa9\", \"Value\": \"a b:c\"}]}");
	expect_ok("DescribeFileSystems", "{\"FileSystemIds\": "
	    "[\"fs-0123456789abcdef0\"], \"MaxResults\": 2147483647, "
	    "\"NextToken\": \"YWJjZA==\"}");
	expect_ok("ListTagsForResource", "{\"ResourceARN\": \"" ARN_FS "\"}");
	expect_bad("ListTagsForResource", "{\"ResourceARN\": "
	    "\"arn:aws:s3:::bucket\"}",
	    "1 validation error detected: Value 'arn:aws:s3:::bucket' at "
	    "'resourceARN' failed to satisfy constraint: Member must satisfy "
	    "regular expression pattern: ^arn:(?=[^:]+:fsx:[^:]+:\\d{12}:)((|"
	    "(?=[a-z0-9-.]{1,63})(?!\\d{1,3}(\\.\\d{1,3}){3})(?![^:]*-{2})(?!"
	    "[^:]*-\\.)(?![^:]*\\.-)[a-z0-9].*(?<!-)):){4}(?!/).{0,1024}$");
}
END_TEST

START_TEST(t_unknown_op)
{
	ck_assert_int_eq(val("CreateBucket", "{}"), -1);
	ck_assert_int_eq(verr.code, API_E_UNKNOWN_OPERATION);
	ck_assert_int_eq(val(NULL, "{}"), -1);
	ck_assert_int_eq(verr.code, API_E_UNKNOWN_OPERATION);
}
END_TEST

/* A message cut at the buffer's end stays valid UTF-8. */
START_TEST(t_truncate_utf8)
{
	char buf[8192];
	size_t n;
	json_t *s;

	n = (size_t)snprintf(buf, sizeof(buf), "{\"ResourceARN\": \"" ARN_FS
	    "\", \"TagKeys\": [\"");
	for (int i = 0; i < 700; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\xc3\xa9");
	snprintf(buf + n, sizeof(buf) - n, "\"]}");
	ck_assert_int_eq(val("UntagResource", buf), -1);
	ck_assert_str_eq(api_err_type(verr.code), "BadRequest");
	s = json_string(verr.message);
	ck_assert_ptr_nonnull(s);
	json_decref(s);
}
END_TEST

/*
 * Every operation, every member of the input's model (walked through the
 * embedded JSON), set to every kind of JSON value: no crash, and any
 * failure carries a known error and a message that is valid UTF-8.
 */
static const char *const hostile[] = {
	"null", "0", "-1", "1.5", "1e300", "9223372036854775807", "true",
	"\"\"", "\"x\"", "\"\\u0000\"", "[]", "{}", "[null]", "[1]",
	"[{}]", "[\"x\", null, 2]", "{\"a\": [1, {}]}", "[[[[]]]]",
};

static void
fuzz_one(const char *op, json_t *in)
{
	json_t *s;

	api_error_clear(&verr);
	if (api_validate(op, in, &verr) == 0)
		return;
	ck_assert_msg(verr.code == API_E_BAD_REQUEST ||
	    verr.code == API_E_SERIALIZATION, "%s: code %d", op, verr.code);
	ck_assert_msg(verr.message[0] != '\0', "%s: empty message", op);
	s = json_string(verr.message);
	ck_assert_msg(s != NULL, "%s: message not UTF-8", op);
	json_decref(s);
}

START_TEST(t_hostile)
{
	json_t *root, *ops, *shapes, *o, *m, *in, *v, *nested;
	const char *op;
	size_t i, k;

	root = json_loadb((const char *)api_model_json[0].data,
	    api_model_json[0].len, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ops = json_object_get(root, "operations");
	shapes = json_object_get(root, "shapes");
	json_object_foreach(ops, op, o) {
		json_t *req = json_object_get(shapes,
		    json_string_value(json_object_get(o, "input")));

		json_array_foreach(json_object_get(req, "members"), i, m) {
			const char *name = json_string_value(json_object_get(m,
			    "name"));

			for (k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
				v = json_loads(hostile[k], JSON_DECODE_ANY | JSON_ALLOW_NUL,
				    NULL);
				ck_assert_ptr_nonnull(v);
				/* the member itself, and as every nested member */
				in = json_object();
				json_object_set(in, name, v);
				fuzz_one(op, in);
				json_decref(in);
				nested = json_object();
				json_object_set(nested, "Key", v);
				json_object_set(nested, "Name", v);
				json_object_set(nested, "Level", v);
				json_object_set(nested, "Values", v);
				in = json_object();
				json_object_set(in, name, nested);
				fuzz_one(op, in);
				json_object_set_new(in, name,
				    json_pack("[O, O]", nested, nested));
				fuzz_one(op, in);
				json_decref(in);
				json_decref(nested);
				json_decref(v);
			}
		}
	}
	json_decref(root);
}
END_TEST

static void
teardown(void)
{
	api_error_clear(&verr);
	api_model_fini();
}

Suite *
model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, t_load);
	tcase_add_loop_test(tc, t_patterns, 0,
	    (int)(sizeof(pat_cases) / sizeof(pat_cases[0])));
	tcase_add_test(tc, t_patterns_cover_model);
	tcase_add_test(tc, t_pattern_edges);
	tcase_add_test(tc, t_required);
	tcase_add_test(tc, t_list_element);
	tcase_add_test(tc, t_list_size);
	tcase_add_test(tc, t_enum_nested);
	tcase_add_test(tc, t_numbers_lengths);
	tcase_add_test(tc, t_types);
	tcase_add_test(tc, t_valid);
	tcase_add_test(tc, t_unknown_op);
	tcase_add_test(tc, t_truncate_utf8);
	tcase_add_test(tc, t_hostile);
	suite_add_tcase(s, tc);
	return s;
}
