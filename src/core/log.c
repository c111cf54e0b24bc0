/*
 * Logging: level-filtered lines on stderr, "time prog[pid] level: text".
 *
 * FSX_LOG_LABEL in the environment puts a word before the level ("time
 * prog[pid] LABEL level: text"): the unit test runner sets it to
 * "expected", so the errors negative tests provoke on purpose, in the
 * runner and in the engine processes it starts, do not read as failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

enum log_level log_level_cur = LOG_INFO;
static char log_prog[32] = "fsx";

static const char *const log_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *prog, enum log_level lvl)
{
	snprintf(log_prog, sizeof(log_prog), "%s", prog);
	log_level_cur = lvl;
}

int
log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[2048], ts[32];
	const char *label;
	struct timespec now;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	label = getenv("FSX_LOG_LABEL");
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%d] %s%s%s: ", ts,
	    now.tv_nsec / 1000000, log_prog, (int)getpid(),
	    label != NULL ? label : "", label != NULL ? " " : "",
	    log_names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level_cur)
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
