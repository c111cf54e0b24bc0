/*
 * The Lustre rules of CreateFileSystem and UpdateFileSystem (spec sections
 * 2, 4, 5, 6.1, 6.4) as pure functions over JSON, and the shape of the
 * FileSystem description (spec 6.1/6.3). api/api_fs.c owns the database,
 * idempotency, quotas, tags, jobs and lifecycle; everything here is
 * deterministic in its inputs (account, region, fs id, time).
 *
 * Decisions where the spec leaves the error code or behaviour open [I]:
 *
 *   case                                         answer
 *   -------------------------------------------  ---------------------------
 *   FileSystemType WINDOWS/ONTAP/OPENZFS         BadRequest (spec 9.20)
 *   SubnetIds count != 1                         InvalidNetworkSettings, with
 *                                                InvalidSubnetId = the first
 *                                                extra subnet
 *   StorageCapacity missing (SSD/HDD)            BadRequest
 *   StorageCapacity given with                   BadRequest (storage is
 *     INTELLIGENT_TIERING                        elastic; not returned)
 *   PerUnitStorageThroughput missing             BadRequest, AWS's observed
 *                                                "Invalid Lustre deployment
 *                                                configuration: ..." text
 *   PerUnitStorageThroughput outside the set     InvalidPerUnitStorage-
 *                                                Throughput
 *   PerUnitStorageThroughput not allowed         BadRequest
 *     (scratch, IT), or changed where it can't
 *   KmsKeyId on scratch                          BadRequest
 *   bad / foreign-bucket ImportPath, ExportPath  InvalidImportPath /
 *                                                InvalidExportPath
 *   ExportPath/ImportedFileChunkSize/            BadRequest
 *     AutoImportPolicy without ImportPath
 *   EfaEnabled without PERSISTENT_2 + metadata   BadRequest
 *   NetworkType DUAL                             BadRequest (IPV4 accepted,
 *                                                echoed when given)
 *   USER_PROVISIONED without Iops (create)       the automatic value for the
 *                                                capacity (IT: 6000)
 *   INTELLIGENT_TIERING without metadata conf.   BadRequest (USER_PROVISIONED
 *                                                is required)
 *   any UpdateFileSystem rule broken             BadRequest (never
 *                                                UnsupportedOperation)
 *   UpdateFileSystem with nothing to change      success, no-op (Terraform
 *     (empty request or unchanged values)        resends unchanged values and
 *                                                empty LustreConfiguration);
 *                                                MissingFileSystemConfiguration
 *                                                is never returned
 *   StorageType/NetworkType on update            BadRequest unless equal to
 *                                                the current value (no-op)
 *   update while not AVAILABLE                   BadRequest
 *
 * Shape decisions: Tags echo the request's list in order and are omitted
 * when none were given; CopyTagsToBackups (false) and DataCompressionType
 * (NONE) and LogConfiguration ({Level: DISABLED}) are always returned;
 * AutomaticBackupRetentionDays (0 by default) only on persistent types,
 * DailyAutomaticBackupStartTime when given or when retention > 0;
 * EfaEnabled only when true; NetworkType only when given.
 *
 * Administrative actions: every accepted UpdateFileSystem prepends one
 * FILE_SYSTEM_UPDATE. TargetFileSystemValues holds every value the request
 * changed (omitted for a no-op). When the request changes StorageCapacity,
 * PerUnitStorageThroughput or ThroughputCapacity, those wait for the job
 * runner (Status PENDING, fs_desc_apply_target() later); every other change
 * is applied at once and, without server-backed changes, the entry is
 * COMPLETED at once. The minimum gap between storage increases (and
 * metadata IOPS increases) counts from the RequestTime of the last entry
 * that raised them and did not fail.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "api.h"
#include "api_fs_desc.h"
#include "core/util.h"

#define FD_ACTIONS_PER_TYPE	10
#define FD_FSU			"FILE_SYSTEM_UPDATE"
#define FD_OPT			"STORAGE_OPTIMIZATION"
#define FD_UINT_MAX		4294967294LL	/* RootSquash id max */
#define FD_IT_UNIT		4000		/* MBps per IT step */
#define FD_PUT_MISSING	"Invalid Lustre deployment configuration: the " \
	"provided throughput is invalid or does not meet the storage " \
	"capacity requirement"
#define FD_P2_LINK	"Linking a Persistent 2 file system to an S3 " \
	"bucket using the LustreConfiguration is not supported. Create a " \
	"file system " \
	"and then create a data repository association to link your Amazon " \
	"FSx for Lustre file system to your S3 bucket."

static const long long fd_put_p1_ssd[] = { 50, 100, 200, 0 };
static const long long fd_put_p1_hdd[] = { 12, 40, 0 };
static const long long fd_put_p2_ssd[] = { 125, 250, 500, 1000, 0 };

/* --- small helpers ------------------------------------------------------ */

static int
fd_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int
fd_is_scratch(const char *deploy)
{
	return fd_eq(deploy, "SCRATCH_1") || fd_eq(deploy, "SCRATCH_2");
}

static double
fd_ms(double t)
{
	return floor(t * 1000.0 + 0.5) / 1000.0;
}

static void
fd_iso(double t, char *buf, size_t n)
{
	time_t tt;
	struct tm tm;

	/* stored times may be anything: stay within what time_t holds */
	if (!(t >= 0))
		t = 0;
	if (t > 253402300799.0)		/* 9999-12-31T23:59:59Z */
		t = 253402300799.0;
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fd_hash(uint8_t out[SHA256_DIGEST_LENGTH], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fd_hash(uint8_t out[SHA256_DIGEST_LENGTH], const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	SHA256((const unsigned char *)buf, (size_t)n, out);
}

/* prefix + 17 hex digits of h (buf >= strlen(prefix) + 18) */
static void
fd_hex17(char *buf, size_t n, const char *prefix,
    const uint8_t h[SHA256_DIGEST_LENGTH])
{
	char hx[2 * 9 + 1];

	hex_encode(h, 9, hx);
	hx[17] = '\0';
	snprintf(buf, n, "%s%s", prefix, hx);
}

/*
 * Lifecycles: the model's FileSystemLifecycle (DataRepositoryLifecycle is
 * a subset). Descriptions hold the names; code compares enum values.
 */
enum fd_lc {
	FD_LC_UNKNOWN = -1,
	FD_LC_CREATING,
	FD_LC_AVAILABLE,
	FD_LC_UPDATING,
	FD_LC_DELETING,
	FD_LC_FAILED,
	FD_LC_MISCONFIGURED,
	FD_LC_MISCONFIGURED_UNAVAILABLE,
	FD_LC__COUNT
};

static const char *const fd_lc_names[FD_LC__COUNT] = {
	[FD_LC_CREATING] = "CREATING",
	[FD_LC_AVAILABLE] = "AVAILABLE",
	[FD_LC_UPDATING] = "UPDATING",
	[FD_LC_DELETING] = "DELETING",
	[FD_LC_FAILED] = "FAILED",
	[FD_LC_MISCONFIGURED] = "MISCONFIGURED",
	[FD_LC_MISCONFIGURED_UNAVAILABLE] = "MISCONFIGURED_UNAVAILABLE",
};

static enum fd_lc
fd_lc_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < FD_LC__COUNT; i++)
		if (strcmp(s, fd_lc_names[i]) == 0)
			return (enum fd_lc)i;
	return FD_LC_UNKNOWN;
}

static const char *
fd_json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long
fd_json_int(const json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static void
fd_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v));
}

/*
 * Request members. fs_desc_create() and fs_desc_update() run after
 * api_validate() has checked `in` against the model, so a member that is
 * present has the model's JSON type; these only read. Each sets *v (NULL
 * or 0 when the member is absent or null) and returns 1 when present.
 */
static json_t *
fd_member(const json_t *o, const char *key)
{
	json_t *m;

	if (!json_is_object(o))
		return NULL;
	m = json_object_get(o, key);
	return json_is_null(m) ? NULL : m;
}

static int
fd_str(const json_t *o, const char *key, const char **v)
{
	json_t *m = fd_member(o, key);

	*v = json_string_value(m);
	return m != NULL;
}

static int
fd_int(const json_t *o, const char *key, long long *v)
{
	json_t *m = fd_member(o, key);

	*v = (long long)json_integer_value(m);
	return m != NULL;
}

static int
fd_bool(const json_t *o, const char *key, int *v)
{
	json_t *m = fd_member(o, key);

	*v = json_is_true(m);
	return m != NULL;
}

/* An object or list member. */
static int
fd_val(const json_t *o, const char *key, const json_t **v)
{
	json_t *m = fd_member(o, key);

	*v = m;
	return m != NULL;
}

/* --- public small pieces ------------------------------------------------ */

const char *
fs_desc_partition(const char *region)
{
	if (region == NULL)
		return "aws";
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	if (strncmp(region, "us-isob-", 8) == 0)
		return "aws-iso-b";
	if (strncmp(region, "us-iso-", 7) == 0)
		return "aws-iso";
	return "aws";
}

void
fs_desc_arn(char *buf, size_t n, const char *partition, const char *region,
    const char *account, const char *fs_id)
{
	snprintf(buf, n, "arn:%s:fsx:%s:%s:file-system/%s", partition, region,
	    account, fs_id);
}

long long
fs_desc_auto_iops(long long cap)
{
	long long v;

	if (cap > 16 * 24000LL)
		return 192000;
	if (cap <= 1200)
		return 1500;
	if (cap <= 2400)
		return 3000;
	if (cap <= 9600)
		return 6000;
	if (cap <= 45600)
		return 12000;
	v = (cap + 23999) / 24000 * 12000;
	return v > 192000 ? 192000 : v;
}

/* Valid metadata IOPS: SSD 1500, 3000, 6000, 12000, n x 12000 <= 192000;
 * INTELLIGENT_TIERING 6000, 12000. */
static int
fd_iops_valid(long long iops, int it)
{
	if (it)
		return iops == 6000 || iops == 12000;
	if (iops == 1500 || iops == 3000 || iops == 6000)
		return 1;
	return iops >= 12000 && iops <= 192000 && iops % 12000 == 0;
}

static const long long *
fd_put_set(const char *deploy, const char *stype)
{
	if (fd_eq(deploy, "PERSISTENT_1") && fd_eq(stype, "SSD"))
		return fd_put_p1_ssd;
	if (fd_eq(deploy, "PERSISTENT_1") && fd_eq(stype, "HDD"))
		return fd_put_p1_hdd;
	if (fd_eq(deploy, "PERSISTENT_2") && fd_eq(stype, "SSD"))
		return fd_put_p2_ssd;
	return NULL;
}

static int
fd_in_set(const long long *set, long long v)
{
	for (; *set != 0; set++)
		if (*set == v)
			return 1;
	return 0;
}

static void
fd_set_text(const long long *set, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; set[i] != 0 && off < n; i++) {
		int w = snprintf(buf + off, n - off, "%s%lld",
		    i == 0 ? "" : ", ", set[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* The capacity unit (GiB) of one OST and of capacity increases. */
static long long
fd_cap_unit(const char *deploy, const char *stype, long long put)
{
	if (fd_eq(stype, "HDD"))
		return put == 40 ? 1800 : 6000;
	(void)deploy;
	return 2400;
}

int
fs_desc_ost_count(const json_t *desc)
{
	const json_t *lc = json_object_get(desc, "LustreConfiguration");
	const char *stype = fd_json_str(desc, "StorageType");
	const char *deploy = fd_json_str(lc, "DeploymentType");
	long long cap = fd_json_int(desc, "StorageCapacity", 0);
	long long unit, n;

	if (fd_eq(stype, "INTELLIGENT_TIERING")) {
		n = fd_json_int(lc, "ThroughputCapacity", 0) / FD_IT_UNIT;
	} else {
		if (fd_eq(stype, "HDD"))
			unit = fd_cap_unit(deploy, stype,
			    fd_json_int(lc, "PerUnitStorageThroughput", 12));
		else
			unit = 1200;
		n = cap > 0 ? cap / unit + (cap % unit != 0) : 0;
	}
	if (n < 1)
		n = 1;
	if (n > 1000000)
		n = 1000000;
	return (int)n;
}

/* --- formats ------------------------------------------------------------ */

/* A decimal number of 1..10 digits at *sp, <= max; advances *sp. */
static int
fd_num(const char **sp, long long max, long long *out)
{
	const char *s = *sp;
	long long v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 10)
			return -1;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (n == 0 || v > max)
		return -1;
	*out = v;
	*sp = s;
	return 0;
}

/* UID:GID, each 0..4294967294 */
static int
fd_root_squash_valid(const char *s)
{
	long long u, g;

	if (fd_num(&s, FD_UINT_MAX, &u) < 0 || *s++ != ':')
		return 0;
	if (fd_num(&s, FD_UINT_MAX, &g) < 0)
		return 0;
	return *s == '\0';
}

/* One address part of a NID: 0-255, or [a-b] with a <= b <= 255. */
static int
fd_nid_part(const char **sp)
{
	long long a, b;

	if (**sp != '[')
		return fd_num(sp, 255, &a);
	(*sp)++;
	if (fd_num(sp, 255, &a) < 0 || **sp != '-')
		return -1;
	(*sp)++;
	if (fd_num(sp, 255, &b) < 0 || **sp != ']' || a > b)
		return -1;
	(*sp)++;
	return 0;
}

/* 10.0.1.6@tcp or 10.0.[2-10].[1-255]@tcp */
static int
fd_nid_valid(const char *s)
{
	for (int i = 0; i < 4; i++) {
		if (fd_nid_part(&s) < 0)
			return 0;
		if (i < 3 && *s++ != '.')
			return 0;
	}
	return strcmp(s, "@tcp") == 0;
}

/*
 * s3://bucket[/prefix] with a valid bucket name (3-63 chars of [a-z0-9.-],
 * starting and ending with a letter or digit, no "..", not an IPv4
 * address). Copies the bucket; 0 or -EINVAL.
 */
static int
fd_s3_path(const char *path, char *bucket, size_t blen)
{
	const char *b, *e;
	size_t n;
	int dots = 0, digits_only = 1;

	if (strncmp(path, "s3://", 5) != 0)
		return -EINVAL;
	b = path + 5;
	e = strchr(b, '/');
	n = e != NULL ? (size_t)(e - b) : strlen(b);
	if (n < 3 || n > 63 || n >= blen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];

		if (c == '.') {
			dots++;
			if (i > 0 && b[i - 1] == '.')
				return -EINVAL;
		} else if (c >= '0' && c <= '9') {
			;
		} else if ((c >= 'a' && c <= 'z') || c == '-') {
			digits_only = 0;
		} else {
			return -EINVAL;
		}
	}
	if (b[0] == '.' || b[0] == '-' || b[n - 1] == '.' || b[n - 1] == '-')
		return -EINVAL;
	if (dots == 3 && digits_only)
		return -EINVAL;
	for (const char *p = e; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	memcpy(bucket, b, n);
	bucket[n] = '\0';
	return 0;
}

/* Log group names: 1-512 of [A-Za-z0-9._/#-], starting with /aws/fsx. */
static int
fd_log_group_valid(const char *name, size_t n)
{
	if (n < 8 || n > 512 || strncmp(name, "/aws/fsx", 8) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '/' || c == '#' || c == '-'))
			return 0;
	}
	return 1;
}

/* --- shared member checks (create and update) --------------------------- */

/*
 * LogConfiguration -> the description's LustreLogConfiguration (new
 * reference), or NULL with err set. log == NULL gives {Level: DISABLED}.
 */
static json_t *
fd_log_conf(const json_t *log, const char *part, const char *region,
    const char *acct, struct api_error *err)
{
	const char *level = NULL, *dest = NULL;
	char prefix[256], dflt[320];
	json_t *o;
	size_t plen, n;

	fd_str(log, "Level", &level);
	fd_str(log, "Destination", &dest);
	if (level == NULL)
		level = "DISABLED";
	o = json_object();
	fd_set_str(o, "Level", level);
	if (fd_eq(level, "DISABLED")) {
		if (dest != NULL) {
			json_decref(o);
			return api_fail(err, API_E_BAD_REQUEST,
			    "LogConfiguration Destination cannot be specified "
			    "when Level is DISABLED");
		}
		return o;
	}
	snprintf(prefix, sizeof(prefix), "arn:%s:logs:%s:%s:log-group:", part,
	    region, acct);
	if (dest == NULL) {
		snprintf(dflt, sizeof(dflt), "%s/aws/fsx/lustre", prefix);
		fd_set_str(o, "Destination", dflt);
		return o;
	}
	plen = strlen(prefix);
	n = strlen(dest);
	if (strncmp(dest, prefix, plen) != 0)
		goto bad;
	n -= plen;
	if (n >= 2 && strcmp(dest + plen + n - 2, ":*") == 0)
		n -= 2;
	if (!fd_log_group_valid(dest + plen, n))
		goto bad;
	fd_set_str(o, "Destination", dest);
	return o;
bad:
	json_decref(o);
	return api_fail(err, API_E_BAD_REQUEST,
	    "Invalid LogConfiguration Destination: %s. It must be the ARN of a "
	    "CloudWatch Logs log group in account %s and region %s whose name "
	    "begins with /aws/fsx", dest, acct, region);
}

/* RootSquashConfiguration -> a checked copy (new reference) or NULL. */
static json_t *
fd_squash_conf(const json_t *sq, struct api_error *err)
{
	const char *rs;
	const json_t *nids;
	json_t *o, *list, *v;
	size_t i;

	fd_str(sq, "RootSquash", &rs);
	fd_val(sq, "NoSquashNids", &nids);
	if (rs != NULL && !fd_root_squash_valid(rs))
		return api_fail(err, API_E_BAD_REQUEST,
		    "Invalid RootSquash: %s. It must be UID:GID with each "
		    "between 0 and 4294967294", rs);
	json_array_foreach(nids, i, v) {
		if (!fd_nid_valid(json_string_value(v)))
			return api_fail(err, API_E_BAD_REQUEST,
			    "Invalid NoSquashNids entry: %s. Entries look like "
			    "10.0.1.6@tcp or 10.0.[2-10].[1-255]@tcp",
			    json_string_value(v));
	}
	o = json_object();
	if (rs != NULL)
		fd_set_str(o, "RootSquash", rs);
	if (nids != NULL) {
		list = json_array();
		json_array_foreach(nids, i, v)
			json_array_append(list, v);
		json_object_set_new(o, "NoSquashNids", list);
	}
	return o;
}

/*
 * DataReadCacheConfiguration of an IT file system with throughput tc ->
 * checked copy (new reference) or NULL.
 */
static json_t *
fd_cache_conf(const json_t *c, long long tc, struct api_error *err)
{
	const char *mode;
	long long size, units;
	int has_size;
	json_t *o;

	if (tc > 2000000)	/* the model's maximum */
		tc = 2000000;
	units = tc / FD_IT_UNIT;
	fd_str(c, "SizingMode", &mode);
	has_size = fd_int(c, "SizeGiB", &size);
	if (mode == NULL)
		return api_fail(err, API_E_BAD_REQUEST,
		    "DataReadCacheConfiguration SizingMode is required");
	if (fd_eq(mode, "USER_PROVISIONED")) {
		if (!has_size)
			return api_fail(err, API_E_BAD_REQUEST,
			    "DataReadCacheConfiguration SizeGiB is required "
			    "when SizingMode is USER_PROVISIONED");
		if (units < 1)
			units = 1;
		if (size < 32 * units || size > 131072 * units)
			return api_fail(err, API_E_BAD_REQUEST,
			    "Invalid DataReadCacheConfiguration SizeGiB: %lld. "
			    "For a ThroughputCapacity of %lld MBps it must be "
			    "between %lld and %lld GiB", size, tc, 32 * units,
			    131072 * units);
	} else if (has_size) {
		return api_fail(err, API_E_BAD_REQUEST,
		    "DataReadCacheConfiguration SizeGiB can only be specified "
		    "when SizingMode is USER_PROVISIONED");
	}
	o = json_object();
	fd_set_str(o, "SizingMode", mode);
	if (has_size)
		json_object_set_new(o, "SizeGiB", json_integer(size));
	return o;
}

/* Deterministic defaults derived from the file system id. */
static void
fd_default_weekly(const char *fs_id, char *buf, size_t n)
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	fd_hash(h, "weekly|%s", fs_id);
	snprintf(buf, n, "%d:%02d:%02d", 1 + h[0] % 7, h[1] % 24,
	    (h[2] % 2) * 30);
}

static void
fd_default_daily(const char *fs_id, char *buf, size_t n)
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	fd_hash(h, "daily|%s", fs_id);
	snprintf(buf, n, "%02d:%02d", h[0] % 24, (h[1] % 2) * 30);
}

/* --- CreateFileSystem --------------------------------------------------- */

struct fd_create {
	const char	*fstype, *stype, *version, *kms, *net;
	long long	 cap;
	int		 has_cap;
	const json_t	*subnets, *tags, *lc;
	const char	*deploy, *weekly, *daily, *import, *export, *aip;
	const char	*dct, *dcache;
	long long	 put, chunk, retention, tc;
	int		 has_put, has_chunk, has_retention, has_tc;
	int		 copy_tags, has_copy_tags, efa, has_efa;
	const json_t	*log, *squash, *meta, *cache;
};

static void
fd_create_parse(const json_t *in, struct fd_create *c)
{
	const json_t *lc;

	memset(c, 0, sizeof(*c));
	fd_str(in, "FileSystemType", &c->fstype);
	fd_str(in, "StorageType", &c->stype);
	fd_str(in, "FileSystemTypeVersion", &c->version);
	fd_str(in, "KmsKeyId", &c->kms);
	fd_str(in, "NetworkType", &c->net);
	fd_val(in, "SubnetIds", &c->subnets);
	fd_val(in, "Tags", &c->tags);
	fd_val(in, "LustreConfiguration", &c->lc);
	c->has_cap = fd_int(in, "StorageCapacity", &c->cap);
	lc = c->lc;
	fd_str(lc, "DeploymentType", &c->deploy);
	fd_str(lc, "WeeklyMaintenanceStartTime", &c->weekly);
	fd_str(lc, "DailyAutomaticBackupStartTime", &c->daily);
	fd_str(lc, "ImportPath", &c->import);
	fd_str(lc, "ExportPath", &c->export);
	fd_str(lc, "AutoImportPolicy", &c->aip);
	fd_str(lc, "DataCompressionType", &c->dct);
	fd_str(lc, "DriveCacheType", &c->dcache);
	fd_val(lc, "LogConfiguration", &c->log);
	fd_val(lc, "RootSquashConfiguration", &c->squash);
	fd_val(lc, "MetadataConfiguration", &c->meta);
	fd_val(lc, "DataReadCacheConfiguration", &c->cache);
	c->has_put = fd_int(lc, "PerUnitStorageThroughput", &c->put);
	c->has_chunk = fd_int(lc, "ImportedFileChunkSize", &c->chunk);
	c->has_retention = fd_int(lc, "AutomaticBackupRetentionDays",
	    &c->retention);
	c->has_tc = fd_int(lc, "ThroughputCapacity", &c->tc);
	c->has_copy_tags = fd_bool(lc, "CopyTagsToBackups",
	    &c->copy_tags);
	c->has_efa = fd_bool(lc, "EfaEnabled", &c->efa);
}

/* Deployment type, storage type, capacity, throughput, drive cache. */
static int
fd_create_storage(struct fd_create *c, struct api_error *err)
{
	const long long *set;
	char sets[64];
	int it = fd_eq(c->stype, "INTELLIGENT_TIERING");

	if ((fd_eq(c->stype, "HDD") && !fd_eq(c->deploy, "PERSISTENT_1")) ||
	    (it && !fd_eq(c->deploy, "PERSISTENT_2"))) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid Lustre deployment configuration: storage type %s "
		    "is not supported with deployment type %s", c->stype,
		    c->deploy);
		return -1;
	}

	/* PerUnitStorageThroughput: before capacity, HDD units depend on it */
	set = fd_put_set(c->deploy, c->stype);
	if (set == NULL && c->has_put) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid Lustre deployment configuration: "
		    "PerUnitStorageThroughput is not supported for %s%s", it ?
		    "INTELLIGENT_TIERING storage; use ThroughputCapacity" :
		    c->deploy, it ? "" : " file systems");
		return -1;
	}
	if (set != NULL && !c->has_put) {
		api_fail(err, API_E_BAD_REQUEST, "%s", FD_PUT_MISSING);
		return -1;
	}
	if (set != NULL && !fd_in_set(set, c->put)) {
		fd_set_text(set, sets, sizeof(sets));
		api_fail(err, API_E_INVALID_PER_UNIT_THROUGHPUT,
		    "Invalid PerUnitStorageThroughput: %lld. Valid values for "
		    "%s %s storage are %s MB/s/TiB", c->put, c->deploy,
		    c->stype, sets);
		return -1;
	}

	/* StorageCapacity */
	if (it) {
		if (c->has_cap) {
			api_fail(err, API_E_BAD_REQUEST,
			    "StorageCapacity is not supported with "
			    "INTELLIGENT_TIERING storage; its storage is "
			    "elastic");
			return -1;
		}
	} else if (!c->has_cap) {
		api_fail(err, API_E_BAD_REQUEST,
		    "StorageCapacity is required for Lustre file systems with "
		    "%s storage", c->stype);
		return -1;
	} else if (fd_eq(c->stype, "HDD")) {
		long long unit = fd_cap_unit(c->deploy, c->stype, c->put);

		if (c->cap <= 0 || c->cap % unit != 0) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Invalid Lustre FS storage capacity: %lld. Must be "
			    "a multiple of %lld for HDD storage with %lld "
			    "MB/s/TiB.", c->cap, unit, c->put);
			return -1;
		}
	} else if (fd_eq(c->deploy, "SCRATCH_1")) {
		if (c->cap != 1200 && c->cap != 2400 &&
		    (c->cap <= 0 || c->cap % 3600 != 0)) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Invalid Lustre FS storage capacity: %lld. Must be "
			    "1200, 2400 or a multiple of 3600.", c->cap);
			return -1;
		}
	} else if (c->cap != 1200 && (c->cap <= 0 || c->cap % 2400 != 0)) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid Lustre FS storage capacity: %lld. Must be 1200 or "
		    "a multiple of 2400.", c->cap);
		return -1;
	}

	/* DriveCacheType */
	if (fd_eq(c->stype, "HDD")) {
		if (c->dcache == NULL) {
			api_fail(err, API_E_BAD_REQUEST,
			    "DriveCacheType is required for HDD storage; valid "
			    "values are NONE and READ");
			return -1;
		}
	} else if (c->dcache != NULL) {
		api_fail(err, API_E_BAD_REQUEST,
		    "DriveCacheType is only supported with HDD storage");
		return -1;
	}

	/* Intelligent-Tiering throughput and read cache */
	if (!it) {
		if (c->has_tc || c->cache != NULL) {
			api_fail(err, API_E_BAD_REQUEST, "%s is only supported "
			    "with INTELLIGENT_TIERING storage", c->has_tc ?
			    "ThroughputCapacity" :
			    "DataReadCacheConfiguration");
			return -1;
		}
		return 0;
	}
	if (!c->has_tc) {
		api_fail(err, API_E_BAD_REQUEST, "ThroughputCapacity is "
		    "required for INTELLIGENT_TIERING storage");
		return -1;
	}
	if (c->tc < FD_IT_UNIT || c->tc > 2000000 || c->tc % FD_IT_UNIT != 0) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid ThroughputCapacity: %lld. Must be 4000 or a "
		    "multiple of 4000 MBps, up to 2000000", c->tc);
		return -1;
	}
	if (c->cache == NULL) {
		api_fail(err, API_E_BAD_REQUEST, "DataReadCacheConfiguration "
		    "is required for INTELLIGENT_TIERING storage");
		return -1;
	}
	return 0;
}

/* Version, metadata configuration and EFA; fills *iops and *version. */
static int
fd_create_meta(struct fd_create *c, long long *iops, const char **mode,
    struct api_error *err)
{
	int it = fd_eq(c->stype, "INTELLIGENT_TIERING");
	int p2 = fd_eq(c->deploy, "PERSISTENT_2");
	long long req;
	int has_iops;

	*iops = 0;
	*mode = NULL;
	if (c->version != NULL && !fd_eq(c->version, "2.10") &&
	    !fd_eq(c->version, "2.12") && !fd_eq(c->version, "2.15")) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid FileSystemTypeVersion: %s. Valid values are 2.10, "
		    "2.12 and 2.15", c->version);
		return -1;
	}
	if (p2 && fd_eq(c->version, "2.10")) {
		api_fail(err, API_E_BAD_REQUEST, "FileSystemTypeVersion 2.10 "
		    "is not supported with deployment type PERSISTENT_2; use "
		    "2.12 or 2.15");
		return -1;
	}
	if (c->meta == NULL) {
		if (it) {
			api_fail(err, API_E_BAD_REQUEST,
			    "MetadataConfiguration with Mode USER_PROVISIONED "
			    "is required for "
			    "INTELLIGENT_TIERING storage");
			return -1;
		}
		if (c->has_efa && c->efa) {
			api_fail(err, API_E_BAD_REQUEST, "EfaEnabled requires "
			    "deployment type PERSISTENT_2 with a "
			    "MetadataConfiguration");
			return -1;
		}
		if (c->version == NULL)
			c->version = p2 ? "2.12" : "2.10";
		return 0;
	}
	if (!p2) {
		api_fail(err, API_E_BAD_REQUEST, "MetadataConfiguration is "
		    "only supported with deployment type PERSISTENT_2");
		return -1;
	}
	fd_str(c->meta, "Mode", mode);
	has_iops = fd_int(c->meta, "Iops", &req);
	if (fd_eq(*mode, "AUTOMATIC")) {
		if (it) {
			api_fail(err, API_E_BAD_REQUEST,
			    "MetadataConfiguration Mode AUTOMATIC is not "
			    "supported with INTELLIGENT_TIERING storage; use "
			    "USER_PROVISIONED");
			return -1;
		}
		if (has_iops) {
			api_fail(err, API_E_BAD_REQUEST, "Iops cannot be "
			    "specified when MetadataConfiguration Mode is "
			    "AUTOMATIC");
			return -1;
		}
		*iops = fs_desc_auto_iops(c->cap);
	} else {		/* USER_PROVISIONED */
		if (!has_iops)
			req = it ? 6000 : fs_desc_auto_iops(c->cap);
		if (!fd_iops_valid(req, it)) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Invalid metadata Iops: %lld. Valid values are %s",
			    req, it ? "6000 and 12000 for INTELLIGENT_TIERING "
			    "storage" : "1500, 3000, 6000, 12000 and multiples "
			    "of 12000 up to 192000");
			return -1;
		}
		if (!it && req < fs_desc_auto_iops(c->cap)) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Metadata Iops %lld are too low for a storage "
			    "capacity of %lld GiB; the minimum is %lld", req,
			    c->cap, fs_desc_auto_iops(c->cap));
			return -1;
		}
		*iops = req;
	}
	if (c->version == NULL)
		c->version = "2.15";
	if (!fd_eq(c->version, "2.15")) {
		api_fail(err, API_E_BAD_REQUEST, "MetadataConfiguration "
		    "requires FileSystemTypeVersion 2.15");
		return -1;
	}
	return 0;
}

/* KmsKeyId -> a key ARN in buf; 0 or -1 with err set. */
static int
fd_create_kms(const struct fd_create *c, const struct fs_desc_ctx *cx,
    char *buf, size_t n, struct api_error *err)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char hx[33];
	const char *k = c->kms;

	buf[0] = '\0';
	if (fd_is_scratch(c->deploy)) {
		if (k != NULL) {
			api_fail(err, API_E_BAD_REQUEST, "KmsKeyId is not "
			    "supported for %s file systems; scratch file "
			    "systems are encrypted with a key owned by Amazon "
			    "FSx", c->deploy);
			return -1;
		}
		return 0;
	}
	if (k == NULL) {
		fd_hash(h, "kms|%s|%s|%s", cx->partition, cx->region,
		    cx->account);
		hex_encode(h, 16, hx);
		hx[12] = '4';			/* UUID version 4 */
		hx[16] = "89ab"[h[8] & 3];	/* RFC 4122 variant */
		snprintf(buf, n, "arn:%s:kms:%s:%s:key/"
		    "%.8s-%.4s-%.4s-%.4s-%.12s", cx->partition, cx->region,
		    cx->account, hx, hx + 8, hx + 12, hx + 16, hx + 20);
		return 0;
	}
	if (strncmp(k, "arn:", 4) == 0) {
		const char *svc = strchr(k + 4, ':');

		if (svc == NULL || strncmp(svc, ":kms:", 5) != 0 ||
		    strlen(k) >= n)
			goto bad;
		snprintf(buf, n, "%s", k);
		return 0;
	}
	if (strncmp(k, "alias/", 6) == 0) {
		if (k[6] == '\0' || strlen(k) > 256)
			goto bad;
		snprintf(buf, n, "arn:%s:kms:%s:%s:%s", cx->partition,
		    cx->region, cx->account, k);
		return 0;
	}
	if (strlen(k) > 128 || k[0] == '\0')
		goto bad;
	for (const char *p = k; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			goto bad;
	snprintf(buf, n, "arn:%s:kms:%s:%s:key/%s", cx->partition, cx->region,
	    cx->account, k);
	return 0;
bad:
	api_fail(err, API_E_BAD_REQUEST, "Invalid KmsKeyId: %s. Give a key "
	    "id, a key ARN, an alias name (alias/...) or an alias ARN", k);
	return -1;
}

/*
 * The legacy S3 link (spec 4.5): builds DataRepositoryConfiguration into
 * *drc (NULL when unlinked). 0 or -1 with err set.
 */
static int
fd_create_link(const struct fd_create *c, double ctime, json_t **drc,
    struct api_error *err)
{
	char ib[64], eb[64], exp[128];
	struct tm tm;
	time_t tt = (time_t)(ctime >= 0 && ctime < 253402300799.0 ? ctime : 0);
	int any = c->import != NULL || c->export != NULL || c->has_chunk ||
	    c->aip != NULL;

	*drc = NULL;
	if (!any)
		return 0;
	if (fd_eq(c->deploy, "PERSISTENT_2")) {
		api_fail(err, API_E_BAD_REQUEST, "%s", FD_P2_LINK);
		return -1;
	}
	if (c->import == NULL) {
		api_fail(err, API_E_BAD_REQUEST, "%s requires ImportPath",
		    c->export != NULL ? "ExportPath" : c->has_chunk ?
		    "ImportedFileChunkSize" : "AutoImportPolicy");
		return -1;
	}
	if (fd_s3_path(c->import, ib, sizeof(ib)) < 0) {
		api_fail(err, API_E_INVALID_IMPORT_PATH, "The import path %s "
		    "is not valid. It must be of the form s3://bucket[/prefix] "
		    "with a valid S3 bucket name", c->import);
		return -1;
	}
	if (c->export != NULL) {
		if (fd_s3_path(c->export, eb, sizeof(eb)) < 0) {
			api_fail(err, API_E_INVALID_EXPORT_PATH, "The export "
			    "path %s is not valid. It must be of the form "
			    "s3://bucket[/prefix] with a valid S3 bucket name",
			    c->export);
			return -1;
		}
		if (strcmp(ib, eb) != 0) {
			api_fail(err, API_E_INVALID_EXPORT_PATH, "The export "
			    "path %s must be in the same S3 bucket as the "
			    "import path (%s)", c->export, ib);
			return -1;
		}
	}
	gmtime_r(&tt, &tm);
	snprintf(exp, sizeof(exp),
	    "s3://%s/FSxLustre%04d%02d%02dT%02d%02d%02dZ", ib,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	*drc = json_object();
	fd_set_str(*drc, "Lifecycle", fd_lc_names[FD_LC_CREATING]);
	fd_set_str(*drc, "ImportPath", c->import);
	fd_set_str(*drc, "ExportPath", c->export != NULL ? c->export : exp);
	json_object_set_new(*drc, "ImportedFileChunkSize",
	    json_integer(c->has_chunk ? c->chunk : 1024));
	fd_set_str(*drc, "AutoImportPolicy", c->aip != NULL ? c->aip : "NONE");
	return 0;
}

/* Backups, maintenance window, compression, network type, EFA. */
static int
fd_create_misc(const struct fd_create *c, int linked, struct api_error *err)
{
	int scratch = fd_is_scratch(c->deploy);

	if (scratch && ((c->has_retention && c->retention > 0) ||
	    c->daily != NULL || (c->has_copy_tags && c->copy_tags))) {
		api_fail(err, API_E_BAD_REQUEST, "Backups are not supported "
		    "for %s file systems; AutomaticBackupRetentionDays, "
		    "DailyAutomaticBackupStartTime and CopyTagsToBackups do "
		    "not apply", c->deploy);
		return -1;
	}
	if (linked && c->has_retention && c->retention > 0) {
		api_fail(err, API_E_BAD_REQUEST, "Automatic backups are not "
		    "supported for file systems linked to an S3 bucket with "
		    "ImportPath");
		return -1;
	}
	if (c->net != NULL && !fd_eq(c->net, "IPV4")) {
		api_fail(err, API_E_BAD_REQUEST, "NetworkType %s is not "
		    "supported for Lustre file systems; use IPV4", c->net);
		return -1;
	}
	return 0;
}

static int
fd_create_subnets(const struct fd_create *c, struct api_error *err)
{
	size_t n = json_array_size(c->subnets);
	json_t *s;

	if (n != 1) {
		api_fail(err, API_E_INVALID_NETWORK_SETTINGS, "Lustre file "
		    "systems require exactly one subnet; %zu were given", n);
		s = json_array_get(c->subnets, 1);
		if (s != NULL)
			api_error_set(err, "InvalidSubnetId",
			    json_string(json_string_value(s)));
		return -1;
	}
	return 0;
}

json_t *
fs_desc_create(const json_t *in, const struct fs_desc_ctx *cx,
    struct api_error *err)
{
	struct fd_create c;
	uint8_t h[SHA256_DIGEST_LENGTH];
	char buf[512], kms[2100], weekly[16], daily[16];
	const char *subnet, *mode;
	json_t *d = NULL, *lc = NULL, *log = NULL, *squash = NULL;
	json_t *cache = NULL, *drc = NULL, *enis, *m;
	double ctime = fd_ms(cx->now);
	long long iops;

	fd_create_parse(in, &c);
	if (!fd_eq(c.fstype, "LUSTRE"))
		return api_fail(err, API_E_BAD_REQUEST, "FileSystemType %s is "
		    "not supported: this emulator implements Amazon FSx for "
		    "Lustre only", c.fstype);
	if (fd_create_subnets(&c, err) < 0)
		return NULL;
	subnet = json_string_value(json_array_get(c.subnets, 0));
	if (c.deploy == NULL)
		c.deploy = "SCRATCH_1";
	if (c.stype == NULL)
		c.stype = "SSD";
	if (fd_create_storage(&c, err) < 0 ||
	    fd_create_meta(&c, &iops, &mode, err) < 0 ||
	    fd_create_kms(&c, cx, kms, sizeof(kms), err) < 0 ||
	    fd_create_link(&c, ctime, &drc, err) < 0 ||
	    fd_create_misc(&c, drc != NULL, err) < 0)
		goto fail;
	log = fd_log_conf(c.log, cx->partition, cx->region, cx->account, err);
	if (log == NULL)
		goto fail;
	if (c.squash != NULL) {
		squash = fd_squash_conf(c.squash, err);
		if (squash == NULL)
			goto fail;
	}
	if (c.cache != NULL) {
		cache = fd_cache_conf(c.cache, c.tc, err);
		if (cache == NULL)
			goto fail;
	}

	d = json_object();
	fd_set_str(d, "OwnerId", cx->account);
	json_object_set_new(d, "CreationTime", json_real(ctime));
	fd_set_str(d, "FileSystemId", cx->fs_id);
	fd_set_str(d, "FileSystemType", "LUSTRE");
	fd_set_str(d, "Lifecycle", fd_lc_names[FD_LC_CREATING]);
	if (c.has_cap)
		json_object_set_new(d, "StorageCapacity", json_integer(c.cap));
	fd_set_str(d, "StorageType", c.stype);
	fd_hash(h, "vpc|%s", subnet);
	fd_hex17(buf, sizeof(buf), "vpc-", h);
	fd_set_str(d, "VpcId", buf);
	m = json_array();
	json_array_append_new(m, json_string(subnet));
	json_object_set_new(d, "SubnetIds", m);
	enis = json_array();
	for (int i = 0; i < 2; i++) {
		fd_hash(h, "eni|%s|%s|%d", subnet, cx->fs_id, i);
		fd_hex17(buf, sizeof(buf), "eni-", h);
		json_array_append_new(enis, json_string(buf));
	}
	json_object_set_new(d, "NetworkInterfaceIds", enis);
	snprintf(buf, sizeof(buf), "%s.fsx.%s.amazonaws.com%s", cx->fs_id,
	    cx->region, fd_eq(cx->partition, "aws-cn") ? ".cn" : "");
	fd_set_str(d, "DNSName", buf);
	if (kms[0] != '\0')
		fd_set_str(d, "KmsKeyId", kms);
	fs_desc_arn(buf, sizeof(buf), cx->partition, cx->region, cx->account,
	    cx->fs_id);
	fd_set_str(d, "ResourceARN", buf);
	if (c.tags != NULL)
		json_object_set_new(d, "Tags", json_deep_copy(c.tags));

	lc = json_object();
	if (c.weekly == NULL)
		fd_default_weekly(cx->fs_id, weekly, sizeof(weekly));
	else
		snprintf(weekly, sizeof(weekly), "%s", c.weekly);
	fd_set_str(lc, "WeeklyMaintenanceStartTime", weekly);
	if (drc != NULL) {
		json_object_set_new(lc, "DataRepositoryConfiguration", drc);
		drc = NULL;
	}
	fd_set_str(lc, "DeploymentType", c.deploy);
	if (c.has_put)
		json_object_set_new(lc, "PerUnitStorageThroughput",
		    json_integer(c.put));
	if (fd_eq(c.deploy, "SCRATCH_1")) {
		fd_set_str(lc, "MountName", "fsx");
	} else {
		fd_hash(h, "mount|%s|%s", cx->region, cx->fs_id);
		static const char b36[] =
		    "abcdefghijklmnopqrstuvwxyz0123456789";

		for (int i = 0; i < 8; i++)
			buf[i] = b36[h[i] % 36];
		buf[8] = '\0';
		fd_set_str(lc, "MountName", buf);
	}
	if (!fd_is_scratch(c.deploy)) {
		long long ret = c.has_retention ? c.retention : 0;

		if (c.daily != NULL || ret > 0) {
			if (c.daily == NULL)
				fd_default_daily(cx->fs_id, daily,
				    sizeof(daily));
			else
				snprintf(daily, sizeof(daily), "%s", c.daily);
			fd_set_str(lc, "DailyAutomaticBackupStartTime", daily);
		}
		json_object_set_new(lc, "AutomaticBackupRetentionDays",
		    json_integer(ret));
	}
	json_object_set_new(lc, "CopyTagsToBackups",
	    json_boolean(c.has_copy_tags && c.copy_tags));
	if (c.dcache != NULL)
		fd_set_str(lc, "DriveCacheType", c.dcache);
	fd_set_str(lc, "DataCompressionType", c.dct != NULL ? c.dct : "NONE");
	json_object_set_new(lc, "LogConfiguration", log);
	log = NULL;
	if (squash != NULL) {
		json_object_set_new(lc, "RootSquashConfiguration", squash);
		squash = NULL;
	}
	if (mode != NULL) {
		m = json_object();
		json_object_set_new(m, "Iops", json_integer(iops));
		fd_set_str(m, "Mode", mode);
		json_object_set_new(lc, "MetadataConfiguration", m);
	}
	if (c.has_efa && c.efa)
		json_object_set_new(lc, "EfaEnabled", json_true());
	if (c.has_tc)
		json_object_set_new(lc, "ThroughputCapacity",
		    json_integer(c.tc));
	if (cache != NULL) {
		json_object_set_new(lc, "DataReadCacheConfiguration", cache);
		cache = NULL;
	}
	json_object_set_new(d, "LustreConfiguration", lc);
	fd_set_str(d, "FileSystemTypeVersion", c.version);
	if (c.net != NULL)
		fd_set_str(d, "NetworkType", c.net);
	return d;
fail:
	json_decref(drc);
	json_decref(log);
	json_decref(squash);
	json_decref(cache);
	return NULL;
}

/* --- administrative actions -------------------------------------------- */

static int
fd_action_finished(const json_t *a)
{
	const char *s = fd_json_str(a, "Status");

	return fd_eq(s, "COMPLETED") || fd_eq(s, "FAILED") ||
	    fd_eq(s, "CANCELLED");
}

/* The newest unfinished entry of that type (borrowed) or NULL. */
static json_t *
fd_action_open(const json_t *desc, const char *type)
{
	json_t *list = json_object_get(desc, "AdministrativeActions");
	json_t *a;
	size_t i;

	json_array_foreach(list, i, a)
		if (fd_eq(fd_json_str(a, "AdministrativeActionType"), type) &&
		    !fd_action_finished(a))
			return a;
	return NULL;
}

void
fs_desc_action_add(json_t *desc, const char *type, const char *status,
    json_t *target, double now)
{
	json_t *list = json_object_get(desc, "AdministrativeActions");
	json_t *a;
	size_t i, seen = 0;

	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(desc, "AdministrativeActions", list);
	}
	a = json_object();
	fd_set_str(a, "AdministrativeActionType", type);
	json_object_set_new(a, "RequestTime", json_real(fd_ms(now)));
	fd_set_str(a, "Status", status);
	if (target != NULL)
		json_object_set_new(a, "TargetFileSystemValues", target);
	json_array_insert_new(list, 0, a);
	/* keep the newest 10 of each type; never drop an unfinished one */
	for (i = 0; i < json_array_size(list); i++) {
		a = json_array_get(list, i);
		if (!fd_eq(fd_json_str(a, "AdministrativeActionType"), type))
			continue;
		if (++seen > FD_ACTIONS_PER_TYPE && fd_action_finished(a)) {
			json_array_remove(list, i);
			i--;
		}
	}
}

void
fs_desc_action_set_status(json_t *desc, const char *type, const char *status,
    double now)
{
	json_t *a = fd_action_open(desc, type);

	(void)now;	/* the model has no per-status time */
	if (a == NULL)
		return;
	fd_set_str(a, "Status", status);
	if (fd_eq(type, FD_OPT) && fd_eq(status, "COMPLETED"))
		json_object_set_new(a, "ProgressPercent", json_integer(100));
}

void
fs_desc_action_fail(json_t *desc, const char *type, const char *message)
{
	json_t *a = fd_action_open(desc, type), *fd;
	char msg[257];

	if (a == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s", message != NULL && *message != '\0' ?
	    message : "The update failed");
	fd_set_str(a, "Status", "FAILED");
	fd = json_object();
	fd_set_str(fd, "Message", msg);
	json_object_set_new(a, "FailureDetails", fd);
}

void
fs_desc_action_progress(json_t *desc, const char *type, int pct)
{
	json_t *a = fd_action_open(desc, type);

	if (a == NULL)
		return;
	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	json_object_set_new(a, "ProgressPercent", json_integer(pct));
}

void
fs_desc_action_remove(json_t *desc, const char *type)
{
	json_t *list = json_object_get(desc, "AdministrativeActions");
	size_t i;

	if (!json_is_array(list))
		return;
	for (i = 0; i < json_array_size(list); i++)
		if (fd_eq(fd_json_str(json_array_get(list, i),
		    "AdministrativeActionType"), type)) {
			json_array_remove(list, i);
			i--;
		}
	if (json_array_size(list) == 0)
		json_object_del(desc, "AdministrativeActions");
}

json_t *
fs_desc_action_pending_target(const json_t *desc, const char *type)
{
	json_t *a = fd_action_open(desc, type);

	return a != NULL ? json_object_get(a, "TargetFileSystemValues") : NULL;
}

void
fs_desc_set_lifecycle(json_t *desc, const char *lifecycle, const char *message)
{
	json_t *drc = json_object_get(json_object_get(desc,
	    "LustreConfiguration"), "DataRepositoryConfiguration");
	enum fd_lc dl = fd_lc_parse(fd_json_str(drc, "Lifecycle"));
	json_t *fd;
	char msg[257];

	if (!json_is_object(desc) || lifecycle == NULL)
		return;
	fd_set_str(desc, "Lifecycle", lifecycle);
	switch (fd_lc_parse(lifecycle)) {
	case FD_LC_AVAILABLE:
		json_object_del(desc, "FailureDetails");
		if (dl == FD_LC_CREATING || dl == FD_LC_UPDATING)
			fd_set_str(drc, "Lifecycle",
			    fd_lc_names[FD_LC_AVAILABLE]);
		break;
	case FD_LC_DELETING:
		if (json_is_object(drc))
			fd_set_str(drc, "Lifecycle",
			    fd_lc_names[FD_LC_DELETING]);
		break;
	case FD_LC_FAILED:
		snprintf(msg, sizeof(msg), "%s", message != NULL &&
		    *message != '\0' ? message : "The file system could not "
		    "be created");
		fd = json_object();
		fd_set_str(fd, "Message", msg);
		json_object_set_new(desc, "FailureDetails", fd);
		break;
	default:
		break;
	}
}

void
fs_desc_apply_capacity(json_t *desc, long long cap)
{
	json_t *lc = json_object_get(desc, "LustreConfiguration");
	json_t *meta = json_object_get(lc, "MetadataConfiguration");

	json_object_set_new(desc, "StorageCapacity", json_integer(cap));
	if (fd_eq(fd_json_str(meta, "Mode"), "AUTOMATIC"))
		json_object_set_new(meta, "Iops",
		    json_integer(fs_desc_auto_iops(cap)));
}

void
fs_desc_apply_target(json_t *desc, const json_t *target)
{
	json_t *lc = json_object_get(desc, "LustreConfiguration");
	json_t *tlc = json_object_get(target, "LustreConfiguration");
	json_t *v;

	v = json_object_get(target, "StorageCapacity");
	if (json_is_integer(v))
		fs_desc_apply_capacity(desc, json_integer_value(v));
	if (!json_is_object(lc) || !json_is_object(tlc))
		return;
	v = json_object_get(tlc, "PerUnitStorageThroughput");
	if (json_is_integer(v))
		json_object_set(lc, "PerUnitStorageThroughput", v);
	v = json_object_get(tlc, "ThroughputCapacity");
	if (json_is_integer(v))
		json_object_set(lc, "ThroughputCapacity", v);
}

/* --- UpdateFileSystem --------------------------------------------------- */

struct fd_update {
	const json_t	*cur, *in, *ilc;
	json_t		*nd, *lc;	/* new description and its LC */
	json_t		*target, *tlc;	/* TargetFileSystemValues */
	const char	*deploy, *stype, *fs_id;
	char		 part[32], region[64], acct[32];
	long long	 cap, new_cap;
	int		 deferred, storage_change, throughput_change;
	int		 iops_increase;
	double		 now, gap;
};

/* Part, region and account from the description's ResourceARN. */
static int
fd_arn_parts(struct fd_update *u)
{
	const char *arn = fd_json_str(u->cur, "ResourceARN");
	const char *p, *r, *a, *e;

	if (arn == NULL || strncmp(arn, "arn:", 4) != 0)
		return -1;
	p = arn + 4;
	r = strchr(p, ':');
	if (r == NULL || strncmp(r, ":fsx:", 5) != 0)
		return -1;
	r += 5;
	a = strchr(r, ':');
	if (a == NULL)
		return -1;
	a++;
	e = strchr(a, ':');
	if (e == NULL)
		return -1;
	if ((size_t)(strchr(p, ':') - p) >= sizeof(u->part) ||
	    (size_t)(a - 1 - r) >= sizeof(u->region) ||
	    (size_t)(e - a) >= sizeof(u->acct))
		return -1;
	snprintf(u->part, sizeof(u->part), "%.*s", (int)(strchr(p, ':') - p),
	    p);
	snprintf(u->region, sizeof(u->region), "%.*s", (int)(a - 1 - r), r);
	snprintf(u->acct, sizeof(u->acct), "%.*s", (int)(e - a), a);
	return 0;
}

static void
fd_target_lc(struct fd_update *u, const char *key, json_t *v)
{
	json_object_set_new(u->tlc, key, v);
}

/* Is a server-backed update of this kind still running? */
static int
fd_update_busy(const json_t *cur, int storage)
{
	json_t *list = json_object_get(cur, "AdministrativeActions");
	json_t *a;
	size_t i;

	json_array_foreach(list, i, a) {
		const char *t = fd_json_str(a, "AdministrativeActionType");
		const char *s = fd_json_str(a, "Status");

		if (fd_action_finished(a))
			continue;
		if (fd_eq(t, FD_FSU) && (fd_eq(s, "PENDING") ||
		    fd_eq(s, "IN_PROGRESS")))
			return 1;
		if (!storage)
			continue;
		if (fd_eq(t, FD_OPT) || (fd_eq(t, FD_FSU) &&
		    json_object_get(json_object_get(a,
		    "TargetFileSystemValues"), "StorageCapacity") != NULL))
			return 1;
	}
	return 0;
}

/*
 * RequestTime of the newest FILE_SYSTEM_UPDATE that raised storage
 * (metadata == 0) or metadata IOPS (metadata == 1) and did not fail;
 * -1 when none.
 */
static double
fd_last_increase(const json_t *cur, int metadata)
{
	json_t *list = json_object_get(cur, "AdministrativeActions");
	json_t *a, *t, *rt;
	size_t i;

	json_array_foreach(list, i, a) {
		const char *s = fd_json_str(a, "Status");

		if (!fd_eq(fd_json_str(a, "AdministrativeActionType"),
		    FD_FSU) || fd_eq(s, "FAILED") || fd_eq(s, "CANCELLED"))
			continue;
		t = json_object_get(a, "TargetFileSystemValues");
		if (metadata)
			t = json_object_get(json_object_get(json_object_get(t,
			    "LustreConfiguration"), "MetadataConfiguration"),
			    "Iops");
		else
			t = json_object_get(t, "StorageCapacity");
		if (t == NULL)
			continue;
		rt = json_object_get(a, "RequestTime");
		return json_is_number(rt) ? json_number_value(rt) : -1;
	}
	return -1;
}

static int
fd_gap_check(struct fd_update *u, int metadata, struct api_error *err)
{
	double last = fd_last_increase(u->cur, metadata);
	char when[32], gap[48];

	if (u->gap <= 0 || last < 0 || u->now - last >= u->gap)
		return 0;
	fd_iso(last + u->gap, when, sizeof(when));
	if (fmod(u->gap, 3600.0) == 0)
		snprintf(gap, sizeof(gap), "%.0f hours", u->gap / 3600.0);
	else
		snprintf(gap, sizeof(gap), "%.0f seconds", u->gap);
	api_fail(err, API_E_BAD_REQUEST, "Unable to perform the %s update. "
	    "%s can only be increased once every %s; try again after %s.",
	    metadata ? "metadata IOPS" : "storage capacity",
	    metadata ? "Metadata IOPS" : "Storage capacity", gap, when);
	return -1;
}

static int
fd_update_capacity(struct fd_update *u, struct api_error *err)
{
	long long want, unit;
	int has = fd_int(u->in, "StorageCapacity", &want);
	const json_t *lc = json_object_get(u->cur, "LustreConfiguration");

	if (has <= 0)
		return has;
	if (fd_eq(u->stype, "INTELLIGENT_TIERING")) {
		api_fail(err, API_E_BAD_REQUEST, "StorageCapacity cannot be "
		    "updated for INTELLIGENT_TIERING storage; its storage is "
		    "elastic");
		return -1;
	}
	if (want == u->cap)
		return 0;
	if (fd_eq(u->deploy, "SCRATCH_1")) {
		api_fail(err, API_E_BAD_REQUEST, "Storage capacity increase is "
		    "not supported for SCRATCH_1 file systems");
		return -1;
	}
	unit = fd_cap_unit(u->deploy, u->stype,
	    fd_json_int(lc, "PerUnitStorageThroughput", 12));
	if (want < u->cap) {
		api_fail(err, API_E_BAD_REQUEST, "Invalid Lustre FS storage "
		    "capacity: %lld. The storage capacity can only be "
		    "increased; the current capacity is %lld GiB.", want,
		    u->cap);
		return -1;
	}
	if (want % unit != 0) {
		api_fail(err, API_E_BAD_REQUEST, "Invalid Lustre FS storage "
		    "capacity: %lld. Must be a multiple of %lld and greater "
		    "than the current capacity of %lld GiB.", want, unit,
		    u->cap);
		return -1;
	}
	if (fd_update_busy(u->cur, 1)) {
		api_fail(err, API_E_BAD_REQUEST, "Unable to perform the "
		    "storage capacity update. There is an update already in "
		    "progress.");
		return -1;
	}
	if (fd_gap_check(u, 0, err) < 0)
		return -1;
	u->new_cap = want;
	u->storage_change = 1;
	u->deferred = 1;
	json_object_set_new(u->target, "StorageCapacity", json_integer(want));
	return 0;
}

static int
fd_update_version(struct fd_update *u, struct api_error *err)
{
	const char *want, *cur = fd_json_str(u->cur, "FileSystemTypeVersion");
	int has = fd_str(u->in, "FileSystemTypeVersion", &want);

	if (has <= 0 || fd_eq(want, cur))
		return has < 0 ? -1 : 0;
	if (!fd_eq(want, "2.12") && !fd_eq(want, "2.15")) {
		api_fail(err, API_E_BAD_REQUEST,
		    "Invalid FileSystemTypeVersion: %s. Valid values are 2.12 "
		    "and 2.15", want);
		return -1;
	}
	if (cur != NULL && strtod(want, NULL) < strtod(cur, NULL)) {
		api_fail(err, API_E_BAD_REQUEST, "FileSystemTypeVersion %s is "
		    "older than the current version %s; the Lustre version can "
		    "only be upgraded", want, cur);
		return -1;
	}
	fd_set_str(u->nd, "FileSystemTypeVersion", want);
	fd_set_str(u->target, "FileSystemTypeVersion", want);
	return 0;
}

static int
fd_update_network(struct fd_update *u, struct api_error *err)
{
	const char *st, *nt, *cur_nt = fd_json_str(u->cur, "NetworkType");

	fd_str(u->in, "StorageType", &st);
	fd_str(u->in, "NetworkType", &nt);
	if (st != NULL && !fd_eq(st, u->stype)) {
		api_fail(err, API_E_BAD_REQUEST, "The storage type of a Lustre "
		    "file system cannot be changed");
		return -1;
	}
	if (nt != NULL && !fd_eq(nt, cur_nt != NULL ? cur_nt : "IPV4")) {
		api_fail(err, API_E_BAD_REQUEST, "The network type of a Lustre "
		    "file system cannot be changed");
		return -1;
	}
	return 0;
}

static int
fd_update_throughput(struct fd_update *u, struct api_error *err)
{
	const json_t *clc = json_object_get(u->cur, "LustreConfiguration");
	const long long *set;
	long long put, tc, cur_tc;
	int has_put, has_tc, it = fd_eq(u->stype, "INTELLIGENT_TIERING");
	char sets[64];

	has_put = fd_int(u->ilc, "PerUnitStorageThroughput", &put);
	if (has_put && put != fd_json_int(clc, "PerUnitStorageThroughput",
	    -1)) {
		set = fd_put_set(u->deploy, u->stype);
		if (set == NULL || fd_eq(u->stype, "HDD") ||
		    json_is_true(json_object_get(clc, "EfaEnabled"))) {
			api_fail(err, API_E_BAD_REQUEST,
			    "PerUnitStorageThroughput cannot be updated for "
			    "%s%s file systems",
			    json_is_true(json_object_get(clc, "EfaEnabled")) ?
			    "EFA-enabled " : "", fd_eq(u->stype, "SSD") ?
			    u->deploy : u->stype);
			return -1;
		}
		if (!fd_in_set(set, put)) {
			fd_set_text(set, sets, sizeof(sets));
			api_fail(err, API_E_INVALID_PER_UNIT_THROUGHPUT,
			    "Invalid PerUnitStorageThroughput: %lld. Valid "
			    "values for %s %s storage are %s MB/s/TiB", put,
			    u->deploy, u->stype, sets);
			return -1;
		}
		fd_target_lc(u, "PerUnitStorageThroughput", json_integer(put));
		u->throughput_change = 1;
	}

	has_tc = fd_int(u->ilc, "ThroughputCapacity", &tc);
	cur_tc = fd_json_int(clc, "ThroughputCapacity", 0);
	if (has_tc && !it) {
		api_fail(err, API_E_BAD_REQUEST, "ThroughputCapacity is only "
		    "supported with INTELLIGENT_TIERING storage");
		return -1;
	}
	if (has_tc && tc != cur_tc) {
		if (tc < cur_tc) {
			api_fail(err, API_E_BAD_REQUEST, "Invalid "
			    "ThroughputCapacity: %lld. It can only be "
			    "increased; the current value is %lld MBps", tc,
			    cur_tc);
			return -1;
		}
		if (tc % FD_IT_UNIT != 0 || tc > 2000000) {
			api_fail(err, API_E_BAD_REQUEST, "Invalid "
			    "ThroughputCapacity: %lld. Must be a multiple of "
			    "4000 MBps, up to 2000000", tc);
			return -1;
		}
		fd_target_lc(u, "ThroughputCapacity", json_integer(tc));
		u->throughput_change = 1;
	}
	if (u->throughput_change) {
		if (fd_update_busy(u->cur, 0)) {
			api_fail(err, API_E_BAD_REQUEST, "Unable to perform "
			    "the throughput capacity update. There is an "
			    "update already in progress.");
			return -1;
		}
		u->deferred = 1;
	}
	return 0;
}

static int
fd_update_cache(struct fd_update *u, struct api_error *err)
{
	const json_t *c, *clc = json_object_get(u->cur, "LustreConfiguration");
	json_t *tlc_tc = json_object_get(u->tlc, "ThroughputCapacity");
	long long tc;
	json_t *nc;
	int rc = fd_val(u->ilc, "DataReadCacheConfiguration", &c);

	if (rc <= 0)
		return rc;
	if (!fd_eq(u->stype, "INTELLIGENT_TIERING")) {
		api_fail(err, API_E_BAD_REQUEST,
		    "DataReadCacheConfiguration is only supported with "
		    "INTELLIGENT_TIERING storage");
		return -1;
	}
	tc = json_is_integer(tlc_tc) ? json_integer_value(tlc_tc) :
	    fd_json_int(clc, "ThroughputCapacity", FD_IT_UNIT);
	nc = fd_cache_conf(c, tc, err);
	if (nc == NULL)
		return -1;
	if (json_equal(nc, json_object_get(clc,
	    "DataReadCacheConfiguration"))) {
		json_decref(nc);
		return 0;
	}
	json_object_set(u->lc, "DataReadCacheConfiguration", nc);
	fd_target_lc(u, "DataReadCacheConfiguration", nc);
	return 0;
}

static int
fd_update_meta(struct fd_update *u, struct api_error *err)
{
	const json_t *m;
	json_t *cm = json_object_get(json_object_get(u->cur,
	    "LustreConfiguration"), "MetadataConfiguration");
	const char *mode, *cur_mode = fd_json_str(cm, "Mode");
	long long iops, cur_iops = fd_json_int(cm, "Iops", 0), autov;
	int has_iops, it = fd_eq(u->stype, "INTELLIGENT_TIERING");
	long long cap = u->new_cap > 0 ? u->new_cap : u->cap;
	json_t *nm;

	if (!fd_val(u->ilc, "MetadataConfiguration", &m)) {
		/* growing storage: user-provisioned IOPS must cover it */
		if (u->storage_change && fd_eq(cur_mode, "USER_PROVISIONED") &&
		    cur_iops < fs_desc_auto_iops(cap))
			goto low;
		return 0;
	}
	if (cm == NULL) {
		api_fail(err, API_E_BAD_REQUEST, "MetadataConfiguration can "
		    "only be set when the file system is created");
		return -1;
	}
	fd_str(m, "Mode", &mode);
	has_iops = fd_int(m, "Iops", &iops);
	if (mode == NULL)
		mode = cur_mode;
	if (fd_eq(mode, "AUTOMATIC")) {
		if (it) {
			api_fail(err, API_E_BAD_REQUEST,
			    "MetadataConfiguration Mode AUTOMATIC is not "
			    "supported with INTELLIGENT_TIERING storage; use "
			    "USER_PROVISIONED");
			return -1;
		}
		if (has_iops) {
			api_fail(err, API_E_BAD_REQUEST, "Iops cannot be "
			    "specified when MetadataConfiguration Mode is "
			    "AUTOMATIC");
			return -1;
		}
		autov = fs_desc_auto_iops(u->cap);
		if (cur_iops > autov) {
			api_fail(err, API_E_BAD_REQUEST, "Unable to switch to "
			    "AUTOMATIC mode: the current metadata Iops (%lld) "
			    "exceed the automatic value for %lld GiB (%lld) "
			    "and decreasing metadata IOPS is not supported",
			    cur_iops, u->cap, autov);
			return -1;
		}
		iops = autov;
	} else {		/* USER_PROVISIONED */
		if (!has_iops)
			iops = cur_iops;
		if (!fd_iops_valid(iops, it)) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Invalid metadata Iops: %lld. Valid values are %s",
			    iops, it ? "6000 and 12000 for INTELLIGENT_TIERING "
			    "storage" : "1500, 3000, 6000, 12000 and multiples "
			    "of 12000 up to 192000");
			return -1;
		}
		if (iops < cur_iops) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Invalid metadata Iops: %lld. Metadata IOPS can "
			    "only be increased; the current value is %lld",
			    iops, cur_iops);
			return -1;
		}
		if (!it && iops < fs_desc_auto_iops(cap)) {
			cur_iops = iops;
			goto low;
		}
	}
	if (fd_eq(mode, cur_mode) && iops == cur_iops)
		return 0;
	if (iops > cur_iops) {
		if (fd_gap_check(u, 1, err) < 0)
			return -1;
	}
	nm = json_object();
	json_object_set_new(nm, "Iops", json_integer(iops));
	fd_set_str(nm, "Mode", mode);
	json_object_set(u->lc, "MetadataConfiguration", nm);
	fd_target_lc(u, "MetadataConfiguration", nm);
	return 0;
low:
	api_fail(err, API_E_BAD_REQUEST, "Unable to perform the storage "
	    "capacity update. The metadata Iops (%lld) are too low for a "
	    "storage capacity of %lld GiB; provision at least %lld metadata "
	    "IOPS", cur_iops, cap, fs_desc_auto_iops(cap));
	return -1;
}

/* Members applied at once: compression, log, squash, maintenance. */
static int
fd_update_free(struct fd_update *u, struct api_error *err)
{
	const json_t *clc = json_object_get(u->cur, "LustreConfiguration");
	const json_t *log, *sq;
	const char *v;
	json_t *n;

	fd_str(u->ilc, "DataCompressionType", &v);
	if (v != NULL && !fd_eq(v, fd_json_str(clc, "DataCompressionType"))) {
		fd_set_str(u->lc, "DataCompressionType", v);
		fd_target_lc(u, "DataCompressionType", json_string(v));
	}
	fd_str(u->ilc, "WeeklyMaintenanceStartTime", &v);
	if (v != NULL && !fd_eq(v, fd_json_str(clc,
	    "WeeklyMaintenanceStartTime"))) {
		fd_set_str(u->lc, "WeeklyMaintenanceStartTime", v);
		fd_target_lc(u, "WeeklyMaintenanceStartTime", json_string(v));
	}
	fd_val(u->ilc, "LogConfiguration", &log);
	if (log != NULL) {
		n = fd_log_conf(log, u->part, u->region, u->acct, err);
		if (n == NULL)
			return -1;
		if (json_equal(n, json_object_get(clc, "LogConfiguration"))) {
			json_decref(n);
		} else {
			json_object_set(u->lc, "LogConfiguration", n);
			fd_target_lc(u, "LogConfiguration", n);
		}
	}
	fd_val(u->ilc, "RootSquashConfiguration", &sq);
	if (sq != NULL) {
		n = fd_squash_conf(sq, err);
		if (n == NULL)
			return -1;
		if (json_equal(n, json_object_get(clc,
		    "RootSquashConfiguration"))) {
			json_decref(n);
		} else {
			json_object_set(u->lc, "RootSquashConfiguration", n);
			fd_target_lc(u, "RootSquashConfiguration", n);
		}
	}
	return 0;
}

/* Backup settings (backup-capable file systems) and AutoImportPolicy. */
static int
fd_update_backup_link(struct fd_update *u, struct api_error *err)
{
	const json_t *clc = json_object_get(u->cur, "LustreConfiguration");
	json_t *drc = json_object_get(u->lc, "DataRepositoryConfiguration");
	const char *daily, *aip, *cur_daily;
	long long ret, cur_ret = fd_json_int(clc,
	    "AutomaticBackupRetentionDays", 0);
	int has_ret, can_backup = !fd_is_scratch(u->deploy) && drc == NULL;
	char dflt[16];

	fd_str(u->ilc, "DailyAutomaticBackupStartTime", &daily);
	fd_str(u->ilc, "AutoImportPolicy", &aip);
	has_ret = fd_int(u->ilc, "AutomaticBackupRetentionDays", &ret);
	cur_daily = fd_json_str(clc, "DailyAutomaticBackupStartTime");
	if (daily != NULL && fd_eq(daily, cur_daily))
		daily = NULL;
	if (has_ret && ret == cur_ret)
		has_ret = 0;
	if ((daily != NULL || has_ret) && !can_backup) {
		api_fail(err, API_E_BAD_REQUEST, "Automatic backups are not "
		    "supported for %s", fd_is_scratch(u->deploy) ?
		    "scratch file systems" : "file systems linked to an S3 "
		    "bucket with ImportPath");
		return -1;
	}
	if (has_ret) {
		json_object_set_new(u->lc, "AutomaticBackupRetentionDays",
		    json_integer(ret));
		fd_target_lc(u, "AutomaticBackupRetentionDays",
		    json_integer(ret));
		if (ret > 0 && daily == NULL && cur_daily == NULL) {
			fd_default_daily(u->fs_id, dflt, sizeof(dflt));
			daily = dflt;
		}
	}
	if (daily != NULL) {
		fd_set_str(u->lc, "DailyAutomaticBackupStartTime", daily);
		fd_target_lc(u, "DailyAutomaticBackupStartTime",
		    json_string(daily));
	}

	if (aip == NULL ||
	    (drc != NULL && fd_eq(aip, fd_json_str(drc, "AutoImportPolicy"))))
		return 0;
	if (drc == NULL) {
		api_fail(err, API_E_BAD_REQUEST, "AutoImportPolicy can only be "
		    "updated on a file system linked to an S3 bucket with "
		    "ImportPath");
		return -1;
	}
	fd_set_str(drc, "AutoImportPolicy", aip);
	{
		json_t *t = json_object();

		fd_set_str(t, "AutoImportPolicy", aip);
		fd_target_lc(u, "DataRepositoryConfiguration", t);
	}
	return 0;
}

json_t *
fs_desc_update(const json_t *cur, const json_t *in, double now,
    double min_gap_sec, struct fs_desc_plan *plan, struct api_error *err)
{
	struct fd_update u;
	const char *lifecycle;
	json_t *target;

	memset(&u, 0, sizeof(u));
	memset(plan, 0, sizeof(*plan));
	u.cur = cur;
	u.in = in;
	u.now = now;
	u.gap = min_gap_sec;
	if (!json_is_object(cur) || !json_is_object(in))
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "Invalid file system description");
	fd_val(in, "LustreConfiguration", &u.ilc);
	u.fs_id = fd_json_str(cur, "FileSystemId");
	u.stype = fd_json_str(cur, "StorageType");
	u.deploy = fd_json_str(json_object_get(cur, "LustreConfiguration"),
	    "DeploymentType");
	u.cap = fd_json_int(cur, "StorageCapacity", 0);
	if (u.fs_id == NULL || u.stype == NULL || u.deploy == NULL ||
	    fd_arn_parts(&u) < 0)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "Invalid file system description");
	lifecycle = fd_json_str(cur, "Lifecycle");
	if (fd_lc_parse(lifecycle) != FD_LC_AVAILABLE)
		return api_fail(err, API_E_BAD_REQUEST, "Unable to update file "
		    "system %s: it is in lifecycle state %s; updates are only "
		    "possible when it is AVAILABLE", u.fs_id,
		    lifecycle != NULL ? lifecycle : "unknown");

	u.nd = json_deep_copy(cur);
	u.lc = json_object_get(u.nd, "LustreConfiguration");
	u.target = json_object();
	u.tlc = json_object();
	if (fd_update_network(&u, err) < 0 ||
	    fd_update_version(&u, err) < 0 ||
	    fd_update_capacity(&u, err) < 0 ||
	    fd_update_throughput(&u, err) < 0 ||
	    fd_update_cache(&u, err) < 0 ||
	    fd_update_meta(&u, err) < 0 ||
	    fd_update_free(&u, err) < 0 ||
	    fd_update_backup_link(&u, err) < 0)
		goto fail;

	if (json_object_size(u.tlc) > 0)
		json_object_set(u.target, "LustreConfiguration", u.tlc);
	target = json_object_size(u.target) > 0 ? json_incref(u.target) : NULL;
	fs_desc_action_add(u.nd, FD_FSU, u.deferred ? "PENDING" : "COMPLETED",
	    target, now);
	plan->needs_update_job = u.deferred;
	plan->new_capacity = u.storage_change ? u.new_cap : 0;
	json_decref(u.target);
	json_decref(u.tlc);
	return u.nd;
fail:
	json_decref(u.nd);
	json_decref(u.target);
	json_decref(u.tlc);
	return NULL;
}
