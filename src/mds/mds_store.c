/*
 * The MDS store's life and its fixed parts (see mds_ns.h for the
 * contract, mds_ns.c's design notes for the whole store): the schema and
 * the prepared statements, opening a store (creating it, upgrading one
 * made by an older fsx-mds, destroying the orphans of the last run) and
 * closing it, and the OST map (table ost).
 *
 * Contract:
 *  1. mds_ns_open either returns a store whose every statement is
 *     prepared, whose root exists and which holds no orphan, or fails
 *     with nothing left open.
 *  2. The schema only grows: a store of an older fsx-mds gains the new
 *     columns with their defaults (ns_upgrade) and keeps its rows.
 *  3. The OST map changes in one transaction per request, like any
 *     change (group commit, mds_tx.c).
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_reply.h"
#include "mds/mds_vfs.h"

/* the columns mds_ns_ino_load reads, in its order */
#define INO_COLS	"mode, uid, gid, nlink, size, rdev, atime_s, " \
	"atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, gen, parent, " \
	"dseq, written, blocks"

static const char *const q_sql[Q_MAX] = {
	[Q_INO_GET] = "SELECT " INO_COLS " FROM inode WHERE ino = ?1",
	/* Q_INO_GET's columns, then the layout (an unlink's one read) */
	[Q_INO_GET_LAY] = "SELECT " INO_COLS ", layout FROM inode "
	    "WHERE ino = ?1",
	/* a directory whose entries changed: its times only (no other
	 * column, so no index is looked at) */
	[Q_INO_TIMES] = "UPDATE inode SET mtime_s = ?2, mtime_ns = ?3, "
	    "ctime_s = ?4, ctime_ns = ?5 WHERE ino = ?1",
	[Q_INO_INS] = "INSERT INTO inode (ino, mode, uid, gid, nlink, size, "
	    "rdev, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, "
	    "gen, parent, dseq, written, target, layout, blocks) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?16, ?17, ?18, ?19, ?20)",
	[Q_INO_UPD] = "UPDATE inode SET mode = ?2, uid = ?3, gid = ?4, "
	    "nlink = ?5, size = ?6, rdev = ?7, atime_s = ?8, atime_ns = ?9, "
	    "mtime_s = ?10, mtime_ns = ?11, ctime_s = ?12, ctime_ns = ?13, "
	    "gen = ?14, parent = ?15, dseq = ?16, written = ?17, "
	    "blocks = ?20 WHERE ino = ?1",
	[Q_INO_DEL] = "DELETE FROM inode WHERE ino = ?1",
	[Q_INO_ATIME] = "UPDATE inode SET atime_s = ?2, atime_ns = ?3 "
	    "WHERE ino = ?1",
	[Q_LAYOUT_GET] = "SELECT layout FROM inode WHERE ino = ?1",
	[Q_LAYOUT_SET] = "UPDATE inode SET layout = ?2 WHERE ino = ?1",
	[Q_TARGET_GET] = "SELECT target FROM inode WHERE ino = ?1",
	[Q_DENT_GET] = "SELECT ino FROM dentry WHERE parent = ?1 AND name = ?2",
	[Q_DENT_INS] = "INSERT INTO dentry (parent, name, ino, seq, type) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_DENT_DEL] = "DELETE FROM dentry WHERE parent = ?1 AND name = ?2",
	[Q_DENT_UPD] = "UPDATE dentry SET ino = ?3, type = ?4 "
	    "WHERE parent = ?1 AND name = ?2",
	[Q_DENT_ANY] = "SELECT 1 FROM dentry WHERE parent = ?1 LIMIT 1",
	[Q_DENT_LIST] = "SELECT name, ino, seq, type FROM dentry "
	    "WHERE parent = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	[Q_XA_GET] = "SELECT value FROM xattr WHERE ino = ?1 AND name = ?2",
	[Q_XA_SET] = "INSERT OR REPLACE INTO xattr (ino, name, value) "
	    "VALUES (?1, ?2, ?3)",
	[Q_XA_DEL] = "DELETE FROM xattr WHERE ino = ?1 AND name = ?2",
	[Q_XA_DELALL] = "DELETE FROM xattr WHERE ino = ?1",
	[Q_XA_LIST] = "SELECT name FROM xattr WHERE ino = ?1 ORDER BY name",
	[Q_XA_TOTAL] = "SELECT coalesce(sum(length(name) + length(value)), 0) "
	    "FROM xattr WHERE ino = ?1 AND name <> ?2",
	[Q_DESTROY_INS] = "INSERT INTO destroy (ost, oid) VALUES (?1, ?2)",
	[Q_DESTROY_INS4] = "INSERT INTO destroy (ost, oid) VALUES (?1, ?2), "
	    "(?3, ?4), (?5, ?6), (?7, ?8)",
	[Q_DESTROY_NEXT] = "SELECT id, ost, oid FROM destroy WHERE id > ?1 "
	    "ORDER BY id LIMIT ?2",
	[Q_DESTROY_DEL] = "DELETE FROM destroy WHERE id >= ?1 AND id <= ?2",
	[Q_CTR_GET] = "SELECT reserved FROM counter WHERE name = ?1",
	[Q_CTR_SET] = "INSERT OR REPLACE INTO counter (name, reserved) "
	    "VALUES (?1, ?2)",
	[Q_OST_PUT] = "INSERT INTO ost (idx, host, port, capacity) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (idx) DO UPDATE SET "
	    "host = ?2, port = ?3, capacity = ?4",
	[Q_OST_SETCAP] = "UPDATE ost SET capacity = ?2 WHERE idx = ?1",
	[Q_OST_LIST] = "SELECT idx, host, port, capacity FROM ost "
	    "ORDER BY idx",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT op",
	[Q_RELEASE] = "RELEASE op",
	[Q_ROLLBACK_TO] = "ROLLBACK TO op",
	[Q_XID_PUT] = "INSERT OR REPLACE INTO xid (client, reqid, op, at, val) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_XID_AGE] = "DELETE FROM xid WHERE at < ?1",
	[Q_XID_GET] = "SELECT val FROM xid WHERE client = ?1 AND reqid = ?2 "
	    "AND op = ?3",
	[Q_XID_TRIM] = "DELETE FROM xid WHERE client = ?1 AND reqid < ?2",
	[Q_XID_DEL] = "DELETE FROM xid WHERE client = ?1 AND reqid = ?2",
};

/* The store's schema: it lives here because the MDS database is private to
 * fsx-mds (fsxd's migrations/ do not apply to it). */
static const char ns_schema[] =
	"CREATE TABLE IF NOT EXISTS inode ("
	" ino INTEGER PRIMARY KEY, mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, gid INTEGER NOT NULL, nlink INTEGER NOT NULL,"
	" size INTEGER NOT NULL, rdev INTEGER NOT NULL,"
	" atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,"
	" mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	" ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	" gen INTEGER NOT NULL, parent INTEGER NOT NULL,"
	" dseq INTEGER NOT NULL, written INTEGER NOT NULL,"
	" target BLOB, layout BLOB, blocks INTEGER NOT NULL DEFAULT -1);"
	"CREATE INDEX IF NOT EXISTS inode_orphan ON inode (nlink)"
	" WHERE nlink = 0;"
	"CREATE TABLE IF NOT EXISTS dentry ("
	" parent INTEGER NOT NULL, name BLOB NOT NULL, ino INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, type INTEGER NOT NULL,"
	" PRIMARY KEY (parent, name)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX IF NOT EXISTS dentry_seq ON dentry (parent, seq);"
	"CREATE TABLE IF NOT EXISTS xattr ("
	" ino INTEGER NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY (ino, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS destroy ("
	" id INTEGER PRIMARY KEY, ost INTEGER NOT NULL, oid INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS counter ("
	" name TEXT PRIMARY KEY, reserved INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS xid ("
	" client INTEGER NOT NULL, reqid INTEGER NOT NULL, op INTEGER NOT NULL,"
	" at INTEGER NOT NULL, val INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (client, reqid)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS xid_at ON xid (at);"
	"CREATE TABLE IF NOT EXISTS ost ("
	" idx INTEGER PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL,"
	" capacity INTEGER NOT NULL);";

/* ---- open/close of the store ---- */

static int
ns_exec(struct mds_ns *ns, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(ns->db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_err("mds_ns: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return mds_tx_errno(rc);
	}
	return 0;
}

/* Stores made before inode.blocks existed gain it (-1: not known). */
static int
ns_upgrade(struct mds_ns *ns)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(ns->db, "SELECT blocks FROM inode LIMIT 0", -1,
	    &s, NULL) == SQLITE_OK)
		sqlite3_finalize(s);
	else
		rc = ns_exec(ns, "ALTER TABLE inode ADD COLUMN blocks INTEGER "
		    "NOT NULL DEFAULT -1");
	if (rc == 0 && sqlite3_prepare_v2(ns->db, "SELECT val FROM xid "
	    "LIMIT 0", -1, &s, NULL) == SQLITE_OK)
		sqlite3_finalize(s);
	else if (rc == 0)	/* a store from before APPEND was recorded */
		rc = ns_exec(ns, "ALTER TABLE xid ADD COLUMN val INTEGER "
		    "NOT NULL DEFAULT 0");
	return rc;
}

static int
ns_bootstrap(struct mds_ns *ns)
{
	struct mds_ino root, o;
	struct timespec now;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = mds_tx_begin(ns);
	if (rc < 0)
		return rc;
	rc = mds_ns_ino_load(ns, MDS_ROOT_INO, &root);
	if (rc == -ENOENT) {
		mds_ns_now(&now);
		memset(&root, 0, sizeof(root));
		root.ino = MDS_ROOT_INO;
		root.mode = S_IFDIR | 0755;
		root.nlink = 2;
		root.at = root.mt = root.ct = now;
		root.gen = 1;
		root.parent = MDS_ROOT_INO;
		root.dseq = 2;
		rc = mds_ns_ino_insert(ns, &root, NULL, 0, NULL);
	}
	if (rc < 0)
		goto out;
	/* Orphans of the previous run: no handle survived it. */
	rc = sqlite3_prepare_v2(ns->db,
	    "SELECT ino FROM inode WHERE nlink = 0 LIMIT 1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = mds_tx_errno(rc);
		goto out;
	}
	for (;;) {
		sqlite3_reset(s);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		rc = mds_ns_ino_load(ns, (uint64_t)sqlite3_column_int64(s, 0),
		    &o);
		sqlite3_reset(s);
		if (rc == 0)
			rc = mds_ns_ino_destroy(ns, &o);
		if (rc < 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : mds_tx_errno(rc);
out:
	sqlite3_finalize(s);
	return mds_tx_sync(ns, mds_tx_end(ns, rc));
}

int
mds_ns_count(struct mds_ns *ns, const char *sql, uint64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(ns->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else
		rc = mds_tx_errno(rc) ? mds_tx_errno(rc) : -EIO;
	sqlite3_finalize(s);
	return rc;
}

uint64_t
mds_ns_count_now(struct mds_ns *ns, const char *sql)
{
	uint64_t n = 0;

	mds_tx_rlock(ns);
	(void)mds_ns_count(ns, sql, &n);
	pthread_mutex_unlock(&ns->lock);
	return n;
}

uint64_t
mds_ns_mem_bytes(void)
{
	sqlite3_int64 n = sqlite3_memory_used();

	return n > 0 ? (uint64_t)n : 0;
}

int
mds_ns_open(const char *dir, struct mds_ns **out)
{
	struct mds_ns *ns;
	char *path;
	int rc;

	*out = NULL;
	rc = mkdir_p(dir, 0700);
	if (rc < 0)
		return rc;
	rc = mds_vfs_register();
	if (rc < 0)
		return rc;
	ns = xcalloc(1, sizeof(*ns));
	ns->rsv_fd = -1;
	pthread_mutex_init(&ns->rsv_mu, NULL);
	ns->replies = mds_reply_new();
	pthread_mutex_init(&ns->lock, NULL);
	pthread_mutex_init(&ns->cklock, NULL);
	pthread_cond_init(&ns->ckcond, NULL);
	pthread_cond_init(&ns->commit_cond, NULL);
	path = xasprintf("%s/mds.db", dir);
	rc = sqlite3_open_v2(path, &ns->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NS_VFS);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: open %s: %s", dir,
		    ns->db ? sqlite3_errmsg(ns->db) : "out of memory");
		rc = mds_tx_errno(rc) ? mds_tx_errno(rc) : -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(ns->db, 5000);
	/* 1 KiB pages (only a new store takes it): a create dirties about
	 * four pages, each written whole (and checksummed) to the WAL.
	 * synchronous=FULL with checkpoint_fullfsync is how the VFS tells
	 * a commit (written to the kernel only: synchronous=NORMAL's
	 * durability) from a checkpoint (fsync'd): see mds_vfs.h. */
	rc = ns_exec(ns, "PRAGMA page_size = 1024;"
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA checkpoint_fullfsync = ON;"
	    "PRAGMA cache_size = -65536;"
	    "PRAGMA wal_autocheckpoint = 65536;"
	    "PRAGMA temp_store = MEMORY;");
	if (rc < 0)
		goto fail;
	rc = ns_exec(ns, ns_schema);
	if (rc == 0)
		rc = ns_upgrade(ns);
	if (rc < 0)
		goto fail;
	for (int q = 0; q < Q_MAX; q++) {
		rc = sqlite3_prepare_v3(ns->db, q_sql[q], -1,
		    SQLITE_PREPARE_PERSISTENT, &ns->st[q], NULL);
		if (rc != SQLITE_OK) {
			log_err("mds_ns: prepare %s: %s", q_sql[q],
			    sqlite3_errmsg(ns->db));
			rc = mds_tx_errno(rc);
			goto fail;
		}
	}
	rc = rand_bytes(&ns->handle_next, sizeof(ns->handle_next));
	if (rc < 0)
		goto fail;
	ns->handle_next &= 0x7fffffff00000000ull;	/* per run, then count */
	ns->handle_next |= 1;
	mds_tx_reserve_open(ns, dir);
	rc = ns_bootstrap(ns);
	if (rc < 0)
		goto fail;
	rc = mds_ns_count(ns, "SELECT count(*) FROM inode", &ns->files);
	if (rc < 0)
		goto fail;
	rc = mds_tx_ckpt_start(ns, path);
	if (rc < 0)
		goto fail;
	free(path);
	*out = ns;
	return 0;
fail:
	free(path);
	mds_ns_close(ns);
	return rc;
}

void
mds_ns_close(struct mds_ns *ns)
{
	if (ns == NULL)
		return;
	if (ns->db != NULL && ns->nlazy > 0)	/* design note 7, mds_ns.c */
		(void)mds_ns_atime_flush(ns);
	if (ns->ckthr_started) {
		pthread_mutex_lock(&ns->cklock);
		ns->ckstop = 1;
		pthread_cond_signal(&ns->ckcond);
		pthread_mutex_unlock(&ns->cklock);
		pthread_join(ns->ckthr, NULL);
	}
	if (ns->ckdb != NULL)
		sqlite3_close(ns->ckdb);
	mds_ns_atime_free(ns);	/* stored above, or the store failed */
	mds_tx_reserve_close(ns);
	pthread_mutex_destroy(&ns->rsv_mu);
	mds_reply_free(ns->replies);
	for (int q = 0; q < Q_MAX; q++)
		sqlite3_finalize(ns->st[q]);
	if (ns->db != NULL)
		sqlite3_close(ns->db);
	for (int b = 0; b < OHASH_SIZE; b++) {
		while (ns->ofiles[b] != NULL) {
			struct ofile *f = ns->ofiles[b];

			ns->ofiles[b] = f->next;
			free(f);
		}
		while (ns->handles[b] != NULL) {
			struct ohandle *h = ns->handles[b];

			ns->handles[b] = h->next;
			free(h);
		}
	}
	free(ns->oids);
	free(ns->pool);
	pthread_cond_destroy(&ns->ckcond);
	pthread_cond_destroy(&ns->commit_cond);
	pthread_mutex_destroy(&ns->cklock);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}

/* ---- the OST map (table ost) ---- */

/* Store entries in one transaction: whole rows, or (cap_only) only the
 * capacity of rows that must exist already (else -ENODEV). */
static int
ost_store(struct mds_ns *ns, const struct msg_ost_ent *e, unsigned n,
    int cap_only)
{
	sqlite3_stmt *s;
	int rc;

	for (unsigned i = 0; i < n; i++)
		if (e[i].capacity > INT64_MAX)
			return -EINVAL;
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		s = mds_tx_st(ns, cap_only ? Q_OST_SETCAP : Q_OST_PUT);
		sqlite3_bind_int64(s, 1, e[i].ost);
		if (cap_only) {
			sqlite3_bind_int64(s, 2, (int64_t)e[i].capacity);
		} else {
			sqlite3_bind_text(s, 2, e[i].host, (int)strnlen(
			    e[i].host, sizeof(e[i].host)), SQLITE_TRANSIENT);
			sqlite3_bind_int(s, 3, e[i].port);
			sqlite3_bind_int64(s, 4, (int64_t)e[i].capacity);
		}
		rc = mds_tx_exec(ns, s);
		if (rc == 0 && cap_only && sqlite3_changes(ns->db) == 0)
			rc = -ENODEV;
	}
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_ost_put(struct mds_ns *ns, const struct msg_ost_ent *e, unsigned n)
{
	return ost_store(ns, e, n, 0);
}

int
mds_ns_ost_setcap(struct mds_ns *ns, uint32_t ost, uint64_t capacity)
{
	struct msg_ost_ent e = { .ost = ost, .capacity = capacity };

	return ost_store(ns, &e, 1, 1);
}

int
mds_ns_ost_list(struct mds_ns *ns, struct msg_ost_ent **out, unsigned *nout)
{
	struct msg_ost_ent *v = NULL;
	unsigned n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*nout = 0;
	mds_tx_rlock(ns);
	s = mds_tx_st(ns, Q_OST_LIST);
	for (;;) {
		const unsigned char *host;

		rc = mds_tx_row(ns, s);
		if (rc <= 0)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				fatal("out of memory");
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].ost = (uint32_t)sqlite3_column_int64(s, 0);
		host = sqlite3_column_text(s, 1);
		snprintf(v[n].host, sizeof(v[n].host), "%s",
		    host ? (const char *)host : "");
		v[n].port = (uint16_t)sqlite3_column_int(s, 2);
		v[n].capacity = (uint64_t)sqlite3_column_int64(s, 3);
		n++;
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&ns->lock);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}
