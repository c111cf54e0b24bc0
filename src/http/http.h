/*
 * fsxd's HTTP front end: libmicrohttpd (epoll, a thread pool), the AWS JSON
 * 1.1 protocol on POST /, SigV4 on every API request, the access log,
 * GET /health, GET /metrics (Prometheus text), and fsx-local's own signed
 * POST /fsx-local/mount-info used by fsx-mount (the operation
 * FsxLocalMountInfo of api/ops.def, dispatched and validated like the
 * others). In front of libmicrohttpd: the front door (http_door.h) and
 * the slow-client guard (http_guard.h).
 */
#ifndef FSX_HTTP_H
#define FSX_HTTP_H

#include "core/conf.h"

struct http_srv;

struct http_srv	*http_start(const struct fsxd_conf *conf, int *err);
void		 http_stop(struct http_srv *s);
int		 http_port(const struct http_srv *s);

#endif
