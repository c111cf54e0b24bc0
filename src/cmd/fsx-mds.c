/*
 * fsx-mds: the metadata server of one file system.
 *
 *   fsx-mds --dir DIR --listen HOST:PORT --port-file FILE
 *           --secret-file FILE [--pid-file FILE]
 *           [--log-level err|warn|info|debug] [--revoke-ms MS]
 *           [--lease-max N]
 *
 * --revoke-ms: how long a client may take to answer a lease revocation
 * before it is evicted (default 2000; docs/leases.md).
 * --lease-max: leases one client may hold, 64 to 131072 (the default,
 * MDS_LEASE_MAX: what fsx-mount's cache holds); from 7/8 of it the client
 * is asked to give its oldest back (docs/leases.md, "Giving leases
 * back"). Smaller caps are for tests and for many clients on a small MDS.
 *
 * DIR holds the namespace (DIR/mds.db) and is locked (DIR/LOCK, see
 * core/lockfile.h) for the life of the process: a second fsx-mds on the
 * same DIR exits 1 with "store DIR is in use by pid N". The OST map is
 * kept in DIR too and changes only by MSG_OP_MDS_OSTADD and
 * MSG_OP_OST_SETCAP (see msg.h). PORT 0 picks a free port, written to the
 * port file once connections are accepted. SIGTERM or SIGINT (or a
 * SHUTDOWN request) ends it cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/log.h"
#include "core/version.h"
#include "core/util.h"
#include "mds/mds_lease.h"
#include "mds/mds_srv.h"
#include "msg/msg.h"

/* SIGTERM, SIGINT (engine_signals_serve): stop serving. */
static void
stop_on_signal(void *arg)
{
	mds_srv_stop(arg);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fsx-mds --dir DIR --listen HOST:PORT "
	    "--port-file FILE --secret-file FILE\n"
	    "               [--pid-file FILE] [--log-level L] "
	    "[--revoke-ms MS]\n"
	    "               [--lease-max N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "revoke-ms", required_argument, NULL, 'R' },
		{ "lease-max", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen_at = NULL, *secret_file = NULL, *pid_file = NULL;
	struct mds_srv_conf conf;
	struct mds_srv *m = NULL;
	char host[256];
	int lvl = LOG_INFO, ch, rc;

	fsx_version_flag(argc, argv, "fsx-mds");

	log_init("fsx-mds", LOG_INFO);
	memset(&conf, 0, sizeof(conf));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			conf.dir = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'p':
			conf.port_file = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'P':
			pid_file = optarg;
			break;
		case 'R':
			conf.revoke_ms = atoi(optarg);
			if (conf.revoke_ms <= 0)
				fatal("--revoke-ms wants a positive number");
			break;
		case 'M': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-' || v < 64 || v > MDS_LEASE_MAX)
				fatal("--lease-max wants a number from 64 to "
				    "%d", MDS_LEASE_MAX);
			conf.lease_max = (unsigned)v;
			break;
		}
		case 'L':
			lvl = log_parse_level(optarg);
			if (lvl < 0)
				fatal("unknown log level '%s'", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || conf.dir == NULL || listen_at == NULL ||
	    secret_file == NULL)
		usage();
	log_init("fsx-mds", (enum log_level)lvl);
	rc = msg_secret_load(secret_file, conf.secret);
	if (rc < 0)
		fatal("secret file %s: %s", secret_file, strerror(-rc));
	if (parse_hostport(listen_at, host, sizeof(host), &conf.port) < 0)
		fatal("bad --listen '%s'", listen_at);
	conf.host = host;
	(void)engine_nofile_raise();	/* clients and pending peers */
	/* before the pid file: a second MDS must not touch the first's */
	(void)engine_store_lock(conf.dir);	/* held until we exit */

	engine_signals_block();
	engine_pid_file(pid_file);
	rc = mds_srv_new(&conf, &m);
	explicit_bzero(conf.secret, sizeof(conf.secret));
	if (rc < 0) {
		if (pid_file != NULL)
			unlink(pid_file);
		fatal("cannot start: %s", strerror(-rc));
	}
	engine_signals_serve(stop_on_signal, m);
	log_info("serving %s on %s", conf.dir, listen_at);

	rc = mds_srv_run(m);
	log_info("stopping");
	mds_srv_free(m);
	if (pid_file != NULL)
		unlink(pid_file);
	return rc < 0 ? 1 : 0;
}
