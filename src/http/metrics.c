/*
 * fsxd metrics (see metrics.h). Operations are indexed as in api_ops[];
 * index -1 (health, metrics, mount-info, unknown) is counted as "other".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/buf.h"
#include "db/db.h"
#include "http/metrics.h"
#include "prov.h"

#define M_OPS		64
#define M_STATUS	8

static const int m_codes[M_STATUS] = { 200, 400, 403, 404, 413, 500, 503, 0 };
static const double m_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define M_BUCKETS	(sizeof(m_bounds) / sizeof(m_bounds[0]))

static uint64_t m_count[M_OPS + 1][M_STATUS];
static uint64_t m_hist[M_BUCKETS + 1];
static uint64_t m_sum_us;

void
metrics_request(int op_idx, int status, double seconds)
{
	int oi = (op_idx >= 0 && op_idx < M_OPS) ? op_idx : M_OPS;
	int si = M_STATUS - 1;
	size_t b;

	for (int i = 0; i < M_STATUS - 1; i++)
		if (m_codes[i] == status)
			si = i;
	__atomic_fetch_add(&m_count[oi][si], 1, __ATOMIC_RELAXED);
	for (b = 0; b < M_BUCKETS && seconds > m_bounds[b]; b++)
		;
	__atomic_fetch_add(&m_hist[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m_sum_us, (uint64_t)(seconds * 1e6), __ATOMIC_RELAXED);
}

char *
metrics_render(const struct fsxd_conf *conf)
{
	long long counts[FS_LIFECYCLE__COUNT];
	struct prov_health h;
	struct buf b;
	uint64_t cum = 0, total = 0;
	size_t nops = 0;

	buf_init(&b, 8192);

	while (api_ops[nops].name != NULL)
		nops++;
	buf_printf(&b, "# HELP fsxd_requests_total API requests by operation and HTTP status.\n"
	    "# TYPE fsxd_requests_total counter\n");
	for (size_t o = 0; o <= M_OPS; o++) {
		const char *name;

		if (o < M_OPS && o >= nops)
			continue;
		name = o == M_OPS ? "other" : api_ops[o].name;
		for (int s = 0; s < M_STATUS; s++) {
			uint64_t v = __atomic_load_n(&m_count[o][s], __ATOMIC_RELAXED);

			if (v == 0)
				continue;
			if (m_codes[s] != 0)
				buf_printf(&b, "fsxd_requests_total{operation=\"%s\",status=\"%d\"} %llu\n",
				    name, m_codes[s], (unsigned long long)v);
			else
				buf_printf(&b, "fsxd_requests_total{operation=\"%s\",status=\"other\"} %llu\n",
				    name, (unsigned long long)v);
		}
	}
	buf_printf(&b, "# HELP fsxd_request_duration_seconds Request latency.\n"
	    "# TYPE fsxd_request_duration_seconds histogram\n");
	for (size_t i = 0; i <= M_BUCKETS; i++) {
		cum += __atomic_load_n(&m_hist[i], __ATOMIC_RELAXED);
		if (i < M_BUCKETS)
			buf_printf(&b, "fsxd_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			    m_bounds[i], (unsigned long long)cum);
	}
	total = cum;
	buf_printf(&b, "fsxd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "fsxd_request_duration_seconds_sum %.6f\n"
	    "fsxd_request_duration_seconds_count %llu\n",
	    (unsigned long long)total,
	    __atomic_load_n(&m_sum_us, __ATOMIC_RELAXED) / 1e6,
	    (unsigned long long)total);
	buf_printf(&b, "# HELP fsxd_file_systems File systems by lifecycle.\n"
	    "# TYPE fsxd_file_systems gauge\n");
	if (db_fs_count_by_lifecycle(counts) == 0)
		for (int i = 0; i < FS_LIFECYCLE__COUNT; i++)
			if (counts[i] > 0)
				buf_printf(&b, "fsxd_file_systems{lifecycle=\"%s\"}"
				    " %lld\n", fs_lifecycle_name(i), counts[i]);
	prov_health(&h);
	buf_printf(&b, "# HELP fsxd_engine_restarts_total Engine processes"
	    " restarted by the monitor, by cause.\n"
	    "# TYPE fsxd_engine_restarts_total counter\n"
	    "fsxd_engine_restarts_total{cause=\"dead\"} %llu\n"
	    "fsxd_engine_restarts_total{cause=\"unresponsive\"} %llu\n"
	    "# HELP fsxd_engine_pings_failed_total Health pings not answered"
	    " in time.\n# TYPE fsxd_engine_pings_failed_total counter\n"
	    "fsxd_engine_pings_failed_total %llu\n", h.restarts_dead,
	    h.restarts_unresponsive, h.pings_failed);
	buf_printf(&b, "# HELP fsxd_node_up Storage nodes the last driver call"
	    " reached.\n# TYPE fsxd_node_up gauge\n");
	for (int i = 0; i < conf->nnodes; i++) {
		const char *name;
		int up = prov_node_state(i, &name);

		buf_printf(&b, "fsxd_node_up{node=\"%s\"} %d\n", name, up);
	}
	return buf_take(&b);
}
