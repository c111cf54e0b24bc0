/*
 * Inside the provisioner: engine processes on storage nodes (prov_proc.c)
 * driven through a small driver interface (prov_driver.c: `local`
 * fork/exec on this host, `ssh` the same operations as `fsx-node` on
 * another host), used by the job runner and the monitor (prov.c).
 *
 * A process is named by its file system, role and index, runs on the node
 * its row names, and holds the lock of each of its stores while it runs
 * (core/lockfile.h), which is how the driver finds it whatever fsxd
 * recorded.
 */
#ifndef FSX_PROV_INT_H
#define FSX_PROV_INT_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "core/conf.h"
#include "db/db.h"
#include "msg/msg.h"
#include "node/node.h"
#include "prov.h"

#define PROV_MAX_PROCS	64
#define PROV_MAX_OSTS	MSG_MAX_STRIPES

/* A file system as the provisioner sees it. */
struct prov_fs {
	char		 id[DB_ID_MAX];
	uint8_t		 secret[MSG_SECRET_LEN];
	char		 secret_hex[DB_SECRET_HEX];
	struct db_proc	 procs[PROV_MAX_PROCS];
	int		 nprocs;
	struct db_ost	 osts[PROV_MAX_OSTS];
	int		 nosts;
};

extern const struct fsxd_conf *prov_conf;

/*
 * What a driver does on a node. Paths are the node's own. Every function
 * returns 0 (or a pid, or a count) or a negative errno; -EHOSTUNREACH
 * means the node could not be reached (it is then counted down).
 */
struct prov_driver {
	pid_t	(*holder)(const struct conf_node *n, const char *dir);
	int	(*end)(const struct conf_node *n, const char *dir, int hard);
	int	(*spawn)(const struct conf_node *n, char *const argv[],
		    const char *logfile, pid_t *pid, long long *starttime);
	int	(*purge)(const struct conf_node *n, const char *fsdir,
		    const char *rundir);
	int	(*fs_dirs)(const struct conf_node *n, char (*ids)[NODE_ID_MAX],
		    int max);
	/* A small file (malloc'd, NUL-terminated, at most 64 KiB). */
	int	(*read)(const struct conf_node *n, const char *path, char **out);
	/* Write a small file 0600, atomically. */
	int	(*write)(const struct conf_node *n, const char *path,
		    const void *data, size_t len);
	int	(*mkdirs)(const struct conf_node *n, char *const dirs[]);
};

extern const struct prov_driver prov_driver_local, prov_driver_ssh;

/* --- nodes (prov_proc.c) --- */

/* The node called name (the first node for "" or an unknown name). */
const struct conf_node *prov_node(const char *name);
const struct prov_driver *prov_driver(const struct conf_node *n);
/* Node health as the drivers saw it: 1 up, 0 down (unreachable). */
int	prov_node_up(const struct conf_node *n);
void	prov_node_seen(const struct conf_node *n, int rc);
/* The address fsxd dials a node's engines at. */
const char *prov_dial_host(const struct conf_node *n);

/* NODE_DIR/fs/<id>/<sub> (stores) and NODE_DIR/run/<id>/<sub>; malloc'd. */
char	*prov_store_path(const struct conf_node *n, const char *fs_id,
	    const char *sub);
char	*prov_run_path(const struct conf_node *n, const char *fs_id,
	    const char *sub);

/* --- processes (prov_proc.c) --- */

/* Create f's directories and secret file on every node it uses. */
int	prov_proc_dirs(const struct prov_fs *f);
/*
 * Make process p of f run and answer PING: adopt the holder of its store
 * when it answers, else end it and start a new one. Records pid, start
 * time and port in p (the caller stores the row). 0 or -errno (-ECHILD:
 * it exited at start; -ETIMEDOUT: it never answered; -EHOSTUNREACH: its
 * node is down).
 */
int	prov_proc_ensure(const struct prov_fs *f, struct db_proc *p);
/* The pid holding p's store: > 0, 0 when none, < 0 when unknown (node
 * down). */
pid_t	prov_proc_holder(const struct prov_fs *f, const struct db_proc *p);
/* PING p within timeout_ms. 0 or -errno. */
int	prov_proc_ping(const struct prov_fs *f, const struct db_proc *p,
	    int timeout_ms);
/* End the process holding p's store (SIGKILL when `hard`). */
void	prov_proc_stop(const struct prov_fs *f, const struct db_proc *p,
	    int hard);
/* End whatever holds a store of fs_id on every node (recorded or not),
 * then remove its directories there. -EHOSTUNREACH when a node could not
 * be reached (the rest is done). */
int	prov_proc_purge(const char *fs_id);
/* Ids of file systems with a directory on any node; up to max. */
int	prov_proc_fs_dirs(char (*ids)[NODE_ID_MAX], int max);
/* One admin call to a process of f (connect, HELLO, call, close). */
int	prov_call(const struct prov_fs *f, const struct db_proc *p,
	    uint16_t op, const void *body, uint32_t body_len,
	    const void *bulk, uint32_t bulk_len, int timeout_ms);

/* --- shared by the job runners (prov.c, prov_backup.c) --- */

extern pthread_mutex_t prov_proc_mu;	/* process starts and stops */
int	prov_fs_load(const char *fs_id, struct prov_fs *f,
	    enum fs_lifecycle *lc, long long *capacity);
struct db_proc *prov_mds(struct prov_fs *f);
int	prov_layout(struct prov_fs *f, int nost, long long gib);
int	prov_up(struct prov_fs *f);
void	prov_down(const char *fs_id);
/* Hand a result to fsxd's apply function. */
int	prov_report(const struct prov_result *r);

/* --- backups (prov_backup.c): job runners and reporters --- */

int	job_backup(const struct db_job *j, struct prov_fs *f);
void	job_backup_failed(const struct db_job *j, int rc);
int	job_restore(const struct db_job *j, struct prov_fs *f);
void	job_restore_failed(const struct db_job *j, int rc);
int	job_backup_copy(const struct db_job *j, struct prov_fs *f);
void	job_backup_copy_failed(const struct db_job *j, int rc);
int	job_backup_delete(const struct db_job *j, struct prov_fs *f);

/* --- the S3 agent, fsx-hsm (prov_hsm.c, docs/hsm.md) --- */

/* f's agent row, or NULL. */
struct db_proc *prov_hsm_proc(struct prov_fs *f);
/* Send f's agent (if it has one) the whole configuration. 0 or -errno. */
int	prov_hsm_push(struct prov_fs *f);
/*
 * Make f's agent match its rows: start or adopt it (and record it) while
 * an association or open task exists, configure it, send open tasks and
 * cancels; stop and forget it when nothing is left. Caller holds the
 * process mutex. 0 or -errno.
 */
int	prov_hsm_sync(struct prov_fs *f, prov_apply_fn apply);
/* Ask f's agent for its status and apply it (every call while a row is in
 * a transitional state, else only when `health`). Returns 1 when a row
 * was in a transitional state before the status was applied. */
int	prov_hsm_poll(struct prov_fs *f, int health, prov_apply_fn apply);
/* The agent cannot serve: what was waiting on it fails with message. */
void	prov_hsm_fail(const char *fs_id, const char *message,
	    prov_apply_fn apply);

#endif
