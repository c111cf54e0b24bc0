/*
 * fsxd: the FSx for Lustre control plane. Serves the FSx API on loopback,
 * keeps state in SQLite under --state-dir, and runs the provisioner that
 * starts each file system's engine processes.
 *
 * Configuration, lowest precedence first: built-in defaults (AWS's quota
 * defaults), the config file (--config, default STATE/fsxd.conf if
 * present; lines "key = value" with the long option names), environment
 * FSXD_<KEY> (upper case, '-' as '_'), then command-line flags.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "api_fs.h"
#include "core/conf.h"
#include "core/lockfile.h"
#include "core/version.h"
#include "auth/creds.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "http/http.h"
#include "prov.h"

/* How long a busy state dir lock is retried before fsxd refuses to start. */
#define FSXD_LOCK_WAIT_MS	2000

static volatile sig_atomic_t fsxd_stop;

enum opt_kind { O_STR, O_INT, O_LONG, O_SIZE, O_DBL, O_BOOL, O_LOG, O_RANGE,
    O_NODE };

struct opt_def {
	const char	*name;
	enum opt_kind	 kind;
	size_t		 off;
	size_t		 len;		/* O_STR buffer size */
	const char	*help;
};

#define OPT(n, k, f, h) { n, k, offsetof(struct fsxd_conf, f), \
	sizeof(((struct fsxd_conf *)0)->f), h }

static const struct opt_def opts[] = {
	OPT("listen", O_STR, listen, "address to bind (default 127.0.0.1)"),
	OPT("port", O_INT, port, "port (default 4566; 0 picks a free one)"),
	OPT("state-dir", O_STR, state_dir, "state directory (default ./var)"),
	OPT("bin-dir", O_STR, bin_dir, "where fsx-mds and fsx-oss are (default: fsxd's own directory)"),
	OPT("credentials", O_STR, creds_file, "credentials file: lines 'ACCESS_KEY SECRET ACCOUNT_ID [SESSION_TOKEN]'"),
	OPT("region", O_STR, region, "default region (default us-east-1)"),
	OPT("any-access-key", O_BOOL, any_key, "accept any access key without checking signatures (LESS SAFE; for suites with random credentials)"),
	OPT("skew", O_INT, skew_sec, "SigV4 clock skew window, seconds (default 300)"),
	OPT("body-max", O_SIZE, body_max, "request body cap, bytes (default 1048576)"),
	OPT("threads", O_INT, threads, "HTTP threads (default: number of cores)"),
	OPT("conn-timeout", O_INT, conn_timeout, "seconds before an idle or stalled HTTP connection is closed (default 60)"),
	OPT("log-level", O_LOG, log_level, "error, warn, info or debug (default info)"),
	OPT("quota-file-systems", O_LONG, q_fs_count, "Lustre file systems per deployment class (default 100)"),
	OPT("quota-storage", O_LONG, q_total_storage, "GiB per deployment class (default 100800)"),
	OPT("quota-tags", O_LONG, q_tags, "tags per resource (default 50)"),
	OPT("engine-listen", O_STR, engine_listen, "address engine processes bind (default 127.0.0.1; 0.0.0.0 for every interface)"),
	OPT("engine-advertise", O_STR, engine_advertise, "address clients are told to reach engines at (default: --engine-listen; required with 0.0.0.0)"),
	OPT("engine-ports", O_RANGE, engine_port_lo, "engine ports, LO-HI (default: any free port)"),
	OPT("node", O_NODE, nodes, "a storage node (repeatable): 'NAME driver=local|ssh [host=[USER@]HOST] address=ADDR dir=DIR [bin=DIR] [capacity=GiB] [key=FILE]'"),
	OPT("max-oss", O_INT, max_oss, "OSS processes per file system at create (default 4)"),
	OPT("max-ost", O_INT, max_ost, "OSTs per file system (default 32)"),
	OPT("update-gap", O_DBL, update_gap_sec, "seconds between storage increases (default 21600, AWS's 6 h)"),
	OPT("create-delay", O_DBL, create_delay_sec, "extra seconds in CREATING, to watch transitions (default 0)"),
	OPT("quota-backups", O_LONG, q_backups, "user-initiated backups per account and region (default 500)"),
	OPT("quota-backup-copies", O_LONG, q_copies, "in-progress backup copies per account and region (default 5)"),
	OPT("day-seconds", O_DBL, day_seconds, "seconds in a day of the automatic-backup clock (default 86400; e.g. 60 to watch daily backups)"),
	OPT("s3-endpoint", O_STR, s3_endpoint, "S3 endpoint for data repositories (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS's)"),
	OPT("s3-region", O_STR, s3_region, "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)"),
	OPT("s3-access-key", O_STR, s3_access_key, "S3 access key id (default: AWS_ACCESS_KEY_ID; prefer the config file or environment)"),
	OPT("s3-secret-key", O_STR, s3_secret_key, "S3 secret key (default: AWS_SECRET_ACCESS_KEY; prefer the config file or environment)"),
	OPT("s3-session-token", O_STR, s3_session_token, "S3 session token (default: AWS_SESSION_TOKEN)"),
	OPT("hsm-poll-ms", O_INT, hsm_poll_ms, "how often fsx-hsm polls buckets for auto-import, ms (default 1000)"),
	{ NULL, O_STR, 0, 0, NULL }
};

static void
conf_defaults(struct fsxd_conf *c, const char *argv0)
{
	char self[PATH_MAX];
	ssize_t n;

	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1");
	c->port = 4566;
	snprintf(c->state_dir, sizeof(c->state_dir), "./var");
	snprintf(c->region, sizeof(c->region), "us-east-1");
	c->skew_sec = 300;
	c->body_max = 1 << 20;
	c->conn_timeout = 60;
	c->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (c->threads < 1)
		c->threads = 1;
	c->log_level = LOG_INFO;
	c->q_fs_count = 100;
	c->q_total_storage = 100800;
	c->q_tags = 50;
	snprintf(c->engine_listen, sizeof(c->engine_listen), "127.0.0.1");
	c->max_oss = 4;
	c->max_ost = 32;
	c->update_gap_sec = 6 * 3600;
	c->q_backups = 500;
	c->q_copies = 5;
	c->day_seconds = 86400;
	c->hsm_poll_ms = 1000;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(c->bin_dir, sizeof(c->bin_dir), "%s", self);
	} else {
		snprintf(c->bin_dir, sizeof(c->bin_dir), "%s", argv0);
	}
}

/*
 * "NAME key=value ..." into the next node. Keys: driver (local|ssh), host,
 * address, dir, bin, capacity, key. 0 or -EINVAL.
 */
static int
conf_node_add(struct fsxd_conf *c, const char *val)
{
	struct conf_node *n;
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (c->nnodes >= CONF_NODES_MAX)
		return -ENOSPC;
	n = &c->nodes[c->nnodes];
	memset(n, 0, sizeof(*n));
	copy = xstrdup(val);
	tok = strtok_r(copy, " \t", &save);
	if (tok == NULL || strchr(tok, '=') != NULL ||
	    strlen(tok) >= sizeof(n->name)) {
		rc = -EINVAL;
		goto out;
	}
	snprintf(n->name, sizeof(n->name), "%s", tok);
	while (rc == 0 && (tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *v = strchr(tok, '='), *end;
		struct { const char *k; char *dst; size_t len; } s[] = {
			{ "host", n->host, sizeof(n->host) },
			{ "address", n->address, sizeof(n->address) },
			{ "dir", n->dir, sizeof(n->dir) },
			{ "bin", n->bin, sizeof(n->bin) },
			{ "key", n->key, sizeof(n->key) },
		};
		size_t i;

		if (v == NULL) {
			rc = -EINVAL;
			break;
		}
		*v++ = '\0';
		if (strcmp(tok, "driver") == 0) {
			n->ssh = strcmp(v, "ssh") == 0;
			if (!n->ssh && strcmp(v, "local") != 0)
				rc = -EINVAL;
			continue;
		}
		if (strcmp(tok, "capacity") == 0) {
			n->capacity = strtoll(v, &end, 10);
			if (*end != '\0' || n->capacity < 0)
				rc = -EINVAL;
			continue;
		}
		for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
			if (strcmp(tok, s[i].k) != 0)
				continue;
			if (strlen(v) >= s[i].len)
				rc = -EINVAL;
			else
				memcpy(s[i].dst, v, strlen(v) + 1);
			break;
		}
		if (i == sizeof(s) / sizeof(s[0]))
			rc = -EINVAL;
	}
	if (rc == 0 && (n->address[0] == '\0' || n->dir[0] == '\0' ||
	    (n->ssh && n->host[0] == '\0')))
		rc = -EINVAL;
	if (rc == 0) {
		memcpy(n->listen, n->address, sizeof(n->listen));
		c->nnodes++;
	}
out:
	free(copy);
	return rc;
}

static int
conf_set(struct fsxd_conf *c, const char *key, const char *val)
{
	for (const struct opt_def *o = opts; o->name != NULL; o++) {
		char *p = (char *)c + o->off, *end;

		if (strcmp(o->name, key) != 0)
			continue;
		errno = 0;
		switch (o->kind) {
		case O_STR:
			if (strlen(val) >= o->len)
				return -ENAMETOOLONG;
			snprintf(p, o->len, "%s", val);
			return 0;
		case O_INT:
			*(int *)p = (int)strtol(val, &end, 10);
			break;
		case O_LONG:
			*(long *)p = strtol(val, &end, 10);
			break;
		case O_SIZE:
			*(size_t *)p = (size_t)strtoull(val, &end, 10);
			break;
		case O_DBL:
			*(double *)p = strtod(val, &end);
			break;
		case O_BOOL:
			*(int *)p = strcmp(val, "1") == 0 || strcmp(val, "true") == 0 ||
			    strcmp(val, "yes") == 0;
			return 0;
		case O_LOG:
			*(int *)p = log_parse_level(val);
			return *(int *)p < 0 ? -EINVAL : 0;
		case O_NODE:
			return conf_node_add(c, val);
		case O_RANGE: {		/* "LO-HI" into two ints */
			int *r = (int *)p;
			long lo, hi;

			lo = strtol(val, &end, 10);
			if (end == val || *end != '-')
				return -EINVAL;
			hi = strtol(end + 1, &end, 10);
			if (*end != '\0' || lo < 1 || hi > 65535 || lo > hi)
				return -EINVAL;
			r[0] = (int)lo;
			r[1] = (int)hi;
			return 0;
		}
		}
		return (errno != 0 || *end != '\0' || end == val) ? -EINVAL : 0;
	}
	return -ENOENT;
}

static void
conf_file(struct fsxd_conf *c, const char *path, int must)
{
	char line[2048];
	FILE *f = fopen(path, "re");
	int ln = 0;

	if (f == NULL) {
		if (must)
			fatal("config %s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *e;

		ln++;
		k += strspn(k, " \t");
		if (*k == '#' || *k == '\n' || *k == '\0')
			continue;
		v = strchr(k, '=');
		if (v == NULL)
			fatal("config %s:%d: expected key = value", path, ln);
		*v++ = '\0';
		for (e = v + strlen(v); e > v && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = '\0';
		v += strspn(v, " \t");
		for (e = k + strlen(k); e > k && strchr(" \t", e[-1]); e--)
			;
		*e = '\0';
		if (conf_set(c, k, v) < 0)
			fatal("config %s:%d: bad setting '%s'", path, ln, k);
	}
	fclose(f);
}

static void
conf_env(struct fsxd_conf *c)
{
	for (const struct opt_def *o = opts; o->name != NULL; o++) {
		char name[64];
		const char *v;
		size_t i;

		snprintf(name, sizeof(name), "FSXD_%s", o->name);
		for (i = 5; name[i]; i++)
			name[i] = name[i] == '-' ? '_' : (char)(name[i] & ~0x20);
		v = getenv(name);
		if (v != NULL && conf_set(c, o->name, v) < 0)
			fatal("environment %s: bad value", name);
	}
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: fsxd [--config FILE] [--OPTION VALUE ...]\n\n"
	    "The Amazon FSx for Lustre API on this machine, backed by real\n"
	    "file systems: point `aws fsx --endpoint-url http://127.0.0.1:4566`\n"
	    "at it.\n\noptions (also as 'key = value' lines in the config file,\n"
	    "or FSXD_KEY environment variables):\n"
	    "  --config FILE               config file (default STATE/fsxd.conf)\n"
	    "  --version                   print the version\n");
	for (const struct opt_def *o = opts; o->name != NULL; o++)
		fprintf(out, "  --%-24s %s\n", o->name, o->help);
	fprintf(out, "  --help                      this text\n");
}

/*
 * The state dir holds every file system's secret and data: make it 0700
 * (and its fs/ and run/ trees) even when it already existed, and take its
 * lock, so a second fsxd on the same state dir refuses to start instead of
 * fighting the first over its engine processes.
 */
static int
state_dir_private(struct fsxd_conf *c)
{
	static const char *const sub[] = { "", "/fs", "/run" };
	char abs[PATH_MAX];
	pid_t holder;
	int rc, fd;

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		char *p = xasprintf("%s%s", c->state_dir, sub[i]);

		rc = mkdir_p(p, 0700);
		if (rc == 0 && chmod(p, 0700) < 0)
			rc = -errno;
		if (rc < 0)
			fatal("state dir %s: %s", p, strerror(-rc));
		free(p);
	}
	if (realpath(c->state_dir, abs) != NULL)
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", abs);
	/*
	 * A child fsxd forked to start an engine shares the lock's open file
	 * description until it closes it (closefrom, before exec): a restart
	 * right after kill -9 of fsxd can find it held for that moment. A
	 * live fsxd holds it for good, so waiting a little tells them apart.
	 */
	for (int ms = 0;; ms += 20) {
		fd = store_lock(c->state_dir, &holder);
		if (fd != -EBUSY || ms >= FSXD_LOCK_WAIT_MS)
			break;
		usleep(20 * 1000);
	}
	if (fd == -EBUSY)
		fatal("state dir %s is in use by fsxd pid %d", c->state_dir,
		    (int)holder);
	if (fd < 0)
		fatal("state dir %s: lock: %s", c->state_dir, strerror(-fd));
	return fd;		/* held until exit */
}

/* Without configured nodes, one: this host, the state dir. Nodes without
 * bin use fsxd's own. */
static void
conf_nodes_default(struct fsxd_conf *c)
{
	for (int i = 0; i < c->nnodes; i++)
		if (c->nodes[i].bin[0] == '\0')
			snprintf(c->nodes[i].bin, sizeof(c->nodes[i].bin), "%s",
			    c->bin_dir);
	if (c->nnodes > 0)
		return;
	snprintf(c->nodes[0].name, sizeof(c->nodes[0].name), "local");
	snprintf(c->nodes[0].listen, sizeof(c->nodes[0].listen), "%s",
	    c->engine_listen);
	snprintf(c->nodes[0].address, sizeof(c->nodes[0].address), "%s",
	    c->engine_advertise);
	snprintf(c->nodes[0].dir, sizeof(c->nodes[0].dir), "%s", c->state_dir);
	snprintf(c->nodes[0].bin, sizeof(c->nodes[0].bin), "%s", c->bin_dir);
	c->nnodes = 1;
}

static void
on_signal(int sig)
{
	(void)sig;
	fsxd_stop = 1;
}

int
main(int argc, char **argv)
{
	struct option lopts[64];
	struct fsxd_conf conf;
	const char *config = NULL;
	struct http_srv *srv;
	char *dbpath, *cfg;
	int n = 0, rc, c;

	fsx_version_flag(argc, argv, "fsxd");
	conf_defaults(&conf, argv[0]);
	for (const struct opt_def *o = opts; o->name != NULL; o++, n++) {
		lopts[n].name = o->name;
		lopts[n].has_arg = o->kind == O_BOOL ? optional_argument :
		    required_argument;
		lopts[n].flag = NULL;
		lopts[n].val = 1000 + n;
	}
	lopts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ NULL, 0, NULL, 0 };

	/* First pass: only --config and --help. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'c')
			config = optarg;
	}
	conf_env(&conf);
	cfg = config ? xstrdup(config) : xasprintf("%s/fsxd.conf", conf.state_dir);
	conf_file(&conf, cfg, config != NULL);
	free(cfg);
	conf_env(&conf);
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (c >= 1000) {
			const struct opt_def *o = &opts[c - 1000];

			if (conf_set(&conf, o->name, optarg ? optarg :
			    (o->kind == O_BOOL ? "1" : "")) < 0) {
				fprintf(stderr, "fsxd: bad value for --%s\n", o->name);
				return 2;
			}
		} else if (c != 'c') {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	log_init("fsxd", (enum log_level)conf.log_level);
	if (conf.engine_advertise[0] == '\0') {
		if (strcmp(conf.engine_listen, "0.0.0.0") == 0 ||
		    strcmp(conf.engine_listen, "::") == 0)
			fatal("--engine-listen %s needs --engine-advertise: the"
			    " address clients reach the engines at",
			    conf.engine_listen);
		if (strlen(conf.engine_listen) >= sizeof(conf.engine_advertise))
			fatal("--engine-listen %s: too long to advertise",
			    conf.engine_listen);
		memcpy(conf.engine_advertise, conf.engine_listen,
		    strlen(conf.engine_listen) + 1);
	}

	(void)state_dir_private(&conf);
	conf_nodes_default(&conf);
	dbpath = xasprintf("%s/fsxd.db", conf.state_dir);
	rc = db_init(dbpath);
	if (rc < 0)
		fatal("database %s: %s", dbpath, strerror(-rc));
	free(dbpath);
	rc = api_model_init();
	if (rc < 0)
		fatal("API model: %s", strerror(-rc));
	rc = creds_init(conf.creds_file[0] ? conf.creds_file : NULL, conf.any_key);
	if (rc < 0)
		fatal("credentials: %s", strerror(-rc));
	if (conf.any_key)
		log_warn("any access key is accepted and signatures are not checked"
		    " (--any-access-key)");

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = prov_start(&conf, api_fs_apply);
	if (rc < 0)
		fatal("provisioner: %s", strerror(-rc));
	srv = http_start(&conf, &rc);
	if (srv == NULL)
		fatal("listen %s:%d: %s%s", conf.listen, conf.port, strerror(-rc),
		    rc == -EADDRINUSE ? " (is another fsxd running on this port?)" : "");
	log_info("fsxd listening on http://%s:%d state %s", conf.listen,
	    http_port(srv), conf.state_dir);
	/* A line tests and scripts can wait for. */
	printf("fsxd ready on %s:%d\n", conf.listen, http_port(srv));
	fflush(stdout);
	while (!fsxd_stop)
		pause();
	log_info("fsxd stopping");
	http_stop(srv);
	prov_stop();
	db_thread_fini();
	return 0;
}
