/*
 * The provisioner (see prov.h): durable jobs -> engine processes, through
 * the local driver (prov_local.c).
 *
 * Topology is rows: `osts` says which OSS serves each OST and with what
 * capacity, `procs` which port each process listens on. Engines learn it
 * only over the engine protocol, after every start or adoption:
 *   - each OSS gets MSG_OP_OST_SETCAP for each OST it serves;
 *   - the MDS gets MSG_OP_MDS_OSTADD with every OST (address, capacity).
 * Both are idempotent, so pushing the whole topology again is always
 * right (prov_push).
 *
 * Invariants:
 *  1. A file system is reported CREATED (and so turns AVAILABLE) only after
 *     every process answered PING and took the topology.
 *  2. Process starts and stops are serialized by prov_proc_mu (the runner
 *     and the monitor both start processes).
 *  3. A delete ends every process holding a store of the file system,
 *     recorded or not, on every node, before its rows go
 *     (prov_proc_purge).
 *  4. At start, stores of file systems that have no row are purged: no
 *     engine process of this state dir outlives its file system.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "prov.h"
#include "prov_int.h"

#define PROV_MAX_ATTEMPTS	3
#define PROV_MONITOR_TICK_MS	500
#define PROV_HEALTH_EVERY	4	/* ticks between health pings */
#define PROV_HEALTH_TIMEOUT_MS	1000
#define PROV_HEALTH_STRIKES	2	/* silent pings before a kill */
/*
 * Idle scale (issue 14): the monitor's cost grows with the file systems,
 * and every ping wakes two engine processes. Up to PROV_CHECKS_PER_TICK
 * file systems each is checked every tick and pinged every
 * PROV_HEALTH_EVERY ticks, as before; past that the checks are spread so
 * that a tick checks about PROV_CHECKS_PER_TICK of them and pings about
 * PROV_PINGS_PER_TICK (at 1,000: each checked every 10 s, pinged every
 * 100 s; a dead process is restarted within one check period, a silent
 * one killed after PROV_HEALTH_STRIKES ping periods). A ping is a new
 * connection, so a new thread in the engine: on the 6.18 VM (shadow page
 * tables) about 0.5 ms of CPU each among 2,000 processes; 10 a tick were
 * 3.7% of a core at 1,000 file systems, 5 are half that.
 */
#define PROV_CHECKS_PER_TICK	50
#define PROV_PINGS_PER_TICK	5
#define PROV_MAX_FS		4096
#define PROV_HSM_FOLLOW		40	/* polls after an hsm job, */
#define PROV_HSM_FOLLOW_US	20000	/* this far apart, while busy */

const struct fsxd_conf		*prov_conf;
static prov_apply_fn		 prov_apply;
static pthread_t		 prov_runner_tid, prov_monitor_tid;
static pthread_mutex_t		 prov_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 prov_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t		 prov_mon_cv = PTHREAD_COND_INITIALIZER;
static int			 prov_kicked, prov_stopping, prov_started;
pthread_mutex_t			 prov_proc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct prov_health	 prov_stats;	/* under prov_mu */

/* Load the engine rows and secret of fs_id. */
int
prov_fs_load(const char *fs_id, struct prov_fs *f, enum fs_lifecycle *lc,
    long long *capacity)
{
	struct db_fs row;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = db_fs_get(fs_id, NULL, NULL, &row);
	if (rc < 0)
		return rc;
	snprintf(f->id, sizeof(f->id), "%s", fs_id);
	snprintf(f->secret_hex, sizeof(f->secret_hex), "%s", row.secret);
	if (lc != NULL)
		*lc = row.lifecycle;
	if (capacity != NULL)
		*capacity = row.capacity;
	db_fs_fini(&row);
	if (hex_decode(f->secret_hex, f->secret, MSG_SECRET_LEN) < 0)
		return -EIO;
	f->nprocs = db_proc_list(fs_id, f->procs, PROV_MAX_PROCS);
	f->nosts = db_ost_list(fs_id, f->osts, PROV_MAX_OSTS);
	return f->nprocs < 0 ? f->nprocs : f->nosts < 0 ? f->nosts : 0;
}

struct db_proc *
prov_mds(struct prov_fs *f)
{
	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_MDS)
			return &f->procs[i];
	return NULL;
}

/* Bytes per OST when `gib` is split over `nost` OSTs. */
static unsigned long long
prov_ost_bytes(long long gib, int nost)
{
	return (unsigned long long)(gib > 0 ? gib : 1200) * (1ull << 30) /
	    (unsigned)(nost > 0 ? nost : 1);
}

static int
prov_rows_put_tx(void *arg)
{
	struct prov_fs *f = arg;
	int rc = 0;

	for (int i = 0; rc == 0 && i < f->nosts; i++)
		rc = db_ost_put(f->id, &f->osts[i]);
	for (int i = 0; rc == 0 && i < f->nprocs; i++)
		rc = db_proc_put(f->id, &f->procs[i]);
	if (rc == 0)
		rc = db_fs_set_nost(f->id, f->nosts);
	return rc;
}

/* Free bytes of node i: unbounded nodes count as the most free. */
static long long
prov_node_free(int i, const long long *extra)
{
	const struct conf_node *n = &prov_conf->nodes[i];
	long long used;

	if (n->capacity <= 0)
		return LLONG_MAX / 2 - extra[i];
	used = db_node_used(n->name);
	return n->capacity * (1ll << 30) - (used < 0 ? 0 : used) - extra[i];
}

/*
 * Place the processes of f that have no node yet: the MDS on the node with
 * the most free capacity; each OSS on the node with the most free capacity
 * among those this file system does not use yet (when it uses them all,
 * any), so its OSTs spread over as many nodes as it has OSSes. Nodes that
 * are down are passed over while any other is up.
 */
static void
prov_place(struct prov_fs *f, unsigned long long ost_bytes)
{
	long long extra[CONF_NODES_MAX] = { 0 };
	int anyup = 0;

	for (int i = 0; i < prov_conf->nnodes; i++)
		anyup |= prov_node_up(&prov_conf->nodes[i]);
	for (int pass = 0; pass < 2; pass++) {	/* the MDS first */
		for (int j = 0; j < f->nprocs; j++) {
			struct db_proc *p = &f->procs[j];
			long long best_free = LLONG_MIN, bytes = 0;
			int best = 0, best_unused = 0;

			if (p->node[0] != '\0' || (p->role == ROLE_MDS) != (pass == 0))
				continue;
			for (int o = 0; p->role == ROLE_OSS && o < f->nosts; o++)
				if (f->osts[o].oss == p->idx)
					bytes += (long long)ost_bytes;
			for (int i = 0; i < prov_conf->nnodes; i++) {
				const struct conf_node *n = &prov_conf->nodes[i];
				long long fr = prov_node_free(i, extra);
				int unused = 1;

				if (anyup && !prov_node_up(n))
					continue;
				for (int k = 0; k < f->nprocs; k++)
					if (f->procs[k].role == ROLE_OSS &&
					    strcmp(f->procs[k].node, n->name) == 0)
						unused = 0;
				if (p->role == ROLE_OSS && unused != best_unused &&
				    best_free != LLONG_MIN) {
					if (!unused)
						continue;
				} else if (fr <= best_free) {
					continue;
				}
				best = i;
				best_free = fr;
				best_unused = unused;
			}
			snprintf(p->node, sizeof(p->node), "%s",
			    prov_conf->nodes[best].name);
			extra[best] += bytes;
		}
	}
}

/*
 * Lay out `nost` OSTs of `gib` GiB in total: OSTs that exist keep their
 * OSS; new ones go to one new OSS (or, on a first layout, round robin over
 * up to max_oss OSSes); every OST gets an equal share. The MDS row is
 * added on a first layout. Rows are written in one transaction.
 */
int
prov_layout(struct prov_fs *f, int nost, long long gib)
{
	int first = f->nosts == 0, noss = 0, old = f->nosts;

	if (nost > prov_conf->max_ost)
		nost = prov_conf->max_ost;
	if (nost > PROV_MAX_OSTS)
		nost = PROV_MAX_OSTS;
	if (nost < old)
		nost = old;		/* OSTs are never taken away */
	if (nost < 1)
		nost = 1;
	for (int i = 0; i < f->nprocs; i++)
		if (f->procs[i].role == ROLE_OSS)
			noss++;
	if (first) {
		noss = nost < prov_conf->max_oss ? nost : prov_conf->max_oss;
		if (noss < 1)
			noss = 1;
		memset(f->procs, 0, sizeof(f->procs[0]) * (size_t)(noss + 1));
		f->procs[0].role = ROLE_MDS;
		for (int i = 0; i < noss; i++) {
			f->procs[i + 1].role = ROLE_OSS;
			f->procs[i + 1].idx = i;
		}
		f->nprocs = noss + 1;
	} else if (nost > old) {
		if (f->nprocs >= PROV_MAX_PROCS)
			return -ENOSPC;
		memset(&f->procs[f->nprocs], 0, sizeof(f->procs[0]));
		f->procs[f->nprocs].role = ROLE_OSS;
		f->procs[f->nprocs].idx = noss;
		f->nprocs++;
	}
	for (int o = old; o < nost; o++) {
		f->osts[o].idx = o;
		f->osts[o].oss = first ? o % noss : noss;
	}
	f->nosts = nost;
	for (int o = 0; o < nost; o++)
		f->osts[o].capacity = prov_ost_bytes(gib, nost);
	prov_place(f, prov_ost_bytes(gib, nost));
	return db_tx(prov_rows_put_tx, f);
}

/* The OSS row serving OST `ost`, or NULL. */
static const struct db_proc *
prov_oss_of(const struct prov_fs *f, int ost)
{
	for (int i = 0; i < f->nosts; i++) {
		if (f->osts[i].idx != ost)
			continue;
		for (int j = 0; j < f->nprocs; j++)
			if (f->procs[j].role == ROLE_OSS &&
			    f->procs[j].idx == f->osts[i].oss)
				return &f->procs[j];
	}
	return NULL;
}

static int
prov_setcap(const struct prov_fs *f, const struct db_proc *p,
    const struct db_ost *o)
{
	struct msg_ost_cap sc = { .ost = (uint32_t)o->idx,
	    .capacity_bytes = o->capacity };

	return prov_call(f, p, MSG_OP_OST_SETCAP, &sc, sizeof(sc), NULL, 0, 0);
}

/* Tell every process the topology (idempotent; see the top of the file). */
static int
prov_push(struct prov_fs *f)
{
	struct msg_ost_ent ents[PROV_MAX_OSTS];
	struct db_proc *mds = prov_mds(f);
	int rc = 0;

	for (int i = 0; rc == 0 && i < f->nosts; i++) {
		const struct db_proc *oss = prov_oss_of(f, f->osts[i].idx);

		if (oss == NULL)
			return -EINVAL;
		rc = prov_setcap(f, oss, &f->osts[i]);
		memset(&ents[i], 0, sizeof(ents[i]));
		ents[i].ost = (uint32_t)f->osts[i].idx;
		ents[i].port = (uint16_t)oss->port;
		ents[i].capacity = f->osts[i].capacity;
		snprintf(ents[i].host, sizeof(ents[i].host), "%s",
		    prov_node(oss->node)->address);
	}
	if (rc < 0 || mds == NULL)
		return rc < 0 ? rc : -EINVAL;
	return prov_call(f, mds, MSG_OP_MDS_OSTADD, NULL, 0, ents,
	    (uint32_t)((size_t)f->nosts * sizeof(ents[0])), 0);
}

/*
 * Make every process of f run (OSSes first, then the MDS), record them,
 * and push the topology. Caller holds prov_proc_mu.
 */
int
prov_up(struct prov_fs *f)
{
	/* OSSes, then the MDS, then the S3 agent (it dials the MDS) */
	static const int pass_of[PROC_ROLE__COUNT] = {
		[ROLE_OSS] = 0, [ROLE_MDS] = 1, [ROLE_HSM] = 2 };
	int rc = prov_proc_dirs(f);

	for (int pass = 0; rc == 0 && pass < 3; pass++) {
		for (int i = 0; rc == 0 && i < f->nprocs; i++) {
			struct db_proc *p = &f->procs[i];

			if (pass_of[p->role] != pass)
				continue;
			rc = prov_proc_ensure(f, p);
			if (rc == 0)
				rc = db_proc_put(f->id, p);
		}
	}
	if (rc == 0)
		rc = prov_push(f);
	return rc == 0 ? prov_hsm_push(f) : rc;
}

void
prov_down(const char *fs_id)
{
	pthread_mutex_lock(&prov_proc_mu);
	(void)prov_proc_purge(fs_id);
	(void)db_engine_forget(fs_id);
	pthread_mutex_unlock(&prov_proc_mu);
}

static void
prov_fail_msg(char *out, size_t n, const char *what, int rc)
{
	snprintf(out, n, "%s: %s.", what, rc == -ECHILD ? "an engine process"
	    " exited during start-up" : rc == -ETIMEDOUT ? "an engine process"
	    " did not answer in time" : strerror(-rc));
}

/* --- jobs --- */

/*
 * Each job kind is a runner and, when a job fails for good, a reporter:
 * one row of prov_jobs[], indexed by enum job_kind. A runner loads what it
 * needs, does the work and reports results; 0, or -errno to retry.
 */
static int
job_create(const struct db_job *j, struct prov_fs *f)
{
	struct prov_result r = { .event = PROV_CREATED, .fs_id = j->fs_id };
	enum fs_lifecycle lc;
	long long gib;
	int rc = prov_fs_load(j->fs_id, f, &lc, &gib);

	if (rc == -ENOENT || (rc == 0 && lc != FS_CREATING))
		return 0;	/* deleted meanwhile, or done before a crash */
	if (rc < 0)
		return rc;
	if (prov_conf->create_delay_sec > 0)
		usleep((useconds_t)(prov_conf->create_delay_sec * 1e6));
	pthread_mutex_lock(&prov_proc_mu);
	rc = f->nosts == 0 ? prov_layout(f, j->nost, gib) : 0;
	if (rc == 0)
		rc = prov_up(f);
	pthread_mutex_unlock(&prov_proc_mu);
	if (rc < 0)
		return rc;
	r.nost = f->nosts;
	return prov_apply(&r);
}

static int
job_grow(const struct db_job *j, struct prov_fs *f)
{
	struct prov_result r = { .event = PROV_GROW_STARTED, .fs_id = j->fs_id };
	enum fs_lifecycle lc;
	long long gib;
	int rc = prov_fs_load(j->fs_id, f, &lc, &gib);

	if (rc == -ENOENT || (rc == 0 && lc == FS_DELETING))
		return 0;
	if (rc == 0)
		rc = prov_apply(&r);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&prov_proc_mu);
	rc = prov_layout(f, j->nost, j->capacity > 0 ? j->capacity : gib);
	if (rc == 0)
		rc = prov_up(f);
	pthread_mutex_unlock(&prov_proc_mu);
	if (rc < 0)
		return rc;
	r.event = PROV_GROWN;
	r.capacity = j->capacity;
	r.nost = f->nosts;
	rc = prov_apply(&r);
	if (rc < 0)
		return rc;
	/*
	 * Optimization: existing files keep their layouts and new files
	 * spread over every OST, so there is no data to move.
	 */
	r.event = PROV_OPTIMIZED;
	return prov_apply(&r);
}

static int
job_delete(const struct db_job *j, struct prov_fs *f)
{
	struct prov_result r = { .event = PROV_DELETED, .fs_id = j->fs_id };

	(void)f;
	prov_down(j->fs_id);
	return prov_apply(&r);
}

static void
job_create_failed(const struct db_job *j, int rc)
{
	struct prov_result r = { .event = PROV_CREATE_FAILED, .fs_id = j->fs_id };

	prov_fail_msg(r.message, sizeof(r.message),
	    "The file system's servers could not be started", rc);
	prov_down(j->fs_id);
	(void)prov_apply(&r);
}

static void
job_grow_failed(const struct db_job *j, int rc)
{
	struct prov_result r = { .event = PROV_GROW_FAILED, .fs_id = j->fs_id };

	prov_fail_msg(r.message, sizeof(r.message),
	    "The new storage servers could not be started", rc);
	(void)prov_apply(&r);
}

/* The S3 agent follows the association and task rows (prov_hsm.c). */
static int
job_hsm(const struct db_job *j, struct prov_fs *f)
{
	enum fs_lifecycle lc;
	int rc = prov_fs_load(j->fs_id, f, &lc, NULL);

	if (rc == -ENOENT || (rc == 0 && lc == FS_DELETING))
		return 0;
	if (rc < 0)
		return rc;
	if (lc == FS_CREATING)
		return -EAGAIN;		/* its create job runs first */
	if (lc != FS_AVAILABLE && lc != FS_UPDATING) {
		prov_hsm_fail(j->fs_id, "The file system is not available.",
		    prov_apply);
		return 0;
	}
	pthread_mutex_lock(&prov_proc_mu);
	rc = prov_hsm_sync(f, prov_apply);
	pthread_mutex_unlock(&prov_proc_mu);
	/* the agent answers a change in tens of ms: follow it closely for a
	   moment rather than leave it to the monitor's next tick */
	for (int i = 0; rc == 0 && i < PROV_HSM_FOLLOW && !prov_stopping &&
	    prov_hsm_poll(f, 1, prov_apply) > 0; i++)
		usleep(PROV_HSM_FOLLOW_US);
	return rc;
}

static void
job_hsm_failed(const struct db_job *j, int rc)
{
	char msg[256];

	prov_fail_msg(msg, sizeof(msg), "Amazon FSx could not start the data"
	    " repository agent of the file system", rc);
	prov_hsm_fail(j->fs_id, msg, prov_apply);
}

static const struct {
	int	(*run)(const struct db_job *j, struct prov_fs *f);
	void	(*failed)(const struct db_job *j, int rc);	/* may be NULL */
} prov_jobs[JOB_KIND__COUNT] = {
	[JOB_CREATE] = { job_create, job_create_failed },
	[JOB_GROW] = { job_grow, job_grow_failed },
	[JOB_DELETE] = { job_delete, NULL },
	[JOB_BACKUP] = { job_backup, job_backup_failed },
	[JOB_RESTORE] = { job_restore, job_restore_failed },
	[JOB_BACKUP_COPY] = { job_backup_copy, job_backup_copy_failed },
	[JOB_BACKUP_DELETE] = { job_backup_delete, NULL },
	[JOB_HSM] = { job_hsm, job_hsm_failed },
};

int
prov_report(const struct prov_result *r)
{
	return prov_apply(r);
}

/* Run the oldest open job. 1 = ran one, 0 = none open. */
static int
prov_run_one(void)
{
	struct prov_fs *f;
	struct db_job j;
	int rc;

	if (db_job_next(&j) < 0)
		return 0;
	db_job_set(j.id, JOB_RUNNING, j.attempts + 1, NULL);
	f = xcalloc(1, sizeof(*f));
	rc = prov_jobs[j.kind].run(&j, f);
	free(f);
	if (rc == 0) {
		db_job_set(j.id, JOB_DONE, j.attempts + 1, NULL);
	} else if (j.attempts + 1 >= PROV_MAX_ATTEMPTS) {
		log_err("%s: %s job %lld for %s failed: %s", __func__,
		    job_kind_name(j.kind), j.id, j.fs_id, strerror(-rc));
		if (prov_jobs[j.kind].failed != NULL)
			prov_jobs[j.kind].failed(&j, rc);
		db_job_set(j.id, JOB_FAILED, j.attempts + 1, strerror(-rc));
	} else {
		log_warn("%s: %s job %lld for %s: %s; retrying", __func__,
		    job_kind_name(j.kind), j.id, j.fs_id, strerror(-rc));
		db_job_set(j.id, JOB_PENDING, j.attempts + 1, strerror(-rc));
		usleep(200000);
	}
	return 1;
}

/*
 * Stores of file systems without a row: left by a delete cut short after
 * its row went, or by hands. End their processes and remove them.
 */
static void
prov_purge_orphans(void)
{
	char (*ids)[NODE_ID_MAX] = xcalloc(PROV_MAX_FS, NODE_ID_MAX);
	int n = prov_proc_fs_dirs(ids, PROV_MAX_FS);
	struct db_fs row;

	for (int i = 0; i < n; i++) {
		if (db_fs_get(ids[i], NULL, NULL, &row) == 0) {
			db_fs_fini(&row);
			continue;
		}
		log_warn("%s: %s has stores but no row; ending its processes",
		    __func__, ids[i]);
		prov_down(ids[i]);
	}
	free(ids);
}

static void *
prov_runner(void *arg)
{
	(void)arg;
	prov_purge_orphans();
	for (;;) {
		pthread_mutex_lock(&prov_mu);
		if (!prov_kicked && !prov_stopping) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&prov_cv, &prov_mu, &ts);
		}
		prov_kicked = 0;
		if (prov_stopping) {
			pthread_mutex_unlock(&prov_mu);
			break;
		}
		pthread_mutex_unlock(&prov_mu);
		{
			struct prov_result tick = { .event = PROV_BACKUP_TICK,
			    .conf = prov_conf };

			(void)prov_apply(&tick);
		}
		while (!prov_stopping && prov_run_one() == 1)
			;
	}
	db_thread_fini();
	return NULL;
}

/* --- the monitor --- */

struct prov_strikes {
	char	 fs_id[DB_ID_MAX];
	int	 role, idx, n;
};
static struct prov_strikes	prov_strike[PROV_MAX_PROCS];

/* Count a silent ping of p; 1 when it reached PROV_HEALTH_STRIKES. */
static int
prov_strike_add(const char *fs_id, const struct db_proc *p, int failed)
{
	struct prov_strikes *free_slot = NULL;

	for (int i = 0; i < PROV_MAX_PROCS; i++) {
		struct prov_strikes *s = &prov_strike[i];

		if (s->n > 0 && strcmp(s->fs_id, fs_id) == 0 &&
		    s->role == (int)p->role && s->idx == p->idx) {
			s->n = failed ? s->n + 1 : 0;
			return s->n >= PROV_HEALTH_STRIKES;
		}
		if (s->n == 0 && free_slot == NULL)
			free_slot = s;
	}
	if (failed && free_slot != NULL) {
		snprintf(free_slot->fs_id, sizeof(free_slot->fs_id), "%s", fs_id);
		free_slot->role = (int)p->role;
		free_slot->idx = p->idx;
		free_slot->n = 1;
		return free_slot->n >= PROV_HEALTH_STRIKES;
	}
	return 0;
}

static void
prov_count(unsigned long long *c)
{
	pthread_mutex_lock(&prov_mu);
	(*c)++;
	pthread_mutex_unlock(&prov_mu);
}

/* Check one file system: dead processes, and (when `ping`) silent ones. */
static void
prov_monitor_fs(const char *fs_id, int ping)
{
	struct prov_fs *f = xcalloc(1, sizeof(*f));
	enum fs_lifecycle lc;
	int dead = 0, silent = 0;

	if (prov_fs_load(fs_id, f, &lc, NULL) < 0 || f->nprocs == 0)
		goto out;
	for (int i = 0; i < f->nprocs; i++) {
		struct db_proc *p = &f->procs[i];
		pid_t holder;

		if (!prov_node_up(prov_node(p->node)))
			continue;	/* probed once per tick by prov_monitor */
		if (prov_node(p->node)->ssh && !ping)
			continue;	/* an ssh round trip: health ticks only */
		holder = prov_proc_holder(f, p);
		if (holder < 0)
			continue;	/* its node is down: nothing is known */
		if (holder == 0) {
			dead++;
			continue;
		}
		if (!ping)
			continue;
		if (prov_proc_ping(f, p, PROV_HEALTH_TIMEOUT_MS) == 0) {
			prov_strike_add(fs_id, p, 0);
			continue;
		}
		prov_count(&prov_stats.pings_failed);
		if (!prov_strike_add(fs_id, p, 1))
			continue;
		log_warn("%s: %s %s%d pid %d is alive but does not answer;"
		    " killing it", __func__, fs_id, proc_role_name(p->role),
		    p->idx, (int)p->pid);
		prov_strike_add(fs_id, p, 0);
		pthread_mutex_lock(&prov_proc_mu);
		prov_proc_stop(f, p, 1);
		pthread_mutex_unlock(&prov_proc_mu);
		prov_count(&prov_stats.restarts_unresponsive);
		silent++;
	}
	if (dead + silent == 0)
		(void)prov_hsm_poll(f, ping, prov_apply);
	if (dead + silent == 0 || pthread_mutex_trylock(&prov_proc_mu) != 0)
		goto out;
	if (dead > 0) {
		log_warn("%s: %s: %d engine process(es) down; restarting",
		    __func__, fs_id, dead);
		for (int i = 0; i < dead; i++)
			prov_count(&prov_stats.restarts_dead);
	}
	(void)prov_up(f);
	pthread_mutex_unlock(&prov_proc_mu);
out:
	free(f);
}

static void *
prov_monitor(void *arg)
{
	char (*ids)[DB_ID_MAX] = xcalloc(PROV_MAX_FS, DB_ID_MAX);
	unsigned tick = 0, check, ping;

	(void)arg;
	while (!prov_stopping) {
		int n;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		/* a node counted down is asked once a tick whether it is back */
		for (int i = 0; i < prov_conf->nnodes; i++) {
			const struct conf_node *node = &prov_conf->nodes[i];
			char probe[1][NODE_ID_MAX];

			if (!prov_node_up(node))
				prov_node_seen(node, prov_driver(node)->fs_dirs(
				    node, probe, 1) < 0 ? -EHOSTUNREACH : 0);
		}
		n = db_fs_ids(1u << FS_AVAILABLE | 1u << FS_UPDATING, ids,
		    PROV_MAX_FS);
		check = n > PROV_CHECKS_PER_TICK ?
		    ((unsigned)n + PROV_CHECKS_PER_TICK - 1) / PROV_CHECKS_PER_TICK : 1;
		ping = ((unsigned)n + PROV_PINGS_PER_TICK - 1) / PROV_PINGS_PER_TICK;
		ping = ping > PROV_HEALTH_EVERY ? ping : PROV_HEALTH_EVERY;
		for (int i = 0; i < n && i < PROV_MAX_FS && !prov_stopping; i++) {
			int p = (tick + (unsigned)i) % ping == 0;

			if (p || (tick + (unsigned)i) % check == 0)
				prov_monitor_fs(ids[i], p);
		}
		tick++;
		/* one wake-up per tick (idle scale); prov_stop wakes it early */
		pthread_mutex_lock(&prov_mu);
		if (!prov_stopping) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += PROV_MONITOR_TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&prov_mon_cv, &prov_mu, &ts);
		}
		pthread_mutex_unlock(&prov_mu);
	}
	free(ids);
	db_thread_fini();
	return NULL;
}

/* --- interface --- */

void
prov_kick(void)
{
	pthread_mutex_lock(&prov_mu);
	prov_kicked = 1;
	pthread_cond_signal(&prov_cv);
	pthread_mutex_unlock(&prov_mu);
}

int
prov_mds_endpoint(const char *fs_id, char *host, size_t hostlen, int *port)
{
	struct db_proc procs[PROV_MAX_PROCS];
	int n = db_proc_list(fs_id, procs, PROV_MAX_PROCS);

	for (int i = 0; i < n; i++) {
		if (procs[i].role != ROLE_MDS || procs[i].port <= 0)
			continue;
		*port = procs[i].port;
		snprintf(host, hostlen, "%s", prov_node(procs[i].node)->address);
		return 0;
	}
	return -ENOENT;
}

void
prov_health(struct prov_health *out)
{
	pthread_mutex_lock(&prov_mu);
	*out = prov_stats;
	pthread_mutex_unlock(&prov_mu);
}

int
prov_node_state(int i, const char **name)
{
	*name = prov_conf->nodes[i].name;
	return prov_node_up(&prov_conf->nodes[i]);
}

int
prov_start(const struct fsxd_conf *conf, prov_apply_fn apply)
{
	prov_conf = conf;
	prov_apply = apply;
	prov_stopping = 0;
	prov_kicked = 1;
	if (pthread_create(&prov_runner_tid, NULL, prov_runner, NULL) != 0)
		return -errno;
	if (pthread_create(&prov_monitor_tid, NULL, prov_monitor, NULL) != 0)
		return -errno;
	prov_started = 1;
	return 0;
}

void
prov_stop(void)
{
	if (!prov_started)
		return;
	pthread_mutex_lock(&prov_mu);
	prov_stopping = 1;
	pthread_cond_signal(&prov_cv);
	pthread_cond_signal(&prov_mon_cv);
	pthread_mutex_unlock(&prov_mu);
	pthread_join(prov_runner_tid, NULL);
	pthread_join(prov_monitor_tid, NULL);
	prov_started = 0;
}
