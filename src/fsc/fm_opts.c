/*
 * fsx-mount's -o options and usage (see fm.h): which options are ours
 * (taken into fm), which only mount(8) knows (dropped), and the rest,
 * passed to FUSE in fm.fuse_opts. Moved out of src/cmd/fsx-mount.c, which
 * keeps the handlers and main.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fm.h"

struct fm_conf	 fm;


static int
fm_opt_drop(const char *o)
{
	static const char *const drop[] = { "defaults", "flock", "localflock",
	    "noflock", "user_xattr", "nouser_xattr", "_netdev", "lazystatfs",
	    "nolazystatfs", "auto", "noauto", "user", "nouser", "users",
	    "nofail", "owner", "group", "acl", "noacl", "checksum",
	    "nochecksum", "rw", "relatime", "norelatime", "strictatime",
	    "nostrictatime", "lazytime", "nolazytime", "iversion",
	    "noiversion", NULL };

	for (int i = 0; drop[i] != NULL; i++)
		if (strcmp(o, drop[i]) == 0)
			return 1;
	return strncmp(o, "x-", 2) == 0 || strncmp(o, "comment=", 8) == 0;
}

void
fm_opt_add(const char *o)
{
	size_t len = strlen(fm.fuse_opts);

	if (len + strlen(o) + 2 >= sizeof(fm.fuse_opts))
		fatal("fsx-mount: too many options");
	snprintf(fm.fuse_opts + len, sizeof(fm.fuse_opts) - len, "%s%s",
	    len ? "," : "", o);
}

int
fm_opt_has(const char *o)
{
	char *dup = xstrdup(fm.fuse_opts), *save = NULL, *t;
	int found = 0;

	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (strcmp(t, o) == 0)
			found = 1;
	free(dup);
	return found;
}

/* A decimal number, or 0 (never valid where used) if it is not one. */
static unsigned
fm_opt_uint(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' ||
	    v > UINT_MAX)
		return 0;
	return (unsigned)v;
}

/* Split one -o string: ours are taken, mount(8)-only ones dropped, the
 * rest passed to FUSE. */
void
fm_opts(const char *s)
{
	char *dup = xstrdup(s), *save = NULL, *t;

	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "writeback") == 0 ||
		    strcmp(t, "writeback_cache") == 0)
			fm.writeback = 1;
		else if (strcmp(t, "sync_write") == 0)
			fm.sync_write = 1;
		else if (strcmp(t, "noleases") == 0)
			fm.noleases = 1;
		else if (strcmp(t, "nolocalread") == 0)
			fm.nolocal = 1;
		else if (strcmp(t, "nouring") == 0)
			fm.nouring = 1;
		else if (strcmp(t, "nodeleg") == 0)
			fm.nodeleg = 1;
		else if (strncmp(t, "retry=", 6) == 0)
			fm.retry_secs = atoi(t + 6);
		else if (strncmp(t, "readahead_kb=", 13) == 0)
			fm.readahead_kb = atoi(t + 13);
		else if (strncmp(t, "stat_blksize=", 13) == 0)
			fm.stat_blksize = fm_opt_uint(t + 13);
		else if (strncmp(t, "endpoint=", 9) == 0)
			snprintf(fm.endpoint, sizeof(fm.endpoint), "%s",
			    t + 9);
		else if (strncmp(t, "region=", 7) == 0)
			snprintf(fm.region, sizeof(fm.region), "%s", t + 7);
		else if (strncmp(t, "stats=", 6) == 0)
			snprintf(fm.stats_path, sizeof(fm.stats_path), "%s",
			    t + 6);
		else if (strncmp(t, "mds=", 4) == 0)
			snprintf(fm.mds_arg, sizeof(fm.mds_arg), "%s", t + 4);
		else if (strncmp(t, "secret_file=", 12) == 0)
			snprintf(fm.secret_file, sizeof(fm.secret_file), "%s",
			    t + 12);
		else if (!fm_opt_drop(t) && !fm_opt_has(t))
			fm_opt_add(t);
	}
	free(dup);
}

void
fm_usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: fsx-mount [-f] [-d] [-o opts] [--endpoint-url URL] "
	    "[--region R]\n"
	    "                 [--mds HOST:PORT --secret-file FILE] "
	    "SPEC MOUNTPOINT\n"
	    "  SPEC: fs-0123456789abcdef0 or "
	    "fs-0123456789abcdef0.fsx.REGION.amazonaws.com@tcp:/MOUNTNAME\n"
	    "  -o: FUSE/mount options (ro, allow_other, ...), writeback, "
	    "sync_write, noleases, nolocalread,\n"
	    "      nouring, nodeleg, retry=SECS, readahead_kb=N, stat_blksize=BYTES, "
	    "endpoint=URL, region=R,\n"
	    "      mds=H:P, secret_file=F, "
	    "stats=PATH (counters, rewritten at SIGUSR1 and unmount)\n");
	exit(code);
}
