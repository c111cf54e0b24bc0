/*
 * Fuzz targets (tests/fuzz/fuzz_<name>.c): each defines libFuzzer's
 * LLVMFuzzerTestOneInput() and may define LLVMFuzzerInitialize(). They are
 * linked two ways (Makefile):
 *   - with clang -fsanitize=fuzzer,address,undefined: `make fuzz` runs each
 *     for FUZZ_SECONDS on its corpus tests/fuzz/corpus/<name>/;
 *   - with gcc -fsanitize=address,undefined and replay.c's main(): `make
 *     fuzz-replay` (part of `make check`) runs every file of the corpus once.
 * A target must never leave anything outside its own temporary directory,
 * must not depend on the order of inputs for its verdicts, and must treat
 * every byte of the input as hostile: the harness only builds what the
 * real peer would send (frames, requests), never repairs it.
 *
 * Helpers here are shared by the targets.
 */
#ifndef FSX_FUZZ_H
#define FSX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "auth/sigv4.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_HDR_MAX	64

/*
 * One HTTP/1.1 request split as a server would: request line, header
 * lines ("Name: value", names and values trimmed of blanks), the body
 * after the blank line. Everything points into `text`, a NUL-terminated
 * copy of the input owned by the struct (fuzz_http_free()).
 */
struct fuzz_http {
	char		*text;
	const char	*method, *path, *query;
	struct sigv4_hdr hdr[FUZZ_HDR_MAX];
	size_t		 nhdr;
	const char	*body;
	size_t		 body_len;
	size_t		 head_len;	/* bytes up to and with the blank line */
};

/* 0, or -1 when the input is not a request (no request line, too many
 * headers, a header line without ':'). f is freed either way on -1. */
int	fuzz_http_parse(const uint8_t *d, size_t n, struct fuzz_http *f);
void	fuzz_http_free(struct fuzz_http *f);
/* The first header named `name` (case-insensitive), or NULL. */
const char *fuzz_http_hdr(const struct fuzz_http *f, const char *name);

/*
 * A key lookup for sigv4_verify() that knows the keys of the fixtures
 * (AWS's test suite and the captured botocore requests): -ENOENT for any
 * other.
 */
int	fuzz_sigv4_lookup(void *arg, const char *akid, struct sigv4_secret *out);

/* A new temporary directory under /tmp, removed at exit. Aborts on error. */
const char *fuzz_tmpdir(const char *tag);

#endif
