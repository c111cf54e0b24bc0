/*
 * A main() for the fuzz targets without libFuzzer: runs
 * LLVMFuzzerInitialize (when the target has one) and then
 * LLVMFuzzerTestOneInput once on every file named, or in a directory named
 * (not recursive), in name order. Built with gcc and ASan/UBSan so that
 * `make check` replays the committed corpora without clang. Exit status 0
 * when every input ran; a sanitizer report aborts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int __attribute__((weak))
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	rewind(f);
	d = malloc((size_t)n + 1);	/* +1: never malloc(0) */
	if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(d);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(d, (size_t)n);
	free(d);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	int ran = 0, bad = 0;

	/* absolute paths: a target may change its working directory */
	for (int i = 1; i < argc; i++) {
		char *abs = realpath(argv[i], NULL);

		if (abs != NULL)
			argv[i] = abs;	/* kept until exit */
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct dirent **ents;
		struct stat st;
		int n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no %s\n", argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) < 0;
			ran++;
			continue;
		}
		n = scandir(argv[i], &ents, NULL, by_name);
		for (int j = 0; j < n; j++) {
			char path[4096];

			if (ents[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    ents[j]->d_name);
				bad += run_file(path) < 0;
				ran++;
			}
			free(ents[j]);
		}
		free(ents);
	}
	/* fd 2 itself: a target may have pointed stdio elsewhere */
	dprintf(2, "replay: %d inputs, %d unreadable\n", ran, bad);
	return bad ? 1 : 0;
}
