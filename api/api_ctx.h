/*
 * What every handler sees: the daemon's configuration (core/conf.h) and the
 * request's identity (account and region from the SigV4 scope).
 */
#ifndef FSX_API_CTX_H
#define FSX_API_CTX_H

#include <stddef.h>

#include "api.h"
#include "core/conf.h"

struct api_ctx {
	const struct fsxd_conf	*conf;
	const char		*account;
	const char		*region;
	const char		*partition;
	const char		*request_id;
	const char		*op;		/* opdef->name */
	const struct api_op	*opdef;		/* the operation's ops.def row */
	char			*out_text;	/* set by api_reply_text() */
};

/*
 * Answer with JSON text that is already serialized (a listing assembled
 * from stored descriptions, say) instead of a json_t: takes `text`
 * (malloc'd, one JSON object) and returns the value the handler returns.
 */
json_t	*api_reply_text(struct api_ctx *cx, char *text);

#endif
