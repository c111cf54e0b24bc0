/*
 * oss_stream: streaming throughput of one fsx-oss over loopback.
 *
 *   oss_stream [-b BIN_DIR] [-s MiB] [-r REQ_KiB] [-c CONNS] [-d DIR]
 *
 * Starts $BIN_DIR/fsx-oss (default $FSX_BIN or build/bin) on a temporary
 * OST, writes SIZE MiB in REQ-sized OST_WRITEs spread over CONNS
 * connections (one thread and one object each), then reads it back the
 * same way, and prints MB/s for both phases (1 MB = 10^6 bytes). Reads
 * are served from the page cache, as they would be right after writing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "msg/msg.h"

static int port;
static uint8_t secret[MSG_SECRET_LEN];
static uint64_t total_bytes;
static uint32_t req_bytes;
static int nconn;

struct job {
	int		id;
	int		write;
	int		rc;
};

static void *
job_main(void *arg)
{
	struct job *j = arg;
	uint64_t per = total_bytes / (uint64_t)nconn;
	uint8_t *buf = malloc(req_bytes);
	int fd;

	j->rc = 0;
	if (buf == NULL) {
		j->rc = -ENOMEM;
		return NULL;
	}
	memset(buf, 0x5a ^ j->id, req_bytes);
	fd = msg_connect("127.0.0.1", port, secret, NULL);
	if (fd < 0) {
		j->rc = fd;
		free(buf);
		return NULL;
	}
	for (uint64_t off = 0; off < per; off += req_bytes) {
		struct msg_io io = { .ost = 0, .oid = 100 + (uint64_t)j->id,
		    .offset = off, .length = req_bytes };
		struct iovec iov = { buf, req_bytes };
		struct msg_io_rep rep;
		uint32_t got = 0;
		int rc;

		if (j->write)
			rc = msg_call(fd, MSG_OP_OST_WRITE, 0, &io, sizeof(io),
			    &iov, 1, &rep, sizeof(rep), NULL, NULL, 0, NULL);
		else {
			rc = msg_call(fd, MSG_OP_OST_READ, 0, &io, sizeof(io),
			    NULL, 0, &rep, sizeof(rep), NULL, buf, req_bytes,
			    &got);
			if (rc == 0 && got != req_bytes)
				rc = -EIO;
		}
		if (rc < 0) {
			j->rc = rc;
			break;
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

/* CPU seconds (user + system) used so far by process `pid`. */
static double
proc_cpu(pid_t pid)
{
	char path[64], *txt = NULL, *p;
	unsigned long long ut = 0, st = 0;
	double r = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (file_read_all(path, &txt, NULL, 4096) < 0)
		return 0;
	p = strrchr(txt, ')');
	/* fields after the command: state is 3rd; utime, stime are 14, 15 */
	if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %llu %llu", &ut, &st) == 2)
		r = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	free(txt);
	return r;
}

static double
phase(int write)
{
	pthread_t th[64];
	struct job jobs[64];
	uint64_t t0 = now_mono_ns();

	for (int i = 0; i < nconn; i++) {
		jobs[i].id = i;
		jobs[i].write = write;
		pthread_create(&th[i], NULL, job_main, &jobs[i]);
	}
	for (int i = 0; i < nconn; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].rc < 0) {
			fprintf(stderr, "oss_stream: %s failed: %s\n",
			    write ? "write" : "read", strerror(-jobs[i].rc));
			return -1;
		}
	}
	return (double)total_bytes / ((now_mono_ns() - t0) / 1e9) / 1e6;
}

int
main(int argc, char **argv)
{
	const char *bin = getenv("FSX_BIN"), *base = "/tmp";
	char dir[256], hexs[2 * MSG_SECRET_LEN + 1], *pf, *sf, *ost, *exe;
	char *txt;
	uint64_t mib = 1024;
	uint32_t kib = 1024;
	double w, r, c0, c1, c2;
	pid_t pid;
	int ch, st;

	nconn = 1;
	if (bin == NULL)
		bin = "build/bin";
	for (;;) {
		ch = getopt(argc, argv, "b:s:r:c:d:");
		if (ch == -1)
			break;
		switch (ch) {
		case 'b':
			bin = optarg;
			break;
		case 's':
			mib = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			kib = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			nconn = atoi(optarg);
			break;
		case 'd':
			base = optarg;
			break;
		default:
			fprintf(stderr, "usage: oss_stream [-b BIN] [-s MiB] "
			    "[-r REQ_KiB] [-c CONNS] [-d DIR]\n");
			return 2;
		}
	}
	if (nconn < 1 || nconn > 64 || kib < 4 || kib * 1024 > MSG_BULK_MAX ||
	    mib < 1) {
		fprintf(stderr, "oss_stream: bad arguments\n");
		return 2;
	}
	req_bytes = kib * 1024;
	total_bytes = mib << 20;
	total_bytes -= total_bytes % ((uint64_t)req_bytes * nconn);
	if (total_bytes == 0) {
		fprintf(stderr, "oss_stream: size too small\n");
		return 2;
	}

	snprintf(dir, sizeof(dir), "%s/oss_stream.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rand_bytes(secret, sizeof(secret));
	hex_encode(secret, sizeof(secret), hexs);
	pf = xasprintf("%s/port", dir);
	sf = xasprintf("%s/secret", dir);
	ost = xasprintf("0:%s/ost0:%llu", dir, 1ull << 40);
	exe = xasprintf("%s/fsx-oss", bin);
	file_write_atomic(sf, hexs, strlen(hexs));
	pid = fork();
	if (pid == 0) {
		execl(exe, "fsx-oss", "--listen", "127.0.0.1:0", "--port-file",
		    pf, "--secret-file", sf, "--ost", ost, "--log-level",
		    "warn", (char *)NULL);
		perror(exe);
		_exit(127);
	}
	for (int i = 0; i < 2500 && port == 0; i++) {
		if (file_read_all(pf, &txt, NULL, 64) == 0) {
			port = atoi(txt);
			free(txt);
		} else
			usleep(2000);
	}
	if (port == 0) {
		fprintf(stderr, "oss_stream: fsx-oss did not start\n");
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
		rm_rf(dir);
		return 1;
	}
	c0 = proc_cpu(pid);
	w = phase(1);
	c1 = proc_cpu(pid);
	r = w < 0 ? -1 : phase(0);
	c2 = proc_cpu(pid);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	rm_rf(dir);
	if (w < 0 || r < 0)
		return 1;
	printf("oss_stream: %llu MiB, %u KiB requests, %d conn(s): "
	    "write %.0f MB/s, read %.0f MB/s; fsx-oss CPU per GB: "
	    "write %.2f s, read %.2f s\n",
	    (unsigned long long)(total_bytes >> 20), kib, nconn, w, r,
	    (c1 - c0) / (total_bytes / 1e9), (c2 - c1) / (total_bytes / 1e9));
	free(pf);
	free(sf);
	free(ost);
	free(exe);
	return 0;
}
