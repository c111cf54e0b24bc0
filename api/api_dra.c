/*
 * CreateDataRepositoryAssociation, DescribeDataRepositoryAssociations,
 * UpdateDataRepositoryAssociation, DeleteDataRepositoryAssociation
 * (spec 6.6-6.9), the legacy ImportPath link as the association "legacy",
 * and the agent's reports applied to association rows (api_dra_apply).
 *
 * Rules checked at create, in this order: the file system exists
 * (FileSystemNotFound); it can have associations: not SCRATCH_1, not
 * Lustre 2.10, not Intelligent-Tiering, not legacy-linked, no automatic
 * backups, not FAILED or DELETING (BadRequest); the paths are well formed
 * (BadRequest); neither path equals or overlaps another association's,
 * and "/" only alone (BadRequest); at most 8 (ServiceLimitExceeded).
 *
 * Lifecycle: CREATING -> AVAILABLE | FAILED | MISCONFIGURED (the agent
 * checked the bucket); AVAILABLE|MISCONFIGURED -> UPDATING -> AVAILABLE;
 * any -> DELETING -> gone (the agent reported DELETED). The agent's
 * message becomes FailureDetails.Message.
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

#define DRA_MAX		8	/* per file system (spec 7) */
#define DRA_PAGE_MAX	25	/* LimitedMaxResults */
#define DRA_CHUNK_DEFAULT 1024

static json_t *
dra_not_found(struct api_error *err, const char *id)
{
	return api_fail(err, API_E_DRA_NOT_FOUND,
	    "Data repository association '%s' does not exist.", id ? id : "");
}

/* The events of a policy member ("AutoImportPolicy") of S3, deduplicated
 * in NEW, CHANGED, DELETED order. New reference. */
static json_t *
dra_events(const json_t *s3, const char *policy)
{
	static const char *const order[] = { "NEW", "CHANGED", "DELETED" };
	const json_t *ev = json_object_get(json_object_get(s3, policy),
	    "Events");
	json_t *out = json_array();

	for (size_t k = 0; k < 3; k++)
		if (api_repo_filter_match(ev, order[k]) && ev != NULL)
			json_array_append_new(out, json_string(order[k]));
	return out;
}

/* The agent's entry for an association (docs/hsm.md), without id/state. */
static json_t *
dra_conf(const char *fs_path, const char *bucket, const char *prefix,
    int batch, json_t *imp, json_t *exp, long long chunk, int delete_data)
{
	json_t *c = json_object();

	json_object_set_new(c, "fs_path", json_string(fs_path));
	json_object_set_new(c, "bucket", json_string(bucket));
	json_object_set_new(c, "prefix", json_string(prefix));
	json_object_set_new(c, "batch_import", json_boolean(batch));
	json_object_set_new(c, "import", imp);
	json_object_set_new(c, "export", exp);
	json_object_set_new(c, "chunk_mib", json_integer(chunk));
	json_object_set_new(c, "delete_data", json_boolean(delete_data));
	return c;
}

/* --- which file systems can have associations --- */

static int
dra_fs_eligible(const json_t *fs, enum fs_lifecycle lc, struct api_error *err)
{
	const json_t *lcfg = json_object_get(fs, "LustreConfiguration");
	const char *dep = json_string_value(json_object_get(lcfg,
	    "DeploymentType"));
	const char *ver = json_string_value(json_object_get(fs,
	    "FileSystemTypeVersion"));
	const char *st = json_string_value(json_object_get(fs, "StorageType"));
	const char *id = json_string_value(json_object_get(fs, "FileSystemId"));

	if (dep == NULL || strcmp(dep, "SCRATCH_1") == 0)
		api_fail(err, API_E_BAD_REQUEST, "Data repository associations"
		    " are not supported for SCRATCH_1 file systems.");
	else if (ver != NULL && strcmp(ver, "2.10") == 0)
		api_fail(err, API_E_BAD_REQUEST, "Data repository associations"
		    " are not supported for Lustre version 2.10 file systems."
		    " Use Lustre 2.12 or 2.15.");
	else if (st != NULL && strcmp(st, "INTELLIGENT_TIERING") == 0)
		api_fail(err, API_E_BAD_REQUEST, "Data repository associations"
		    " are not supported for file systems with the"
		    " Intelligent-Tiering storage class.");
	else if (json_object_get(lcfg, "DataRepositoryConfiguration") != NULL)
		api_fail(err, API_E_BAD_REQUEST, "File system %s is linked to"
		    " a data repository with ImportPath; it cannot also have"
		    " data repository associations.", id);
	else if (json_integer_value(json_object_get(lcfg,
	    "AutomaticBackupRetentionDays")) > 0)
		api_fail(err, API_E_BAD_REQUEST, "Data repository associations"
		    " are not supported for file systems with automatic backups"
		    " enabled.");
	else if (lc == FS_FAILED || lc == FS_DELETING)
		api_fail(err, API_E_BAD_REQUEST, "File system %s is %s.", id,
		    fs_lifecycle_name(lc));
	else
		return 0;
	return -1;
}

/* The other associations of the file system against the new paths. */
struct dra_scan {
	const char		*fs_path, *repo;
	int			 n;
	struct api_error	*err;
};

static int
dra_scan_row(void *arg, const struct db_dra *d)
{
	struct dra_scan *s = arg;
	size_t lr = strlen(s->repo), ld = strlen(d->repo_path);

	s->n++;
	if (strcmp(d->fs_path, "/") == 0 || strcmp(s->fs_path, "/") == 0) {
		api_fail(s->err, API_E_BAD_REQUEST, "The file system path %s"
		    " overlaps the file system path %s of association %s. An"
		    " association of / must be the only one of its file"
		    " system.", s->fs_path, d->fs_path, d->id);
		return 1;
	}
	if (api_repo_fs_overlap(s->fs_path, d->fs_path)) {
		api_fail(s->err, API_E_BAD_REQUEST, "The file system path %s"
		    " overlaps the file system path %s of association %s.",
		    s->fs_path, d->fs_path, d->id);
		return 1;
	}
	if (strncmp(s->repo, d->repo_path, lr < ld ? lr : ld) == 0) {
		api_fail(s->err, API_E_BAD_REQUEST, "The data repository path"
		    " %s overlaps the data repository path %s of association"
		    " %s.", s->repo, d->repo_path, d->id);
		return 1;
	}
	return 0;
}

/* --- create --- */

struct dra_create_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	json_t			*out;		/* the description */
};

static json_t *
dra_load(const struct api_ctx *cx, const char *id, struct db_dra *row)
{
	json_t *d;

	if (id == NULL || strcmp(id, DB_DRA_LEGACY) == 0 ||
	    db_dra_get(id, NULL, cx->account, cx->region, row) < 0)
		return NULL;
	d = api_repo_doc_out(row->doc, fs_lifecycle_name(row->lifecycle));
	if (d == NULL)
		db_dra_fini(row);
	return d;
}

static int
dra_create_tx(void *arg)
{
	struct dra_create_tx *t = arg;
	struct api_ctx *cx = t->cx;
	const json_t *in = t->in, *s3 = json_object_get(in, "S3");
	const char *fs_id = json_string_value(json_object_get(in,
	    "FileSystemId"));
	const char *fsp = json_string_value(json_object_get(in,
	    "FileSystemPath"));
	const char *repo_in = json_string_value(json_object_get(in,
	    "DataRepositoryPath"));
	const json_t *jchunk = json_object_get(in, "ImportedFileChunkSize");
	long long chunk = jchunk ? json_integer_value(jchunk) :
	    DRA_CHUNK_DEFAULT;
	int batch = json_is_true(json_object_get(in,
	    "BatchImportMetaDataOnCreate"));
	char fs_path[4097], bucket[64], prefix[1100], repo[1200], existing[64];
	struct dra_scan scan;
	struct db_dra row;
	enum fs_lifecycle lc;
	json_t *fs, *d, *conf;
	int rc;

	fs = api_fs_get(cx, fs_id, &lc);
	if (fs == NULL) {
		api_fail(t->err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		return -1;
	}
	rc = api_token_check(cx, in, existing, sizeof(existing), t->err);
	if (rc == 1) {
		json_decref(fs);
		t->out = dra_load(cx, existing, &row);
		if (t->out != NULL)
			db_dra_fini(&row);
		return 0;
	}
	rc = rc < 0 ? -1 : dra_fs_eligible(fs, lc, t->err);
	json_decref(fs);
	if (rc < 0)
		return -1;
	if (fsp == NULL)
		return api_fail(t->err, API_E_BAD_REQUEST, "A FileSystemPath"
		    " is required for a data repository association of a"
		    " file system.") ? 0 : -1;
	if (api_repo_fs_path(fsp, fs_path, sizeof(fs_path)) < 0)
		return api_fail(t->err, API_E_BAD_REQUEST, "The file system"
		    " path %s is not valid. It must begin with / and name a"
		    " directory without empty, . or .. components.", fsp) ?
		    0 : -1;
	if (api_repo_s3_path(repo_in, bucket, sizeof(bucket), prefix,
	    sizeof(prefix)) < 0)
		return api_fail(t->err, API_E_BAD_REQUEST, "The data"
		    " repository path %s is not valid. It must be of the form"
		    " s3://bucket/prefix/ with a valid S3 bucket name.",
		    repo_in) ? 0 : -1;
	snprintf(repo, sizeof(repo), "s3://%s/%s", bucket, prefix);
	scan = (struct dra_scan){ fs_path, repo, 0, t->err };
	if (db_dra_list(NULL, NULL, fs_id, 0, 0, dra_scan_row, &scan) < 0)
		return -EIO;
	if (t->err->message[0] != '\0')
		return -1;
	if (scan.n >= DRA_MAX) {
		api_fail(t->err, API_E_SERVICE_LIMIT_EXCEEDED, "File system %s"
		    " already has the maximum number of data repository"
		    " associations (%d).", fs_id, DRA_MAX);
		api_error_set(t->err, "Limit", json_string(
		    "DATA_REPOSITORY_ASSOCIATIONS_PER_FILE_SYSTEM"));
		return -1;
	}

	memset(&row, 0, sizeof(row));
	api_repo_new_id("dra", row.id, sizeof(row.id));
	snprintf(row.fs_id, sizeof(row.fs_id), "%s", fs_id);
	snprintf(row.account, sizeof(row.account), "%s", cx->account);
	snprintf(row.region, sizeof(row.region), "%s", cx->region);
	snprintf(row.arn, sizeof(row.arn), "arn:%s:fsx:%s:%s:association/%s/%s",
	    cx->partition, cx->region, cx->account, fs_id, row.id);
	row.lifecycle = FS_CREATING;
	row.created = now_epoch();
	row.fs_path = fs_path;
	row.repo_path = repo;

	d = json_object();
	json_object_set_new(d, "AssociationId", json_string(row.id));
	json_object_set_new(d, "ResourceARN", json_string(row.arn));
	json_object_set_new(d, "FileSystemId", json_string(fs_id));
	json_object_set_new(d, "FileSystemPath", json_string(fs_path));
	json_object_set_new(d, "DataRepositoryPath", json_string(repo));
	json_object_set_new(d, "BatchImportMetaDataOnCreate",
	    json_boolean(batch));
	json_object_set_new(d, "ImportedFileChunkSize", json_integer(chunk));
	if (s3 != NULL)
		json_object_set(d, "S3", (json_t *)s3);
	json_object_set_new(d, "CreationTime", json_real(
	    (double)(long long)(row.created * 1000) / 1000));
	conf = dra_conf(fs_path, bucket, prefix, batch,
	    dra_events(s3, "AutoImportPolicy"),
	    dra_events(s3, "AutoExportPolicy"), chunk, 0);
	row.doc = api_repo_doc_text(d);
	row.conf = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	rc = db_dra_insert(&row);
	if (rc == 0)
		rc = api_tags_put(row.arn, json_object_get(in, "Tags"));
	if (rc == 0)
		rc = api_token_record(cx, in, row.id);
	if (rc == 0)
		rc = db_job_add(JOB_HSM, fs_id, 0, 0);
	free(row.doc);
	free(row.conf);
	if (rc == 0) {
		json_object_set_new(d, "Lifecycle", json_string("CREATING"));
		if (json_array_size(json_object_get(in, "Tags")) > 0)
			json_object_set(d, "Tags", json_object_get(in, "Tags"));
		t->out = d;
	} else {
		json_decref(d);
	}
	return rc;
}

static json_t *
dra_wrap(json_t *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "Association", d);
	return o;
}

json_t *
api_dra_create(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct dra_create_tx t = { cx, in, err, NULL };

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (api_tx(dra_create_tx, &t, err, "the association") < 0) {
		json_decref(t.out);
		return NULL;
	}
	if (t.out == NULL)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "The association of this request token is gone.");
	prov_kick();
	log_info("%s: %s on %s", __func__, json_string_value(json_object_get(
	    t.out, "AssociationId")), json_string_value(json_object_get(in,
	    "FileSystemId")));
	return dra_wrap(t.out);
}

/* --- describe --- */

struct dra_page {
	const json_t		*ids;		/* AssociationIds, or NULL */
	const json_t		*fs_ids;	/* file-system-id filter values */
	int			 none;		/* a filter nothing here matches */
	struct api_repo_page	 pg;
};

static int
dra_page_add(void *arg, const struct db_dra *d)
{
	struct dra_page *p = arg;

	if (!api_repo_filter_match(p->ids, d->id) || p->none ||
	    !api_repo_filter_match(p->fs_ids, d->fs_id))
		return 0;
	return api_repo_page_add(&p->pg, d->seq, d->doc,
	    fs_lifecycle_name(d->lifecycle));
}

json_t *
api_dra_describe(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const json_t *ids = json_object_get(in, "AssociationIds");
	const json_t *type = api_repo_filter(in, "data-repository-type");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	struct dra_page pg = { .pg = { .max = DRA_PAGE_MAX } };
	long long after = 0;
	json_t *v;
	size_t i;

	if (json_object_get(in, "MaxResults") != NULL)
		pg.pg.max = json_integer_value(json_object_get(in, "MaxResults"));
	if (tok != NULL && api_repo_cursor_parse("dra", tok, &after) < 0)
		return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	json_array_foreach(type, i, v)
		if (strcmp(json_string_value(v), "S3") != 0 &&
		    strcmp(json_string_value(v), "NFS") != 0)
			return api_fail(err, API_E_INVALID_DATA_REPOSITORY_TYPE,
			    "Data repository type %s is not supported. Use S3"
			    " or NFS.", json_string_value(v));
	if (api_repo_filter_fs_check(cx, in, err) < 0)
		return NULL;
	json_array_foreach(ids, i, v) {
		struct db_dra row;
		json_t *d = dra_load(cx, json_string_value(v), &row);

		if (d == NULL)
			return dra_not_found(err, json_string_value(v));
		json_decref(d);
		db_dra_fini(&row);
	}
	pg.ids = ids;
	pg.fs_ids = api_repo_filter(in, "file-system-id");
	/* file caches' associations and NFS repositories do not exist here */
	pg.none = api_repo_filter(in, "file-cache-id") != NULL ||
	    api_repo_filter(in, "file-cache-type") != NULL ||
	    !api_repo_filter_match(type, "S3");
	pg.pg.list = json_array();
	if (db_dra_list(cx->account, cx->region, NULL, after, 0, dra_page_add,
	    &pg) < 0) {
		json_decref(pg.pg.list);
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "state unavailable");
	}
	return api_repo_listing("Associations", &pg.pg, "dra");
}

/* --- update --- */

struct dra_change_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	json_t			*out;
};

/* The request's association (*d, row) and its token: 0 new, 1 a replay,
 * -1 error set. The caller frees *d and row in every case. */
static int
dra_change_begin(struct dra_change_tx *t, struct db_dra *row, json_t **d)
{
	const char *id = json_string_value(json_object_get(t->in,
	    "AssociationId"));
	char existing[64];

	memset(row, 0, sizeof(*row));
	*d = dra_load(t->cx, id, row);
	if (*d == NULL) {
		dra_not_found(t->err, id);
		return -1;
	}
	return api_token_check(t->cx, t->in, existing, sizeof(existing),
	    t->err);
}

static int
dra_update_tx(void *arg)
{
	struct dra_change_tx *t = arg;
	const json_t *s3 = json_object_get(t->in, "S3");
	const json_t *jchunk = json_object_get(t->in, "ImportedFileChunkSize");
	char *doc = NULL, *conf_text = NULL;
	struct db_dra row;
	json_t *d, *conf = NULL;
	int rc = dra_change_begin(t, &row, &d);

	if (rc != 0)
		goto out;		/* a replay answers the current state */
	rc = -1;
	if (row.lifecycle != FS_AVAILABLE &&
	    row.lifecycle != FS_MISCONFIGURED) {
		api_fail(t->err, API_E_BAD_REQUEST, "Data repository"
		    " association %s is %s; it can be updated when AVAILABLE"
		    " or MISCONFIGURED.", row.id,
		    fs_lifecycle_name(row.lifecycle));
		goto out;
	}
	conf = json_loads(row.conf, 0, NULL);
	if (!json_is_object(conf)) {
		rc = -EIO;
		goto out;
	}
	if (jchunk != NULL) {
		json_object_set(d, "ImportedFileChunkSize", (json_t *)jchunk);
		json_object_set(conf, "chunk_mib", (json_t *)jchunk);
	}
	if (s3 != NULL) {
		json_object_set(d, "S3", (json_t *)s3);
		json_object_set_new(conf, "import",
		    dra_events(s3, "AutoImportPolicy"));
		json_object_set_new(conf, "export",
		    dra_events(s3, "AutoExportPolicy"));
	}
	json_object_del(d, "FailureDetails");
	json_object_set_new(d, "Lifecycle", json_string("UPDATING"));
	doc = api_repo_doc_text(d);
	conf_text = json_dumps(conf, JSON_COMPACT);
	rc = db_dra_update(row.fs_id, row.id, doc, conf_text, FS_UPDATING);
	if (rc == 0)
		rc = api_token_record(t->cx, t->in, row.id);
	if (rc == 0)
		rc = db_job_add(JOB_HSM, row.fs_id, 0, 0);
out:
	if (rc >= 0) {
		t->out = d;
		d = NULL;
	}
	json_decref(d);
	json_decref(conf);
	free(doc);
	free(conf_text);
	db_dra_fini(&row);
	return rc < 0 ? rc : 0;
}

json_t *
api_dra_update(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct dra_change_tx t = { cx, in, err, NULL };

	if (api_tx(dra_update_tx, &t, err, "the update") < 0) {
		json_decref(t.out);
		return NULL;
	}
	prov_kick();
	return dra_wrap(t.out);
}

/* --- delete --- */

static int
dra_delete_tx(void *arg)
{
	struct dra_change_tx *t = arg;
	int del = json_is_true(json_object_get(t->in, "DeleteDataInFileSystem"));
	char *conf_text = NULL;
	struct db_dra row;
	json_t *d, *conf = NULL;
	int rc = dra_change_begin(t, &row, &d);

	if (rc != 0 || row.lifecycle == FS_DELETING)
		goto out;		/* a replay, or already going */
	rc = -1;
	if (db_task_count(row.fs_id, 1u << TASK_EXECUTING) > 0) {
		api_fail(t->err, API_E_BAD_REQUEST, "Data repository"
		    " association %s cannot be deleted while a data repository"
		    " task of file system %s is executing.", row.id, row.fs_id);
		goto out;
	}
	conf = json_loads(row.conf, 0, NULL);
	json_object_set_new(conf, "delete_data", json_boolean(del));
	conf_text = json_dumps(conf, JSON_COMPACT);
	rc = db_dra_update(row.fs_id, row.id, NULL, conf_text, FS_DELETING);
	if (rc == 0)
		rc = api_token_record(t->cx, t->in, row.id);
	if (rc == 0)
		rc = db_job_add(JOB_HSM, row.fs_id, 0, 0);
out:
	json_decref(d);
	json_decref(conf);
	free(conf_text);
	db_dra_fini(&row);
	return rc < 0 ? rc : 0;
}

json_t *
api_dra_delete(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct dra_change_tx t = { cx, in, err, NULL };
	json_t *out;

	if (api_tx(dra_delete_tx, &t, err, "the deletion") < 0)
		return NULL;
	prov_kick();
	out = json_object();
	json_object_set(out, "AssociationId", json_object_get(in,
	    "AssociationId"));
	json_object_set_new(out, "Lifecycle", json_string("DELETING"));
	json_object_set_new(out, "DeleteDataInFileSystem", json_boolean(
	    json_is_true(json_object_get(in, "DeleteDataInFileSystem"))));
	return out;
}

/* --- the legacy link --- */

int
api_dra_legacy_put(const char *fs_id, const char *account, const char *region,
    const json_t *desc, enum fs_lifecycle lc)
{
	const json_t *drc = json_object_get(json_object_get(desc,
	    "LustreConfiguration"), "DataRepositoryConfiguration");
	const char *imp = json_string_value(json_object_get(drc, "ImportPath"));
	const char *exp = json_string_value(json_object_get(drc, "ExportPath"));
	const char *aip = json_string_value(json_object_get(drc,
	    "AutoImportPolicy"));
	char bucket[64], prefix[1100], eb[64], ep[1100];
	struct db_dra row;
	json_t *events, *conf;
	int rc;

	(void)db_dra_delete(fs_id, DB_DRA_LEGACY);
	if (imp == NULL)
		return 0;
	if (api_repo_s3_path(imp, bucket, sizeof(bucket), prefix,
	    sizeof(prefix)) < 0)
		return -EINVAL;
	if (exp == NULL || api_repo_s3_path(exp, eb, sizeof(eb), ep,
	    sizeof(ep)) < 0)
		snprintf(ep, sizeof(ep), "%s", prefix);
	events = json_array();
	if (aip != NULL && strncmp(aip, "NEW", 3) == 0)
		json_array_append_new(events, json_string("NEW"));
	if (aip != NULL && strstr(aip, "CHANGED") != NULL)
		json_array_append_new(events, json_string("CHANGED"));
	if (aip != NULL && strstr(aip, "DELETED") != NULL)
		json_array_append_new(events, json_string("DELETED"));
	conf = dra_conf("/", bucket, prefix, 1, events, json_array(),
	    json_integer_value(json_object_get(drc, "ImportedFileChunkSize")),
	    0);
	json_object_set_new(conf, "export_prefix", json_string(ep));
	memset(&row, 0, sizeof(row));
	snprintf(row.id, sizeof(row.id), "%s", DB_DRA_LEGACY);
	snprintf(row.fs_id, sizeof(row.fs_id), "%s", fs_id);
	snprintf(row.account, sizeof(row.account), "%s", account);
	snprintf(row.region, sizeof(row.region), "%s", region);
	row.lifecycle = lc;
	row.created = now_epoch();
	row.fs_path = (char *)"/";
	row.repo_path = (char *)imp;
	row.doc = (char *)"{}";
	row.conf = json_dumps(conf, JSON_COMPACT);
	json_decref(conf);
	rc = db_dra_insert(&row);
	free(row.conf);
	return rc;
}

/* --- the agent's reports --- */

/* The legacy link's state into the file system's description. */
static int
dra_apply_legacy(const struct prov_result *r, enum fs_lifecycle to)
{
	json_t *fs = api_fs_get(NULL, r->fs_id, NULL);
	json_t *drc = json_object_get(json_object_get(fs,
	    "LustreConfiguration"), "DataRepositoryConfiguration");
	int rc = 0;

	if (json_is_object(drc)) {
		json_object_set_new(drc, "Lifecycle",
		    json_string(fs_lifecycle_name(to)));
		if (to == FS_FAILED || to == FS_MISCONFIGURED) {
			json_t *fd = json_object();

			json_object_set_new(fd, "Message", json_string(
			    r->message[0] ? r->message : "The data repository"
			    " cannot be reached."));
			json_object_set_new(drc, "FailureDetails", fd);
		} else {
			json_object_del(drc, "FailureDetails");
		}
		rc = api_fs_store(r->fs_id, fs, -1);
	}
	json_decref(fs);
	return rc;
}

/*
 * A DELETING association the agent reports FAILED: its deletion failed
 * (DeleteDataInFileSystem), unless the report is the FAILED it had
 * before it was told to delete (a poll that crossed the new
 * configuration: the agent clears the message when it takes one).
 */
static int
dra_delete_failed(const struct prov_result *r, const struct db_dra *row)
{
	json_t *d;
	const char *old;
	int failed;

	if (r->hsm.dra_state != FS_FAILED || r->message[0] == '\0')
		return 0;
	d = json_loads(row->doc, 0, NULL);
	old = json_string_value(json_object_get(json_object_get(d,
	    "FailureDetails"), "Message"));
	failed = old == NULL || strcmp(old, r->message) != 0;
	json_decref(d);
	return failed;
}

static int
dra_apply_tx(void *arg)
{
	const struct prov_result *r = arg;
	enum fs_lifecycle to;
	struct db_dra row;
	json_t *d, *old;
	char *doc, *old_text;
	int rc;

	if (db_dra_get(r->hsm.id, r->fs_id, NULL, NULL, &row) < 0)
		return 0;			/* gone meanwhile */
	to = row.lifecycle;
	if (r->hsm.gone || (row.lifecycle == FS_DELETING &&
	    !dra_delete_failed(r, &row))) {
		rc = r->hsm.gone && row.lifecycle == FS_DELETING ?
		    db_dra_delete(r->fs_id, row.id) : 0;
		db_dra_fini(&row);
		return rc;
	}
	switch (r->hsm.dra_state) {
	case FS_AVAILABLE:
	case FS_FAILED:
	case FS_MISCONFIGURED:
		to = r->hsm.dra_state;
		break;
	default:
		break;			/* the agent is still at it */
	}
	d = api_repo_doc_out(row.doc, fs_lifecycle_name(to));
	if (to == FS_FAILED || to == FS_MISCONFIGURED) {
		json_t *fd = json_object();

		json_object_set_new(fd, "Message", json_string(r->message[0] ?
		    r->message : "The data repository cannot be reached."));
		json_object_set_new(d, "FailureDetails", fd);
	} else {
		json_object_del(d, "FailureDetails");
	}
	doc = api_repo_doc_text(d);
	old = api_repo_doc_out(row.doc, "");
	old_text = api_repo_doc_text(old);
	rc = 0;
	if (to != row.lifecycle || old_text == NULL || doc == NULL ||
	    strcmp(doc, old_text) != 0) {
		rc = db_dra_update(r->fs_id, row.id, doc, NULL, to);
		if (rc == 0 && strcmp(row.id, DB_DRA_LEGACY) == 0)
			rc = dra_apply_legacy(r, to);
	}
	free(doc);
	free(old_text);
	json_decref(d);
	json_decref(old);
	db_dra_fini(&row);
	return rc;
}

int
api_dra_apply(const struct prov_result *r)
{
	return db_tx(dra_apply_tx, (void *)r);
}
