/*
 * CreateFileSystem, DescribeFileSystems, UpdateFileSystem, DeleteFileSystem
 * and fsx-local's mount-info. The rules of each request live in
 * api_fs_desc.c; here are identity, idempotency, quotas, storage and jobs.
 *
 * A file system is one row of `file_systems`: its description (the JSON
 * DescribeFileSystems shows) plus the columns we query by. The lifecycle
 * column is the truth; the description's Lifecycle is set from it on output.
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
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "prov.h"

#define FS_PAGE_MAX	100		/* items per page when MaxResults is larger */
#define TOKEN_MEMBER	"ClientRequestToken"

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static json_t *
fs_doc_out(const char *doc, const char *lifecycle)
{
	json_t *d = json_loads(doc, 0, NULL);

	if (d == NULL)
		return NULL;
	json_object_set_new(d, "Lifecycle", json_string(lifecycle));
	return d;
}

json_t *
api_fs_load(const struct api_ctx *cx, const char *fs_id, char *lifecycle,
    size_t lifecycle_len)
{
	static const char q[] = "SELECT doc, lifecycle FROM file_systems"
	    " WHERE id = ?1 AND account = ?2 AND region = ?3";
	sqlite3_stmt *st = db_stmt(q);
	json_t *d = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cx->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cx->region, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		d = fs_doc_out(col_text(st, 0), col_text(st, 1));
		if (lifecycle != NULL)
			snprintf(lifecycle, lifecycle_len, "%s", col_text(st, 1));
	}
	sqlite3_reset(st);
	return d;
}

int
api_fs_store(const char *fs_id, const json_t *doc, const char *lifecycle)
{
	static const char q[] = "UPDATE file_systems SET doc = ?2,"
	    " lifecycle = COALESCE(?3, lifecycle), capacity = ?4 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);
	json_t *copy;
	char *text;
	int rc;

	if (st == NULL)
		return -EIO;
	copy = json_deep_copy(doc);
	json_object_del(copy, "Lifecycle");
	text = json_dumps(copy, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(copy);
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, free);
	if (lifecycle != NULL)
		sqlite3_bind_text(st, 3, lifecycle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4,
	    json_integer_value(json_object_get(doc, "StorageCapacity")));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
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
	static const char q[] = "SELECT params, resource_id FROM idem_tokens"
	    " WHERE account = ?1 AND region = ?2 AND op = ?3 AND token = ?4";
	const char *token = json_string_value(json_object_get(in, TOKEN_MEMBER));
	sqlite3_stmt *st;
	char *mine;
	int ret = 0;

	if (token == NULL)
		return 0;
	st = db_stmt(q);
	if (st == NULL) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, cx->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cx->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cx->op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	mine = token_params(in);
	if (strcmp(mine, col_text(st, 0)) == 0) {
		snprintf(resource_id, len, "%s", col_text(st, 1));
		ret = 1;
	} else {
		/* Name the first member whose value differs. */
		json_t *old = json_loads(col_text(st, 0), 0, NULL);
		json_t *now = json_loads(mine, 0, NULL);
		const char *bad = NULL, *k;
		json_t *v;

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
		ret = -1;
	}
	free(mine);
	sqlite3_reset(st);
	return ret;
}

int
api_token_record(const struct api_ctx *cx, const json_t *in,
    const char *resource_id)
{
	static const char q[] = "INSERT OR REPLACE INTO idem_tokens"
	    " (account, region, op, token, params, resource_id, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	const char *token = json_string_value(json_object_get(in, TOKEN_MEMBER));
	sqlite3_stmt *st;
	int rc;

	if (token == NULL)
		return 0;
	st = db_stmt(q);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, cx->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cx->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cx->op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, token_params(in), -1, free);
	sqlite3_bind_text(st, 6, resource_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, now_epoch());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

/* Quota class of a deployment type: scratch, persistent_1, persistent_2. */
static const char *
fs_quota_class(const char *deployment)
{
	if (strncmp(deployment, "SCRATCH", 7) == 0)
		return "SCRATCH%";
	return deployment;
}

static int
fs_quota_check(const struct api_ctx *cx, const char *deployment,
    long long add_storage, int add_count, struct api_error *err)
{
	static const char q[] = "SELECT COUNT(*), COALESCE(SUM(capacity), 0)"
	    " FROM file_systems WHERE account = ?1 AND region = ?2"
	    " AND deployment LIKE ?3";
	sqlite3_stmt *st = db_stmt(q);
	long long count = 0, storage = 0;

	if (st == NULL) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, cx->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cx->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fs_quota_class(deployment), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		count = sqlite3_column_int64(st, 0);
		storage = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
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

/* Tag rules beyond the model: the aws: prefix is reserved; keys unique. */
int
api_tags_check(const json_t *tags, struct api_error *err)
{
	size_t i, j;
	json_t *t;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));

		if (k != NULL && strncasecmp(k, "aws:", 4) == 0) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Tag keys starting with 'aws:' are reserved for AWS use.");
			return -1;
		}
		for (j = 0; j < i; j++) {
			const char *k2 = json_string_value(json_object_get(
			    json_array_get(tags, j), "Key"));

			if (k && k2 && strcmp(k, k2) == 0) {
				api_fail(err, API_E_BAD_REQUEST,
				    "Duplicate tag key '%s' in the request.", k);
				return -1;
			}
		}
	}
	return 0;
}

static void
fs_new_id(char *out, size_t n)
{
	uint8_t r[9];
	char hex[19];

	rand_bytes(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, n, "fs-%.17s", hex);
}

static json_t *
fs_wrap(json_t *desc)
{
	json_t *o = json_object();

	json_object_set_new(o, "FileSystem", desc);
	return o;
}

json_t *
api_fs_create(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	static const char ins[] = "INSERT INTO file_systems (id, account, region,"
	    " lifecycle, deployment, capacity, created, doc, secret)"
	    " VALUES (?1, ?2, ?3, 'CREATING', ?4, ?5, ?6, ?7, ?8)";
	struct fs_desc_ctx dc;
	char fs_id[32], existing[64], secret[65];
	uint8_t key[32];
	const char *deployment;
	json_t *desc = NULL, *ret = NULL;
	sqlite3_stmt *st;
	int rc, t;

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0)
		return NULL;
	if (db_begin() < 0)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state busy");
	t = api_token_check(cx, in, existing, sizeof(existing), err);
	if (t < 0)
		goto out;
	if (t == 1) {
		desc = api_fs_load(cx, existing, NULL, 0);
		if (desc != NULL) {
			ret = fs_wrap(desc);
			desc = NULL;
			goto out;
		}
	}
	fs_new_id(fs_id, sizeof(fs_id));
	memset(&dc, 0, sizeof(dc));
	dc.account = cx->account;
	dc.region = cx->region;
	dc.partition = cx->partition;
	dc.fs_id = fs_id;
	dc.now = now_epoch();
	desc = fs_desc_create(in, &dc, err);
	if (desc == NULL)
		goto out;
	deployment = json_string_value(json_object_get(json_object_get(desc,
	    "LustreConfiguration"), "DeploymentType"));
	if (deployment == NULL)
		deployment = "SCRATCH_1";
	if (fs_quota_check(cx, deployment, json_integer_value(
	    json_object_get(desc, "StorageCapacity")), 1, err) < 0)
		goto out;
	rand_bytes(key, sizeof(key));
	hex_encode(key, sizeof(key), secret);
	st = db_stmt(ins);
	if (st == NULL) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
		goto out;
	}
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cx->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cx->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, deployment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(desc,
	    "StorageCapacity")));
	sqlite3_bind_double(st, 6, dc.now);
	sqlite3_bind_text(st, 7, "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, secret, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || api_fs_store(fs_id, desc, NULL) < 0 ||
	    api_token_record(cx, in, fs_id) < 0 ||
	    prov_job_add("create", fs_id, 0) < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not record the file system");
		goto out;
	}
	if (db_commit() < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not record the file system");
		goto out;
	}
	prov_kick();
	log_info("%s: %s account=%s region=%s", __func__, fs_id, cx->account,
	    cx->region);
	return fs_wrap(desc);
out:
	db_rollback();
	json_decref(desc);
	return ret;
}

/*
 * NextToken: base64 of "fs1:<seq>", the listing resumes after that row.
 * Opaque to clients; anything else is refused as AWS refuses a bad token.
 */
static int
fs_token_decode(const char *tok, long long *seq)
{
	unsigned char raw[64];
	int n;

	if (strlen(tok) > 80)
		return -EINVAL;
	n = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)strlen(tok));
	if (n <= 0 || n >= (int)sizeof(raw))
		return -EINVAL;
	raw[n] = '\0';
	if (sscanf((char *)raw, "fs1:%lld", seq) != 1 || *seq < 0)
		return -EINVAL;
	return 0;
}

static json_t *
fs_token_encode(long long seq)
{
	char raw[32];
	unsigned char out[64];
	int n = snprintf(raw, sizeof(raw), "fs1:%lld", seq);

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
 * The last few full listings this thread answered, each valid while the
 * database has seen no commit since (db_generation()): clients poll
 * DescribeFileSystems, and a listing is a pure function of the stored
 * rows and (account, region, cursor, page size). Without it every poll
 * pays an SQLite read transaction (WAL locks taken with fcntl), a quarter
 * of fsxd's CPU per request. Freed at thread exit.
 */
#define FS_LCACHE_N	4

struct fs_lcache {
	struct {
		uint64_t	 gen;	/* 0: empty */
		long long	 after, max;
		char		 account[16];
		char		 region[64];
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

	for (int i = 0; i < FS_LCACHE_N; i++)
		free(c->e[i].text);
	free(c);
	fs_lcache = NULL;
}

static void
fs_lcache_key_make(void)
{
	if (pthread_key_create(&fs_lcache_key, fs_lcache_free) != 0)
		fatal("%s: pthread_key_create", __func__);
}

/* The cached listing (a copy), or NULL. */
static char *
fs_lcache_get(uint64_t gen, const char *account, const char *region,
    long long after, long long max)
{
	struct fs_lcache *c = fs_lcache;

	if (gen == 0 || c == NULL)
		return NULL;
	for (int i = 0; i < FS_LCACHE_N; i++)
		if (c->e[i].gen == gen && c->e[i].after == after &&
		    c->e[i].max == max &&
		    strcmp(c->e[i].account, account) == 0 &&
		    strcmp(c->e[i].region, region) == 0)
			return xstrdup(c->e[i].text);
	return NULL;
}

static void
fs_lcache_put(uint64_t gen, const char *account, const char *region,
    long long after, long long max, const char *text)
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
	free(c->e[i].text);
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
json_t *
api_fs_describe(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	static const char all[] = "SELECT seq, doc, lifecycle FROM file_systems"
	    " WHERE account = ?1 AND region = ?2 AND seq > ?3 ORDER BY seq";
	static const char one[] = "SELECT seq, doc, lifecycle FROM file_systems"
	    " WHERE id = ?1 AND account = ?2 AND region = ?3";
	const json_t *ids = json_object_get(in, "FileSystemIds");
	const json_t *jmax = json_object_get(in, "MaxResults");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	long long after = 0, max = FS_PAGE_MAX, last = 0, *seqs = NULL;
	size_t i, nids = json_array_size(ids);
	long long n = 0;
	sqlite3_stmt *st;
	struct buf b;
	int more = 0;
	uint64_t gen = 0;
	char *text;
	json_t *v;

	if (jmax != NULL && json_integer_value(jmax) < max)
		max = json_integer_value(jmax);
	if (tok != NULL && fs_token_decode(tok, &after) < 0)
		return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	if (ids == NULL) {
		/* read before the query: a commit after it changes it */
		gen = db_generation();
		text = fs_lcache_get(gen, cx->account, cx->region, after, max);
		if (text != NULL)
			return api_reply_text(cx, text);
	}
	buf_init(&b, 4096);
	buf_adds(&b, "{\"FileSystems\":[");
	if (ids == NULL) {
		st = db_stmt(all);
		if (st == NULL)
			goto internal;
		sqlite3_bind_text(st, 1, cx->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, cx->region, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, after);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (n == max) {
				more = 1;
				break;
			}
			fs_doc_append(&b, col_text(st, 1), col_text(st, 2), n == 0);
			last = sqlite3_column_int64(st, 0);
			n++;
		}
		sqlite3_reset(st);
	} else {
		/* Every listed id must exist for this caller; then seq order. */
		seqs = xcalloc(nids ? nids : 1, sizeof(*seqs));
		st = db_stmt(one);
		if (st == NULL)
			goto internal;
		json_array_foreach(ids, i, v) {
			sqlite3_bind_text(st, 1, json_string_value(v), -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, cx->account, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, cx->region, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_ROW) {
				sqlite3_reset(st);
				free(seqs);
				buf_fini(&b);
				return api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
				    "File system '%s' does not exist.",
				    json_string_value(v));
			}
			seqs[i] = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
		}
		/* Emit in seq order, each id once, resuming after the cursor. */
		for (;;) {
			long long next = -1;
			size_t at = 0;

			for (i = 0; i < nids; i++)
				if (seqs[i] > after && (next < 0 || seqs[i] < next)) {
					next = seqs[i];
					at = i;
				}
			if (next < 0)
				break;
			if (n == max) {
				more = 1;
				break;
			}
			sqlite3_bind_text(st, 1, json_string_value(json_array_get(ids,
			    at)), -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, cx->account, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, cx->region, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				fs_doc_append(&b, col_text(st, 1), col_text(st, 2), n == 0);
				n++;
			}
			sqlite3_reset(st);
			after = last = next;
		}
		free(seqs);
	}
	buf_add(&b, "]", 1);
	if (more) {
		json_t *t = fs_token_encode(last);

		buf_printf(&b, ",\"NextToken\":\"%s\"", json_string_value(t));
		json_decref(t);
	}
	buf_add(&b, "}", 1);
	text = buf_take(&b);
	if (ids == NULL)
		fs_lcache_put(gen, cx->account, cx->region, after, max, text);
	return api_reply_text(cx, text);
internal:
	free(seqs);
	buf_fini(&b);
	return api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
}

json_t *
api_fs_update(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const char *fs_id = json_string_value(json_object_get(in, "FileSystemId"));
	struct fs_desc_plan plan;
	char lifecycle[32], existing[64];
	json_t *cur = NULL, *next = NULL;
	const char *deployment;
	int t;

	if (db_begin() < 0)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state busy");
	cur = api_fs_load(cx, fs_id, lifecycle, sizeof(lifecycle));
	if (cur == NULL) {
		api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		goto out;
	}
	t = api_token_check(cx, in, existing, sizeof(existing), err);
	if (t < 0)
		goto out;
	if (t == 1) {
		db_rollback();
		return fs_wrap(cur);
	}
	memset(&plan, 0, sizeof(plan));
	next = fs_desc_update(cur, in, now_epoch(), cx->conf->update_gap_sec,
	    &plan, err);
	if (next == NULL)
		goto out;
	if (plan.new_capacity > 0) {
		long long old = json_integer_value(json_object_get(cur,
		    "StorageCapacity"));

		deployment = json_string_value(json_object_get(json_object_get(
		    cur, "LustreConfiguration"), "DeploymentType"));
		if (fs_quota_check(cx, deployment ? deployment : "SCRATCH_1",
		    plan.new_capacity - old, 0, err) < 0)
			goto out;
	}
	if (plan.needs_update_job) {
		json_object_set_new(next, "Lifecycle", json_string("UPDATING"));
		if (prov_job_add("grow", fs_id, plan.new_capacity) < 0) {
			api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not queue the update");
			goto out;
		}
	}
	if (api_fs_store(fs_id, next, plan.needs_update_job ? "UPDATING" : NULL) < 0 ||
	    api_token_record(cx, in, fs_id) < 0 || db_commit() < 0) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not record the update");
		goto out;
	}
	json_decref(cur);
	if (plan.needs_update_job)
		prov_kick();
	return fs_wrap(next);
out:
	db_rollback();
	json_decref(cur);
	json_decref(next);
	return NULL;
}

json_t *
api_fs_delete(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	static const char q[] = "UPDATE file_systems SET lifecycle = 'DELETING'"
	    " WHERE id = ?1";
	const char *fs_id = json_string_value(json_object_get(in, "FileSystemId"));
	const json_t *lc = json_object_get(in, "LustreConfiguration");
	const json_t *skip = json_object_get(lc, "SkipFinalBackup");
	char lifecycle[32], existing[64];
	json_t *cur = NULL, *out;
	sqlite3_stmt *st;
	int rc, t;

	if (db_begin() < 0)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state busy");
	cur = api_fs_load(cx, fs_id, lifecycle, sizeof(lifecycle));
	if (cur == NULL) {
		api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
		goto fail;
	}
	t = api_token_check(cx, in, existing, sizeof(existing), err);
	if (t < 0)
		goto fail;
	if (t == 0 && strcmp(lifecycle, "DELETING") != 0) {
		if (skip != NULL && !json_is_true(skip)) {
			const char *dep = json_string_value(json_object_get(
			    json_object_get(cur, "LustreConfiguration"),
			    "DeploymentType"));

			if (dep == NULL || strncmp(dep, "SCRATCH", 7) == 0)
				api_fail(err, API_E_BAD_REQUEST,
				    "Final backups are not supported for scratch"
				    " file systems. Set SkipFinalBackup to true.");
			else
				api_fail(err, API_E_BAD_REQUEST,
				    "fsx-local does not take final backups yet."
				    " Set SkipFinalBackup to true.");
			goto fail;
		}
		st = db_stmt(q);
		if (st == NULL)
			goto fail_internal;
		sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE || prov_job_add("delete", fs_id, 0) < 0 ||
		    api_token_record(cx, in, fs_id) < 0)
			goto fail_internal;
	}
	if (db_commit() < 0)
		goto fail_internal;
	prov_kick();
	json_decref(cur);
	out = json_object();
	json_object_set_new(out, "FileSystemId", json_string(fs_id));
	json_object_set_new(out, "Lifecycle", json_string("DELETING"));
	return out;
fail_internal:
	api_fail(err, API_E_INTERNAL_SERVER_ERROR, "could not record the deletion");
fail:
	db_rollback();
	json_decref(cur);
	return NULL;
}

json_t *
api_fs_mount_info(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	static const char q[] = "SELECT secret FROM file_systems WHERE id = ?1";
	const json_t *jid = json_object_get(in, "FileSystemId");
	const char *fs_id = json_string_value(jid);
	char lifecycle[32], host[64];
	json_t *d, *out;
	sqlite3_stmt *st;
	int port;

	if (fs_id == NULL)
		return api_fail(err, API_E_BAD_REQUEST,
		    "1 validation error detected: Value null at 'fileSystemId'"
		    " failed to satisfy constraint: Member must not be null");
	d = api_fs_load(cx, fs_id, lifecycle, sizeof(lifecycle));
	if (d == NULL)
		return api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
		    "File system '%s' does not exist.", fs_id);
	if (strcmp(lifecycle, "AVAILABLE") != 0 && strcmp(lifecycle, "UPDATING") != 0) {
		json_decref(d);
		return api_fail(err, API_E_BAD_REQUEST,
		    "File system '%s' is %s, not AVAILABLE.", fs_id, lifecycle);
	}
	if (prov_mds_endpoint(fs_id, host, sizeof(host), &port) < 0) {
		json_decref(d);
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "The metadata server of '%s' is not running.", fs_id);
	}
	out = json_object();
	json_object_set_new(out, "FileSystemId", json_string(fs_id));
	json_object_set_new(out, "Lifecycle", json_string(lifecycle));
	json_object_set(out, "MountName", json_object_get(json_object_get(d,
	    "LustreConfiguration"), "MountName"));
	json_object_set(out, "DNSName", json_object_get(d, "DNSName"));
	json_object_set(out, "StorageCapacity", json_object_get(d, "StorageCapacity"));
	json_object_set_new(out, "MdsHost", json_string(host));
	json_object_set_new(out, "MdsPort", json_integer(port));
	json_decref(d);
	st = db_stmt(q);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(out, "Secret", json_string(col_text(st, 0)));
		sqlite3_reset(st);
	}
	return out;
}
