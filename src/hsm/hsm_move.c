/*
 * A renamed directory or released file (MSG_HSM_MOVED from the MDS, with
 * "<old parent ino>/<old name>"): what FSx's auto-export does with it.
 * Every object of the directory (or the file's own) moves from its old key
 * to its new one:
 *
 *   directory      its marker "new/" is written (and "old/" deleted)
 *   symlink        written again under the new key (old deleted)
 *   clean file     CopyObject old -> new (S3 side: a released file needs
 *                  no data here; over s3.copy_max, 5 GiB, UploadPartCopy
 *                  parts: s3_copy), its origin set to the new key
 *   dirty file     exported under the new key
 *   never exported exported when the policy has NEW
 *
 * Old keys are deleted only when the association's export policy has
 * DELETED (else they stay, as FSx leaves them). Keys written or deleted
 * go into / out of the auto-import snapshot so they are not imported
 * back. Runs in the worker, one directory at a time; failures are logged
 * and leave the file as it was (dirty files stay dirty and are exported
 * by the next export).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc.h"
#include "hsm/hsm_fs.h"
#include "hsm/hsm_repo.h"
#include "hsm/hsm_task.h"
#include "hsm/hsm_xfer.h"

/* The association-relative paths of two inodes, found by one walk. */
struct find {
	uint64_t	ino[2];
	char		rel[2][MSG_PATH_MAX];
	int		found[2];
};

static int
find_visit(void *arg, const char *rel, const struct msg_attr *at)
{
	struct find *f = arg;

	for (int i = 0; i < 2; i++)
		if (!f->found[i] && at->ino == f->ino[i]) {
			snprintf(f->rel[i], sizeof(f->rel[i]), "%s", rel);
			f->found[i] = 1;
		}
	return f->found[0] && f->found[1];
}

struct mv {
	struct hsm_task_ctx	*tc;
	struct fsc		*fs;
	const struct hsm_assoc	*a;
	char			 oldrel[MSG_PATH_MAX]; /* the directory's */
	char			 newrel[MSG_PATH_MAX];
	uint64_t		 moved, failed;
};

/* Delete the old key when the policy says so; out of the snapshot. */
static void
old_drop(struct mv *m, const char *key)
{
	struct s3_error e;

	if (!(m->a->export_ev & HSM_EV_DELETED))
		return;
	if (s3_delete(m->tc->s3, m->a->bucket, key, &e) == 0)
		hsm_snap_forget(m->tc, m->a, key);
	else
		log_warn("hsm: move: delete of s3://%s/%s: %s %s",
		    m->a->bucket, key, e.code, e.message);
}

/* A regular file now at arel (association-relative), once at oldkey. */
static int
move_file(struct mv *m, const char *arel, const char *oldkey,
    const char *newkey, const struct msg_attr *at)
{
	char origin[2048], want[2048];
	struct msg_hsm_state st;
	struct s3_error e;
	int rc;

	memset(&e, 0, sizeof(e));
	if (hsm_fs_state(m->fs, at->ino, &st, origin, sizeof(origin)) < 0)
		st.flags = 0, origin[0] = '\0';
	snprintf(want, sizeof(want), "%s/%s", m->a->bucket, oldkey);
	if (!(st.flags & MSG_HSM_ARCHIVED) || strcmp(origin, want) != 0) {
		/* never exported from here: a new file */
		if (st.flags & MSG_HSM_ARCHIVED ||
		    !(m->a->export_ev & HSM_EV_NEW))
			return 0;
		return hsm_export_rel(m->tc, m->fs, m->a, arel, at->ino, &e);
	}
	if (st.flags & MSG_HSM_DIRTY) {
		rc = hsm_export_rel(m->tc, m->fs, m->a, arel, at->ino, &e);
	} else {
		rc = s3_copy(m->tc->s3, m->a->bucket, oldkey, newkey,
		    at->size, &e);
		snprintf(want, sizeof(want), "%s/%s", m->a->bucket, newkey);
		if (rc == 0)
			rc = hsm_fs_set(m->fs, at->ino, 0, 0, want, NULL);
		if (rc == 0)
			hsm_snap_note(m->tc, m->a, newkey, &e);
	}
	if (rc < 0) {
		log_warn("hsm: move of s3://%s/%s to %s: %s %s %s",
		    m->a->bucket, oldkey, newkey, strerror(-rc), e.code,
		    e.message);
		return rc;
	}
	old_drop(m, oldkey);
	return 0;
}

/* One entry below (or at, rel "") the moved directory. */
static int
move_one(struct mv *m, const char *rel, const struct msg_attr *at)
{
	const char *pfx = hsm_export_prefix(m->a), *sl = rel[0] ? "/" : "";
	const char *dsl = S_ISDIR(at->mode) ? "/" : "";
	char arel[MSG_PATH_MAX], oldkey[S3_KEY_MAX + 2], newkey[S3_KEY_MAX + 2];
	char target[MSG_PATH_MAX];
	struct s3_error e;
	size_t len = 0;
	int rc = 0;

	if (snprintf(arel, sizeof(arel), "%s%s%s", m->newrel, sl, rel) >=
	    (int)sizeof(arel) ||
	    snprintf(oldkey, sizeof(oldkey), "%s%s%s%s%s", pfx, m->oldrel,
	    sl, rel, dsl) > S3_KEY_MAX ||
	    snprintf(newkey, sizeof(newkey), "%s%s%s", pfx, arel, dsl) >
	    S3_KEY_MAX)
		return -ENAMETOOLONG;
	if (S_ISREG(at->mode))
		return move_file(m, arel, oldkey, newkey, at);
	if (!S_ISDIR(at->mode) && !S_ISLNK(at->mode))
		return 0;
	if (S_ISLNK(at->mode))
		rc = fsc_readlink(m->fs, at->ino, &hsm_root, target,
		    sizeof(target), &len);
	if (rc == 0)
		rc = hsm_export_marker(m->tc->h, m->tc->s3, m->a->bucket,
		    newkey, at, S_ISLNK(at->mode) ? target : NULL, len, &e);
	if (rc < 0)
		return rc;
	hsm_snap_note(m->tc, m->a, newkey, &e);
	old_drop(m, oldkey);
	return 0;
}

static int
move_visit(void *arg, const char *rel, const struct msg_attr *at)
{
	struct mv *m = arg;

	if (move_one(m, rel, at) < 0)
		m->failed++;
	else
		m->moved++;
	return 0;
}

void
hsm_move_dir(struct hsm_task_ctx *tc, struct fsc *fs,
    const struct hsm_assoc *a, uint64_t ino, const char *what)
{
	struct mv *m = xcalloc(1, sizeof(*m));
	struct find *f = xcalloc(1, sizeof(*f));
	struct msg_attr top, dir;
	const char *name = strchr(what, '/');
	char *end;

	f->ino[0] = ino;
	f->ino[1] = strtoull(what, &end, 10);
	if (name == NULL || end != name || name[1] == '\0' ||
	    strchr(name + 1, '/') != NULL || a->export_ev == 0 ||
	    hsm_fs_resolve(fs, a->fs_path, &top) < 0)
		goto out;
	if (f->ino[1] == top.ino)
		f->found[1] = 1;	/* moved from the association's top */
	if (!f->found[1] || !f->found[0])
		(void)hsm_fs_walk(fs, top.ino, find_visit, f);
	if (!f->found[0] || !f->found[1])
		goto out;		/* moved out of, or into, a */
	m->tc = tc;
	m->fs = fs;
	m->a = a;
	snprintf(m->newrel, sizeof(m->newrel), "%s", f->rel[0]);
	if (snprintf(m->oldrel, sizeof(m->oldrel), "%s%s%s", f->rel[1],
	    f->rel[1][0] ? "/" : "", name + 1) >= (int)sizeof(m->oldrel) ||
	    fsc_getattr(fs, ino, &hsm_root, &dir) < 0)
		goto out;
	move_visit(m, "", &dir);
	if (S_ISDIR(dir.mode))
		(void)hsm_fs_walk(fs, ino, move_visit, m);
	log_info("hsm: %s/%s moved to %s/%s: %" PRIu64 " objects, %" PRIu64
	    " failed", a->fs_path, m->oldrel, a->fs_path, m->newrel,
	    m->moved, m->failed);
out:
	free(f);
	free(m);
}
