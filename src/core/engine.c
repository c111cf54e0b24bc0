/*
 * Engine process start-up (see engine.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "core/engine.h"
#include "core/lockfile.h"
#include "core/log.h"
#include "core/util.h"

int
engine_store_lock(const char *dir)
{
	pid_t holder = 0;
	int fd, rc;

	rc = mkdir_p(dir, 0700);
	if (rc < 0)
		fatal("store %s: %s", dir, strerror(-rc));
	fd = store_lock(dir, &holder);
	if (fd == -EBUSY)
		fatal("store %s is in use by pid %d", dir, (int)holder);
	if (fd < 0)
		fatal("store %s: lock: %s", dir, strerror(-fd));
	return fd;
}

long
engine_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("%s: RLIMIT_NOFILE stays %llu: %s", __func__,
			    (unsigned long long)old, strerror(errno));
			return (long)old;
		}
	}
	return (long)rl.rlim_cur;
}

static void
sig_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

void
engine_signals_block(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sig_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

struct sig_stop {
	void	(*stop)(void *);
	void	 *arg;
};

static void *
sig_main(void *arg)
{
	struct sig_stop *ss = arg;
	sigset_t set;
	int sig;

	sig_set(&set);
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: stopping", sig);
	ss->stop(ss->arg);
	free(ss);
	return NULL;
}

void
engine_signals_serve(void (*stop)(void *), void *arg)
{
	struct sig_stop *ss = xcalloc(1, sizeof(*ss));
	pthread_t t;
	int rc;

	ss->stop = stop;
	ss->arg = arg;
	rc = pthread_create(&t, NULL, sig_main, ss);
	if (rc != 0)
		fatal("signal thread: %s", strerror(rc));
	pthread_detach(t);
}

void
engine_pid_file(const char *path)
{
	char txt[32];
	int n, rc;

	if (path == NULL)
		return;
	n = snprintf(txt, sizeof(txt), "%d\n", (int)getpid());
	rc = file_write_atomic(path, txt, (size_t)n);
	if (rc < 0)
		fatal("pid file %s: %s", path, strerror(-rc));
}
