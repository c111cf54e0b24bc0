/*
 * The agent's record (see hsm.h): the configuration fsxd sent, each
 * association's and task's state, and their durable copy.
 *
 * Contract:
 *  - hsm_conf_apply/hsm_task_add/hsm_task_cancel parse a whole document
 *    before changing anything: a malformed one is -EINVAL and the record
 *    is as before. Each takes mu itself and saves before returning.
 *  - STORE/state.json holds everything but the S3 credentials (they come
 *    again with the next HSM_CONF, which fsxd sends after every adoption);
 *    until then the worker does no S3 work.
 *
 * Association lifecycle as the agent reports it (want = fsxd's):
 *   new, want CREATING   -> CREATING (work) -> AVAILABLE | FAILED |
 *                           MISCONFIGURED   (hsm_run.c)
 *   want UPDATING, first time or policies changed -> UPDATING (work) ->
 *                           AVAILABLE | FAILED | MISCONFIGURED
 *   want DELETING        -> DELETING (work) -> DELETED
 *   want AVAILABLE, unknown to us -> AVAILABLE (fsxd saw it so before)
 *   absent from the list -> forgotten
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "hsm/hsm.h"

#define STATE_FILE	"state.json"

void
hsm_set_msg(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, HSM_MSG_MAX, fmt, ap);
	va_end(ap);
}

int
hsm_task_ended(const struct hsm_task *t)
{
	return strcmp(t->state, "SUCCEEDED") == 0 ||
	    strcmp(t->state, "FAILED") == 0 ||
	    strcmp(t->state, "CANCELED") == 0;
}

/* FIFO queues of actions (mu held). */
void
hsm_action_push(struct hsm_action **q, struct hsm_action *a)
{
	a->next = NULL;
	while (*q != NULL)
		q = &(*q)->next;
	*q = a;
}

struct hsm_action *
hsm_action_pop(struct hsm_action **q)
{
	struct hsm_action *a = *q;

	if (a != NULL)
		*q = a->next;
	return a;
}

struct hsm_assoc *
hsm_assoc_find(struct hsm *h, const char *id)
{
	for (int i = 0; i < h->nassoc; i++)
		if (strcmp(h->assoc[i].id, id) == 0)
			return &h->assoc[i];
	return NULL;
}

const char *
hsm_export_prefix(const struct hsm_assoc *a)
{
	return a->export_set ? a->export_prefix : a->prefix;
}

struct hsm_task *
hsm_task_find(struct hsm *h, const char *id)
{
	for (int i = 0; i < h->ntask; i++)
		if (strcmp(h->task[i].id, id) == 0)
			return &h->task[i];
	return NULL;
}

/* A string member into dst; absent or null gives "" when optional. */
static int
get_str(const json_t *o, const char *k, char *dst, size_t cap, int optional)
{
	const json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v)) {
		dst[0] = '\0';
		return optional ? 0 : -EINVAL;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EINVAL;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
get_bool(const json_t *o, const char *k, int *out)
{
	const json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 0;
}

/* An optional integer member in [lo, hi]; absent or null leaves *out. */
static int
get_int(const json_t *o, const char *k, int lo, int hi, int *out)
{
	const json_t *v = json_object_get(o, k);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return -EINVAL;
	*out = (int)json_integer_value(v);
	return 0;
}

unsigned
hsm_events_parse(const json_t *arr, int *err)
{
	unsigned ev = 0;
	size_t i;
	json_t *v;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > 3) {
		*err = -EINVAL;
		return 0;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL)
			*err = -EINVAL;
		else if (strcmp(s, "NEW") == 0)
			ev |= HSM_EV_NEW;
		else if (strcmp(s, "CHANGED") == 0)
			ev |= HSM_EV_CHANGED;
		else if (strcmp(s, "DELETED") == 0)
			ev |= HSM_EV_DELETED;
		else
			*err = -EINVAL;
	}
	return ev;
}

static int
valid_want(const char *s)
{
	static const char *const ok[] = { "CREATING", "AVAILABLE", "UPDATING",
	    "DELETING", "MISCONFIGURED", "FAILED", NULL };

	for (int i = 0; ok[i] != NULL; i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

/* One association of a CONF document into a (policy fields only). */
static int
assoc_parse(const json_t *o, struct hsm_assoc *a)
{
	const json_t *v;
	int err = 0;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(o))
		return -EINVAL;
	if (get_str(o, "id", a->id, sizeof(a->id), 0) < 0 || a->id[0] == '\0' ||
	    get_str(o, "fs_path", a->fs_path, sizeof(a->fs_path), 0) < 0 ||
	    a->fs_path[0] != '/' ||
	    get_str(o, "bucket", a->bucket, sizeof(a->bucket), 0) < 0 ||
	    a->bucket[0] == '\0' ||
	    get_str(o, "prefix", a->prefix, sizeof(a->prefix), 1) < 0 ||
	    get_str(o, "export_prefix", a->export_prefix,
	    sizeof(a->export_prefix), 1) < 0 ||
	    get_str(o, "state", a->want, sizeof(a->want), 0) < 0 ||
	    !valid_want(a->want) ||
	    get_bool(o, "batch_import", &a->batch_import) < 0 ||
	    get_bool(o, "delete_data", &a->delete_data) < 0)
		return -EINVAL;
	/* present, even "" (ExportPath at the bucket's root), it is used */
	a->export_set = json_object_get(o, "export_prefix") != NULL;
	a->import_ev = hsm_events_parse(json_object_get(o, "import"), &err);
	a->export_ev = hsm_events_parse(json_object_get(o, "export"), &err);
	if (err < 0)
		return err;
	v = json_object_get(o, "chunk_mib");
	if (v == NULL || json_is_null(v))
		a->chunk_mib = 1024;
	else if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 512000)
		return -EINVAL;
	else
		a->chunk_mib = (uint32_t)json_integer_value(v);
	return 0;
}

static int
s3_parse(const json_t *o, struct s3_conf *c)
{
	char tmp[SIGV4_TOKEN_MAX];
	const json_t *ps, *v;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(o))
		return -EINVAL;
	if (get_str(o, "endpoint", c->endpoint, sizeof(c->endpoint), 1) < 0 ||
	    get_str(o, "region", c->region, sizeof(c->region), 1) < 0 ||
	    get_str(o, "access_key", c->key.akid, sizeof(c->key.akid), 1) < 0 ||
	    get_str(o, "secret_key", c->key.secret, sizeof(c->key.secret),
	    1) < 0 ||
	    get_str(o, "session_token", tmp, sizeof(tmp), 1) < 0)
		return -EINVAL;
	memcpy(c->key.token, tmp, sizeof(c->key.token));
	ps = json_object_get(o, "path_style");
	if (ps != NULL && !json_is_null(ps) && !json_is_boolean(ps))
		return -EINVAL;
	if (c->region[0] == '\0')
		snprintf(c->region, sizeof(c->region), "us-east-1");
	if (c->endpoint[0] == '\0') {
		snprintf(c->endpoint, sizeof(c->endpoint),
		    "https://s3.%s.amazonaws.com", c->region);
		c->path_style = 0;
	} else {
		size_t n = strlen(c->endpoint);

		while (n > 0 && c->endpoint[n - 1] == '/')
			c->endpoint[--n] = '\0';
		if (strncmp(c->endpoint, "http://", 7) != 0 &&
		    strncmp(c->endpoint, "https://", 8) != 0)
			return -EINVAL;
		c->path_style = 1;
	}
	if (ps != NULL && json_is_boolean(ps))
		c->path_style = json_is_true(ps);
	/* optional: per-attempt timeout and retries (s3.h's defaults) */
	if (get_int(o, "timeout_ms", 100, 600000, &c->timeout_ms) < 0 ||
	    get_int(o, "max_retries", 0, 20, &c->max_retries) < 0)
		return -EINVAL;
	/* optional: objects above it move by part copies (tests set it low) */
	v = json_object_get(o, "copy_max");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) ||
		    json_integer_value(v) < (json_int_t)S3_PART_MIN ||
		    json_integer_value(v) > (json_int_t)S3_COPY_MAX)
			return -EINVAL;
		c->copy_max = (uint64_t)json_integer_value(v);
	}
	return 0;
}

/* Does `n` (newly sent) change the policies of `o` (known)? */
static int
policy_changed(const struct hsm_assoc *o, const struct hsm_assoc *n)
{
	return o->import_ev != n->import_ev || o->export_ev != n->export_ev ||
	    o->chunk_mib != n->chunk_mib;
}

/* Merge one parsed association into the record (mu held). */
static void
assoc_merge(struct hsm *h, const struct hsm_assoc *n)
{
	struct hsm_assoc *a = hsm_assoc_find(h, n->id);
	int changed;

	if (a == NULL) {
		a = &h->assoc[h->nassoc++];
		*a = *n;
		if (strcmp(n->want, "AVAILABLE") == 0 ||
		    strcmp(n->want, "MISCONFIGURED") == 0 ||
		    strcmp(n->want, "FAILED") == 0) {
			snprintf(a->state, sizeof(a->state), "%s", n->want);
		} else {
			snprintf(a->state, sizeof(a->state), "%s", n->want);
			a->work = 1;
		}
		a->mark = 1;
		return;
	}
	changed = policy_changed(a, n) || strcmp(a->want, n->want) != 0;
	/* the paths are fixed after creation; keep policies and wants */
	a->batch_import = n->batch_import;
	a->import_ev = n->import_ev;
	a->export_ev = n->export_ev;
	a->chunk_mib = n->chunk_mib;
	a->delete_data = n->delete_data;
	if (changed && (strcmp(n->want, "UPDATING") == 0 ||
	    (strcmp(n->want, "DELETING") == 0 &&
	    strcmp(a->state, "DELETED") != 0))) {
		snprintf(a->state, sizeof(a->state), "%s", n->want);
		a->message[0] = '\0';
		a->work = 1;
	}
	snprintf(a->want, sizeof(a->want), "%s", n->want);
	a->mark = 1;
}

/* The configuration document into the record (mu held). keep_s3: the
 * document comes from state.json (no credentials in it). */
static int
conf_load(struct hsm *h, json_t *root, int from_file)
{
	struct hsm_assoc *na = NULL;
	struct s3_conf s3;
	const json_t *arr, *v;
	char mds[sizeof(h->mds)];
	int rc = -EINVAL, poll = 1000, restore = HSM_RESTORE_MS_DEF, n;
	int recheck = HSM_RECHECK_MS_DEF;
	size_t i;
	json_t *o;

	if (!json_is_object(root))
		return -EINVAL;
	if (get_str(root, "mds", mds, sizeof(mds), 1) < 0)
		return -EINVAL;
	v = json_object_get(root, "poll_ms");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 10 ||
		    json_integer_value(v) > 86400000)
			return -EINVAL;
		poll = (int)json_integer_value(v);
	}
	v = json_object_get(root, "restore_ms");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 100 ||
		    json_integer_value(v) > 86400000)
			return -EINVAL;
		restore = (int)json_integer_value(v);
	}
	if (get_int(root, "recheck_ms", 100, 86400000, &recheck) < 0)
		return -EINVAL;
	v = json_object_get(root, "s3");
	if (!from_file && (v == NULL || s3_parse(v, &s3) < 0))
		return -EINVAL;
	arr = json_object_get(root, "associations");
	if (arr == NULL || json_is_null(arr))
		arr = NULL;
	else if (!json_is_array(arr) || json_array_size(arr) > HSM_ASSOC_MAX)
		return -EINVAL;
	n = arr != NULL ? (int)json_array_size(arr) : 0;
	na = xcalloc((size_t)n + 1, sizeof(*na));
	for (i = 0; arr != NULL && i < (size_t)n; i++) {
		o = json_array_get(arr, i);
		if (assoc_parse(o, &na[i]) < 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (strcmp(na[j].id, na[i].id) == 0)
				goto out;
	}

	/* everything parsed: apply */
	snprintf(h->mds, sizeof(h->mds), "%s", mds);
	h->poll_ms = poll;
	h->restore_ms = restore;
	h->recheck_ms = recheck;
	if (!from_file) {
		explicit_bzero(&h->s3, sizeof(h->s3));
		h->s3 = s3;
		h->have_s3 = 1;
	}
	for (int k = 0; k < h->nassoc; k++)
		h->assoc[k].mark = 0;
	for (int k = 0; k < n; k++)
		assoc_merge(h, &na[k]);
	for (int k = 0; k < h->nassoc;) {
		if (!h->assoc[k].mark) {
			h->assoc[k] = h->assoc[--h->nassoc];
			continue;
		}
		k++;
	}
	h->gen++;
	rc = 0;
out:
	explicit_bzero(&s3, sizeof(s3));
	free(na);
	return rc;
}

int
hsm_conf_apply(struct hsm *h, const char *doc, size_t len)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return -EINVAL;
	pthread_mutex_lock(&h->mu);
	rc = conf_load(h, root, 0);
	if (rc == 0) {
		h->n_conf++;
		(void)hsm_save(h);
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->mu);
	json_decref(root);
	return rc;
}

static const char *const task_types[] = { "EXPORT_TO_REPOSITORY",
    "IMPORT_METADATA_FROM_REPOSITORY", "RELEASE_DATA_FROM_FILESYSTEM",
    "AUTO_RELEASE_DATA", NULL };

/* Check a task document; fills id and type. */
static int
task_check(json_t *o, char *id, char *type)
{
	const json_t *p, *r, *v;
	size_t i;

	if (!json_is_object(o) || get_str(o, "id", id, HSM_ID_MAX, 0) < 0 ||
	    strncmp(id, "task-", 5) != 0 ||
	    get_str(o, "type", type, 40, 0) < 0)
		return -EINVAL;
	for (i = 0; task_types[i] != NULL; i++)
		if (strcmp(type, task_types[i]) == 0)
			break;
	if (task_types[i] == NULL)
		return -EINVAL;
	p = json_object_get(o, "paths");
	if (p != NULL && !json_is_null(p)) {
		if (!json_is_array(p) || json_array_size(p) > 100)
			return -EINVAL;
		json_array_foreach(p, i, v)
			if (!json_is_string(v) ||
			    json_string_length(v) > MSG_PATH_MAX)
				return -EINVAL;
	}
	r = json_object_get(o, "report");
	if (r != NULL && !json_is_null(r) && !json_is_object(r))
		return -EINVAL;
	r = json_object_get(o, "release");
	if (r != NULL && !json_is_null(r)) {
		if (!json_is_object(r))
			return -EINVAL;
		v = json_object_get(r, "duration_days");
		if (v != NULL && !json_is_null(v) && (!json_is_integer(v) ||
		    json_integer_value(v) < 0))
			return -EINVAL;
	}
	return 0;
}

/* Room for one more task: drop the oldest ended one (mu held). */
static int
task_room(struct hsm *h)
{
	int old = -1;

	if (h->ntask < HSM_TASK_MAX)
		return 0;
	for (int i = 0; i < h->ntask; i++)
		if (hsm_task_ended(&h->task[i]) &&
		    (old < 0 || h->task[i].seq < h->task[old].seq))
			old = i;
	if (old < 0)
		return -EBUSY;
	json_decref(h->task[old].doc);
	h->task[old] = h->task[--h->ntask];
	return 0;
}

int
hsm_task_add(struct hsm *h, const char *doc, size_t len)
{
	char id[HSM_ID_MAX], type[40];
	json_error_t jerr;
	struct hsm_task *t;
	json_t *o;
	int rc;

	o = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return -EINVAL;
	rc = task_check(o, id, type);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	pthread_mutex_lock(&h->mu);
	if (hsm_task_find(h, id) != NULL) {
		json_decref(o);
		goto out;	/* a repeat: no-op */
	}
	rc = task_room(h);
	if (rc < 0) {
		json_decref(o);
		goto out;
	}
	t = &h->task[h->ntask++];
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->type, sizeof(t->type), "%s", type);
	snprintf(t->state, sizeof(t->state), "PENDING");
	t->doc = o;
	t->seq = ++h->task_seq;
	h->n_task++;
	(void)hsm_save(h);
	pthread_cond_broadcast(&h->cond);
out:
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int
hsm_task_cancel(struct hsm *h, const char *doc, size_t len)
{
	char id[HSM_ID_MAX];
	json_error_t jerr;
	struct hsm_task *t;
	json_t *o;
	int rc = 0;

	o = json_loadb(doc, len, 0, &jerr);
	if (o == NULL)
		return -EINVAL;
	rc = get_str(o, "id", id, sizeof(id), 0);
	json_decref(o);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&h->mu);
	t = hsm_task_find(h, id);
	if (t == NULL) {
		rc = -ENOENT;
	} else if (strcmp(t->state, "PENDING") == 0) {
		snprintf(t->state, sizeof(t->state), "CANCELED");
		(void)hsm_save(h);
	} else if (strcmp(t->state, "EXECUTING") == 0) {
		snprintf(t->state, sizeof(t->state), "CANCELING");
		t->cancel = 1;
		(void)hsm_save(h);
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

static json_t *
str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *
hsm_status_json(struct hsm *h)
{
	json_t *root = json_object(), *as = json_array(), *ts = json_array();

	for (int i = 0; i < h->nassoc; i++) {
		const struct hsm_assoc *a = &h->assoc[i];

		json_array_append_new(as, json_pack("{s:s,s:s,s:o,s:I,s:I}",
		    "id", a->id, "state", a->state,
		    "message", str_or_null(a->message),
		    "imported", (json_int_t)a->imported,
		    "exported", (json_int_t)a->exported));
	}
	for (int i = 0; i < h->ntask; i++) {
		const struct hsm_task *t = &h->task[i];

		json_array_append_new(ts, json_pack(
		    "{s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o}",
		    "id", t->id, "state", t->state,
		    "total", (json_int_t)t->total,
		    "succeeded", (json_int_t)t->succeeded,
		    "failed", (json_int_t)t->failed,
		    "released", (json_int_t)t->released,
		    "message", str_or_null(t->message),
		    "report_path", str_or_null(t->report_path)));
	}
	json_object_set_new(root, "associations", as);
	json_object_set_new(root, "tasks", ts);
	return root;
}

/* --- the durable copy --- */

static json_t *
conf_json(struct hsm *h)
{
	json_t *arr = json_array();

	for (int i = 0; i < h->nassoc; i++) {
		const struct hsm_assoc *a = &h->assoc[i];
		json_t *im = json_array(), *ex = json_array();
		static const char *const ev[] = { "NEW", "CHANGED", "DELETED" };

		for (int k = 0; k < 3; k++) {
			if (a->import_ev & (1u << k))
				json_array_append_new(im, json_string(ev[k]));
			if (a->export_ev & (1u << k))
				json_array_append_new(ex, json_string(ev[k]));
		}
		json_array_append_new(arr, json_pack(
		    "{s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:I,s:s,s:b,"
		    "s:s,s:s,s:I,s:I,s:b}",
		    "id", a->id, "fs_path", a->fs_path, "bucket", a->bucket,
		    "prefix", a->prefix, "batch_import", a->batch_import,
		    "import", im, "export", ex,
		    "chunk_mib", (json_int_t)a->chunk_mib, "state", a->want,
		    "delete_data", a->delete_data,
		    "agent_state", a->state, "message", a->message,
		    "imported", (json_int_t)a->imported,
		    "exported", (json_int_t)a->exported, "work", a->work));
		if (a->export_set)
			json_object_set_new(json_array_get(arr,
			    json_array_size(arr) - 1), "export_prefix",
			    json_string(a->export_prefix));
	}
	return json_pack("{s:s,s:i,s:i,s:i,s:o}", "mds", h->mds, "poll_ms",
	    h->poll_ms, "restore_ms", h->restore_ms, "recheck_ms",
	    h->recheck_ms, "associations", arr);
}

int
hsm_save(struct hsm *h)
{
	json_t *root, *ts = json_array();
	char *txt, *path;
	int rc;

	for (int i = 0; i < h->ntask; i++) {
		const struct hsm_task *t = &h->task[i];

		json_array_append_new(ts, json_pack(
		    "{s:O,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:I}",
		    "doc", t->doc, "state", t->state,
		    "total", (json_int_t)t->total,
		    "succeeded", (json_int_t)t->succeeded,
		    "failed", (json_int_t)t->failed,
		    "released", (json_int_t)t->released,
		    "message", t->message, "report_path", t->report_path,
		    "seq", (json_int_t)t->seq));
	}
	root = json_pack("{s:o,s:o,s:I}", "conf", conf_json(h), "tasks", ts,
	    "task_seq", (json_int_t)h->task_seq);
	txt = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (txt == NULL)
		return -ENOMEM;
	path = xasprintf("%s/%s", h->dir, STATE_FILE);
	rc = file_write_atomic(path, txt, strlen(txt));
	if (rc < 0)
		log_warn("%s: %s", path, strerror(-rc));
	free(path);
	free(txt);
	return rc;
}

static uint64_t
get_u64(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

/* The agent's own fields of each association and the tasks (mu held). */
static void
state_overlay(struct hsm *h, json_t *root)
{
	const json_t *arr = json_object_get(json_object_get(root, "conf"),
	    "associations");
	json_t *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		struct hsm_assoc *a = hsm_assoc_find(h,
		    json_string_value(json_object_get(o, "id")));

		if (a == NULL)
			continue;
		(void)get_str(o, "agent_state", a->state, sizeof(a->state), 1);
		(void)get_str(o, "message", a->message, sizeof(a->message), 1);
		a->imported = get_u64(o, "imported");
		a->exported = get_u64(o, "exported");
		a->work = json_is_true(json_object_get(o, "work"));
	}
	h->task_seq = get_u64(root, "task_seq");
	json_array_foreach(json_object_get(root, "tasks"), i, o) {
		struct hsm_task *t;
		json_t *doc = json_object_get(o, "doc");
		char id[HSM_ID_MAX], type[40];

		if (h->ntask >= HSM_TASK_MAX || task_check(doc, id, type) < 0)
			continue;
		t = &h->task[h->ntask++];
		memset(t, 0, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "%s", id);
		snprintf(t->type, sizeof(t->type), "%s", type);
		t->doc = json_incref(doc);
		(void)get_str(o, "state", t->state, sizeof(t->state), 1);
		(void)get_str(o, "message", t->message, sizeof(t->message), 1);
		(void)get_str(o, "report_path", t->report_path,
		    sizeof(t->report_path), 1);
		t->total = get_u64(o, "total");
		t->succeeded = get_u64(o, "succeeded");
		t->failed = get_u64(o, "failed");
		t->released = get_u64(o, "released");
		t->seq = get_u64(o, "seq");
		/* a task cut short by a restart runs again from the start */
		if (strcmp(t->state, "EXECUTING") == 0)
			snprintf(t->state, sizeof(t->state), "PENDING");
		if (strcmp(t->state, "CANCELING") == 0)
			snprintf(t->state, sizeof(t->state), "CANCELED");
	}
}

int
hsm_init(struct hsm *h, const char *dir)
{
	json_error_t jerr;
	json_t *root;
	char *path, *txt = NULL;
	size_t len;
	int rc;

	memset(h, 0, sizeof(*h));
	if (strlen(dir) >= sizeof(h->dir))
		return -ENAMETOOLONG;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	pthread_cond_init(&h->rcond, NULL);
	pthread_mutex_init(&h->fs_mu, NULL);
	h->cb_fd = -1;
	h->poll_ms = 1000;
	h->restore_ms = HSM_RESTORE_MS_DEF;
	h->recheck_ms = HSM_RECHECK_MS_DEF;
	path = xasprintf("%s/%s", dir, STATE_FILE);
	rc = file_read_all(path, &txt, &len, 64u << 20);
	free(path);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	root = json_loadb(txt, len, 0, &jerr);
	free(txt);
	if (root == NULL)
		return -EBADMSG;
	rc = conf_load(h, json_object_get(root, "conf"), 1);
	if (rc == 0)
		state_overlay(h, root);
	json_decref(root);
	return rc < 0 ? -EBADMSG : 0;
}

void
hsm_fini(struct hsm *h)
{
	for (int i = 0; i < h->ntask; i++)
		json_decref(h->task[i].doc);
	while (h->restores != NULL)
		free(hsm_action_pop(&h->restores));
	while (h->events != NULL)
		free(hsm_action_pop(&h->events));
	explicit_bzero(&h->s3, sizeof(h->s3));
	pthread_cond_destroy(&h->rcond);
	pthread_mutex_destroy(&h->fs_mu);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mu);
}
