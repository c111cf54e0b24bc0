/*
 * File system handlers' shared pieces: loading a file system row of the
 * caller's account and region, and fsx-local's mount-info endpoint.
 */
#ifndef FSX_API_FS_H
#define FSX_API_FS_H

#include "api.h"
#include "api_ctx.h"
#include "api_fs_desc.h"

/* The description of fs_id as the caller may see it (NULL when it is not
 * theirs or does not exist); *lifecycle gets the current lifecycle. */
json_t	*api_fs_load(const struct api_ctx *cx, const char *fs_id,
	    char *lifecycle, size_t lifecycle_len);
/* Replace the stored description (and lifecycle column when non-NULL). */
int	 api_fs_store(const char *fs_id, const json_t *doc, const char *lifecycle);

/* Tag rules beyond the model (reserved aws: prefix, unique keys). */
int	 api_tags_check(const json_t *tags, struct api_error *err);

json_t	*api_fs_mount_info(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);

/* ClientRequestToken: 0 = new token (recorded by the caller with
 * api_token_record inside its transaction); 1 = same token, same
 * parameters (*resource_id filled); -1 = error set (mismatch). */
int	 api_token_check(const struct api_ctx *cx, const json_t *in,
	    char *resource_id, size_t len, struct api_error *err);
int	 api_token_record(const struct api_ctx *cx, const json_t *in,
	    const char *resource_id);

#endif
