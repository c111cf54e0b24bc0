/*
 * Name tables of the enums in kinds.h, built from the same lists as the
 * enums, so a value and its name cannot drift apart.
 */
#include <string.h>

#include "core/kinds.h"

#define KIND_NAME(sym, name)	[sym] = name,
static const char *const fs_lifecycle_names[] = { FS_LIFECYCLES(KIND_NAME) };
static const char *const job_kind_names[] = { JOB_KINDS(KIND_NAME) };
static const char *const job_state_names[] = { JOB_STATES(KIND_NAME) };
static const char *const proc_role_names[] = { PROC_ROLES(KIND_NAME) };
static const char *const backup_lifecycle_names[] = { BACKUP_LIFECYCLES(KIND_NAME) };
static const char *const backup_type_names[] = { BACKUP_TYPES(KIND_NAME) };
static const char *const task_lifecycle_names[] = { TASK_LIFECYCLES(KIND_NAME) };
#undef KIND_NAME

const struct kind_table kind_fs_lifecycle = { fs_lifecycle_names, FS_LIFECYCLE__COUNT };
const struct kind_table kind_job_kind = { job_kind_names, JOB_KIND__COUNT };
const struct kind_table kind_job_state = { job_state_names, JOB_STATE__COUNT };
const struct kind_table kind_proc_role = { proc_role_names, PROC_ROLE__COUNT };
const struct kind_table kind_backup_lifecycle = { backup_lifecycle_names, BK_LIFECYCLE__COUNT };
const struct kind_table kind_backup_type = { backup_type_names, BK_TYPE__COUNT };
const struct kind_table kind_task_lifecycle = { task_lifecycle_names, TASK_LIFECYCLE__COUNT };

const char *
kind_name(const struct kind_table *t, int v)
{
	return v >= 0 && v < t->n ? t->names[v] : "?";
}

int
kind_parse(const struct kind_table *t, const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->names[i], s) == 0)
			return i;
	return -1;
}
