/*
 * A stored description as engine work moves it: administrative actions
 * (FileSystem.AdministrativeActions, newest first, at most 10 per type),
 * lifecycle changes with their side effects (FailureDetails, the legacy
 * DataRepositoryConfiguration's lifecycle), and the server-backed values
 * of an update applied once the servers provide them.
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

/* --- administrative actions -------------------------------------------- */

int
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
fs_desc_set_lifecycle(json_t *desc, enum fs_lifecycle lc, const char *message)
{
	json_t *drc = json_object_get(json_object_get(desc,
	    "LustreConfiguration"), "DataRepositoryConfiguration");
	json_t *fd;
	char msg[257];

	if (!json_is_object(desc))
		return;
	fd_set_str(desc, "Lifecycle", fs_lifecycle_name(lc));
	switch (lc) {
	case FS_AVAILABLE:
		/* the link's own lifecycle is the S3 agent's to report */
		json_object_del(desc, "FailureDetails");
		break;
	case FS_DELETING:
		if (json_is_object(drc))
			fd_set_str(drc, "Lifecycle",
			    fs_lifecycle_name(FS_DELETING));
		break;
	case FS_FAILED:
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

