/*
 * fsx-hsm: the S3 agent (copytool) of one file system (docs/hsm.md).
 *
 *   fsx-hsm --dir STORE --listen HOST:PORT --secret-file FILE
 *           [--port-file FILE] [--pid-file FILE] [--log-level L]
 *
 * Like fsx-mds and fsx-oss: the store is locked (STORE/LOCK, see
 * core/lockfile.h) for the life of the process, HELLO with the file
 * system's secret, PING, STATS and SHUTDOWN from the shared server, the
 * bound port written to the port file once it accepts. Everything else it
 * must know (the MDS's address, S3 endpoint and credentials, the
 * associations) arrives in HSM_CONF from fsxd; its own record of
 * associations and tasks is kept in STORE/state.json. The secret is also
 * the one it shows the MDS and OSSes as their privileged client.
 *
 * SIGTERM or SIGINT (or SHUTDOWN) ends it cleanly; the pid file is removed
 * on exit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/log.h"
#include "core/util.h"
#include "core/version.h"
#include "hsm/hsm.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"

#define HSM_KIND	3	/* HELLO/PING kind: 1 MDS, 2 OSS, 3 HSM */

/* SIGTERM, SIGINT (engine_signals_serve): stop serving. */
static void
stop_on_signal(void *arg)
{
	msg_srv_stop(arg);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fsx-hsm --dir DIR --listen HOST:PORT "
	    "--secret-file FILE\n"
	    "               [--port-file FILE] [--pid-file FILE] "
	    "[--log-level L]\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL, *listen_at = NULL, *port_file = NULL;
	const char *secret_file = NULL, *pid_file = NULL;
	static struct hsm h;
	struct msg_srv_conf conf;
	struct msg_srv *srv;
	char host[256];
	int lvl = LOG_INFO, ch, rc, port;

	fsx_version_flag(argc, argv, "fsx-hsm");

	log_init("fsx-hsm", LOG_INFO);
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			listen_at = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'P':
			pid_file = optarg;
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
	if (optind != argc || dir == NULL || listen_at == NULL ||
	    secret_file == NULL)
		usage();
	log_init("fsx-hsm", (enum log_level)lvl);

	memset(&conf, 0, sizeof(conf));
	rc = msg_secret_load(secret_file, conf.secret);
	if (rc < 0)
		fatal("secret file %s: %s", secret_file, strerror(-rc));
	if (parse_hostport(listen_at, host, sizeof(host), &port) < 0)
		fatal("bad --listen '%s'", listen_at);
	(void)engine_nofile_raise();
	/* before the pid file: a second agent must not touch the first's */
	(void)engine_store_lock(dir);	/* held until we exit */
	rc = hsm_init(&h, dir);
	if (rc < 0)
		fatal("store %s: %s", dir, strerror(-rc));
	memcpy(h.secret, conf.secret, sizeof(h.secret));

	conf.kind = HSM_KIND;
	conf.dispatch = hsm_dispatch;
	conf.stats = hsm_stats;
	srv = msg_srv_new(&conf, &h);
	explicit_bzero(conf.secret, sizeof(conf.secret));
	if (srv == NULL)
		fatal("out of memory");

	engine_signals_block();
	engine_pid_file(pid_file);
	rc = hsm_worker_start(&h);
	if (rc == 0)
		rc = hsm_restore_start(&h);
	if (rc < 0)
		fatal("worker threads: %s", strerror(-rc));
	rc = msg_srv_listen(srv, host, port, port_file);
	if (rc < 0) {
		if (pid_file != NULL)
			unlink(pid_file);
		fatal("listen on %s: %s", listen_at, strerror(-rc));
	}
	engine_signals_serve(stop_on_signal, srv);
	log_info("serving %s on %s port %d", dir, host, msg_srv_port(srv));

	rc = msg_srv_run(srv);
	log_info("stopping");
	hsm_restore_stop(&h);
	hsm_worker_stop(&h);
	msg_srv_free(srv);
	hsm_fini(&h);
	if (pid_file != NULL)
		unlink(pid_file);
	return rc < 0 ? 1 : 0;
}
