/*
 * What the provisioner reports about backups (BACKUP_STATE), automatic
 * daily backups and their expiry (BACKUP_TICK, about once a second), and
 * the automatic backups of a deleted file system (spec 6.5, 6.13).
 *
 * The clock of automatic backups: a "day" is conf->day_seconds long
 * (86400 unless fsxd is told otherwise), day N starts at N * day_seconds
 * on the epoch, and DailyAutomaticBackupStartTime HH:MM is that fraction
 * of a day into it. A file system with AutomaticBackupRetentionDays > 0
 * gets one AUTOMATIC backup per day once the start time has passed
 * (unless one was taken since, or a backup of it is running), and its
 * automatic backups older than the retention (in such days) are deleted.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_backup.h"
#include "api_fs.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db_backup.h"

#define AUTO_FS_MAX	1024
#define AUTO_KEEP_MAX	512
#define AUTO_TICK_S	0.5	/* at most this often */

static double	last_tick;	/* the provisioner's runner thread only */

struct state_tx {
	const struct prov_result	*r;
};

static int
state_tx(void *arg)
{
	const struct prov_result *r = ((struct state_tx *)arg)->r;
	int rc = db_backup_set_state(r->fs_id, (enum backup_lifecycle)
	    r->lifecycle, r->progress, r->size, r->message[0] ? r->message :
	    NULL);

	return rc == -ENOENT ? 0 : rc;	/* deleted meanwhile */
}

/* Delete one backup row and queue the removal of its files. */
static int
auto_drop(const char *id)
{
	int rc = db_backup_delete(id);

	if (rc == -ENOENT)
		return 0;
	return rc == 0 ? db_job_add(JOB_BACKUP_DELETE, id, 0, 0) : rc;
}

int
api_backup_fs_gone(const char *fs_id)
{
	char (*ids)[DB_ID_MAX] = xcalloc(AUTO_KEEP_MAX, DB_ID_MAX);
	int n, rc = 0;

	n = db_backup_of_fs(fs_id, BK_AUTOMATIC, ~0u, ids, AUTO_KEEP_MAX);
	for (int i = 0; rc == 0 && i < n && i < AUTO_KEEP_MAX; i++)
		rc = auto_drop(ids[i]);
	free(ids);
	return n < 0 ? n : rc;
}

/* Seconds into the day of "HH:MM", scaled to a day of `day` seconds. */
static double
start_offset(const char *hhmm, double day)
{
	int h = 0, m = 0;

	if (hhmm == NULL || sscanf(hhmm, "%d:%d", &h, &m) != 2)
		return 0;
	return (h * 60 + m) / 1440.0 * day;
}

struct tick_tx {
	const struct fsxd_conf	*conf;
	const char		*fs_id;
	int			 queued;
};

/* One file system: take today's backup when due; expire old ones. */
static int
tick_fs_tx(void *arg)
{
	struct tick_tx *t = arg;
	char (*ids)[DB_ID_MAX] = NULL;
	double day = t->conf->day_seconds > 0 ? t->conf->day_seconds : 86400;
	double now = now_epoch(), due, created;
	enum fs_lifecycle lc;
	const json_t *lcfg;
	json_t *fsd;
	long long keep;
	int n, rc = 0;

	fsd = api_fs_get(NULL, t->fs_id, &lc);
	if (fsd == NULL)
		return 0;
	lcfg = json_object_get(fsd, "LustreConfiguration");
	keep = json_integer_value(json_object_get(lcfg,
	    "AutomaticBackupRetentionDays"));
	if (keep <= 0 || api_backup_refusal(fsd) != NULL ||
	    (lc != FS_AVAILABLE && lc != FS_UPDATING))
		goto out;
	ids = xcalloc(AUTO_KEEP_MAX, DB_ID_MAX);
	/* expiry: automatic backups older than the retention */
	n = db_backup_of_fs(t->fs_id, BK_AUTOMATIC, ~DB_BK_OPEN, ids,
	    AUTO_KEEP_MAX);
	for (int i = 0; rc == 0 && i < n && i < AUTO_KEEP_MAX; i++) {
		struct db_backup b;

		if (db_backup_get(ids[i], NULL, NULL, &b) < 0)
			continue;
		created = b.created;
		db_backup_fini(&b);
		if (created < now - (double)keep * day) {
			log_info("%s: %s of %s is past its retention", __func__,
			    ids[i], t->fs_id);
			rc = auto_drop(ids[i]);
			t->queued = 1;
		}
	}
	if (rc < 0)
		goto out;
	/* today's: due at the start time, once, none running */
	due = floor(now / day) * day + start_offset(json_string_value(
	    json_object_get(lcfg, "DailyAutomaticBackupStartTime")), day);
	if (now < due || json_real_value(json_object_get(fsd,
	    "CreationTime")) > due)
		goto out;
	if (db_backup_of_fs(t->fs_id, -1, DB_BK_OPEN, NULL, 0) > 0)
		goto out;
	n = db_backup_of_fs(t->fs_id, BK_AUTOMATIC, ~0u, ids, AUTO_KEEP_MAX);
	if (n > 0 && n <= AUTO_KEEP_MAX) {
		struct db_backup b;

		if (db_backup_get(ids[n - 1], NULL, NULL, &b) == 0) {
			created = b.created;
			db_backup_fini(&b);
			if (created >= due)
				goto out;	/* today's is taken */
		}
	}
	rc = api_backup_new(fsd, BK_AUTOMATIC, NULL, ids[0], DB_ID_MAX);
	if (rc == 0) {
		log_info("%s: automatic backup %s of %s", __func__, ids[0],
		    t->fs_id);
		t->queued = 1;
	}
out:
	free(ids);
	json_decref(fsd);
	return rc;
}

static void
tick(const struct fsxd_conf *conf)
{
	char (*ids)[DB_ID_MAX] = xcalloc(AUTO_FS_MAX, DB_ID_MAX);
	int n = db_fs_ids_auto_backup(ids, AUTO_FS_MAX);

	/* a write transaction only where it can matter; the query reads no
	   description into JSON (idle scale: docs/backups.md) */
	for (int i = 0; i < n && i < AUTO_FS_MAX; i++) {
		struct tick_tx t = { conf, ids[i], 0 };

		(void)db_tx(tick_fs_tx, &t);
	}
	free(ids);
}

int
api_backup_apply(const struct prov_result *r)
{
	struct state_tx t = { r };

	switch (r->event) {
	case PROV_BACKUP_STATE:
		return db_tx(state_tx, &t);
	case PROV_BACKUP_TICK:
		/* the runner reports one at every wake-up; once a second is
		   enough (it reads every file system's description) */
		if (r->conf != NULL && now_epoch() - last_tick >= AUTO_TICK_S) {
			last_tick = now_epoch();
			tick(r->conf);
		}
		return 0;
	default:
		return -EINVAL;
	}
}
