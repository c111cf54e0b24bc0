/*
 * API errors: the table from errors.def, and the AWS JSON 1.1 error body
 * {"__type": code, "Message": text, extra members...}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_ctx.h"

static const struct {
	int		 status;
	const char	*type;
} api_err_tab[] = {
#define API_ERR(sym, status, type) { status, type },
#include "errors.def"
#undef API_ERR
};

int
api_err_status(enum api_err e)
{
	return e < API_E__COUNT ? api_err_tab[e].status : 500;
}

const char *
api_err_type(enum api_err e)
{
	return e < API_E__COUNT ? api_err_tab[e].type : "InternalServerError";
}

json_t *
api_fail(struct api_error *err, enum api_err code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return NULL;
}

void
api_error_set(struct api_error *err, const char *key, json_t *v)
{
	if (err->extra == NULL)
		err->extra = json_object();
	json_object_set_new(err->extra, key, v);
}

void
api_error_clear(struct api_error *err)
{
	json_decref(err->extra);
	memset(err, 0, sizeof(*err));
}

json_t *
api_error_body(const struct api_error *err)
{
	json_t *o = json_object();

	json_object_set_new(o, "__type", json_string(api_err_type(err->code)));
	json_object_set_new(o, "Message", json_string(err->message));
	if (err->extra != NULL)
		json_object_update(o, err->extra);
	return o;
}

const char *
api_first_id(const json_t *in, const char *member)
{
	return json_string_value(json_array_get(json_object_get(in, member), 0));
}

json_t *
api_empty_list(const char *member)
{
	json_t *o = json_object();

	json_object_set_new(o, member, json_array());
	return o;
}

json_t *
api_reply_text(struct api_ctx *cx, char *text)
{
	free(cx->out_text);
	cx->out_text = text;
	return json_true();	/* a singleton: decref is a no-op */
}
