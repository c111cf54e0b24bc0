/*
 * Data repository tasks (docs/hsm.md "Task"): one at a time, run by the
 * worker from PENDING to SUCCEEDED, FAILED or CANCELED.
 *
 *   EXPORT_TO_REPOSITORY      paths in the file system (default: every
 *                             association); files new or changed since
 *                             their last export are exported, directories
 *                             as "dir/" markers, symlinks as objects
 *                             holding the target, all with FSx's POSIX
 *                             metadata.
 *   IMPORT_METADATA_FROM_REPOSITORY  paths s3://bucket/prefix (default:
 *                             every association); new and changed objects
 *                             become released files.
 *   RELEASE_DATA_FROM_FILESYSTEM, AUTO_RELEASE_DATA  paths in the file
 *                             system; archived clean files whose last
 *                             access, change and modification are all
 *                             older than duration_days before the task
 *                             started lose their data (kept in S3).
 *
 * Counters are updated in the record after every file, so HSM_STATUS
 * shows them moving; a cancel is seen between files. A path outside
 * every association fails the task (FSx). The report (FAILED_FILES_ONLY,
 * REPORT_CSV_20191124) is written to {path}/task-{id}/failures.csv
 * (report.csv for imports), path defaulting to the first association's
 * repository root.
 */
#include <errno.h>
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

struct run {
	struct hsm_task_ctx	*tc;
	struct fsc		*fs;
	char			 id[HSM_ID_MAX];
	char			 type[40];
	json_t			*doc;
	struct hsm_assoc	 as[HSM_ASSOC_MAX];
	int			 na;
	struct buf		 report;
	time_t			 start;
	int64_t			 max_age;	/* release: seconds */
	int			 canceled;
	int			 bad_path;
	int			 list_failed;	/* a listing failed */
	char			 s3err[HSM_MSG_MAX / 2]; /* the last */
	const struct hsm_assoc	*a;		/* of the current walk */
	char			 base[MSG_PATH_MAX]; /* its walk's root rel */
};

void
hsm_report_line(struct buf *b, const char *path, const char *code)
{
	int wrap = strchr("@+-=", path[0]) != NULL && path[0] != '\0';
	int quote = wrap || strpbrk(path, "\",\r\n") != NULL;

	if (quote) {
		buf_adds(b, wrap ? "\"\"\"" : "\"");
		for (const char *p = path; *p; p++) {
			if (*p == '"')
				buf_add(b, "\"", 1);
			buf_add(b, p, 1);
		}
		buf_adds(b, wrap ? "\"\"\"" : "\"");
	} else {
		buf_adds(b, path);
	}
	buf_printf(b, ",failed,%s\n", code);
}

/* Counters into the record; 1 when the task is being cancelled. */
static int
progress(struct run *r, uint64_t total, uint64_t ok, uint64_t bad,
    uint64_t released)
{
	struct hsm_task *t;
	int cancel = 1;

	pthread_mutex_lock(&r->tc->h->mu);
	t = hsm_task_find(r->tc->h, r->id);
	if (t != NULL) {
		t->total += total;
		t->succeeded += ok;
		t->failed += bad;
		t->released += released;
		cancel = t->cancel;
	}
	pthread_mutex_unlock(&r->tc->h->mu);
	r->canceled |= cancel;
	return cancel;
}

static void
import_progress(struct hsm_task_ctx *tc, uint64_t ok, uint64_t bad)
{
	struct run *r = tc->progress_arg;

	(void)progress(r, ok + bad, ok, bad, 0);
}

/* An S3 failure the task's message will name. */
static void
s3_note(struct run *r, const struct s3_error *e)
{
	int n = snprintf(r->s3err, sizeof(r->s3err), "%s", e->code);

	if (e->message[0] != '\0' && n >= 0 && (size_t)n < sizeof(r->s3err))
		snprintf(r->s3err + n, sizeof(r->s3err) - (size_t)n,
		    ": %.200s", e->message);
}

/* The task's paths (NULL-ended, absolute for fs paths); `def` when none. */
static char **
task_paths(json_t *doc, int fs_paths)
{
	json_t *p = json_object_get(doc, "paths"), *v;
	size_t n = json_is_array(p) ? json_array_size(p) : 0, i;
	char **out = xcalloc(n + 1, sizeof(*out));

	json_array_foreach(p, i, v) {
		const char *s = json_string_value(v);

		if (fs_paths && s[0] != '/')
			out[i] = xasprintf("/%s", s);
		else
			out[i] = xstrdup(s);
	}
	return out;
}

static void
paths_free(char **v)
{
	for (char **p = v; p != NULL && *p != NULL; p++)
		free(*p);
	free(v);
}

/* ---- export ---- */

static int
export_visit(void *arg, const char *rel0, const struct msg_attr *at)
{
	struct run *r = arg;
	char rel[MSG_PATH_MAX], key[S3_KEY_MAX + 2], shown[MSG_PATH_MAX];
	struct msg_hsm_state st;
	struct s3_error e;
	int rc = 0;

	int n1, n2;

	n1 = snprintf(rel, sizeof(rel), "%s%s%s", r->base,
	    r->base[0] && rel0[0] ? "/" : "", rel0);
	n2 = snprintf(shown, sizeof(shown), "%s%s%s", r->a->fs_path + 1,
	    r->a->fs_path[1] ? "/" : "", rel);
	if (n1 >= (int)sizeof(rel) || n2 >= (int)sizeof(shown) ||
	    strlen(hsm_export_prefix(r->a)) + strlen(rel) + 1 > S3_KEY_MAX) {
		hsm_report_line(&r->report, rel0, "PathSizeTooLong");
		return progress(r, 1, 0, 1, 0);
	}
	memset(&e, 0, sizeof(e));
	if (S_ISREG(at->mode)) {
		if (hsm_fs_state(r->fs, at->ino, &st, NULL, 0) == 0 &&
		    (st.flags & MSG_HSM_ARCHIVED) &&
		    !(st.flags & MSG_HSM_DIRTY))
			return 0;	/* exported already */
		rc = hsm_export_rel(r->tc, r->fs, r->a, rel, at->ino, &e);
	} else if (S_ISDIR(at->mode) && rel[0] != '\0') {
		if (snprintf(key, sizeof(key), "%s%s/",
		    hsm_export_prefix(r->a), rel) >= (int)sizeof(key))
			return 0;	/* checked above */
		rc = hsm_export_marker(r->tc->h, r->tc->s3, r->a->bucket, key,
		    at, NULL, 0, &e);
	} else if (S_ISLNK(at->mode)) {
		char target[MSG_PATH_MAX];
		size_t len;

		if (snprintf(key, sizeof(key), "%s%s",
		    hsm_export_prefix(r->a), rel) >= (int)sizeof(key))
			return 0;	/* checked above */
		rc = fsc_readlink(r->fs, at->ino, &hsm_root, target,
		    sizeof(target), &len);
		if (rc == 0)
			rc = hsm_export_marker(r->tc->h, r->tc->s3,
			    r->a->bucket, key, at, target, len, &e);
	} else {
		return 0;
	}
	if (rc < 0 && rc != -ESTALE) {
		hsm_report_line(&r->report, shown, rc == -EACCES ?
		    "S3AccessDenied" : e.code[0] ? "S3Error" : "InternalError");
		if (e.code[0] != '\0')
			s3_note(r, &e);
	}
	return progress(r, 1, rc < 0 ? 0 : 1, rc < 0 ? 1 : 0, 0);
}

/* ---- release ---- */

static int
release_visit(void *arg, const char *rel, const struct msg_attr *at)
{
	struct run *r = arg;
	struct msg_hsm_state st;
	int64_t last;
	int rc;

	(void)rel;
	if (!S_ISREG(at->mode) ||
	    hsm_fs_state(r->fs, at->ino, &st, NULL, 0) < 0 ||
	    !(st.flags & MSG_HSM_ARCHIVED) ||
	    (st.flags & (MSG_HSM_DIRTY | MSG_HSM_RELEASED | MSG_HSM_LOST)))
		return r->canceled;
	last = at->atime_sec;
	if (at->mtime_sec > last)
		last = at->mtime_sec;
	if (at->ctime_sec > last)
		last = at->ctime_sec;
	if (r->max_age > 0 && (int64_t)r->start - last < r->max_age)
		return r->canceled;
	rc = hsm_fs_set(r->fs, at->ino, MSG_HSM_RELEASED, 0, NULL, NULL);
	if (rc < 0) {
		char shown[MSG_PATH_MAX];

		snprintf(shown, sizeof(shown), "%s%s%s", r->a->fs_path + 1,
		    r->a->fs_path[1] ? "/" : "", rel);
		hsm_report_line(&r->report, shown, rc == -EBUSY ?
		    "ResourceBusy" : "InternalError");
	}
	return progress(r, 1, rc == 0, rc < 0, rc == 0 ? at->size : 0);
}

/* Walk the part of fs path `p` inside each association with fn. */
static void
walk_paths(struct run *r, char **paths, hsm_walk_fn fn)
{
	for (char **p = paths; *p != NULL && !r->canceled; p++) {
		int hit = 0;

		for (int i = 0; i < r->na && !r->canceled; i++) {
			const struct hsm_assoc *a = &r->as[i];
			const char *start;
			struct msg_attr top;

			if (hsm_path_under(*p, a->fs_path))
				start = *p;	/* inside the association */
			else if (hsm_path_under(a->fs_path, *p))
				start = a->fs_path;	/* contains it */
			else
				continue;
			hit = 1;
			r->a = a;
			snprintf(r->base, sizeof(r->base), "%s",
			    hsm_repo_rel(a, start));
			if (hsm_fs_resolve(r->fs, start, &top) < 0) {
				r->bad_path = 1;
				continue;
			}
			if (S_ISDIR(top.mode))
				(void)hsm_fs_walk(r->fs, top.ino, fn, r);
			else {
				/* one file: its rel is the base itself */
				char base[MSG_PATH_MAX];

				snprintf(base, sizeof(base), "%s", r->base);
				r->base[0] = '\0';
				(void)fn(r, base, &top);
			}
		}
		if (!hit)
			r->bad_path = 1;
	}
}

/* ---- import ---- */

static void
count_imported(struct run *r, const struct hsm_assoc *a, uint64_t ok)
{
	struct hsm_assoc *x;

	pthread_mutex_lock(&r->tc->h->mu);
	x = hsm_assoc_find(r->tc->h, a->id);
	if (x != NULL)
		x->imported += ok;
	pthread_mutex_unlock(&r->tc->h->mu);
}


static void
import_paths(struct run *r, char **paths)
{
	for (char **p = paths; *p != NULL && !r->canceled; p++) {
		char bucket[64], prefix[S3_KEY_MAX + 1];
		int hit = 0;

		if (s3_url_split(*p, bucket, sizeof(bucket), prefix,
		    sizeof(prefix)) < 0) {
			r->bad_path = 1;
			continue;
		}
		for (int i = 0; i < r->na && !r->canceled; i++) {
			const struct hsm_assoc *a = &r->as[i];
			const char *list_prefix;
			struct hsm_objs objs;
			struct s3_error e;
			uint64_t ok = 0, bad = 0, removed;

			if (strcmp(a->bucket, bucket) != 0)
				continue;
			if (strncmp(prefix, a->prefix, strlen(a->prefix)) == 0)
				list_prefix = prefix;
			else if (strncmp(a->prefix, prefix,
			    strlen(prefix)) == 0)
				list_prefix = a->prefix;
			else
				continue;
			hit = 1;
			if (hsm_objs_list(r->tc->s3, bucket, list_prefix,
			    &objs, &e) < 0) {
				/* nothing listed: nothing imported or
				   removed */
				s3_note(r, &e);
				r->list_failed = 1;
				continue;
			}
			(void)hsm_import_objs(r->tc, r->fs, a, &objs, NULL, 0,
			    &ok, &bad, &r->report);
			count_imported(r, a, ok);
			/* objects gone from the bucket: their files go too
			   (clean ones from those objects) */
			removed = 0;
			if (!r->canceled && hsm_import_prune(r->fs, a,
			    list_prefix, &objs, &removed) < 0)
				r->bad_path = 1;
			(void)progress(r, removed, removed, 0, 0);
			hsm_objs_free(&objs);
		}
		if (!hit)
			r->bad_path = 1;
	}
}

/* ---- the report ---- */

static void
report_write(struct run *r, struct hsm_task *t)
{
	json_t *rep = json_object_get(r->doc, "report");
	const char *path = json_string_value(json_object_get(rep, "path"));
	char bucket[64], prefix[S3_KEY_MAX + 1], key[S3_KEY_MAX + 1];
	struct s3_error e;
	size_t n;
	int rc;

	if (!json_is_true(json_object_get(rep, "enabled")))
		return;
	if (path != NULL && path[0] != '\0') {
		if (s3_url_split(path, bucket, sizeof(bucket), prefix,
		    sizeof(prefix)) < 0)
			return;
	} else if (r->na > 0) {
		snprintf(bucket, sizeof(bucket), "%s", r->as[0].bucket);
		snprintf(prefix, sizeof(prefix), "%s", r->as[0].prefix);
	} else {
		return;
	}
	n = strlen(prefix);
	while (n > 0 && prefix[n - 1] == '/')
		prefix[--n] = '\0';
	snprintf(key, sizeof(key), "%s%s%s/%s", prefix, n ? "/" : "", r->id,
	    strcmp(r->type, "IMPORT_METADATA_FROM_REPOSITORY") == 0 ?
	    "report.csv" : "failures.csv");
	rc = s3_put_buf(r->tc->s3, bucket, key, r->report.p ? r->report.p : "",
	    r->report.len, "text/csv", &e);
	if (rc < 0) {
		log_warn("hsm: report of %s to s3://%s/%s: %s %s", r->id,
		    bucket, key, e.code, e.message);
		return;
	}
	snprintf(t->report_path, sizeof(t->report_path), "s3://%s/%s", bucket,
	    key);
}

void
hsm_task_exec(struct hsm_task_ctx *tc, struct hsm_task *t)
{
	struct hsm *h = tc->h;
	struct run *r = xcalloc(1, sizeof(*r));
	json_t *rel;
	char **paths;
	int fs_paths;

	snprintf(t->state, sizeof(t->state), "EXECUTING");
	(void)hsm_save(h);
	snprintf(r->id, sizeof(r->id), "%s", t->id);
	snprintf(r->type, sizeof(r->type), "%s", t->type);
	r->doc = json_incref(t->doc);
	r->tc = tc;
	r->na = h->nassoc;
	memcpy(r->as, h->assoc, (size_t)r->na * sizeof(r->as[0]));
	r->start = time(NULL);
	rel = json_object_get(json_object_get(r->doc, "release"),
	    "duration_days");
	r->max_age = json_is_integer(rel) ? json_integer_value(rel) * 86400 :
	    0;
	buf_init(&r->report, 4096);
	pthread_mutex_unlock(&h->mu);

	r->fs = hsm_fs_get(h);
	fs_paths = strcmp(r->type, "IMPORT_METADATA_FROM_REPOSITORY") != 0;
	paths = task_paths(r->doc, fs_paths);
	if (paths[0] == NULL) {
		/* default: every association */
		paths_free(paths);
		paths = xcalloc((size_t)r->na + 1, sizeof(*paths));
		for (int i = 0; i < r->na; i++)
			paths[i] = fs_paths ? xstrdup(r->as[i].fs_path) :
			    xasprintf("s3://%s/%s", r->as[i].bucket,
			    r->as[i].prefix);
	}
	log_info("hsm: task %s (%s) started", r->id, r->type);
	if (r->fs == NULL)
		r->bad_path = 1;
	else if (!fs_paths) {
		tc->progress = import_progress;
		tc->progress_arg = r;
		import_paths(r, paths);
		tc->progress = NULL;
	} else if (strcmp(r->type, "EXPORT_TO_REPOSITORY") == 0)
		walk_paths(r, paths, export_visit);
	else
		walk_paths(r, paths, release_visit);
	paths_free(paths);

	pthread_mutex_lock(&h->mu);
	t = hsm_task_find(h, r->id);
	if (t != NULL) {
		r->canceled |= t->cancel;
		if (!r->canceled)
			report_write(r, t);
		if (r->canceled) {
			snprintf(t->state, sizeof(t->state), "CANCELED");
		} else if (r->fs == NULL) {
			snprintf(t->state, sizeof(t->state), "FAILED");
			hsm_set_msg(t->message, "The file system could not be "
			    "reached.");
		} else if (r->list_failed) {
			snprintf(t->state, sizeof(t->state), "FAILED");
			hsm_set_msg(t->message, "Amazon FSx could not list the "
			    "data repository: %s.", r->s3err);
		} else if (r->bad_path) {
			snprintf(t->state, sizeof(t->state), "FAILED");
			hsm_set_msg(t->message, "One or more paths are invalid "
			    "or not within a data repository association.");
		} else if (t->failed > 0) {
			snprintf(t->state, sizeof(t->state), "FAILED");
			hsm_set_msg(t->message, "%" PRIu64 " of %" PRIu64
			    " files failed%s%s%s; see the report%s%s.",
			    t->failed, t->total, r->s3err[0] ? " (S3: " : "",
			    r->s3err, r->s3err[0] ? ")" : "",
			    t->report_path[0] ? " at " : "", t->report_path);
		} else {
			snprintf(t->state, sizeof(t->state), "SUCCEEDED");
		}
		log_info("hsm: task %s: %s (%" PRIu64 " total, %" PRIu64
		    " succeeded, %" PRIu64 " failed, %" PRIu64 " bytes "
		    "released)", t->id, t->state, t->total, t->succeeded,
		    t->failed, t->released);
		(void)hsm_save(h);
	}
	buf_fini(&r->report);
	json_decref(r->doc);
	free(r);
}
