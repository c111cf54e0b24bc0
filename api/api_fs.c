/*
 * CreateFileSystem, DescribeFileSystems, UpdateFileSystem, DeleteFileSystem
 * and fsx-local's mount-info. The rules of each request live in
 * api_fs_desc.c; here are identity, idempotency, quotas, storage and jobs.
 *
 * A file system is one row of `file_systems` (src/db/db_fs.c): its
 * description (the JSON DescribeFileSystems shows) plus the columns we
 * query by. The lifecycle column is the truth; the description's Lifecycle
 * is set from it on output.
 *
 * Each mutating handler is one transaction (db_tx) that validates, stores
 * and queues a job; the provisioner runs the job and reports typed results,
 * which api_fs_apply() turns into the stored description.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"
#include "api_backup.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"
#include "api_repo.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/kinds.h"
#include "core/util.h"
#include "db/db.h"
#include "db/db_backup.h"
#include "prov.h"

#define FS_PAGE_MAX	100		/* items per page when MaxResults is larger */
#define TOKEN_MEMBER	"ClientRequestToken"

static json_t *
fs_doc_out(const char *doc, enum fs_lifecycle lc)
{
	json_t *d = json_loads(doc, 0, NULL);

	if (d == NULL)
		return NULL;
	json_object_set_new(d, "Lifecycle", json_string(fs_lifecycle_name(lc)));
	return d;
}

json_t *
api_fs_load(const struct api_ctx *cx, const char *fs_id, char *lifecycle,
    size_t lifecycle_len)
{
	enum fs_lifecycle lc;
	json_t *d = api_fs_get(cx, fs_id, &lc);

	if (d != NULL && lifecycle != NULL)
		snprintf(lifecycle, lifecycle_len, "%s", fs_lifecycle_name(lc));
	return d;
}

json_t *
api_fs_get(const struct api_ctx *cx, const char *fs_id, enum fs_lifecycle *lc)
{
	struct db_fs row;
	json_t *d;

	if (fs_id == NULL || db_fs_get(fs_id, cx ? cx->account : NULL,
	    cx ? cx->region : NULL, &row) < 0)
		return NULL;
	d = fs_doc_out(row.doc, row.lifecycle);
	if (lc != NULL)
		*lc = row.lifecycle;
	db_fs_fini(&row);
	return d;
}

int
api_fs_store(const char *fs_id, const json_t *doc, int lifecycle)
{
	json_t *copy = json_deep_copy(doc);
	char *text;
	int rc;

	/* the lifecycle is a column and tags are rows (db.h) */
	json_object_del(copy, "Lifecycle");
	json_object_del(copy, "Tags");
	text = json_dumps(copy, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(copy);
	if (text == NULL)
		return -ENOMEM;
	rc = db_fs_update(fs_id, text, lifecycle,
	    json_integer_value(json_object_get(doc, "StorageCapacity")));
	free(text);
	return rc;
}

int
api_tx(int (*fn)(void *arg), void *arg, struct api_error *err,
    const char *what)
{
	int rc = db_tx(fn, arg);

	if (rc < 0 && err->message[0] == '\0')
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not record %s"
		    " (%s)", what, strerror(-rc));
	return rc;
}

/* The request as compared for idempotency: members sorted, token removed. */
static char *
token_params(const json_t *in)
{
	json_t *c = json_deep_copy(in);
	char *s;

	json_object_del(c, TOKEN_MEMBER);
	s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c);
	return s;
}

int
api_token_check(const struct api_ctx *cx, const json_t *in, char *resource_id,
    size_t len, struct api_error *err)
{
	const char *token = json_string_value(json_object_get(in, TOKEN_MEMBER));
	char *stored = NULL, *mine;
	json_t *old, *now;
	const char *bad = NULL, *k;
	json_t *v;
	int rc;

	if (token == NULL)
		return 0;
	rc = db_token_get(cx->account, cx->region, cx->op, token, &stored,
	    resource_id, len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		return -1;
	}
	mine = token_params(in);
	if (strcmp(mine, stored) == 0) {
		free(mine);
		free(stored);
		return 1;
	}
	/* Name the first member whose value differs. */
	old = json_loads(stored, 0, NULL);
	now = json_loads(mine, 0, NULL);
	json_object_foreach(now, k, v) {
		if (!json_equal(v, json_object_get(old, k))) {
			bad = k;
			break;
		}
	}
	if (bad == NULL)
		json_object_foreach(old, k, v)
			if (json_object_get(now, k) == NULL && bad == NULL)
				bad = k;
	api_fail(err, API_E_INCOMPATIBLE_PARAMETER,
	    "The request uses the same client request token as a previous,"
	    " but non-identical request. Parameter %s differs.",
	    bad ? bad : TOKEN_MEMBER);
	api_error_set(err, "Parameter", json_string(bad ? bad : TOKEN_MEMBER));
	json_decref(old);
	json_decref(now);
	free(mine);
	free(stored);
	return -1;
}

int
api_token_record(const struct api_ctx *cx, const json_t *in,
    const char *resource_id)
{
	const char *token = json_string_value(json_object_get(in, TOKEN_MEMBER));
	char *params;
	int rc;

	if (token == NULL)
		return 0;
	params = token_params(in);
	rc = db_token_put(cx->account, cx->region, cx->op, token, params,
	    resource_id);
	free(params);
	return rc;
}

/* Quota class of a deployment type: scratch, persistent_1, persistent_2. */
static const char *
fs_quota_class(const char *deployment)
{
	return strncmp(deployment, "SCRATCH", 7) == 0 ? "SCRATCH" : deployment;
}

static int
fs_quota_check(const struct api_ctx *cx, const char *deployment,
    long long add_storage, int add_count, struct api_error *err)
{
	long long count = 0, storage = 0;

	if (db_fs_usage(cx->account, cx->region, fs_quota_class(deployment),
	    &count, &storage) < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		return -1;
	}
	if (add_count && count + 1 > cx->conf->q_fs_count) {
		api_fail(err, API_E_SERVICE_LIMIT_EXCEEDED,
		    "You have reached the maximum number of file systems (%ld)"
		    " of this deployment type for your account.",
		    cx->conf->q_fs_count);
		api_error_set(err, "Limit", json_string("FILE_SYSTEM_COUNT"));
		return -1;
	}
	if (storage + add_storage > cx->conf->q_total_storage) {
		api_fail(err, API_E_SERVICE_LIMIT_EXCEEDED,
		    "The requested storage would exceed the total storage limit"
		    " of %ld GiB for this deployment type in your account.",
		    cx->conf->q_total_storage);
		api_error_set(err, "Limit", json_string("TOTAL_STORAGE"));
		return -1;
	}
	return 0;
}

void
api_new_id(const char *prefix, char *out, size_t n)
{
	uint8_t r[9];
	char hex[19];

	rand_bytes(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, n, "%s%.17s", prefix, hex);
}

static json_t *
fs_wrap(json_t *desc)
{
	json_t *o = json_object();

	json_object_set_new(o, "FileSystem", desc);
	return o;
}

/* OSTs a description's capacity maps to, capped by the configuration. */
static int
fs_target_nost(const struct api_ctx *cx, const json_t *desc)
{
	int n = fs_desc_ost_count(desc);

	if (n > cx->conf->max_ost)
		n = cx->conf->max_ost;
	return n < 1 ? 1 : n;
}

static int
fs_linked(const json_t *desc)
{
	return json_object_get(json_object_get(desc, "LustreConfiguration"),
	    "DataRepositoryConfiguration") != NULL;
}

/* The legacy link's AutoImportPolicy, or "". */
static const char *
fs_link_policy(const json_t *desc)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    json_object_get(desc, "LustreConfiguration"),
	    "DataRepositoryConfiguration"), "AutoImportPolicy"));

	return s ? s : "";
}

struct fs_create_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	json_t			*desc;		/* out: the new (or replayed) one */
	const json_t		*req;		/* restore: the create it makes */
	const char		*backup_id;	/* restore: from this backup */
};

static int
fs_create_tx(void *arg)
{
	struct fs_create_tx *t = arg;
	struct api_ctx *cx = t->cx;
	struct fs_desc_ctx dc;
	struct db_fs row;
	char existing[64];
	uint8_t key[(DB_SECRET_HEX - 1) / 2];
	const char *deployment;
	int rc;

	rc = api_token_check(cx, t->in, existing, sizeof(existing), t->err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		t->desc = api_fs_get(cx, existing, NULL);
		if (t->desc != NULL)
			return 0;
	}
	memset(&row, 0, sizeof(row));
	api_new_id("fs-", row.id, sizeof(row.id));
	memset(&dc, 0, sizeof(dc));
	dc.account = cx->account;
	dc.region = cx->region;
	dc.partition = cx->partition;
	dc.fs_id = row.id;
	dc.now = now_epoch();
	t->desc = fs_desc_create(t->req ? t->req : t->in, &dc, t->err);
	if (t->desc == NULL)
		return -1;
	deployment = json_string_value(json_object_get(json_object_get(t->desc,
	    "LustreConfiguration"), "DeploymentType"));
	if (deployment == NULL)
		deployment = "SCRATCH_1";
	row.capacity = json_integer_value(json_object_get(t->desc,
	    "StorageCapacity"));
	if (fs_quota_check(cx, deployment, row.capacity, 1, t->err) < 0)
		return -1;
	snprintf(row.account, sizeof(row.account), "%s", cx->account);
	snprintf(row.region, sizeof(row.region), "%s", cx->region);
	snprintf(row.deployment, sizeof(row.deployment), "%s", deployment);
	row.lifecycle = FS_CREATING;
	row.created = dc.now;
	rand_bytes(key, sizeof(key));
	hex_encode(key, sizeof(key), row.secret);
	explicit_bzero(key, sizeof(key));
	snprintf(row.arn, sizeof(row.arn), "%s", json_string_value(
	    json_object_get(t->desc, "ResourceARN")));
	rc = db_fs_insert(&row);
	if (rc == 0)
		rc = api_fs_store(row.id, t->desc, -1);
	if (rc == 0)
		rc = api_tags_put(row.arn, json_object_get(t->in, "Tags"));
	if (rc == 0)
		rc = api_token_record(cx, t->in, row.id);
	if (rc == 0 && t->backup_id != NULL)
		rc = db_restore_put(row.id, t->backup_id);
	if (rc == 0)
		rc = db_job_add(t->backup_id ? JOB_RESTORE : JOB_CREATE, row.id,
		    row.capacity, fs_target_nost(cx, t->desc));
	/* a legacy ImportPath link: the S3 agent once the servers run */
	if (rc == 0 && fs_linked(t->desc))
		rc = api_dra_legacy_put(row.id, cx->account, cx->region,
		    t->desc, FS_CREATING);
	if (rc == 0 && fs_linked(t->desc))
		rc = db_job_add(JOB_HSM, row.id, 0, 0);
	explicit_bzero(row.secret, sizeof(row.secret));
	return rc;
}

json_t *
api_fs_create_from(struct api_ctx *cx, const json_t *in, const json_t *req,
    const char *backup_id, struct api_error *err)
{
	struct fs_create_tx t = { cx, in, err, NULL, req, backup_id };

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (api_tx(fs_create_tx, &t, err, "the file system") < 0) {
		json_decref(t.desc);
		return NULL;
	}
	prov_kick();
	log_info("%s: %s account=%s region=%s", __func__, json_string_value(
	    json_object_get(t.desc, "FileSystemId")), cx->account, cx->region);
	return fs_wrap(t.desc);
}

json_t *
api_fs_create(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	return api_fs_create_from(cx, in, NULL, NULL, err);
}

/*
 * NextToken: base64 of "<prefix><seq>" ("fs1:" for file systems, "bk1:"
 * for backups); the listing resumes after that row. Opaque to clients;
 * anything else is refused as AWS refuses a bad token.
 */
int
api_cursor_decode(const char *tok, const char *prefix, long long *seq)
{
	unsigned char raw[64];
	size_t plen = strlen(prefix);
	char *end;
	int n;

	if (strlen(tok) > 80)
		return -EINVAL;
	n = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)strlen(tok));
	if (n <= 0 || n >= (int)sizeof(raw))
		return -EINVAL;
	raw[n] = '\0';
	if (strncmp((char *)raw, prefix, plen) != 0)
		return -EINVAL;
	*seq = strtoll((char *)raw + plen, &end, 10);
	if (end == (char *)raw + plen || *seq < 0)
		return -EINVAL;
	return 0;
}

json_t *
api_cursor_encode(const char *prefix, long long seq)
{
	char raw[48];
	unsigned char out[80];
	int n = snprintf(raw, sizeof(raw), "%s%lld", prefix, seq);

	EVP_EncodeBlock(out, (unsigned char *)raw, n);
	return json_string((char *)out);
}

/* Append one stored description to a listing, with its lifecycle. */
static void
fs_doc_append(struct buf *b, const char *doc, const char *lifecycle, int first)
{
	const char *rest = doc + 1;

	if (!first)
		buf_add(b, ",", 1);
	buf_printf(b, "{\"Lifecycle\":\"%s\"", lifecycle);
	rest += strspn(rest, " \t\r\n");
	if (*rest != '}')
		buf_add(b, ",", 1);
	buf_adds(b, rest);
}

/*
 * The last few listings this thread answered, each valid while the
 * database has seen no commit since (db_generation()): clients poll
 * DescribeFileSystems, and a listing is a pure function of the stored
 * rows and (account, region, cursor, page size, and the FileSystemIds
 * asked for, if any: `ids` is their fs_ids_key(), NULL for a full
 * listing). Without it every poll pays an SQLite read transaction (WAL
 * locks taken with fcntl), a quarter of fsxd's CPU per request, and a
 * by-id poll B-tree look-ups that deepen with the number stored. Only
 * answers are cached, never errors. Freed at thread exit.
 */
#define FS_LCACHE_N	4
#define FS_IDS_KEY_MAX	4096

struct fs_lcache {
	struct {
		uint64_t	 gen;	/* 0: empty */
		long long	 after, max;
		char		 account[16];
		char		 region[64];
		char		*ids;	/* NULL: a full listing */
		char		*text;
	} e[FS_LCACHE_N];
	unsigned	 next;
};

static __thread struct fs_lcache *fs_lcache;
static pthread_key_t	 fs_lcache_key;
static pthread_once_t	 fs_lcache_once = PTHREAD_ONCE_INIT;

static void
fs_lcache_free(void *p)
{
	struct fs_lcache *c = p;

	for (int i = 0; i < FS_LCACHE_N; i++) {
		free(c->e[i].ids);
		free(c->e[i].text);
	}
	free(c);
	fs_lcache = NULL;
}

static void
fs_lcache_key_make(void)
{
	if (pthread_key_create(&fs_lcache_key, fs_lcache_free) != 0)
		fatal("%s: pthread_key_create", __func__);
}

/*
 * FileSystemIds as a cache key: each id with its length before it, so
 * that no two lists share a key. NULL when the list is too long to keep.
 */
static char *
fs_ids_key(const json_t *ids)
{
	struct buf b;
	size_t i;

	buf_init(&b, 256);
	for (i = 0; i < json_array_size(ids) && b.len < FS_IDS_KEY_MAX; i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		buf_printf(&b, "%zu:%s,", strlen(id ? id : ""), id ? id : "");
	}
	if (b.len >= FS_IDS_KEY_MAX) {
		buf_fini(&b);
		return NULL;
	}
	return buf_take(&b);
}

static int
fs_ids_eq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The cached listing (a copy), or NULL. */
static char *
fs_lcache_get(uint64_t gen, const char *account, const char *region,
    long long after, long long max, const char *ids)
{
	struct fs_lcache *c = fs_lcache;

	if (gen == 0 || c == NULL)
		return NULL;
	for (int i = 0; i < FS_LCACHE_N; i++)
		if (c->e[i].gen == gen && c->e[i].after == after &&
		    c->e[i].max == max &&
		    strcmp(c->e[i].account, account) == 0 &&
		    strcmp(c->e[i].region, region) == 0 &&
		    fs_ids_eq(c->e[i].ids, ids))
			return xstrdup(c->e[i].text);
	return NULL;
}

static void
fs_lcache_put(uint64_t gen, const char *account, const char *region,
    long long after, long long max, const char *ids, const char *text)
{
	struct fs_lcache *c = fs_lcache;
	unsigned i;

	if (gen == 0 || strlen(account) >= sizeof(c->e[0].account) ||
	    strlen(region) >= sizeof(c->e[0].region))
		return;
	if (c == NULL) {
		pthread_once(&fs_lcache_once, fs_lcache_key_make);
		c = xcalloc(1, sizeof(*c));
		pthread_setspecific(fs_lcache_key, c);
		fs_lcache = c;
	}
	i = c->next++ % FS_LCACHE_N;
	free(c->e[i].ids);
	free(c->e[i].text);
	c->e[i].ids = ids != NULL ? xstrdup(ids) : NULL;
	c->e[i].gen = gen;
	c->e[i].after = after;
	c->e[i].max = max;
	snprintf(c->e[i].account, sizeof(c->e[i].account), "%s", account);
	snprintf(c->e[i].region, sizeof(c->e[i].region), "%s", region);
	c->e[i].text = xstrdup(text);
}

/*
 * DescribeFileSystems. The listing is assembled from the stored
 * descriptions' text (they are written by json_dumps, so each is one JSON
 * object) rather than parsed and dumped again: this is the operation
 * clients poll.
 */
/* A listing being assembled: up to max items after the cursor. */
struct fs_page {
	struct buf	 b;
	long long	 n, max, last;
	int		 more;
};

static int
fs_page_add(void *arg, long long seq, const char *doc, enum fs_lifecycle lc)
{
	struct fs_page *pg = arg;

	if (pg->n == pg->max) {
		pg->more = 1;
		return 1;
	}
	fs_doc_append(&pg->b, doc, fs_lifecycle_name(lc), pg->n == 0);
	pg->last = seq;
	pg->n++;
	return 0;
}

/* The rows named by ids (each must be the caller's), in seq order after
 * the cursor. 0, or -1 with err set. */
static int
fs_page_ids(struct api_ctx *cx, const json_t *ids, long long after,
    struct fs_page *pg, struct api_error *err)
{
	size_t i, nids = json_array_size(ids);
	struct db_fs *rows = xcalloc(nids ? nids : 1, sizeof(*rows));
	int rc = 0;

	for (i = 0; i < nids; i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		if (db_fs_get(id, cx->account, cx->region, &rows[i]) < 0) {
			api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
			    "File system '%s' does not exist.", id);
			rc = -1;
			goto out;
		}
	}
	/* Emit in seq order, each id once, resuming after the cursor. */
	for (;;) {
		struct db_fs *next = NULL;

		for (i = 0; i < nids; i++)
			if (rows[i].seq > after && (next == NULL ||
			    rows[i].seq < next->seq))
				next = &rows[i];
		if (next == NULL || fs_page_add(pg, next->seq, next->doc,
		    next->lifecycle) != 0)
			break;
		after = next->seq;
	}
out:
	for (i = 0; i < nids; i++)
		db_fs_fini(&rows[i]);
	free(rows);
	return rc;
}

/*
 * DescribeFileSystems. The listing is assembled from the stored
 * descriptions' text (they are written by json_dumps, so each is one JSON
 * object) rather than parsed and dumped again: this is the operation
 * clients poll.
 */
json_t *
api_fs_describe(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const json_t *ids = json_object_get(in, "FileSystemIds");
	const json_t *jmax = json_object_get(in, "MaxResults");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	struct fs_page pg = { .max = FS_PAGE_MAX };
	long long after = 0;
	uint64_t gen;
	char *text, *key = NULL;

	if (jmax != NULL && json_integer_value(jmax) < pg.max)
		pg.max = json_integer_value(jmax);
	if (tok != NULL && api_cursor_decode(tok, "fs1:", &after) < 0)
		return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	/* read before the query: a commit after it changes it */
	gen = db_generation();
	if (ids != NULL) {
		key = fs_ids_key(ids);
		if (key == NULL)
			gen = 0;		/* too long to keep: not cached */
	}
	text = fs_lcache_get(gen, cx->account, cx->region, after, pg.max, key);
	if (text != NULL) {
		free(key);
		return api_reply_text(cx, text);
	}
	buf_init(&pg.b, 4096);
	buf_adds(&pg.b, "{\"FileSystems\":[");
	if (ids != NULL) {
		if (fs_page_ids(cx, ids, after, &pg, err) < 0) {
			buf_fini(&pg.b);
			free(key);
			return NULL;
		}
	} else if (db_fs_list(cx->account, cx->region, after, fs_page_add,
	    &pg) < 0) {
		buf_fini(&pg.b);
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "state unavailable");
	}
	buf_add(&pg.b, "]", 1);
	if (pg.more) {
		json_t *t = api_cursor_encode("fs1:", pg.last);

		buf_printf(&pg.b, ",\"NextToken\":\"%s\"", json_string_value(t));
		json_decref(t);
	}
	buf_add(&pg.b, "}", 1);
	text = buf_take(&pg.b);
	fs_lcache_put(gen, cx->account, cx->region, after, pg.max, key, text);
	free(key);
	return api_reply_text(cx, text);
}

struct fs_update_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	json_t			*next;		/* out */
	int			 queued;	/* out: a grow job was added */
};

static int
fs_update_tx(void *arg)
{
	struct fs_update_tx *t = arg;
	struct api_ctx *cx = t->cx;
	const char *fs_id = json_string_value(json_object_get(t->in,
	    "FileSystemId"));
	struct fs_desc_plan plan;
	char existing[64];
	json_t *cur, *target;
	const char *deployment;
	int rc = -1;

	cur = api_fs_get(cx, fs_id, NULL);
	if (cur == NULL) {
		api_fail(t->err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		return -1;
	}
	rc = api_token_check(cx, t->in, existing, sizeof(existing), t->err);
	if (rc != 0) {
		/* a replay answers the current state, changing nothing */
		t->next = rc == 1 ? cur : NULL;
		if (rc != 1)
			json_decref(cur);
		return rc == 1 ? 0 : -1;
	}
	memset(&plan, 0, sizeof(plan));
	rc = -1;
	t->next = fs_desc_update(cur, t->in, now_epoch(),
	    cx->conf->update_gap_sec, &plan, t->err);
	if (t->next == NULL)
		goto out;
	if (plan.new_capacity > 0) {
		deployment = json_string_value(json_object_get(json_object_get(
		    cur, "LustreConfiguration"), "DeploymentType"));
		if (fs_quota_check(cx, deployment ? deployment : "SCRATCH_1",
		    plan.new_capacity - json_integer_value(json_object_get(cur,
		    "StorageCapacity")), 0, t->err) < 0)
			goto out;
	}
	if (plan.needs_update_job) {
		/* the OST count the new values map to */
		json_t *then = json_deep_copy(t->next);

		target = fs_desc_action_pending_target(then, "FILE_SYSTEM_UPDATE");
		if (target != NULL) {
			target = json_deep_copy(target);
			fs_desc_apply_target(then, target);
			json_decref(target);
		}
		if (plan.new_capacity > 0)
			fs_desc_apply_capacity(then, plan.new_capacity);
		json_object_set_new(t->next, "Lifecycle",
		    json_string(fs_lifecycle_name(FS_UPDATING)));
		rc = db_job_add(JOB_GROW, fs_id, plan.new_capacity,
		    fs_target_nost(cx, then));
		json_decref(then);
		if (rc < 0)
			goto out;
		t->queued = 1;
	}
	if (fs_linked(t->next) &&
	    strcmp(fs_link_policy(cur), fs_link_policy(t->next)) != 0) {
		/* the agent applies the new AutoImportPolicy */
		json_object_set_new(json_object_get(json_object_get(t->next,
		    "LustreConfiguration"), "DataRepositoryConfiguration"),
		    "Lifecycle", json_string(fs_lifecycle_name(FS_UPDATING)));
		rc = api_dra_legacy_put(fs_id, cx->account, cx->region,
		    t->next, FS_UPDATING);
		if (rc == 0)
			rc = db_job_add(JOB_HSM, fs_id, 0, 0);
		if (rc < 0)
			goto out;
		t->queued = 1;
	}
	rc = api_fs_store(fs_id, t->next, plan.needs_update_job ? FS_UPDATING : -1);
	if (rc == 0)
		rc = api_token_record(cx, t->in, fs_id);
out:
	json_decref(cur);
	return rc;
}

json_t *
api_fs_update(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct fs_update_tx t = { cx, in, err, NULL, 0 };

	if (api_tx(fs_update_tx, &t, err, "the update") < 0) {
		json_decref(t.next);
		return NULL;
	}
	if (t.queued)
		prov_kick();
	return fs_wrap(t.next);
}

struct fs_delete_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	char			 final[DB_ID_MAX];	/* out: final backup */
};

static int
fs_delete_tx(void *arg)
{
	struct fs_delete_tx *t = arg;
	const char *fs_id = json_string_value(json_object_get(t->in,
	    "FileSystemId"));
	const json_t *skip = json_object_get(json_object_get(t->in,
	    "LustreConfiguration"), "SkipFinalBackup");
	enum fs_lifecycle lc;
	char existing[64];
	const char *dep;
	json_t *cur;
	int rc;

	cur = api_fs_get(t->cx, fs_id, &lc);
	if (cur == NULL) {
		api_fail(t->err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		return -1;
	}
	dep = json_string_value(json_object_get(json_object_get(cur,
	    "LustreConfiguration"), "DeploymentType"));
	rc = api_token_check(t->cx, t->in, existing, sizeof(existing), t->err);
	if (rc != 0 || lc == FS_DELETING)
		goto out;		/* a replay, or already going */
	rc = -1;
	(void)dep;
	if (skip != NULL && !json_is_true(skip)) {
		/* a final backup (docs/backups.md), queued before the delete */
		const char *why = api_backup_refusal(cur);

		if (why != NULL) {
			api_fail(t->err, API_E_BAD_REQUEST, "%s Set"
			    " SkipFinalBackup to true.", why);
			goto out;
		}
		if (lc != FS_AVAILABLE && lc != FS_UPDATING) {
			api_fail(t->err, API_E_BAD_REQUEST, "File system '%s'"
			    " is %s; a final backup needs it AVAILABLE.", fs_id,
			    fs_lifecycle_name(lc));
			goto out;
		}
		if (db_backup_of_fs(fs_id, -1, DB_BK_OPEN, NULL, 0) > 0) {
			api_fail(t->err, API_E_BAD_REQUEST, "A backup of file"
			    " system '%s' is in progress; delete it once that"
			    " backup is AVAILABLE.", fs_id);
			goto out;
		}
		rc = api_backup_new(cur, BK_USER_INITIATED, json_object_get(
		    json_object_get(t->in, "LustreConfiguration"),
		    "FinalBackupTags"), t->final, sizeof(t->final));
		if (rc < 0)
			goto out;
	}
	if (db_task_count(fs_id, 1u << TASK_PENDING | 1u << TASK_EXECUTING)
	    > 0) {
		api_fail(t->err, API_E_BAD_REQUEST, "File system %s has a data"
		    " repository task in progress (PENDING or EXECUTING); it"
		    " cannot be deleted until the task ends or is cancelled.",
		    fs_id);
		goto out;
	}
	rc = db_fs_set_lifecycle(fs_id, FS_DELETING);
	if (rc == 0)
		rc = db_job_add(JOB_DELETE, fs_id, 0, 0);
	if (rc == 0)
		rc = api_token_record(t->cx, t->in, fs_id);
out:
	json_decref(cur);
	return rc < 0 ? rc : 0;
}

json_t *
api_fs_delete(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct fs_delete_tx t = { cx, in, err, "" };
	json_t *out, *tags;

	if (api_tags_check(json_object_get(json_object_get(in,
	    "LustreConfiguration"), "FinalBackupTags"), err) < 0)
		return NULL;
	if (api_tx(fs_delete_tx, &t, err, "the deletion") < 0)
		return NULL;
	prov_kick();
	out = json_object();
	json_object_set(out, "FileSystemId", json_object_get(in, "FileSystemId"));
	json_object_set_new(out, "Lifecycle",
	    json_string(fs_lifecycle_name(FS_DELETING)));
	if (t.final[0] != '\0') {
		tags = json_object_get(json_object_get(in,
		    "LustreConfiguration"), "FinalBackupTags");
		json_object_set_new(out, "LustreResponse", json_pack("{s:s}",
		    "FinalBackupId", t.final));
		if (tags != NULL)
			json_object_set(json_object_get(out, "LustreResponse"),
			    "FinalBackupTags", tags);
	}
	return out;
}

json_t *
api_fs_mount_info(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const char *fs_id = json_string_value(json_object_get(in, "FileSystemId"));
	struct db_fs row;
	char host[64];
	json_t *d = NULL, *out = NULL;
	int port;

	if (db_fs_get(fs_id, cx->account, cx->region, &row) < 0)
		return api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
	if (row.lifecycle != FS_AVAILABLE && row.lifecycle != FS_UPDATING) {
		api_fail(err, API_E_BAD_REQUEST,
		    "File system '%s' is %s, not AVAILABLE.", fs_id,
		    fs_lifecycle_name(row.lifecycle));
		goto out;
	}
	if (prov_mds_endpoint(fs_id, host, sizeof(host), &port) < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "The metadata server of '%s' is not running.", fs_id);
		goto out;
	}
	d = fs_doc_out(row.doc, row.lifecycle);
	if (d == NULL) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unreadable");
		goto out;
	}
	out = json_object();
	json_object_set_new(out, "FileSystemId", json_string(fs_id));
	json_object_set_new(out, "Lifecycle", json_string(
	    fs_lifecycle_name(row.lifecycle)));
	json_object_set(out, "MountName", json_object_get(json_object_get(d,
	    "LustreConfiguration"), "MountName"));
	json_object_set(out, "DNSName", json_object_get(d, "DNSName"));
	json_object_set(out, "StorageCapacity", json_object_get(d, "StorageCapacity"));
	json_object_set_new(out, "MdsHost", json_string(host));
	json_object_set_new(out, "MdsPort", json_integer(port));
	json_object_set_new(out, "Secret", json_string(row.secret));
out:
	json_decref(d);
	explicit_bzero(row.secret, sizeof(row.secret));
	db_fs_fini(&row);
	return out;
}

/*
 * A provisioner result (provisioner/prov.h) applied to the stored
 * description: the one place where engine work turns into what
 * DescribeFileSystems shows.
 *
 *   CREATED         CREATING -> AVAILABLE
 *   CREATE_FAILED   -> FAILED with FailureDetails
 *   GROW_STARTED    UPDATING; FILE_SYSTEM_UPDATE IN_PROGRESS
 *   GROWN           AVAILABLE; target values applied; FILE_SYSTEM_UPDATE
 *                   UPDATED_OPTIMIZING; STORAGE_OPTIMIZATION IN_PROGRESS
 *   OPTIMIZED       STORAGE_OPTIMIZATION gone; FILE_SYSTEM_UPDATE COMPLETED
 *   GROW_FAILED     AVAILABLE; FILE_SYSTEM_UPDATE FAILED
 *   DELETED         row removed
 *
 * A file system already DELETING stays DELETING whatever arrives.
 */
struct fs_apply_tx {
	const struct prov_result	*r;
};

static int
fs_apply_tx(void *arg)
{
	const struct prov_result *r = ((struct fs_apply_tx *)arg)->r;
	double now = now_epoch();
	enum fs_lifecycle lc, to;
	json_t *d, *target;
	int rc;

	if (r->event == PROV_DELETED) {
		rc = db_fs_delete(r->fs_id);
		if (rc == 0)
			rc = api_backup_fs_gone(r->fs_id);
		return rc == 0 ? db_restore_delete(r->fs_id) : rc;
	}
	d = api_fs_get(NULL, r->fs_id, &lc);
	if (d == NULL)
		return 0;			/* gone meanwhile */
	to = lc;
	switch (r->event) {
	case PROV_CREATED:
		to = FS_AVAILABLE;
		break;
	case PROV_CREATE_FAILED:
		to = FS_FAILED;
		break;
	case PROV_GROW_STARTED:
		fs_desc_action_set_status(d, "FILE_SYSTEM_UPDATE", "IN_PROGRESS",
		    now);
		to = FS_UPDATING;
		break;
	case PROV_GROWN:
		target = fs_desc_action_pending_target(d, "FILE_SYSTEM_UPDATE");
		if (target != NULL) {
			target = json_deep_copy(target);
			fs_desc_apply_target(d, target);
			json_decref(target);
		}
		if (r->capacity > 0)
			fs_desc_apply_capacity(d, r->capacity);
		fs_desc_action_set_status(d, "FILE_SYSTEM_UPDATE",
		    "UPDATED_OPTIMIZING", now);
		fs_desc_action_add(d, "STORAGE_OPTIMIZATION", "IN_PROGRESS",
		    NULL, now);
		to = FS_AVAILABLE;
		break;
	case PROV_OPTIMIZED:
		fs_desc_action_remove(d, "STORAGE_OPTIMIZATION");
		fs_desc_action_set_status(d, "FILE_SYSTEM_UPDATE", "COMPLETED",
		    now);
		break;
	case PROV_GROW_FAILED:
		fs_desc_action_fail(d, "FILE_SYSTEM_UPDATE", r->message);
		to = FS_AVAILABLE;
		break;
	case PROV_DELETED:
	case PROV_BACKUP_STATE:
	case PROV_BACKUP_TICK:
	case PROV_DRA_STATE:
	case PROV_TASK_STATE:
		break;
	}
	if (lc == FS_DELETING)
		to = FS_DELETING;
	fs_desc_set_lifecycle(d, to,
	    r->event == PROV_CREATE_FAILED ? r->message : NULL);
	rc = api_fs_store(r->fs_id, d, to);
	json_decref(d);
	if (rc == 0 && (r->event == PROV_CREATED ||
	    r->event == PROV_CREATE_FAILED))
		rc = db_restore_delete(r->fs_id);	/* a restore ended */
	return rc;
}

int
api_fs_apply(const struct prov_result *r)
{
	struct fs_apply_tx t = { r };

	if (r->event == PROV_BACKUP_STATE || r->event == PROV_BACKUP_TICK)
		return api_backup_apply(r);
	if (r->event == PROV_DRA_STATE)
		return api_dra_apply(r);
	if (r->event == PROV_TASK_STATE)
		return api_task_apply(r);

	return db_tx(fs_apply_tx, &t);
}
