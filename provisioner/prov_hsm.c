/*
 * The S3 agent of a file system (fsx-hsm, docs/hsm.md), from fsxd's side:
 * started, adopted, health-checked and purged as an engine process of role
 * hsm (prov_proc.c: store fs/<id>/hsm, the same argv, lock, port and pid
 * files as the MDS and OSSes), configured with HSM_CONF, given tasks with
 * HSM_TASK and cancels with HSM_CANCEL, and polled with HSM_STATUS, whose
 * answer becomes typed results (PROV_DRA_STATE, PROV_TASK_STATE) that
 * fsxd's apply function writes into association and task rows.
 *
 * Everything sent is built from rows: each association row carries its
 * HSM_CONF entry (without state: the lifecycle column gives it), each task
 * row its HSM_TASK document. The S3 endpoint and credentials come from
 * fsxd's configuration and the SDKs' environment (s3_conf_env) and travel
 * only in HSM_CONF, never on argv.
 *
 * Invariants:
 *  1. A file system has an agent row exactly while it has an association
 *     (legacy link included) or an open task (prov_hsm_sync); the agent
 *     runs on the MDS's node.
 *  2. After every start or adoption of the agent it gets the whole
 *     configuration before anything else (prov_up -> prov_hsm_push).
 *  3. Sending is idempotent: HSM_CONF replaces, a repeated HSM_TASK is a
 *     no-op, so a sync may always send everything again.
 *  4. A task the agent does not know when it is cancelled never ran: it
 *     is reported CANCELED at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "core/util.h"
#include "prov_int.h"
#include "s3/s3.h"

#define HSM_CALL_TIMEOUT_MS	5000
#define HSM_REPLY_MAX		(1u << 20)	/* docs/hsm.md: at most 1 MiB */

/* Lifecycles of rows the agent is still working on. */
#define DRA_BUSY	(1u << FS_CREATING | 1u << FS_UPDATING | 1u << FS_DELETING)
#define TASK_OPEN	(1u << TASK_PENDING | 1u << TASK_EXECUTING | \
			 1u << TASK_CANCELING)

struct db_proc *
prov_hsm_proc(struct prov_fs *f)
{
	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_HSM)
			return &f->procs[i];
	return NULL;
}

/* One call with a JSON document each way; *reply (malloc'd) may be NULL. */
static int
hsm_call(const struct prov_fs *f, const struct db_proc *p, uint16_t op,
    const char *doc, char **reply)
{
	struct iovec iov = { (void *)doc, strlen(doc) };
	uint32_t kind = 0, rlen = 0;
	/* "{}" answers get a small buffer, a status the 1 MiB one */
	uint32_t cap = reply != NULL ? HSM_REPLY_MAX : 4096;
	char *buf = xmalloc(cap + 1);
	int fd, rc;

	if (reply != NULL)
		*reply = NULL;
	if (p->port <= 0) {
		free(buf);
		return -ENOTCONN;
	}
	fd = msg_connect_timeout(prov_dial_host(prov_node(p->node)), p->port,
	    f->secret, &kind, HSM_CALL_TIMEOUT_MS);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	rc = msg_call(fd, op, 0, NULL, 0, &iov, 1, NULL, 0, NULL, buf, cap,
	    &rlen);
	close(fd);
	if (rc == 0 && reply != NULL) {
		buf[rlen] = '\0';
		*reply = buf;
		buf = NULL;
	}
	free(buf);
	return rc;
}

/* --- what the rows say --- */

struct hsm_rows {
	json_t	*dras;		/* HSM_CONF "associations" */
	json_t	*tasks;		/* HSM_TASK documents of PENDING/EXECUTING */
	json_t	*canceling;	/* ids */
	int	 busy;		/* a row in a transitional state */
};

static int
hsm_rows_dra(void *arg, const struct db_dra *d)
{
	struct hsm_rows *r = arg;
	json_t *e = json_loads(d->conf, 0, NULL);

	if (!json_is_object(e)) {
		json_decref(e);
		return 0;
	}
	json_object_set_new(e, "id", json_string(d->id));
	json_object_set_new(e, "state",
	    json_string(fs_lifecycle_name(d->lifecycle)));
	json_array_append_new(r->dras, e);
	if (DRA_BUSY & (1u << d->lifecycle))
		r->busy = 1;
	return 0;
}

static int
hsm_rows_task(void *arg, const struct db_task *t)
{
	struct hsm_rows *r = arg;
	json_t *e;

	if ((TASK_OPEN & (1u << t->lifecycle)) == 0)
		return 0;
	r->busy = 1;
	if (t->lifecycle == TASK_CANCELING) {
		json_array_append_new(r->canceling, json_string(t->id));
		return 0;
	}
	e = json_loads(t->spec, 0, NULL);
	if (json_is_object(e))
		json_array_append_new(r->tasks, e);
	else
		json_decref(e);
	return 0;
}

static int
hsm_rows_load(const char *fs_id, struct hsm_rows *r)
{
	int rc;

	r->dras = json_array();
	r->tasks = json_array();
	r->canceling = json_array();
	r->busy = 0;
	rc = db_dra_list(NULL, NULL, fs_id, 0, 1, hsm_rows_dra, r);
	if (rc == 0)
		rc = db_task_list(NULL, NULL, fs_id, 0, hsm_rows_task, r);
	return rc;
}

static void
hsm_rows_fini(struct hsm_rows *r)
{
	json_decref(r->dras);
	json_decref(r->tasks);
	json_decref(r->canceling);
}

static int
hsm_rows_need_agent(const struct hsm_rows *r)
{
	return json_array_size(r->dras) + json_array_size(r->tasks) +
	    json_array_size(r->canceling) > 0;
}

/* The S3 part of HSM_CONF: fsxd's settings, then the environment. */
static json_t *
hsm_s3_conf(void)
{
	struct s3_conf c;
	json_t *o = json_object();

	memset(&c, 0, sizeof(c));
	snprintf(c.endpoint, sizeof(c.endpoint), "%s", prov_conf->s3_endpoint);
	snprintf(c.region, sizeof(c.region), "%s", prov_conf->s3_region);
	snprintf(c.key.akid, sizeof(c.key.akid), "%s", prov_conf->s3_access_key);
	snprintf(c.key.secret, sizeof(c.key.secret), "%s",
	    prov_conf->s3_secret_key);
	snprintf(c.key.token, sizeof(c.key.token), "%s",
	    prov_conf->s3_session_token);
	if (s3_conf_env(&c) < 0)
		log_warn("prov_hsm: no usable S3 endpoint or credentials; the"
		    " agent will report its associations FAILED");
	json_object_set_new(o, "endpoint", json_string(c.endpoint));
	json_object_set_new(o, "region", json_string(c.region));
	json_object_set_new(o, "access_key", json_string(c.key.akid));
	json_object_set_new(o, "secret_key", json_string(c.key.secret));
	json_object_set_new(o, "session_token", c.key.token[0] != '\0' ?
	    json_string(c.key.token) : json_null());
	json_object_set_new(o, "path_style", json_boolean(c.path_style));
	explicit_bzero(&c, sizeof(c));
	return o;
}

/* The HSM_CONF document of f (malloc'd), from its rows. */
static char *
hsm_conf_doc(struct prov_fs *f, const struct hsm_rows *r)
{
	struct db_proc *mds = NULL;
	json_t *o = json_object();
	char addr[128] = "";
	char *text;

	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_MDS)
			mds = &f->procs[i];
	if (mds != NULL)
		snprintf(addr, sizeof(addr), "%s:%d",
		    prov_node(mds->node)->address, mds->port);
	json_object_set_new(o, "mds", json_string(addr));
	json_object_set_new(o, "s3", hsm_s3_conf());
	json_object_set_new(o, "poll_ms", json_integer(
	    prov_conf->hsm_poll_ms > 0 ? prov_conf->hsm_poll_ms : 1000));
	json_object_set(o, "associations", r->dras);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int
prov_hsm_push(struct prov_fs *f)
{
	struct db_proc *agent = prov_hsm_proc(f);
	struct hsm_rows r;
	char *doc;
	int rc;

	if (agent == NULL)
		return 0;
	rc = hsm_rows_load(f->id, &r);
	if (rc == 0) {
		doc = hsm_conf_doc(f, &r);
		rc = hsm_call(f, agent, MSG_OP_HSM_CONF, doc, NULL);
		if (doc != NULL)
			explicit_bzero(doc, strlen(doc));
		free(doc);
	}
	hsm_rows_fini(&r);
	if (rc < 0)
		log_warn("prov_hsm: %s: HSM_CONF: %s", f->id, strerror(-rc));
	return rc;
}

/* --- results --- */

static int
hsm_report_task_gone(const char *fs_id, const char *id,
    enum task_lifecycle to, const char *message, prov_apply_fn apply)
{
	struct prov_result res = { .event = PROV_TASK_STATE, .fs_id = fs_id };

	res.hsm.id = id;
	res.hsm.task_state = to;
	snprintf(res.message, sizeof(res.message), "%s", message ? message : "");
	return apply(&res);
}

/* Send the open tasks and the cancels. */
static int
hsm_send_tasks(struct prov_fs *f, struct db_proc *agent,
    const struct hsm_rows *r, prov_apply_fn apply)
{
	size_t i;
	json_t *v;
	int rc = 0;

	json_array_foreach(r->tasks, i, v) {
		char *doc = json_dumps(v, JSON_COMPACT);

		rc = doc != NULL ? hsm_call(f, agent, MSG_OP_HSM_TASK, doc,
		    NULL) : -ENOMEM;
		free(doc);
		if (rc < 0)
			return rc;
	}
	json_array_foreach(r->canceling, i, v) {
		char doc[128];

		snprintf(doc, sizeof(doc), "{\"id\":\"%s\"}",
		    json_string_value(v));
		rc = hsm_call(f, agent, MSG_OP_HSM_CANCEL, doc, NULL);
		if (rc == -ENOENT)	/* never reached the agent: never ran */
			rc = hsm_report_task_gone(f->id, json_string_value(v),
			    TASK_CANCELED, NULL, apply);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Turn one HSM_STATUS answer into results. */
static void
hsm_status_apply(const char *fs_id, const char *text, prov_apply_fn apply,
    int *missing)
{
	json_t *st = json_loads(text, 0, NULL), *v;
	size_t i;

	json_array_foreach(json_object_get(st, "associations"), i, v) {
		struct prov_result res = { .event = PROV_DRA_STATE,
		    .fs_id = fs_id };
		const char *state = json_string_value(json_object_get(v,
		    "state"));
		const char *msg = json_string_value(json_object_get(v,
		    "message"));
		int lc = kind_parse(&kind_fs_lifecycle, state);

		res.hsm.id = json_string_value(json_object_get(v, "id"));
		if (res.hsm.id == NULL || state == NULL)
			continue;
		res.hsm.gone = strcmp(state, "DELETED") == 0;
		if (!res.hsm.gone && lc < 0)
			continue;
		res.hsm.dra_state = lc < 0 ? FS_DELETING : (enum fs_lifecycle)lc;
		snprintf(res.message, sizeof(res.message), "%s", msg ? msg : "");
		(void)apply(&res);
	}
	json_array_foreach(json_object_get(st, "tasks"), i, v) {
		struct prov_result res = { .event = PROV_TASK_STATE,
		    .fs_id = fs_id };
		const char *msg = json_string_value(json_object_get(v,
		    "message"));
		int lc = kind_parse(&kind_task_lifecycle, json_string_value(
		    json_object_get(v, "state")));

		res.hsm.id = json_string_value(json_object_get(v, "id"));
		if (res.hsm.id == NULL || lc < 0)
			continue;
		res.hsm.task_state = (enum task_lifecycle)lc;
		res.hsm.total = json_integer_value(json_object_get(v, "total"));
		res.hsm.succeeded = json_integer_value(json_object_get(v,
		    "succeeded"));
		res.hsm.failed = json_integer_value(json_object_get(v, "failed"));
		res.hsm.released = json_integer_value(json_object_get(v,
		    "released"));
		res.hsm.report_path = json_string_value(json_object_get(v,
		    "report_path"));
		snprintf(res.message, sizeof(res.message), "%s", msg ? msg : "");
		(void)apply(&res);
	}
	*missing = st == NULL;
	json_decref(st);
}

/* 1 when the status document lists every id of `list` (objects' "id"
 * or strings). */
static int
hsm_status_has_all(const char *text, const json_t *list, const char *member)
{
	json_t *st = json_loads(text, 0, NULL), *v, *w;
	size_t i, j;
	int all = 1;

	json_array_foreach(list, i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		int found = 0;

		json_array_foreach(json_object_get(st, member), j, w)
			found |= id != NULL && json_equal(json_object_get(w,
			    "id"), json_object_get(v, "id"));
		all &= found;
	}
	json_decref(st);
	return all;
}

int
prov_hsm_poll(struct prov_fs *f, int health, prov_apply_fn apply)
{
	struct db_proc *agent = prov_hsm_proc(f);
	struct hsm_rows r;
	char *reply = NULL;
	int rc, bad = 0, busy;

	if (agent == NULL || hsm_rows_load(f->id, &r) < 0)
		return 0;
	busy = r.busy;
	if (!hsm_rows_need_agent(&r)) {
		/* every association and task is gone: retire the agent */
		if (db_job_open_count(f->id) == 0 &&
		    db_job_add(JOB_HSM, f->id, 0, 0) == 0)
			prov_kick();
		goto out;
	}
	if (!r.busy && !health)
		goto out;
	rc = hsm_call(f, agent, MSG_OP_HSM_STATUS, "{}", &reply);
	if (rc < 0) {
		log_debug("prov_hsm: %s: HSM_STATUS: %s", f->id, strerror(-rc));
		goto out;
	}
	/* an agent that lost something (a fresh store) is told again */
	if (!hsm_status_has_all(reply, r.dras, "associations"))
		(void)prov_hsm_push(f);
	if (!hsm_status_has_all(reply, r.tasks, "tasks"))
		(void)hsm_send_tasks(f, agent, &r, apply);
	hsm_status_apply(f->id, reply, apply, &bad);
	if (bad)
		log_warn("prov_hsm: %s: the agent's status is not JSON", f->id);
out:
	free(reply);
	hsm_rows_fini(&r);
	return busy;
}

int
prov_hsm_sync(struct prov_fs *f, prov_apply_fn apply)
{
	struct db_proc *agent = prov_hsm_proc(f), *mds = NULL;
	struct hsm_rows r;
	int rc = hsm_rows_load(f->id, &r);

	if (rc < 0)
		goto out;
	if (!hsm_rows_need_agent(&r)) {
		if (agent != NULL) {
			log_info("prov_hsm: %s: no association left; stopping"
			    " its agent", f->id);
			prov_proc_stop(f, agent, 0);
			rc = db_proc_delete(f->id, ROLE_HSM, agent->idx);
		}
		goto out;
	}
	if (agent == NULL) {
		if (f->nprocs >= PROV_MAX_PROCS) {
			rc = -ENOSPC;
			goto out;
		}
		for (int i = 0; i < f->nprocs; i++)
			if (f->procs[i].role == ROLE_MDS)
				mds = &f->procs[i];
		agent = &f->procs[f->nprocs++];
		memset(agent, 0, sizeof(*agent));
		agent->role = ROLE_HSM;
		snprintf(agent->node, sizeof(agent->node), "%s",
		    mds != NULL ? mds->node : prov_conf->nodes[0].name);
	}
	rc = prov_proc_dirs(f);
	if (rc == 0)
		rc = prov_proc_ensure(f, agent);
	if (rc == 0)
		rc = db_proc_put(f->id, agent);
	if (rc == 0)
		rc = prov_hsm_push(f);
	if (rc == 0)
		rc = hsm_send_tasks(f, agent, &r, apply);
out:
	hsm_rows_fini(&r);
	return rc;
}

/* --- when the agent cannot serve --- */

struct hsm_fail {
	const char	*fs_id;
	const char	*message;
	prov_apply_fn	 apply;
};

static int
hsm_fail_dra(void *arg, const struct db_dra *d)
{
	struct hsm_fail *hf = arg;
	struct prov_result res = { .event = PROV_DRA_STATE, .fs_id = hf->fs_id };

	if ((DRA_BUSY & (1u << d->lifecycle)) == 0)
		return 0;
	res.hsm.id = d->id;
	res.hsm.gone = d->lifecycle == FS_DELETING;
	res.hsm.dra_state = FS_FAILED;
	snprintf(res.message, sizeof(res.message), "%s", hf->message);
	(void)hf->apply(&res);
	return 0;
}

static int
hsm_fail_task(void *arg, const struct db_task *t)
{
	struct hsm_fail *hf = arg;

	if ((TASK_OPEN & (1u << t->lifecycle)) == 0)
		return 0;
	(void)hsm_report_task_gone(hf->fs_id, t->id,
	    t->lifecycle == TASK_CANCELING ? TASK_CANCELED : TASK_FAILED,
	    hf->message, hf->apply);
	return 0;
}

void
prov_hsm_fail(const char *fs_id, const char *message, prov_apply_fn apply)
{
	struct hsm_fail hf = { fs_id, message, apply };

	(void)db_dra_list(NULL, NULL, fs_id, 0, 1, hsm_fail_dra, &hf);
	(void)db_task_list(NULL, NULL, fs_id, 0, hsm_fail_task, &hf);
}
