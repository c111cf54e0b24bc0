/*
 * CreateFileSystemFromBackup (spec 6.2): a new file system whose settings
 * default to the backed-up one's (the description frozen in the backup),
 * created like any other (api_fs_create_from) but with a restore job
 * that fills its stores from the backup before its processes start.
 *
 * Rules: the backup must be the caller's and AVAILABLE; StorageCapacity,
 * when given, must equal the backup's, and so must a DeploymentType; the
 * request's other members override the backup's.
 */
#include <string.h>

#include "api.h"
#include "api_backup.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "db/db_backup.h"

/* LustreConfiguration members a create takes and a description shows. */
static const char *const lustre_keep[] = {
	"DeploymentType", "PerUnitStorageThroughput", "DataCompressionType",
	"WeeklyMaintenanceStartTime", "DailyAutomaticBackupStartTime",
	"AutomaticBackupRetentionDays", "CopyTagsToBackups", "DriveCacheType",
	"LogConfiguration", "RootSquashConfiguration", "EfaEnabled",
	"ThroughputCapacity", "DataReadCacheConfiguration", NULL
};

/* Top-level members of the request that override the backup's. */
static const char *const top_override[] = {
	"StorageType", "KmsKeyId", "FileSystemTypeVersion", "SubnetIds",
	"SecurityGroupIds", "Tags", NULL
};

/* The CreateFileSystem request a restore of `fsd` with `in` makes. */
static json_t *
restore_request(const json_t *fsd, const json_t *in)
{
	const json_t *blc = json_object_get(fsd, "LustreConfiguration");
	const json_t *ilc = json_object_get(in, "LustreConfiguration");
	const json_t *md = json_object_get(blc, "MetadataConfiguration");
	json_t *req = json_object(), *lc = json_object(), *v;
	const char *k;

	json_object_set_new(req, "FileSystemType", json_string("LUSTRE"));
	json_object_set(req, "StorageCapacity", json_object_get(fsd,
	    "StorageCapacity"));
	json_object_set(req, "StorageType", json_object_get(fsd, "StorageType"));
	if (json_object_get(fsd, "KmsKeyId") != NULL)
		json_object_set(req, "KmsKeyId", json_object_get(fsd,
		    "KmsKeyId"));
	json_object_set(req, "FileSystemTypeVersion", json_object_get(fsd,
	    "FileSystemTypeVersion"));
	for (int i = 0; top_override[i] != NULL; i++) {
		v = json_object_get(in, top_override[i]);
		if (v != NULL)
			json_object_set(req, top_override[i], v);
	}
	for (int i = 0; lustre_keep[i] != NULL; i++) {
		v = json_object_get(blc, lustre_keep[i]);
		if (v != NULL)
			json_object_set(lc, lustre_keep[i], v);
	}
	if (md != NULL) {
		json_t *m = json_deep_copy(md);

		if (strcmp(json_string_value(json_object_get(m, "Mode")) ?
		    json_string_value(json_object_get(m, "Mode")) : "",
		    "AUTOMATIC") == 0)
			json_object_del(m, "Iops");
		json_object_set_new(lc, "MetadataConfiguration", m);
	}
	json_object_foreach((json_t *)ilc, k, v)
		json_object_set(lc, k, v);
	json_object_set_new(req, "LustreConfiguration", lc);
	return req;
}

json_t *
api_backup_restore(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	const char *id = json_string_value(json_object_get(in, "BackupId"));
	const json_t *cap = json_object_get(in, "StorageCapacity");
	const char *dep = json_string_value(json_object_get(json_object_get(in,
	    "LustreConfiguration"), "DeploymentType"));
	const json_t *fsd;
	struct db_backup b;
	json_t *doc, *req, *out = NULL;

	if (db_backup_get(id, cx->account, cx->region, &b) < 0)
		return api_fail(err, API_E_BACKUP_NOT_FOUND,
		    "Backup '%s' does not exist.", id);
	doc = json_loads(b.doc, 0, NULL);
	fsd = json_object_get(doc, "FileSystem");
	if (b.lifecycle != BK_AVAILABLE) {
		api_fail(err, API_E_BAD_REQUEST, "Backup '%s' is %s, not"
		    " AVAILABLE.", id, backup_lifecycle_name(b.lifecycle));
	} else if (fsd == NULL) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unreadable");
	} else if (cap != NULL && json_integer_value(cap) !=
	    json_integer_value(json_object_get(fsd, "StorageCapacity"))) {
		api_fail(err, API_E_BAD_REQUEST, "StorageCapacity must be that"
		    " of the backup (%lld GiB).", (long long)json_integer_value(
		    json_object_get(fsd, "StorageCapacity")));
	} else if (dep != NULL && strcmp(dep, json_string_value(json_object_get(
	    json_object_get(fsd, "LustreConfiguration"), "DeploymentType")) ?
	    json_string_value(json_object_get(json_object_get(fsd,
	    "LustreConfiguration"), "DeploymentType")) : "") != 0) {
		api_fail(err, API_E_BAD_REQUEST, "DeploymentType must be that"
		    " of the backup.");
	} else {
		req = restore_request(fsd, in);
		out = api_fs_create_from(cx, in, req, id, err);
		json_decref(req);
	}
	json_decref(doc);
	db_backup_fini(&b);
	return out;
}
