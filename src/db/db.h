/*
 * fsxd's SQLite state. One connection per thread (WAL lets readers run beside
 * the writer), opened lazily on first use from the path given to db_init().
 * Statements are prepared once per connection and cached by their SQL text's
 * address: every query is a `static const char` next to its caller.
 */
#ifndef FSX_DB_H
#define FSX_DB_H

#include <sqlite3.h>
#include <stdint.h>

/* Open (creating) the database, apply pending migrations. 0 or -errno. */
int		 db_init(const char *path);
/* This thread's connection (opened on first call); NULL on failure. */
sqlite3		*db_conn(void);
/* A reset, cleared statement for `sql` on this thread's connection. */
sqlite3_stmt	*db_stmt(const char *sql);
/* Close this thread's connection and its statements. */
void		 db_thread_fini(void);
/* Map an SQLite result code to a negative errno. */
int		 db_errno(int rc);
/* Transactions on this thread's connection (BEGIN IMMEDIATE). */
int		 db_begin(void);
int		 db_commit(void);
void		 db_rollback(void);
/*
 * A number that changes after every commit by any connection of this
 * process (the only writer of the database), for caches of query
 * results: read it before the query, and a result is current while
 * db_generation() still returns the same number. 0 means "do not cache"
 * (a connection is not in WAL mode, so commits are not seen).
 */
uint64_t	 db_generation(void);
/* The schema version the migrations reached. */
int		 db_user_version(void);

#endif
