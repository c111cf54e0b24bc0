/*
 * Growable buffers (see buf.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

void
buf_init(struct buf *b, size_t cap)
{
	buf_init_max(b, cap, 0);
}

void
buf_init_max(struct buf *b, size_t cap, size_t max)
{
	b->cap = cap ? cap : 64;
	b->p = xmalloc(b->cap);
	b->len = 0;
	b->max = max;
	b->p[0] = '\0';
}

static void
buf_reserve(struct buf *b, size_t n)
{
	if (b->max > 0 && (n > b->max || b->len > b->max - n))
		fatal("%s: past the buffer's ceiling", __func__);
	if (b->len + n + 1 <= b->cap)
		return;
	while (b->len + n + 1 > b->cap)
		b->cap *= 2;
	b->p = realloc(b->p, b->cap);
	if (b->p == NULL)
		fatal("out of memory");
}

int
buf_append(struct buf *b, const void *data, size_t n)
{
	if (b->max > 0 && (n > b->max || b->len > b->max - n)) {
		buf_fini(b);
		return -EMSGSIZE;
	}
	buf_add(b, data, n);
	return 0;
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *
buf_take(struct buf *b)
{
	char *p = b->p;

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_fini(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
