/*
 * Inside the data layer only (the files of src/db and its unit test): the SQLite
 * connection of this thread and its statement cache. Statements are keyed
 * by the address of their SQL text, so every query is a `static const
 * char[]` beside the one function that runs it.
 */
#ifndef FSX_DB_INT_H
#define FSX_DB_INT_H

#include <sqlite3.h>

/* This thread's connection (opened on first call); NULL on failure. */
sqlite3		*db_conn(void);
/* A reset, cleared statement for `sql` on this thread's connection. */
sqlite3_stmt	*db_stmt(const char *sql);
/* Map an SQLite result code to 0 or a negative errno. */
int		 db_errno(int rc);
/* Column i as text, "" for NULL. */
const char	*db_col_text(sqlite3_stmt *st, int i);
/* Step a statement that returns no row and reset it: 0 or -errno. */
int		 db_step_done(sqlite3_stmt *st);
/* Copy column i into a fixed buffer, truncating. */
void		 db_col_copy(sqlite3_stmt *st, int i, char *out, size_t len);

#endif
