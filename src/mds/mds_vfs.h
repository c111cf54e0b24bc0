/*
 * The SQLite VFS of the MDS store: "unix-excl" with the WAL appends of a
 * commit gathered into one write.
 *
 * SQLite writes each WAL frame as two pwrite() calls (24-byte header,
 * then the page), so a commit of four pages costs eight system calls.
 * This VFS buffers contiguous appends to a WAL file and writes them with
 * one pwrite() when SQLite syncs the WAL at the end of the commit, before
 * the commit is published in the WAL index (so other connections of the
 * process never see a frame that is not in the file yet), and before any
 * other access to the file (read, size, truncate, close, file control).
 *
 * The store runs with synchronous=FULL and checkpoint_fullfsync=ON so
 * that SQLite syncs the WAL at every commit with SQLITE_SYNC_NORMAL and
 * for checkpoints and WAL restarts with SQLITE_SYNC_FULL. A NORMAL sync
 * of a WAL file only writes the buffer to the kernel (the commit then
 * survives kill -9 of the process, exactly like synchronous=NORMAL); a
 * FULL sync, and every sync of another file, also reaches the disk.
 * The durability is that of synchronous=NORMAL in WAL mode.
 */
#ifndef FSX_MDS_VFS_H
#define FSX_MDS_VFS_H

#include <sqlite3.h>

#define MDS_VFS_NAME	"fsx-mds"

/* Register the VFS (once per process; thread-safe). 0 or -errno. */
int	mds_vfs_register(void);
/* Write out what a connection's WAL holds buffered (a no-op when empty
 * or when the connection does not use this VFS). 0 or -errno. */
int	mds_vfs_flush(sqlite3 *db);

#endif
