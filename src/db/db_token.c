/*
 * The idem_tokens table: a ClientRequestToken, per (account, region,
 * operation), remembers the request it came with (canonical JSON, token
 * removed) and the resource it made, so a retry gets the same resource and
 * a different request under the same token is refused by the caller.
 */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "db/db.h"
#include "db/db_int.h"

int
db_token_get(const char *account, const char *region, const char *op,
    const char *token, char **params, char *resource_id, size_t len)
{
	static const char q[] = "SELECT params, resource_id FROM idem_tokens"
	    " WHERE account = ?1 AND region = ?2 AND op = ?3 AND token = ?4";
	sqlite3_stmt *st = db_stmt(q);
	int rc;

	*params = NULL;
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*params = xstrdup(db_col_text(st, 0));
		db_col_copy(st, 1, resource_id, len);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

int
db_token_put(const char *account, const char *region, const char *op,
    const char *token, const char *params, const char *resource_id)
{
	static const char q[] = "INSERT OR REPLACE INTO idem_tokens"
	    " (account, region, op, token, params, resource_id, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, params, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, resource_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, now_epoch());
	return db_step_done(st);
}
