/*
 * The unit test runner: one Check suite per tests/unit/check_<x>.c, listed
 * by the Makefile in build/gen/suites.h as SUITE(x). An argument selects
 * suites by name ("run sigv4 msg"). Log lines are labelled "expected"
 * (src/core/log.c): the tests provoke them; a failure is Check's own line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(x) Suite *x##_suite(void);
#include "suites.h"
#undef SUITE

struct suite_ent {
	const char	*name;
	Suite		*(*fn)(void);
};

static const struct suite_ent suites[] = {
#define SUITE(x) { #x, x##_suite },
#include "suites.h"
#undef SUITE
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	SRunner *sr = NULL;
	int failed;

	/* every log line of a unit run comes from a test that provoked it */
	setenv("FSX_LOG_LABEL", "expected", 0);
	for (const struct suite_ent *s = suites; s->name; s++) {
		int want = argc < 2;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], s->name) == 0)
				want = 1;
		if (!want)
			continue;
		if (sr == NULL)
			sr = srunner_create(s->fn());
		else
			srunner_add_suite(sr, s->fn());
	}
	if (sr == NULL)
		return 1;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
