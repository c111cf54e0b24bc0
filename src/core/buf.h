/*
 * The growable byte buffer (the only one in the engine and its tools),
 * always NUL-terminated. Growth aborts on out of memory (as xmalloc does);
 * buf_take() hands the bytes to the caller.
 *
 * A buffer may have a ceiling (buf_init_max): buf_append() past it fails
 * with -EMSGSIZE and frees the buffer, so an error path leaks nothing.
 * buf_add() and buf_printf() are for buffers without one (they abort when
 * a ceiling would be passed: a bounded buffer takes buf_append()).
 */
#ifndef FSX_BUF_H
#define FSX_BUF_H

#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len, cap;
	size_t	 max;		/* 0: no ceiling */
};

void	 buf_init(struct buf *b, size_t cap);
void	 buf_init_max(struct buf *b, size_t cap, size_t max);
int	 buf_append(struct buf *b, const void *data, size_t n);
void	 buf_add(struct buf *b, const void *data, size_t n);
void	 buf_adds(struct buf *b, const char *s);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
char	*buf_take(struct buf *b);	/* caller frees; b is empty after */
void	 buf_fini(struct buf *b);

#endif
