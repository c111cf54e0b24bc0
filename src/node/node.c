/*
 * Storage node operations (see node.h).
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
#include "node/node.h"

#define NODE_GRACE_MS	2000

pid_t
node_holder(const char *dir)
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

int
node_end(const char *dir, int hard)
{
	pid_t pid = node_holder(dir);

	for (int round = hard ? 1 : 0; pid > 0 && round < 2; round++) {
		kill(pid, round == 0 ? SIGTERM : SIGKILL);
		for (int ms = 0; ms < NODE_GRACE_MS; ms += 10) {
			waitpid(pid, NULL, WNOHANG);
			if (store_lock_holder(dir) == 0)
				return 0;
			usleep(10000);
		}
		pid = node_holder(dir);
	}
	if (pid > 0) {
		log_err("%s: %s: pid %d still holds it", __func__, dir, (int)pid);
		return -EBUSY;
	}
	return 0;
}

int
node_spawn(char *const argv[], const char *logfile, pid_t *pid)
{
	pid_t child = fork();
	int fd;

	if (child < 0)
		return -errno;
	if (child == 0) {
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
		execv(argv[0], argv);
		_exit(127);
	}
	*pid = child;
	return 0;
}

void
node_purge(const char *fsdir, const char *rundir)
{
	struct dirent *de;
	DIR *d = opendir(fsdir);

	/* The MDS first (it talks to the OSSes), then every other store. */
	for (int pass = 0; d != NULL && pass < 2; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			char *dir;

			if (de->d_name[0] == '.' ||
			    (strcmp(de->d_name, "mds") == 0) != (pass == 0))
				continue;
			dir = xasprintf("%s/%s", fsdir, de->d_name);
			(void)node_end(dir, 0);
			free(dir);
		}
	}
	if (d != NULL)
		closedir(d);
	rm_rf(fsdir);
	rm_rf(rundir);
}

int
node_fs_dirs(const char *root, char (*ids)[NODE_ID_MAX], int max)
{
	struct dirent *de;
	DIR *d = opendir(root);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (strncmp(de->d_name, "fs-", 3) != 0 ||
		    strlen(de->d_name) >= NODE_ID_MAX)
			continue;
		snprintf(ids[n++], NODE_ID_MAX, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

long long
node_starttime(pid_t pid)
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
