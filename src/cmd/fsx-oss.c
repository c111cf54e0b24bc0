/*
 * fsx-oss: the object storage server of one file system.
 *
 *   fsx-oss --listen HOST:PORT --port-file FILE --secret-file FILE
 *           --ost IDX:DIR[:CAPACITY_BYTES] [--ost ...] [--pid-file FILE]
 *           [--fd-cache N] [--buffered-io]
 *           [--log-level err|warn|info|debug]
 *
 * An OST's capacity (its quota) is set by MSG_OP_OST_SETCAP, which fsxd
 * sends after every start; it is kept in DIR/CAPACITY, so a restarted OSS
 * enforces the last one at once. A CAPACITY_BYTES given here (tests,
 * benchmarks) is applied and stored as if sent by SETCAP.
 *
 * Each OST directory is locked (DIR/LOCK, see core/lockfile.h) for the life
 * of the process: if another process serves it, fsx-oss exits 1 with
 * "store DIR is in use by pid N".
 *
 * --buffered-io sends every transfer through the page cache; by default
 * large aligned ones use O_DIRECT (see obj_io_fd in src/oss/oss.c).
 *
 * PORT 0 picks a free port; the bound port is written to the port file
 * once the server accepts connections. SIGTERM or SIGINT (or a SHUTDOWN
 * request) ends it cleanly; the pid file is removed on exit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/log.h"
#include "core/version.h"
#include "core/util.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"
#include "oss/oss.h"

static struct msg_srv *volatile oss_srv;

static void
on_signal(int sig)
{
	(void)sig;
	if (oss_srv != NULL)
		msg_srv_stop(oss_srv);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fsx-oss --listen HOST:PORT --port-file FILE "
	    "--secret-file FILE --ost IDX:DIR[:CAPACITY] [--ost ...]\n"
	    "               [--pid-file FILE] [--fd-cache N] "
	    "[--buffered-io] [--log-level L]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "ost", required_argument, NULL, 'o' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "fd-cache", required_argument, NULL, 'f' },
		{ "buffered-io", no_argument, NULL, 'B' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen_at = NULL, *port_file = NULL, *secret_file = NULL;
	const char *pid_file = NULL;
	const char *ost_spec[OSS_OST_MAX];
	int nspec = 0, fdcache = 0, buffered = 0, lvl = LOG_INFO, ch, rc, port;
	char host[256];
	struct msg_srv_conf conf;
	struct sigaction sa;
	struct oss *o;

	fsx_version_flag(argc, argv, "fsx-oss");

	log_init("fsx-oss", LOG_INFO);
	for (;;) {
		ch = getopt_long(argc, argv, "h", opts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'l':
			listen_at = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'o':
			if (nspec >= OSS_OST_MAX)
				fatal("too many --ost (max %d)", OSS_OST_MAX);
			ost_spec[nspec++] = optarg;
			break;
		case 'P':
			pid_file = optarg;
			break;
		case 'f':
			fdcache = atoi(optarg);
			/* each entry may hold two descriptors (O_DIRECT) */
			if (fdcache < 16 || fdcache > 8192)
				fatal("--fd-cache must be 16..8192");
			break;
		case 'B':
			buffered = 1;
			break;
		case 'L':
			lvl = log_parse_level(optarg);
			if (lvl < 0)
				fatal("unknown log level '%s'", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || listen_at == NULL || secret_file == NULL ||
	    nspec == 0)
		usage();
	log_init("fsx-oss", (enum log_level)lvl);

	memset(&conf, 0, sizeof(conf));
	rc = msg_secret_load(secret_file, conf.secret);
	if (rc < 0)
		fatal("secret file %s: %s", secret_file, strerror(-rc));
	if (parse_hostport(listen_at, host, sizeof(host), &port) < 0)
		fatal("bad --listen '%s'", listen_at);

	(void)engine_nofile_raise();	/* clients and pending peers */
	o = oss_new(fdcache);
	if (o == NULL)
		fatal("out of memory");
	oss_set_direct(o, !buffered);
	for (int i = 0; i < nspec; i++) {
		char dir[PATH_MAX];
		uint64_t cap;
		uint32_t idx;

		if (oss_ost_parse(ost_spec[i], &idx, dir, sizeof(dir),
		    &cap) < 0)
			fatal("bad --ost '%s' (IDX:DIR[:CAPACITY_BYTES])",
			    ost_spec[i]);
		(void)engine_store_lock(dir);	/* held until we exit */
		rc = oss_ost_add(o, idx, dir, cap);
		if (rc < 0)
			fatal("ost %u at %s: %s", idx, dir, strerror(-rc));
	}

	conf.kind = 2;
	conf.nost = (uint32_t)oss_nost(o);
	conf.dispatch = oss_dispatch;
	conf.stats = oss_stats;
	oss_srv = msg_srv_new(&conf, o);
	explicit_bzero(conf.secret, sizeof(conf.secret));
	if (oss_srv == NULL)
		fatal("out of memory");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (pid_file != NULL) {
		char txt[32];
		int n = snprintf(txt, sizeof(txt), "%d\n", (int)getpid());

		rc = file_write_atomic(pid_file, txt, (size_t)n);
		if (rc < 0)
			fatal("pid file %s: %s", pid_file, strerror(-rc));
	}
	rc = msg_srv_listen(oss_srv, host, port, port_file);
	if (rc < 0) {
		if (pid_file != NULL)
			unlink(pid_file);
		fatal("listen on %s: %s", listen_at, strerror(-rc));
	}
	log_info("serving %d OST(s) on %s port %d", oss_nost(o), host,
	    msg_srv_port(oss_srv));

	rc = msg_srv_run(oss_srv);
	log_info("stopping");
	{
		struct msg_srv *s = oss_srv;

		oss_srv = NULL;
		msg_srv_free(s);
	}
	oss_free(o);
	if (pid_file != NULL)
		unlink(pid_file);
	return rc < 0 ? 1 : 0;
}
