/*
 * Store locks (see lockfile.h). Open file description locks (F_OFD_SETLK)
 * rather than classic record locks: a record lock is dropped when the owner
 * closes any descriptor of the file, an OFD lock belongs to the descriptor
 * we keep. And unlike flock(), F_OFD_GETLK asks about a lock without taking
 * one, so a probe by fsxd can never make a starting engine fail its own
 * lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/lockfile.h"

static pid_t
lock_read_pid(int fd)
{
	char txt[24];
	ssize_t n = pread(fd, txt, sizeof(txt) - 1, 0);
	char *end;
	long v;

	if (n <= 0)
		return 0;
	txt[n] = '\0';
	errno = 0;
	v = strtol(txt, &end, 10);
	if (errno != 0 || end == txt || v <= 0 || v > 0x3fffffff)
		return 0;
	return (pid_t)v;
}

int
store_lock(const char *dir, pid_t *holder)
{
	char path[4096], txt[24];
	int fd, n, rc;

	if (holder != NULL)
		*holder = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_LOCK_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_OFD_SETLK, &(struct flock){ .l_type = F_WRLCK,
	    .l_whence = SEEK_SET }) < 0) {
		rc = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
		if (holder != NULL)
			*holder = lock_read_pid(fd);
		goto fail;
	}
	n = snprintf(txt, sizeof(txt), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, txt, (size_t)n, 0) != n) {
		rc = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

pid_t
store_lock_holder(const char *dir)
{
	char path[4096];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	pid_t pid;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_LOCK_NAME) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
		pid = -errno;
		close(fd);
		return pid;
	}
	if (fl.l_type == F_UNLCK) {
		close(fd);
		return 0;
	}
	pid = lock_read_pid(fd);
	close(fd);
	return pid == 0 ? -EAGAIN : pid;
}
