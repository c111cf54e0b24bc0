/*
 * What the worker does beyond bucket checks (hsm_task.c): repository
 * tasks, an association's batch import and data deletion, and the
 * auto-import poll. Called from the worker thread only.
 *
 * hsm_task_exec and hsm_poll are entered with h->mu held, drop it while
 * they work and hold it again when they return; the others run without it.
 */
#ifndef FSX_HSM_TASK_H
#define FSX_HSM_TASK_H

#include "hsm/hsm.h"
#include "hsm/hsm_repo.h"

struct fsc;

/* The listing auto-import compares against, per association; kept in
 * STORE/snap-<id> too (hsm_snap_flush), so a restarted agent compares
 * its first listing with the last one it applied. */
struct hsm_snap {
	char		id[HSM_ID_MAX];		/* "" = free slot */
	int		have;
	int		dirty;		/* objs differ from the file */
	struct hsm_objs	objs;
};

struct hsm_task_ctx {
	struct hsm		*h;
	struct s3_client	*s3;
	uint64_t		 poll_next_ns;
	struct hsm_snap		 snap[HSM_ASSOC_MAX];
	/* set while a task runs: per-file progress (ok, failed) */
	void			(*progress)(struct hsm_task_ctx *tc,
				    uint64_t ok, uint64_t bad);
	void			*progress_arg;
};

struct buf;

/* Import every object of objs (all, or with `old` only the new and the
 * changed ones as ev allows); counts into *ok and *bad, failures as CSV
 * lines into report (may be NULL). With `old`, an object whose import
 * failed because its file was open (-EBUSY from the MDS) has its ETag in
 * objs cleared, so that the next pass, comparing against objs, tries
 * again; other failures (a dirty file, a name that is a directory) wait
 * for the object to change again. */
int	hsm_import_objs(struct hsm_task_ctx *tc, struct fsc *fs,
	    const struct hsm_assoc *a, struct hsm_objs *objs,
	    struct hsm_objs *old, unsigned ev, uint64_t *ok, uint64_t *bad,
	    struct buf *report);
/* IMPORT_METADATA_FROM_REPOSITORY's deletions: unlink the files of a
 * whose keys start with `under` and are not in objs, when they came from
 * that key and are not dirty; counts into *removed. */
int	hsm_import_prune(struct fsc *fs, const struct hsm_assoc *a,
	    const char *under, const struct hsm_objs *objs,
	    uint64_t *removed);
/* Export the file rel (below the association's fs_path), whatever the
 * policy says, and keep the auto-import snapshot in step. */
int	hsm_export_rel(struct hsm_task_ctx *tc, struct fsc *fs,
	    const struct hsm_assoc *a, const char *rel, uint64_t ino,
	    struct s3_error *e);
/* What the agent wrote (key, HeadObject for its ETag) or deleted is no
 * change for auto-import to apply: into / out of a's snapshot. */
void	hsm_snap_note(struct hsm_task_ctx *tc, const struct hsm_assoc *a,
	    const char *key, struct s3_error *e);
void	hsm_snap_forget(struct hsm_task_ctx *tc, const struct hsm_assoc *a,
	    const char *key);
/* hsm_move.c: a renamed directory's objects to its new keys (MOVED). */
void	hsm_move_dir(struct hsm_task_ctx *tc, struct fsc *fs,
	    const struct hsm_assoc *a, uint64_t ino, const char *what);
/* One failure line of a report in FSx's CSV (RFC 4180 quoting, and a
 * path starting with @ + - = wrapped once more). */
void	hsm_report_line(struct buf *b, const char *path, const char *code);

/* hsm_dra.c: one repository task, start to end */
void	hsm_task_exec(struct hsm_task_ctx *tc, struct hsm_task *t);
int	hsm_assoc_import(struct hsm_task_ctx *tc, struct hsm_assoc *a);
int	hsm_assoc_delete_data(struct hsm_task_ctx *tc, struct hsm_assoc *a);
int	hsm_poll_due(struct hsm_task_ctx *tc);
void	hsm_poll(struct hsm_task_ctx *tc);
void	hsm_task_ctx_fini(struct hsm_task_ctx *tc);
/* Has the association a listing (it was imported once)? mu not held. */
int	hsm_snap_have(struct hsm_task_ctx *tc, const char *id);
/* Write the snapshots changed since their last write (worker only). */
void	hsm_snap_flush(struct hsm_task_ctx *tc);

#endif
