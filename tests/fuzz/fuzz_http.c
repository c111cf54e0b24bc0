/*
 * Fuzz target: fsxd's HTTP request path up to the handler, the way
 * src/http/http.c takes it: the front door's head check
 * (http_door_head_check), the operation from X-Amz-Target (api_op_find),
 * the JSON body (jansson, duplicates rejected, an object required) and
 * the model's validator (api_validate, api/model.c) with its error body.
 * The input is one raw HTTP request. Handlers are not run here (they
 * change state and start processes); tests/api/test_hostile.py sends
 * hostile requests through the whole server.
 * Checks: an error always has a known code, an HTTP status of 400 or more
 * and a serializable body.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fuzz.h"
#include "http/http_door.h"
#include "model.h"

#define TARGET_PREFIX	"AWSSimbaAPIService_v20180301."

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (api_model_init() != 0)
		abort();
	return 0;
}

static void
check_error(struct api_error *err)
{
	json_t *body;
	char *s;

	if ((unsigned)err->code >= API_E__COUNT)
		abort();
	if (api_err_status(err->code) < 400 || api_err_type(err->code) == NULL)
		abort();
	body = api_error_body(err);
	if (body == NULL)
		abort();
	s = json_dumps(body, JSON_COMPACT);
	if (s == NULL)
		abort();
	free(s);
	json_decref(body);
	api_error_clear(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_error err = { 0 };
	struct fuzz_http f;
	const struct api_op *op = NULL;
	const char *target;
	enum api_err code;
	char msg[256];
	json_error_t je;
	json_t *in;
	size_t head;

	if (size > 1024 * 1024)
		return 0;
	/* the door sees at most HEAD_MAX + 1 bytes of the head */
	head = size < HTTP_DOOR_HEAD_MAX + 1 ? size : HTTP_DOOR_HEAD_MAX + 1;
	if (http_door_head_check((const char *)data, head, &code, msg,
	    sizeof(msg)) < 0) {
		api_fail(&err, code, "%s", msg);
		check_error(&err);
		return 0;
	}
	if (fuzz_http_parse(data, size, &f) < 0)
		return 0;
	target = fuzz_http_hdr(&f, "X-Amz-Target");
	if (target != NULL &&
	    strncmp(target, TARGET_PREFIX, strlen(TARGET_PREFIX)) == 0)
		op = api_op_find(target + strlen(TARGET_PREFIX));
	if (op == NULL && target != NULL)
		op = api_op_find(target);	/* the bare name, for seeds */
	in = f.body_len == 0 ? json_object() :
	    json_loadb(f.body, f.body_len, JSON_REJECT_DUPLICATES, &je);
	if (in != NULL && json_is_object(in) && op != NULL) {
		if (api_validate(op->name, in, &err) < 0)
			check_error(&err);
		else
			(void)api_model_token_member(op->name);
	}
	json_decref(in);
	fuzz_http_free(&f);
	return 0;
}
