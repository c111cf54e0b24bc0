/*
 * The engine servers under fuzzing (fuzz_eng.c): an fsx-oss (msg_srv +
 * oss_dispatch over two OSTs in a temporary directory) and, on request, an
 * fsx-mds (mds_srv on a temporary store, its OST map pointing at that
 * OSS), both in this process on loopback ephemeral ports, started once.
 *
 * An input is a sequence of requests, each
 *	op index (1 byte, into the target's opcode list), flags (1 byte),
 *	body_len (2 bytes LE), bulk_len (2 bytes LE), body, bulk
 * (lengths cut to what the input holds), sent on one new authenticated
 * connection with msg_call as a client would, with a correct CRC. The
 * first transport error or -EPROTO ends the input (the server closes such
 * connections). FUZZ_TRACE=1 in the environment prints each request's
 * opcode and result on stderr. MSG_F_REPLY is never set (an unanswered reply frame would
 * only make the client wait); malformed frames are fuzz_msg's part.
 */
#ifndef FSX_FUZZ_ENG_H
#define FSX_FUZZ_ENG_H

#include <stddef.h>
#include <stdint.h>

struct msg_srv_conn;
struct msg_hdr;

/* Start the OSS (and with mds, the MDS); returns the port to fuzz. */
int	fuzz_eng_start(int mds);
/* Serve dispatch(ctx, ...) (and stats) with the fuzz secret on an
 * ephemeral loopback port, in a thread of this process; returns the port.
 * For servers other than the OSS and the MDS (fsx-hsm). */
int	fuzz_eng_serve(uint32_t kind,
	    int (*dispatch)(void *, struct msg_srv_conn *,
		const struct msg_hdr *, const void *, const void *),
	    size_t (*stats)(void *, char *, size_t), void *ctx);
/* Run one input against port with these opcodes. */
void	fuzz_eng_run(int port, const uint16_t *ops, size_t nops,
	    const uint8_t *d, size_t n);

#endif
