/*
 * Fuzz target: fsx-mds's request handlers (src/mds: namespace, opens,
 * xattrs, layouts, sessions, leases, locks) behind the real msg_srv, in
 * this process, on a temporary store whose OSTs are an in-process OSS
 * (fuzz_eng.h gives the input format). Left out: SHUTDOWN (it ends the
 * server) and MDS_OSTADD (it would point the MDS at hosts the fuzzer
 * names; its parsing is the same bulk check as the OST map's).
 */
#include "fuzz.h"
#include "fuzz_eng.h"
#include "msg/msg.h"

static const uint16_t mds_ops[] = {
	MSG_OP_PING, MSG_OP_STATS, MSG_OP_HELLO,
	MSG_OP_MDS_OSTMAP, MSG_OP_MDS_LOOKUP, MSG_OP_MDS_GETATTR,
	MSG_OP_MDS_SETATTR, MSG_OP_MDS_CREATE, MSG_OP_MDS_MKNOD,
	MSG_OP_MDS_SYMLINK, MSG_OP_MDS_LINK, MSG_OP_MDS_UNLINK,
	MSG_OP_MDS_RMDIR, MSG_OP_MDS_RENAME, MSG_OP_MDS_READDIR,
	MSG_OP_MDS_READLINK, MSG_OP_MDS_OPEN, MSG_OP_MDS_CLOSE,
	MSG_OP_MDS_GETXATTR, MSG_OP_MDS_SETXATTR, MSG_OP_MDS_LISTXATTR,
	MSG_OP_MDS_RMXATTR, MSG_OP_MDS_STATFS, MSG_OP_MDS_GETLAYOUT,
	MSG_OP_MDS_SETLAYOUT, MSG_OP_MDS_APPEND, MSG_OP_OST_SETCAP,
	MSG_OP_MDS_SESSION, MSG_OP_MDS_REVOKE, MSG_OP_MDS_LOCK,
	MSG_OP_OST_READ,	/* not an MDS opcode */
};
static int port;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	port = fuzz_eng_start(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_eng_run(port, mds_ops, sizeof(mds_ops) / sizeof(mds_ops[0]),
	    data, size);
	return 0;
}
