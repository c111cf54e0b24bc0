/*
 * Fuzz target: fsx-hsm's request handlers (hsm_dispatch, src/hsm:
 * HSM_CONF, HSM_STATUS, HSM_TASK, HSM_CANCEL with their JSON documents)
 * behind the real msg_srv, in this process, on a temporary state
 * directory (fuzz_eng.h gives the input format). The worker thread is not
 * started: what is fuzzed is what a request does before the worker acts
 * on it (parsing, validation, the record and its durable copy), so no
 * input reaches S3 or a file system. A CONF or TASK the agent accepts is
 * written to state.json, and a malformed one must change nothing.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_eng.h"
#include "hsm/hsm.h"
#include "msg/msg.h"

static const uint16_t hsm_ops[] = {
	MSG_OP_PING, MSG_OP_STATS, MSG_OP_HELLO,
	MSG_OP_HSM_CONF, MSG_OP_HSM_STATUS, MSG_OP_HSM_TASK,
	MSG_OP_HSM_CANCEL,
	MSG_OP_MDS_LOOKUP,	/* not an HSM opcode */
};
static struct hsm h;
static int port;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (hsm_init(&h, fuzz_tmpdir("hsm")) != 0)
		abort();
	port = fuzz_eng_serve(3, hsm_dispatch, hsm_stats, &h);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_eng_run(port, hsm_ops, sizeof(hsm_ops) / sizeof(hsm_ops[0]),
	    data, size);
	return 0;
}
