/*
 * Store locks: which process owns an engine store (an MDS directory, an OST
 * directory). The owner holds a write lock (an open file description lock)
 * on DIR/LOCK for its whole life and has written its pid there; the kernel drops the lock when the process
 * dies, however it dies. So the lock, not a pid file or a database row, is
 * the truth about who serves a store:
 *
 *  1. At most one process serves a store: a second store_lock() fails with
 *     -EBUSY and names the holder.
 *  2. A store whose lock is free has no process, whatever fsxd recorded.
 *  3. fsxd finds every process of a state dir by walking its stores, even one
 *     started just before fsxd was killed and never recorded.
 */
#ifndef FSX_LOCKFILE_H
#define FSX_LOCKFILE_H

#include <sys/types.h>

#define STORE_LOCK_NAME	"LOCK"

/*
 * Take DIR/LOCK (created 0600) exclusively without waiting and write our
 * pid into it. Returns the open descriptor (O_CLOEXEC; keep it open for as
 * long as the store is served), -EBUSY when another process holds it (its
 * pid in *holder, 0 if it has not written it yet), or another -errno.
 */
int	store_lock(const char *dir, pid_t *holder);

/*
 * Who holds DIR/LOCK: the holder's pid (> 0), 0 when the lock is free or
 * the file does not exist, -EAGAIN when it is held but the pid is not
 * written yet (ask again shortly), or another -errno.
 */
pid_t	store_lock_holder(const char *dir);

#endif
