/*
 * A growable byte buffer, always NUL-terminated. Growth aborts on out of
 * memory (as xmalloc does); buf_take() hands the bytes to the caller.
 */
#ifndef FSX_BUF_H
#define FSX_BUF_H

#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len, cap;
};

void	 buf_init(struct buf *b, size_t cap);
void	 buf_add(struct buf *b, const void *data, size_t n);
void	 buf_adds(struct buf *b, const char *s);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
char	*buf_take(struct buf *b);	/* caller frees; b is empty after */
void	 buf_fini(struct buf *b);

#endif
