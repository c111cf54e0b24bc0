/*
 * The provisioner: turns file system rows into running engine processes
 * (fsx-oss for the OSTs, fsx-mds for the namespace) and back.
 *
 * Work is a durable row in `jobs`, added by the API handlers inside their
 * own transaction (prov_job_add), then run by one runner thread in id
 * order. On start the runner reconciles: processes still alive (same pid
 * and start time, answering PING) are adopted, dead ones restarted, jobs
 * left `running` by a crash are resumed. A monitor restarts engine
 * processes that die while their file system is AVAILABLE or UPDATING.
 *
 *   job      states of the file system it drives
 *   create   CREATING -> AVAILABLE, or FAILED with FailureDetails
 *   grow     UPDATING (FILE_SYSTEM_UPDATE IN_PROGRESS) -> AVAILABLE
 *            (UPDATED_OPTIMIZING, STORAGE_OPTIMIZATION) -> COMPLETED
 *   delete   DELETING -> row removed (FileSystemNotFound)
 */
#ifndef FSX_PROV_H
#define FSX_PROV_H

#include <stddef.h>

#include "core/conf.h"

int	prov_start(const struct fsxd_conf *conf);
void	prov_stop(void);
/* Add a job row (caller holds a transaction); prov_kick() after commit. */
int	prov_job_add(const char *kind, const char *fs_id, long long arg);
void	prov_kick(void);
/* Where the MDS of fs_id listens. 0 or -ENOENT. */
int	prov_mds_endpoint(const char *fs_id, char *host, size_t hostlen, int *port);

#endif
