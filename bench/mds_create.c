/*
 * mds_create: metadata operations per second at fsx-mds over loopback.
 *
 *   build/bench/mds_create [-n FILES_PER_THREAD] [-t THREADS] [-c] [-a] [-o]
 *
 * Starts $FSX_BIN/fsx-mds (default build/bin) on a temporary directory with
 * a one-OST map (no OSS is needed: creates never reach the OSTs; with -o a
 * real $FSX_BIN/fsx-oss serves the OST, so unlinks lead to real object
 * destruction by the MDS's destroy thread, as in a real run, and the
 * time and CPU (MDS + OSS) until the destroy queue is empty are reported
 * after the unlink phase), makes one
 * directory per thread, then each thread, on its own connection, creates
 * files with MSG_OP_MDS_CREATE (EXCL), and with -c closes each one too.
 * With -a two more phases follow: stat (LOOKUP then GETATTR of each name,
 * as the kernel does on a cold cache) and unlink (UNLINK of each name).
 * The phases are timed separately (all threads start a phase together);
 * prints operations/s per phase, and the CPU time fsx-mds spent per
 * operation (from /proc/PID/stat: steadier than rates on a loaded
 * machine).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "mds/mds_ns.h"
#include "msg/msg.h"

#define PHASES	3

static pthread_barrier_t phase_bar;
static struct timespec phase_ts[PHASES + 1];
static uint64_t phase_cpu[PHASES + 1];
static pid_t mds_pid, oss_pid = -1;
static uint64_t oss_cpu[PHASES + 1];

/* CPU time (ns) of a process, its exited threads included (/proc/PID/stat
 * utime + stime, in clock ticks). */
static uint64_t
proc_cpu_ns(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command may hold spaces */
	if (p == NULL || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u "
	    "%*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

struct worker {
	pthread_t	thr;
	int		port;
	int		id;
	int		n;
	int		do_close;
	int		all;
	int		rc;
	uint8_t		*secret;
};

/* All threads meet; one of them records the time phase `p` starts. */
static void
phase_sync(int p)
{
	if (pthread_barrier_wait(&phase_bar) ==
	    PTHREAD_BARRIER_SERIAL_THREAD) {
		clock_gettime(CLOCK_MONOTONIC, &phase_ts[p]);
		phase_cpu[p] = proc_cpu_ns(mds_pid);
		if (oss_pid > 0)
			oss_cpu[p] = proc_cpu_ns(oss_pid);
	}
	pthread_barrier_wait(&phase_bar);
}

static int
name_call(int fd, uint16_t op, uint64_t parent, const char *name,
    struct msg_attr *a)
{
	struct msg_name nm;
	char body[sizeof(nm) + MSG_NAME_MAX];
	uint32_t rlen, blen;

	memset(&nm, 0, sizeof(nm));
	nm.parent = parent;
	nm.namelen = (uint32_t)strlen(name);
	memcpy(body, &nm, sizeof(nm));
	memcpy(body + sizeof(nm), name, nm.namelen);
	return msg_call(fd, op, 0, body, (uint32_t)(sizeof(nm) + nm.namelen),
	    NULL, 0, a, a ? sizeof(*a) : 0, &rlen, NULL, 0, &blen);
}

static int
stat_one(int fd, uint64_t parent, const char *name)
{
	struct msg_attr a, b;
	struct msg_ino mi;
	uint32_t rlen, blen;
	int rc;

	rc = name_call(fd, MSG_OP_MDS_LOOKUP, parent, name, &a);
	if (rc < 0)
		return rc;
	memset(&mi, 0, sizeof(mi));
	mi.ino = a.ino;
	return msg_call(fd, MSG_OP_MDS_GETATTR, 0, &mi, sizeof(mi), NULL, 0,
	    &b, sizeof(b), &rlen, NULL, 0, &blen);
}

static int
create_one(int fd, uint64_t parent, const char *name, int do_close)
{
	struct msg_create cr;
	struct msg_open_rep rep;
	char body[sizeof(cr) + MSG_NAME_MAX];
	char lay[MDS_LAYOUT_MAX];
	uint32_t rlen, blen;
	int rc;

	memset(&cr, 0, sizeof(cr));
	cr.parent = parent;
	cr.mode = 0644;
	cr.flags = MSG_CR_EXCL;
	cr.namelen = (uint32_t)strlen(name);
	memcpy(body, &cr, sizeof(cr));
	memcpy(body + sizeof(cr), name, cr.namelen);
	rc = msg_call(fd, MSG_OP_MDS_CREATE, 0, body,
	    (uint32_t)(sizeof(cr) + cr.namelen), NULL, 0, &rep, sizeof(rep),
	    &rlen, lay, sizeof(lay), &blen);
	if (rc < 0 || !do_close)
		return rc;
	{
		struct msg_close cl;
		struct msg_attr a;

		memset(&cl, 0, sizeof(cl));
		cl.ino = rep.attr.ino;
		cl.handle = rep.handle;
		rc = msg_call(fd, MSG_OP_MDS_CLOSE, 0, &cl, sizeof(cl), NULL, 0,
		    &a, sizeof(a), &rlen, NULL, 0, &blen);
	}
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct msg_create cr;
	struct msg_attr a;
	char name[64], body[sizeof(cr) + 64];
	uint32_t rlen, blen, kind;
	int fd;

	fd = msg_connect("127.0.0.1", w->port, w->secret, &kind);
	if (fd < 0) {
		w->rc = fd;
		return NULL;
	}
	/* per-thread directory */
	snprintf(name, sizeof(name), "t%d", w->id);
	memset(&cr, 0, sizeof(cr));
	cr.parent = 1;
	cr.mode = S_IFDIR | 0755;
	cr.namelen = (uint32_t)strlen(name);
	memcpy(body, &cr, sizeof(cr));
	memcpy(body + sizeof(cr), name, cr.namelen);
	w->rc = msg_call(fd, MSG_OP_MDS_MKNOD, 0, body,
	    (uint32_t)(sizeof(cr) + cr.namelen), NULL, 0, &a, sizeof(a), &rlen,
	    NULL, 0, &blen);
	phase_sync(0);
	for (int i = 0; i < w->n && w->rc == 0; i++) {
		snprintf(name, sizeof(name), "file-%08d", i);
		w->rc = create_one(fd, a.ino, name, w->do_close);
	}
	phase_sync(1);
	for (int i = 0; w->all && i < w->n && w->rc == 0; i++) {
		snprintf(name, sizeof(name), "file-%08d", i);
		w->rc = stat_one(fd, a.ino, name);
	}
	phase_sync(2);
	for (int i = 0; w->all && i < w->n && w->rc == 0; i++) {
		snprintf(name, sizeof(name), "file-%08d", i);
		w->rc = name_call(fd, MSG_OP_MDS_UNLINK, a.ino, name, NULL);
	}
	phase_sync(3);
	close(fd);
	return NULL;
}

static int wait_port(const char *path);

/* mds_destroy_pending from the MDS's STATS, or -1. */
static long long
destroy_pending(int port, const uint8_t *secret)
{
	static char buf[65536];
	const char *p;
	uint32_t kind, rlen, blen = 0;
	long long v = -1;
	int fd;

	fd = msg_connect("127.0.0.1", port, secret, &kind);
	if (fd < 0)
		return -1;
	if (msg_call(fd, MSG_OP_STATS, 0, NULL, 0, NULL, 0, NULL, 0, &rlen,
	    buf, sizeof(buf) - 1, &blen) == 0) {
		buf[blen] = '\0';
		p = strstr(buf, "mds_destroy_pending ");
		if (p != NULL)
			v = atoll(p + strlen("mds_destroy_pending "));
	}
	close(fd);
	return v;
}

static pid_t
start_oss(const char *bin, const char *tmpl, const char *secf, int *port)
{
	char *oss = xasprintf("%s/fsx-oss", bin);
	char *portf = xasprintf("%s/oss.port", tmpl);
	char *ost = xasprintf("0:%s/ost0:1099511627776", tmpl);
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		execl(oss, oss, "--listen", "127.0.0.1:0", "--port-file", portf,
		    "--secret-file", secf, "--ost", ost, "--log-level", "warn",
		    (char *)NULL);
		_exit(127);
	}
	*port = wait_port(portf);
	free(oss);
	free(portf);
	free(ost);
	return pid;
}

static int
wait_port(const char *path)
{
	for (int i = 0; i < 500; i++) {
		char *txt = NULL;
		size_t len;

		if (file_read_all(path, &txt, &len, 64) == 0) {
			int port = atoi(txt);

			free(txt);
			if (port > 0)
				return port;
		}
		usleep(10000);
	}
	return -1;
}

static const uint8_t *bench_secret;

/* Tell the MDS its one OST (1 TiB), as fsxd does with OSTADD. */
static int
ostadd_one(int port, int oport)
{
	struct msg_ost_ent e;
	struct iovec iov = { &e, sizeof(e) };
	int fd = -1, rc;

	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = msg_connect("127.0.0.1", port, bench_secret, NULL);
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0)
		return fd;
	memset(&e, 0, sizeof(e));
	e.port = (uint16_t)oport;
	snprintf(e.host, sizeof(e.host), "127.0.0.1");
	e.capacity = 1099511627776ull;
	rc = msg_call(fd, MSG_OP_MDS_OSTADD, 0, NULL, 0, &iov, 1, NULL, 0,
	    NULL, NULL, 0, NULL);
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *bin = getenv("FSX_BIN");
	char tmpl[] = "/tmp/mds_create.XXXXXX", hexs[2 * MSG_SECRET_LEN + 2];
	char *mds, *secf, *portf, *dir;
	uint8_t secret[MSG_SECRET_LEN];	/* also bench_secret */
	static const char *const phase_name[PHASES] = { "create", "stat",
	    "unlink" };
	struct worker *w;
	int n = 20000, nthr = 1, do_close = 0, all = 0, oss = 0, oport = 1;
	int port, opt, rc = 0;
	double secs;
	pid_t pid, opid = -1;

	while ((opt = getopt(argc, argv, "n:t:cao")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 't':
			nthr = atoi(optarg);
			break;
		case 'c':
			do_close = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'o':
			oss = 1;
			break;
		default:
			fprintf(stderr, "usage: mds_create [-n N] [-t T] "
			    "[-c] [-a] [-o]\n");
			return 2;
		}
	}
	if (n <= 0 || nthr <= 0 || nthr > 64)
		return 2;
	if (mkdtemp(tmpl) == NULL)
		return 1;
	mds = xasprintf("%s/fsx-mds", bin ? bin : "build/bin");
	secf = xasprintf("%s/secret", tmpl);
	portf = xasprintf("%s/port", tmpl);
	dir = xasprintf("%s/mds", tmpl);
	rand_bytes(secret, sizeof(secret));
	bench_secret = secret;
	hex_encode(secret, sizeof(secret), hexs);
	strcat(hexs, "\n");
	file_write_atomic(secf, hexs, strlen(hexs));
	if (oss) {
		opid = start_oss(bin ? bin : "build/bin", tmpl, secf, &oport);
		oss_pid = opid;
		if (oport < 0) {
			fprintf(stderr, "mds_create: fsx-oss did not start\n");
			rc = 1;
			goto out;
		}
	}
	pid = fork();
	if (pid == 0) {
		execl(mds, mds, "--dir", dir, "--listen", "127.0.0.1:0",
		    "--port-file", portf, "--secret-file", secf,
		    "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	mds_pid = pid;
	port = wait_port(portf);
	if (port < 0 || ostadd_one(port, oport) < 0) {
		fprintf(stderr, "mds_create: %s did not start\n", mds);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rc = 1;
		goto out;
	}
	w = xcalloc((size_t)nthr, sizeof(*w));
	pthread_barrier_init(&phase_bar, NULL, (unsigned)nthr);
	for (int i = 0; i < nthr; i++) {
		w[i].port = port;
		w[i].id = i;
		w[i].n = n;
		w[i].do_close = do_close;
		w[i].all = all;
		w[i].secret = secret;
		pthread_create(&w[i].thr, NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < nthr; i++) {
		pthread_join(w[i].thr, NULL);
		if (w[i].rc < 0) {
			fprintf(stderr, "mds_create: thread %d: %s\n", i,
			    strerror(-w[i].rc));
			rc = 1;
		}
	}
	pthread_barrier_destroy(&phase_bar);
	for (int p = 0; p < (all ? PHASES : 1) && rc == 0; p++) {
		secs = (double)(phase_ts[p + 1].tv_sec - phase_ts[p].tv_sec) +
		    (double)(phase_ts[p + 1].tv_nsec - phase_ts[p].tv_nsec) /
		    1e9;
		printf("mds_create: %d threads x %d %s: %.0f %ss/s "
		    "(%.2f s, mds cpu %.1f us/op)\n", nthr, n, p == 0 &&
		    do_close ? "create+close" : phase_name[p],
		    (double)nthr * n / secs, phase_name[p], secs,
		    (double)(phase_cpu[p + 1] - phase_cpu[p]) / 1e3 /
		    ((double)nthr * n));
	}
	if (all && oss && rc == 0) {
		struct timespec t0, t1;
		uint64_t c0, c1;
		long long left;

		/* the unlink phase's objects: drain the destroy queue */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		c0 = proc_cpu_ns(mds_pid) + proc_cpu_ns(oss_pid);
		while ((left = destroy_pending(port, secret)) > 0)
			usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		c1 = proc_cpu_ns(mds_pid) + proc_cpu_ns(oss_pid);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("mds_create: destroy queue %s after %.2f s more "
		    "(MDS+OSS cpu over unlink+drain %.1f us/unlink)\n",
		    left == 0 ? "empty" : "unknown", secs,
		    (double)(c1 - c0 + phase_cpu[3] - phase_cpu[2] +
		    oss_cpu[3] - oss_cpu[2]) / 1e3 / ((double)nthr * n));
	}
	free(w);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
out:
	if (opid > 0) {
		kill(opid, SIGTERM);
		waitpid(opid, NULL, 0);
	}
	rm_rf(tmpl);
	free(mds);
	free(secf);
	free(portf);
	free(dir);
	return rc;
}
