/*
 * CreateDataRepositoryTask, DescribeDataRepositoryTasks,
 * CancelDataRepositoryTask (spec 6.10-6.12), and the agent's reports
 * applied to task rows (api_task_apply).
 *
 * Rules checked at create, in this order: the file system exists
 * (FileSystemNotFound); AUTO_RELEASE_DATA and CapacityToRelease belong to
 * file caches (BadRequest); the file system is AVAILABLE or UPDATING and
 * linked to a repository, by an association or ImportPath (BadRequest);
 * ReleaseConfiguration only on a release task; a report's Path lies in a
 * linked repository (BadRequest); no PENDING or EXECUTING task of the
 * same type and paths (DataRepositoryTaskExecuting). A path that names
 * nothing does not fail the request: the task ends FAILED (the agent's).
 *
 * Queueing: every task is sent to the file system's agent, which runs one
 * at a time in creation order; the others stay PENDING.
 *
 * Lifecycle: PENDING -> EXECUTING (StartTime) -> SUCCEEDED | FAILED
 * (EndTime; FailureDetails when FAILED); PENDING|EXECUTING -> CANCELING ->
 * CANCELED. Status counters and LastUpdatedTime follow the agent's
 * reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"
#include "api_repo.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"

#define TASK_PAGE_MAX	50
#define TASK_OPEN	(1u << TASK_PENDING | 1u << TASK_EXECUTING)
#define TASK_ENDED	(1u << TASK_SUCCEEDED | 1u << TASK_FAILED | \
			 1u << TASK_CANCELED)
#define REPORT_FORMAT	"REPORT_CSV_20191124"
#define REPORT_SCOPE	"FAILED_FILES_ONLY"

static json_t *
task_not_found(struct api_error *err, const char *id)
{
	return api_fail(err, API_E_TASK_NOT_FOUND,
	    "Data repository task '%s' does not exist.", id ? id : "");
}

static double
task_now(void)
{
	return (double)(long long)(now_epoch() * 1000) / 1000;
}

static json_t *
task_load(const struct api_ctx *cx, const char *id, struct db_task *row)
{
	json_t *d;

	if (id == NULL || db_task_get(id, cx ? cx->account : NULL,
	    cx ? cx->region : NULL, row) < 0)
		return NULL;
	d = api_repo_doc_out(row->doc, task_lifecycle_name(row->lifecycle));
	if (d == NULL)
		db_task_fini(row);
	return d;
}

/* The repositories a file system is linked to: s3:// roots. */
struct task_repos {
	json_t	*roots;
	json_t	*dras;		/* association ids and fs paths */
};

static int
task_repos_row(void *arg, const struct db_dra *d)
{
	struct task_repos *r = arg;

	if (d->lifecycle == FS_DELETING)
		return 0;
	json_array_append_new(r->roots, json_string(d->repo_path));
	return 0;
}

/* 1 when path (s3://...) lies in one of roots (ending in '/' or not). */
static int
task_in_repo(const json_t *roots, const char *path)
{
	size_t i;
	json_t *v;

	json_array_foreach(roots, i, v) {
		const char *r = json_string_value(v);
		size_t n = strlen(r);

		if (n > 0 && r[n - 1] == '/')
			n--;
		if (strncmp(path, r, n) == 0 && (path[n] == '\0' ||
		    path[n] == '/'))
			return 1;
	}
	return 0;
}

/* The Report member as described and as the agent gets it. */
static int
task_report(const json_t *in, const json_t *roots, json_t **desc,
    json_t **spec, struct api_error *err)
{
	const json_t *rep = json_object_get(in, "Report");
	int enabled = json_is_true(json_object_get(rep, "Enabled"));
	const char *path = json_string_value(json_object_get(rep, "Path"));
	const char *fmt = json_string_value(json_object_get(rep, "Format"));
	const char *scope = json_string_value(json_object_get(rep, "Scope"));

	*desc = json_object();
	*spec = json_object();
	json_object_set_new(*desc, "Enabled", json_boolean(enabled));
	json_object_set_new(*spec, "enabled", json_boolean(enabled));
	if (!enabled) {
		if (path != NULL)
			json_object_set_new(*desc, "Path", json_string(path));
		return 0;
	}
	if (path == NULL)
		path = json_string_value(json_array_get(roots, 0));
	if (path == NULL || !task_in_repo(roots, path)) {
		api_fail(err, API_E_BAD_REQUEST, "The report path %s must be"
		    " within a data repository linked to the file system.",
		    path ? path : "");
		return -1;
	}
	json_object_set_new(*desc, "Path", json_string(path));
	json_object_set_new(*desc, "Format", json_string(fmt ? fmt :
	    REPORT_FORMAT));
	json_object_set_new(*desc, "Scope", json_string(scope ? scope :
	    REPORT_SCOPE));
	json_object_set_new(*spec, "path", json_string(path));
	json_object_set_new(*spec, "format", json_string(fmt ? fmt :
	    REPORT_FORMAT));
	json_object_set_new(*spec, "scope", json_string(scope ? scope :
	    REPORT_SCOPE));
	return 0;
}

/* The agent's paths: file system paths made absolute; s3:// kept. */
static json_t *
task_spec_paths(const json_t *paths)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(paths, i, v) {
		const char *p = json_string_value(v);
		char *abs;

		if (strncmp(p, "s3://", 5) == 0) {
			json_array_append(out, v);
			continue;
		}
		p += strspn(p, "/");
		abs = xasprintf("/%s", p);
		json_array_append_new(out, json_string(abs));
		free(abs);
	}
	return out;
}

/* A PENDING or EXECUTING task of the same type and paths? */
struct task_same {
	const json_t	*spec;
	char		 id[DB_ID_MAX];
};

static int
task_same_row(void *arg, const struct db_task *t)
{
	struct task_same *s = arg;
	json_t *o;
	int same;

	if ((TASK_OPEN & (1u << t->lifecycle)) == 0)
		return 0;
	o = json_loads(t->spec, 0, NULL);
	same = json_equal(json_object_get(o, "type"),
	    json_object_get(s->spec, "type")) &&
	    json_equal(json_object_get(o, "paths"),
	    json_object_get(s->spec, "paths"));
	json_decref(o);
	if (same)
		snprintf(s->id, sizeof(s->id), "%s", t->id);
	return same;
}

struct task_create_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	json_t			*out;
};

static int
task_check_fs(struct task_create_tx *t, const char *fs_id,
    struct task_repos *repos)
{
	const char *type = json_string_value(json_object_get(t->in, "Type"));
	enum fs_lifecycle lc;
	json_t *fs = api_fs_get(t->cx, fs_id, &lc);
	const char *exp;
	int rc = -1;

	if (fs == NULL) {
		api_fail(t->err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		return -1;
	}
	exp = json_string_value(json_object_get(json_object_get(
	    json_object_get(fs, "LustreConfiguration"),
	    "DataRepositoryConfiguration"), "ExportPath"));
	if (strcmp(type, "AUTO_RELEASE_DATA") == 0 ||
	    json_object_get(t->in, "CapacityToRelease") != NULL)
		api_fail(t->err, API_E_BAD_REQUEST, "AUTO_RELEASE_DATA tasks"
		    " and CapacityToRelease are for Amazon File Cache; file"
		    " systems release data with RELEASE_DATA_FROM_FILESYSTEM.");
	else if (lc != FS_AVAILABLE && lc != FS_UPDATING)
		api_fail(t->err, API_E_BAD_REQUEST, "File system %s is %s;"
		    " data repository tasks need it AVAILABLE.", fs_id,
		    fs_lifecycle_name(lc));
	else if (json_object_get(t->in, "ReleaseConfiguration") != NULL &&
	    strcmp(type, "RELEASE_DATA_FROM_FILESYSTEM") != 0)
		api_fail(t->err, API_E_BAD_REQUEST, "ReleaseConfiguration"
		    " applies to RELEASE_DATA_FROM_FILESYSTEM tasks only.");
	else if (db_dra_list(NULL, NULL, fs_id, 0, 0, task_repos_row,
	    repos) < 0)
		rc = -EIO;
	else
		rc = 0;
	if (rc == 0 && exp != NULL)	/* the legacy link reports here */
		json_array_insert_new(repos->roots, 0, json_string(exp));
	if (rc == 0 && json_array_size(repos->roots) == 0) {
		api_fail(t->err, API_E_BAD_REQUEST, "The file system is not"
		    " linked to a data repository.");
		rc = -1;
	}
	json_decref(fs);
	return rc;
}

static int
task_create_tx(void *arg)
{
	struct task_create_tx *t = arg;
	struct api_ctx *cx = t->cx;
	const json_t *in = t->in;
	const char *fs_id = json_string_value(json_object_get(in,
	    "FileSystemId"));
	const char *type = json_string_value(json_object_get(in, "Type"));
	const json_t *paths = json_object_get(in, "Paths");
	const json_t *rel = json_object_get(in, "ReleaseConfiguration");
	struct task_repos repos = { json_array(), NULL };
	struct task_same same;
	struct db_task row;
	char existing[64];
	json_t *d = NULL, *spec = NULL, *rdesc = NULL, *rspec = NULL, *r;
	int rc;

	rc = api_token_check(cx, in, existing, sizeof(existing), t->err);
	if (rc == 1) {
		t->out = task_load(cx, existing, &row);
		if (t->out != NULL)
			db_task_fini(&row);
		rc = 0;
		goto out;
	}
	if (rc < 0 || task_check_fs(t, fs_id, &repos) < 0 ||
	    task_report(in, repos.roots, &rdesc, &rspec, t->err) < 0) {
		rc = -1;
		goto out;
	}
	memset(&row, 0, sizeof(row));
	api_repo_new_id("task", row.id, sizeof(row.id));
	spec = json_object();
	json_object_set_new(spec, "id", json_string(row.id));
	json_object_set_new(spec, "type", json_string(type));
	json_object_set_new(spec, "paths", task_spec_paths(paths));
	json_object_set(spec, "report", rspec);
	r = json_object();
	json_object_set_new(r, "duration_days", json_integer(
	    json_integer_value(json_object_get(json_object_get(rel,
	    "DurationSinceLastAccess"), "Value"))));
	json_object_set_new(spec, "release", r);
	memset(&same, 0, sizeof(same));
	same.spec = spec;
	if (db_task_list(NULL, NULL, fs_id, 0, task_same_row, &same) < 0) {
		rc = -EIO;
		goto out;
	}
	if (same.id[0] != '\0') {
		api_fail(t->err, API_E_TASK_EXECUTING, "Data repository task"
		    " %s of the same type and paths is already in progress on"
		    " file system %s.", same.id, fs_id);
		rc = -1;
		goto out;
	}
	snprintf(row.fs_id, sizeof(row.fs_id), "%s", fs_id);
	snprintf(row.account, sizeof(row.account), "%s", cx->account);
	snprintf(row.region, sizeof(row.region), "%s", cx->region);
	snprintf(row.arn, sizeof(row.arn), "arn:%s:fsx:%s:%s:task/%s",
	    cx->partition, cx->region, cx->account, row.id);
	row.lifecycle = TASK_PENDING;
	row.created = task_now();
	d = json_object();
	json_object_set_new(d, "TaskId", json_string(row.id));
	json_object_set_new(d, "Type", json_string(type));
	json_object_set_new(d, "CreationTime", json_real(row.created));
	json_object_set_new(d, "ResourceARN", json_string(row.arn));
	json_object_set_new(d, "FileSystemId", json_string(fs_id));
	json_object_set_new(d, "Paths", paths ? json_deep_copy(paths) :
	    json_array());
	json_object_set(d, "Report", rdesc);
	if (rel != NULL)
		json_object_set(d, "ReleaseConfiguration", (json_t *)rel);
	row.doc = api_repo_doc_text(d);
	row.spec = json_dumps(spec, JSON_COMPACT);
	rc = db_task_insert(&row);
	if (rc == 0)
		rc = api_tags_put(row.arn, json_object_get(in, "Tags"));
	if (rc == 0)
		rc = api_token_record(cx, in, row.id);
	if (rc == 0)
		rc = db_job_add(JOB_HSM, fs_id, 0, 0);
	free(row.doc);
	free(row.spec);
	if (rc == 0) {
		json_object_set_new(d, "Lifecycle", json_string("PENDING"));
		if (json_array_size(json_object_get(in, "Tags")) > 0)
			json_object_set(d, "Tags", json_object_get(in, "Tags"));
		t->out = d;
		d = NULL;
	}
out:
	json_decref(d);
	json_decref(spec);
	json_decref(rdesc);
	json_decref(rspec);
	json_decref(repos.roots);
	return rc;
}

json_t *
api_task_create(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct task_create_tx t = { cx, in, err, NULL };
	json_t *o;

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (api_tx(task_create_tx, &t, err, "the task") < 0) {
		json_decref(t.out);
		return NULL;
	}
	if (t.out == NULL)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "The task of this request token is gone.");
	prov_kick();
	o = json_object();
	json_object_set_new(o, "DataRepositoryTask", t.out);
	return o;
}

/* --- describe --- */

struct task_page {
	struct api_ctx		*cx;
	const json_t		*ids, *fs_ids, *lifecycles, *dra_ids;
	int			 none;
	struct api_repo_page	 pg;
};

/* Does task t touch association dra_id (same file system, a path of its)? */
static int
task_of_dra(struct task_page *pg, const struct db_task *t)
{
	size_t i, j;
	json_t *v, *p, *spec;
	int hit = 0;

	if (pg->dra_ids == NULL)
		return 1;
	spec = json_loads(t->spec, 0, NULL);
	json_array_foreach(pg->dra_ids, i, v) {
		struct db_dra d;

		if (db_dra_get(json_string_value(v), t->fs_id, pg->cx->account,
		    pg->cx->region, &d) < 0)
			continue;
		if (json_array_size(json_object_get(spec, "paths")) == 0)
			hit = 1;
		json_array_foreach(json_object_get(spec, "paths"), j, p) {
			const char *s = json_string_value(p);

			hit |= strncmp(s, "s3://", 5) == 0 ?
			    strncmp(s, d.repo_path, strlen(d.repo_path) - 1) == 0 :
			    api_repo_fs_overlap(s, d.fs_path);
		}
		db_dra_fini(&d);
	}
	json_decref(spec);
	return hit;
}

static int
task_page_add(void *arg, const struct db_task *t)
{
	struct task_page *p = arg;

	if (p->none || !api_repo_filter_match(p->ids, t->id) ||
	    !api_repo_filter_match(p->fs_ids, t->fs_id) ||
	    !api_repo_filter_match(p->lifecycles,
	    task_lifecycle_name(t->lifecycle)) || !task_of_dra(p, t))
		return 0;
	return api_repo_page_add(&p->pg, t->seq, t->doc,
	    task_lifecycle_name(t->lifecycle));
}

json_t *
api_task_describe(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const json_t *ids = json_object_get(in, "TaskIds");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	struct task_page pg = { .cx = cx, .pg = { .max = TASK_PAGE_MAX } };
	long long after = 0;
	json_t *v;
	size_t i;

	if (json_object_get(in, "MaxResults") != NULL &&
	    json_integer_value(json_object_get(in, "MaxResults")) < pg.pg.max)
		pg.pg.max = json_integer_value(json_object_get(in,
		    "MaxResults"));
	if (tok != NULL && api_repo_cursor_parse("task", tok, &after) < 0)
		return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	if (api_repo_filter_fs_check(cx, in, err) < 0)
		return NULL;
	json_array_foreach(ids, i, v) {
		struct db_task row;
		json_t *d = task_load(cx, json_string_value(v), &row);

		if (d == NULL)
			return task_not_found(err, json_string_value(v));
		json_decref(d);
		db_task_fini(&row);
	}
	pg.ids = ids;
	pg.fs_ids = api_repo_filter(in, "file-system-id");
	pg.lifecycles = api_repo_filter(in, "task-lifecycle");
	pg.dra_ids = api_repo_filter(in, "data-repository-association-id");
	pg.none = api_repo_filter(in, "file-cache-id") != NULL;
	pg.pg.list = json_array();
	if (db_task_list(cx->account, cx->region, NULL, after, task_page_add,
	    &pg) < 0) {
		json_decref(pg.pg.list);
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "state unavailable");
	}
	return api_repo_listing("DataRepositoryTasks", &pg.pg, "task");
}

/* --- cancel --- */

struct task_cancel_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
};

static int
task_cancel_tx(void *arg)
{
	struct task_cancel_tx *t = arg;
	const char *id = json_string_value(json_object_get(t->in, "TaskId"));
	struct db_task row;
	json_t *d = task_load(t->cx, id, &row);
	int rc = 0;

	if (d == NULL) {
		task_not_found(t->err, id);
		return -1;
	}
	if (TASK_ENDED & (1u << row.lifecycle)) {
		api_fail(t->err, API_E_TASK_ENDED, "Data repository task %s"
		    " has already ended (%s).", id,
		    task_lifecycle_name(row.lifecycle));
		rc = -1;
	} else if (row.lifecycle != TASK_CANCELING) {
		rc = db_task_update(id, NULL, TASK_CANCELING);
		if (rc == 0)
			rc = db_job_add(JOB_HSM, row.fs_id, 0, 0);
	}
	json_decref(d);
	db_task_fini(&row);
	return rc;
}

json_t *
api_task_cancel(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct task_cancel_tx t = { cx, in, err };
	json_t *out;

	if (api_tx(task_cancel_tx, &t, err, "the cancellation") < 0)
		return NULL;
	prov_kick();
	out = json_object();
	json_object_set_new(out, "Lifecycle", json_string("CANCELING"));
	json_object_set(out, "TaskId", json_object_get(in, "TaskId"));
	return out;
}

/* --- the agent's reports --- */

static void
task_set_int(json_t *o, const char *k, long long v, int *changed)
{
	if (json_integer_value(json_object_get(o, k)) != v ||
	    json_object_get(o, k) == NULL) {
		json_object_set_new(o, k, json_integer(v));
		*changed = 1;
	}
}

static int
task_apply_tx(void *arg)
{
	const struct prov_result *r = arg;
	enum task_lifecycle to;
	struct db_task row;
	json_t *d, *st;
	int rc = 0, changed = 0;
	double now = task_now();
	char *doc;

	d = task_load(NULL, r->hsm.id, &row);
	if (d == NULL)
		return 0;
	if (strcmp(row.fs_id, r->fs_id) != 0 ||
	    (TASK_ENDED & (1u << row.lifecycle)))
		goto out;
	to = r->hsm.task_state;
	/* a cancel is not undone by a report from before it */
	if (row.lifecycle == TASK_CANCELING && (TASK_OPEN & (1u << to)))
		to = TASK_CANCELING;
	if (to != TASK_PENDING && json_object_get(d, "StartTime") == NULL &&
	    to != TASK_CANCELED) {
		json_object_set_new(d, "StartTime", json_real(now));
		changed = 1;
	}
	if (to != TASK_PENDING) {
		st = json_object_get(d, "Status");
		if (st == NULL) {
			st = json_object();
			json_object_set_new(d, "Status", st);
		}
		task_set_int(st, "TotalCount", r->hsm.total, &changed);
		task_set_int(st, "SucceededCount", r->hsm.succeeded, &changed);
		task_set_int(st, "FailedCount", r->hsm.failed, &changed);
		task_set_int(st, "ReleasedCapacity", r->hsm.released, &changed);
		if (changed || to != row.lifecycle)
			json_object_set_new(st, "LastUpdatedTime",
			    json_real(now));
	}
	if (TASK_ENDED & (1u << to))
		json_object_set_new(d, "EndTime", json_real(now));
	if (to == TASK_FAILED) {
		json_t *fd = json_object();

		json_object_set_new(fd, "Message", json_string(r->message[0] ?
		    r->message : "The task failed; see its report."));
		json_object_set_new(d, "FailureDetails", fd);
	}
	if (!changed && to == row.lifecycle)
		goto out;
	doc = api_repo_doc_text(d);
	rc = doc != NULL ? db_task_update(row.id, doc, to) : -ENOMEM;
	free(doc);
out:
	json_decref(d);
	db_task_fini(&row);
	return rc;
}

int
api_task_apply(const struct prov_result *r)
{
	return db_tx(task_apply_tx, (void *)r);
}
