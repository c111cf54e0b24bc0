/*
 * fs_desc: the Lustre rules of CreateFileSystem / UpdateFileSystem and the
 * FileSystem description (api/api_fs_desc.c).
 *
 *   fs_desc_create_*   defaults, shape, every create rule (pass and fail)
 *   fs_desc_update_*   every update rule, plans, no-ops
 *   fs_desc_action_*   administrative action bookkeeping
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_fs_desc.h"

Suite	*fs_desc_suite(void);

#define ACCT	"123456789012"
#define FSID	"fs-0123456789abcdef0"
#define NOW	1700000000.123		/* 2023-11-14T22:13:20Z */
#define SUBNET	"\"SubnetIds\":[\"subnet-0123456789abcdef0\"]"

static const struct fs_desc_ctx tcx = {
	ACCT, "us-east-1", "aws", FSID, NOW
};

static json_t *
J(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, JSON_DECODE_ANY, &e);

	ck_assert_msg(v != NULL, "bad test JSON: %s: %s", s, e.text);
	return v;
}

/* Fail if any member anywhere is null. */
static void
no_nulls(const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	ck_assert(!json_is_null(v));
	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, m)
			no_nulls(m);
	if (json_is_array(v))
		json_array_foreach(v, i, m)
			no_nulls(m);
}

/*
 * What the dispatcher does: the model's validator, then the Lustre rules.
 * fs_desc_create/fs_desc_update take validated input only.
 */
static json_t *
validated_create(const json_t *in, const struct fs_desc_ctx *cx,
    struct api_error *err)
{
	if (api_validate("CreateFileSystem", in, err) < 0)
		return NULL;
	return fs_desc_create(in, cx, err);
}

static json_t *
validated_update(const json_t *cur, const json_t *in, double now, double gap,
    struct fs_desc_plan *plan, struct api_error *err)
{
	if (api_validate("UpdateFileSystem", in, err) < 0)
		return NULL;
	return fs_desc_update(cur, in, now, gap, plan, err);
}

static json_t *
create_cx(const struct fs_desc_ctx *cx, const char *js)
{
	struct api_error err;
	json_t *in = J(js), *d;

	memset(&err, 0, sizeof(err));
	d = validated_create(in, cx, &err);
	json_decref(in);
	ck_assert_msg(d != NULL, "create failed: %s: %s",
	    api_err_type(err.code), err.message);
	no_nulls(d);
	api_error_clear(&err);
	return d;
}

static json_t *
create_ok(const char *js)
{
	return create_cx(&tcx, js);
}

static void
create_err(const char *js, enum api_err code, const char *msg)
{
	struct api_error err;
	json_t *in = J(js), *d;

	memset(&err, 0, sizeof(err));
	d = validated_create(in, &tcx, &err);
	json_decref(in);
	ck_assert_msg(d == NULL, "create succeeded: %s", js);
	ck_assert_msg(err.code == code, "%s: got %s (%s), want %s", js,
	    api_err_type(err.code), err.message, api_err_type(code));
	if (msg != NULL)
		ck_assert_msg(strstr(err.message, msg) != NULL,
		    "message \"%s\" lacks \"%s\"", err.message, msg);
	api_error_clear(&err);
}

static const char *
S(const json_t *o, const char *path)
{
	char buf[256], *tok, *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return json_string_value(v);
}

static json_t *
G(const json_t *o, const char *path)
{
	char buf[256], *tok, *save = NULL;
	const json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL;
	    tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return (json_t *)v;
}

static long long
I(const json_t *o, const char *path)
{
	json_t *v = G(o, path);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return json_integer_value(v);
}

#define LCP	"LustreConfiguration."
#define LUSTRE	"{\"FileSystemType\":\"LUSTRE\"," SUBNET ","
#define P1	LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":" \
	"{\"DeploymentType\":\"PERSISTENT_1\",\"PerUnitStorageThroughput\":50"
#define P2	LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":" \
	"{\"DeploymentType\":\"PERSISTENT_2\",\"PerUnitStorageThroughput\":125"
#define S2	LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":" \
	"{\"DeploymentType\":\"SCRATCH_2\""
#define IT	LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\"," \
	"\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\"," \
	"\"ThroughputCapacity\":4000," \
	"\"DataReadCacheConfiguration\":{\"SizingMode\":\"NO_CACHE\"}," \
	"\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\",\"Iops\":6000}"

/* --- create: shape and defaults ----------------------------------------- */

START_TEST(fs_desc_create_scratch1_defaults)
{
	json_t *d = create_ok(LUSTRE "\"StorageCapacity\":1200}");
	const char *w;

	ck_assert_str_eq(S(d, "OwnerId"), ACCT);
	ck_assert(json_is_number(G(d, "CreationTime")));
	ck_assert(json_number_value(G(d, "CreationTime")) > NOW - 0.01);
	ck_assert_str_eq(S(d, "FileSystemId"), FSID);
	ck_assert_str_eq(S(d, "FileSystemType"), "LUSTRE");
	ck_assert_str_eq(S(d, "Lifecycle"), "CREATING");
	ck_assert_int_eq(I(d, "StorageCapacity"), 1200);
	ck_assert_str_eq(S(d, "StorageType"), "SSD");
	ck_assert_str_eq(S(d, "DNSName"), FSID ".fsx.us-east-1.amazonaws.com");
	ck_assert_str_eq(S(d, "ResourceARN"),
	    "arn:aws:fsx:us-east-1:" ACCT ":file-system/" FSID);
	ck_assert_str_eq(S(d, "FileSystemTypeVersion"), "2.10");
	ck_assert_ptr_null(G(d, "KmsKeyId"));
	ck_assert_ptr_null(G(d, "Tags"));
	ck_assert_ptr_null(G(d, "SecurityGroupIds"));
	ck_assert_ptr_null(G(d, "AdministrativeActions"));
	ck_assert_int_eq(json_array_size(G(d, "NetworkInterfaceIds")), 2);
	ck_assert_int_eq(strlen(S(d, "VpcId")), 21);
	ck_assert(strncmp(S(d, "VpcId"), "vpc-", 4) == 0);
	ck_assert_str_eq(S(d, LCP "DeploymentType"),
	    "SCRATCH_1");
	ck_assert_str_eq(S(d, LCP "MountName"), "fsx");
	ck_assert_str_eq(S(d, LCP "DataCompressionType"),
	    "NONE");
	ck_assert_str_eq(S(d, LCP "LogConfiguration.Level"),
	    "DISABLED");
	ck_assert_int_eq(json_object_size(G(d,
	    "LustreConfiguration.LogConfiguration")), 1);
	ck_assert(json_is_false(G(d, LCP "CopyTagsToBackups")));
	ck_assert_ptr_null(G(d, LCP "AutomaticBackupRetentionDays"));
	ck_assert_ptr_null(G(d, LCP "PerUnitStorageThroughput"));
	ck_assert_ptr_null(G(d, LCP "DataRepositoryConfiguration"));
	ck_assert_ptr_null(G(d, LCP "EfaEnabled"));
	w = S(d, LCP "WeeklyMaintenanceStartTime");
	ck_assert_int_eq(strlen(w), 7);
	ck_assert(w[0] >= '1' && w[0] <= '7' && w[1] == ':' && w[4] == ':');
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_create_persistent_defaults)
{
	json_t *a = create_ok(P2 "}}");
	struct fs_desc_ctx cx2 = tcx;
	json_t *b;
	const char *mn = S(a, LCP "MountName");

	cx2.fs_id = "fs-0aaaaaaaaaaaaaaaa";
	b = create_ok(P2 "}}");
	json_decref(b);
	b = create_cx(&cx2, P2 "}}");
	ck_assert_str_eq(S(a, "FileSystemTypeVersion"), "2.12");
	ck_assert_int_eq(strlen(mn), 8);
	for (int i = 0; i < 8; i++)
		ck_assert(islower((unsigned char)mn[i]) ||
		    isdigit((unsigned char)mn[i]));
	ck_assert_str_ne(mn, S(b, LCP "MountName"));
	ck_assert(strncmp(S(a, "KmsKeyId"),
	    "arn:aws:kms:us-east-1:" ACCT ":key/", 35) == 0);
	ck_assert_int_eq(strlen(S(a, "KmsKeyId")), 39 + 36);
	/* the account's default key: the same for every file system */
	ck_assert_str_eq(S(a, "KmsKeyId"), S(b, "KmsKeyId"));
	ck_assert_int_eq(I(a, LCP "AutomaticBackupRetentionDays"),
	    0);
	ck_assert_ptr_null(G(a,
	    "LustreConfiguration.DailyAutomaticBackupStartTime"));
	ck_assert_int_eq(I(a, LCP "PerUnitStorageThroughput"),
	    125);
	json_decref(a);
	json_decref(b);
	a = create_ok(P1 "}}");
	ck_assert_str_eq(S(a, "FileSystemTypeVersion"), "2.10");
	ck_assert_ptr_nonnull(G(a, "KmsKeyId"));
	json_decref(a);
}
END_TEST

START_TEST(fs_desc_create_stable_network_ids)
{
	struct fs_desc_ctx cx2 = tcx;
	json_t *a, *b, *c, *a2;

	cx2.fs_id = "fs-0bbbbbbbbbbbbbbbb";
	a = create_ok(LUSTRE "\"StorageCapacity\":1200}");
	a2 = create_ok(LUSTRE "\"StorageCapacity\":1200}");
	b = create_cx(&cx2, LUSTRE "\"StorageCapacity\":1200}");
	c = create_ok("{\"FileSystemType\":\"LUSTRE\",\"SubnetIds\":"
	    "[\"subnet-99999999\"],\"StorageCapacity\":1200}");
	ck_assert_str_eq(S(a, "VpcId"), S(b, "VpcId"));
	ck_assert_str_ne(S(a, "VpcId"), S(c, "VpcId"));
	ck_assert(json_equal(G(a, "NetworkInterfaceIds"),
	    G(a2, "NetworkInterfaceIds")));
	ck_assert(!json_equal(G(a, "NetworkInterfaceIds"),
	    G(b, "NetworkInterfaceIds")));
	ck_assert_str_ne(json_string_value(json_array_get(G(a,
	    "NetworkInterfaceIds"), 0)), json_string_value(json_array_get(G(a,
	    "NetworkInterfaceIds"), 1)));
	ck_assert(strncmp(json_string_value(json_array_get(G(a,
	    "NetworkInterfaceIds"), 0)), "eni-", 4) == 0);
	ck_assert_str_eq(S(a, LCP "WeeklyMaintenanceStartTime"),
	    S(a2, "LustreConfiguration.WeeklyMaintenanceStartTime"));
	json_decref(a);
	json_decref(a2);
	json_decref(b);
	json_decref(c);
}
END_TEST

START_TEST(fs_desc_create_partitions)
{
	struct fs_desc_ctx cx = { ACCT, "cn-north-1", "aws-cn", FSID, NOW };
	json_t *d;
	char arn[256];

	ck_assert_str_eq(fs_desc_partition("us-east-1"), "aws");
	ck_assert_str_eq(fs_desc_partition("cn-northwest-1"), "aws-cn");
	ck_assert_str_eq(fs_desc_partition("us-gov-west-1"), "aws-us-gov");
	fs_desc_arn(arn, sizeof(arn), "aws-cn", "cn-north-1", ACCT, FSID);
	ck_assert_str_eq(arn, "arn:aws-cn:fsx:cn-north-1:" ACCT
	    ":file-system/" FSID);
	d = create_cx(&cx, P1 "}}");
	ck_assert_str_eq(S(d, "DNSName"),
	    FSID ".fsx.cn-north-1.amazonaws.com.cn");
	ck_assert_str_eq(S(d, "ResourceARN"), arn);
	ck_assert(strncmp(S(d, "KmsKeyId"), "arn:aws-cn:kms:cn-north-1:", 26)
	    == 0);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_create_tags_echoed)
{
	json_t *d = create_ok(LUSTRE "\"StorageCapacity\":1200,\"Tags\":["
	    "{\"Key\":\"b\",\"Value\":\"1\"},{\"Key\":\"a\",\"Value\":\"\"}]}");

	ck_assert_int_eq(json_array_size(G(d, "Tags")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(G(d,
	    "Tags"), 0), "Key")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(G(d,
	    "Tags"), 1), "Key")), "a");
	json_decref(d);
}
END_TEST

/* --- create: rules ------------------------------------------------------ */

START_TEST(fs_desc_create_type_and_subnets)
{
	struct api_error err;
	json_t *in;

	create_err("{\"FileSystemType\":\"WINDOWS\"," SUBNET
	    ",\"StorageCapacity\":32}", API_E_BAD_REQUEST, "Lustre only");
	create_err("{\"FileSystemType\":\"OPENZFS\"," SUBNET "}",
	    API_E_BAD_REQUEST, "OPENZFS");
	memset(&err, 0, sizeof(err));
	in = J("{\"FileSystemType\":\"LUSTRE\",\"StorageCapacity\":1200,"
	    "\"SubnetIds\":[\"subnet-11111111\",\"subnet-22222222\"]}");
	ck_assert_ptr_null(validated_create(in, &tcx, &err));
	ck_assert_int_eq(err.code, API_E_INVALID_NETWORK_SETTINGS);
	ck_assert_str_eq(json_string_value(json_object_get(err.extra,
	    "InvalidSubnetId")), "subnet-22222222");
	api_error_clear(&err);
	json_decref(in);
	create_err("{\"FileSystemType\":\"LUSTRE\",\"StorageCapacity\":1200,"
	    "\"SubnetIds\":[]}", API_E_INVALID_NETWORK_SETTINGS, "exactly one");
	create_err("{\"FileSystemType\":\"LUSTRE\",\"StorageCapacity\":\"x\","
	    SUBNET "}", API_E_SERIALIZATION, NULL);
}
END_TEST

START_TEST(fs_desc_create_capacity)
{
	json_t *d;

	create_err(LUSTRE "\"StorageType\":\"SSD\"}", API_E_BAD_REQUEST,
	    "StorageCapacity is required");
	create_err(LUSTRE "\"StorageType\":\"HDD\",\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_1\",\"PerUnitStorageThroughput\":"
	    "12,\"DriveCacheType\":\"NONE\"}}", API_E_BAD_REQUEST,
	    "StorageCapacity is required");
	d = create_ok(P1 "}}");
	ck_assert_int_eq(I(d, "StorageCapacity"), 1200);
	ck_assert_int_eq(fs_desc_ost_count(d), 1);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_create_capacity_increments)
{
	json_t *d;

	create_err(LUSTRE "\"StorageCapacity\":3600,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"SCRATCH_2\"}}", API_E_BAD_REQUEST,
	    "Invalid Lustre FS storage capacity: 3600. Must be 1200 or a "
	    "multiple of 2400.");
	create_err(LUSTRE "\"StorageCapacity\":0,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"SCRATCH_2\"}}", API_E_BAD_REQUEST,
	    "Invalid Lustre FS storage capacity: 0.");
	d = create_ok(LUSTRE "\"StorageCapacity\":4800,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"SCRATCH_2\"}}");
	ck_assert_int_eq(fs_desc_ost_count(d), 4);
	json_decref(d);
	/* SCRATCH_1: 1200, 2400, n x 3600 */
	d = create_ok(LUSTRE "\"StorageCapacity\":3600}");
	ck_assert_int_eq(fs_desc_ost_count(d), 3);
	json_decref(d);
	d = create_ok(LUSTRE "\"StorageCapacity\":2400}");
	json_decref(d);
	create_err(LUSTRE "\"StorageCapacity\":4800}", API_E_BAD_REQUEST,
	    "Invalid Lustre FS storage capacity: 4800. Must be 1200, 2400 or "
	    "a multiple of 3600.");
	create_err(LUSTRE "\"StorageCapacity\":2000,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_2\",\"PerUnitStorageThroughput\":"
	    "125}}", API_E_BAD_REQUEST, "Must be 1200 or a multiple of 2400.");
}
END_TEST

START_TEST(fs_desc_create_throughput)
{
	create_err(LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_1\"}}", API_E_BAD_REQUEST,
	    "Invalid Lustre deployment configuration: the provided throughput "
	    "is invalid or does not meet the storage capacity requirement");
	create_err(LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_1\",\"PerUnitStorageThroughput\":"
	    "125}}", API_E_INVALID_PER_UNIT_THROUGHPUT, "50, 100, 200");
	create_err(LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_2\",\"PerUnitStorageThroughput\":"
	    "200}}", API_E_INVALID_PER_UNIT_THROUGHPUT, "125, 250, 500, 1000");
	create_err(S2 ",\"PerUnitStorageThroughput\":50}}", API_E_BAD_REQUEST,
	    "not supported for SCRATCH_2");
	create_err(IT ",\"PerUnitStorageThroughput\":125}}", API_E_BAD_REQUEST,
	    "INTELLIGENT_TIERING");
}
END_TEST

START_TEST(fs_desc_create_hdd)
{
#define HDD	LUSTRE "\"StorageType\":\"HDD\",\"LustreConfiguration\":" \
	"{\"DeploymentType\":\"PERSISTENT_1\","
	json_t *d = create_ok(HDD "\"PerUnitStorageThroughput\":12,"
	    "\"DriveCacheType\":\"READ\"},\"StorageCapacity\":12000}");

	ck_assert_str_eq(S(d, LCP "DriveCacheType"), "READ");
	ck_assert_str_eq(S(d, "StorageType"), "HDD");
	ck_assert_int_eq(fs_desc_ost_count(d), 2);
	json_decref(d);
	d = create_ok(HDD "\"PerUnitStorageThroughput\":40,"
	    "\"DriveCacheType\":\"NONE\"},\"StorageCapacity\":3600}");
	ck_assert_int_eq(fs_desc_ost_count(d), 2);
	json_decref(d);
	create_err(HDD "\"PerUnitStorageThroughput\":12,\"DriveCacheType\":"
	    "\"NONE\"},\"StorageCapacity\":1800}", API_E_BAD_REQUEST,
	    "Invalid Lustre FS storage capacity: 1800. Must be a multiple of "
	    "6000");
	create_err(HDD "\"PerUnitStorageThroughput\":12},"
	    "\"StorageCapacity\":6000}", API_E_BAD_REQUEST,
	    "DriveCacheType is required");
	create_err(HDD "\"PerUnitStorageThroughput\":50,\"DriveCacheType\":"
	    "\"NONE\"},\"StorageCapacity\":6000}",
	    API_E_INVALID_PER_UNIT_THROUGHPUT, "12, 40");
	create_err(LUSTRE "\"StorageType\":\"HDD\",\"StorageCapacity\":6000,"
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"PerUnitStorageThroughput\":125}}", API_E_BAD_REQUEST,
	    "storage type HDD is not supported with deployment type "
	    "PERSISTENT_2");
	create_err(P1 ",\"DriveCacheType\":\"READ\"}}", API_E_BAD_REQUEST,
	    "only supported with HDD");
#undef HDD
}
END_TEST

START_TEST(fs_desc_create_versions)
{
	json_t *d = create_ok(P1 "},\"FileSystemTypeVersion\":\"2.15\"}");

	ck_assert_str_eq(S(d, "FileSystemTypeVersion"), "2.15");
	json_decref(d);
	create_err(P2 "},\"FileSystemTypeVersion\":\"2.10\"}",
	    API_E_BAD_REQUEST, "2.10 is not supported with deployment type "
	    "PERSISTENT_2");
	create_err(P1 "},\"FileSystemTypeVersion\":\"2.11\"}",
	    API_E_BAD_REQUEST, "Invalid FileSystemTypeVersion: 2.11");
	create_err(P2 ",\"MetadataConfiguration\":{\"Mode\":\"AUTOMATIC\"}},"
	    "\"FileSystemTypeVersion\":\"2.12\"}", API_E_BAD_REQUEST,
	    "requires FileSystemTypeVersion 2.15");
}
END_TEST

START_TEST(fs_desc_create_metadata)
{
	json_t *d;

	d = create_ok(LUSTRE "\"StorageCapacity\":2400,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_2\",\"PerUnitStorageThroughput\":"
	    "125,\"MetadataConfiguration\":{\"Mode\":\"AUTOMATIC\"}}}");
	ck_assert_int_eq(I(d, LCP "MetadataConfiguration.Iops"),
	    3000);
	ck_assert_str_eq(S(d, LCP "MetadataConfiguration.Mode"),
	    "AUTOMATIC");
	ck_assert_str_eq(S(d, "FileSystemTypeVersion"), "2.15");
	json_decref(d);
	d = create_ok(P2 ",\"MetadataConfiguration\":{\"Mode\":"
	    "\"USER_PROVISIONED\",\"Iops\":24000}}}");
	ck_assert_int_eq(I(d, LCP "MetadataConfiguration.Iops"),
	    24000);
	json_decref(d);
	create_err(P2 ",\"MetadataConfiguration\":{\"Mode\":\"AUTOMATIC\","
	    "\"Iops\":3000}}}", API_E_BAD_REQUEST, "Iops cannot be specified");
	create_err(LUSTRE "\"StorageCapacity\":2400,\"LustreConfiguration\":"
	    "{\"DeploymentType\":\"PERSISTENT_2\",\"PerUnitStorageThroughput\":"
	    "125,\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\","
	    "\"Iops\":1500}}}", API_E_BAD_REQUEST, "the minimum is 3000");
	create_err(P2 ",\"MetadataConfiguration\":{\"Mode\":"
	    "\"USER_PROVISIONED\",\"Iops\":2000}}}", API_E_BAD_REQUEST,
	    "Invalid metadata Iops: 2000");
	create_err(P2 ",\"MetadataConfiguration\":{\"Mode\":"
	    "\"USER_PROVISIONED\",\"Iops\":18000}}}", API_E_BAD_REQUEST,
	    "Invalid metadata Iops: 18000");
	create_err(P1 ",\"MetadataConfiguration\":{\"Mode\":\"AUTOMATIC\"}}}",
	    API_E_BAD_REQUEST, "only supported with deployment type "
	    "PERSISTENT_2");
	ck_assert_int_eq(fs_desc_auto_iops(1200), 1500);
	ck_assert_int_eq(fs_desc_auto_iops(4800), 6000);
	ck_assert_int_eq(fs_desc_auto_iops(9600), 6000);
	ck_assert_int_eq(fs_desc_auto_iops(12000), 12000);
	ck_assert_int_eq(fs_desc_auto_iops(45600), 12000);
	ck_assert_int_eq(fs_desc_auto_iops(48000), 24000);
	ck_assert_int_eq(fs_desc_auto_iops(1000000000), 192000);
}
END_TEST

START_TEST(fs_desc_create_efa)
{
	json_t *d = create_ok(P2 ",\"EfaEnabled\":true,\"MetadataConfiguration\":"
	    "{\"Mode\":\"AUTOMATIC\"}}}");

	ck_assert(json_is_true(G(d, LCP "EfaEnabled")));
	json_decref(d);
	d = create_ok(LUSTRE "\"StorageCapacity\":1200,\"LustreConfiguration\":"
	    "{\"EfaEnabled\":false}}");
	ck_assert_ptr_null(G(d, LCP "EfaEnabled"));
	json_decref(d);
	create_err(P2 ",\"EfaEnabled\":true}}", API_E_BAD_REQUEST,
	    "EfaEnabled requires");
	create_err(P1 ",\"EfaEnabled\":true}}", API_E_BAD_REQUEST,
	    "EfaEnabled requires");
}
END_TEST

START_TEST(fs_desc_create_intelligent_tiering)
{
	json_t *d = create_ok(IT "}}");

	ck_assert_ptr_null(G(d, "StorageCapacity"));
	ck_assert_str_eq(S(d, "StorageType"), "INTELLIGENT_TIERING");
	ck_assert_int_eq(I(d, LCP "ThroughputCapacity"), 4000);
	ck_assert_str_eq(S(d,
	    "LustreConfiguration.DataReadCacheConfiguration.SizingMode"),
	    "NO_CACHE");
	ck_assert_str_eq(S(d, "FileSystemTypeVersion"), "2.15");
	ck_assert_ptr_null(G(d, LCP "PerUnitStorageThroughput"));
	ck_assert_int_eq(fs_desc_ost_count(d), 1);
	json_decref(d);
	d = create_ok(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":8000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"USER_PROVISIONED\",\"SizeGiB\":64},"
	    "\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\"}}}");
	ck_assert_int_eq(fs_desc_ost_count(d), 2);
	ck_assert_int_eq(I(d, LCP "MetadataConfiguration.Iops"),
	    6000);
	json_decref(d);
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\"}}",
	    API_E_BAD_REQUEST, "ThroughputCapacity is required");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":6000}}", API_E_BAD_REQUEST,
	    "Invalid ThroughputCapacity: 6000");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000}}", API_E_BAD_REQUEST,
	    "DataReadCacheConfiguration is required");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_1\"}}",
	    API_E_BAD_REQUEST, "not supported with deployment type PERSISTENT_1");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"StorageCapacity\":1200,\"LustreConfiguration\":{"
	    "\"DeploymentType\":\"PERSISTENT_2\",\"ThroughputCapacity\":4000}}",
	    API_E_BAD_REQUEST, "elastic");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"NO_CACHE\"},\"MetadataConfiguration\":"
	    "{\"Mode\":\"AUTOMATIC\"}}}", API_E_BAD_REQUEST,
	    "AUTOMATIC is not supported");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"NO_CACHE\"}}}", API_E_BAD_REQUEST,
	    "MetadataConfiguration with Mode USER_PROVISIONED is required");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"NO_CACHE\"},\"MetadataConfiguration\":"
	    "{\"Mode\":\"USER_PROVISIONED\",\"Iops\":3000}}}", API_E_BAD_REQUEST,
	    "6000 and 12000");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"USER_PROVISIONED\",\"SizeGiB\":16},"
	    "\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\"}}}",
	    API_E_BAD_REQUEST, "SizeGiB: 16");
	create_err(LUSTRE "\"StorageType\":\"INTELLIGENT_TIERING\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_2\","
	    "\"ThroughputCapacity\":4000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"USER_PROVISIONED\"},\"MetadataConfiguration\":"
	    "{\"Mode\":\"USER_PROVISIONED\"}}}", API_E_BAD_REQUEST,
	    "SizeGiB is required");
	create_err(P2 ",\"ThroughputCapacity\":4000}}", API_E_BAD_REQUEST,
	    "only supported with INTELLIGENT_TIERING");
}
END_TEST

START_TEST(fs_desc_create_log)
{
	json_t *d = create_ok(P2 ",\"LogConfiguration\":{\"Level\":"
	    "\"WARN_ERROR\"}}}");

	ck_assert_str_eq(S(d, LCP "LogConfiguration.Destination"),
	    "arn:aws:logs:us-east-1:" ACCT ":log-group:/aws/fsx/lustre");
	json_decref(d);
	d = create_ok(P2 ",\"LogConfiguration\":{\"Level\":\"WARN_ONLY\","
	    "\"Destination\":\"arn:aws:logs:us-east-1:" ACCT
	    ":log-group:/aws/fsx/mine:*\"}}}");
	ck_assert_str_eq(S(d, LCP "LogConfiguration.Destination"),
	    "arn:aws:logs:us-east-1:" ACCT ":log-group:/aws/fsx/mine:*");
	json_decref(d);
	create_err(P2 ",\"LogConfiguration\":{\"Level\":\"DISABLED\","
	    "\"Destination\":\"arn:aws:logs:us-east-1:" ACCT
	    ":log-group:/aws/fsx/lustre\"}}}", API_E_BAD_REQUEST,
	    "cannot be specified when Level is DISABLED");
	create_err(P2 ",\"LogConfiguration\":{\"Level\":\"WARN_ONLY\","
	    "\"Destination\":\"arn:aws:logs:us-east-1:999999999999"
	    ":log-group:/aws/fsx/lustre\"}}}", API_E_BAD_REQUEST,
	    "Invalid LogConfiguration Destination");
	create_err(P2 ",\"LogConfiguration\":{\"Level\":\"WARN_ONLY\","
	    "\"Destination\":\"arn:aws:logs:us-east-1:" ACCT
	    ":log-group:/other/fsx\"}}}", API_E_BAD_REQUEST, "/aws/fsx");
	create_err(P2 ",\"LogConfiguration\":{\"Level\":\"WARN_ONLY\","
	    "\"Destination\":\"arn:aws:logs:eu-west-1:" ACCT
	    ":log-group:/aws/fsx/x\"}}}", API_E_BAD_REQUEST, NULL);
}
END_TEST

START_TEST(fs_desc_create_root_squash)
{
	json_t *d = create_ok(P2 ",\"RootSquashConfiguration\":{\"RootSquash\":"
	    "\"65534:4294967294\",\"NoSquashNids\":[\"10.0.1.6@tcp\","
	    "\"10.0.[2-10].[1-255]@tcp\"]}}}");

	ck_assert_str_eq(S(d,
	    "LustreConfiguration.RootSquashConfiguration.RootSquash"),
	    "65534:4294967294");
	ck_assert_int_eq(json_array_size(G(d,
	    "LustreConfiguration.RootSquashConfiguration.NoSquashNids")), 2);
	json_decref(d);
	create_err(P2 ",\"RootSquashConfiguration\":{\"RootSquash\":"
	    "\"4294967295:0\"}}}", API_E_BAD_REQUEST, "Invalid RootSquash");
	create_err(P2 ",\"RootSquashConfiguration\":{\"RootSquash\":\"0:0\","
	    "\"NoSquashNids\":[\"10.0.[10-2].1@tcp\"]}}}", API_E_BAD_REQUEST,
	    "Invalid NoSquashNids entry");
	create_err(P2 ",\"RootSquashConfiguration\":{\"NoSquashNids\":"
	    "[\"10.0.1.256@tcp\"]}}}", API_E_BAD_REQUEST, NULL);
	create_err(P2 ",\"RootSquashConfiguration\":{\"NoSquashNids\":"
	    "[\"10.0.1@tcp\"]}}}", API_E_BAD_REQUEST, NULL);
}
END_TEST

START_TEST(fs_desc_create_times)
{
	json_t *d = create_ok(P1 ",\"WeeklyMaintenanceStartTime\":\"7:23:59\","
	    "\"AutomaticBackupRetentionDays\":7}}");
	const char *daily;

	ck_assert_str_eq(S(d, LCP "WeeklyMaintenanceStartTime"),
	    "7:23:59");
	ck_assert_int_eq(I(d, LCP "AutomaticBackupRetentionDays"),
	    7);
	daily = S(d, LCP "DailyAutomaticBackupStartTime");
	ck_assert_ptr_nonnull(daily);
	ck_assert(strlen(daily) == 5 && daily[2] == ':');
	json_decref(d);
	d = create_ok(P1 ",\"DailyAutomaticBackupStartTime\":\"05:30\","
	    "\"CopyTagsToBackups\":true}}");
	ck_assert_str_eq(S(d,
	    "LustreConfiguration.DailyAutomaticBackupStartTime"), "05:30");
	ck_assert(json_is_true(G(d, LCP "CopyTagsToBackups")));
	json_decref(d);
	create_err(P1 ",\"WeeklyMaintenanceStartTime\":\"8:00:00\"}}",
	    API_E_BAD_REQUEST, "weeklyMaintenanceStartTime");
	create_err(P1 ",\"WeeklyMaintenanceStartTime\":\"1:24:00\"}}",
	    API_E_BAD_REQUEST, "weeklyMaintenanceStartTime");
	create_err(P1 ",\"DailyAutomaticBackupStartTime\":\"12:60\"}}",
	    API_E_BAD_REQUEST, "dailyAutomaticBackupStartTime");
	create_err(S2 ",\"DailyAutomaticBackupStartTime\":\"05:30\"}}",
	    API_E_BAD_REQUEST, "Backups are not supported");
	create_err(S2 ",\"AutomaticBackupRetentionDays\":1}}",
	    API_E_BAD_REQUEST, "Backups are not supported");
	create_err(S2 ",\"CopyTagsToBackups\":true}}", API_E_BAD_REQUEST,
	    "Backups are not supported");
	create_err(P1 ",\"AutomaticBackupRetentionDays\":91}}",
	    API_E_BAD_REQUEST, "less than or equal to 90");
	d = create_ok(S2 ",\"AutomaticBackupRetentionDays\":0}}");
	ck_assert_ptr_null(G(d, LCP "AutomaticBackupRetentionDays"));
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_create_kms)
{
	json_t *d;

	create_err(LUSTRE "\"StorageCapacity\":1200,\"KmsKeyId\":\"abc\"}",
	    API_E_BAD_REQUEST, "KmsKeyId is not supported for SCRATCH_1");
	d = create_ok(P1 "},\"KmsKeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\"}");
	ck_assert_str_eq(S(d, "KmsKeyId"), "arn:aws:kms:us-east-1:" ACCT
	    ":key/1234abcd-12ab-34cd-56ef-1234567890ab");
	json_decref(d);
	d = create_ok(P1 "},\"KmsKeyId\":\"alias/mine\"}");
	ck_assert_str_eq(S(d, "KmsKeyId"), "arn:aws:kms:us-east-1:" ACCT
	    ":alias/mine");
	json_decref(d);
	d = create_ok(P1 "},\"KmsKeyId\":\"arn:aws:kms:us-east-1:111122223333"
	    ":key/x\"}");
	ck_assert_str_eq(S(d, "KmsKeyId"),
	    "arn:aws:kms:us-east-1:111122223333:key/x");
	json_decref(d);
	create_err(P1 "},\"KmsKeyId\":\"bad key!\"}", API_E_BAD_REQUEST,
	    "Invalid KmsKeyId");
	create_err(P1 "},\"KmsKeyId\":\"arn:aws:s3:::bucket\"}",
	    API_E_BAD_REQUEST, "Invalid KmsKeyId");
}
END_TEST

START_TEST(fs_desc_create_legacy_link)
{
	json_t *d = create_ok(S2 ",\"ImportPath\":\"s3://my-bucket/in\"}}");

	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "ExportPath"), "s3://my-bucket/FSxLustre20231114T221320Z");
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "ImportPath"), "s3://my-bucket/in");
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "Lifecycle"), "CREATING");
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "AutoImportPolicy"), "NONE");
	ck_assert_int_eq(I(d, LCP "DataRepositoryConfiguration."
	    "ImportedFileChunkSize"), 1024);
	json_decref(d);
	d = create_ok(P1 ",\"ImportPath\":\"s3://b.example\",\"ExportPath\":"
	    "\"s3://b.example/out\",\"ImportedFileChunkSize\":2048,"
	    "\"AutoImportPolicy\":\"NEW_CHANGED\"}}");
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "ExportPath"), "s3://b.example/out");
	ck_assert_int_eq(I(d, LCP "DataRepositoryConfiguration."
	    "ImportedFileChunkSize"), 2048);
	json_decref(d);
	create_err(S2 ",\"ImportPath\":\"s3://a-bucket\",\"ExportPath\":"
	    "\"s3://other-bucket/x\"}}", API_E_INVALID_EXPORT_PATH,
	    "same S3 bucket");
	create_err(S2 ",\"ImportPath\":\"s3://a-bucket\",\"ExportPath\":"
	    "\"http://a-bucket/x\"}}", API_E_INVALID_EXPORT_PATH, NULL);
	create_err(S2 ",\"ImportPath\":\"http://bucket\"}}",
	    API_E_INVALID_IMPORT_PATH, "s3://bucket[/prefix]");
	create_err(S2 ",\"ImportPath\":\"s3://Bad_Bucket/x\"}}",
	    API_E_INVALID_IMPORT_PATH, NULL);
	create_err(S2 ",\"ImportPath\":\"s3://ab\"}}",
	    API_E_INVALID_IMPORT_PATH, NULL);
	create_err(S2 ",\"ImportPath\":\"s3://192.168.1.1\"}}",
	    API_E_INVALID_IMPORT_PATH, NULL);
	create_err(S2 ",\"ExportPath\":\"s3://a-bucket\"}}", API_E_BAD_REQUEST,
	    "ExportPath requires ImportPath");
	create_err(S2 ",\"ImportedFileChunkSize\":10}}", API_E_BAD_REQUEST,
	    "ImportedFileChunkSize requires ImportPath");
	create_err(S2 ",\"AutoImportPolicy\":\"NEW\"}}", API_E_BAD_REQUEST,
	    "AutoImportPolicy requires ImportPath");
	create_err(P2 ",\"ImportPath\":\"s3://a-bucket\"}}", API_E_BAD_REQUEST,
	    "Linking a Persistent 2 file system to an S3 bucket using the "
	    "LustreConfiguration is not supported.");
	create_err(P2 ",\"AutoImportPolicy\":\"NEW\"}}", API_E_BAD_REQUEST,
	    "Linking a Persistent 2");
	create_err(P1 ",\"ImportPath\":\"s3://a-bucket\","
	    "\"AutomaticBackupRetentionDays\":3}}", API_E_BAD_REQUEST,
	    "linked to an S3 bucket");
}
END_TEST

START_TEST(fs_desc_create_misc)
{
	json_t *d = create_ok(S2 ",\"DataCompressionType\":\"LZ4\"},"
	    "\"NetworkType\":\"IPV4\"}");

	ck_assert_str_eq(S(d, LCP "DataCompressionType"), "LZ4");
	ck_assert_str_eq(S(d, "NetworkType"), "IPV4");
	json_decref(d);
	create_err(S2 "},\"NetworkType\":\"DUAL\"}", API_E_BAD_REQUEST,
	    "NetworkType DUAL is not supported");
	create_err(S2 ",\"DeploymentType\":\"SCRATCH_9\"}}", API_E_BAD_REQUEST,
	    NULL);
}
END_TEST

/* --- update ------------------------------------------------------------- */

static json_t *
avail(json_t *d)
{
	json_object_set_new(d, "Lifecycle", json_string("AVAILABLE"));
	return d;
}

static json_t *
update_at(const json_t *cur, const char *js, double now, double gap,
    struct fs_desc_plan *plan)
{
	struct api_error err;
	json_t *in = J(js), *d, *copy = json_deep_copy(cur);

	memset(&err, 0, sizeof(err));
	d = validated_update(cur, in, now, gap, plan, &err);
	json_decref(in);
	ck_assert_msg(d != NULL, "update %s failed: %s: %s", js,
	    api_err_type(err.code), err.message);
	ck_assert_msg(json_equal(cur, copy), "update modified cur");
	json_decref(copy);
	no_nulls(d);
	api_error_clear(&err);
	return d;
}

static json_t *
update_ok(const json_t *cur, const char *js, struct fs_desc_plan *plan)
{
	return update_at(cur, js, NOW + 100, 0, plan);
}

static void
update_err_at(const json_t *cur, const char *js, double now, double gap,
    enum api_err code, const char *msg)
{
	struct api_error err;
	struct fs_desc_plan plan;
	json_t *in = J(js), *d;

	memset(&err, 0, sizeof(err));
	d = validated_update(cur, in, now, gap, &plan, &err);
	json_decref(in);
	ck_assert_msg(d == NULL, "update succeeded: %s", js);
	ck_assert_msg(err.code == code, "%s: got %s (%s), want %s", js,
	    api_err_type(err.code), err.message, api_err_type(code));
	if (msg != NULL)
		ck_assert_msg(strstr(err.message, msg) != NULL,
		    "message \"%s\" lacks \"%s\"", err.message, msg);
	api_error_clear(&err);
}

static void
update_err(const json_t *cur, const char *js, enum api_err code,
    const char *msg)
{
	update_err_at(cur, js, NOW + 100, 0, code, msg);
}

static json_t *
action0(const json_t *d)
{
	return json_array_get(G(d, "AdministrativeActions"), 0);
}

#define UFS	"{\"FileSystemId\":\"" FSID "\""

START_TEST(fs_desc_update_requires_available)
{
	json_t *d = create_ok(P2 "}}");

	update_err(d, UFS ",\"StorageCapacity\":2400}", API_E_BAD_REQUEST,
	    "lifecycle state CREATING");
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_capacity)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P2 "}}")), *n, *a;

	n = update_ok(d, UFS ",\"StorageCapacity\":2400}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 1);
	ck_assert_int_eq(plan.new_capacity, 2400);
	ck_assert_int_eq(I(n, "StorageCapacity"), 1200);	/* not yet */
	ck_assert_str_eq(S(n, "Lifecycle"), "AVAILABLE");
	a = action0(n);
	ck_assert_str_eq(S(a, "AdministrativeActionType"), "FILE_SYSTEM_UPDATE");
	ck_assert_str_eq(S(a, "Status"), "PENDING");
	ck_assert_int_eq(I(a, "TargetFileSystemValues.StorageCapacity"), 2400);
	ck_assert(json_is_number(G(a, "RequestTime")));
	/* the job runner finishes it */
	fs_desc_apply_target(n, fs_desc_action_pending_target(n,
	    "FILE_SYSTEM_UPDATE"));
	ck_assert_int_eq(I(n, "StorageCapacity"), 2400);
	ck_assert_int_eq(fs_desc_ost_count(n), 2);
	update_err(d, UFS ",\"StorageCapacity\":600}", API_E_BAD_REQUEST,
	    "can only be increased");
	update_err(d, UFS ",\"StorageCapacity\":3000}", API_E_BAD_REQUEST,
	    "Invalid Lustre FS storage capacity: 3000. Must be a multiple of "
	    "2400");
	json_decref(n);
	/* unchanged value: no-op */
	n = update_ok(d, UFS ",\"StorageCapacity\":1200}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	ck_assert_int_eq(plan.new_capacity, 0);
	ck_assert_str_eq(S(action0(n), "Status"), "COMPLETED");
	ck_assert_ptr_null(G(action0(n), "TargetFileSystemValues"));
	json_decref(n);
	json_decref(d);

	d = avail(create_ok(LUSTRE "\"StorageCapacity\":1200}"));
	update_err(d, UFS ",\"StorageCapacity\":2400}", API_E_BAD_REQUEST,
	    "not supported for SCRATCH_1");
	json_decref(d);
	d = avail(create_ok(S2 "}}"));
	n = update_ok(d, UFS ",\"StorageCapacity\":4800}", &plan);
	ck_assert_int_eq(plan.new_capacity, 4800);
	json_decref(n);
	json_decref(d);
	d = avail(create_ok(LUSTRE "\"StorageType\":\"HDD\",\"StorageCapacity\":"
	    "6000,\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_1\","
	    "\"PerUnitStorageThroughput\":12,\"DriveCacheType\":\"NONE\"}}"));
	update_err(d, UFS ",\"StorageCapacity\":9000}", API_E_BAD_REQUEST,
	    "Must be a multiple of 6000");
	n = update_ok(d, UFS ",\"StorageCapacity\":12000}", &plan);
	ck_assert_int_eq(plan.new_capacity, 12000);
	json_decref(n);
	json_decref(d);
	d = avail(create_ok(IT "}}"));
	update_err(d, UFS ",\"StorageCapacity\":2400}", API_E_BAD_REQUEST,
	    "elastic");
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_capacity_in_progress_and_gap)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P2 "}}")), *n, *m;

	n = update_ok(d, UFS ",\"StorageCapacity\":2400}", &plan);
	update_err(n, UFS ",\"StorageCapacity\":4800}", API_E_BAD_REQUEST,
	    "Unable to perform the storage capacity update. There is an "
	    "update already in progress.");
	update_err(n, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":250}}", API_E_BAD_REQUEST,
	    "There is an update already in progress.");
	/* immediate changes still go through, on top of the pending one */
	m = update_ok(n, UFS ",\"LustreConfiguration\":{"
	    "\"DataCompressionType\":\"LZ4\"}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	ck_assert_str_eq(S(action0(m), "Status"), "COMPLETED");
	ck_assert_str_eq(S(json_array_get(G(m, "AdministrativeActions"), 1),
	    "Status"), "PENDING");
	/* the runner moves the pending one, not the newest */
	fs_desc_action_set_status(m, "FILE_SYSTEM_UPDATE", "IN_PROGRESS", NOW);
	ck_assert_str_eq(S(json_array_get(G(m, "AdministrativeActions"), 1),
	    "Status"), "IN_PROGRESS");
	ck_assert_str_eq(S(action0(m), "Status"), "COMPLETED");
	fs_desc_apply_capacity(m, 2400);
	fs_desc_action_set_status(m, "FILE_SYSTEM_UPDATE", "UPDATED_OPTIMIZING",
	    NOW);
	fs_desc_action_add(m, "STORAGE_OPTIMIZATION", "IN_PROGRESS", NULL, NOW);
	update_err(m, UFS ",\"StorageCapacity\":4800}", API_E_BAD_REQUEST,
	    "already in progress");
	fs_desc_action_set_status(m, "FILE_SYSTEM_UPDATE", "COMPLETED", NOW);
	update_err(m, UFS ",\"StorageCapacity\":4800}", API_E_BAD_REQUEST,
	    "already in progress");
	fs_desc_action_remove(m, "STORAGE_OPTIMIZATION");
	/* the 6-hour rule, counted from the last increase's request */
	update_err_at(m, UFS ",\"StorageCapacity\":4800}", NOW + 3600, 21600,
	    API_E_BAD_REQUEST, "once every 6 hours");
	json_decref(update_at(m, UFS ",\"StorageCapacity\":4800}",
	    NOW + 100 + 21600, 21600, &plan));
	json_decref(update_at(m, UFS ",\"StorageCapacity\":4800}",
	    NOW + 3600, 0, &plan));
	ck_assert_int_eq(plan.new_capacity, 4800);
	/* a failed increase does not start the clock */
	fs_desc_action_add(m, "FILE_SYSTEM_UPDATE", "PENDING",
	    J("{\"StorageCapacity\":7200}"), NOW + 5000);
	fs_desc_action_fail(m, "FILE_SYSTEM_UPDATE", "no space");
	ck_assert_str_eq(S(action0(m), "FailureDetails.Message"), "no space");
	json_decref(update_at(m, UFS ",\"StorageCapacity\":4800}",
	    NOW + 100 + 21600, 21600, &plan));
	json_decref(m);
	json_decref(n);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_metadata)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P2 ",\"MetadataConfiguration\":{\"Mode\":"
	    "\"USER_PROVISIONED\",\"Iops\":1500}}}")), *n, *a;

	update_err(d, UFS ",\"StorageCapacity\":2400}", API_E_BAD_REQUEST,
	    "too low for a storage capacity of 2400 GiB");
	n = update_ok(d, UFS ",\"StorageCapacity\":2400,\"LustreConfiguration\":"
	    "{\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\","
	    "\"Iops\":3000}}}", &plan);
	ck_assert_int_eq(plan.new_capacity, 2400);
	ck_assert_int_eq(I(n, LCP "MetadataConfiguration.Iops"),
	    3000);
	json_decref(n);
	n = update_ok(d, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Iops\":6000}}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	a = action0(n);
	ck_assert_str_eq(S(a, "Status"), "COMPLETED");
	ck_assert_int_eq(I(a, "TargetFileSystemValues.LustreConfiguration."
	    "MetadataConfiguration.Iops"), 6000);
	ck_assert_int_eq(I(n, LCP "MetadataConfiguration.Iops"),
	    6000);
	update_err(n, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Iops\":3000}}}", API_E_BAD_REQUEST, "can only be increased");
	update_err_at(n, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Iops\":12000}}}", NOW + 200, 21600, API_E_BAD_REQUEST,
	    "Metadata IOPS can only be increased once every 6 hours");
	/* back to AUTOMATIC is refused above the automatic value */
	update_err(n, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Mode\":\"AUTOMATIC\"}}}", API_E_BAD_REQUEST,
	    "decreasing metadata IOPS is not supported");
	update_err(n, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Mode\":\"AUTOMATIC\",\"Iops\":6000}}}", API_E_BAD_REQUEST,
	    "Iops cannot be specified");
	json_decref(n);
	n = update_ok(d, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Mode\":\"AUTOMATIC\"}}}", &plan);
	ck_assert_str_eq(S(n, LCP "MetadataConfiguration.Mode"),
	    "AUTOMATIC");
	ck_assert_int_eq(I(n, LCP "MetadataConfiguration.Iops"),
	    1500);
	fs_desc_apply_capacity(n, 4800);
	ck_assert_int_eq(I(n, LCP "MetadataConfiguration.Iops"),
	    6000);
	json_decref(n);
	json_decref(d);
	d = avail(create_ok(P2 "}}"));
	update_err(d, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Mode\":\"AUTOMATIC\"}}}", API_E_BAD_REQUEST,
	    "only be set when the file system is created");
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_version)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P1 "}}")), *n;

	n = update_ok(d, UFS ",\"FileSystemTypeVersion\":\"2.12\"}", &plan);
	ck_assert_str_eq(S(n, "FileSystemTypeVersion"), "2.12");
	ck_assert_str_eq(S(action0(n), "TargetFileSystemValues."
	    "FileSystemTypeVersion"), "2.12");
	update_err(n, UFS ",\"FileSystemTypeVersion\":\"2.10\"}",
	    API_E_BAD_REQUEST, "Valid values are 2.12 and 2.15");
	json_decref(n);
	json_decref(d);
	d = avail(create_ok(P2 ",\"MetadataConfiguration\":{\"Mode\":"
	    "\"AUTOMATIC\"}}}"));
	update_err(d, UFS ",\"FileSystemTypeVersion\":\"2.12\"}",
	    API_E_BAD_REQUEST, "only be upgraded");
	n = update_ok(d, UFS ",\"FileSystemTypeVersion\":\"2.15\"}", &plan);
	ck_assert_ptr_null(G(action0(n), "TargetFileSystemValues"));
	json_decref(n);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_throughput)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P1 "}}")), *n, *a;

	n = update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":200}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 1);
	ck_assert_int_eq(plan.new_capacity, 0);
	ck_assert_int_eq(I(n, LCP "PerUnitStorageThroughput"),
	    50);
	a = action0(n);
	ck_assert_str_eq(S(a, "Status"), "PENDING");
	ck_assert_int_eq(I(a, "TargetFileSystemValues.LustreConfiguration."
	    "PerUnitStorageThroughput"), 200);
	fs_desc_apply_target(n, G(a, "TargetFileSystemValues"));
	ck_assert_int_eq(I(n, LCP "PerUnitStorageThroughput"),
	    200);
	json_decref(n);
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":125}}",
	    API_E_INVALID_PER_UNIT_THROUGHPUT, "50, 100, 200");
	n = update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":50}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	json_decref(n);
	json_decref(d);
	d = avail(create_ok(LUSTRE "\"StorageType\":\"HDD\",\"StorageCapacity\":"
	    "6000,\"LustreConfiguration\":{\"DeploymentType\":\"PERSISTENT_1\","
	    "\"PerUnitStorageThroughput\":12,\"DriveCacheType\":\"NONE\"}}"));
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":40}}", API_E_BAD_REQUEST, "HDD");
	json_decref(update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":12}}", &plan));
	json_decref(d);
	d = avail(create_ok(S2 "}}"));
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":50}}", API_E_BAD_REQUEST, "SCRATCH_2");
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"ThroughputCapacity\":8000}}", API_E_BAD_REQUEST,
	    "only supported with INTELLIGENT_TIERING");
	json_decref(d);
	d = avail(create_ok(P2 ",\"EfaEnabled\":true,\"MetadataConfiguration\":"
	    "{\"Mode\":\"AUTOMATIC\"}}}"));
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":250}}", API_E_BAD_REQUEST,
	    "EFA-enabled");
	json_decref(d);

	/* Intelligent-Tiering throughput: rises in 4000 steps */
	d = avail(create_ok(IT "}}"));
	n = update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"ThroughputCapacity\":8000}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 1);
	ck_assert_int_eq(I(n, LCP "ThroughputCapacity"), 4000);
	fs_desc_apply_target(n, fs_desc_action_pending_target(n,
	    "FILE_SYSTEM_UPDATE"));
	ck_assert_int_eq(I(n, LCP "ThroughputCapacity"), 8000);
	ck_assert_int_eq(fs_desc_ost_count(n), 2);
	fs_desc_action_set_status(n, "FILE_SYSTEM_UPDATE", "COMPLETED", NOW);
	update_err(n, UFS ",\"LustreConfiguration\":{"
	    "\"ThroughputCapacity\":4000}}", API_E_BAD_REQUEST,
	    "can only be increased");
	update_err(n, UFS ",\"LustreConfiguration\":{"
	    "\"ThroughputCapacity\":10000}}", API_E_BAD_REQUEST,
	    "multiple of 4000");
	update_err(n, UFS ",\"LustreConfiguration\":{"
	    "\"PerUnitStorageThroughput\":125}}", API_E_BAD_REQUEST, NULL);
	json_decref(n);
	n = update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"DataReadCacheConfiguration\":{\"SizingMode\":"
	    "\"USER_PROVISIONED\",\"SizeGiB\":100}}}", &plan);
	ck_assert_int_eq(I(n, LCP "DataReadCacheConfiguration."
	    "SizeGiB"), 100);
	ck_assert_int_eq(plan.needs_update_job, 0);
	json_decref(n);
	update_err(d, UFS ",\"LustreConfiguration\":{\"MetadataConfiguration\""
	    ":{\"Mode\":\"USER_PROVISIONED\",\"Iops\":24000}}}",
	    API_E_BAD_REQUEST, "6000 and 12000");
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_free_members)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P2 "}}")), *n, *a;

	n = update_ok(d, UFS ",\"LustreConfiguration\":{\"DataCompressionType\":"
	    "\"LZ4\",\"WeeklyMaintenanceStartTime\":\"3:04:30\","
	    "\"LogConfiguration\":{\"Level\":\"ERROR_ONLY\"},"
	    "\"RootSquashConfiguration\":{\"RootSquash\":\"65534:65534\"},"
	    "\"AutomaticBackupRetentionDays\":7}}", &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	ck_assert_str_eq(S(n, LCP "DataCompressionType"), "LZ4");
	ck_assert_str_eq(S(n, LCP "WeeklyMaintenanceStartTime"),
	    "3:04:30");
	ck_assert_str_eq(S(n, LCP "LogConfiguration.Destination"),
	    "arn:aws:logs:us-east-1:" ACCT ":log-group:/aws/fsx/lustre");
	ck_assert_str_eq(S(n,
	    "LustreConfiguration.RootSquashConfiguration.RootSquash"),
	    "65534:65534");
	ck_assert_int_eq(I(n, LCP "AutomaticBackupRetentionDays"),
	    7);
	ck_assert_ptr_nonnull(S(n,
	    "LustreConfiguration.DailyAutomaticBackupStartTime"));
	a = action0(n);
	ck_assert_str_eq(S(a, "Status"), "COMPLETED");
	ck_assert_str_eq(S(a, "TargetFileSystemValues.LustreConfiguration."
	    "DataCompressionType"), "LZ4");
	/* back to DISABLED drops the destination */
	{
		json_t *m = update_ok(n, UFS ",\"LustreConfiguration\":"
		    "{\"LogConfiguration\":{\"Level\":\"DISABLED\"}}}", &plan);

		ck_assert_int_eq(json_object_size(G(m,
		    "LustreConfiguration.LogConfiguration")), 1);
		json_decref(m);
	}
	json_decref(n);
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"WeeklyMaintenanceStartTime\":\"0:04:30\"}}", API_E_BAD_REQUEST,
	    "weeklyMaintenanceStartTime");
	update_err(d, UFS ",\"LustreConfiguration\":{\"LogConfiguration\":"
	    "{\"Level\":\"DISABLED\",\"Destination\":\"arn:aws:logs:us-east-1:"
	    ACCT ":log-group:/aws/fsx/x\"}}}", API_E_BAD_REQUEST, "DISABLED");
	update_err(d, UFS ",\"LustreConfiguration\":{\"RootSquashConfiguration\":"
	    "{\"RootSquash\":\"99999999999:0\"}}}", API_E_BAD_REQUEST,
	    "rootSquash");
	update_err(d, UFS ",\"LustreConfiguration\":{\"RootSquashConfiguration\":"
	    "{\"RootSquash\":\"4294967295:0\"}}}", API_E_BAD_REQUEST,
	    "Invalid RootSquash");
	update_err(d, UFS ",\"LustreConfiguration\":{\"DailyAutomaticBackupStartTime\":"
	    "\"24:00\"}}", API_E_BAD_REQUEST, "dailyAutomaticBackupStartTime");
	update_err(d, UFS ",\"LustreConfiguration\":{\"AutoImportPolicy\":"
	    "\"NEW\"}}", API_E_BAD_REQUEST, "linked to an S3 bucket");
	update_err(d, UFS ",\"StorageType\":\"INTELLIGENT_TIERING\"}",
	    API_E_BAD_REQUEST, "storage type");
	update_err(d, UFS ",\"NetworkType\":\"DUAL\"}", API_E_BAD_REQUEST,
	    "network type");
	json_decref(d);

	d = avail(create_ok(S2 "}}"));
	update_err(d, UFS ",\"LustreConfiguration\":{"
	    "\"AutomaticBackupRetentionDays\":3}}", API_E_BAD_REQUEST,
	    "not supported for scratch");
	json_decref(update_ok(d, UFS ",\"LustreConfiguration\":{"
	    "\"AutomaticBackupRetentionDays\":0}}", &plan));
	json_decref(d);

	d = avail(create_ok(S2 ",\"ImportPath\":\"s3://my-bucket\"}}"));
	n = update_ok(d, UFS ",\"LustreConfiguration\":{\"AutoImportPolicy\":"
	    "\"NEW_CHANGED_DELETED\"}}", &plan);
	ck_assert_str_eq(S(n, LCP "DataRepositoryConfiguration."
	    "AutoImportPolicy"), "NEW_CHANGED_DELETED");
	json_decref(n);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_update_noop)
{
	struct fs_desc_plan plan;
	json_t *d = avail(create_ok(P2 "}}")), *n, *stripped;

	/* Terraform: an empty LustreConfiguration plus unchanged values */
	n = update_ok(d, UFS ",\"StorageType\":\"SSD\",\"NetworkType\":\"IPV4\","
	    "\"LustreConfiguration\":{\"DataCompressionType\":\"NONE\","
	    "\"LogConfiguration\":{\"Level\":\"DISABLED\"},"
	    "\"AutomaticBackupRetentionDays\":0,\"PerUnitStorageThroughput\":"
	    "125},\"FileSystemTypeVersion\":\"2.12\",\"StorageCapacity\":1200}",
	    &plan);
	ck_assert_int_eq(plan.needs_update_job, 0);
	ck_assert_str_eq(S(action0(n), "Status"), "COMPLETED");
	ck_assert_ptr_null(G(action0(n), "TargetFileSystemValues"));
	stripped = json_deep_copy(n);
	json_object_del(stripped, "AdministrativeActions");
	ck_assert(json_equal(stripped, d));
	json_decref(stripped);
	json_decref(n);
	n = update_ok(d, UFS "}", &plan);
	json_decref(n);
	n = update_ok(d, UFS ",\"LustreConfiguration\":{}}", &plan);
	json_decref(n);
	json_decref(d);
}
END_TEST

/* --- administrative actions --------------------------------------------- */

START_TEST(fs_desc_action_ordering_and_cap)
{
	json_t *d = create_ok(P2 "}}"), *list;

	for (int i = 0; i < 12; i++)
		fs_desc_action_add(d, "FILE_SYSTEM_UPDATE", "COMPLETED", NULL,
		    NOW + i);
	fs_desc_action_add(d, "STORAGE_OPTIMIZATION", "PENDING", NULL,
	    NOW + 20);
	list = G(d, "AdministrativeActions");
	ck_assert_int_eq(json_array_size(list), 11);
	ck_assert_str_eq(S(json_array_get(list, 0), "AdministrativeActionType"),
	    "STORAGE_OPTIMIZATION");
	/* newest first */
	ck_assert(json_number_value(G(json_array_get(list, 1), "RequestTime")) >
	    json_number_value(G(json_array_get(list, 2), "RequestTime")));
	ck_assert(json_number_value(G(json_array_get(list, 10), "RequestTime")) >
	    NOW + 1.5);
	fs_desc_action_progress(d, "STORAGE_OPTIMIZATION", 150);
	ck_assert_int_eq(I(json_array_get(list, 0), "ProgressPercent"), 100);
	fs_desc_action_set_status(d, "STORAGE_OPTIMIZATION", "COMPLETED", NOW);
	ck_assert_str_eq(S(json_array_get(list, 0), "Status"), "COMPLETED");
	/* nothing open: set_status leaves finished entries alone */
	fs_desc_action_set_status(d, "FILE_SYSTEM_UPDATE", "FAILED", NOW);
	ck_assert_str_eq(S(json_array_get(list, 1), "Status"), "COMPLETED");
	ck_assert_ptr_null(fs_desc_action_pending_target(d,
	    "FILE_SYSTEM_UPDATE"));
	fs_desc_action_remove(d, "STORAGE_OPTIMIZATION");
	ck_assert_int_eq(json_array_size(G(d, "AdministrativeActions")), 10);
	fs_desc_action_remove(d, "FILE_SYSTEM_UPDATE");
	ck_assert_ptr_null(G(d, "AdministrativeActions"));
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_action_keeps_open_entries)
{
	json_t *d = create_ok(P2 "}}"), *list;

	fs_desc_action_add(d, "FILE_SYSTEM_UPDATE", "PENDING",
	    J("{\"StorageCapacity\":2400}"), NOW);
	for (int i = 0; i < 12; i++)
		fs_desc_action_add(d, "FILE_SYSTEM_UPDATE", "COMPLETED", NULL,
		    NOW + 1 + i);
	list = G(d, "AdministrativeActions");
	ck_assert_int_eq(json_array_size(list), 11);
	ck_assert_int_eq(I(fs_desc_action_pending_target(d,
	    "FILE_SYSTEM_UPDATE"), "StorageCapacity"), 2400);
	json_decref(d);
}
END_TEST

START_TEST(fs_desc_lifecycle_moves)
{
	json_t *d = create_ok(S2 ",\"ImportPath\":\"s3://my-bucket\"}}");
	char longmsg[400];

	fs_desc_set_lifecycle(d, FS_AVAILABLE, NULL);
	ck_assert_str_eq(S(d, "Lifecycle"), "AVAILABLE");
	/* the link stays CREATING until the S3 agent says otherwise */
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "Lifecycle"), "CREATING");
	fs_desc_set_lifecycle(d, FS_DELETING, NULL);
	ck_assert_str_eq(S(d, LCP "DataRepositoryConfiguration."
	    "Lifecycle"), "DELETING");
	json_decref(d);
	d = create_ok(P2 "}}");
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	fs_desc_set_lifecycle(d, FS_FAILED, longmsg);
	ck_assert_str_eq(S(d, "Lifecycle"), "FAILED");
	ck_assert_int_eq(strlen(S(d, "FailureDetails.Message")), 256);
	fs_desc_set_lifecycle(d, FS_AVAILABLE, NULL);
	ck_assert_ptr_null(G(d, "FailureDetails"));
	ck_assert_ptr_null(G(d, LCP "DataRepositoryConfiguration"));
	json_decref(d);
}
END_TEST

/*
 * Every member of a valid request (and of a current description), at any
 * depth, replaced in turn by each hostile value: the functions must
 * answer (success or error) without crashing or leaking.
 */
static const char *const hostile[] = {
	"null", "1", "-1", "9223372036854775807", "1e300", "\"\"", "\"x\"",
	"[]", "{}", "true", "[1,{}]", "\"s3://\"", "\"arn:\"", "\"9:99:99\"",
};

typedef void (*mutate_fn)(const json_t *doc);

static void
mutate_walk(json_t *root, json_t *node, mutate_fn fn)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(node)) {
		json_object_foreach(node, k, v) {
			json_t *keep = json_incref(v);

			for (size_t h = 0; h < sizeof(hostile) /
			    sizeof(hostile[0]); h++) {
				json_object_set_new(node, k, J(hostile[h]));
				fn(root);
			}
			json_object_set(node, k, keep);
			mutate_walk(root, keep, fn);
			json_decref(keep);
		}
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v) {
			json_t *keep = json_incref(v);

			for (size_t h = 0; h < sizeof(hostile) /
			    sizeof(hostile[0]); h++) {
				json_array_set_new(node, i, J(hostile[h]));
				fn(root);
			}
			json_array_set(node, i, keep);
			mutate_walk(root, keep, fn);
			json_decref(keep);
		}
	}
}

static void
try_create(const json_t *in)
{
	struct api_error err;
	json_t *d;

	memset(&err, 0, sizeof(err));
	d = validated_create(in, &tcx, &err);
	if (d != NULL) {
		no_nulls(d);
		(void)fs_desc_ost_count(d);
	} else {
		ck_assert(err.message[0] != '\0');
	}
	json_decref(d);
	api_error_clear(&err);
}

static const json_t *fuzz_cur;
static const json_t *fuzz_in;

static void
try_update_in(const json_t *in)
{
	struct api_error err;
	struct fs_desc_plan plan;
	json_t *d;

	memset(&err, 0, sizeof(err));
	d = validated_update(fuzz_cur, in, NOW, 0, &plan, &err);
	if (d != NULL)
		fs_desc_apply_target(d, fs_desc_action_pending_target(d,
		    "FILE_SYSTEM_UPDATE"));
	else
		ck_assert(err.message[0] != '\0');
	json_decref(d);
	api_error_clear(&err);
}

static void
try_update_cur(const json_t *cur)
{
	struct api_error err;
	struct fs_desc_plan plan;
	json_t *d, *c2 = json_deep_copy(cur);

	memset(&err, 0, sizeof(err));
	d = fs_desc_update(cur, fuzz_in, NOW, 3600, &plan, &err);
	json_decref(d);
	api_error_clear(&err);
	(void)fs_desc_ost_count(cur);
	fs_desc_action_set_status(c2, "FILE_SYSTEM_UPDATE", "COMPLETED", NOW);
	fs_desc_action_progress(c2, "STORAGE_OPTIMIZATION", 5);
	fs_desc_action_fail(c2, "FILE_SYSTEM_UPDATE", "x");
	fs_desc_apply_capacity(c2, 2400);
	fs_desc_set_lifecycle(c2, FS_AVAILABLE, NULL);
	fs_desc_action_add(c2, "FILE_SYSTEM_UPDATE", "PENDING", NULL, NOW);
	fs_desc_action_remove(c2, "FILE_SYSTEM_UPDATE");
	json_decref(c2);
}

START_TEST(fs_desc_hostile_members)
{
	json_t *in = J(P2 ",\"MetadataConfiguration\":{\"Mode\":\"AUTOMATIC\"},"
	    "\"LogConfiguration\":{\"Level\":\"WARN_ONLY\",\"Destination\":"
	    "\"arn:aws:logs:us-east-1:" ACCT ":log-group:/aws/fsx/x\"},"
	    "\"RootSquashConfiguration\":{\"RootSquash\":\"1:1\","
	    "\"NoSquashNids\":[\"10.0.[1-2].3@tcp\"]},\"EfaEnabled\":true,"
	    "\"WeeklyMaintenanceStartTime\":\"1:00:00\","
	    "\"DailyAutomaticBackupStartTime\":\"01:00\","
	    "\"AutomaticBackupRetentionDays\":1,\"CopyTagsToBackups\":true,"
	    "\"DataCompressionType\":\"LZ4\"},\"Tags\":[{\"Key\":\"a\","
	    "\"Value\":\"b\"}],\"KmsKeyId\":\"alias/x\","
	    "\"FileSystemTypeVersion\":\"2.15\"}");
	json_t *in2 = J(S2 ",\"ImportPath\":\"s3://bkt/a\",\"ExportPath\":"
	    "\"s3://bkt/b\",\"ImportedFileChunkSize\":5,\"AutoImportPolicy\":"
	    "\"NEW\"}}");
	json_t *in3 = J(IT ",\"DataReadCacheConfiguration\":{\"SizingMode\":"
	    "\"USER_PROVISIONED\",\"SizeGiB\":64}}}");
	json_t *cur, *up;

	mutate_walk(in, in, try_create);
	mutate_walk(in2, in2, try_create);
	mutate_walk(in3, in3, try_create);

	cur = avail(create_ok(P2 ",\"MetadataConfiguration\":"
	    "{\"Mode\":\"USER_PROVISIONED\",\"Iops\":1500}}}"));
	fs_desc_action_add(cur, "FILE_SYSTEM_UPDATE", "COMPLETED",
	    J("{\"StorageCapacity\":1200,\"LustreConfiguration\":{"
	    "\"MetadataConfiguration\":{\"Iops\":1500}}}"), NOW - 10);
	up = J(UFS ",\"StorageCapacity\":2400,\"FileSystemTypeVersion\":"
	    "\"2.15\",\"StorageType\":\"SSD\",\"NetworkType\":\"IPV4\","
	    "\"LustreConfiguration\":{\"PerUnitStorageThroughput\":250,"
	    "\"MetadataConfiguration\":{\"Mode\":\"USER_PROVISIONED\","
	    "\"Iops\":3000},\"DataCompressionType\":\"LZ4\","
	    "\"WeeklyMaintenanceStartTime\":\"2:00:00\","
	    "\"DailyAutomaticBackupStartTime\":\"02:00\","
	    "\"AutomaticBackupRetentionDays\":3,\"AutoImportPolicy\":\"NEW\","
	    "\"LogConfiguration\":{\"Level\":\"WARN_ONLY\"},"
	    "\"RootSquashConfiguration\":{\"RootSquash\":\"0:0\"},"
	    "\"ThroughputCapacity\":8000,\"DataReadCacheConfiguration\":"
	    "{\"SizingMode\":\"NO_CACHE\"}}}");
	fuzz_cur = cur;
	mutate_walk(up, up, try_update_in);
	fuzz_in = up;
	mutate_walk(cur, cur, try_update_cur);
	json_decref(up);
	json_decref(cur);
	json_decref(in);
	json_decref(in2);
	json_decref(in3);
}
END_TEST

START_TEST(fs_desc_ost_count_units)
{
	json_t *d = J("{\"StorageCapacity\":0,\"StorageType\":\"SSD\","
	    "\"LustreConfiguration\":{\"DeploymentType\":\"SCRATCH_2\"}}");

	ck_assert_int_eq(fs_desc_ost_count(d), 1);
	json_decref(d);
	ck_assert_int_eq(fs_desc_ost_count(NULL), 1);
}
END_TEST

Suite *
fs_desc_suite(void)
{
	Suite *s = suite_create("fs_desc");
	TCase *c = tcase_create("create");
	TCase *u = tcase_create("update");

	tcase_add_test(c, fs_desc_create_scratch1_defaults);
	tcase_add_test(c, fs_desc_create_persistent_defaults);
	tcase_add_test(c, fs_desc_create_stable_network_ids);
	tcase_add_test(c, fs_desc_create_partitions);
	tcase_add_test(c, fs_desc_create_tags_echoed);
	tcase_add_test(c, fs_desc_create_type_and_subnets);
	tcase_add_test(c, fs_desc_create_capacity);
	tcase_add_test(c, fs_desc_create_capacity_increments);
	tcase_add_test(c, fs_desc_create_throughput);
	tcase_add_test(c, fs_desc_create_hdd);
	tcase_add_test(c, fs_desc_create_versions);
	tcase_add_test(c, fs_desc_create_metadata);
	tcase_add_test(c, fs_desc_create_efa);
	tcase_add_test(c, fs_desc_create_intelligent_tiering);
	tcase_add_test(c, fs_desc_create_log);
	tcase_add_test(c, fs_desc_create_root_squash);
	tcase_add_test(c, fs_desc_create_times);
	tcase_add_test(c, fs_desc_create_kms);
	tcase_add_test(c, fs_desc_create_legacy_link);
	tcase_add_test(c, fs_desc_create_misc);
	tcase_add_test(u, fs_desc_update_requires_available);
	tcase_add_test(u, fs_desc_update_capacity);
	tcase_add_test(u, fs_desc_update_capacity_in_progress_and_gap);
	tcase_add_test(u, fs_desc_update_metadata);
	tcase_add_test(u, fs_desc_update_version);
	tcase_add_test(u, fs_desc_update_throughput);
	tcase_add_test(u, fs_desc_update_free_members);
	tcase_add_test(u, fs_desc_update_noop);
	tcase_add_test(u, fs_desc_action_ordering_and_cap);
	tcase_add_test(u, fs_desc_action_keeps_open_entries);
	tcase_add_test(u, fs_desc_lifecycle_moves);
	tcase_add_test(u, fs_desc_ost_count_units);
	tcase_add_test(u, fs_desc_hostile_members);
	tcase_set_timeout(u, 60);
	suite_add_tcase(s, c);
	suite_add_tcase(s, u);
	return s;
}
