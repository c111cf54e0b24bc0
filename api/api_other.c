/*
 * Operations of the other FSx file system types (Windows, ONTAP, OpenZFS),
 * answered as spec section 10 suggests: no resource of those types can
 * exist here, so references to them are "not found", listings are empty,
 * and creations are refused with UnsupportedOperation.
 */
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"

/* Windows / OpenZFS operations that name a file system. */
json_t *
api_other_windows_fs(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const char *id = json_string_value(json_object_get(in, "FileSystemId"));
	json_t *d = api_fs_load(cx, id, NULL, 0);

	if (d == NULL)
		return api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", id);
	json_decref(d);
	return api_fail(err, API_E_BAD_REQUEST,
	    "%s is not supported for Lustre file systems.", cx->op);
}

json_t *
api_other_create_svm(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const char *id = json_string_value(json_object_get(in, "FileSystemId"));
	json_t *d = api_fs_load(cx, id, NULL, 0);

	if (d == NULL)
		return api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", id);
	json_decref(d);
	return api_fail(err, API_E_UNSUPPORTED_OPERATION,
	    "Storage virtual machines are only supported on ONTAP file systems.");
}

json_t *
api_other_create_volume(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	(void)in;
	return api_fail(err, API_E_UNSUPPORTED_OPERATION,
	    "Volumes are only supported on ONTAP and OpenZFS file systems.");
}

json_t *
api_other_copy_snapshot(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	return api_fail(err, API_E_BAD_REQUEST, "Volume '%s' does not exist.",
	    json_string_value(json_object_get(in, "VolumeId")));
}

json_t *
api_other_create_s3ap(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	(void)in;
	return api_fail(err, API_E_UNSUPPORTED_OPERATION,
	    "S3 access points are only supported on OpenZFS volumes.");
}

json_t *
api_other_describe_vpc(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	(void)in;
	(void)err;
	return json_pack("{s:s}",
	    "EnableFsxRouteTableUpdatesFromParticipantAccounts", "false");
}

json_t *
api_other_update_vpc(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	(void)cx;
	(void)in;
	return api_fail(err, API_E_BAD_REQUEST,
	    "Shared VPC configuration applies to ONTAP Multi-AZ file systems,"
	    " which this endpoint does not provide.");
}
