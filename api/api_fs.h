/*
 * File system handlers' shared pieces: loading a file system row of the
 * caller's account and region, transactions with AWS-shaped errors,
 * idempotency tokens, fsx-local's mount-info endpoint, and the function
 * that applies the provisioner's results (api_fs_apply).
 */
#ifndef FSX_API_FS_H
#define FSX_API_FS_H

#include "api.h"
#include "api_ctx.h"
#include "api_fs_desc.h"
#include "core/kinds.h"
#include "prov.h"

/* The description of fs_id as the caller may see it (NULL when it is not
 * theirs or does not exist; cx NULL: any owner's); *lc gets the current
 * lifecycle. New reference. */
json_t	*api_fs_get(const struct api_ctx *cx, const char *fs_id,
	    enum fs_lifecycle *lc);
/* The same, with the lifecycle as its name. */
json_t	*api_fs_load(const struct api_ctx *cx, const char *fs_id,
	    char *lifecycle, size_t lifecycle_len);
/* Replace the stored description (and the lifecycle, unless -1). */
int	 api_fs_store(const char *fs_id, const json_t *doc, int lifecycle);

/*
 * Run fn(arg) as one transaction (db_tx). fn returns 0, or -1 after
 * filling err (api_fail), or another -errno when storage failed; for the
 * latter, err becomes InternalServerError "could not record <what>".
 * Returns fn's result.
 */
int	 api_tx(int (*fn)(void *arg), void *arg, struct api_error *err,
	    const char *what);

/* Apply a provisioner result to the stored description (prov_apply_fn). */
int	 api_fs_apply(const struct prov_result *r);

/* Tag rules beyond the model (reserved aws: prefix, unique keys). */
int	 api_tags_check(const json_t *tags, struct api_error *err);
/* Store a request's Tags list ([{Key, Value}], may be NULL) on arn. */
int	 api_tags_put(const char *arn, const json_t *tags);

/* CreateFileSystem, or (backup_id set) the create a restore makes: `req`
 * is the CreateFileSystem request built from the backup, `in` the
 * caller's request (its token and Tags). */
json_t	*api_fs_create_from(struct api_ctx *cx, const json_t *in,
	    const json_t *req, const char *backup_id, struct api_error *err);

/* A new resource id: prefix + 17 random hex digits. */
void	 api_new_id(const char *prefix, char *out, size_t n);
/* Listing cursors: NextToken = base64 of prefix + seq (api_fs.c). */
int	 api_cursor_decode(const char *tok, const char *prefix, long long *seq);
json_t	*api_cursor_encode(const char *prefix, long long seq);

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
