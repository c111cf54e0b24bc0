/*
 * fsc_stream: streaming through libfsx without FUSE, the upper bound for
 * fsx-mount's sequential figures.
 *
 *   fsc_stream --mds HOST:PORT --secret-file F [--size-mb N]
 *       [--stripe-count C] [--stripe-size BYTES] [--chunk-kb K]
 *       [--drop-caches]
 *
 * Creates a file in the root with the given layout, writes N MiB in chunks
 * (one full stripe row by default: stripe size x count, at most 8 MiB),
 * fsyncs and closes; optionally drops the page cache (so the OSSes read
 * from disk); reads it back with a fresh open; checks a pattern; unlinks.
 * Prints one JSON line: {"write_mbps":..,"read_mbps":..}.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "fsc/fsc.h"
#include "msg/msg.h"

static double
fs_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The data of chunk `off`: a pattern filled once (as fio fills its buffers
 * once), with the file offset stamped at the head of every 4 KiB block so
 * no two blocks are alike and a misplaced block is caught on read back.
 */
static void
fs_fill(unsigned char *buf, size_t len, uint64_t off, int first)
{
	size_t	i;

	if (first) {
		for (i = 0; i + 8 <= len; i += 8) {
			uint64_t v = (off + i) * 0x9e3779b97f4a7c15ull;

			memcpy(buf + i, &v, 8);
		}
	}
	for (i = 0; i + 8 <= len; i += 4096) {
		uint64_t v = off + i;

		memcpy(buf + i, &v, 8);
	}
}

static int
fs_drop_caches(void)
{
	FILE	*f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f == NULL)
		return -errno;
	fputs("3\n", f);
	return fclose(f) == 0 ? 0 : -errno;
}

static void
fs_usage(void)
{
	fprintf(stderr, "usage: fsc_stream --mds HOST:PORT --secret-file F "
	    "[--size-mb N] [--stripe-count C] [--stripe-size B] "
	    "[--chunk-kb K] [--readahead-kb K] [--drop-caches]\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mds",		required_argument, NULL, 'm' },
		{ "secret-file",	required_argument, NULL, 's' },
		{ "size-mb",		required_argument, NULL, 'n' },
		{ "stripe-count",	required_argument, NULL, 'c' },
		{ "stripe-size",	required_argument, NULL, 'S' },
		{ "chunk-kb",		required_argument, NULL, 'k' },
		{ "drop-caches",	no_argument,	   NULL, 'd' },
		{ "readahead-kb",	required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct fsc_conf		 conf;
	struct msg_cred		 cred = { 0, 0 };
	struct msg_attr		 attr;
	struct fsc_file		*f = NULL;
	struct fsc		*fs = NULL;
	unsigned char		*buf = NULL, *chk = NULL;
	const char		*mds = NULL, *secret = NULL;
	char			 host[256], name[64];
	uint64_t		 size, off;
	size_t			 chunk = 0, done;
	double			 t0, tw, tr;
	long			 size_mb = 2048, count = 4, ssize = 1024 * 1024;
	int			 c, port, rc, err = 0, drop = 0, ret = 1;
	int			 ra_kb = 0;	/* libfsx default */

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mds = optarg;
			break;
		case 's':
			secret = optarg;
			break;
		case 'n':
			size_mb = strtol(optarg, NULL, 10);
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case 'S':
			ssize = strtol(optarg, NULL, 10);
			break;
		case 'r':
			ra_kb = (int)strtol(optarg, NULL, 10);
			break;
		case 'k':
			chunk = (size_t)strtol(optarg, NULL, 10) * 1024;
			break;
		case 'd':
			drop = 1;
			break;
		default:
			fs_usage();
			return 2;
		}
	}
	/* Default: one full stripe row per call, so every OST is busy. */
	if (chunk == 0 && count > 0 && ssize > 0)
		chunk = (size_t)ssize * (size_t)count;
	if (chunk > MSG_BULK_MAX)
		chunk = MSG_BULK_MAX;
	if (mds == NULL || secret == NULL || size_mb <= 0 || chunk == 0 ||
	    count == 0 || count > MSG_MAX_STRIPES || ssize <= 0 ||
	    (uint64_t)size_mb * 1024 * 1024 % chunk != 0) {
		fs_usage();
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	if (parse_hostport(mds, host, sizeof(host), &port) < 0) {
		fprintf(stderr, "fsc_stream: bad --mds '%s'\n", mds);
		return 2;
	}
	rc = msg_secret_load(secret, conf.secret);
	if (rc < 0) {
		fprintf(stderr, "fsc_stream: %s: %s\n", secret, strerror(-rc));
		return 2;
	}
	conf.mds_host = host;
	conf.mds_port = port;
	conf.retry_secs = -1;
	conf.readahead_kb = ra_kb;
	fs = fsc_open(&conf, &err);
	if (fs == NULL) {
		fprintf(stderr, "fsc_stream: connect: %s\n", strerror(-err));
		return 1;
	}
	buf = malloc(chunk);
	chk = malloc(chunk);
	if (buf == NULL || chk == NULL)
		goto out;
	size = (uint64_t)size_mb * 1024 * 1024;
	snprintf(name, sizeof(name), "fsc_stream.%d", (int)getpid());

	rc = fsc_create(fs, fsc_root(fs), name, 0100644, O_RDWR | O_EXCL,
	    &cred, &attr, &f);
	if (rc < 0) {
		fprintf(stderr, "fsc_stream: create: %s\n", strerror(-rc));
		goto out;
	}
	rc = fsc_file_close(fs, f);
	f = NULL;
	if (rc == 0)
		rc = fsc_xattr_setlayout(fs, attr.ino, &cred, (uint32_t)ssize,
		    (int32_t)count, -1);
	if (rc == 0)
		rc = fsc_file_open(fs, attr.ino, O_WRONLY, &cred, &attr, &f);
	if (rc < 0) {
		fprintf(stderr, "fsc_stream: layout/open: %s\n", strerror(-rc));
		goto out_unlink;
	}

	t0 = fs_now();
	for (off = 0; off < size; off += chunk) {
		fs_fill(buf, chunk, off, off == 0);
		rc = fsc_file_write(fs, f, buf, chunk, off, &done);
		if (rc < 0 || done != chunk) {
			fprintf(stderr, "fsc_stream: write at %llu: %s\n",
			    (unsigned long long)off, strerror(rc < 0 ? -rc : EIO));
			goto out_unlink;
		}
	}
	rc = fsc_file_fsync(fs, f);
	if (rc == 0)
		rc = fsc_file_close(fs, f);
	f = NULL;
	tw = fs_now() - t0;
	if (rc < 0) {
		fprintf(stderr, "fsc_stream: fsync/close: %s\n", strerror(-rc));
		goto out_unlink;
	}

	if (drop && fs_drop_caches() < 0)
		fprintf(stderr, "fsc_stream: drop_caches failed\n");
	t0 = fs_now();
	rc = fsc_file_open(fs, attr.ino, O_RDONLY, &cred, &attr, &f);
	if (rc < 0) {
		fprintf(stderr, "fsc_stream: open: %s\n", strerror(-rc));
		goto out_unlink;
	}
	for (off = 0; off < size; off += chunk) {
		rc = fsc_file_read(fs, f, buf, chunk, off, &done);
		if (rc < 0 || done != chunk) {
			fprintf(stderr, "fsc_stream: read at %llu: %s\n",
			    (unsigned long long)off, strerror(rc < 0 ? -rc : EIO));
			goto out_unlink;
		}
		/* Check one chunk in 64 so the check does not dominate. */
		if ((off / chunk) % 64 == 0) {
			fs_fill(chk, chunk, 0, 1);
			fs_fill(chk, chunk, off, 0);
			if (memcmp(buf, chk, chunk) != 0) {
				fprintf(stderr, "fsc_stream: bad data at %llu\n",
				    (unsigned long long)off);
				goto out_unlink;
			}
		}
	}
	tr = fs_now() - t0;
	printf("{\"write_mbps\": %.1f, \"read_mbps\": %.1f, \"size_mb\": %ld, "
	    "\"stripe_count\": %ld, \"chunk_kb\": %zu}\n", (double)size_mb / tw,
	    (double)size_mb / tr, size_mb, count, chunk / 1024);
	ret = 0;
out_unlink:
	if (f != NULL)
		fsc_file_close(fs, f);
	fsc_unlink(fs, fsc_root(fs), name, &cred);
out:
	free(buf);
	free(chk);
	fsc_free(fs);
	return ret;
}
