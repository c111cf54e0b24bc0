/*
 * --version for every binary (see version.h). The string comes from the
 * build (build/gen/fsx_version_gen.h), so only this file is rebuilt when it moves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "fsx_version_gen.h"

const char *
fsx_version(void)
{
	return FSX_VERSION;
}

void
fsx_version_flag(int argc, char **argv, const char *prog)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", prog, FSX_VERSION);
			exit(0);
		}
	}
}
