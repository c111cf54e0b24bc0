/*
 * Start-up steps shared by the engine processes (fsx-mds, fsx-oss), run
 * before they serve. Start-up only: a failure ends the process with exit
 * status 1 and one log line saying why (fatal()).
 *
 *  1. A store (the MDS directory, each OST directory) is served by one
 *     process: engine_store_lock() takes its lock (core/lockfile.h) and the
 *     caller keeps the returned descriptor open for its whole life.
 *  2. An engine may hold many connections (each a descriptor): the soft
 *     RLIMIT_NOFILE is raised to the hard limit.
 */
#ifndef FSX_ENGINE_H
#define FSX_ENGINE_H

/*
 * Create DIR if missing (0700) and lock it as a store. Returns the lock's
 * descriptor (never closed by us). When another process holds it, logs
 * "store DIR is in use by pid N" and exits 1; any other failure exits 1.
 */
int	engine_store_lock(const char *dir);

/* Raise the soft descriptor limit to the hard one; returns the new soft
 * limit (or the old one when it cannot be raised). */
long	engine_nofile_raise(void);

#endif
