/*
 * UpdateFileSystem's Lustre rules (spec 5, 6.4): fs_desc_update() checks a
 * request against the current description and returns the next one with a
 * FILE_SYSTEM_UPDATE administrative action prepended. Pure, as
 * api_fs_desc.c. The decisions where the spec is open are listed there.
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
		if (fd_meta_auto_check(it, has_iops, err) < 0)
			return -1;
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
	if (kind_parse(&kind_fs_lifecycle, lifecycle) != FS_AVAILABLE)
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

