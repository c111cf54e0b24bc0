/*
 * S3 data repositories in the API: data repository associations
 * (api_dra.c), data repository tasks (api_task.c), and what both share
 * (api_repo.c): ids, listing cursors, filters, path rules, stored
 * documents.
 *
 * An association and a task are resource kinds like a file system: a row
 * each (src/db/db_dra.c, db_task.c) holding the description AWS shows and
 * the document the file system's S3 agent is sent (docs/hsm.md); tags are
 * rows by ARN. A mutating handler is one transaction that checks, stores
 * and queues a JOB_HSM job; the provisioner starts and configures the
 * agent and turns its status into PROV_DRA_STATE and PROV_TASK_STATE
 * results, applied here (api_dra_apply, api_task_apply).
 */
#ifndef FSX_API_REPO_H
#define FSX_API_REPO_H

#include <stddef.h>

#include "api.h"
#include "api_ctx.h"
#include "prov.h"

/* handlers (ops.def) */
json_t	*api_dra_create(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_dra_describe(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_dra_update(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_dra_delete(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_task_create(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_task_describe(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_task_cancel(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);

/* Provisioner results (called by api_fs_apply inside no transaction). */
int	 api_dra_apply(const struct prov_result *r);
int	 api_task_apply(const struct prov_result *r);

/*
 * The legacy link of a file system description (its
 * LustreConfiguration.DataRepositoryConfiguration) as the association
 * "legacy": stored (inserted or replaced) with `lifecycle`, or removed
 * when the description has none. Inside the caller's transaction.
 */
int	 api_dra_legacy_put(const char *fs_id, const char *account,
	    const char *region, const json_t *desc, enum fs_lifecycle lc);

/* 1 when the caller may see the association or task named by an ARN's
 * resource part ("association/fs-.../dra-..." or "task/task-..."). */
int	 api_repo_arn_exists(const struct api_ctx *cx, const char *res);

/* --- shared (api_repo.c) --- */

/* "<prefix>-" and 17 hex digits. */
void	 api_repo_new_id(const char *prefix, char *out, size_t n);
/* NextToken: base64 of "<kind>1:<seq>"; parse gives -1 on anything else. */
json_t	*api_repo_cursor(const char *kind, long long seq);
int	 api_repo_cursor_parse(const char *kind, const char *tok,
	    long long *seq);
/* A page of a listing being assembled, in seq order. */
struct api_repo_page {
	json_t		*list;		/* descriptions */
	long long	 max, last;	/* at most max; seq of the last */
	int		 more;		/* a row was left for the next page */
};
/* Append a stored description with its lifecycle: 0, or 1 when the page
 * was full (pg->more is set; stop listing). */
int	 api_repo_page_add(struct api_repo_page *pg, long long seq,
	    const char *doc, const char *lifecycle);
/* {member: the page's list (taken), NextToken when more}; new reference. */
json_t	*api_repo_listing(const char *member, struct api_repo_page *pg,
	    const char *kind);
/* The values of the filter called name, or NULL (borrowed). */
const json_t *api_repo_filter(const json_t *in, const char *name);
/* 1 when values is NULL or holds s. */
int	 api_repo_filter_match(const json_t *values, const char *s);
/* Every file-system-id filter value must be the caller's. 0, or -1 with
 * FileSystemNotFound (also what api_absent.c answers). */
int	 api_repo_filter_fs_check(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
/*
 * A file system path: absolute, no empty, "." or ".." component, no
 * trailing slash but for "/". Normalised into out. 0 or -1.
 */
int	 api_repo_fs_path(const char *in, char *out, size_t n);
/* 1 when path a is b or lies under it (components), or b under a. */
int	 api_repo_fs_overlap(const char *a, const char *b);
/*
 * "s3://bucket[/prefix]" with a valid bucket name: bucket and prefix
 * (with a trailing '/' unless empty). 0 or -1.
 */
int	 api_repo_s3_path(const char *in, char *bucket, size_t blen,
	    char *prefix, size_t plen);
/* A description as stored: without Lifecycle and Tags (malloc'd). */
char	*api_repo_doc_text(const json_t *doc);
/* A stored description with its Lifecycle, or NULL. New reference. */
json_t	*api_repo_doc_out(const char *doc, const char *lifecycle);

#endif
