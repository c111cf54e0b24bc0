/*
 * fsxd's configuration: one struct, filled by src/cmd/fsxd.c from defaults,
 * the config file, FSXD_* environment variables and flags (in that order),
 * then read-only for the daemon's life. Every layer (http, api,
 * provisioner) takes it by const pointer; none of them owns it.
 */
#ifndef FSX_CONF_H
#define FSX_CONF_H

#include <stddef.h>

#define CONF_NODES_MAX	16

/*
 * A storage node: where engine processes run. Without any configured, fsxd
 * has one, "local": this host, the state dir, --engine-listen/-advertise.
 */
struct conf_node {
	char		 name[32];
	int		 ssh;			/* 0: local fork/exec; 1: over ssh */
	char		 host[128];		/* ssh destination, [user@]host */
	char		 listen[48];		/* what its engines bind */
	char		 address[48];		/* what clients are told */
	char		 dir[4096];		/* data root: fs/, run/ */
	char		 bin[4096];		/* fsx-mds, fsx-oss, fsx-node */
	char		 key[1024];		/* ssh identity; "" for ssh's own */
	long long	 capacity;		/* GiB offered; 0: unbounded */
};

struct fsxd_conf {
	char		 listen[64];		/* address to bind, loopback by default */
	int		 port;
	char		 state_dir[4096];
	char		 bin_dir[4096];		/* where fsx-mds / fsx-oss live */
	char		 creds_file[4096];
	char		 region[32];		/* default region for unsigned paths */
	int		 any_key;		/* accept any access key (less safe) */
	int		 skew_sec;		/* SigV4 clock skew window */
	size_t		 body_max;		/* request body cap, bytes */
	int		 threads;		/* HTTP thread pool size */
	int		 conn_timeout;		/* idle HTTP connection, seconds */
	int		 log_level;
	/* quotas, AWS's defaults */
	long		 q_fs_count;		/* Lustre file systems per class */
	long		 q_total_storage;	/* GiB per class */
	long		 q_tags;		/* per resource */
	/* engine network: what engines bind, what clients are told, ports */
	char		 engine_listen[64];	/* default 127.0.0.1 */
	char		 engine_advertise[48];	/* default: engine_listen; fits msg_ost_ent.host */
	int		 engine_port_lo;	/* 0: ephemeral ports; lo and hi */
	int		 engine_port_hi;	/* stay adjacent (--engine-ports) */
	struct conf_node nodes[CONF_NODES_MAX];
	int		 nnodes;
	/* engine sizing */
	int		 max_oss;		/* OSS processes per file system */
	int		 max_ost;		/* OSTs per file system */
	double		 update_gap_sec;	/* between storage increases (AWS: 6 h) */
	double		 create_delay_sec;	/* optional extra CREATING time */
	/* backups (docs/backups.md) */
	long		 q_backups;		/* user-initiated backups per region */
	long		 q_copies;		/* in-progress copies per region */
	double		 day_seconds;		/* length of a "day" for automatic
						   backups (86400; less to watch) */
	/* S3 for fsx-hsm (sent in HSM_CONF, never argv); empty fields are
	   filled from the SDKs' environment (s3_conf_env) */
	char		 s3_endpoint[512];
	char		 s3_region[64];
	char		 s3_access_key[128];
	char		 s3_secret_key[128];
	char		 s3_session_token[2048];
	int		 hsm_poll_ms;		/* bucket polling for auto-import */
};

#endif
