/*
 * Moving data between S3 and the file system (hsm_xfer.c): restores and
 * the export of one file, and FSx's POSIX metadata in S3 user metadata:
 *   x-amz-meta-file-permissions  "0100644" (st_mode, octal)
 *   x-amz-meta-file-owner        "1000"
 *   x-amz-meta-file-group        "1000"
 *   x-amz-meta-file-atime        "1595002920000000000ns"
 *   x-amz-meta-file-mtime        "1595002920000000000ns"
 */
#ifndef FSX_HSM_XFER_H
#define FSX_HSM_XFER_H

#include "hsm/hsm.h"

struct fsc;

/* "bucket/key" -> bucket (copied) and key (points into origin). */
int	hsm_origin_split(const char *origin, char *bucket, size_t blen,
	    const char **key);
/* The data of a released file back from its origin (see hsm_xfer.c). */
int	hsm_restore_one(struct hsm *h, struct fsc *fs, uint64_t ino,
	    const char *origin);
/* The file's POSIX attributes as user metadata (m: at least 5); count. */
int	hsm_posix_meta(const struct msg_attr *a, struct s3_meta *m);
/* What an object's user metadata says, over im's defaults. */
void	hsm_posix_from_meta(const struct s3_object *o,
	    struct msg_hsm_import *im);
/* A directory marker ("rel/", no data) or a symlink (data: the target)
 * with the POSIX metadata of at. */
int	hsm_export_marker(struct hsm *h, struct s3_client *s3,
	    const char *bucket, const char *key, const struct msg_attr *at,
	    const void *data, size_t len, struct s3_error *e);
/* Upload the file's data as bucket/key, then mark it ARCHIVED (clean,
 * origin set) unless it changed meanwhile (-ESTALE); S3's own errors as
 * s3.h says (-EAGAIN: retries exhausted). */
int	hsm_export_file(struct hsm *h, struct fsc *fs, struct s3_client *s3,
	    uint64_t ino, const char *bucket, const char *key,
	    struct s3_error *e);

#endif
