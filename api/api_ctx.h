/*
 * What every handler sees: the daemon's configuration and the request's
 * identity (account and region from the SigV4 scope).
 */
#ifndef FSX_API_CTX_H
#define FSX_API_CTX_H

#include <stddef.h>

#include "api.h"

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
	/* engine sizing */
	int		 max_oss;		/* OSS processes per file system */
	int		 max_ost;		/* OSTs per file system */
	double		 update_gap_sec;	/* between storage increases (AWS: 6 h) */
	double		 create_delay_sec;	/* optional extra CREATING time */
};

struct api_ctx {
	const struct fsxd_conf	*conf;
	const char		*account;
	const char		*region;
	const char		*partition;
	const char		*request_id;
	const char		*op;
	char			*out_text;	/* set by api_reply_text() */
};

/*
 * Answer with JSON text that is already serialized (a listing assembled
 * from stored descriptions, say) instead of a json_t: takes `text`
 * (malloc'd, one JSON object) and returns the value the handler returns.
 */
json_t	*api_reply_text(struct api_ctx *cx, char *text);

#endif
