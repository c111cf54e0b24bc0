/*
 * lfs: Lustre's user tool, for fsx-local mounts.
 *
 * It needs no network: everything goes through the mount with ordinary
 * system calls and two extended attributes that fsx-mount serves:
 *
 *	lustre.lov		msg_layout + msg_layout_ent[nent]; set
 *				with nent 0 on a directory (its default) or on
 *				a new empty file (its layout)
 *	lustre.fsx.ostdf	text, "MDT 0 bsize blocks bfree bavail files
 *				ffree" then one "OST idx ..." line per OST
 *
 * Output follows Lustre 2.12's lfs so scripts written for FSx keep
 * working. Every byte read from an xattr is checked before use.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/version.h"
#include "msg/msg.h"

#define LFS_VERSION		"2.12.8_fsx"
#define LFS_DEF_COUNT		1
#define LFS_DEF_SIZE		(1024u * 1024u)
#define LFS_SIZE_UNIT		(64u * 1024u)
#define LFS_LOV_MAX		(sizeof(struct msg_layout) + \
	MSG_MAX_STRIPES * sizeof(struct msg_layout_ent))
#define LFS_OSTDF_MAX		(64 * 1024)
#define LFS_MAX_TARGETS		1024

/* A layout read from lustre.lov, checked. */
struct lfs_layout {
	uint32_t		stripe_size;
	int32_t			stripe_count;
	int32_t			stripe_offset;
	uint32_t		nent;
	struct msg_layout_ent	ent[MSG_MAX_STRIPES];
};

/* One target line of lustre.fsx.ostdf. */
struct lfs_target {
	int		is_mdt;
	unsigned	idx;
	uint64_t	bsize, blocks, bfree, bavail, files, ffree;
	char		server[80];	/* host:port serving it, "" if unknown */
};

static const char *lfs_prog = "lfs";

static int	lfs_help(int, char **);

/*
 * Read and check the lustre.lov xattr of `path`. Returns 0, -ENODATA when
 * there is none, -EPROTO when it is malformed, or -errno.
 */
static int
lfs_layout_get(const char *path, struct lfs_layout *lay)
{
	unsigned char		 buf[LFS_LOV_MAX];
	struct msg_layout	 h;
	ssize_t			 n;
	uint32_t		 i;

	n = getxattr(path, "lustre.lov", buf, sizeof(buf));
	if (n < 0)
		return errno == ENOTSUP ? -ENOTTY : -errno;
	if ((size_t)n < sizeof(h))
		return -EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != MSG_LOV_MAGIC || h.nent > MSG_MAX_STRIPES)
		return -EPROTO;
	if ((size_t)n < sizeof(h) + h.nent * sizeof(struct msg_layout_ent))
		return -EPROTO;
	lay->stripe_size = h.stripe_size;
	lay->stripe_count = h.stripe_count;
	lay->stripe_offset = h.stripe_offset;
	lay->nent = h.nent;
	for (i = 0; i < h.nent; i++)
		memcpy(&lay->ent[i], buf + sizeof(h) + i * sizeof(lay->ent[0]),
		    sizeof(lay->ent[0]));
	return 0;
}

static int
lfs_layout_set(const char *path, uint32_t size, int32_t count, int32_t off)
{
	struct msg_layout	h;

	memset(&h, 0, sizeof(h));
	h.magic = MSG_LOV_MAGIC;
	h.stripe_size = size;
	h.stripe_count = count;
	h.stripe_offset = off;
	h.nent = 0;
	if (setxattr(path, "lustre.lov", &h, sizeof(h), 0) < 0)
		return -errno;
	return 0;
}

/* Parse a decimal integer in [min, max]; 0 or -EINVAL. */
static int
lfs_parse_int(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Parse N[kKmMgGtT] (bytes without a suffix; 'c' is bytes, 'b' 512-byte
 * blocks). *unit gets the unit's size. 0 or -EINVAL.
 */
static int
lfs_parse_size(const char *s, unsigned long long *out,
    unsigned long long *unit)
{
	unsigned long long	 v, u = 1;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
	case 'c':
		break;
	case 'b':
		u = 512;
		break;
	case 'k':
	case 'K':
		u = 1ull << 10;
		break;
	case 'm':
	case 'M':
		u = 1ull << 20;
		break;
	case 'g':
	case 'G':
		u = 1ull << 30;
		break;
	case 't':
	case 'T':
		u = 1ull << 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0' && end[1] != '\0')
		return -EINVAL;
	if (v > ULLONG_MAX / u)
		return -EINVAL;
	*out = v * u;
	if (unit != NULL)
		*unit = u;
	return 0;
}

static void
lfs_err(const char *verb, const char *path, int err)
{
	fprintf(stderr, "%s %s: cannot %s '%s': %s (%d)\n", lfs_prog, verb,
	    strcmp(verb, "setstripe") == 0 ? "set stripe on" : "get info on",
	    path, strerror(err), err);
}

/* --- mounts ------------------------------------------------------------- */

/*
 * Find the mount point holding `path` (longest matching mount point in
 * /proc/self/mountinfo) and its source. 0 or -errno.
 */
static int
lfs_mount_of(const char *path, char *mnt, size_t mntlen, char *src,
    size_t srclen)
{
	char	 real[PATH_MAX], line[8192], best[PATH_MAX] = "";
	char	 bestsrc[1024] = "";
	char	*f[12], *p, *save;
	size_t	 len, blen = 0;
	FILE	*fp;
	int	 n, sep;

	if (realpath(path, real) == NULL)
		return -errno;
	fp = fopen("/proc/self/mountinfo", "r");
	if (fp == NULL)
		return -errno;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n = 0;
		sep = -1;
		for (p = strtok_r(line, " ", &save); p != NULL && n < 12;
		    p = strtok_r(NULL, " ", &save)) {
			if (strcmp(p, "-") == 0 && sep < 0)
				sep = n;
			f[n++] = p;
		}
		if (n < 5 || sep < 0 || sep + 2 >= n)
			continue;
		len = strlen(f[4]);
		if (strncmp(real, f[4], len) != 0 ||
		    (real[len] != '/' && real[len] != '\0' &&
		    strcmp(f[4], "/") != 0))
			continue;
		if (len >= blen && len < sizeof(best)) {
			blen = len;
			snprintf(best, sizeof(best), "%s", f[4]);
			snprintf(bestsrc, sizeof(bestsrc), "%s", f[sep + 2]);
		}
	}
	fclose(fp);
	if (blen == 0)
		return -ENOENT;
	snprintf(mnt, mntlen, "%s", best);
	snprintf(src, srclen, "%s", bestsrc);
	return 0;
}

/*
 * The Lustre fsname for a mount source: the part after ":/" in the FSx
 * form (fs-....fsx.REGION.amazonaws.com@tcp:/mountname), else the file
 * system id, else "fsx".
 */
static void
lfs_fsname(const char *src, char *out, size_t outlen)
{
	const char	*p;
	size_t		 n;

	p = strstr(src, ":/");
	if (p != NULL && p[2] != '\0') {
		snprintf(out, outlen, "%s", p + 2);
		return;
	}
	p = strstr(src, "fs-");
	if (p != NULL) {
		n = strspn(p + 3, "0123456789abcdef");
		if (n > 0) {
			snprintf(out, outlen, "%.*s", (int)(n + 3), p);
			return;
		}
	}
	snprintf(out, outlen, "fsx");
}

/* The default layout new files under `dir` get (dir, then mount root). */
static void
lfs_default_for(const char *dir, struct lfs_layout *lay)
{
	char	mnt[PATH_MAX], src[1024];

	if (lfs_layout_get(dir, lay) == 0 && lay->stripe_size != 0)
		return;
	if (lfs_mount_of(dir, mnt, sizeof(mnt), src, sizeof(src)) == 0 &&
	    lfs_layout_get(mnt, lay) == 0 && lay->stripe_size != 0)
		return;
	lay->stripe_size = LFS_DEF_SIZE;
	lay->stripe_count = LFS_DEF_COUNT;
	lay->stripe_offset = -1;
	lay->nent = 0;
}

/* --- setstripe ---------------------------------------------------------- */

static void
lfs_setstripe_usage(void)
{
	fprintf(stderr, "usage: %s setstripe [--stripe-count|-c N] "
	    "[--stripe-size|-S SIZE[KMG]] [--stripe-index|-i IDX] "
	    "FILE|DIR...\n"
	    "\tN: stripes, -1 for every OST\n"
	    "\tSIZE: bytes per stripe, a multiple of 64KiB\n"
	    "\tIDX: OST of the first stripe, -1 to let the MDS choose\n"
	    "\tA missing FILE is created empty with this layout; on a DIR\n"
	    "\tthe layout becomes the default for new files in it.\n",
	    lfs_prog);
}

static int
lfs_setstripe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stripe-count",	required_argument, NULL, 'c' },
		{ "stripe_count",	required_argument, NULL, 'c' },
		{ "stripe-size",	required_argument, NULL, 'S' },
		{ "stripe_size",	required_argument, NULL, 'S' },
		{ "stripe-index",	required_argument, NULL, 'i' },
		{ "stripe_index",	required_argument, NULL, 'i' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lfs_layout	 def;
	unsigned long long	 size = 0;
	long long		 count = 0, idx = -1;
	struct stat		 st;
	char			 parent[PATH_MAX], *slash;
	int			 c, i, fd, rc, ret = 0, created;
	int			 have_count = 0, have_size = 0, have_idx = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:S:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (lfs_parse_int(optarg, -1, MSG_MAX_STRIPES,
			    &count) < 0) {
				fprintf(stderr, "%s setstripe: invalid stripe "
				    "count '%s'\n", lfs_prog, optarg);
				return 1;
			}
			have_count = count != 0;
			break;
		case 'S':
			if (lfs_parse_size(optarg, &size, NULL) < 0 ||
			    size % LFS_SIZE_UNIT != 0 ||
			    size > 4ull * 1024 * 1024 * 1024 - LFS_SIZE_UNIT) {
				fprintf(stderr, "%s setstripe: invalid stripe "
				    "size '%s', must be a multiple of 64KiB "
				    "and below 4GiB\n", lfs_prog, optarg);
				return 1;
			}
			have_size = size != 0;
			break;
		case 'i':
			if (lfs_parse_int(optarg, -1, 65535, &idx) < 0) {
				fprintf(stderr, "%s setstripe: invalid stripe "
				    "index '%s'\n", lfs_prog, optarg);
				return 1;
			}
			have_idx = 1;
			break;
		case 'h':
			lfs_setstripe_usage();
			return 0;
		default:
			lfs_setstripe_usage();
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s setstripe: missing filename|dirname\n",
		    lfs_prog);
		lfs_setstripe_usage();
		return 1;
	}

	for (i = optind; i < argc; i++) {
		const char *path = argv[i];

		created = 0;
		rc = stat(path, &st);
		if (rc < 0 && errno != ENOENT) {
			rc = errno;
			lfs_err("setstripe", path, rc);
			ret = 1;
			continue;
		}
		/* Unset fields come from the default the MDS would apply. */
		if (rc == 0 && S_ISDIR(st.st_mode)) {
			snprintf(parent, sizeof(parent), "%s/..", path);
		} else {
			snprintf(parent, sizeof(parent), "%s", path);
			slash = strrchr(parent, '/');
			if (slash == NULL)
				snprintf(parent, sizeof(parent), ".");
			else if (slash == parent)
				parent[1] = '\0';
			else
				*slash = '\0';
		}
		if (rc == 0 && S_ISDIR(st.st_mode) &&
		    lfs_layout_get(path, &def) == 0 && def.stripe_size != 0)
			;	/* a directory keeps its own unset fields */
		else
			lfs_default_for(parent, &def);
		if (!have_count)
			count = def.stripe_count;
		if (!have_size)
			size = def.stripe_size;
		if (!have_idx)
			idx = -1;

		if (rc < 0) {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
			if (fd < 0) {
				rc = errno;
				lfs_err("setstripe", path, rc);
				ret = 1;
				continue;
			}
			close(fd);
			created = 1;
		} else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			lfs_err("setstripe", path, EINVAL);
			ret = 1;
			continue;
		}
		rc = lfs_layout_set(path, (uint32_t)size, (int32_t)count,
		    (int32_t)idx);
		if (rc < 0) {
			if (rc == -EEXIST || rc == -EBUSY || rc == -ENOTEMPTY)
				fprintf(stderr, "%s setstripe: cannot set "
				    "stripe on '%s': stripe already set\n",
				    lfs_prog, path);
			else
				lfs_err("setstripe", path, -rc);
			if (created)
				unlink(path);
			ret = 1;
		}
	}
	return ret;
}

/* --- getstripe ---------------------------------------------------------- */

#define GS_COUNT	0x01
#define GS_SIZE		0x02
#define GS_OFFSET	0x04
#define GS_PATTERN	0x08
#define GS_GEN		0x10
#define GS_OBJS		0x20
#define GS_ALL		0x3f

struct lfs_gs {
	int	fields;		/* GS_* */
	int	single;		/* one field asked for: bare value */
	int	nopath;		/* no path line */
	int	dironly;	/* -d */
	int	verbose;	/* -v: the server of each object's OST */
};

static int	lfs_ostdf_parse(const char *text, struct lfs_target *t, int max);

/* The server (host:port) of OST idx as path's mount reports it, in out. */
static void
lfs_ost_server(const char *path, unsigned idx, char *out, size_t len)
{
	struct lfs_target *t = calloc(LFS_MAX_TARGETS, sizeof(*t));
	char *text = malloc(LFS_OSTDF_MAX + 1);
	ssize_t n;
	int cnt;

	snprintf(out, len, "-");
	if (t == NULL || text == NULL)
		goto out;
	n = getxattr(path, "lustre.fsx.ostdf", text, LFS_OSTDF_MAX);
	if (n < 0)
		goto out;
	text[n] = '\0';
	cnt = lfs_ostdf_parse(text, t, LFS_MAX_TARGETS);
	for (int i = 0; i < cnt; i++)
		if (!t[i].is_mdt && t[i].idx == idx && t[i].server[0] != '\0')
			snprintf(out, len, "%s", t[i].server);
out:
	free(text);
	free(t);
}

static void
lfs_gs_header(const struct lfs_gs *g, const char *path, int isdir,
    const struct lfs_layout *lay)
{
	const char	*pre = isdir ? "" : "lmm_";
	const char	*sep = "";
	const char	*next = isdir ? " " : "\n";
	int32_t		 off;

	if (!g->nopath)
		printf("%s\n", path);
	if (g->fields & GS_COUNT) {
		printf("%s", sep);
		if (!g->single)
			printf("%sstripe_count:  ", pre);
		printf("%d", isdir || lay->nent == 0 ? lay->stripe_count :
		    (int)lay->nent);
		sep = next;
	}
	if (g->fields & GS_SIZE) {
		printf("%s", sep);
		if (!g->single)
			printf("%sstripe_size:   ", pre);
		printf("%u", lay->stripe_size);
		sep = next;
	}
	if (g->fields & GS_PATTERN) {
		printf("%s", sep);
		printf("%spattern:       raid0", pre);
		sep = next;
	}
	if ((g->fields & GS_GEN) && !isdir) {
		printf("%s", sep);
		printf("%slayout_gen:    0", pre);
		sep = next;
	}
	if (g->fields & GS_OFFSET) {
		printf("%s", sep);
		if (!g->single)
			printf("%sstripe_offset: ", pre);
		if (isdir || lay->nent == 0)
			off = lay->stripe_offset;
		else
			off = (int32_t)lay->ent[0].ost;
		printf("%d", off);
		sep = next;
	}
	if (*sep != '\0')
		printf("\n");
}

static void
lfs_gs_objects(const struct lfs_gs *g, const char *path,
    const struct lfs_layout *lay)
{
	char		server[80];
	uint32_t	i;

	printf("\tobdidx\t\t objid\t\t objid\t\t group%s\n",
	    g->verbose ? "\t server" : "");
	for (i = 0; i < lay->nent; i++) {
		printf("\t%6u\t%14" PRIu64 "\t%#13" PRIx64 "\t%14u",
		    lay->ent[i].ost, lay->ent[i].oid, lay->ent[i].oid, 0u);
		if (g->verbose) {
			lfs_ost_server(path, lay->ent[i].ost, server,
			    sizeof(server));
			printf("\t %s", server);
		}
		printf("\n");
	}
	printf("\n");
}

/* Print one path; directories without a default show the fs default. */
static int
lfs_gs_one(const struct lfs_gs *g, const char *path, int depth)
{
	struct lfs_layout	 lay;
	struct stat		 st;
	struct dirent		*de;
	char			 child[PATH_MAX];
	DIR			*dp;
	int			 rc, ret = 0;

	if (lstat(path, &st) < 0) {
		rc = errno;
		fprintf(stderr, "%s getstripe: cannot open '%s': %s (%d)\n",
		    lfs_prog, path, strerror(rc), rc);
		return 1;
	}
	if (S_ISLNK(st.st_mode) && depth == 0 && stat(path, &st) < 0) {
		rc = errno;
		fprintf(stderr, "%s getstripe: cannot open '%s': %s (%d)\n",
		    lfs_prog, path, strerror(rc), rc);
		return 1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;
	rc = lfs_layout_get(path, &lay);
	if (S_ISDIR(st.st_mode)) {
		if (rc == -ENODATA || (rc == 0 && lay.stripe_size == 0)) {
			lay.stripe_count = LFS_DEF_COUNT;
			lay.stripe_size = LFS_DEF_SIZE;
			lay.stripe_offset = -1;
			lay.nent = 0;
			rc = 0;
		}
		if (rc < 0) {
			lfs_err("getstripe", path, -rc == EPROTO ? EIO : -rc);
			return 1;
		}
		lfs_gs_header(g, path, 1, &lay);
		if (g->dironly || depth > 0)
			return 0;
		dp = opendir(path);
		if (dp == NULL) {
			rc = errno;
			lfs_err("getstripe", path, rc);
			return 1;
		}
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(child, sizeof(child), "%s%s%s", path,
			    path[strlen(path) - 1] == '/' ? "" : "/",
			    de->d_name) >= (int)sizeof(child))
				continue;
			ret |= lfs_gs_one(g, child, depth + 1);
		}
		closedir(dp);
		return ret;
	}
	if (rc == -ENODATA) {
		printf("%s has no stripe info\n", path);
		return 0;
	}
	if (rc < 0) {
		lfs_err("getstripe", path, -rc == EPROTO ? EIO : -rc);
		return 1;
	}
	lfs_gs_header(g, path, 0, &lay);
	if (g->fields & GS_OBJS)
		lfs_gs_objects(g, path, &lay);
	return 0;
}

static void
lfs_getstripe_usage(void)
{
	fprintf(stderr, "usage: %s getstripe [--stripe-count|-c] "
	    "[--stripe-size|-S] [--stripe-index|-i] [--directory|-d] "
	    "[--quiet|-q] [--verbose|-v: each OST's server] FILE|DIR...\n",
	    lfs_prog);
}

static int
lfs_getstripe(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stripe-count",	no_argument, NULL, 'c' },
		{ "stripe_count",	no_argument, NULL, 'c' },
		{ "stripe-size",	no_argument, NULL, 'S' },
		{ "stripe_size",	no_argument, NULL, 'S' },
		{ "stripe-index",	no_argument, NULL, 'i' },
		{ "stripe_index",	no_argument, NULL, 'i' },
		{ "offset",		no_argument, NULL, 'i' },
		{ "directory",		no_argument, NULL, 'd' },
		{ "quiet",		no_argument, NULL, 'q' },
		{ "verbose",		no_argument, NULL, 'v' },
		{ "help",		no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lfs_gs	g;
	int		c, i, n, quiet = 0, ret = 0;

	memset(&g, 0, sizeof(g));
	optind = 1;
	while ((c = getopt_long(argc, argv, "cSiodqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			g.verbose = 1;
			break;
		case 'c':
			g.fields |= GS_COUNT;
			break;
		case 'S':
			g.fields |= GS_SIZE;
			break;
		case 'i':
		case 'o':
			g.fields |= GS_OFFSET;
			break;
		case 'd':
			g.dironly = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			lfs_getstripe_usage();
			return 0;
		default:
			lfs_getstripe_usage();
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s getstripe: missing filename|dirname\n",
		    lfs_prog);
		lfs_getstripe_usage();
		return 1;
	}
	n = __builtin_popcount((unsigned)g.fields);
	if (quiet && g.fields == 0) {
		g.fields = GS_OBJS;
		g.nopath = 1;
	} else if (g.fields == 0) {
		g.fields = GS_ALL;
	} else {
		g.single = n == 1;
		g.nopath = 1;
	}
	for (i = optind; i < argc; i++)
		ret |= lfs_gs_one(&g, argv[i], 0);
	return ret;
}

/* --- df ----------------------------------------------------------------- */

/* Parse lustre.fsx.ostdf text into targets; returns the count or -errno. */
static int
lfs_ostdf_parse(const char *text, struct lfs_target *t, int max)
{
	const char	*p = text;
	char		 kind[8];
	unsigned long long v[7];
	int		 n = 0, used;

	while (*p != '\0') {
		if (n >= max)
			return -E2BIG;
		used = 0;
		if (sscanf(p, "%7s %llu %llu %llu %llu %llu %llu %llu%n", kind,
		    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		    &used) != 8)
			return -EPROTO;
		if (strcmp(kind, "MDT") == 0)
			t[n].is_mdt = 1;
		else if (strcmp(kind, "OST") == 0)
			t[n].is_mdt = 0;
		else
			return -EPROTO;
		if (v[0] > UINT_MAX || v[1] == 0 || v[1] > (1ull << 40))
			return -EPROTO;
		t[n].idx = (unsigned)v[0];
		t[n].bsize = v[1];
		t[n].blocks = v[2];
		t[n].bfree = v[3] > v[2] ? v[2] : v[3];
		t[n].bavail = v[4] > t[n].bfree ? t[n].bfree : v[4];
		t[n].files = v[5];
		t[n].ffree = v[6] > v[5] ? v[5] : v[6];
		t[n].server[0] = '\0';
		p += used;
		/* an optional last field: the server, host:port */
		if (*p == ' ') {
			size_t l;

			p += strspn(p, " ");
			l = strcspn(p, "\r\n");
			if (l >= sizeof(t[n].server) || l == 0)
				return -EPROTO;
			memcpy(t[n].server, p, l);
			t[n].server[l] = '\0';
			p += l;
		}
		n++;
		while (*p == '\n' || *p == ' ' || *p == '\r')
			p++;
	}
	return n;
}

static void
lfs_cook(unsigned long long v, int human, char *out, size_t outlen)
{
	static const char	 suffix[] = "KMGTPEZY";
	double			 d = (double)v;
	int			 i = 0;

	if (!human) {
		snprintf(out, outlen, "%llu", v);
		return;
	}
	while (d > 1024 && i < 8) {
		d /= 1024;
		i++;
	}
	if (i > 0)
		snprintf(out, outlen, "%.1f%c", d, suffix[i - 1]);
	else
		snprintf(out, outlen, "%llu", v);
}

/* One df row; totals in bytes (or inodes with `inodes`). */
static void
lfs_df_row(const char *uuid, unsigned long long total, unsigned long long used,
    unsigned long long avail, int human, int inodes, const char *mnt,
    const char *type, unsigned idx, const char *server)
{
	char	tb[32], ub[32], ab[32];
	int	ratio = 0;

	if (!inodes && !human) {
		total >>= 10;
		used >>= 10;
		avail >>= 10;
	}
	if (used + avail > 0)
		ratio = (int)((double)used / (double)(used + avail) * 100 +
		    0.5);
	lfs_cook(total, human && !inodes, tb, sizeof(tb));
	lfs_cook(used, human && !inodes, ub, sizeof(ub));
	lfs_cook(avail, human && !inodes, ab, sizeof(ab));
	printf("%-20s %11s %11s %11s %3d%% %s", uuid, tb, ub, ab, ratio, mnt);
	if (type != NULL)
		printf("[%s:%u]", type, idx);
	if (server != NULL && *server != '\0')
		printf(" %s", server);
	printf("\n");
}

static int
lfs_df_mount(const char *mnt, const char *src, int human, int inodes,
    int verbose)
{
	struct lfs_target	*t;
	unsigned long long	 tot = 0, used = 0, avail = 0;
	char			*text, uuid[128], fsname[64];
	ssize_t			 len;
	int			 n, i, rc;

	text = malloc(LFS_OSTDF_MAX + 1);
	t = calloc(LFS_MAX_TARGETS, sizeof(*t));
	if (text == NULL || t == NULL) {
		free(text);
		free(t);
		return -ENOMEM;
	}
	len = getxattr(mnt, "lustre.fsx.ostdf", text, LFS_OSTDF_MAX);
	if (len < 0) {
		rc = errno == ENOTSUP ? -ENOTTY : -errno;
		goto out;
	}
	text[len] = '\0';
	n = lfs_ostdf_parse(text, t, LFS_MAX_TARGETS);
	if (n < 0) {
		rc = n;
		goto out;
	}
	lfs_fsname(src, fsname, sizeof(fsname));
	printf("%-20s %11s %11s %11s %4s %s\n", "UUID",
	    inodes ? "Inodes" : human ? "bytes" : "1K-blocks",
	    inodes ? "IUsed" : "Used", inodes ? "IFree" : "Available",
	    inodes ? "IUse%" : "Use%", "Mounted on");
	for (i = 0; i < n; i++) {
		unsigned long long a, b, c;

		snprintf(uuid, sizeof(uuid), "%s-%s%04x_UUID", fsname,
		    t[i].is_mdt ? "MDT" : "OST", t[i].idx);
		if (inodes) {
			a = t[i].files;
			b = t[i].files - t[i].ffree;
			c = t[i].ffree;
			if (t[i].is_mdt) {
				tot += a;
				used += b;
				avail += c;
			}
		} else {
			a = t[i].blocks * t[i].bsize;
			b = (t[i].blocks - t[i].bfree) * t[i].bsize;
			c = t[i].bavail * t[i].bsize;
			if (!t[i].is_mdt) {
				tot += a;
				used += b;
				avail += c;
			}
		}
		lfs_df_row(uuid, a, b, c, human, inodes, mnt,
		    t[i].is_mdt ? "MDT" : "OST", t[i].idx,
		    verbose ? t[i].server : NULL);
	}
	printf("\n");
	lfs_df_row("filesystem_summary:", tot, used, avail, human, inodes, mnt,
	    NULL, 0, NULL);
	printf("\n");
	rc = 0;
out:
	free(text);
	free(t);
	return rc;
}

static int
lfs_df(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "human-readable",	no_argument, NULL, 'h' },
		{ "inodes",		no_argument, NULL, 'i' },
		{ "verbose",		no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	char	 mnt[PATH_MAX], src[1024], line[8192], *f[12], *p, *save;
	FILE	*fp;
	int	 c, human = 0, inodes = 0, verbose = 0, rc, ret = 0, n, sep, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hiv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			human = 1;
			break;
		case 'i':
			inodes = 1;
			break;
		case 'v':	/* and the server (node address) of each target */
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: %s df [-h] [-i] [-v] [PATH]\n",
			    lfs_prog);
			return 1;
		}
	}
	if (optind < argc) {
		for (i = optind; i < argc; i++) {
			rc = lfs_mount_of(argv[i], mnt, sizeof(mnt), src,
			    sizeof(src));
			if (rc == 0)
				rc = lfs_df_mount(mnt, src, human, inodes, verbose);
			if (rc < 0) {
				fprintf(stderr, "%s df: '%s' is not on a "
				    "Lustre file system: %s (%d)\n", lfs_prog,
				    argv[i], strerror(-rc == ENOTTY ||
				    -rc == ENODATA ? ENOTTY : -rc), -rc);
				ret = 1;
			}
		}
		return ret;
	}
	/* Every fsx mount. */
	fp = fopen("/proc/self/mountinfo", "r");
	if (fp == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n = 0;
		sep = -1;
		for (p = strtok_r(line, " ", &save); p != NULL && n < 12;
		    p = strtok_r(NULL, " ", &save)) {
			if (strcmp(p, "-") == 0 && sep < 0)
				sep = n;
			f[n++] = p;
		}
		if (n < 5 || sep < 0 || sep + 2 >= n ||
		    strncmp(f[sep + 1], "fuse", 4) != 0)
			continue;
		if (getxattr(f[4], "lustre.fsx.ostdf", NULL, 0) < 0)
			continue;
		if (lfs_df_mount(f[4], f[sep + 2], human, inodes, verbose) < 0)
			ret = 1;
	}
	fclose(fp);
	return ret;
}

/* --- find --------------------------------------------------------------- */

struct lfs_num {
	int			set;
	int			neg;	/* '!' before it */
	int			sign;	/* +1 '+N', -1 '-N', 0 exact */
	unsigned long long	val;
	unsigned long long	unit;
};

static struct {
	struct lfs_num	 count;
	struct lfs_num	 size;
	struct lfs_num	 mtime;
	int		 type;		/* S_IF* or 0 */
	int		 type_neg;
	const char	*name;
	int		 name_neg;
	int		 maxdepth;	/* -1: none */
	int		 print0;
	time_t		 now;
} lfs_fq;

static int
lfs_parse_num(const char *s, struct lfs_num *n, int sizes, int neg)
{
	n->sign = 0;
	if (*s == '+') {
		n->sign = 1;
		s++;
	} else if (*s == '-') {
		n->sign = -1;
		s++;
	}
	n->unit = 1;
	if (sizes) {
		if (lfs_parse_size(s, &n->val, &n->unit) < 0)
			return -EINVAL;
	} else {
		long long v;

		if (lfs_parse_int(s, 0, LLONG_MAX, &v) < 0)
			return -EINVAL;
		n->val = (unsigned long long)v;
	}
	n->set = 1;
	n->neg = neg;
	return 0;
}

/*
 * Lustre's comparison with units: +N is more than N, -N is at most N minus
 * one unit, N is within the unit below N (sizes round up to the unit).
 */
static int
lfs_num_match(const struct lfs_num *n, unsigned long long v)
{
	int	m;

	if (n->sign > 0)
		m = v > n->val;
	else if (n->sign < 0)
		m = v + n->unit <= n->val;
	else
		m = v <= n->val && v + n->unit > n->val;
	return n->neg ? !m : m;
}

static int
lfs_find_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	struct lfs_layout	lay;
	const char		*base = path + ftw->base;
	long long		age;
	unsigned long long	cnt;
	int			m;

	if (flag == FTW_NS || flag == FTW_DNR) {
		fprintf(stderr, "%s find: cannot read '%s': %s\n", lfs_prog,
		    path, strerror(errno));
		return FTW_CONTINUE;
	}
	if (lfs_fq.maxdepth >= 0 && ftw->level > lfs_fq.maxdepth)
		return FTW_SKIP_SUBTREE;
	if (lfs_fq.type != 0) {
		m = (st->st_mode & S_IFMT) == (mode_t)lfs_fq.type;
		if (m == lfs_fq.type_neg)
			goto next;
	}
	if (lfs_fq.name != NULL) {
		m = fnmatch(lfs_fq.name, base, 0) == 0;
		if (m == lfs_fq.name_neg)
			goto next;
	}
	if (lfs_fq.size.set) {
		if (!S_ISREG(st->st_mode) && !lfs_fq.size.neg)
			goto next;
		if (!lfs_num_match(&lfs_fq.size,
		    (unsigned long long)st->st_size))
			goto next;
	}
	if (lfs_fq.mtime.set) {
		age = (long long)(lfs_fq.now - st->st_mtime);
		if (age < 0)
			age = 0;
		if (!lfs_num_match(&lfs_fq.mtime,
		    (unsigned long long)(age / 86400)))
			goto next;
	}
	if (lfs_fq.count.set) {
		if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
			goto next;
		if (lfs_layout_get(path, &lay) < 0)
			goto next;
		if (S_ISDIR(st->st_mode)) {
			if (lay.stripe_size == 0 || lay.stripe_count < 0)
				goto next;
			cnt = (unsigned long long)lay.stripe_count;
		} else if (lay.nent > 0) {
			cnt = lay.nent;
		} else {
			if (lay.stripe_count < 0)
				goto next;
			cnt = (unsigned long long)lay.stripe_count;
		}
		if (!lfs_num_match(&lfs_fq.count, cnt))
			goto next;
	}
	printf("%s%c", path, lfs_fq.print0 ? '\0' : '\n');
next:
	if (lfs_fq.maxdepth >= 0 && ftw->level == lfs_fq.maxdepth &&
	    flag == FTW_D)
		return FTW_SKIP_SUBTREE;
	return FTW_CONTINUE;
}

static void
lfs_find_usage(void)
{
	fprintf(stderr, "usage: %s find DIR|FILE... [[!] --stripe-count|-c "
	    "[+-]N] [[!] --size|-s [+-]N[kMGT]] "
	    "[[!] --type|-t {f,d,l,p,s,b,c}] "
	    "[[!] --name|-n GLOB] [[!] --mtime|-M [+-]DAYS] [--maxdepth|-D N] "
	    "[--print0|-0] [--print|-P]\n", lfs_prog);
}

static int
lfs_find(int argc, char **argv)
{
	const char	**paths;
	const char	 *opt, *val;
	long long	  v;
	int		  i, npaths = 0, neg = 0, ret = 0, rc;

	memset(&lfs_fq, 0, sizeof(lfs_fq));
	lfs_fq.maxdepth = -1;
	lfs_fq.now = time(NULL);
	paths = calloc((size_t)argc, sizeof(*paths));
	if (paths == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		opt = argv[i];
		if (strcmp(opt, "!") == 0) {
			neg = 1;
			continue;
		}
		if (opt[0] != '-' || opt[1] == '\0') {
			if (neg)
				goto usage;
			paths[npaths++] = opt;
			continue;
		}
		if (strcmp(opt, "--print0") == 0 || strcmp(opt, "-0") == 0) {
			lfs_fq.print0 = 1;
			continue;
		}
		if (strcmp(opt, "--print") == 0 || strcmp(opt, "-P") == 0)
			continue;
		if (i + 1 >= argc) {
			fprintf(stderr, "%s find: option '%s' needs a value\n",
			    lfs_prog, opt);
			goto usage;
		}
		val = argv[++i];
		if (strcmp(opt, "--stripe-count") == 0 ||
		    strcmp(opt, "--stripe_count") == 0 ||
		    strcmp(opt, "-c") == 0) {
			if (lfs_parse_num(val, &lfs_fq.count, 0, neg) < 0)
				goto bad;
		} else if (strcmp(opt, "--size") == 0 ||
		    strcmp(opt, "-s") == 0) {
			if (lfs_parse_num(val, &lfs_fq.size, 1, neg) < 0)
				goto bad;
		} else if (strcmp(opt, "--mtime") == 0 ||
		    strcmp(opt, "-M") == 0) {
			if (lfs_parse_num(val, &lfs_fq.mtime, 0, neg) < 0)
				goto bad;
		} else if (strcmp(opt, "--type") == 0 ||
		    strcmp(opt, "-t") == 0) {
			if (strlen(val) != 1)
				goto bad;
			switch (val[0]) {
			case 'f': lfs_fq.type = S_IFREG; break;
			case 'd': lfs_fq.type = S_IFDIR; break;
			case 'l': lfs_fq.type = S_IFLNK; break;
			case 'p': lfs_fq.type = S_IFIFO; break;
			case 's': lfs_fq.type = S_IFSOCK; break;
			case 'b': lfs_fq.type = S_IFBLK; break;
			case 'c': lfs_fq.type = S_IFCHR; break;
			default: goto bad;
			}
			lfs_fq.type_neg = neg;
		} else if (strcmp(opt, "--name") == 0 ||
		    strcmp(opt, "-n") == 0) {
			lfs_fq.name = val;
			lfs_fq.name_neg = neg;
		} else if (strcmp(opt, "--maxdepth") == 0 ||
		    strcmp(opt, "-D") == 0) {
			if (neg || lfs_parse_int(val, 0, INT_MAX, &v) < 0)
				goto bad;
			lfs_fq.maxdepth = (int)v;
		} else {
			fprintf(stderr, "%s find: unknown option '%s'\n",
			    lfs_prog, opt);
			goto usage;
		}
		neg = 0;
		continue;
bad:
		fprintf(stderr, "%s find: bad argument '%s' for '%s'\n",
		    lfs_prog, val, opt);
		goto usage;
	}
	if (npaths == 0) {
		fprintf(stderr, "%s find: missing directory or file\n",
		    lfs_prog);
		goto usage;
	}
	for (i = 0; i < npaths; i++) {
		rc = nftw(paths[i], lfs_find_cb, 32,
		    FTW_PHYS | FTW_ACTIONRETVAL);
		if (rc != 0) {
			rc = errno;
			fprintf(stderr, "%s find: cannot walk '%s': %s (%d)\n",
			    lfs_prog, paths[i], strerror(rc), rc);
			ret = 1;
		}
	}
	free(paths);
	return ret;
usage:
	lfs_find_usage();
	free(paths);
	return 1;
}

/* --- driver ------------------------------------------------------------- */

static int
lfs_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("lfs %s (fsx-local %s)\n", LFS_VERSION, fsx_version());
	return 0;
}

/* ---- HSM (the lustre.hsm xattr, msg.h), Lustre 2.12's output ---- */

/* Read a file's HSM text: flags, archive id, action, state, bytes moved
 * (absent from an older MDS: 0). */
static int
lfs_hsm_read(const char *path, unsigned *flags, unsigned *id, char *action,
    size_t acap, char *state, size_t scap, unsigned long long *moved)
{
	char buf[128], a[16], st[16];
	ssize_t n;
	int k;

	n = getxattr(path, MSG_XATTR_HSM, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*moved = 0;
	k = sscanf(buf, "%x %u %15s %15s %llu", flags, id, a, st, moved);
	if (k != 4 && k != 5)
		return -EIO;
	snprintf(action, acap, "%s", a);
	snprintf(state, scap, "%s", st);
	return 0;
}

static int
lfs_hsm_state(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: hsm_state FILE...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		unsigned f, id;
		unsigned long long moved;
		char a[16], st[16];
		int r = lfs_hsm_read(argv[i], &f, &id, a, sizeof(a), st,
		    sizeof(st), &moved);

		if (r < 0) {
			fprintf(stderr, "%s: cannot get hsm state for '%s': "
			    "%s\n", lfs_prog, argv[i], strerror(-r));
			rc = 1;
			continue;
		}
		printf("%s: (0x%08x)", argv[i], f);
		if (f & MSG_HSM_RELEASED)
			printf(" released");
		if (f & MSG_HSM_EXISTS)
			printf(" exists");
		if (f & MSG_HSM_DIRTY)
			printf(" dirty");
		if (f & MSG_HSM_ARCHIVED)
			printf(" archived");
		if (f & MSG_HSM_LOST)
			printf(" lost_from_hsm");
		if (id != 0)
			printf(", archive_id:%u", id);
		printf("\n");
	}
	return rc;
}

static int
lfs_hsm_action(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: hsm_action FILE...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		unsigned f, id;
		unsigned long long moved;
		char a[16], st[16];
		int r = lfs_hsm_read(argv[i], &f, &id, a, sizeof(a), st,
		    sizeof(st), &moved);

		if (r < 0) {
			fprintf(stderr, "%s: cannot get hsm action for '%s': "
			    "%s\n", lfs_prog, argv[i], strerror(-r));
			rc = 1;
			continue;
		}
		if (strcmp(a, "NOOP") == 0)
			printf("%s: NOOP\n", argv[i]);
		else
			printf("%s: %s %s (%llu bytes moved)\n", argv[i], a,
			    strcmp(st, "STARTED") == 0 ? "running" : "waiting",
			    moved);
	}
	return rc;
}

/* hsm_archive, hsm_release, hsm_restore: one request per file. */
static int
lfs_hsm_request(int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{ "archive",	required_argument, NULL, 'a' },
		{ "data",	required_argument, NULL, 'd' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "a:d:h", opts, NULL)) != -1) {
		if (ch == 'a' && strtoul(optarg, NULL, 10) > 32) {
			fprintf(stderr, "%s: invalid archive id '%s'\n",
			    lfs_prog, optarg);
			return 1;
		}
		if (ch == 'h' || ch == '?') {
			fprintf(stderr, "usage: hsm_%s [--archive|-a ID] "
			    "FILE...\n", verb);
			return ch == 'h' ? 0 : 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: hsm_%s [--archive|-a ID] FILE...\n",
		    verb);
		return 1;
	}
	for (int i = optind; i < argc; i++)
		if (setxattr(argv[i], MSG_XATTR_HSM, verb, strlen(verb),
		    0) < 0) {
			fprintf(stderr, "Cannot send HSM request (use of %s): "
			    "%s\n", argv[i], strerror(errno));
			rc = 1;
		}
	return rc;
}

static int
lfs_hsm_archive(int argc, char **argv)
{
	return lfs_hsm_request(argc, argv, "archive");
}

static int
lfs_hsm_release(int argc, char **argv)
{
	return lfs_hsm_request(argc, argv, "release");
}

static int
lfs_hsm_restore(int argc, char **argv)
{
	return lfs_hsm_request(argc, argv, "restore");
}

struct lfs_cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
};

static const struct lfs_cmd lfs_cmds[] = {
	{ "setstripe", lfs_setstripe,
	  "Create a file with a layout, or set a directory's default layout.\n"
	  "usage: setstripe [--stripe-count|-c N] [--stripe-size|-S SIZE] "
	  "[--stripe-index|-i IDX] FILE|DIR..." },
	{ "getstripe", lfs_getstripe,
	  "Show the layout of files and the default layout of directories.\n"
	  "usage: getstripe [-c] [-S] [-i] [-d] [-q] FILE|DIR..." },
	{ "df", lfs_df,
	  "Show space or inode usage per MDT and OST, and a summary.\n"
	  "usage: df [--human-readable|-h] [--inodes|-i] [PATH]" },
	{ "find", lfs_find,
	  "Find files by name, type, size, mtime and stripe count.\n"
	  "usage: find DIR... [--stripe-count|-c [+-]N] [--size|-s [+-]N[kMGT]]"
	  " [--type|-t f|d|l] [--name|-n GLOB] [--mtime|-M [+-]DAYS]" },
	{ "hsm_state", lfs_hsm_state,
	  "Display the HSM information (states, flags) for given files.\n"
	  "usage: hsm_state FILE..." },
	{ "hsm_action", lfs_hsm_action,
	  "Display the current HSM request for given files.\n"
	  "usage: hsm_action FILE..." },
	{ "hsm_archive", lfs_hsm_archive,
	  "Archive file to external storage.\n"
	  "usage: hsm_archive [--archive|-a ID] FILE..." },
	{ "hsm_release", lfs_hsm_release,
	  "Remove file's data from the file system (it stays archived).\n"
	  "usage: hsm_release FILE..." },
	{ "hsm_restore", lfs_hsm_restore,
	  "Restore file data from external storage.\n"
	  "usage: hsm_restore FILE..." },
	{ "help", lfs_help,
	  "Show the commands, or one command's usage.\n"
	  "usage: help [COMMAND]" },
	{ "--version", lfs_version, "Print the version.\nusage: --version" },
	{ NULL, NULL, NULL }
};

static int
lfs_help(int argc, char **argv)
{
	const struct lfs_cmd	*c;

	if (argc > 1) {
		for (c = lfs_cmds; c->name != NULL; c++) {
			if (strcmp(c->name, argv[1]) == 0) {
				printf("%s: %s\n", c->name, c->help);
				return 0;
			}
		}
		fprintf(stderr, "%s: no help for '%s': unknown command\n",
		    lfs_prog, argv[1]);
		return 1;
	}
	printf("Available commands are:\n");
	for (c = lfs_cmds; c->name != NULL; c++)
		printf("\t%s\n", c->name);
	printf("For more help type: help command-name\n");
	return 0;
}

int
main(int argc, char **argv)
{
	const struct lfs_cmd	*c;

	if (argc < 2) {
		lfs_help(1, argv);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return lfs_help(1, argv);
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0)
		return lfs_version(0, NULL);
	for (c = lfs_cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n"
	    "Try '%s help' for the list of commands.\n", lfs_prog, argv[1],
	    lfs_prog);
	return 1;
}
