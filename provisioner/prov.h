/*
 * The provisioner: runs the jobs the API handlers queue (create, grow,
 * delete a file system) by starting, adopting and stopping engine
 * processes (fsx-oss for the OSTs, fsx-mds for the namespace), and
 * reports what happened as a typed result. It reads and writes only
 * engine rows (procs, osts, jobs) and the lifecycle-free columns it needs
 * through src/db; it never sees a description. The one function that turns
 * a result into a stored description is given to prov_start() by fsxd
 * (api_fs_apply), so nothing here includes api/.
 *
 *   job      results, in order
 *   create   CREATED, or CREATE_FAILED (processes stopped)
 *   grow     GROW_STARTED, GROWN, OPTIMIZED; or GROW_FAILED
 *   delete   DELETED (every process ended, stores removed)
 *   backup, backup-copy, backup-delete, restore: see prov_backup.c
 *   hsm      DRA_STATE, TASK_STATE: the file system's S3 agent (fsx-hsm)
 *            started or stopped as its associations need, configured,
 *            given its tasks and cancels; then, from the monitor, what
 *            the agent reports (prov_hsm.c, docs/hsm.md)
 *
 * A monitor keeps AVAILABLE and UPDATING file systems served: a process
 * whose store lock is free (it died) is restarted; one that holds its
 * store but does not answer PING within the health timeout twice in a row
 * (stopped, deadlocked) is killed and restarted. Both are logged and
 * counted (prov_health).
 */
#ifndef FSX_PROV_H
#define FSX_PROV_H

#include <stddef.h>

#include "core/conf.h"
#include "core/kinds.h"

enum prov_event {
	PROV_CREATED,		/* every process answers */
	PROV_CREATE_FAILED,	/* message says why */
	PROV_GROW_STARTED,	/* servers are being added */
	PROV_GROWN,		/* the servers provide the new values */
	PROV_OPTIMIZED,		/* layout optimization finished */
	PROV_GROW_FAILED,	/* message says why */
	PROV_DELETED,		/* nothing of the file system runs or remains */
	/* backups (prov_backup.c): fs_id names the backup */
	PROV_BACKUP_STATE,	/* lifecycle, progress, size, message */
	PROV_BACKUP_TICK,	/* about once a second: schedule automatic
				   backups, expire old ones (fs_id NULL) */
	/* fsx-hsm's reports (prov_hsm.c), one per association or task */
	PROV_DRA_STATE,		/* hsm.dra_state (or hsm.gone), message */
	PROV_TASK_STATE,	/* hsm.task_state, counters, message */
};

/* What fsx-hsm reported of one association or task (docs/hsm.md). */
struct prov_hsm_report {
	const char		*id;		/* dra-..., "legacy", task-... */
	enum fs_lifecycle	 dra_state;	/* DRA_STATE */
	int			 gone;		/* DRA_STATE: DELETED */
	enum task_lifecycle	 task_state;	/* TASK_STATE */
	long long		 total, succeeded, failed, released;
	const char		*report_path;	/* TASK_STATE: NULL if none */
};

struct prov_result {
	enum prov_event	 event;
	const char	*fs_id;
	long long	 capacity;	/* GROWN: GiB now served (0: unchanged) */
	int		 nost;		/* CREATED, GROWN: OSTs now served */
	char		 message[256];	/* *_FAILED; BACKUP_STATE FAILED;
					   DRA/TASK_STATE: "" or why */
	int		 lifecycle;	/* BACKUP_STATE: enum backup_lifecycle */
	int		 progress;	/* BACKUP_STATE: 0..100 */
	long long	 size;		/* BACKUP_STATE: bytes, -1 unchanged */
	const struct fsxd_conf *conf;	/* BACKUP_TICK: the configuration */
	struct prov_hsm_report hsm;	/* DRA_STATE, TASK_STATE */
};

/* Applies a result to the stored state; returns 0 or -errno (the job is
 * then retried). Runs on the provisioner's thread. */
typedef int (*prov_apply_fn)(const struct prov_result *r);

int	prov_start(const struct fsxd_conf *conf, prov_apply_fn apply);
void	prov_stop(void);
/* Wake the job runner (after committing a job row). */
void	prov_kick(void);
/* Where the MDS of fs_id listens. 0 or -ENOENT. */
int	prov_mds_endpoint(const char *fs_id, char *host, size_t hostlen, int *port);

struct prov_health {
	unsigned long long	 restarts_dead;		/* found dead, restarted */
	unsigned long long	 restarts_unresponsive;	/* alive, silent: killed */
	unsigned long long	 pings_failed;
};
void	prov_health(struct prov_health *out);
/* Storage node i (0 <= i < conf->nnodes): its name and whether the last
 * driver call reached it. */
int	prov_node_state(int i, const char **name);

#endif
