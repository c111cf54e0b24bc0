/*
 * Operations on resources that cannot exist on this endpoint (other file
 * system types' volumes, snapshots, SVMs and access points; Lustre
 * backups and file caches, which are not provided yet). One generic handler, parameterised by the operation's
 * ops.def row: `res` says what "not found" is called, `member` which
 * request member names the resource, API_LIST that it is a listing (empty
 * when no id is given), API_FILTERS that its Filters may name file systems,
 * which must then exist. Spec section 10.
 */
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"
#include "api_repo.h"

static const struct absent_kind {
	enum api_err	 code;
	const char	*noun;		/* for the message */
	const char	*listing;	/* the Describe output's list member */
} absent_kinds[API_RES__COUNT] = {
	[API_RES_BACKUP] = { API_E_BACKUP_NOT_FOUND, "Backup", "Backups" },
	[API_RES_DRA] = { API_E_DRA_NOT_FOUND, "Data repository association",
	    "Associations" },
	[API_RES_TASK] = { API_E_TASK_NOT_FOUND, "Data repository task",
	    "DataRepositoryTasks" },
	[API_RES_FILE_CACHE] = { API_E_FILE_CACHE_NOT_FOUND, "File cache",
	    "FileCaches" },
	[API_RES_VOLUME] = { API_E_VOLUME_NOT_FOUND, "Volume", "Volumes" },
	[API_RES_SNAPSHOT] = { API_E_SNAPSHOT_NOT_FOUND, "Snapshot",
	    "Snapshots" },
	[API_RES_SVM] = { API_E_SVM_NOT_FOUND, "Storage virtual machine",
	    "StorageVirtualMachines" },
	[API_RES_S3AP] = { API_E_S3AP_NOT_FOUND, "S3 access point attachment",
	    "S3AccessPointAttachments" },
};

json_t *
api_absent(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const struct api_op *op = cx->opdef;
	const struct absent_kind *k;
	const char *id;

	if (op == NULL || op->res <= API_RES_NONE || op->res >= API_RES__COUNT ||
	    op->member == NULL)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "%s names no absent resource in ops.def.", cx->op);
	k = &absent_kinds[op->res];
	if (op->flags & API_LIST)
		id = api_first_id(in, op->member);
	else
		id = json_string_value(json_object_get(in, op->member));
	if (id != NULL)
		return api_fail(err, k->code, "%s '%s' does not exist.", k->noun,
		    id);
	if ((op->flags & API_FILTERS) && api_repo_filter_fs_check(cx, in, err) < 0)
		return NULL;
	if (op->flags & API_LIST)
		return api_empty_list(k->listing);
	return api_fail(err, k->code, "%s does not exist.", k->noun);
}
