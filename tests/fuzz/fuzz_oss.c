/*
 * Fuzz target: fsx-oss's request handlers (oss_dispatch, src/oss) behind
 * the real msg_srv, in this process, over two OSTs in a temporary
 * directory (fuzz_eng.h gives the input format). Every OSS opcode and the
 * framework's own (PING, STATS); SHUTDOWN is left out (it would end the
 * server, not test it), and so is OST_SETCAP: it lifts the OSTs' 64 MiB
 * quota, after which fallocate and writes at fuzzed offsets allocated real
 * blocks until the disk was full (80 GB in one 40 s run).
 */
#include "fuzz.h"
#include "fuzz_eng.h"
#include "msg/msg.h"

static const uint16_t oss_ops[] = {
	MSG_OP_PING, MSG_OP_STATS, MSG_OP_HELLO,
	MSG_OP_OST_CREATE, MSG_OP_OST_DESTROY, MSG_OP_OST_READ,
	MSG_OP_OST_WRITE, MSG_OP_OST_PUNCH, MSG_OP_OST_SYNC,
	MSG_OP_OST_GETATTR, MSG_OP_OST_STATFS, MSG_OP_OST_FALLOC,
	MSG_OP_MDS_LOOKUP,	/* not an OSS opcode */
	MSG_OP_OST_LOCAL,
};
static int port;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	port = fuzz_eng_start(0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_eng_run(port, oss_ops, sizeof(oss_ops) / sizeof(oss_ops[0]),
	    data, size);
	return 0;
}
