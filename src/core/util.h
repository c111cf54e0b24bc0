/*
 * Small helpers shared by every binary: allocation that cannot return NULL,
 * hex, randomness, time, files and directories. Functions returning int give
 * 0 or a negative errno.
 */
#ifndef FSX_UTIL_H
#define FSX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t sz);
char	*xstrdup(const char *s);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void	 hex_encode(const uint8_t *in, size_t n, char *out);	/* out: 2n+1 */
/* Copy src into dst[size] (size > 0), truncated, NUL-terminated; returns the length copied */
size_t	 str_copy(char *dst, size_t size, const char *src);
int	 hex_decode(const char *in, uint8_t *out, size_t n);	/* exactly 2n chars */
int	 hex_val(char c);		/* one hex digit: 0-15, or -1 */
int	 rand_bytes(void *buf, size_t n);

double	 now_epoch(void);		/* wall clock, seconds */
uint64_t now_mono_ns(void);		/* monotonic, nanoseconds */
struct timespec;
void	 timespec_add_ms(struct timespec *ts, long ms);	/* ms >= 0 */
/* <0, 0, >0 as a is before, the same as, after b */
int	 timespec_cmp(const struct timespec *a, const struct timespec *b);

int	 mkdir_p(const char *path, mode_t mode);
int	 rm_rf(const char *path);
int	 file_read_all(const char *path, char **out, size_t *len, size_t max);
int	 file_write_atomic(const char *path, const void *buf, size_t len);
int	 parse_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
