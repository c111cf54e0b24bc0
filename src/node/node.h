/*
 * What a storage node does for fsxd, on its own paths: find, start and end
 * the engine processes of its stores, and keep their small files. The
 * local provisioner driver calls these in-process; on another host fsxd
 * runs the same code as `fsx-node` over SSH (src/cmd/fsx-node.c), so both
 * drivers obey one set of rules (core/lockfile.h):
 *
 *  1. A store's process is the holder of its lock, never a recorded pid.
 *  2. Only a current holder is signalled.
 *  3. A purge ends every holder under a file system's directory (the MDS
 *     first) before removing anything.
 *
 * Functions return 0 (or a pid) or a negative errno.
 */
#ifndef FSX_NODE_H
#define FSX_NODE_H

#include <stddef.h>
#include <sys/types.h>

#define NODE_ID_MAX	32	/* a file system id with its NUL */

/* The pid holding DIR's lock, 0 when none; waits out one that is still
 * writing its pid (up to a second). */
pid_t	node_holder(const char *dir);
/* End DIR's holder: SIGTERM (SIGKILL when hard), SIGKILL after a grace
 * period; returns once the lock is free, or -EBUSY after a second grace. */
int	node_end(const char *dir, int hard);
/* Start argv[0] in a new session, stdout and stderr appended to logfile,
 * stdin /dev/null; *pid is the child. It outlives the caller. */
int	node_spawn(char *const argv[], const char *logfile, pid_t *pid);
/* End every holder of a store under fsdir (its "mds" first), then remove
 * fsdir and rundir. */
void	node_purge(const char *fsdir, const char *rundir);
/* Names of the "fs-*" directories under root: up to max; returns count. */
int	node_fs_dirs(const char *root, char (*ids)[NODE_ID_MAX], int max);
/* /proc/<pid>/stat field 22, or -1 (gone, zombie). */
long long node_starttime(pid_t pid);

#endif
