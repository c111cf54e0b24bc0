/*
 * One association's repository as the worker sees it (hsm_repo.c): paths
 * and keys, importing objects as released files, the bucket listings that
 * auto-import compares.
 *
 * Mapping: the file /fs_path/rel is the object prefix + rel; a directory
 * is the zero-byte object prefix + rel + "/" (FSx's directory marker).
 */
#ifndef FSX_HSM_REPO_H
#define FSX_HSM_REPO_H

#include "hsm/hsm.h"

struct fsc;

/* One object of a listing, as much as auto-import compares. */
struct hsm_obj {
	char		*key;
	uint64_t	 size;
	time_t		 mtime;
	char		 etag[80];
};
struct hsm_objs {
	struct hsm_obj	*v;
	size_t		 n, cap;
};
void	hsm_objs_free(struct hsm_objs *l);
/* Every object under prefix, in key order. */
int	hsm_objs_list(struct s3_client *s3, const char *bucket,
	    const char *prefix, struct hsm_objs *out, struct s3_error *e);
struct hsm_obj *hsm_objs_find(struct hsm_objs *l, const char *key);
/* Insert or update (key order kept). */
void	hsm_objs_put(struct hsm_objs *l, const char *key, uint64_t size,
	    const char *etag);
void	hsm_objs_del(struct hsm_objs *l, const char *key);
/* Same keys, ETags and sizes? */
int	hsm_objs_same(const struct hsm_objs *x, const struct hsm_objs *y);
/* The listing as a file (atomically replaced) and back: one line per
 * object, "etag TAB size TAB key" with % TAB CR LF escaped as %XX, after
 * a magic line; a file not of that form is -EBADMSG. */
int	hsm_objs_save(const char *path, const struct hsm_objs *l);
int	hsm_objs_load(const char *path, struct hsm_objs *out);

/* The association's directory, made when missing: its inode. */
int	hsm_repo_root(struct fsc *fs, const struct hsm_assoc *a,
	    uint64_t *ino);
/*
 * Import one object as a released file (or a directory for a marker):
 * its HeadObject metadata decides owner, group, mode and times; the
 * association's chunk size its stripe count. 0, 1 when skipped (the
 * prefix's own marker), or -errno; *code is FSx's report code for a
 * failure.
 */
int	hsm_repo_import(struct fsc *fs, struct s3_client *s3,
	    const struct hsm_assoc *a, uint64_t root, const struct hsm_obj *o,
	    const char **code);
/* rel (below fs_path) of an absolute path in the association, or NULL. */
const char *hsm_repo_rel(const struct hsm_assoc *a, const char *path);
/* Is path (absolute) at or below dir (absolute)? */
int	hsm_path_under(const char *path, const char *dir);

#endif
