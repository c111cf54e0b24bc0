/* Handler prototypes, one per distinct handler named in ops.def. */
#ifndef FSX_API_OPS_H
#define FSX_API_OPS_H

#include "api.h"

#define API_OP(name, fn, flags, res, member) \
	json_t *fn(struct api_ctx *cx, const json_t *in, struct api_error *err);
#include "ops.def"
#undef API_OP

#endif
