/*
 * Prometheus counters for fsxd: requests by operation and status, a latency
 * histogram, and file systems by lifecycle (read from the database at
 * scrape time). Lock-free counters; safe from every HTTP thread.
 */
#ifndef FSX_METRICS_H
#define FSX_METRICS_H

#include "core/conf.h"

void	 metrics_request(int op_idx, int status, double seconds);
char	*metrics_render(const struct fsxd_conf *conf);	/* malloc'd text */

#endif
