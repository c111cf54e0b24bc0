/*
 * The API layer's shared types: errors (declared once in errors.def), the
 * request context handed to every handler, and the operation table
 * (ops.def). Handlers receive a borrowed, already validated `in` and return
 * a new reference to the output object, or NULL with the error filled in.
 */
#ifndef FSX_API_H
#define FSX_API_H

#include <jansson.h>
#include <stddef.h>

enum api_err {
#define API_ERR(sym, status, type) API_E_##sym,
#include "errors.def"
#undef API_ERR
	API_E__COUNT
};

struct api_error {
	enum api_err	code;
	char		message[1024];
	json_t		*extra;		/* owned: extra members (Parameter, Limit, ...) or NULL */
};

int		 api_err_status(enum api_err e);
/* 1 for the front end's own errors (auth, protocol), which any operation
 * may answer; 0 for FSx's modelled ones. */
int		 api_err_front_end(enum api_err e);
const char	*api_err_type(enum api_err e);
/* Set an error; returns NULL so handlers can `return api_fail(...)`. */
json_t		*api_fail(struct api_error *err, enum api_err code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add an extra member to the error body (steals v). */
void		 api_error_set(struct api_error *err, const char *key, json_t *v);
void		 api_error_clear(struct api_error *err);
/* The error body: {"__type":..., "Message":..., extra...}; new reference. */
json_t		*api_error_body(const struct api_error *err);

/* First string of the list member `member` of `in`, or NULL. */
const char	*api_first_id(const json_t *in, const char *member);
/* {member: []}; new reference. */
json_t		*api_empty_list(const char *member);

/*
 * What a handler answered, typed (api_call() in api_ctx.h): an error, a
 * JSON value to serialise, or JSON text already serialised.
 */
enum api_reply_kind {
	API_REPLY_ERROR = 0,
	API_REPLY_JSON,
	API_REPLY_TEXT
};

struct api_reply {
	enum api_reply_kind	 kind;
	json_t			*json;	/* API_REPLY_JSON: owned */
	char			*text;	/* API_REPLY_TEXT: owned, one JSON object */
};

struct api_ctx;			/* per request: account, region, db, config (api_ctx.h) */

typedef json_t *(*api_handler_fn)(struct api_ctx *cx, const json_t *in,
    struct api_error *err);

/* Operation flags (ops.def). */
#define API_MUTATES	0x1u	/* changes state */
#define API_LIST	0x2u	/* member lists ids; none: an empty listing */
#define API_FILTERS	0x4u	/* Filters may name file systems */
#define API_LOCAL	0x8u	/* fsx-local's own, not AWS's (no X-Amz-Target) */

/* Kinds of resource that cannot exist on this endpoint (api_absent.c). */
enum api_res {
	API_RES_NONE = 0,
	API_RES_BACKUP,
	API_RES_DRA,
	API_RES_TASK,
	API_RES_FILE_CACHE,
	API_RES_VOLUME,
	API_RES_SNAPSHOT,
	API_RES_SVM,
	API_RES_S3AP,
	API_RES__COUNT
};

struct api_op {
	const char	*name;		/* operationId, e.g. "CreateFileSystem" */
	api_handler_fn	 handler;
	unsigned	 flags;		/* API_MUTATES, API_LIST, ... */
	enum api_res	 res;		/* api_absent: the resource kind */
	const char	*member;	/* api_absent: the member naming it */
};

/* The operation named `name` (local ones included), or NULL. */
const struct api_op *api_op_find(const char *name);
extern const struct api_op api_ops[];			/* NULL-terminated */

/*
 * Model-driven validation (api/model.c, data in api/model.json).
 * api_model_init() loads the embedded model once at start-up (0 or -errno).
 * api_validate() checks `in` against the operation's input shape:
 *   - wrong JSON types -> API_E_SERIALIZATION
 *   - constraint violations (required, length, range, pattern, enum, list
 *     size) -> API_E_BAD_REQUEST with AWS's "N validation error(s)
 *     detected: ..." text
 *   - unknown members are ignored.
 * Returns 0 when valid, -1 with err filled otherwise.
 */
int		 api_model_init(void);
int		 api_validate(const char *op, const json_t *in, struct api_error *err);
int		 api_model_has_op(const char *op);

#endif
