/*
 * fsx-node: a storage node's side of fsxd's ssh driver. fsxd runs it over
 * SSH (BatchMode, one multiplexed connection per host), one verb per
 * invocation; it keeps no state of its own and runs the same code the
 * local driver calls in-process (src/node/node.h).
 *
 *   fsx-node holder DIR            print the pid holding DIR's lock (0: none)
 *   fsx-node end DIR [hard]        end DIR's holder
 *   fsx-node spawn LOG ARGV...     start ARGV in a new session; print its pid
 *   fsx-node purge FSDIR RUNDIR    end every store holder, remove both dirs
 *   fsx-node ls ROOT               print the fs-* directories under ROOT
 *   fsx-node read FILE             print a small file (at most 64 KiB)
 *   fsx-node write FILE            stdin (at most 64 KiB) to FILE, 0600, atomically
 *   fsx-node mkdir DIR...          create each DIR (and parents) 0700
 *   fsx-node --version
 *
 * Exit 0 on success; 1 with a message on stderr otherwise; 2 on bad usage.
 * Every argument is a path or a number: nothing is passed to a shell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/version.h"
#include "node/node.h"

#define NODE_FILE_MAX	(64 * 1024)

static int
usage(void)
{
	fprintf(stderr, "usage: fsx-node holder DIR | end DIR [hard] |"
	    " spawn LOG ARGV... | purge FSDIR RUNDIR | ls ROOT | read FILE |"
	    " write FILE | mkdir DIR...\n");
	return 2;
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "fsx-node: %s: %s\n", what, strerror(-rc));
	return 1;
}

int
main(int argc, char **argv)
{
	const char *verb;
	int rc;

	fsx_version_flag(argc, argv, "fsx-node");
	log_init("fsx-node", LOG_WARN);
	if (argc < 3)
		return usage();
	verb = argv[1];
	if (strcmp(verb, "holder") == 0 && argc == 3) {
		printf("%d\n", (int)node_holder(argv[2]));
		return 0;
	}
	if (strcmp(verb, "end") == 0 && (argc == 3 || argc == 4)) {
		rc = node_end(argv[2], argc == 4 && strcmp(argv[3], "hard") == 0);
		return rc < 0 ? fail(argv[2], rc) : 0;
	}
	if (strcmp(verb, "spawn") == 0 && argc >= 4) {
		pid_t pid;

		rc = node_spawn(argv + 3, argv[2], &pid);
		if (rc < 0)
			return fail(argv[3], rc);
		printf("%d %lld\n", (int)pid, node_starttime(pid));
		return 0;
	}
	if (strcmp(verb, "purge") == 0 && argc == 4) {
		node_purge(argv[2], argv[3]);
		return 0;
	}
	if (strcmp(verb, "ls") == 0 && argc == 3) {
		char (*ids)[NODE_ID_MAX] = xcalloc(4096, NODE_ID_MAX);
		int n = node_fs_dirs(argv[2], ids, 4096);

		for (int i = 0; i < n; i++)
			printf("%s\n", ids[i]);
		free(ids);
		return 0;
	}
	if (strcmp(verb, "read") == 0 && argc == 3) {
		char *text = NULL;
		size_t len = 0;

		rc = file_read_all(argv[2], &text, &len, NODE_FILE_MAX);
		if (rc < 0)
			return fail(argv[2], rc);
		fwrite(text, 1, len, stdout);
		free(text);
		return 0;
	}
	if (strcmp(verb, "write") == 0 && argc == 3) {
		char *buf = xmalloc(NODE_FILE_MAX + 1);
		size_t len = fread(buf, 1, NODE_FILE_MAX + 1, stdin);

		if (len > NODE_FILE_MAX) {
			free(buf);
			return fail(argv[2], -EFBIG);
		}
		rc = file_write_atomic(argv[2], buf, len);
		explicit_bzero(buf, len);
		free(buf);
		return rc < 0 ? fail(argv[2], rc) : 0;
	}
	if (strcmp(verb, "mkdir") == 0) {
		for (int i = 2; i < argc; i++) {
			rc = mkdir_p(argv[i], 0700);
			if (rc < 0)
				return fail(argv[i], rc);
		}
		return 0;
	}
	return usage();
}
