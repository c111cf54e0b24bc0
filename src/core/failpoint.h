/*
 * Failpoints: named places in the code where a test build can make a call
 * fail, slow down, come up short, or the process die, to reach the paths
 * signals cannot (a failed SQLite commit, pwrite EIO, a short read, a lost
 * reply). Compiled only with -DFSX_FAILPOINTS (`make fp`, into build/fp):
 * in every other build each macro below is its plain expression, so the
 * hooks cost nothing and cannot be armed.
 *
 * Armed by the environment, read once at the first hook reached:
 *
 *	FSX_FAILPOINTS="name[@key]=action[*count][,...]"
 *
 * actions:  error(-E)  the hook fails with -E (FP) or errno E (FP_CALL)
 *           short      FP_SHORT halves the byte count it is given
 *           delay(MS)  sleep MS milliseconds, then go on
 *           kill       the process dies by SIGKILL at this point
 *           off        nothing (a way to disarm one name in a list)
 * count:    how many times the action fires (default: every time); after
 *           that the failpoint is inert.
 * key:      with FP_KEY/FP_CALL_KEY, only hits whose key (an opcode, say)
 *           equals it count; without @key every hit does.
 *
 * Example: FSX_FAILPOINTS="db.commit=error(-5)*1,oss.pwrite=error(-5)"
 * A malformed spec is logged once at error level and arms nothing.
 *
 * A running process: with FSX_FAILPOINTS_FILE=PATH instead, the spec is
 * the content of PATH, read again at the next hook whenever the file's
 * size or mtime changed (counts start afresh); a missing or empty file
 * arms nothing. Tests use it to arm a daemon after its start-up.
 *
 * Hooks in the code are one line each, for example
 *	if ((rc = FP("db.commit")) < 0) goto fail;
 *	r = FP_CALL("oss.pwrite", pwrite(fd, p, n, off));
 *	r = FP_SHORT("oss.pread.short", r);
 * Thread-safe: one mutex guards the armed table and its counts.
 * The names in use are listed in tests/faults/README.md.
 */
#ifndef FSX_FAILPOINT_H
#define FSX_FAILPOINT_H

#include <stdint.h>
#include <sys/types.h>

#ifdef FSX_FAILPOINTS
/* 0, or -errno when an error action fires (delay and kill act inside). */
int	fp_hit(const char *name, long key, int keyed);
/* FP_SHORT: n, or n / 2 when a `short` action fires (n > 1 only). */
ssize_t	fp_short(const char *name, ssize_t n);
/* FP_CALL: 1 with errno set when an error action fires, else 0. */
int	fp_fail(const char *name, long key, int keyed);

#define FP(name)		fp_hit((name), 0, 0)
#define FP_KEY(name, key)	fp_hit((name), (long)(key), 1)
#define FP_CALL(name, call)	(fp_fail((name), 0, 0) ? -1 : (call))
#define FP_SHORT(name, n)	fp_short((name), (n))
#else
#define FP(name)		0
#define FP_KEY(name, key)	((void)(key), 0)
#define FP_CALL(name, call)	(call)
#define FP_SHORT(name, n)	(n)
#endif

#endif
