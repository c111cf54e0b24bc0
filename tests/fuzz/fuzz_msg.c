/*
 * Fuzz target: the engine's frame decoder (src/msg/msg.c): msg_hdr_check,
 * msg_in_hdr / msg_in_payload (with and without read-ahead) and
 * msg_in_reply, reading the input from a socket as a server or a client
 * would.
 *
 * Input: byte 0 is a mode, the rest is the byte stream. Mode bit 0 set:
 * the harness seals each frame as a sender that computes checksums would
 * (hdr_crc, and bulk_crc over the bulk bytes present), so the fuzzer gets
 * past the CRCs to lengths, opcodes and bodies; clear: the stream as is.
 * Bit 1: read without read-ahead. Bit 2: read as replies to request id 1
 * of the opcode of the first header (msg_in_reply).
 * Checks: a header the decoder accepts passes msg_hdr_check, and lengths
 * never exceed what was asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "msg/msg.h"

#define STREAM_MAX	(128 * 1024)

/* Recompute the checksums of each frame in s[0, n). */
static void
seal(uint8_t *s, size_t n)
{
	size_t p = 0;

	while (p + MSG_HDR_SIZE <= n) {
		struct msg_hdr h;
		size_t body, bulk;

		memcpy(&h, s + p, sizeof(h));
		p += MSG_HDR_SIZE;
		body = h.body_len <= n - p ? h.body_len : n - p;
		p += body;
		bulk = h.bulk_len <= n - p ? h.bulk_len : n - p;
		h.bulk_crc = h.bulk_len ? msg_crc32c(0, s + p, bulk) : 0;
		h.hdr_crc = msg_crc32c(0, &h, offsetof(struct msg_hdr,
		    hdr_crc));
		memcpy(s + p - body - MSG_HDR_SIZE, &h, sizeof(h));
		p += bulk;
	}
}

static int
feed(const uint8_t *s, size_t n)
{
	int sv[2];
	ssize_t w;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	while (n > 0) {
		w = write(sv[1], s, n);
		if (w <= 0)
			break;		/* what fits in the socket is the input */
		s += w;
		n -= (size_t)w;
	}
	close(sv[1]);
	return sv[0];
}

static uint8_t body[MSG_BODY_MAX];
static uint8_t bulk[64 * 1024];
static char rbuf[MSG_IN_BUF];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t s[STREAM_MAX];
	struct msg_in in;
	struct msg_hdr h;
	struct iovec iov = { bulk, sizeof(bulk) };
	unsigned mode;
	size_t n;
	int fd, rc;

	if (size < 1)
		return 0;
	mode = data[0];
	n = size - 1 < STREAM_MAX ? size - 1 : STREAM_MAX;
	memcpy(s, data + 1, n);
	if (mode & 1)
		seal(s, n);
	if (n >= sizeof(h)) {
		memcpy(&h, s, sizeof(h));
		(void)msg_hdr_check(&h);
		(void)msg_req_body_min(h.opcode);
	}
	fd = feed(s, n);
	msg_in_init(&in, fd, (mode & 2) ? NULL : rbuf,
	    (mode & 2) ? 0 : sizeof(rbuf));
	if (mode & 4) {
		uint16_t op = n >= sizeof(h) ? ((struct msg_hdr *)s)->opcode : 2;
		uint32_t bl, rl;
		int32_t st;

		for (int i = 0; i < 64; i++) {
			rc = msg_in_reply(&in, 1, op, body, 256, &bl, &iov, 1,
			    &rl, &st);
			if (rc != 0 && rc != -EMSGSIZE)
				break;
			if (rc == 0 && (bl > 256 || rl > sizeof(bulk)))
				abort();
		}
		goto out;
	}
	for (int i = 0; i < 64; i++) {
		if (msg_in_hdr(&in, &h, 0) != 0)
			break;
		if (msg_hdr_check(&h) != 0)
			abort();
		rc = msg_in_payload(&in, &h, body, sizeof(body), &iov, 1);
		if (rc != 0)
			break;
	}
out:
	close(fd);
	return 0;
}
