/*
 * The tags table: the tags of any resource, keyed by its ARN, in the order
 * each key was first set. Descriptions read through src/db carry them back
 * as their "Tags" member (see DB_TAGS_OF in db_int.h), so a tag change is
 * one row, and every resource kind shares this table and api/api_tags.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/db_int.h"

int
db_tag_list(const char *arn, long long start, struct db_tag *out, int max)
{
	static const char q[] = "SELECT key, value FROM tags WHERE arn = ?1"
	    " ORDER BY seq";
	sqlite3_stmt *st = db_stmt(q);
	long long i = 0;
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (i >= start && n < max) {
			db_col_copy(st, 0, out[n].key, sizeof(out[n].key));
			db_col_copy(st, 1, out[n].value, sizeof(out[n].value));
			n++;
		}
		i++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? (int)i : db_errno(rc);
}

int
db_tag_put(const char *arn, const char *key, const char *value)
{
	static const char q[] = "INSERT INTO tags (arn, key, value, seq)"
	    " VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM tags"
	    " WHERE arn = ?1)) ON CONFLICT (arn, key) DO UPDATE"
	    " SET value = excluded.value";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	return db_step_done(st);
}

int
db_tag_delete(const char *arn, const char *key)
{
	static const char q[] = "DELETE FROM tags WHERE arn = ?1 AND key = ?2";
	sqlite3_stmt *st = db_stmt(q);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return db_step_done(st);
}

int
db_tag_new_keys(const char *arn, const char *const *keys, int n)
{
	static const char q[] = "SELECT 1 FROM tags WHERE arn = ?1 AND key = ?2";
	sqlite3_stmt *st = db_stmt(q);
	int fresh = 0, rc;

	if (st == NULL)
		return -EIO;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, keys[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			fresh++;
		else if (rc != SQLITE_ROW)
			return db_errno(rc);
	}
	return fresh;
}
