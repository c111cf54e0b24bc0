/*
 * The provisioner (see prov.h): durable jobs -> engine processes.
 *
 * Files of a file system:
 *   STATE/fs/<id>/mds/            MDS store
 *   STATE/fs/<id>/ostNNNN/        objects of OST NNNN
 *   STATE/run/<id>/secret         engine protocol secret (hex)
 *   STATE/run/<id>/ostmap         "IDX HOST PORT CAPACITY" per OST, for the MDS
 *   STATE/run/<id>/<role><n>.{port,pid,log}
 *
 * Invariants:
 *  1. A file system is AVAILABLE only after every process answered PING.
 *  2. A process row (procs) names a pid and its start time; a pid whose
 *     start time differs is not ours (pid reuse) and is never signalled.
 *  3. A restarted process listens on the port it had, so the OST map the
 *     MDS and clients hold stays right.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api_fs_desc.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "msg/msg.h"
#include "prov.h"

#define PROV_HOST		"127.0.0.1"
#define PROV_MAX_ATTEMPTS	3
#define PROV_START_TIMEOUT_MS	10000

static const struct fsxd_conf	*P;
static pthread_t		 prov_runner_tid, prov_monitor_tid;
static pthread_mutex_t		 prov_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 prov_cv = PTHREAD_COND_INITIALIZER;
static int			 prov_kicked, prov_stopping, prov_started;
/* Serializes process starts/stops between the runner and the monitor. */
static pthread_mutex_t		 prov_proc_mu = PTHREAD_MUTEX_INITIALIZER;

struct prov_fs {
	char	 id[32];
	char	 lifecycle[32];
	uint8_t	 secret[MSG_SECRET_LEN];
	char	 secret_hex[2 * MSG_SECRET_LEN + 1];
	int	 nost;
	json_t	*doc;
};

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static char *
prov_path(const char *fs_id, const char *sub)
{
	return xasprintf("%s/%s/%s%s%s", P->state_dir,
	    (strncmp(sub, "ost", 3) == 0 && isdigit((unsigned char)sub[3])) ||
	    strcmp(sub, "mds") == 0 ? "fs" : "run",
	    fs_id, *sub ? "/" : "", sub);
}

static int
prov_fs_load(const char *fs_id, struct prov_fs *f)
{
	static const char q[] = "SELECT lifecycle, secret, nost, doc"
	    " FROM file_systems WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);
	int rc = -ENOENT;

	memset(f, 0, sizeof(*f));
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(f->id, sizeof(f->id), "%s", fs_id);
		snprintf(f->lifecycle, sizeof(f->lifecycle), "%s", col_text(st, 0));
		snprintf(f->secret_hex, sizeof(f->secret_hex), "%s", col_text(st, 1));
		f->nost = sqlite3_column_int(st, 2);
		f->doc = json_loads(col_text(st, 3), 0, NULL);
		rc = hex_decode(f->secret_hex, f->secret, MSG_SECRET_LEN) < 0 ||
		    f->doc == NULL ? -EIO : 0;
	}
	sqlite3_reset(st);
	if (rc < 0)
		json_decref(f->doc);
	return rc;
}

static void
prov_fs_fini(struct prov_fs *f)
{
	json_decref(f->doc);
	f->doc = NULL;
}

/* Write the description and lifecycle of a file system. */
static int
prov_fs_save(struct prov_fs *f, const char *lifecycle)
{
	static const char q[] = "UPDATE file_systems SET doc = ?2, lifecycle = ?3,"
	    " capacity = ?4, nost = ?5 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	json_object_del(f->doc, "Lifecycle");
	snprintf(f->lifecycle, sizeof(f->lifecycle), "%s", lifecycle);
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json_dumps(f->doc, JSON_COMPACT |
	    JSON_REAL_PRECISION(17)), -1, free);
	sqlite3_bind_text(st, 3, lifecycle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(f->doc,
	    "StorageCapacity")));
	sqlite3_bind_int(st, 5, f->nost);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

/* --- processes --- */

struct prov_proc {
	char	role[8];
	int	idx;
	pid_t	pid;
	long long starttime;
	int	port;
	char	osts[256];		/* "0,1,2" */
};

/* Field 22 of /proc/<pid>/stat, or -1 when the pid is gone or a zombie. */
static long long
proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p;
	long long st = -1;
	size_t n;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X')
		return -1;
	/* after ") S " come fields 4..; starttime is field 22 */
	p += 2;
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
prov_proc_alive(const struct prov_proc *pp)
{
	return pp->pid > 0 && proc_starttime(pp->pid) == pp->starttime;
}

static int
prov_ping(const char *host, int port, const uint8_t *secret)
{
	struct msg_ping_rep rep;
	uint32_t kind = 0, rlen = 0;
	int fd, rc;

	fd = msg_connect(host, port, secret, &kind);
	if (fd < 0)
		return fd;
	rc = msg_call(fd, MSG_OP_PING, 0, NULL, 0, NULL, 0, &rep, sizeof(rep),
	    &rlen, NULL, 0, NULL);
	close(fd);
	return rc;
}

static int
prov_procs_load(const char *fs_id, struct prov_proc *out, int max)
{
	static const char q[] = "SELECT role, idx, pid, starttime, port, osts"
	    " FROM procs WHERE fs_id = ?1 ORDER BY role DESC, idx";
	sqlite3_stmt *st = db_stmt(q);
	int n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		struct prov_proc *pp = &out[n++];

		snprintf(pp->role, sizeof(pp->role), "%s", col_text(st, 0));
		pp->idx = sqlite3_column_int(st, 1);
		pp->pid = sqlite3_column_int(st, 2);
		pp->starttime = sqlite3_column_int64(st, 3);
		pp->port = sqlite3_column_int(st, 4);
		snprintf(pp->osts, sizeof(pp->osts), "%s", col_text(st, 5));
	}
	sqlite3_reset(st);
	return n;
}

static int
prov_proc_save(const char *fs_id, const struct prov_proc *pp)
{
	static const char q[] = "INSERT OR REPLACE INTO procs (fs_id, role, idx,"
	    " pid, starttime, port, osts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pp->role, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, pp->idx);
	sqlite3_bind_int(st, 4, pp->pid);
	sqlite3_bind_int64(st, 5, pp->starttime);
	sqlite3_bind_int(st, 6, pp->port);
	sqlite3_bind_text(st, 7, pp->osts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

/* Capacity of each OST in bytes: the file system's capacity split evenly. */
static unsigned long long
prov_ost_bytes(const struct prov_fs *f, int nost)
{
	long long gib = json_integer_value(json_object_get(f->doc,
	    "StorageCapacity"));

	if (gib <= 0)
		gib = 1200;
	return (unsigned long long)gib * (1ull << 30) / (unsigned)(nost > 0 ? nost : 1);
}

/* Build argv for a process; returned strings are malloc'd (argv_free). */
static char **
prov_argv(const struct prov_fs *f, const struct prov_proc *pp, int nost)
{
	char **av = xcalloc(64, sizeof(char *));
	int n = 0;

	if (strcmp(pp->role, "mds") == 0) {
		av[n++] = xasprintf("%s/fsx-mds", P->bin_dir);
		av[n++] = xstrdup("--dir");
		av[n++] = prov_path(f->id, "mds");
		av[n++] = xstrdup("--ost-map");
		av[n++] = prov_path(f->id, "ostmap");
	} else {
		char *save = NULL, *osts = xstrdup(pp->osts);

		av[n++] = xasprintf("%s/fsx-oss", P->bin_dir);
		for (char *t = strtok_r(osts, ",", &save); t != NULL && n < 56;
		    t = strtok_r(NULL, ",", &save)) {
			int idx = atoi(t);
			char sub[16];
			char *dir;

			snprintf(sub, sizeof(sub), "ost%04d", idx);
			dir = prov_path(f->id, sub);
			av[n++] = xstrdup("--ost");
			av[n++] = xasprintf("%d:%s:%llu", idx, dir,
			    prov_ost_bytes(f, nost));
			free(dir);
		}
		free(osts);
	}
	av[n++] = xstrdup("--listen");
	av[n++] = xasprintf("%s:%d", PROV_HOST, pp->port);
	av[n++] = xstrdup("--secret-file");
	av[n++] = prov_path(f->id, "secret");
	av[n++] = xstrdup("--port-file");
	av[n++] = xasprintf("%s/run/%s/%s%d.port", P->state_dir, f->id,
	    pp->role, pp->idx);
	av[n++] = xstrdup("--pid-file");
	av[n++] = xasprintf("%s/run/%s/%s%d.pid", P->state_dir, f->id,
	    pp->role, pp->idx);
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

/* Stop a process of ours: SIGTERM, then SIGKILL after a grace period. */
static void
prov_proc_kill(const struct prov_proc *pp)
{
	if (!prov_proc_alive(pp))
		return;
	kill(pp->pid, SIGTERM);
	for (int i = 0; i < 200 && prov_proc_alive(pp); i++) {
		waitpid(pp->pid, NULL, WNOHANG);
		usleep(10000);
	}
	if (prov_proc_alive(pp)) {
		kill(pp->pid, SIGKILL);
		for (int i = 0; i < 100 && prov_proc_alive(pp); i++) {
			waitpid(pp->pid, NULL, WNOHANG);
			usleep(10000);
		}
	}
	waitpid(pp->pid, NULL, WNOHANG);
}

/*
 * Make sure process `pp` of `f` runs and answers: adopt it when its pid is
 * alive with the recorded start time and it answers PING; otherwise start
 * it (on its recorded port, or an ephemeral one the first time).
 */
static int
prov_proc_ensure(struct prov_fs *f, struct prov_proc *pp, int nost)
{
	char *portfile, *logfile, *pidfile, **av;
	int rc, fd;
	pid_t pid;

	if (prov_proc_alive(pp)) {
		if (pp->port > 0 && prov_ping(PROV_HOST, pp->port, f->secret) == 0)
			return 0;		/* adopted */
		log_warn("%s: %s %s%d pid %d does not answer; restarting",
		    __func__, f->id, pp->role, pp->idx, (int)pp->pid);
		prov_proc_kill(pp);
	}
	portfile = xasprintf("%s/run/%s/%s%d.port", P->state_dir, f->id,
	    pp->role, pp->idx);
	pidfile = xasprintf("%s/run/%s/%s%d.pid", P->state_dir, f->id,
	    pp->role, pp->idx);
	logfile = xasprintf("%s/run/%s/%s%d.log", P->state_dir, f->id,
	    pp->role, pp->idx);
	unlink(portfile);
	av = prov_argv(f, pp, nost);
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
	/* Wait for the port file, then PING. */
	rc = -ETIMEDOUT;
	for (int ms = 0; ms < PROV_START_TIMEOUT_MS; ms++) {
		char *text = NULL;
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			rc = -ECHILD;
			log_err("%s: %s %s%d exited at start (status %d); see %s",
			    __func__, f->id, pp->role, pp->idx, status, logfile);
			break;
		}
		if (file_read_all(portfile, &text, NULL, 64) == 0) {
			int port = atoi(text);

			free(text);
			if (port > 0 && prov_ping(PROV_HOST, port, f->secret) == 0) {
				pp->port = port;
				rc = 0;
				break;
			}
		}
		usleep(ms < 100 ? 500 : 2000);
	}
	if (rc < 0) {
		if (rc != -ECHILD) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		goto out;
	}
	pp->pid = pid;
	pp->starttime = proc_starttime(pid);
	rc = prov_proc_save(f->id, pp);
	log_info("%s: %s %s%d started pid %d port %d", __func__, f->id,
	    pp->role, pp->idx, (int)pid, pp->port);
out:
	argv_free(av);
	free(portfile);
	free(pidfile);
	free(logfile);
	return rc;
}

/* Write STATE/run/<id>/ostmap from the OSS rows. */
static int
prov_ostmap_write(struct prov_fs *f, struct prov_proc *pp, int n, int nost)
{
	char *path = prov_path(f->id, "ostmap"), *buf = xmalloc(64 * 1024);
	size_t len = 0;
	int rc;

	for (int i = 0; i < n; i++) {
		char *save = NULL, *osts;

		if (strcmp(pp[i].role, "oss") != 0)
			continue;
		osts = xstrdup(pp[i].osts);
		for (char *t = strtok_r(osts, ",", &save); t != NULL;
		    t = strtok_r(NULL, ",", &save))
			len += (size_t)snprintf(buf + len, 64 * 1024 - len,
			    "%d %s %d %llu\n", atoi(t), PROV_HOST, pp[i].port,
			    prov_ost_bytes(f, nost));
		free(osts);
	}
	rc = file_write_atomic(path, buf, len);
	free(buf);
	free(path);
	return rc;
}

static int
prov_dirs(struct prov_fs *f, int first_ost, int nost)
{
	char *p = prov_path(f->id, "");
	int rc = mkdir_p(p, 0700);

	free(p);
	p = prov_path(f->id, "mds");
	if (rc == 0)
		rc = mkdir_p(p, 0700);
	free(p);
	for (int i = first_ost; rc == 0 && i < nost; i++) {
		char sub[16];

		snprintf(sub, sizeof(sub), "ost%04d", i);
		p = prov_path(f->id, sub);
		rc = mkdir_p(p, 0700);
		free(p);
	}
	if (rc == 0) {
		char line[80];

		p = prov_path(f->id, "secret");
		snprintf(line, sizeof(line), "%s\n", f->secret_hex);
		rc = file_write_atomic(p, line, strlen(line));
		free(p);
	}
	return rc;
}

#define PROV_MAX_PROCS	64

/* Start (or adopt) every process of f; OSSes first, then the MDS. */
static int
prov_up(struct prov_fs *f)
{
	struct prov_proc pp[PROV_MAX_PROCS];
	int n, rc;

	n = prov_procs_load(f->id, pp, PROV_MAX_PROCS);
	if (n < 0)
		return n;
	if (n == 0) {
		/* First start: lay out OSTs over OSS processes. */
		int nost = fs_desc_ost_count(f->doc), noss;

		if (nost > P->max_ost)
			nost = P->max_ost;
		if (nost < 1)
			nost = 1;
		noss = nost < P->max_oss ? nost : P->max_oss;
		for (int i = 0; i < noss; i++) {
			size_t len = 0;

			memset(&pp[n], 0, sizeof(pp[n]));
			snprintf(pp[n].role, sizeof(pp[n].role), "oss");
			pp[n].idx = i;
			for (int o = i; o < nost; o += noss)
				len += (size_t)snprintf(pp[n].osts + len,
				    sizeof(pp[n].osts) - len, "%s%d",
				    len ? "," : "", o);
			n++;
		}
		memset(&pp[n], 0, sizeof(pp[n]));
		snprintf(pp[n].role, sizeof(pp[n].role), "mds");
		n++;
		for (int i = 0; i < n; i++) {
			rc = prov_proc_save(f->id, &pp[i]);
			if (rc < 0)
				return rc;
		}
		f->nost = nost;
	}
	rc = prov_dirs(f, 0, f->nost);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if (strcmp(pp[i].role, "oss") != 0)
			continue;
		rc = prov_proc_ensure(f, &pp[i], f->nost);
		if (rc < 0)
			return rc;
	}
	rc = prov_ostmap_write(f, pp, n, f->nost);
	for (int i = 0; rc == 0 && i < n; i++)
		if (strcmp(pp[i].role, "mds") == 0)
			rc = prov_proc_ensure(f, &pp[i], f->nost);
	return rc;
}

static void
prov_down(const char *fs_id)
{
	static const char del[] = "DELETE FROM procs WHERE fs_id = ?1";
	struct prov_proc pp[PROV_MAX_PROCS];
	sqlite3_stmt *st;
	int n = prov_procs_load(fs_id, pp, PROV_MAX_PROCS);
	char *p;

	/* The MDS first (it talks to the OSSes), then the OSSes. */
	for (int i = n - 1; i >= 0; i--)
		if (strcmp(pp[i].role, "mds") == 0)
			prov_proc_kill(&pp[i]);
	for (int i = 0; i < n; i++)
		prov_proc_kill(&pp[i]);
	st = db_stmt(del);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	p = xasprintf("%s/fs/%s", P->state_dir, fs_id);
	rm_rf(p);
	free(p);
	p = xasprintf("%s/run/%s", P->state_dir, fs_id);
	rm_rf(p);
	free(p);
}

/* --- jobs --- */

static int
job_create(struct prov_fs *f)
{
	int rc;

	if (strcmp(f->lifecycle, "CREATING") != 0)
		return 0;		/* deleted meanwhile, or done before a crash */
	if (P->create_delay_sec > 0)
		usleep((useconds_t)(P->create_delay_sec * 1e6));
	rc = prov_up(f);
	if (rc < 0)
		return rc;
	{
		json_t *drc = json_object_get(json_object_get(f->doc,
		    "LustreConfiguration"), "DataRepositoryConfiguration");

		if (drc != NULL)
			json_object_set_new(drc, "Lifecycle", json_string("AVAILABLE"));
	}
	return prov_fs_save(f, "AVAILABLE");
}

static int
job_grow(struct prov_fs *f, long long capacity)
{
	struct prov_proc pp[PROV_MAX_PROCS];
	struct msg_ost_ent ents[MSG_MAX_STRIPES];
	int n, nost, old = f->nost, noss = 0, fd, rc, nent = 0;
	uint32_t kind;
	json_t *copy, *target;

	if (strcmp(f->lifecycle, "DELETING") == 0)
		return 0;
	fs_desc_action_set_status(f->doc, "FILE_SYSTEM_UPDATE", "IN_PROGRESS",
	    now_epoch());
	rc = prov_fs_save(f, "UPDATING");
	if (rc < 0)
		return rc;
	/* The OST count the new values map to. */
	target = json_deep_copy(fs_desc_action_pending_target(f->doc,
	    "FILE_SYSTEM_UPDATE"));
	copy = json_deep_copy(f->doc);
	if (target != NULL)
		fs_desc_apply_target(copy, target);
	if (capacity > 0)
		fs_desc_apply_capacity(copy, capacity);
	nost = fs_desc_ost_count(copy);
	if (nost > P->max_ost)
		nost = P->max_ost;
	n = prov_procs_load(f->id, pp, PROV_MAX_PROCS);
	if (n < 0) {
		json_decref(copy);
		json_decref(target);
		return n;
	}
	/* OSTs already laid out (a resumed job may have added some). */
	for (int i = 0; i < n; i++) {
		const char *p = pp[i].osts;

		if (strcmp(pp[i].role, "oss") != 0)
			continue;
		noss++;
		while (*p != '\0') {
			int o = atoi(p);

			if (o + 1 > old)
				old = o + 1;
			p += strcspn(p, ",");
			if (*p == ',')
				p++;
		}
	}
	if (nost > old && n < PROV_MAX_PROCS) {
		/* One more OSS serves the new OSTs. */
		struct prov_proc *np = &pp[n];
		size_t len = 0;

		memset(np, 0, sizeof(*np));
		snprintf(np->role, sizeof(np->role), "oss");
		np->idx = noss;
		for (int o = old; o < nost; o++)
			len += (size_t)snprintf(np->osts + len, sizeof(np->osts) - len,
			    "%s%d", len ? "," : "", o);
		rc = prov_proc_save(f->id, np);
		if (rc < 0) {
			json_decref(copy);
			json_decref(target);
			return rc;
		}
		n++;
	} else {
		nost = old;
	}
	/* The new values are what the servers now provide. */
	json_decref(f->doc);
	f->doc = copy;
	copy = NULL;
	json_decref(target);
	target = NULL;
	rc = prov_dirs(f, old, nost);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if (strcmp(pp[i].role, "oss") != 0)
			continue;
		rc = prov_proc_ensure(f, &pp[i], nost);
		if (rc < 0)
			return rc;
	}
	rc = prov_ostmap_write(f, pp, n, nost);
	if (rc < 0)
		return rc;
	/* Tell the MDS about the new OSTs. */
	for (int i = 0; i < n && nent < MSG_MAX_STRIPES; i++) {
		char *save = NULL, *osts;

		if (strcmp(pp[i].role, "oss") != 0)
			continue;
		osts = xstrdup(pp[i].osts);
		for (char *t = strtok_r(osts, ",", &save); t != NULL &&
		    nent < MSG_MAX_STRIPES; t = strtok_r(NULL, ",", &save)) {
			struct msg_ost_ent *e = &ents[nent++];

			memset(e, 0, sizeof(*e));
			e->ost = (uint32_t)atoi(t);
			e->port = (uint16_t)pp[i].port;
			snprintf(e->host, sizeof(e->host), "%s", PROV_HOST);
			e->capacity = prov_ost_bytes(f, nost);
		}
		free(osts);
	}
	for (int i = 0; i < n; i++) {
		struct iovec iov = { ents, (size_t)nent * sizeof(ents[0]) };

		if (strcmp(pp[i].role, "mds") != 0)
			continue;
		rc = prov_proc_ensure(f, &pp[i], nost);
		if (rc < 0)
			return rc;
		fd = msg_connect(PROV_HOST, pp[i].port, f->secret, &kind);
		if (fd < 0)
			return fd;
		rc = msg_call(fd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1, NULL, 0,
		    NULL, NULL, 0, NULL);
		close(fd);
		if (rc < 0)
			return rc;
	}
	f->nost = nost;
	fs_desc_action_set_status(f->doc, "FILE_SYSTEM_UPDATE",
	    "UPDATED_OPTIMIZING", now_epoch());
	fs_desc_action_add(f->doc, "STORAGE_OPTIMIZATION", "IN_PROGRESS", NULL,
	    now_epoch());
	rc = prov_fs_save(f, "AVAILABLE");
	if (rc < 0)
		return rc;
	/*
	 * Optimization: existing files keep their layouts and new files
	 * spread over every OST, so there is no data to move.
	 */
	fs_desc_action_remove(f->doc, "STORAGE_OPTIMIZATION");
	fs_desc_action_set_status(f->doc, "FILE_SYSTEM_UPDATE", "COMPLETED",
	    now_epoch());
	return prov_fs_save(f, "AVAILABLE");
}

static int
job_delete(const char *fs_id)
{
	static const char q[] = "DELETE FROM file_systems WHERE id = ?1";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&prov_proc_mu);
	prov_down(fs_id);
	pthread_mutex_unlock(&prov_proc_mu);
	st = db_stmt(q);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

static void
job_fail(struct prov_fs *f, const char *kind, int rc)
{
	char msg[256];
	json_t *fd;

	if (strcmp(kind, "create") == 0) {
		snprintf(msg, sizeof(msg), "The file system's servers could not be"
		    " started: %s.", rc == -ECHILD ? "an engine process exited"
		    " during start-up" : rc == -ETIMEDOUT ? "an engine process"
		    " did not answer in time" : strerror(-rc));
		fd = json_object();
		json_object_set_new(fd, "Message", json_string(msg));
		json_object_set_new(f->doc, "FailureDetails", fd);
		pthread_mutex_lock(&prov_proc_mu);
		prov_down(f->id);
		pthread_mutex_unlock(&prov_proc_mu);
		prov_fs_save(f, "FAILED");
	} else if (strcmp(kind, "grow") == 0) {
		fs_desc_action_set_status(f->doc, "FILE_SYSTEM_UPDATE", "FAILED",
		    now_epoch());
		prov_fs_save(f, "AVAILABLE");
	}
}

static int
job_set(long long id, const char *state, int attempts, const char *error)
{
	static const char q[] = "UPDATE jobs SET state = ?2, attempts = ?3,"
	    " error = ?4, updated = ?5 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempts);
	if (error != NULL)
		sqlite3_bind_text(st, 4, error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 5, now_epoch());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

/* Run the oldest open job. 1 = ran one, 0 = none open. */
static int
prov_run_one(void)
{
	static const char q[] = "SELECT id, kind, fs_id, arg, attempts FROM jobs"
	    " WHERE state IN ('pending', 'running') ORDER BY id LIMIT 1";
	sqlite3_stmt *st = db_stmt(q);
	char kind[16], fs_id[32];
	long long id, arg;
	struct prov_fs f;
	int attempts, rc;

	if (st == NULL)
		return 0;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	id = sqlite3_column_int64(st, 0);
	snprintf(kind, sizeof(kind), "%s", col_text(st, 1));
	snprintf(fs_id, sizeof(fs_id), "%s", col_text(st, 2));
	arg = sqlite3_column_int64(st, 3);
	attempts = sqlite3_column_int(st, 4);
	sqlite3_reset(st);
	job_set(id, "running", attempts + 1, NULL);

	if (strcmp(kind, "delete") == 0) {
		rc = job_delete(fs_id);
		job_set(id, rc < 0 ? "failed" : "done", attempts + 1,
		    rc < 0 ? strerror(-rc) : NULL);
		return 1;
	}
	if (prov_fs_load(fs_id, &f) < 0) {
		job_set(id, "done", attempts + 1, "file system gone");
		return 1;
	}
	pthread_mutex_lock(&prov_proc_mu);
	if (strcmp(kind, "create") == 0)
		rc = job_create(&f);
	else if (strcmp(kind, "grow") == 0)
		rc = job_grow(&f, arg);
	else
		rc = -EINVAL;
	pthread_mutex_unlock(&prov_proc_mu);
	if (rc == 0) {
		job_set(id, "done", attempts + 1, NULL);
	} else if (attempts + 1 >= PROV_MAX_ATTEMPTS) {
		log_err("%s: %s job %lld for %s failed: %s", __func__, kind, id,
		    fs_id, strerror(-rc));
		job_fail(&f, kind, rc);
		job_set(id, "failed", attempts + 1, strerror(-rc));
	} else {
		log_warn("%s: %s job %lld for %s: %s; retrying", __func__, kind,
		    id, fs_id, strerror(-rc));
		job_set(id, "pending", attempts + 1, strerror(-rc));
		usleep(200000);
	}
	prov_fs_fini(&f);
	return 1;
}

static void *
prov_runner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&prov_mu);
		while (!prov_kicked && !prov_stopping) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&prov_cv, &prov_mu, &ts);
			break;
		}
		prov_kicked = 0;
		if (prov_stopping) {
			pthread_mutex_unlock(&prov_mu);
			break;
		}
		pthread_mutex_unlock(&prov_mu);
		while (!prov_stopping && prov_run_one() == 1)
			;
	}
	db_thread_fini();
	return NULL;
}

/*
 * The monitor: reap exited children; restart processes of AVAILABLE or
 * UPDATING file systems that died (kill -9 included).
 */
static void
prov_monitor_pass(void)
{
	static const char q[] = "SELECT id FROM file_systems"
	    " WHERE lifecycle IN ('AVAILABLE', 'UPDATING') ORDER BY seq";
	sqlite3_stmt *st;
	char (*ids)[32] = NULL;
	size_t n = 0, cap = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	st = db_stmt(q);
	if (st == NULL)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = realloc(ids, cap * sizeof(*ids));
			if (ids == NULL)
				fatal("out of memory");
		}
		snprintf(ids[n++], sizeof(ids[0]), "%s", col_text(st, 0));
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && !prov_stopping; i++) {
		struct prov_proc pp[PROV_MAX_PROCS];
		struct prov_fs f;
		int m, dead = 0;

		m = prov_procs_load(ids[i], pp, PROV_MAX_PROCS);
		for (int j = 0; j < m; j++)
			if (!prov_proc_alive(&pp[j]))
				dead++;
		if (dead == 0 || prov_fs_load(ids[i], &f) < 0)
			continue;
		if (pthread_mutex_trylock(&prov_proc_mu) == 0) {
			log_warn("%s: %s: %d engine process(es) down; restarting",
			    __func__, ids[i], dead);
			prov_up(&f);
			pthread_mutex_unlock(&prov_proc_mu);
		}
		prov_fs_fini(&f);
	}
	free(ids);
}

static void *
prov_monitor(void *arg)
{
	(void)arg;
	while (!prov_stopping) {
		prov_monitor_pass();
		for (int i = 0; i < 10 && !prov_stopping; i++)
			usleep(50000);
	}
	db_thread_fini();
	return NULL;
}

int
prov_job_add(const char *kind, const char *fs_id, long long arg)
{
	static const char q[] = "INSERT INTO jobs (kind, fs_id, arg, created,"
	    " updated) VALUES (?1, ?2, ?3, ?4, ?4)";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fs_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, arg);
	sqlite3_bind_double(st, 4, now_epoch());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return db_errno(rc);
}

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
	static const char q[] = "SELECT port FROM procs WHERE fs_id = ?1"
	    " AND role = 'mds' AND idx = 0";
	sqlite3_stmt *st = db_stmt(q);
	int rc = -ENOENT;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, fs_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0) {
		*port = sqlite3_column_int(st, 0);
		snprintf(host, hostlen, "%s", PROV_HOST);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

int
prov_start(const struct fsxd_conf *conf)
{
	P = conf;
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
	pthread_mutex_unlock(&prov_mu);
	pthread_join(prov_runner_tid, NULL);
	pthread_join(prov_monitor_tid, NULL);
	prov_started = 0;
}
