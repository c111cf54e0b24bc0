/*
 * Lustre features that fsx-local does not provide yet: backups and file
 * caches. They answer truthfully
 * for what exists: requests that would create one on an existing file
 * system are refused with UnsupportedOperation (BadRequest where the
 * operation declares no UnsupportedOperation), after the checks AWS
 * makes first (the file system exists and can have one). References to
 * such resources and listings of them are answered by api_absent.c.
 */
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"

/* The file system named by `member`, or FileSystemNotFound. */
static json_t *
need_fs(struct api_ctx *cx, const json_t *in, const char *member,
    struct api_error *err)
{
	const char *id = json_string_value(json_object_get(in, member));
	json_t *d = api_fs_load(cx, id ? id : "", NULL, 0);

	if (d == NULL)
		api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", id ? id : "");
	return d;
}

static const char *
fs_deployment(const json_t *d)
{
	const char *s = json_string_value(json_object_get(json_object_get(d,
	    "LustreConfiguration"), "DeploymentType"));

	return s ? s : "SCRATCH_1";
}

json_t *
api_later_create_backup(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	json_t *d;
	int scratch;

	if (json_object_get(in, "VolumeId") != NULL)
		return api_fail(err, API_E_VOLUME_NOT_FOUND,
		    "Volume '%s' does not exist.",
		    json_string_value(json_object_get(in, "VolumeId")));
	if (json_object_get(in, "FileSystemId") == NULL)
		return api_fail(err, API_E_BAD_REQUEST,
		    "A FileSystemId is required to back up a Lustre file system.");
	d = need_fs(cx, in, "FileSystemId", err);
	if (d == NULL)
		return NULL;
	scratch = strncmp(fs_deployment(d), "SCRATCH", 7) == 0;
	json_decref(d);
	if (scratch)
		return api_fail(err, API_E_BAD_REQUEST,
		    "Backups are not supported for scratch file systems.");
	return api_fail(err, API_E_UNSUPPORTED_OPERATION,
	    "Backups are not available on this endpoint yet.");
}

/*
 * CreateFileCache declares no UnsupportedOperation (api/model.json), so
 * the refusal is BadRequest.
 */
json_t *
api_later_create_cache(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	if (json_object_get(in, "LustreConfiguration") == NULL)
		return api_fail(err, API_E_MISSING_FC_CONFIGURATION,
		    "A LustreConfiguration is required to create a file cache.");
	return api_fail(err, API_E_BAD_REQUEST,
	    "File caches are not available on this endpoint yet.");
}

