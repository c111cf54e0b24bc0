/*
 * API errors: the table from errors.def, and the AWS JSON 1.1 error body
 * {"__type": code, "Message": text, extra members...}.
 */
#include <stdarg.h>
#include <stdint.h>
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

int
api_err_front_end(enum api_err e)
{
	/* errors.def lists the front end's errors last */
	return e >= API_E_UNKNOWN_OPERATION && e < API_E__COUNT;
}

const char *
api_err_type(enum api_err e)
{
	return e < API_E__COUNT ? api_err_tab[e].type : "InternalServerError";
}

/*
 * Make s valid UTF-8 in place: each byte that does not start a well-formed
 * sequence (overlong forms, surrogates and code points past U+10FFFF are
 * not well formed) becomes '?', and a sequence cut short by the end of
 * the string is dropped. Messages quote client strings and are cut at a
 * fixed size, and json_string() refuses anything but UTF-8.
 */
static void
api_utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p != '\0') {
		uint32_t cp;
		size_t n, i;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 2, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4, cp = *p & 0x07;
		else {
			*p++ = '?';
			continue;
		}
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (i < n && p[i] == '\0') {
			*p = '\0';		/* cut short at the end */
			return;
		}
		if (i < n || (n == 3 && (cp < 0x800 ||
		    (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

json_t *
api_fail(struct api_error *err, enum api_err code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	api_utf8_clean(err->message);
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
	json_t *msg = json_string(err->message);

	if (msg == NULL) {
		char tmp[sizeof(err->message)];

		memcpy(tmp, err->message, sizeof(tmp));
		tmp[sizeof(tmp) - 1] = '\0';
		api_utf8_clean(tmp);
		msg = json_string(tmp);
	}
	json_object_set_new(o, "__type", json_string(api_err_type(err->code)));
	json_object_set_new(o, "Message", msg != NULL ? msg :
	    json_string("The request could not be processed."));
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

/*
 * A distinct object no handler can produce: jansson never frees nor
 * counts an object whose refcount is (size_t)-1, as for its own true,
 * false and null.
 */
json_t api_reply_in_ctx = { JSON_NULL, (size_t)-1 };

json_t *
api_reply_text(struct api_ctx *cx, char *text)
{
	free(cx->reply.text);
	cx->reply.kind = API_REPLY_TEXT;
	cx->reply.text = text;
	return API_REPLY_IN_CTX;
}
