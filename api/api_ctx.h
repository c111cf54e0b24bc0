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
	struct api_reply	 reply;		/* api_reply_text() keeps text here */
};

/*
 * Answer with JSON text that is already serialized (a listing assembled
 * from stored descriptions, say) instead of a json_t: takes `text`
 * (malloc'd, one JSON object) and returns the value the handler returns,
 * as `return api_reply_text(cx, text);`. That value is API_REPLY_IN_CTX,
 * which only api_call() interprets: it turns it into an API_REPLY_TEXT
 * reply. Handlers never see or return it otherwise.
 */
json_t	*api_reply_text(struct api_ctx *cx, char *text);

/* What api_reply_text() returns: "the reply is cx->reply". */
extern json_t api_reply_in_ctx;
#define API_REPLY_IN_CTX	(&api_reply_in_ctx)

/*
 * Run the operation's handler on validated `in` (sets cx->op and
 * cx->opdef) and return its reply, typed: API_REPLY_JSON or API_REPLY_TEXT
 * (0), or API_REPLY_ERROR with err set (-1). Release it with
 * api_reply_fini().
 */
int	 api_call(const struct api_op *op, struct api_ctx *cx, const json_t *in,
	    struct api_reply *r, struct api_error *err);
void	 api_reply_fini(struct api_reply *r);

#endif
