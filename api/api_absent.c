/*
 * Operations on resources that cannot exist on this endpoint (other file
 * system types' volumes, snapshots, SVMs and access points; Lustre
 * backups, data repository associations, tasks and file caches, which are
 * not provided yet). One table says, per operation, which request member
 * names the resource and what "not found" is called; a listing without ids
 * is empty. Spec section 10.
 */
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"

#define ABSENT_LIST	0x1u	/* member is a list of ids; none: empty listing */
#define ABSENT_FILTERS	0x2u	/* Filters may name file systems: check them */

static const struct absent {
	const char	*op;
	const char	*member;	/* the id member of the request */
	enum api_err	 code;
	const char	*noun;		/* for the message */
	unsigned	 flags;
	const char	*listing;	/* ABSENT_LIST: the output's list member */
} absent_tab[] = {
	{ "UpdateStorageVirtualMachine", "StorageVirtualMachineId",
	  API_E_SVM_NOT_FOUND, "Storage virtual machine", 0, NULL },
	{ "DeleteStorageVirtualMachine", "StorageVirtualMachineId",
	  API_E_SVM_NOT_FOUND, "Storage virtual machine", 0, NULL },
	{ "DescribeStorageVirtualMachines", "StorageVirtualMachineIds",
	  API_E_SVM_NOT_FOUND, "Storage virtual machine", ABSENT_LIST,
	  "StorageVirtualMachines" },
	{ "CreateVolumeFromBackup", "BackupId", API_E_BACKUP_NOT_FOUND,
	  "Backup", 0, NULL },
	{ "UpdateVolume", "VolumeId", API_E_VOLUME_NOT_FOUND, "Volume", 0, NULL },
	{ "DeleteVolume", "VolumeId", API_E_VOLUME_NOT_FOUND, "Volume", 0, NULL },
	{ "RestoreVolumeFromSnapshot", "VolumeId", API_E_VOLUME_NOT_FOUND,
	  "Volume", 0, NULL },
	{ "CreateSnapshot", "VolumeId", API_E_VOLUME_NOT_FOUND, "Volume", 0, NULL },
	{ "DescribeVolumes", "VolumeIds", API_E_VOLUME_NOT_FOUND, "Volume",
	  ABSENT_LIST, "Volumes" },
	{ "UpdateSnapshot", "SnapshotId", API_E_SNAPSHOT_NOT_FOUND, "Snapshot",
	  0, NULL },
	{ "DeleteSnapshot", "SnapshotId", API_E_SNAPSHOT_NOT_FOUND, "Snapshot",
	  0, NULL },
	{ "DescribeSnapshots", "SnapshotIds", API_E_SNAPSHOT_NOT_FOUND,
	  "Snapshot", ABSENT_LIST, "Snapshots" },
	{ "DetachAndDeleteS3AccessPoint", "Name", API_E_S3AP_NOT_FOUND,
	  "S3 access point attachment", 0, NULL },
	{ "DescribeS3AccessPointAttachments", "Names", API_E_S3AP_NOT_FOUND,
	  "S3 access point attachment", ABSENT_LIST, "S3AccessPointAttachments" },
	{ "CreateFileSystemFromBackup", "BackupId", API_E_BACKUP_NOT_FOUND,
	  "Backup", 0, NULL },
	{ "DescribeBackups", "BackupIds", API_E_BACKUP_NOT_FOUND, "Backup",
	  ABSENT_LIST | ABSENT_FILTERS, "Backups" },
	{ "DeleteBackup", "BackupId", API_E_BACKUP_NOT_FOUND, "Backup", 0, NULL },
	{ "CopyBackup", "SourceBackupId", API_E_BACKUP_NOT_FOUND, "Backup",
	  0, NULL },
	{ "DescribeDataRepositoryAssociations", "AssociationIds",
	  API_E_DRA_NOT_FOUND, "Data repository association",
	  ABSENT_LIST | ABSENT_FILTERS, "Associations" },
	{ "UpdateDataRepositoryAssociation", "AssociationId",
	  API_E_DRA_NOT_FOUND, "Data repository association", 0, NULL },
	{ "DeleteDataRepositoryAssociation", "AssociationId",
	  API_E_DRA_NOT_FOUND, "Data repository association", 0, NULL },
	{ "DescribeDataRepositoryTasks", "TaskIds", API_E_TASK_NOT_FOUND,
	  "Data repository task", ABSENT_LIST | ABSENT_FILTERS,
	  "DataRepositoryTasks" },
	{ "CancelDataRepositoryTask", "TaskId", API_E_TASK_NOT_FOUND,
	  "Data repository task", 0, NULL },
	{ "DescribeFileCaches", "FileCacheIds", API_E_FILE_CACHE_NOT_FOUND,
	  "File cache", ABSENT_LIST, "FileCaches" },
	{ "UpdateFileCache", "FileCacheId", API_E_FILE_CACHE_NOT_FOUND,
	  "File cache", 0, NULL },
	{ "DeleteFileCache", "FileCacheId", API_E_FILE_CACHE_NOT_FOUND,
	  "File cache", 0, NULL },
	{ NULL, NULL, 0, NULL, 0, NULL }
};

/* A Filters entry naming a file system must name one of the caller's. */
static int
absent_filters_check(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	size_t i, j;
	json_t *f, *v;

	json_array_foreach(json_object_get(in, "Filters"), i, f) {
		if (strcmp(json_string_value(json_object_get(f, "Name")),
		    "file-system-id") != 0)
			continue;
		json_array_foreach(json_object_get(f, "Values"), j, v) {
			json_t *d = api_fs_load(cx, json_string_value(v), NULL, 0);

			if (d == NULL) {
				api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
				    "File system '%s' does not exist.",
				    json_string_value(v));
				return -1;
			}
			json_decref(d);
		}
	}
	return 0;
}

json_t *
api_absent(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const struct absent *a;
	const char *id;

	for (a = absent_tab; a->op != NULL; a++)
		if (strcmp(a->op, cx->op) == 0)
			break;
	if (a->op == NULL)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "%s has no entry in the absent-resource table.", cx->op);
	if (a->flags & ABSENT_LIST)
		id = api_first_id(in, a->member);
	else
		id = json_string_value(json_object_get(in, a->member));
	if (id != NULL)
		return api_fail(err, a->code, "%s '%s' does not exist.", a->noun, id);
	if ((a->flags & ABSENT_FILTERS) && absent_filters_check(cx, in, err) < 0)
		return NULL;
	if (a->flags & ABSENT_LIST)
		return api_empty_list(a->listing);
	return api_fail(err, a->code, "%s does not exist.", a->noun);
}
