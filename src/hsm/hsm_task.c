/*
 * The worker's repository work (see hsm_task.h): batch import, auto-import
 * by polling, auto-export of what the MDS reports written or unlinked,
 * repository tasks with their reports, and an association's data removal.
 *
 * Auto-import: each AVAILABLE association with import events keeps the
 * listing it saw last (a snapshot, in memory and in STORE/snap-<id>,
 * rewritten atomically after the changes it records were applied, so a
 * restarted agent compares its first listing with it). Every poll_ms the
 * prefix is listed again and compared:
 * a new key is imported (NEW), a key whose ETag changed is imported again
 * (CHANGED: the MDS updates a clean file of the same origin in place and
 * releases it), a key gone removes the file if it is clean and came from
 * that object (DELETED). What the agent exports itself is put in the
 * snapshot at once, so it is not imported back.
 *
 * Auto-export: ARCHIVE actions name written files; the worker walks each
 * association with export events once per batch of actions to find their
 * paths, and exports a file never archived (NEW) or archived before
 * (CHANGED). REMOVE actions (an archived file unlinked) delete the object
 * when the association has DELETED.
 */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc.h"
#include "hsm/hsm_fs.h"
#include "hsm/hsm_repo.h"
#include "hsm/hsm_task.h"
#include "hsm/hsm_xfer.h"

#define HSM_IMPORT_THREADS	4	/* objects imported at once */

/* ---- snapshots ---- */

/* STORE/snap-<id>, or NULL for an id that is no safe file name. */
static char *
snap_path(struct hsm_task_ctx *tc, const char *id)
{
	if (id[strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] != '\0')
		return NULL;
	return xasprintf("%s/snap-%s", tc->h->dir, id);
}

/* Forget a's listing, in memory and its file (mu held). */
static void
snap_drop(struct hsm_task_ctx *tc, struct hsm_snap *sn)
{
	char *path = snap_path(tc, sn->id);

	if (path != NULL)
		(void)unlink(path);
	free(path);
	hsm_objs_free(&sn->objs);
	sn->have = 0;
	sn->dirty = 0;
}

static struct hsm_snap *
snap_get(struct hsm_task_ctx *tc, const char *id)
{
	struct hsm_snap *free_slot = NULL;
	char *path;

	for (int i = 0; i < HSM_ASSOC_MAX; i++) {
		if (tc->snap[i].id[0] && strcmp(tc->snap[i].id, id) == 0)
			return &tc->snap[i];
		if (!tc->snap[i].id[0] && free_slot == NULL)
			free_slot = &tc->snap[i];
	}
	if (free_slot == NULL)
		return NULL;
	snprintf(free_slot->id, sizeof(free_slot->id), "%s", id);
	/* the listing a previous run applied last, if any */
	path = snap_path(tc, id);
	if (path != NULL && hsm_objs_load(path, &free_slot->objs) == 0)
		free_slot->have = 1;
	free(path);
	return free_slot;
}

/* Snapshots of associations no longer configured go (mu held). */
static void
snap_gc(struct hsm_task_ctx *tc)
{
	for (int i = 0; i < HSM_ASSOC_MAX; i++)
		if (tc->snap[i].id[0] &&
		    hsm_assoc_find(tc->h, tc->snap[i].id) == NULL) {
			snap_drop(tc, &tc->snap[i]);
			memset(&tc->snap[i], 0, sizeof(tc->snap[i]));
		}
}

int
hsm_snap_have(struct hsm_task_ctx *tc, const char *id)
{
	struct hsm_snap *sn;
	int have;

	pthread_mutex_lock(&tc->h->mu);
	sn = snap_get(tc, id);
	have = sn != NULL && sn->have;
	pthread_mutex_unlock(&tc->h->mu);
	return have;
}

void
hsm_snap_flush(struct hsm_task_ctx *tc)
{
	for (int i = 0; i < HSM_ASSOC_MAX; i++) {
		struct hsm_snap *sn = &tc->snap[i];
		char *path;
		int rc;

		if (!sn->id[0] || !sn->have || !sn->dirty)
			continue;
		path = snap_path(tc, sn->id);
		if (path == NULL)
			continue;
		rc = hsm_objs_save(path, &sn->objs);
		if (rc < 0)
			log_warn("%s: %s", path, strerror(-rc));
		else
			sn->dirty = 0;
		free(path);
	}
}

/* The association owning bucket/key, copied (mu taken). */
static int
assoc_of_key(struct hsm *h, const char *bucket, const char *key,
    struct hsm_assoc *out)
{
	int found = 0;

	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < h->nassoc && !found; i++) {
		const struct hsm_assoc *a = &h->assoc[i];

		if (strcmp(a->bucket, bucket) == 0 && strncmp(key, a->prefix,
		    strlen(a->prefix)) == 0) {
			*out = *a;
			found = 1;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return found;
}

static void
count_assoc(struct hsm *h, const char *id, uint64_t imported,
    uint64_t exported)
{
	struct hsm_assoc *a;

	pthread_mutex_lock(&h->mu);
	a = hsm_assoc_find(h, id);
	if (a != NULL) {
		a->imported += imported;
		a->exported += exported;
	}
	pthread_mutex_unlock(&h->mu);
}

/* ---- import ---- */

/* One import run, shared by its threads. */
struct imp {
	struct hsm_task_ctx	*tc;
	struct fsc		*fs;
	const struct hsm_assoc	*a;
	struct hsm_objs		*objs;	/* busy entries: etag cleared */
	struct hsm_objs		*old;
	unsigned		 ev;
	uint64_t		 root;
	struct buf		*report;
	struct s3_conf		 conf;
	pthread_mutex_t		 mu;	/* below, and the report */
	size_t			 next;
	uint64_t		 ok, bad;
};

/* Import objects until none is left; s3 is this thread's client. */
static void
imp_run(struct imp *m, struct s3_client *s3)
{
	for (;;) {
		struct hsm_obj *o, *was;
		const char *code;
		int rc;

		pthread_mutex_lock(&m->mu);
		o = m->next < m->objs->n ? &m->objs->v[m->next++] : NULL;
		pthread_mutex_unlock(&m->mu);
		if (o == NULL)
			return;
		/* old is only read while imports run */
		was = m->old ? hsm_objs_find(m->old, o->key) : NULL;
		if (m->old != NULL && was == NULL && !(m->ev & HSM_EV_NEW))
			continue;
		/* an empty ETag: the last pass failed to import it */
		if (m->old != NULL && was != NULL && was->etag[0] != '\0' &&
		    (!(m->ev & HSM_EV_CHANGED) ||
		    strcmp(was->etag, o->etag) == 0))
			continue;
		rc = hsm_repo_import(m->fs, s3, m->a, m->root, o, &code);
		if (rc == 1)
			continue;	/* the prefix's own marker */
		pthread_mutex_lock(&m->mu);
		if (rc == 0) {
			m->ok++;
		} else {
			/* its file was open: the next pass tries again (this
			   entry is this thread's alone) */
			if (m->old != NULL && rc == -EBUSY)
				o->etag[0] = '\0';
			m->bad++;
			log_warn("hsm: import of s3://%s/%s: %s (%s)",
			    m->a->bucket, o->key, strerror(-rc), code);
			if (m->report != NULL)
				hsm_report_line(m->report, o->key, code);
		}
		if (m->tc->progress != NULL)
			m->tc->progress(m->tc, rc < 0 ? 0 : 1, rc < 0 ? 1 : 0);
		pthread_mutex_unlock(&m->mu);
	}
}

static void *
imp_main(void *arg)
{
	struct imp *m = arg;
	struct s3_client *s3 = s3_client_new(&m->conf);

	if (s3 != NULL)
		imp_run(m, s3);
	s3_client_free(s3);
	return NULL;
}

int
hsm_import_objs(struct hsm_task_ctx *tc, struct fsc *fs,
    const struct hsm_assoc *a, struct hsm_objs *objs,
    struct hsm_objs *old, unsigned ev, uint64_t *ok, uint64_t *bad,
    struct buf *report)
{
	pthread_t thr[HSM_IMPORT_THREADS];
	struct imp *m;
	int rc, n = 0;

	m = xcalloc(1, sizeof(*m));
	rc = hsm_repo_root(fs, a, &m->root);
	if (rc < 0) {
		free(m);
		return rc;
	}
	m->tc = tc;
	m->fs = fs;
	m->a = a;
	m->objs = objs;
	m->old = old;
	m->ev = ev;
	m->report = report;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_lock(&tc->h->mu);
	m->conf = tc->h->s3;
	pthread_mutex_unlock(&tc->h->mu);
	/* HeadObject and the MDS round trips overlap: a few threads, each
	   with its client; this one works too */
	for (; objs->n > 64 && n < HSM_IMPORT_THREADS - 1; n++)
		if (pthread_create(&thr[n], NULL, imp_main, m) != 0)
			break;
	imp_run(m, tc->s3);
	for (int i = 0; i < n; i++)
		pthread_join(thr[i], NULL);
	*ok += m->ok;
	*bad += m->bad;
	explicit_bzero(&m->conf, sizeof(m->conf));
	pthread_mutex_destroy(&m->mu);
	free(m);
	return 0;
}

/* Unlink the file at absolute path (the agent as root). */
static int
unlink_path(struct fsc *fs, const char *path)
{
	char dirp[MSG_PATH_MAX];
	struct msg_attr dir;
	char *slash;
	int rc;

	if (snprintf(dirp, sizeof(dirp), "%s", path) >= (int)sizeof(dirp))
		return -ENAMETOOLONG;
	slash = strrchr(dirp, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	rc = hsm_fs_resolve(fs, dirp[0] ? dirp : "/", &dir);
	if (rc == 0)
		rc = fsc_unlink(fs, dir.ino, slash + 1, &hsm_root);
	return rc;
}

/* May the file (ino) go because its object `want` ("bucket/key") is gone:
 * it came from that object and holds nothing unexported. */
static int
prunable(struct fsc *fs, uint64_t ino, const char *want)
{
	struct msg_hsm_state st;
	char origin[2048];

	return hsm_fs_state(fs, ino, &st, origin, sizeof(origin)) == 0 &&
	    strcmp(origin, want) == 0 && !(st.flags & MSG_HSM_DIRTY);
}

/* Remove the files whose objects are gone (DELETED). */
static void
import_deletes(struct fsc *fs, const struct hsm_assoc *a,
    const struct hsm_objs *now, const struct hsm_objs *old)
{
	for (size_t i = 0; i < old->n; i++) {
		const char *key = old->v[i].key, *rel = key + strlen(a->prefix);
		char path[MSG_PATH_MAX], want[2048];
		struct msg_attr at;

		if (hsm_objs_find((struct hsm_objs *)now, key) != NULL ||
		    *rel == '\0' || rel[strlen(rel) - 1] == '/')
			continue;
		snprintf(path, sizeof(path), "%s/%s", a->fs_path, rel);
		snprintf(want, sizeof(want), "%s/%s", a->bucket, key);
		if (hsm_fs_resolve(fs, path, &at) == 0 && S_ISREG(at.mode) &&
		    prunable(fs, at.ino, want))
			(void)unlink_path(fs, path);
	}
}

/* The files of a's repository under `under` (a key prefix) whose objects
 * are not in objs, collected by hsm_import_prune's walk. */
struct prune {
	struct fsc		*fs;
	const struct hsm_assoc	*a;
	const char		*under;
	const struct hsm_objs	*objs;
	char			**path;
	size_t			 n;
};

static int
prune_visit(void *arg, const char *rel, const struct msg_attr *at)
{
	struct prune *p = arg;
	char key[S3_KEY_MAX + 1], want[2048];

	if (!S_ISREG(at->mode) ||
	    snprintf(key, sizeof(key), "%s%s", p->a->prefix, rel) >=
	    (int)sizeof(key) ||
	    strncmp(key, p->under, strlen(p->under)) != 0 ||
	    hsm_objs_find((struct hsm_objs *)p->objs, key) != NULL)
		return 0;
	snprintf(want, sizeof(want), "%s/%s", p->a->bucket, key);
	if (!prunable(p->fs, at->ino, want))
		return 0;
	p->path = realloc(p->path, (p->n + 1) * sizeof(*p->path));
	if (p->path == NULL)
		fatal("out of memory");
	p->path[p->n++] = xasprintf("%s%s%s", strcmp(p->a->fs_path, "/") ?
	    p->a->fs_path : "", "/", rel);
	return 0;
}

int
hsm_import_prune(struct fsc *fs, const struct hsm_assoc *a,
    const char *under, const struct hsm_objs *objs, uint64_t *removed)
{
	struct prune p = { fs, a, under, objs, NULL, 0 };
	struct msg_attr top;
	int rc;

	rc = hsm_fs_resolve(fs, a->fs_path, &top);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = hsm_fs_walk(fs, top.ino, prune_visit, &p);
	for (size_t i = 0; i < p.n; i++) {
		int r = unlink_path(fs, p.path[i]);

		if (r == 0)
			(*removed)++;
		else if (r != -ENOENT && rc == 0)
			rc = r;
		free(p.path[i]);
	}
	free(p.path);
	return rc;
}

int
hsm_assoc_import(struct hsm_task_ctx *tc, struct hsm_assoc *a)
{
	struct fsc *fs = hsm_fs_get(tc->h);
	struct hsm_snap *sn;
	struct hsm_objs objs;
	struct s3_error e;
	uint64_t ok = 0, bad = 0;
	int rc;

	if (fs == NULL && a->batch_import)
		return -ENOTCONN;
	rc = hsm_objs_list(tc->s3, a->bucket, a->prefix, &objs, &e);
	if (rc < 0)
		return rc;
	if (a->batch_import)
		rc = hsm_import_objs(tc, fs, a, &objs, NULL, 0, &ok, &bad,
		    NULL);
	count_assoc(tc->h, a->id, ok, 0);
	log_info("hsm: association %s: %zu objects listed, %" PRIu64
	    " imported, %" PRIu64 " failed", a->id, objs.n, ok, bad);
	pthread_mutex_lock(&tc->h->mu);
	sn = snap_get(tc, a->id);
	if (sn != NULL && a->import_ev != 0) {
		hsm_objs_free(&sn->objs);
		sn->objs = objs;
		sn->have = 1;
		sn->dirty = 1;
	} else {
		/* no auto-import: no listing kept (hsm_snap_note) */
		if (sn != NULL && sn->have)
			snap_drop(tc, sn);
		hsm_objs_free(&objs);
	}
	pthread_mutex_unlock(&tc->h->mu);
	return rc;
}

/* ---- removal of an association's data ---- */

struct rmlist {
	char	**path;
	size_t	  n, cap;
};

static int
rm_collect(void *arg, const char *rel, const struct msg_attr *attr)
{
	struct rmlist *l = arg;

	(void)attr;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->path = realloc(l->path, l->cap * sizeof(*l->path));
		if (l->path == NULL)
			fatal("out of memory");
	}
	l->path[l->n++] = xstrdup(rel);
	return 0;
}

int
hsm_assoc_delete_data(struct hsm_task_ctx *tc, struct hsm_assoc *a)
{
	struct fsc *fs = hsm_fs_get(tc->h);
	struct rmlist l = { NULL, 0, 0 };
	struct msg_attr top;
	int rc;

	if (fs == NULL)
		return -ENOTCONN;
	rc = hsm_fs_resolve(fs, a->fs_path, &top);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = hsm_fs_walk(fs, top.ino, rm_collect, &l);
	/* deepest first: children were collected after their parents */
	for (size_t i = l.n; i-- > 0;) {
		char path[MSG_PATH_MAX];
		struct msg_attr dir;
		char *slash;
		int r;

		r = snprintf(path, sizeof(path), "%s/%s", a->fs_path,
		    l.path[i]) >= (int)sizeof(path) ? -ENAMETOOLONG : 0;
		slash = strrchr(path, '/');
		*slash = '\0';
		if (r == 0)
			r = hsm_fs_resolve(fs, path, &dir);
		if (r == 0) {
			r = fsc_unlink(fs, dir.ino, slash + 1, &hsm_root);
			if (r == -EISDIR || r == -EPERM)
				r = fsc_rmdir(fs, dir.ino, slash + 1,
				    &hsm_root);
		}
		if (r < 0 && r != -ENOENT && rc == 0)
			rc = r;
		free(l.path[i]);
	}
	free(l.path);
	if (rc == 0 && strcmp(a->fs_path, "/") != 0) {
		char path[MSG_PATH_MAX];
		struct msg_attr dir;
		char *slash;

		snprintf(path, sizeof(path), "%s", a->fs_path);
		slash = strrchr(path, '/');
		*slash = '\0';
		if (hsm_fs_resolve(fs, path[0] ? path : "/", &dir) == 0)
			rc = fsc_rmdir(fs, dir.ino, slash + 1, &hsm_root);
		if (rc == -ENOENT)
			rc = 0;
	}
	return rc;
}

/* ---- auto-export ---- */

struct pending {
	uint64_t	*ino;
	uint8_t		*forced;	/* lfs hsm_archive: any policy */
	size_t		 n;
};

struct xwalk {
	struct hsm_task_ctx	*tc;
	struct fsc		*fs;
	const struct hsm_assoc	*a;
	struct pending		*p;
};

/* 0: not pending; 1: by policy; 2: forced. */
static int
pending_has(const struct pending *p, uint64_t ino)
{
	int how = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->ino[i] == ino && how < 1 + p->forced[i])
			how = 1 + p->forced[i];
	return how;
}

int
hsm_export_rel(struct hsm_task_ctx *tc, struct fsc *fs, const struct hsm_assoc *a,
    const char *rel, uint64_t ino, struct s3_error *e)
{
	char key[S3_KEY_MAX + 1];
	int rc;

	memset(e, 0, sizeof(*e));
	if (snprintf(key, sizeof(key), "%s%s", hsm_export_prefix(a), rel) >=
	    (int)sizeof(key))
		return -ENAMETOOLONG;
	rc = hsm_export_file(tc->h, fs, tc->s3, ino, a->bucket, key, e);
	if (rc < 0)
		return rc;
	count_assoc(tc->h, a->id, 0, 1);
	hsm_snap_note(tc, a, key, e);
	return 0;
}

void
hsm_snap_forget(struct hsm_task_ctx *tc, const struct hsm_assoc *a,
    const char *key)
{
	struct hsm_snap *sn;

	pthread_mutex_lock(&tc->h->mu);
	sn = snap_get(tc, a->id);
	if (sn != NULL && sn->have && hsm_objs_find(&sn->objs, key) != NULL) {
		hsm_objs_del(&sn->objs, key);
		sn->dirty = 1;
	}
	pthread_mutex_unlock(&tc->h->mu);
}

void
hsm_snap_note(struct hsm_task_ctx *tc, const struct hsm_assoc *a,
    const char *key, struct s3_error *e)
{
	struct s3_object *head;
	struct hsm_snap *sn;

	if (strncmp(key, a->prefix, strlen(a->prefix)) != 0)
		return;		/* exported outside the listed prefix */
	if (a->import_ev == 0) {
		/* no auto-import: no listing to keep in step (a HeadObject
		   per export saved); one turned on later starts afresh */
		pthread_mutex_lock(&tc->h->mu);
		sn = snap_get(tc, a->id);
		if (sn != NULL && sn->have)
			snap_drop(tc, sn);
		pthread_mutex_unlock(&tc->h->mu);
		return;
	}
	head = xcalloc(1, sizeof(*head));
	if (s3_head_object(tc->s3, a->bucket, key, head, e) == 0) {
		pthread_mutex_lock(&tc->h->mu);
		sn = snap_get(tc, a->id);
		if (sn != NULL && sn->have) {
			hsm_objs_put(&sn->objs, key, head->size, head->etag);
			sn->dirty = 1;
		}
		pthread_mutex_unlock(&tc->h->mu);
	}
	free(head);
}

static int
xwalk_file(void *arg, const char *rel, const struct msg_attr *at)
{
	struct xwalk *w = arg;
	struct msg_hsm_state st;
	struct s3_error e;
	unsigned need;
	int rc;

	int how;

	if ((how = pending_has(w->p, at->ino)) == 0)
		return 0;
	if (S_ISDIR(at->mode) || S_ISLNK(at->mode)) {
		/* made here: exported as FSx does, if NEW is on */
		char key[S3_KEY_MAX + 2], target[MSG_PATH_MAX];
		size_t len = 0;

		if (!(w->a->export_ev & HSM_EV_NEW) && how < 2)
			return 0;
		if (snprintf(key, sizeof(key), "%s%s%s",
		    hsm_export_prefix(w->a), rel,
		    S_ISDIR(at->mode) ? "/" : "") >= (int)sizeof(key))
			return 0;
		if (S_ISLNK(at->mode) && fsc_readlink(w->fs, at->ino,
		    &hsm_root, target, sizeof(target), &len) < 0)
			return 0;
		rc = hsm_export_marker(w->tc->h, w->tc->s3, w->a->bucket, key,
		    at, target, len, &e);
		if (rc == 0)
			hsm_snap_note(w->tc, w->a, key, &e);
		else
			log_warn("hsm: auto-export of %s/%s: %s %s", w->a->fs_path,
			    rel, e.code, e.message);
		return 0;
	}
	if (!S_ISREG(at->mode))
		return 0;
	if (hsm_fs_state(w->fs, at->ino, &st, NULL, 0) < 0)
		return 0;
	if ((st.flags & MSG_HSM_ARCHIVED) && !(st.flags & MSG_HSM_DIRTY))
		return 0;	/* exported already */
	need = (st.flags & MSG_HSM_EXISTS) ? HSM_EV_CHANGED : HSM_EV_NEW;
	if (!(w->a->export_ev & need) && how < 2)
		return 0;
	rc = hsm_export_rel(w->tc, w->fs, w->a, rel, at->ino, &e);
	if (rc < 0)
		log_warn("hsm: auto-export of %s/%s: %s %s %s",
		    w->a->fs_path, rel, strerror(-rc), e.code, e.message);
	return 0;
}

/* ARCHIVE and REMOVE actions (mu not held). */
static void
events_run(struct hsm_task_ctx *tc, struct hsm_action *list)
{
	struct hsm *h = tc->h;
	struct pending p = { NULL, NULL, 0 };
	struct hsm_assoc as[HSM_ASSOC_MAX];
	struct fsc *fs = hsm_fs_get(h);
	int na, moved = 0;

	for (struct hsm_action *a = list; a != NULL; a = a->next) {
		char bucket[64];
		const char *key;
		struct hsm_assoc asc;
		struct s3_error e;

		if (a->action == MSG_HSM_ARCHIVE ||
		    a->action == MSG_HSM_ARCHIVE_NOW) {
			p.ino = realloc(p.ino, (p.n + 1) * sizeof(*p.ino));
			p.forced = realloc(p.forced, p.n + 1);
			if (p.ino == NULL || p.forced == NULL)
				fatal("out of memory");
			p.forced[p.n] = a->action == MSG_HSM_ARCHIVE_NOW;
			p.ino[p.n++] = a->ino;
			continue;
		}
		if (a->action == MSG_HSM_MOVED) {
			moved = 1;
			continue;
		}
		if (a->action != MSG_HSM_REMOVE ||
		    hsm_origin_split(a->origin, bucket, sizeof(bucket),
		    &key) < 0 || !assoc_of_key(h, bucket, key, &asc) ||
		    !(asc.export_ev & HSM_EV_DELETED))
			continue;
		if (s3_delete(tc->s3, bucket, key, &e) == 0) {
			struct hsm_snap *sn;

			pthread_mutex_lock(&h->mu);
			h->n_removed++;
			sn = snap_get(tc, asc.id);
			if (sn != NULL) {
				hsm_objs_del(&sn->objs, key);
				sn->dirty = 1;
			}
			pthread_mutex_unlock(&h->mu);
		} else {
			log_warn("hsm: delete of s3://%s/%s: %s %s", bucket,
			    key, e.code, e.message);
		}
	}
	if ((p.n > 0 || moved) && fs != NULL) {
		pthread_mutex_lock(&h->mu);
		na = h->nassoc;
		memcpy(as, h->assoc, (size_t)na * sizeof(as[0]));
		pthread_mutex_unlock(&h->mu);
		for (int i = 0; i < na; i++) {
			struct xwalk w = { tc, fs, &as[i], &p };
			struct msg_attr top;

			if (strcmp(as[i].state, "AVAILABLE") != 0 ||
			    hsm_fs_resolve(fs, as[i].fs_path, &top) < 0)
				continue;
			if (p.n > 0)
				(void)hsm_fs_walk(fs, top.ino, xwalk_file, &w);
			/* renamed directories, in the order they came */
			for (struct hsm_action *a = list; a != NULL;
			    a = a->next)
				if (a->action == MSG_HSM_MOVED)
					hsm_move_dir(tc, fs, &as[i], a->ino,
					    a->origin);
		}
	}
	free(p.ino);
	free(p.forced);
}

/* ---- the poll ---- */

int
hsm_poll_due(struct hsm_task_ctx *tc)
{
	return tc->h->events != NULL || now_mono_ns() >= tc->poll_next_ns;
}

/* One association's auto-import round (mu not held). */
static void
poll_one(struct hsm_task_ctx *tc, struct hsm_assoc *a)
{
	struct hsm *h = tc->h;
	struct fsc *fs = hsm_fs_get(h);
	struct hsm_objs now, old;
	struct hsm_snap *sn;
	struct s3_error e;
	uint64_t ok = 0, bad = 0;
	int have, rc;

	rc = hsm_objs_list(tc->s3, a->bucket, a->prefix, &now, &e);
	if (rc == -EACCES || rc == -ENOENT) {
		/* access taken away, or the bucket deleted: auto-import
		   stops (MISCONFIGURED, checked again; FAILED for good) */
		char state[HSM_STATE_MAX], message[HSM_MSG_MAX];
		struct hsm_assoc *x;

		hsm_check_verdict(rc, &e, a->bucket, state, message);
		log_warn("hsm: auto-import %s: %s: %s", a->id, state, message);
		pthread_mutex_lock(&h->mu);
		x = hsm_assoc_find(h, a->id);
		if (x != NULL && !x->work &&
		    strcmp(x->state, "AVAILABLE") == 0)
			hsm_assoc_verdict(h, x, state, message);
		pthread_mutex_unlock(&h->mu);
	}
	if (rc < 0)
		return;
	if (fs == NULL) {
		hsm_objs_free(&now);	/* nothing applied: compared again */
		return;
	}
	pthread_mutex_lock(&h->mu);
	sn = snap_get(tc, a->id);
	have = sn != NULL && sn->have;
	old = have ? sn->objs : (struct hsm_objs){ NULL, 0, 0 };
	if (sn != NULL) {
		sn->objs = (struct hsm_objs){ NULL, 0, 0 };
		sn->have = 0;	/* ours while we work */
	}
	pthread_mutex_unlock(&h->mu);
	if (have) {
		(void)hsm_import_objs(tc, fs, a, &now, &old, a->import_ev,
		    &ok, &bad, NULL);
		if (a->import_ev & HSM_EV_DELETED)
			import_deletes(fs, a, &now, &old);
		if (ok > 0)
			log_info("hsm: auto-import %s: %" PRIu64 " files",
			    a->id, ok);
	}
	count_assoc(h, a->id, ok, 0);
	pthread_mutex_lock(&h->mu);
	sn = snap_get(tc, a->id);
	if (sn != NULL) {
		hsm_objs_free(&sn->objs);
		/* written after the changes are applied: a kill before
		   replays them (idempotent), never misses them */
		sn->dirty = !have || !hsm_objs_same(&now, &old);
		sn->objs = now;
		sn->have = 1;
	} else {
		hsm_objs_free(&now);
	}
	pthread_mutex_unlock(&h->mu);
	hsm_objs_free(&old);
}

void
hsm_poll(struct hsm_task_ctx *tc)
{
	struct hsm *h = tc->h;
	struct hsm_action *ev = h->events;
	struct hsm_assoc as[HSM_ASSOC_MAX];
	int na = h->nassoc, due = now_mono_ns() >= tc->poll_next_ns;

	h->events = NULL;
	memcpy(as, h->assoc, (size_t)na * sizeof(as[0]));
	if (due)
		tc->poll_next_ns = now_mono_ns() +
		    (uint64_t)h->poll_ms * 1000000ull;
	snap_gc(tc);
	pthread_mutex_unlock(&h->mu);
	if (ev != NULL)
		events_run(tc, ev);
	while (ev != NULL) {
		struct hsm_action *n = ev->next;

		free(ev);
		ev = n;
	}
	for (int i = 0; due && i < na; i++)
		if (as[i].import_ev != 0 &&
		    strcmp(as[i].state, "AVAILABLE") == 0)
			poll_one(tc, &as[i]);
	pthread_mutex_lock(&h->mu);
}

void
hsm_task_ctx_fini(struct hsm_task_ctx *tc)
{
	for (int i = 0; i < HSM_ASSOC_MAX; i++)
		hsm_objs_free(&tc->snap[i].objs);
	hsm_fs_fini(tc->h);
}
