/*
 * SQLite access for fsxd: thread-local connections, a statement cache,
 * transactions as one call, and forward-only migrations
 * (migrations/NNNN_*.sql, compiled in). Each migration sets PRAGMA
 * user_version to its number; on start-up every migration numbered above
 * the database's user_version runs, in order.
 *
 * The database and its -wal/-shm files are 0600 (SQLite gives the side
 * files the main file's mode): they hold every file system's engine
 * secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/util.h"
#include <stdio.h>
#include "db/db.h"
#include "db/db_int.h"
#include "migrations.h"

#define DB_STMT_CACHE	64

struct db_tls {
	sqlite3		*conn;
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	} cache[DB_STMT_CACHE];
	int		 n;
};

static char		*db_path;
static __thread struct db_tls *db_tls;
static pthread_key_t	 db_key;	/* closes a thread's connection at its exit */
static pthread_once_t	 db_key_once = PTHREAD_ONCE_INIT;
static uint64_t		 db_gen = 1;	/* bumped after every commit */
static int		 db_gen_off;	/* a connection is not in WAL mode */

#define DB_AUTOCHECKPOINT	1000	/* SQLite's default, in WAL frames */

int
db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

/*
 * Called by SQLite after each commit on a connection in WAL mode. It
 * replaces the default hook, so it also checkpoints as that one does.
 */
static int
db_wal_hook(void *arg, sqlite3 *c, const char *name, int frames)
{
	(void)arg;
	__atomic_add_fetch(&db_gen, 1, __ATOMIC_RELEASE);
	if (frames >= DB_AUTOCHECKPOINT)
		(void)sqlite3_wal_checkpoint_v2(c, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

static int
db_mode_cb(void *arg, int n, char **v, char **names)
{
	(void)names;
	if (n > 0 && v[0] != NULL)
		*(int *)arg = strcmp(v[0], "wal") == 0;
	return 0;
}

uint64_t
db_generation(void)
{
	if (__atomic_load_n(&db_gen_off, __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_load_n(&db_gen, __ATOMIC_ACQUIRE);
}

static int
db_open_conn(sqlite3 **out)
{
	int wal = 0;
	sqlite3 *c = NULL;
	int rc;

	rc = sqlite3_open_v2(db_path, &c, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_err("%s: %s: %s", __func__, db_path,
		    c ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
		sqlite3_close(c);
		return db_errno(rc);
	}
	sqlite3_busy_timeout(c, 5000);
	rc = sqlite3_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    " PRAGMA foreign_keys=ON;", db_mode_cb, &wal, NULL);
	if (rc != SQLITE_OK) {
		log_err("%s: pragmas: %s", __func__, sqlite3_errmsg(c));
		sqlite3_close(c);
		return db_errno(rc);
	}
	if (wal)
		sqlite3_wal_hook(c, db_wal_hook, NULL);
	else
		__atomic_store_n(&db_gen_off, 1, __ATOMIC_RELEASE);
	*out = c;
	return 0;
}

static void
db_tls_free(struct db_tls *t)
{
	for (int i = 0; i < t->n; i++)
		sqlite3_finalize(t->cache[i].st);
	sqlite3_close(t->conn);
	free(t);
}

static void
db_key_dtor(void *p)
{
	db_tls_free(p);
	db_tls = NULL;
}

static void
db_key_make(void)
{
	if (pthread_key_create(&db_key, db_key_dtor) != 0)
		fatal("%s: pthread_key_create", __func__);
}

sqlite3 *
db_conn(void)
{
	if (db_tls == NULL) {
		struct db_tls *t = xcalloc(1, sizeof(*t));

		if (db_open_conn(&t->conn) < 0) {
			free(t);
			return NULL;
		}
		pthread_once(&db_key_once, db_key_make);
		pthread_setspecific(db_key, t);
		db_tls = t;
	}
	return db_tls->conn;
}

sqlite3_stmt *
db_stmt(const char *sql)
{
	sqlite3 *c = db_conn();
	sqlite3_stmt *st = NULL;
	int i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < db_tls->n; i++) {
		if (db_tls->cache[i].sql == sql) {
			st = db_tls->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (sqlite3_prepare_v3(c, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		log_err("%s: %s", __func__, sqlite3_errmsg(c));
		return NULL;
	}
	if (db_tls->n < DB_STMT_CACHE) {
		db_tls->cache[db_tls->n].sql = sql;
		db_tls->cache[db_tls->n].st = st;
		db_tls->n++;
	} else {
		fatal("%s: statement cache full; raise DB_STMT_CACHE", __func__);
	}
	return st;
}

void
db_thread_fini(void)
{
	if (db_tls == NULL)
		return;
	pthread_setspecific(db_key, NULL);
	db_tls_free(db_tls);
	db_tls = NULL;
}

static int
db_exec(const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db_conn(), sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_err("%s: %s", __func__, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return db_errno(rc);
	}
	return 0;
}

static void
db_rollback(void)
{
	sqlite3_exec(db_conn(), "ROLLBACK", NULL, NULL, NULL);
}

int
db_tx(int (*fn)(void *arg), void *arg)
{
	int rc = db_exec("BEGIN IMMEDIATE");

	if (rc < 0)
		return rc;
	rc = fn(arg);
	if (rc < 0) {
		db_rollback();
		return rc;
	}
	if (FP("db.commit") < 0 || db_exec("COMMIT") < 0) {
		db_rollback();
		return -EIO;
	}
	return rc;
}

const char *
db_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

void
db_col_copy(sqlite3_stmt *st, int i, char *out, size_t len)
{
	snprintf(out, len, "%s", db_col_text(st, i));
}

int
db_step_done(sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int
db_user_version(void)
{
	sqlite3_stmt *st = db_stmt("PRAGMA user_version");
	int v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

/* Create the database file 0600, or make an existing one (and its side
 * files) 0600. */
static int
db_file_private(const char *path)
{
	static const char *const side[] = { "-wal", "-shm" };
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
		rc = -errno;
	close(fd);
	for (size_t i = 0; rc == 0 && i < sizeof(side) / sizeof(side[0]); i++) {
		char *p = xasprintf("%s%s", path, side[i]);

		if (chmod(p, 0600) < 0 && errno != ENOENT)
			rc = -errno;
		free(p);
	}
	return rc;
}

int
db_init(const char *path)
{
	int have, rc;

	free(db_path);
	db_path = xstrdup(path);
	rc = db_file_private(path);
	if (rc < 0)
		return rc;
	/* No global allocation statistics: they take a process-wide mutex
	 * on every malloc, which the HTTP threads would contend on. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (db_conn() == NULL)
		return -EIO;
	have = db_user_version();
	if (have < 0)
		return -EIO;
	for (int i = 0; db_migrations[i].name != NULL; i++) {
		int num = atoi(db_migrations[i].name);

		if (num <= have)
			continue;
		log_info("%s: applying migration %s", __func__,
		    db_migrations[i].name);
		rc = db_exec((const char *)db_migrations[i].data);
		if (rc < 0) {
			db_rollback();
			return rc;
		}
		if (db_user_version() != num) {
			log_err("%s: %s did not set user_version %d", __func__,
			    db_migrations[i].name, num);
			return -EINVAL;
		}
	}
	return 0;
}
