/*
 * Backups as a resource kind (docs/backups.md): CreateBackup,
 * DescribeBackups, DeleteBackup, CopyBackup (api_backup.c),
 * CreateFileSystemFromBackup (api_backup_restore.c), final backups for
 * DeleteFileSystem, automatic backups and what the provisioner reports
 * about backups (api_backup_auto.c).
 */
#ifndef FSX_API_BACKUP_H
#define FSX_API_BACKUP_H

#include "api.h"
#include "api_ctx.h"
#include "core/kinds.h"
#include "db/db.h"
#include "prov.h"

json_t	*api_backup_create(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_backup_describe(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_backup_delete(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_backup_copy(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);
json_t	*api_backup_restore(struct api_ctx *cx, const json_t *in,
	    struct api_error *err);

/* 1 when backup id exists for the caller (TagResource on its ARN). */
int	 api_backup_exists(const struct api_ctx *cx, const char *id);

/*
 * Inside a transaction: a new backup of file system `fsd` (its current
 * description, with Tags) of `type`, with `tags` (NULL: the file
 * system's when CopyTagsToBackups), its row and its job; the id in
 * id_out. Checks nothing; 0 or -errno.
 */
int	 api_backup_new(const json_t *fsd, enum backup_type type,
	    const json_t *tags, char *id_out, size_t len);
/* Why file system `fsd` cannot be backed up (a message), or NULL. */
const char *api_backup_refusal(const json_t *fsd);

/* Provisioner results about backups (api_fs_apply hands them over). */
int	 api_backup_apply(const struct prov_result *r);
/* Inside a transaction: fs_id is gone; its automatic backups go too. */
int	 api_backup_fs_gone(const char *fs_id);

#endif
