/*
 * Logging for every binary: one line per event on stderr, with a level and
 * a timestamp. fatal() is for start-up failures only (config, bind, schema).
 * Never log secrets, tokens or request bodies.
 */
#ifndef FSX_LOG_H
#define FSX_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

void	log_init(const char *prog, enum log_level lvl);
int	log_parse_level(const char *s);	/* -1 if unknown */
void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
extern enum log_level log_level_cur;

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	do { if (log_level_cur >= LOG_INFO) \
	log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...)	do { if (log_level_cur >= LOG_DEBUG) \
	log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
