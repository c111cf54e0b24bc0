/*
 * The operation table, expanded from ops.def, and the one place a
 * handler's return value is interpreted (api_call).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ctx.h"
#include "api_ops.h"
#include "model.h"
#include "core/log.h"

const struct api_op api_ops[] = {
#define API_OP(name, fn, flags, res, member) \
	{ #name, fn, flags, res, member },
#include "ops.def"
#undef API_OP
	{ NULL, NULL, 0, API_RES_NONE, NULL }
};

const struct api_op *
api_op_find(const char *name)
{
	for (const struct api_op *op = api_ops; op->name != NULL; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

int
api_call(const struct api_op *op, struct api_ctx *cx, const json_t *in,
    struct api_reply *r, struct api_error *err)
{
	json_t *out;

	memset(r, 0, sizeof(*r));
	memset(&cx->reply, 0, sizeof(cx->reply));
	cx->op = op->name;
	cx->opdef = op;
	out = op->handler(cx, in, err);
	if (out == API_REPLY_IN_CTX && cx->reply.text != NULL) {
		*r = cx->reply;
		memset(&cx->reply, 0, sizeof(cx->reply));
		return 0;
	}
	free(cx->reply.text);
	memset(&cx->reply, 0, sizeof(cx->reply));
	if (out == API_REPLY_IN_CTX) {
		api_fail(err, API_E_INTERNAL_SERVER_ERROR,
		    "%s answered without a reply.", op->name);
		return -1;
	}
	if (out == NULL) {
		if (!api_err_front_end(err->code) &&
		    !api_model_op_declares(op->name, api_err_type(err->code)))
			log_warn("%s: %s answered %s, which its model does not"
			    " declare", __func__, op->name,
			    api_err_type(err->code));
		return -1;
	}
	r->kind = API_REPLY_JSON;
	r->json = out;
	return 0;
}

void
api_reply_fini(struct api_reply *r)
{
	json_decref(r->json);
	free(r->text);
	memset(r, 0, sizeof(*r));
}
