/*
 * The local process driver: engine processes on this host, started with
 * fork/exec in their own session so they outlive fsxd.
 *
 * Files of a file system:
 *   STATE/fs/<id>/mds/            MDS store   (LOCK held by the MDS)
 *   STATE/fs/<id>/ostNNNN/        OST store   (LOCK held by its OSS)
 *   STATE/run/<id>/secret         engine protocol secret (hex, 0600)
 *   STATE/run/<id>/<role><n>.{port,pid,log}
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
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/lockfile.h"
#include "core/log.h"
#include "core/util.h"
#include "prov_int.h"

#define PROV_START_TIMEOUT_MS	10000
#define PROV_STOP_GRACE_MS	2000
#define PROV_PING_TIMEOUT_MS	2000

const char *
prov_dial_host(void)
{
	const char *l = prov_conf->engine_listen;

	if (strcmp(l, "0.0.0.0") == 0)
		return "127.0.0.1";
	if (strcmp(l, "::") == 0)
		return "::1";
	return l;
}

/*
 * A port for a process starting for the first time: 0 (the kernel picks)
 * without --engine-ports, else the first port of the range that no row
 * names and that binds now. -EADDRINUSE when the range is full.
 */
static int
port_pick(void)
{
	int lo = prov_conf->engine_port_lo, hi = prov_conf->engine_port_hi;

	if (lo <= 0)
		return 0;
	for (int port = lo; port <= hi; port++) {
		int fd;

		if (db_proc_port_used(port) != 0)
			continue;
		fd = msg_sock_open(prov_conf->engine_listen, port, 1, 0);
		if (fd < 0)
			continue;
		close(fd);
		return port;
	}
	return -EADDRINUSE;
}

char *
prov_store_path(const char *fs_id, const char *sub)
{
	return xasprintf("%s/fs/%s%s%s", prov_conf->state_dir, fs_id,
	    *sub ? "/" : "", sub);
}

char *
prov_run_path(const char *fs_id, const char *sub)
{
	return xasprintf("%s/run/%s%s%s", prov_conf->state_dir, fs_id,
	    *sub ? "/" : "", sub);
}

/* The store that names process p: the MDS's, or its OSS's first OST's. */
static char *
proc_store(const struct prov_fs *f, const struct db_proc *p)
{
	char sub[16];

	if (p->role == ROLE_MDS)
		return prov_store_path(f->id, "mds");
	for (int i = 0; i < f->nosts; i++) {
		if (f->osts[i].oss != p->idx)
			continue;
		snprintf(sub, sizeof(sub), "ost%04d", f->osts[i].idx);
		return prov_store_path(f->id, sub);
	}
	return NULL;
}

static char *
proc_file(const struct prov_fs *f, const struct db_proc *p, const char *ext)
{
	char sub[32];

	snprintf(sub, sizeof(sub), "%s%d.%s", proc_role_name(p->role), p->idx,
	    ext);
	return prov_run_path(f->id, sub);
}

/* Holder of a store; waits out a holder that has not written its pid. */
static pid_t
store_holder(const char *dir)
{
	pid_t pid = 0;

	for (int i = 0; i < 100; i++) {
		pid = store_lock_holder(dir);
		if (pid != -EAGAIN)
			break;
		usleep(10000);
	}
	return pid < 0 ? 0 : pid;
}

pid_t
prov_local_holder(const struct prov_fs *f, const struct db_proc *p)
{
	char *dir = proc_store(f, p);
	pid_t pid = dir ? store_holder(dir) : 0;

	free(dir);
	return pid;
}

/*
 * End the holder of `dir`: SIGTERM (SIGKILL when hard), SIGKILL after a
 * grace period; returns once the lock is free (or gives up after the
 * second grace period, logged).
 */
static void
store_end(const char *dir, int hard)
{
	pid_t pid = store_holder(dir);

	for (int round = hard ? 1 : 0; pid > 0 && round < 2; round++) {
		kill(pid, round == 0 ? SIGTERM : SIGKILL);
		for (int ms = 0; ms < PROV_STOP_GRACE_MS; ms += 10) {
			waitpid(pid, NULL, WNOHANG);
			if (store_lock_holder(dir) == 0)
				return;
			usleep(10000);
		}
		pid = store_holder(dir);
	}
	if (pid > 0)
		log_err("%s: %s: pid %d still holds it", __func__, dir, (int)pid);
}

void
prov_local_stop(const struct prov_fs *f, const struct db_proc *p, int hard)
{
	char *dir = proc_store(f, p);

	if (dir != NULL)
		store_end(dir, hard);
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
	fd = msg_connect_timeout(prov_dial_host(), p->port, f->secret, &kind,
	    timeout_ms);
	if (fd < 0)
		return fd;
	rc = msg_call(fd, op, 0, body, body_len, bulk_len ? &iov : NULL,
	    bulk_len ? 1 : 0, rep, sizeof(rep), NULL, NULL, 0, NULL);
	close(fd);
	return rc;
}

int
prov_local_ping(const struct prov_fs *f, const struct db_proc *p,
    int timeout_ms)
{
	return prov_call(f, p, MSG_OP_PING, NULL, 0, NULL, 0, timeout_ms);
}

/* Field 22 of /proc/<pid>/stat, or -1 when the pid is gone or a zombie. */
static long long
proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	long long st = -1;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X')
		return -1;
	p += 2;		/* after ") S " come fields 4..; starttime is field 22 */
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p != NULL)
		st = strtoll(p, NULL, 10);
	return st;
}

static int
port_file_read(const char *path)
{
	char *text = NULL;
	int port = 0;

	if (file_read_all(path, &text, NULL, 64) == 0) {
		port = atoi(text);
		free(text);
	}
	return port > 0 && port < 65536 ? port : 0;
}

/* argv for p; strings and array malloc'd (argv_free). */
static char **
proc_argv(const struct prov_fs *f, const struct db_proc *p)
{
	char **av = xcalloc(PROV_MAX_OSTS * 2 + 16, sizeof(char *));
	int n = 0;

	if (p->role == ROLE_MDS) {
		av[n++] = xasprintf("%s/fsx-mds", prov_conf->bin_dir);
		av[n++] = xstrdup("--dir");
		av[n++] = prov_store_path(f->id, "mds");
	} else {
		av[n++] = xasprintf("%s/fsx-oss", prov_conf->bin_dir);
		for (int i = 0; i < f->nosts; i++) {
			if (f->osts[i].oss != p->idx)
				continue;
			av[n++] = xstrdup("--ost");
			av[n++] = xasprintf("%d:%s/fs/%s/ost%04d", f->osts[i].idx,
			    prov_conf->state_dir, f->id, f->osts[i].idx);
		}
	}
	av[n++] = xstrdup("--listen");
	av[n++] = xasprintf("%s:%d", prov_conf->engine_listen, p->port);
	av[n++] = xstrdup("--secret-file");
	av[n++] = prov_run_path(f->id, "secret");
	av[n++] = xstrdup("--port-file");
	av[n++] = proc_file(f, p, "port");
	av[n++] = xstrdup("--pid-file");
	av[n++] = proc_file(f, p, "pid");
	av[n] = NULL;
	return av;
}

static void
argv_free(char **av)
{
	for (int i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

/* Fork/exec p and wait until it answers on its port file's port. */
static int
proc_spawn(const struct prov_fs *f, struct db_proc *p)
{
	char *portfile = proc_file(f, p, "port"), *logfile = proc_file(f, p, "log");
	char **av = NULL;
	int rc = -ETIMEDOUT, status, fd;
	pid_t pid;

	if (p->port == 0) {
		rc = port_pick();
		if (rc < 0) {
			log_err("%s: %s: no free port in %d-%d", __func__, f->id,
			    prov_conf->engine_port_lo, prov_conf->engine_port_hi);
			goto out;
		}
		p->port = rc;
		rc = -ETIMEDOUT;
	}
	av = proc_argv(f, p);
	unlink(portfile);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		setsid();
		fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		closefrom(3);
		execv(av[0], av);
		_exit(127);
	}
	for (int ms = 0; ms < PROV_START_TIMEOUT_MS; ms++) {
		struct db_proc probe = *p;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			rc = -ECHILD;
			log_err("%s: %s %s%d exited at start (status %d); see %s",
			    __func__, f->id, proc_role_name(p->role), p->idx,
			    status, logfile);
			goto out;
		}
		probe.port = port_file_read(portfile);
		if (probe.port > 0 && prov_local_ping(f, &probe,
		    PROV_PING_TIMEOUT_MS) == 0) {
			p->port = probe.port;
			rc = 0;
			break;
		}
		usleep(ms < 100 ? 500 : 2000);
	}
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	p->pid = pid;
	p->starttime = proc_starttime(pid);
	log_info("%s: %s %s%d started pid %d port %d", __func__, f->id,
	    proc_role_name(p->role), p->idx, (int)pid, p->port);
out:
	if (av != NULL)
		argv_free(av);
	free(portfile);
	free(logfile);
	return rc;
}

int
prov_local_ensure(const struct prov_fs *f, struct db_proc *p)
{
	char *dir = proc_store(f, p), *portfile;
	struct db_proc probe = *p;
	pid_t holder;

	if (dir == NULL)
		return -EINVAL;
	holder = store_holder(dir);
	if (holder > 0) {
		/* its port file is the truth for a process never recorded */
		portfile = proc_file(f, p, "port");
		probe.port = port_file_read(portfile);
		free(portfile);
		if (probe.port == 0)
			probe.port = p->port;
		if (prov_local_ping(f, &probe, PROV_PING_TIMEOUT_MS) == 0) {
			p->pid = holder;
			p->starttime = proc_starttime(holder);
			p->port = probe.port;
			free(dir);
			return 0;			/* adopted */
		}
		log_warn("%s: %s %s%d pid %d holds its store but does not"
		    " answer; ending it", __func__, f->id,
		    proc_role_name(p->role), p->idx, (int)holder);
		store_end(dir, 1);
	}
	free(dir);
	return proc_spawn(f, p);
}

void
prov_local_purge(const char *fs_id)
{
	char *top = prov_store_path(fs_id, ""), *run;
	struct dirent *de;
	DIR *d = opendir(top);

	/* The MDS first (it talks to the OSSes), then every other store. */
	for (int pass = 0; d != NULL && pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			char *dir;

			if (de->d_name[0] == '.' ||
			    (strcmp(de->d_name, "mds") == 0) != (pass == 0))
				continue;
			dir = xasprintf("%s/%s", top, de->d_name);
			store_end(dir, 0);
			free(dir);
		}
	}
	if (d != NULL)
		closedir(d);
	rm_rf(top);
	free(top);
	run = prov_run_path(fs_id, "");
	rm_rf(run);
	free(run);
}

int
prov_local_fs_dirs(char (*ids)[DB_ID_MAX], int max)
{
	char *top = xasprintf("%s/fs", prov_conf->state_dir);
	struct dirent *de;
	DIR *d = opendir(top);
	int n = 0;

	free(top);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, "fs-", 3) != 0 ||
		    strlen(de->d_name) >= DB_ID_MAX)
			continue;
		snprintf(ids[n++], DB_ID_MAX, "%s", de->d_name);
	}
	closedir(d);
	return n;
}
