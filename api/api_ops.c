/*
 * The operation table, expanded from ops.def.
 */
#include <string.h>

#include "api.h"
#include "api_ops.h"

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
