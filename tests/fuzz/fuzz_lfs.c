/*
 * Fuzz target: lfs's command line (src/cmd/lfs.c, its main() built as
 * lfs_main). The input is the arguments after "lfs", separated by NUL
 * bytes (at most 32). Every path stays inside the target's temporary
 * directory, which is the working directory: '/' in an argument becomes
 * '_' and ".." becomes "__", so lfs find, getstripe and setstripe act on
 * the few files there (never on real mounts); options and their values
 * are as given. lfs's output goes to /dev/null (stdio only: sanitizer
 * reports still reach fd 2).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "lfs_main.h"

#define ARGS_MAX	32

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("lfs");
	FILE *f;

	(void)argc;
	(void)argv;
	if (chdir(dir) != 0 || mkdir("d", 0755) != 0)
		abort();
	f = fopen("f", "w");
	if (f == NULL)
		abort();
	fputs("data\n", f);
	fclose(f);
	if (symlink("f", "l") != 0)
		abort();
	stdout = fopen("/dev/null", "w");
	stderr = fopen("/dev/null", "w");
	if (stdout == NULL || stderr == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[ARGS_MAX + 2];
	char *buf;
	size_t p = 0;
	int argc = 0;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '/')
			buf[i] = '_';
		if (buf[i] == '.' && i + 1 < size && buf[i + 1] == '.')
			buf[i] = buf[i + 1] = '_';
	}
	argv[argc++] = "lfs";
	while (p <= size && argc < ARGS_MAX + 1) {
		argv[argc++] = buf + p;
		p += strlen(buf + p) + 1;
	}
	argv[argc] = NULL;
	/* One lfs per process resets getopt by setting optind = 1; here the
	 * previous input's scan must be forgotten too (glibc keeps a pointer
	 * into the old argv until optind = 0 reinitializes it). */
	{
		char *none[] = { "lfs", NULL };

		optind = 0;
		(void)getopt(1, none, "");
	}
	(void)lfs_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	free(buf);
	return 0;
}
