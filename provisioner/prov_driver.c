/*
 * The two process drivers (prov_int.h).
 *
 * local: the node is this host; the node library (src/node) is called in
 *        process.
 * ssh:   the node is another host; each operation is one `fsx-node VERB
 *        ARGS` run there by OpenSSH: BatchMode (keys only, never a
 *        prompt), a short ConnectTimeout, and one multiplexed connection
 *        per host (ControlMaster/ControlPersist, sockets under
 *        STATE/run/ssh), host keys learnt on first use into
 *        STATE/ssh_known_hosts; keepalives end a connection to a host
 *        that went away within seconds. Every argument is single-quoted
 *        for the remote shell. ssh's exit status 255 (it could not
 *        connect) and no answer within SSH_TIMEOUT_MS are -EHOSTUNREACH;
 *        fsx-node's own failures are -EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "prov_int.h"

#define SSH_OUT_MAX	(256 * 1024)
#define SSH_TIMEOUT_MS	8000

/* --- local --- */

static pid_t
local_holder(const struct conf_node *n, const char *dir)
{
	(void)n;
	return node_holder(dir);
}

static int
local_end(const struct conf_node *n, const char *dir, int hard)
{
	(void)n;
	return node_end(dir, hard);
}

static int
local_spawn(const struct conf_node *n, char *const argv[], const char *logfile,
    pid_t *pid, long long *starttime)
{
	int rc;

	(void)n;
	rc = node_spawn(argv, logfile, pid);
	if (rc == 0)
		*starttime = node_starttime(*pid);
	return rc;
}

static int
local_purge(const struct conf_node *n, const char *fsdir, const char *rundir)
{
	(void)n;
	node_purge(fsdir, rundir);
	return 0;
}

static int
local_fs_dirs(const struct conf_node *n, char (*ids)[NODE_ID_MAX], int max)
{
	char *root = xasprintf("%s/fs", n->dir);
	int rc = node_fs_dirs(root, ids, max);

	free(root);
	return rc;
}

static int
local_read(const struct conf_node *n, const char *path, char **out)
{
	(void)n;
	return file_read_all(path, out, NULL, 64 * 1024);
}

static int
local_write(const struct conf_node *n, const char *path, const void *data,
    size_t len)
{
	(void)n;
	return file_write_atomic(path, data, len);
}

static int
local_mkdirs(const struct conf_node *n, char *const dirs[])
{
	int rc = 0;

	(void)n;
	for (int i = 0; rc == 0 && dirs[i] != NULL; i++)
		rc = mkdir_p(dirs[i], 0700);
	return rc;
}

const struct prov_driver prov_driver_local = {
	local_holder, local_end, local_spawn, local_purge, local_fs_dirs,
	local_read, local_write, local_mkdirs,
};

/* --- ssh --- */

/* Append s to b single-quoted for a POSIX shell. */
static void
sh_quote(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

/*
 * Run `fsx-node ARGS...` on node n with `in` (may be NULL) on its stdin;
 * its stdout into *out (malloc'd) when out is not NULL. 0, -EHOSTUNREACH
 * (ssh could not connect), -EIO (fsx-node failed), -ETIMEDOUT.
 */
static int
ssh_run(const struct conf_node *n, char *const args[], const void *in,
    size_t inlen, char **out)
{
	char *ctl = xasprintf("ControlPath=%s/run/ssh/%%C", prov_conf->state_dir);
	char *known = xasprintf("UserKnownHostsFile=%s/ssh_known_hosts",
	    prov_conf->state_dir);
	char *sshdir = xasprintf("%s/run/ssh", prov_conf->state_dir);
	const char *av[40];
	int ac = 0, pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, status, rc;
	struct buf cmd, res;
	pid_t pid;

	(void)mkdir_p(sshdir, 0700);
	buf_init(&cmd, 256);
	sh_quote(&cmd, n->bin);
	buf_adds(&cmd, "/fsx-node");
	for (int i = 0; args[i] != NULL; i++) {
		buf_add(&cmd, " ", 1);
		sh_quote(&cmd, args[i]);
	}
	buf_init(&res, 256);
	av[ac++] = "ssh";
	av[ac++] = "-o";
	av[ac++] = "BatchMode=yes";
	av[ac++] = "-o";
	av[ac++] = "ConnectTimeout=3";
	av[ac++] = "-o";
	av[ac++] = "ControlMaster=auto";
	av[ac++] = "-o";
	av[ac++] = ctl;
	av[ac++] = "-o";
	av[ac++] = "ControlPersist=60";
	av[ac++] = "-o";
	av[ac++] = "StrictHostKeyChecking=accept-new";
	av[ac++] = "-o";
	av[ac++] = known;
	av[ac++] = "-o";
	av[ac++] = "LogLevel=ERROR";
	av[ac++] = "-o";
	av[ac++] = "ServerAliveInterval=2";
	av[ac++] = "-o";
	av[ac++] = "ServerAliveCountMax=2";
	if (n->key[0] != '\0') {
		av[ac++] = "-i";
		av[ac++] = n->key;
	}
	av[ac++] = "--";
	av[ac++] = n->host;
	av[ac++] = cmd.p;
	av[ac] = NULL;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		execvp("ssh", (char *const *)av);
		_exit(255);
	}
	close(pin[0]);
	close(pout[1]);
	pin[0] = pout[1] = -1;
	if (inlen > 0 && write(pin[1], in, inlen) != (ssize_t)inlen)
		log_warn("%s: %s: short write to ssh", __func__, n->name);
	close(pin[1]);
	pin[1] = -1;
	for (int waited = 0;;) {
		struct pollfd pf = { pout[0], POLLIN, 0 };
		char chunk[4096];
		ssize_t got;

		if (poll(&pf, 1, 200) == 0) {
			waited += 200;
			if (waited >= SSH_TIMEOUT_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				rc = -EHOSTUNREACH;	/* no answer at all */
				goto out;
			}
			continue;
		}
		got = read(pout[0], chunk, sizeof(chunk));
		if (got <= 0)
			break;
		if (res.len + (size_t)got <= SSH_OUT_MAX)
			buf_add(&res, chunk, (size_t)got);
	}
	waitpid(pid, &status, 0);
	rc = !WIFEXITED(status) || WEXITSTATUS(status) == 255 ? -EHOSTUNREACH :
	    WEXITSTATUS(status) != 0 ? -EIO : 0;
	if (rc == 0 && out != NULL)
		*out = buf_take(&res);
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	buf_fini(&res);
	buf_fini(&cmd);
	free(ctl);
	free(known);
	free(sshdir);
	return rc;
}

static pid_t
ssh_holder(const struct conf_node *n, const char *dir)
{
	char *args[] = { "holder", (char *)dir, NULL }, *out = NULL;
	int rc = ssh_run(n, args, NULL, 0, &out);
	long pid;

	if (rc < 0)
		return rc;
	pid = strtol(out, NULL, 10);
	free(out);
	return pid > 0 ? (pid_t)pid : 0;
}

static int
ssh_end(const struct conf_node *n, const char *dir, int hard)
{
	char *args[] = { "end", (char *)dir, hard ? "hard" : NULL, NULL };

	return ssh_run(n, args, NULL, 0, NULL);
}

static int
ssh_spawn(const struct conf_node *n, char *const argv[], const char *logfile,
    pid_t *pid, long long *starttime)
{
	char *args[48], *out = NULL;
	int a = 0, rc;

	args[a++] = "spawn";
	args[a++] = (char *)logfile;
	for (int i = 0; argv[i] != NULL && a < 47; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	rc = ssh_run(n, args, NULL, 0, &out);
	if (rc < 0)
		return rc;
	if (sscanf(out, "%d %lld", pid, starttime) != 2)
		rc = -EIO;
	free(out);
	return rc;
}

static int
ssh_purge(const struct conf_node *n, const char *fsdir, const char *rundir)
{
	char *args[] = { "purge", (char *)fsdir, (char *)rundir, NULL };

	return ssh_run(n, args, NULL, 0, NULL);
}

static int
ssh_fs_dirs(const struct conf_node *n, char (*ids)[NODE_ID_MAX], int max)
{
	char *root = xasprintf("%s/fs", n->dir), *out = NULL, *line, *save;
	char *args[] = { "ls", root, NULL };
	int rc = ssh_run(n, args, NULL, 0, &out), cnt = 0;

	free(root);
	if (rc < 0)
		return rc;
	for (line = strtok_r(out, "\n", &save); line != NULL && cnt < max;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "fs-", 3) == 0 && strlen(line) < NODE_ID_MAX)
			snprintf(ids[cnt++], NODE_ID_MAX, "%s", line);
	free(out);
	return cnt;
}

static int
ssh_read(const struct conf_node *n, const char *path, char **out)
{
	char *args[] = { "read", (char *)path, NULL };

	return ssh_run(n, args, NULL, 0, out);
}

static int
ssh_write(const struct conf_node *n, const char *path, const void *data,
    size_t len)
{
	char *args[] = { "write", (char *)path, NULL };

	return ssh_run(n, args, data, len, NULL);
}

static int
ssh_mkdirs(const struct conf_node *n, char *const dirs[])
{
	char *args[PROV_MAX_OSTS + 8];
	int a = 0;

	args[a++] = "mkdir";
	for (int i = 0; dirs[i] != NULL && a < PROV_MAX_OSTS + 7; i++)
		args[a++] = dirs[i];
	args[a] = NULL;
	return ssh_run(n, args, NULL, 0, NULL);
}

const struct prov_driver prov_driver_ssh = {
	ssh_holder, ssh_end, ssh_spawn, ssh_purge, ssh_fs_dirs, ssh_read,
	ssh_write, ssh_mkdirs,
};
