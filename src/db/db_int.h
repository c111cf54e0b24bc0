/*
 * Inside the data layer only (the files of src/db and its unit test): the SQLite
 * connection of this thread and its statement cache. Statements are keyed
 * by the address of their SQL text, so every query is a `static const
 * char[]` beside the one function that runs it.
 */
#ifndef FSX_DB_INT_H
#define FSX_DB_INT_H

#include <sqlite3.h>

/*
 * The stored description of a resource row `r` (columns doc and arn) with
 * its tags as the "Tags" member, omitted when it has none: what every
 * query that hands a description out selects.
 */
#define DB_TAGS_OF(r)							\
	"CASE WHEN EXISTS (SELECT 1 FROM tags WHERE tags.arn = " r ".arn)" \
	" THEN json_set(" r ".doc, '$.Tags', (SELECT json_group_array("	\
	"json_object('Key', key, 'Value', value)) FROM (SELECT key, value" \
	" FROM tags WHERE tags.arn = " r ".arn ORDER BY seq)))"		\
	" ELSE " r ".doc END"

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
