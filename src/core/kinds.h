/*
 * The control plane's closed sets, each an enum with its one name table:
 * the names are what AWS shows (lifecycles) or what the database stores
 * (job kinds and states, engine roles). Code compares enums; names appear
 * only at the edges (JSON out, SQL columns, logs).
 *
 * kind_name(TABLE, v) gives the name (never NULL: "?" when out of range);
 * kind_parse(TABLE, s) gives the value, or -1 when s is no name of TABLE.
 */
#ifndef FSX_KINDS_H
#define FSX_KINDS_H

#include <stddef.h>

/* FileSystem.Lifecycle as FSx reports it. */
#define FS_LIFECYCLES(X)						\
	X(FS_AVAILABLE, "AVAILABLE")					\
	X(FS_CREATING, "CREATING")					\
	X(FS_FAILED, "FAILED")						\
	X(FS_DELETING, "DELETING")					\
	X(FS_MISCONFIGURED, "MISCONFIGURED")				\
	X(FS_UPDATING, "UPDATING")					\
	X(FS_MISCONFIGURED_UNAVAILABLE, "MISCONFIGURED_UNAVAILABLE")

/* What a job does to its file system (see provisioner/prov.h). */
#define JOB_KINDS(X)							\
	X(JOB_CREATE, "create")						\
	X(JOB_GROW, "grow")						\
	X(JOB_DELETE, "delete")					\
	X(JOB_BACKUP, "backup")					\
	X(JOB_RESTORE, "restore")					\
	X(JOB_BACKUP_COPY, "backup-copy")				\
	X(JOB_BACKUP_DELETE, "backup-delete")				\
	X(JOB_HSM, "hsm")

/* A job row's state: pending -> running -> done | failed. */
#define JOB_STATES(X)							\
	X(JOB_PENDING, "pending")					\
	X(JOB_RUNNING, "running")					\
	X(JOB_DONE, "done")						\
	X(JOB_FAILED, "failed")

/* Backup.Lifecycle as FSx reports it (docs/backups.md). */
#define BACKUP_LIFECYCLES(X)						\
	X(BK_AVAILABLE, "AVAILABLE")					\
	X(BK_CREATING, "CREATING")					\
	X(BK_TRANSFERRING, "TRANSFERRING")				\
	X(BK_DELETED, "DELETED")					\
	X(BK_FAILED, "FAILED")						\
	X(BK_PENDING, "PENDING")					\
	X(BK_COPYING, "COPYING")

/* Backup.Type. */
#define BACKUP_TYPES(X)							\
	X(BK_USER_INITIATED, "USER_INITIATED")				\
	X(BK_AUTOMATIC, "AUTOMATIC")					\
	X(BK_AWS_BACKUP, "AWS_BACKUP")

/* An engine process's role in its file system. */
#define PROC_ROLES(X)							\
	X(ROLE_MDS, "mds")						\
	X(ROLE_OSS, "oss")						\
	X(ROLE_HSM, "hsm")

/* DataRepositoryTask.Lifecycle as FSx reports it. (Associations use the
 * file system's lifecycle names, a superset of theirs.) */
#define TASK_LIFECYCLES(X)						\
	X(TASK_PENDING, "PENDING")					\
	X(TASK_EXECUTING, "EXECUTING")					\
	X(TASK_FAILED, "FAILED")					\
	X(TASK_SUCCEEDED, "SUCCEEDED")					\
	X(TASK_CANCELED, "CANCELED")					\
	X(TASK_CANCELING, "CANCELING")

#define KIND_ENUM(sym, name)	sym,
enum fs_lifecycle	{ FS_LIFECYCLES(KIND_ENUM) FS_LIFECYCLE__COUNT };
enum job_kind		{ JOB_KINDS(KIND_ENUM) JOB_KIND__COUNT };
enum job_state		{ JOB_STATES(KIND_ENUM) JOB_STATE__COUNT };
enum proc_role		{ PROC_ROLES(KIND_ENUM) PROC_ROLE__COUNT };
enum backup_lifecycle	{ BACKUP_LIFECYCLES(KIND_ENUM) BK_LIFECYCLE__COUNT };
enum backup_type	{ BACKUP_TYPES(KIND_ENUM) BK_TYPE__COUNT };
enum task_lifecycle	{ TASK_LIFECYCLES(KIND_ENUM) TASK_LIFECYCLE__COUNT };
#undef KIND_ENUM

struct kind_table {
	const char *const	*names;
	int			 n;
};

extern const struct kind_table kind_fs_lifecycle, kind_job_kind,
    kind_job_state, kind_proc_role, kind_backup_lifecycle, kind_backup_type,
    kind_task_lifecycle;

const char	*kind_name(const struct kind_table *t, int v);
int		 kind_parse(const struct kind_table *t, const char *s);

#define fs_lifecycle_name(v)	kind_name(&kind_fs_lifecycle, (int)(v))
#define job_kind_name(v)	kind_name(&kind_job_kind, (int)(v))
#define job_state_name(v)	kind_name(&kind_job_state, (int)(v))
#define proc_role_name(v)	kind_name(&kind_proc_role, (int)(v))
#define backup_lifecycle_name(v) kind_name(&kind_backup_lifecycle, (int)(v))
#define backup_type_name(v)	kind_name(&kind_backup_type, (int)(v))
#define task_lifecycle_name(v)	kind_name(&kind_task_lifecycle, (int)(v))

#endif
