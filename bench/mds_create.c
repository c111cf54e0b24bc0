/*
 * mds_create: creates per second at fsx-mds over loopback.
 *
 *   build/bench/mds_create [-n FILES_PER_THREAD] [-t THREADS] [-c]
 *
 * Starts $FSX_BIN/fsx-mds (default build/bin) on a temporary directory with
 * a one-OST map (no OSS is needed: creates never reach the OSTs), makes one
 * directory per thread, then each thread, on its own connection, creates
 * files with MSG_OP_MDS_CREATE (EXCL), and with -c closes each one too.
 * Prints files/s for the whole run.
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

struct worker {
	pthread_t	thr;
	int		port;
	int		id;
	int		n;
	int		do_close;
	int		rc;
	uint8_t		*secret;
};

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
	for (int i = 0; i < w->n && w->rc == 0; i++) {
		snprintf(name, sizeof(name), "file-%08d", i);
		w->rc = create_one(fd, a.ino, name, w->do_close);
	}
	close(fd);
	return NULL;
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

int
main(int argc, char **argv)
{
	const char *bin = getenv("FSX_BIN");
	char tmpl[] = "/tmp/mds_create.XXXXXX", hexs[2 * MSG_SECRET_LEN + 2];
	char *mds, *secf, *mapf, *portf, *dir;
	uint8_t secret[MSG_SECRET_LEN];
	struct worker *w;
	struct timespec t0, t1;
	int n = 20000, nthr = 1, do_close = 0, port, opt, rc = 0;
	double secs;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:t:c")) != -1) {
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
		default:
			fprintf(stderr, "usage: mds_create [-n N] [-t T] "
			    "[-c]\n");
			return 2;
		}
	}
	if (n <= 0 || nthr <= 0 || nthr > 64)
		return 2;
	if (mkdtemp(tmpl) == NULL)
		return 1;
	mds = xasprintf("%s/fsx-mds", bin ? bin : "build/bin");
	secf = xasprintf("%s/secret", tmpl);
	mapf = xasprintf("%s/ostmap", tmpl);
	portf = xasprintf("%s/port", tmpl);
	dir = xasprintf("%s/mds", tmpl);
	rand_bytes(secret, sizeof(secret));
	hex_encode(secret, sizeof(secret), hexs);
	strcat(hexs, "\n");
	file_write_atomic(secf, hexs, strlen(hexs));
	file_write_atomic(mapf, "0 127.0.0.1 1 1099511627776\n", 28);
	pid = fork();
	if (pid == 0) {
		execl(mds, mds, "--dir", dir, "--listen", "127.0.0.1:0",
		    "--port-file", portf, "--secret-file", secf, "--ost-map",
		    mapf, "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	port = wait_port(portf);
	if (port < 0) {
		fprintf(stderr, "mds_create: %s did not start\n", mds);
		rc = 1;
		goto out;
	}
	w = xcalloc((size_t)nthr, sizeof(*w));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nthr; i++) {
		w[i].port = port;
		w[i].id = i;
		w[i].n = n;
		w[i].do_close = do_close;
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
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("mds_create: %d threads x %d %s: %.0f creates/s "
	    "(%.2f s)\n", nthr, n, do_close ? "create+close" : "create",
	    (double)nthr * n / secs, secs);
	free(w);
out:
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	rm_rf(tmpl);
	free(mds);
	free(secf);
	free(mapf);
	free(portf);
	free(dir);
	return rc;
}
