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
 *  3. Signals: SIGPIPE is ignored; SIGTERM and SIGINT are blocked in every
 *     thread (engine_signals_block, before any thread is made) and taken
 *     synchronously by one thread of their own, which asks the server to
 *     stop (engine_signals_serve).
 *  4. The pid file, when asked for, is written atomically once the store
 *     is locked (engine_pid_file).
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

/* Ignore SIGPIPE; block SIGTERM and SIGINT in this thread and every thread
 * it makes from now on. */
void	engine_signals_block(void);

/* Start a detached thread that waits for SIGTERM or SIGINT, logs it and
 * calls stop(arg) once. Exits 1 if the thread cannot be made. */
void	engine_signals_serve(void (*stop)(void *), void *arg);

/* Write "PID\n" to path atomically; exits 1 on failure. NULL: nothing. */
void	engine_pid_file(const char *path);

#endif
