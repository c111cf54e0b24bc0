/*
 * fsx-mount's counters (see fm.h): FUSE requests by kind, and with
 * fsc_rt_stats the round trips to the MDS and OSSes by opcode, so the
 * wire cost of a workload is counted rather than guessed (the VM has no
 * PMU for perf). `-o stats=PATH` names a file the mount rewrites at
 * every SIGUSR1 and at unmount: "name value\n" lines, nonzero only.
 *
 * Contract: counting is one relaxed atomic add; the file is written by
 * one thread (sigwait), to PATH.tmp then renamed, so a reader never sees
 * half of it. The text is bounded by FM_STATS_MAX.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc_mcache.h"

#define FM_STATS_MAX	(16 * 1024)

static atomic_uint_fast64_t fm_cnt[FM_OP_COUNT];

static const char *const fm_op_names[FM_OP_COUNT] = {
#define FM_X(n) [FM_OP_##n] = #n,
	FM_FUSE_OPS(FM_X)
#undef FM_X
};

static char		*fm_stats_path;
static pthread_t	 fm_stats_thr;

void
fm_count(enum fm_fuse_op op)
{
	atomic_fetch_add_explicit(&fm_cnt[op], 1, memory_order_relaxed);
}

static const char *
fm_op_name(int op)
{
	return fm_op_names[op];
}

size_t
fm_stats_text(char *buf, size_t cap)
{
	size_t n = fsc_counters_text(buf, cap, "fuse_", fm_op_name, fm_cnt,
	    FM_OP_COUNT);
	unsigned long fr, fo, ue, ur, uc;
	int k;

	n += fsc_rt_stats(buf + n, cap - n);
	fm_io_forget_stats(&fr, &fo);
	fm_unl_counts(&ue, &ur, &uc);
	k = snprintf(buf + n, cap - n, "mc_items %u\nuring_requests %lu\n"
	    "forget_reads %lu\nforgets %lu\nwb_sent %lu\nunl_early %lu\n"
	    "unl_errors %lu\nunl_recalls %lu\n", fsc_mc_count(),
	    fm_uring_requests(), fr, fo, fm_wb_sent(), ue, ur, uc);
	if (k > 0 && (size_t)k < cap - n)
		n += (size_t)k;
	return n;
}

static void
fm_stats_write(void)
{
	char *buf = xcalloc(1, FM_STATS_MAX);
	size_t n = fm_stats_text(buf, FM_STATS_MAX);

	int rc = file_write_atomic(fm_stats_path, buf, n);

	if (rc < 0)
		log_warn("fsx-mount: stats file %s: %s", fm_stats_path,
		    strerror(-rc));
	free(buf);
}

static void *
fm_stats_main(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);	/* fm_stats_stop's */
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		fm_stats_write();
		if (sig == SIGUSR2)
			return NULL;
	}
}

int
fm_stats_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
fm_stats_start(const char *path)
{
	int rc;

	if (path == NULL || path[0] == '\0')
		return 0;
	fm_stats_path = xstrdup(path);
	rc = pthread_create(&fm_stats_thr, NULL, fm_stats_main, NULL);
	if (rc != 0) {
		free(fm_stats_path);
		fm_stats_path = NULL;
		return -rc;
	}
	return 0;
}

void
fm_stats_stop(void)
{
	if (fm_stats_path == NULL)
		return;
	(void)pthread_kill(fm_stats_thr, SIGUSR2);
	(void)pthread_join(fm_stats_thr, NULL);
	free(fm_stats_path);
	fm_stats_path = NULL;
}
