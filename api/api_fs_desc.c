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
#include "api_fs_desc_int.h"
#include "core/util.h"

const long long fd_put_p1_ssd[] = { 50, 100, 200, 0 };
const long long fd_put_p1_hdd[] = { 12, 40, 0 };
const long long fd_put_p2_ssd[] = { 125, 250, 500, 1000, 0 };

/* --- small helpers ------------------------------------------------------ */

int
fd_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int
fd_is_scratch(const char *deploy)
{
	return fd_eq(deploy, "SCRATCH_1") || fd_eq(deploy, "SCRATCH_2");
}

double
fd_ms(double t)
{
	return floor(t * 1000.0 + 0.5) / 1000.0;
}

void
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

void
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
void
fd_hex17(char *buf, size_t n, const char *prefix,
    const uint8_t h[SHA256_DIGEST_LENGTH])
{
	char hx[2 * 9 + 1];

	hex_encode(h, 9, hx);
	hx[17] = '\0';
	snprintf(buf, n, "%s%s", prefix, hx);
}

const char *
fd_json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long
fd_json_int(const json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

void
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

int
fd_str(const json_t *o, const char *key, const char **v)
{
	json_t *m = fd_member(o, key);

	*v = json_string_value(m);
	return m != NULL;
}

int
fd_int(const json_t *o, const char *key, long long *v)
{
	json_t *m = fd_member(o, key);

	*v = (long long)json_integer_value(m);
	return m != NULL;
}

int
fd_bool(const json_t *o, const char *key, int *v)
{
	json_t *m = fd_member(o, key);

	*v = json_is_true(m);
	return m != NULL;
}

/* An object or list member. */
int
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
int
fd_iops_valid(long long iops, int it)
{
	if (it)
		return iops == 6000 || iops == 12000;
	if (iops == 1500 || iops == 3000 || iops == 6000)
		return 1;
	return iops >= 12000 && iops <= 192000 && iops % 12000 == 0;
}

const long long *
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

int
fd_in_set(const long long *set, long long v)
{
	for (; *set != 0; set++)
		if (*set == v)
			return 1;
	return 0;
}

void
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
long long
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

/* MetadataConfiguration Mode AUTOMATIC: not on INTELLIGENT_TIERING, and
 * no Iops of its own. 0 or -1 with err set. */
int
fd_meta_auto_check(int it, int has_iops, struct api_error *err)
{
	if (it) {
		api_fail(err, API_E_BAD_REQUEST, "MetadataConfiguration Mode"
		    " AUTOMATIC is not supported with INTELLIGENT_TIERING"
		    " storage; use USER_PROVISIONED");
		return -1;
	}
	if (has_iops) {
		api_fail(err, API_E_BAD_REQUEST, "Iops cannot be specified"
		    " when MetadataConfiguration Mode is AUTOMATIC");
		return -1;
	}
	return 0;
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
int
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
json_t *
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
json_t *
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
json_t *
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
void
fd_default_weekly(const char *fs_id, char *buf, size_t n)
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	fd_hash(h, "weekly|%s", fs_id);
	snprintf(buf, n, "%d:%02d:%02d", 1 + h[0] % 7, h[1] % 24,
	    (h[2] % 2) * 30);
}

void
fd_default_daily(const char *fs_id, char *buf, size_t n)
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	fd_hash(h, "daily|%s", fs_id);
	snprintf(buf, n, "%02d:%02d", h[0] % 24, (h[1] % 2) * 30);
}

