/*
 * CreateFileSystem's Lustre rules (spec 2, 4, 6.1) and the description a
 * new file system starts with: fs_desc_create(). Pure: no database, no
 * clock, no I/O. The decisions where the spec is open are listed at the
 * top of api_fs_desc.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "api_fs_desc.h"
#include "api_fs_desc_int.h"
#include "core/kinds.h"
#include "core/util.h"

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
		if (fd_meta_auto_check(it, has_iops, err) < 0)
			return -1;
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
	fd_set_str(*drc, "Lifecycle", fs_lifecycle_name(FS_CREATING));
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
	fd_set_str(d, "Lifecycle", fs_lifecycle_name(FS_CREATING));
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

