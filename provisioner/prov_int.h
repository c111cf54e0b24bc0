/*
 * Inside the provisioner: the local process driver (prov_local.c) that the
 * job runner and the monitor (prov.c) drive. A process is named by its
 * file system, role and index; it owns stores (directories) and holds the
 * lock of each (core/lockfile.h) while it runs, which is how the driver
 * finds it whatever fsxd recorded.
 */
#ifndef FSX_PROV_INT_H
#define FSX_PROV_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "core/conf.h"
#include "db/db.h"
#include "msg/msg.h"

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

/* The address fsxd dials its engines at (the bind address, or loopback
 * when they bind every interface). */
const char *prov_dial_host(void);

/* STATE/fs/<id>/<sub> (stores) or STATE/run/<id>/<sub> (the rest);
 * malloc'd. */
char	*prov_store_path(const char *fs_id, const char *sub);
char	*prov_run_path(const char *fs_id, const char *sub);

/*
 * Make process p of f run and answer PING: adopt the holder of its store
 * when it answers, else end it and start a new one. Records pid, start
 * time and port in p (the caller stores the row). 0 or -errno (-ECHILD:
 * it exited at start; -ETIMEDOUT: it never answered).
 */
int	prov_local_ensure(const struct prov_fs *f, struct db_proc *p);
/* The pid holding p's store, 0 when none (the process is not running). */
pid_t	prov_local_holder(const struct prov_fs *f, const struct db_proc *p);
/* PING p within timeout_ms. 0 or -errno. */
int	prov_local_ping(const struct prov_fs *f, const struct db_proc *p,
	    int timeout_ms);
/* End whatever holds a store under STATE/fs/<id>/ (every store of the file
 * system, recorded or not), then remove its directories. */
void	prov_local_purge(const char *fs_id);
/* End the process holding p's store (SIGKILL when `hard`). */
void	prov_local_stop(const struct prov_fs *f, const struct db_proc *p,
	    int hard);
/* Ids of file systems with a directory under STATE/fs/; up to max. */
int	prov_local_fs_dirs(char (*ids)[DB_ID_MAX], int max);

/* One admin call to a process of f (connect, HELLO, call, close). */
int	prov_call(const struct prov_fs *f, const struct db_proc *p,
	    uint16_t op, const void *body, uint32_t body_len,
	    const void *bulk, uint32_t bulk_len, int timeout_ms);

#endif
