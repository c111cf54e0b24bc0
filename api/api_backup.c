/*
 * CreateBackup, DescribeBackups, DeleteBackup, CopyBackup, and the
 * pieces every way of making a backup shares (api_backup_new). Spec
 * 6.13-6.16, 3.1-3.4, 7; docs/backups.md.
 *
 * A backup is one row of `backups` (src/db/db_backup.c): its description
 * plus the columns that are the truth (lifecycle, progress, size, failure
 * message); tags are rows under its ARN. Each mutating handler is one
 * transaction that checks, stores and queues a job; the provisioner
 * (provisioner/prov_backup.c) does the work and reports BACKUP_STATE
 * results, applied by api_backup_apply (api_backup_auto.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_backup.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db_backup.h"

#define BK_PAGE_MAX	100
#define BK_TAGS_MAX	50

/* The description a caller sees: the stored doc plus the columns. */
static json_t *
bk_out(const struct db_backup *b)
{
	json_t *d = json_loads(b->doc, 0, NULL);

	if (d == NULL)
		return NULL;
	json_object_set_new(d, "Lifecycle",
	    json_string(backup_lifecycle_name(b->lifecycle)));
	json_object_set_new(d, "ProgressPercent", json_integer(b->progress));
	if (b->lifecycle == BK_AVAILABLE && b->size > 0)
		json_object_set_new(d, "SizeInBytes", json_integer(b->size));
	if (b->lifecycle == BK_FAILED && b->message[0] != '\0')
		json_object_set_new(d, "FailureDetails", json_pack("{s:s}",
		    "Message", b->message));
	return d;
}

static json_t *
bk_wrap(json_t *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "Backup", d);
	return o;
}

int
api_backup_exists(const struct api_ctx *cx, const char *id)
{
	struct db_backup b;

	if (db_backup_get(id, cx->account, cx->region, &b) < 0)
		return 0;
	db_backup_fini(&b);
	return 1;
}

const char *
api_backup_refusal(const json_t *fsd)
{
	const json_t *lc = json_object_get(fsd, "LustreConfiguration");
	const char *dep = json_string_value(json_object_get(lc,
	    "DeploymentType"));

	if (dep == NULL || strncmp(dep, "SCRATCH", 7) == 0)
		return "Backups are not supported for scratch file systems.";
	if (json_object_get(lc, "DataRepositoryConfiguration") != NULL)
		return "Backups are not supported for file systems linked to"
		    " an S3 data repository.";
	return NULL;
}

/* "arn:P:fsx:R:A:backup/ID" from the file system's ARN and a region. */
static void
bk_arn(const char *fs_arn, const char *region, const char *id, char *out,
    size_t n)
{
	char part[16] = "aws", acct[16] = "000000000000";

	(void)sscanf(fs_arn, "arn:%15[^:]:fsx:%*[^:]:%15[^:]:", part, acct);
	snprintf(out, n, "arn:%s:fsx:%s:%s:backup/%s", part, region, acct, id);
}

/* Store a new backup row (lifecycle lc, doc d) with tags; d is taken. */
static int
bk_store(struct db_backup *b, json_t *d, const json_t *tags)
{
	int rc;

	json_object_del(d, "Tags");
	b->doc = json_dumps(d, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(d);
	if (b->doc == NULL)
		return -ENOMEM;
	rc = db_backup_insert(b);
	free(b->doc);
	b->doc = NULL;
	if (rc == 0)
		rc = api_tags_put(b->arn, tags);
	return rc;
}

int
api_backup_new(const json_t *fsd, enum backup_type type, const json_t *tags,
    char *id_out, size_t len)
{
	const char *fs_arn = json_string_value(json_object_get(fsd,
	    "ResourceARN"));
	struct db_backup b;
	json_t *d, *frozen;
	char region[32] = "";
	int copy_tags, rc;

	memset(&b, 0, sizeof(b));
	api_new_id("backup-", b.id, sizeof(b.id));
	(void)sscanf(fs_arn ? fs_arn : "", "arn:%*[^:]:fsx:%31[^:]:", region);
	snprintf(b.region, sizeof(b.region), "%s", region);
	snprintf(b.account, sizeof(b.account), "%s", json_string_value(
	    json_object_get(fsd, "OwnerId")));
	snprintf(b.fs_id, sizeof(b.fs_id), "%s", json_string_value(
	    json_object_get(fsd, "FileSystemId")));
	snprintf(b.fs_type, sizeof(b.fs_type), "LUSTRE");
	bk_arn(fs_arn ? fs_arn : "", region, b.id, b.arn, sizeof(b.arn));
	b.type = type;
	b.lifecycle = BK_CREATING;
	b.created = now_epoch();
	copy_tags = json_is_true(json_object_get(json_object_get(fsd,
	    "LustreConfiguration"), "CopyTagsToBackups"));
	if (tags == NULL && copy_tags)
		tags = json_object_get(fsd, "Tags");
	frozen = json_deep_copy(fsd);
	json_object_del(frozen, "Tags");
	d = json_pack("{s:s,s:s,s:f,s:s,s:s,s:s,s:o}", "BackupId", b.id,
	    "Type", backup_type_name(type), "CreationTime", b.created,
	    "ResourceARN", b.arn, "OwnerId", b.account,
	    "ResourceType", "FILE_SYSTEM", "FileSystem", frozen);
	if (json_object_get(fsd, "KmsKeyId") != NULL)
		json_object_set(d, "KmsKeyId", json_object_get(fsd, "KmsKeyId"));
	rc = bk_store(&b, d, tags);
	if (rc == 0)
		rc = db_job_add(JOB_BACKUP, b.id, 0, 0);
	if (rc == 0)
		snprintf(id_out, len, "%s", b.id);
	return rc;
}

/* ServiceLimitExceeded for TOTAL_USER_INITIATED_BACKUPS. 0 or -1. */
static int
bk_quota(struct api_ctx *cx, struct api_error *err)
{
	int n = db_backup_count(cx->account, cx->region, BK_USER_INITIATED,
	    ~DB_BK_MASK(BK_DELETED));

	if (n < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		return -1;
	}
	if (n + 1 > cx->conf->q_backups) {
		api_fail(err, API_E_SERVICE_LIMIT_EXCEEDED, "You have reached"
		    " the maximum number of user-initiated backups (%ld) for"
		    " your account in this region.", cx->conf->q_backups);
		api_error_set(err, "Limit",
		    json_string("TOTAL_USER_INITIATED_BACKUPS"));
		return -1;
	}
	return 0;
}

struct bk_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	char			 id[DB_ID_MAX];	/* out */
};

static int
bk_create_tx(void *arg)
{
	struct bk_tx *t = arg;
	const char *fs_id = json_string_value(json_object_get(t->in,
	    "FileSystemId"));
	const char *why;
	enum fs_lifecycle lc;
	json_t *fsd;
	int rc;

	rc = api_token_check(t->cx, t->in, t->id, sizeof(t->id), t->err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;		/* a replay: the same backup */
	fsd = api_fs_get(t->cx, fs_id, &lc);
	if (fsd == NULL) {
		api_fail(t->err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		return -1;
	}
	rc = -1;
	why = api_backup_refusal(fsd);
	if (why != NULL) {
		api_fail(t->err, API_E_BAD_REQUEST, "%s", why);
		goto out;
	}
	if (lc != FS_AVAILABLE && lc != FS_UPDATING) {
		api_fail(t->err, API_E_BAD_REQUEST, "File system '%s' is %s,"
		    " not AVAILABLE.", fs_id, fs_lifecycle_name(lc));
		goto out;
	}
	if (db_backup_of_fs(fs_id, -1, DB_BK_OPEN, NULL, 0) > 0) {
		api_fail(t->err, API_E_BACKUP_IN_PROGRESS, "Another backup of"
		    " file system '%s' is in progress.", fs_id);
		goto out;
	}
	if (bk_quota(t->cx, t->err) < 0)
		goto out;
	rc = api_backup_new(fsd, BK_USER_INITIATED, json_object_get(t->in,
	    "Tags"), t->id, sizeof(t->id));
	if (rc == 0)
		rc = api_token_record(t->cx, t->in, t->id);
out:
	json_decref(fsd);
	return rc;
}

/* The caller's backup id as a Backup reply, or BackupNotFound. */
static json_t *
bk_reply(struct api_ctx *cx, const char *id, struct api_error *err)
{
	struct db_backup b;
	json_t *d;

	if (db_backup_get(id, cx->account, cx->region, &b) < 0)
		return api_fail(err, API_E_BACKUP_NOT_FOUND,
		    "Backup '%s' does not exist.", id);
	d = bk_out(&b);
	db_backup_fini(&b);
	if (d == NULL)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "state unreadable");
	return bk_wrap(d);
}

json_t *
api_backup_create(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct bk_tx t = { cx, in, err, "" };

	if (json_object_get(in, "VolumeId") != NULL)
		return api_fail(err, API_E_VOLUME_NOT_FOUND,
		    "Volume '%s' does not exist.",
		    json_string_value(json_object_get(in, "VolumeId")));
	if (json_object_get(in, "FileSystemId") == NULL)
		return api_fail(err, API_E_BAD_REQUEST,
		    "A FileSystemId is required to back up a Lustre file system.");
	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (api_tx(bk_create_tx, &t, err, "the backup") < 0)
		return NULL;
	prov_kick();
	log_info("%s: %s of %s", __func__, t.id, json_string_value(
	    json_object_get(in, "FileSystemId")));
	return bk_reply(cx, t.id, err);
}

/* --- DescribeBackups --- */

struct bk_page {
	const json_t	*ids;		/* BackupIds, or NULL */
	const json_t	*filters;
	json_t		*items;
	long long	 max, last;
	int		 more;
};

/* 1 when `v` is one of the filter's Values. */
static int
filter_has(const json_t *f, const char *v)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(f, "Values"), i, e)
		if (strcmp(json_string_value(e), v) == 0)
			return 1;
	return 0;
}

static int
bk_match(const struct bk_page *pg, const struct db_backup *b)
{
	size_t i;
	json_t *f;

	if (pg->ids != NULL) {
		json_array_foreach(pg->ids, i, f)
			if (strcmp(json_string_value(f), b->id) == 0)
				return 1;
		return 0;
	}
	json_array_foreach(pg->filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name"));
		const char *v = NULL;

		if (name == NULL)
			continue;	/* Name is optional in the model */
		if (strcmp(name, "file-system-id") == 0)
			v = b->fs_id;
		else if (strcmp(name, "backup-type") == 0)
			v = backup_type_name(b->type);
		else if (strcmp(name, "file-system-type") == 0)
			v = b->fs_type;
		if (v == NULL || !filter_has(f, v))
			return 0;	/* volume-id and others: no Lustre match */
	}
	return 1;
}

static int
bk_page_add(void *arg, const struct db_backup *b)
{
	struct bk_page *pg = arg;
	json_t *d;

	if (!bk_match(pg, b))
		return 0;
	if ((long long)json_array_size(pg->items) == pg->max) {
		pg->more = 1;
		return 1;
	}
	d = bk_out(b);
	if (d != NULL)
		json_array_append_new(pg->items, d);
	pg->last = b->seq;
	return 0;
}

/* Filters on file systems: an id that names neither a file system of the
 * caller nor any of its backups is FileSystemNotFound. 0 or -1. */
static int
bk_filters_check(struct api_ctx *cx, const json_t *filters,
    struct api_error *err)
{
	size_t i, j;
	json_t *f, *v;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name"));

		if (name == NULL || strcmp(name, "file-system-id") != 0)
			continue;
		json_array_foreach(json_object_get(f, "Values"), j, v) {
			const char *id = json_string_value(v);
			json_t *d = api_fs_get(cx, id, NULL);

			if (d != NULL) {
				json_decref(d);
				continue;
			}
			if (db_backup_of_fs(id, -1, ~0u, NULL, 0) > 0)
				continue;	/* deleted, its backups kept */
			api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
			    "File system '%s' does not exist.", id);
			return -1;
		}
	}
	return 0;
}

json_t *
api_backup_describe(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const json_t *jmax = json_object_get(in, "MaxResults");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	struct bk_page pg = { .max = BK_PAGE_MAX };
	long long after = 0;
	json_t *out;
	size_t i;
	json_t *id;

	pg.ids = json_object_get(in, "BackupIds");
	pg.filters = json_object_get(in, "Filters");
	if (jmax != NULL && json_integer_value(jmax) < pg.max)
		pg.max = json_integer_value(jmax);
	if (tok != NULL && api_cursor_decode(tok, "bk1:", &after) < 0)
		return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	/* BackupIds override the filters; every one must exist */
	json_array_foreach(pg.ids, i, id)
		if (!api_backup_exists(cx, json_string_value(id)))
			return api_fail(err, API_E_BACKUP_NOT_FOUND,
			    "Backup '%s' does not exist.",
			    json_string_value(id));
	if (pg.ids == NULL && bk_filters_check(cx, pg.filters, err) < 0)
		return NULL;
	pg.items = json_array();
	if (db_backup_list(cx->account, cx->region, after, bk_page_add,
	    &pg) < 0) {
		json_decref(pg.items);
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "state unavailable");
	}
	out = json_object();
	json_object_set_new(out, "Backups", pg.items);
	if (pg.more)
		json_object_set_new(out, "NextToken", api_cursor_encode("bk1:", pg.last));
	return out;
}

/* --- DeleteBackup --- */

static int
bk_delete_tx(void *arg)
{
	struct bk_tx *t = arg;
	const char *id = json_string_value(json_object_get(t->in, "BackupId"));
	char other[DB_ID_MAX];
	struct db_backup b;
	int rc;

	rc = api_token_check(t->cx, t->in, other, sizeof(other), t->err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;		/* a replay: deleted already */
	if (db_backup_get(id, t->cx->account, t->cx->region, &b) < 0) {
		api_fail(t->err, API_E_BACKUP_NOT_FOUND,
		    "Backup '%s' does not exist.", id);
		return -1;
	}
	rc = -1;
	if (b.type == BK_AWS_BACKUP) {
		api_fail(t->err, API_E_BAD_REQUEST, "Backup '%s' is managed by"
		    " AWS Backup and cannot be deleted through FSx.", id);
	} else if (DB_BK_OPEN & DB_BK_MASK(b.lifecycle)) {
		api_fail(t->err, API_E_BACKUP_IN_PROGRESS, "Backup '%s' is %s;"
		    " it can be deleted once it is AVAILABLE or FAILED.", id,
		    backup_lifecycle_name(b.lifecycle));
	} else if (db_restore_using(id, other, sizeof(other)) == 0) {
		api_fail(t->err, API_E_BACKUP_RESTORING, "Backup '%s' is being"
		    " restored into file system '%s'.", id, other);
		api_error_set(t->err, "FileSystemId", json_string(other));
	} else if (db_backup_copies_of(id, DB_BK_MASK(BK_COPYING), other,
	    sizeof(other)) > 0) {
		api_fail(t->err, API_E_BACKUP_BEING_COPIED, "Backup '%s' is"
		    " being copied to backup '%s'.", id, other);
		api_error_set(t->err, "BackupId", json_string(id));
	} else {
		rc = db_backup_delete(id);
		if (rc == 0)
			rc = db_job_add(JOB_BACKUP_DELETE, id, 0, 0);
		if (rc == 0)
			rc = api_token_record(t->cx, t->in, id);
	}
	db_backup_fini(&b);
	return rc;
}

json_t *
api_backup_delete(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct bk_tx t = { cx, in, err, "" };

	if (api_tx(bk_delete_tx, &t, err, "the deletion") < 0)
		return NULL;
	prov_kick();
	return json_pack("{s:O,s:s}", "BackupId", json_object_get(in,
	    "BackupId"), "Lifecycle", backup_lifecycle_name(BK_DELETED));
}

/* --- CopyBackup --- */

/* A region name as AWS spells them: xx-name-N, xx-name-name-N. */
static int
region_ok(const char *r)
{
	int parts = 0;

	for (const char *p = r; *p != '\0'; p++)
		if (*p == '-')
			parts++;
	return parts >= 2 && r[0] >= 'a' && r[0] <= 'z' && r[1] >= 'a' &&
	    r[1] <= 'z' && r[2] == '-' && strlen(r) >= 9 &&
	    r[strlen(r) - 1] >= '0' && r[strlen(r) - 1] <= '9' &&
	    r[strlen(r) - 2] == '-';
}

/* Request tags over the source's (request wins); NULL with err past 50. */
static json_t *
copy_tags_merge(const json_t *src, const json_t *req, struct api_error *err)
{
	json_t *out = json_array(), *t;
	size_t i, j;

	json_array_foreach(src, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		int clash = 0;
		json_t *r;

		json_array_foreach(req, j, r)
			if (strcmp(k, json_string_value(json_object_get(r,
			    "Key"))) == 0)
				clash = 1;
		if (!clash)
			json_array_append(out, t);
	}
	json_array_extend(out, (json_t *)req);
	if (json_array_size(out) > BK_TAGS_MAX) {
		json_decref(out);
		api_fail(err, API_E_BAD_REQUEST, "A backup can have at most %d"
		    " tags; the source's and the request's make more.",
		    BK_TAGS_MAX);
		return NULL;
	}
	return out;
}

static int
bk_copy_tx(void *arg)
{
	struct bk_tx *t = arg;
	struct api_ctx *cx = t->cx;
	const char *src_id = json_string_value(json_object_get(t->in,
	    "SourceBackupId"));
	const char *src_region = json_string_value(json_object_get(t->in,
	    "SourceRegion"));
	const json_t *req_tags = json_object_get(t->in, "Tags");
	struct db_backup src, b;
	json_t *d = NULL, *tags = NULL;
	int n, rc;

	rc = api_token_check(cx, t->in, t->id, sizeof(t->id), t->err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (src_region == NULL)
		src_region = cx->region;
	if (!region_ok(src_region)) {
		api_fail(t->err, API_E_INVALID_REGION, "Region '%s' is not a"
		    " region of this endpoint's partition.", src_region);
		return -1;
	}
	if (db_backup_get(src_id, cx->account, src_region, &src) < 0) {
		api_fail(t->err, API_E_BACKUP_NOT_FOUND, "Backup '%s' does not"
		    " exist in %s.", src_id, src_region);
		return -1;
	}
	rc = -1;
	if (src.lifecycle != BK_AVAILABLE) {
		api_fail(t->err, API_E_SOURCE_BACKUP_UNAVAILABLE, "Backup '%s'"
		    " is %s, not AVAILABLE.", src_id,
		    backup_lifecycle_name(src.lifecycle));
		api_error_set(t->err, "BackupId", json_string(src_id));
		goto out;
	}
	n = db_backup_count(cx->account, cx->region, -1,
	    DB_BK_MASK(BK_COPYING));
	if (n >= 0 && n + 1 > cx->conf->q_copies) {
		api_fail(t->err, API_E_SERVICE_LIMIT_EXCEEDED, "At most %ld"
		    " backup copies may be in progress in a region.",
		    cx->conf->q_copies);
		api_error_set(t->err, "Limit",
		    json_string("TOTAL_IN_PROGRESS_COPY_BACKUPS"));
		goto out;
	}
	if (bk_quota(cx, t->err) < 0)
		goto out;
	d = json_loads(src.doc, 0, NULL);
	if (d == NULL) {
		rc = -EIO;
		goto out;
	}
	tags = json_is_true(json_object_get(t->in, "CopyTags")) ?
	    copy_tags_merge(json_object_get(d, "Tags"), req_tags, t->err) :
	    json_incref((json_t *)req_tags);
	if (tags == NULL && t->err->message[0] != '\0')
		goto out;
	memset(&b, 0, sizeof(b));
	api_new_id("backup-", b.id, sizeof(b.id));
	snprintf(b.account, sizeof(b.account), "%s", cx->account);
	snprintf(b.region, sizeof(b.region), "%s", cx->region);
	snprintf(b.fs_id, sizeof(b.fs_id), "%s", src.fs_id);
	snprintf(b.fs_type, sizeof(b.fs_type), "%s", src.fs_type);
	snprintf(b.source_id, sizeof(b.source_id), "%s", src.id);
	snprintf(b.source_region, sizeof(b.source_region), "%s", src_region);
	bk_arn(src.arn, cx->region, b.id, b.arn, sizeof(b.arn));
	b.type = BK_USER_INITIATED;
	b.lifecycle = BK_COPYING;
	b.created = now_epoch();
	json_object_set_new(d, "BackupId", json_string(b.id));
	json_object_set_new(d, "ResourceARN", json_string(b.arn));
	json_object_set_new(d, "Type", json_string("USER_INITIATED"));
	json_object_set_new(d, "CreationTime", json_real(b.created));
	json_object_set_new(d, "SourceBackupId", json_string(src.id));
	json_object_set_new(d, "SourceBackupRegion", json_string(src_region));
	if (json_object_get(t->in, "KmsKeyId") != NULL)
		json_object_set(d, "KmsKeyId", json_object_get(t->in,
		    "KmsKeyId"));
	rc = bk_store(&b, d, tags);
	d = NULL;
	if (rc == 0)
		rc = db_job_add(JOB_BACKUP_COPY, b.id, 0, 0);
	if (rc == 0)
		rc = api_token_record(cx, t->in, b.id);
	if (rc == 0)
		snprintf(t->id, sizeof(t->id), "%s", b.id);
out:
	json_decref(d);
	json_decref(tags);
	db_backup_fini(&src);
	return rc;
}

json_t *
api_backup_copy(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct bk_tx t = { cx, in, err, "" };

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (api_tx(bk_copy_tx, &t, err, "the copy") < 0)
		return NULL;
	prov_kick();
	return bk_reply(cx, t.id, err);
}
