/*
 * Engine process start-up (see engine.h).
 */
#include <errno.h>
#include <string.h>
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
