/*
 * The Lustre feature fsx-local does not provide yet: file caches.
 * CreateFileCache is refused after the checks AWS makes first; references
 * to caches and listings of them are answered by api_absent.c.
 */
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"

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

