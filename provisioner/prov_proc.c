/*
 * Engine processes on storage nodes (see prov_int.h), through the node's
 * driver.
 *
 * Files of a file system on a node (NODE_DIR is the node's dir; the state
 * dir for the default node):
 *   NODE_DIR/fs/<id>/mds/            MDS store   (LOCK held by the MDS)
 *   NODE_DIR/fs/<id>/ostNNNN/        OST store   (LOCK held by its OSS)
 *   NODE_DIR/fs/<id>/hsm/            S3 agent's store (LOCK held by fsx-hsm)
 *   NODE_DIR/run/<id>/secret         engine protocol secret (hex, 0600)
 *   NODE_DIR/run/<id>/<role><n>.{port,pid,log}
 *
 * Invariants:
 *  1. Who runs is decided by store locks, never by rows: a process holds
 *     the lock of each of its stores from before it listens until it
 *     exits, so one started by an fsxd that died before recording it is
 *     still found (and adopted or ended) by the next.
 *  2. Only the lock holder's pid is ever signalled, and only while it
 *     holds the lock: a recycled pid is never hit.
 *  3. A process is adopted only if it answers PING with the file system's
 *     secret; a holder that does not is ended before a new one starts, so
 *     a store never has two servers (the engines refuse a held store too).
 *  4. A restarted process listens on the port it had, so the OST map the
 *     MDS and clients hold stays right.
 *  5. A node that cannot be reached is counted down (prov_node_up) and
 *     nothing of it is assumed: its processes are neither adopted nor
 *     declared dead until it answers again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "prov_int.h"

#define PROV_START_TIMEOUT_MS	10000
#define PROV_PING_TIMEOUT_MS	2000

static int		prov_node_down[CONF_NODES_MAX];	/* under prov_node_mu */
static pthread_mutex_t	prov_node_mu = PTHREAD_MUTEX_INITIALIZER;

/* --- nodes --- */

const struct conf_node *
prov_node(const char *name)
{
	for (int i = 0; name != NULL && i < prov_conf->nnodes; i++)
		if (strcmp(prov_conf->nodes[i].name, name) == 0)
			return &prov_conf->nodes[i];
	return &prov_conf->nodes[0];
}

const struct prov_driver *
prov_driver(const struct conf_node *n)
{
	return n->ssh ? &prov_driver_ssh : &prov_driver_local;
}

int
prov_node_up(const struct conf_node *n)
{
	int i = (int)(n - prov_conf->nodes), up;

	pthread_mutex_lock(&prov_node_mu);
	up = !prov_node_down[i];
	pthread_mutex_unlock(&prov_node_mu);
	return up;
}

void
prov_node_seen(const struct conf_node *n, int rc)
{
	int i = (int)(n - prov_conf->nodes), down = rc == -EHOSTUNREACH, was;

	pthread_mutex_lock(&prov_node_mu);
	was = prov_node_down[i];
	prov_node_down[i] = down;
	pthread_mutex_unlock(&prov_node_mu);
	if (down && !was)
		log_err("node %s (%s) cannot be reached; its OSTs are"
		    " unavailable", n->name, n->ssh ? n->host : "local");
	else if (!down && was)
		log_warn("node %s is back", n->name);
}

const char *
prov_dial_host(const struct conf_node *n)
{
	if (strcmp(n->listen, "0.0.0.0") == 0)
		return strcmp(n->address, "0.0.0.0") == 0 ? "127.0.0.1" :
		    n->address;
	if (strcmp(n->listen, "::") == 0)
		return "::1";
	return n->listen;
}

char *
prov_store_path(const struct conf_node *n, const char *fs_id, const char *sub)
{
	return xasprintf("%s/fs/%s%s%s", n->dir, fs_id, *sub ? "/" : "", sub);
}

char *
prov_run_path(const struct conf_node *n, const char *fs_id, const char *sub)
{
	return xasprintf("%s/run/%s%s%s", n->dir, fs_id, *sub ? "/" : "", sub);
}

/* --- processes --- */

/* The store that names process p: the MDS's, or its OSS's first OST's. */
static char *
proc_store(const struct prov_fs *f, const struct db_proc *p)
{
	const struct conf_node *n = prov_node(p->node);
	char sub[16];

	if (p->role == ROLE_MDS || p->role == ROLE_HSM)
		return prov_store_path(n, f->id, proc_role_name(p->role));
	for (int i = 0; i < f->nosts; i++) {
		if (f->osts[i].oss != p->idx)
			continue;
		snprintf(sub, sizeof(sub), "ost%04d", f->osts[i].idx);
		return prov_store_path(n, f->id, sub);
	}
	return NULL;
}

static char *
proc_file(const struct prov_fs *f, const struct db_proc *p, const char *ext)
{
	char sub[32];

	snprintf(sub, sizeof(sub), "%s%d.%s", proc_role_name(p->role), p->idx,
	    ext);
	return prov_run_path(prov_node(p->node), f->id, sub);
}

pid_t
prov_proc_holder(const struct prov_fs *f, const struct db_proc *p)
{
	const struct conf_node *n = prov_node(p->node);
	char *dir = proc_store(f, p);
	pid_t pid = 0;

	if (dir != NULL) {
		pid = prov_driver(n)->holder(n, dir);
		prov_node_seen(n, pid < 0 ? pid : 0);
	}
	free(dir);
	return pid;
}

void
prov_proc_stop(const struct prov_fs *f, const struct db_proc *p, int hard)
{
	const struct conf_node *n = prov_node(p->node);
	char *dir = proc_store(f, p);

	if (dir != NULL)
		prov_node_seen(n, prov_driver(n)->end(n, dir, hard));
	free(dir);
}

int
prov_call(const struct prov_fs *f, const struct db_proc *p, uint16_t op,
    const void *body, uint32_t body_len, const void *bulk, uint32_t bulk_len,
    int timeout_ms)
{
	struct iovec iov = { (void *)bulk, bulk_len };
	uint32_t kind = 0;
	char rep[64];
	int fd, rc;

	if (p->port <= 0)
		return -ENOTCONN;
	fd = msg_connect_timeout(prov_dial_host(prov_node(p->node)), p->port,
	    f->secret, &kind, timeout_ms);
	if (fd < 0)
		return fd;
	rc = msg_call(fd, op, 0, body, body_len, bulk_len ? &iov : NULL,
	    bulk_len ? 1 : 0, rep, sizeof(rep), NULL, NULL, 0, NULL);
	close(fd);
	return rc;
}

int
prov_proc_ping(const struct prov_fs *f, const struct db_proc *p,
    int timeout_ms)
{
	return prov_call(f, p, MSG_OP_PING, NULL, 0, NULL, 0, timeout_ms);
}

static int
port_file_read(const struct conf_node *n, const char *path)
{
	char *text = NULL;
	int port = 0;

	if (prov_driver(n)->read(n, path, &text) == 0) {
		port = atoi(text);
		free(text);
	}
	return port > 0 && port < 65536 ? port : 0;
}

/*
 * A port for a process starting for the first time: 0 (the kernel picks)
 * without --engine-ports, else the first port of the range that no row of
 * the node names (and, on this host, that binds now). -EADDRINUSE when
 * the range is full.
 */
static int
port_pick(const struct conf_node *n)
{
	int lo = prov_conf->engine_port_lo, hi = prov_conf->engine_port_hi;

	if (lo <= 0)
		return 0;
	for (int port = lo; port <= hi; port++) {
		int fd;

		if (db_proc_port_used(n->name, port) != 0)
			continue;
		if (n->ssh)
			return port;
		fd = msg_sock_open(n->listen, port, 1, 0);
		if (fd < 0)
			continue;
		close(fd);
		return port;
	}
	return -EADDRINUSE;
}

/* argv for p; strings and array malloc'd (argv_free). */
static char **
proc_argv(const struct prov_fs *f, const struct db_proc *p)
{
	const struct conf_node *n = prov_node(p->node);
	char **av = xcalloc(PROV_MAX_OSTS * 2 + 16, sizeof(char *));
	int k = 0;

	if (p->role == ROLE_MDS || p->role == ROLE_HSM) {
		av[k++] = xasprintf("%s/fsx-%s", n->bin, proc_role_name(p->role));
		av[k++] = xstrdup("--dir");
		av[k++] = prov_store_path(n, f->id, proc_role_name(p->role));
	} else {
		av[k++] = xasprintf("%s/fsx-oss", n->bin);
		for (int i = 0; i < f->nosts; i++) {
			if (f->osts[i].oss != p->idx)
				continue;
			av[k++] = xstrdup("--ost");
			av[k++] = xasprintf("%d:%s/fs/%s/ost%04d", f->osts[i].idx,
			    n->dir, f->id, f->osts[i].idx);
		}
	}
	av[k++] = xstrdup("--listen");
	av[k++] = xasprintf("%s:%d", n->listen, p->port);
	av[k++] = xstrdup("--secret-file");
	av[k++] = prov_run_path(n, f->id, "secret");
	av[k++] = xstrdup("--port-file");
	av[k++] = proc_file(f, p, "port");
	av[k++] = xstrdup("--pid-file");
	av[k++] = proc_file(f, p, "pid");
	av[k] = NULL;
	return av;
}

static void
argv_free(char **av)
{
	for (int i = 0; av != NULL && av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

/* Start p on its node and wait until it answers on its port file's port. */
static int
proc_spawn(const struct prov_fs *f, struct db_proc *p)
{
	const struct conf_node *n = prov_node(p->node);
	const struct prov_driver *d = prov_driver(n);
	char *portfile = proc_file(f, p, "port"), *logfile = proc_file(f, p, "log");
	char *dir = proc_store(f, p), **av = NULL;
	long long starttime = 0;
	int rc;
	pid_t pid;

	if (p->port == 0) {
		rc = port_pick(n);
		if (rc < 0) {
			log_err("%s: %s: no free port in %d-%d on %s", __func__,
			    f->id, prov_conf->engine_port_lo,
			    prov_conf->engine_port_hi, n->name);
			goto out;
		}
		p->port = rc;
	}
	av = proc_argv(f, p);
	(void)d->write(n, portfile, "", 0);	/* a stale port is no answer */
	rc = d->spawn(n, av, logfile, &pid, &starttime);
	prov_node_seen(n, rc);
	if (rc < 0)
		goto out;
	rc = -ETIMEDOUT;
	for (int ms = 0; ms < PROV_START_TIMEOUT_MS; ms += 5) {
		struct db_proc probe = *p;

		probe.port = port_file_read(n, portfile);
		if (probe.port > 0 && prov_proc_ping(f, &probe,
		    PROV_PING_TIMEOUT_MS) == 0) {
			p->port = probe.port;
			rc = 0;
			break;
		}
		if (ms > 200 && d->holder(n, dir) == 0 &&
		    node_starttime(pid) < 0 && !n->ssh) {
			rc = -ECHILD;		/* it exited at start */
			break;
		}
		usleep(ms < 100 ? 500 : n->ssh ? 50000 : 2000);
	}
	if (rc < 0) {
		log_err("%s: %s %s%d on %s did not come up (%s); see %s",
		    __func__, f->id, proc_role_name(p->role), p->idx, n->name,
		    rc == -ECHILD ? "it exited" : "no answer", logfile);
		(void)d->end(n, dir, 1);
		goto out;
	}
	p->pid = pid;
	p->starttime = starttime;
	log_info("%s: %s %s%d started on %s pid %d port %d", __func__, f->id,
	    proc_role_name(p->role), p->idx, n->name, (int)pid, p->port);
out:
	argv_free(av);
	free(portfile);
	free(logfile);
	free(dir);
	return rc;
}

int
prov_proc_ensure(const struct prov_fs *f, struct db_proc *p)
{
	const struct conf_node *n = prov_node(p->node);
	const struct prov_driver *d = prov_driver(n);
	char *dir = proc_store(f, p), *portfile;
	struct db_proc probe = *p;
	pid_t holder;

	if (dir == NULL)
		return -EINVAL;
	holder = d->holder(n, dir);
	prov_node_seen(n, holder < 0 ? holder : 0);
	if (holder < 0) {
		free(dir);
		return holder;
	}
	if (holder > 0) {
		/* its port file is the truth for a process never recorded */
		portfile = proc_file(f, p, "port");
		probe.port = port_file_read(n, portfile);
		free(portfile);
		if (probe.port == 0)
			probe.port = p->port;
		if (prov_proc_ping(f, &probe, PROV_PING_TIMEOUT_MS) == 0) {
			if (p->pid != holder)
				p->starttime = n->ssh ? 0 :
				    node_starttime(holder);
			p->pid = holder;
			p->port = probe.port;
			free(dir);
			return 0;			/* adopted */
		}
		log_warn("%s: %s %s%d pid %d holds its store but does not"
		    " answer; ending it", __func__, f->id,
		    proc_role_name(p->role), p->idx, (int)holder);
		(void)d->end(n, dir, 1);
	}
	free(dir);
	return proc_spawn(f, p);
}

int
prov_proc_dirs(const struct prov_fs *f)
{
	char line[80];
	int rc = 0;

	snprintf(line, sizeof(line), "%s\n", f->secret_hex);
	for (int i = 0; rc == 0 && i < prov_conf->nnodes; i++) {
		const struct conf_node *n = &prov_conf->nodes[i];
		const struct prov_driver *d = prov_driver(n);
		char *dirs[PROV_MAX_OSTS + 4], *secret;
		int k = 0, used = 0;

		for (int j = 0; j < f->nprocs; j++)
			used |= prov_node(f->procs[j].node) == n;
		if (!used)
			continue;
		dirs[k++] = prov_run_path(n, f->id, "");
		for (int j = 0; j < f->nprocs; j++) {
			const struct db_proc *p = &f->procs[j];

			if (prov_node(p->node) != n)
				continue;
			if (p->role == ROLE_MDS || p->role == ROLE_HSM)
				dirs[k++] = prov_store_path(n, f->id,
				    proc_role_name(p->role));
			for (int o = 0; p->role == ROLE_OSS && o < f->nosts &&
			    k < PROV_MAX_OSTS + 3; o++) {
				char sub[16];

				if (f->osts[o].oss != p->idx)
					continue;
				snprintf(sub, sizeof(sub), "ost%04d",
				    f->osts[o].idx);
				dirs[k++] = prov_store_path(n, f->id, sub);
			}
		}
		dirs[k] = NULL;
		rc = d->mkdirs(n, dirs);
		if (rc == 0) {
			secret = prov_run_path(n, f->id, "secret");
			rc = d->write(n, secret, line, strlen(line));
			free(secret);
		}
		prov_node_seen(n, rc);
		for (int j = 0; j < k; j++)
			free(dirs[j]);
	}
	explicit_bzero(line, sizeof(line));
	return rc;
}

int
prov_proc_purge(const char *fs_id)
{
	int rc = 0;

	for (int i = 0; i < prov_conf->nnodes; i++) {
		const struct conf_node *n = &prov_conf->nodes[i];
		char *fsdir = prov_store_path(n, fs_id, "");
		char *rundir = prov_run_path(n, fs_id, "");
		int r = prov_driver(n)->purge(n, fsdir, rundir);

		prov_node_seen(n, r);
		if (r < 0)
			rc = r;
		free(fsdir);
		free(rundir);
	}
	return rc;
}

int
prov_proc_fs_dirs(char (*ids)[NODE_ID_MAX], int max)
{
	int n = 0;

	for (int i = 0; i < prov_conf->nnodes && n < max; i++) {
		const struct conf_node *node = &prov_conf->nodes[i];
		int got = prov_driver(node)->fs_dirs(node, ids + n, max - n);

		prov_node_seen(node, got < 0 ? got : 0);
		if (got < 0)
			continue;
		/* keep each id once */
		for (int j = n; j < n + got; j++) {
			int dup = 0;

			for (int k = 0; k < n && !dup; k++)
				dup = strcmp(ids[k], ids[j]) == 0;
			if (dup) {
				memmove(ids[j], ids[n + got - 1], NODE_ID_MAX);
				got--;
				j--;
			}
		}
		n += got;
	}
	return n;
}
