/*
 * The Lustre rules of CreateFileSystem and UpdateFileSystem as pure
 * functions over JSON (jansson), and the shape of a FileSystem description
 * as DescribeFileSystems shows it. No database, no clock, no I/O: the
 * caller (api/api_fs.c) passes the account, region, id and time in.
 *
 * Inputs are borrowed; returned descriptions are new references. Errors
 * are reported through struct api_error (api.h) with AWS's error codes.
 *
 * Request inputs (`in`) must have passed api_validate() for their
 * operation: JSON types, required members, enums, lengths, ranges and
 * patterns are the model's job and are not checked again here. What is
 * checked here are the Lustre rules the model cannot express (spec 4).
 */
#ifndef FSX_API_FS_DESC_H
#define FSX_API_FS_DESC_H

#include <jansson.h>
#include <stddef.h>

#include "api.h"
#include "core/kinds.h"

struct fs_desc_ctx {
	const char	*account;	/* 12 digits */
	const char	*region;	/* e.g. us-east-1 */
	const char	*partition;	/* fs_desc_partition(region) */
	const char	*fs_id;		/* fs- + 17 hex, chosen by the caller */
	double		 now;		/* epoch seconds */
};

/*
 * CreateFileSystem: check every rule; return the full FileSystem
 * description with Lifecycle CREATING, or NULL with err set.
 */
json_t	*fs_desc_create(const json_t *in, const struct fs_desc_ctx *cx,
	    struct api_error *err);

/*
 * What an accepted UpdateFileSystem leaves for the job runner.
 * needs_update_job: 1 when the newest FILE_SYSTEM_UPDATE entry is PENDING
 * and carries values that need servers (StorageCapacity,
 * PerUnitStorageThroughput, ThroughputCapacity); apply them with
 * fs_desc_apply_target() once the servers are there. new_capacity: the
 * target StorageCapacity when the request grows storage, else 0.
 */
struct fs_desc_plan {
	long long	new_capacity;
	int		needs_update_job;
};

/*
 * UpdateFileSystem against the current description `cur` (not modified).
 * min_gap_sec is the minimum time between two storage (or metadata IOPS)
 * increases, counted from the RequestTime of the last one (AWS: 6 h;
 * tests pass 0). Returns the new description with every immediate change
 * applied and one new FILE_SYSTEM_UPDATE administrative action prepended,
 * or NULL with err set.
 */
json_t	*fs_desc_update(const json_t *cur, const json_t *in, double now,
	    double min_gap_sec, struct fs_desc_plan *plan,
	    struct api_error *err);

/*
 * Number of OSTs a description's capacity maps to: one per capacity unit
 * (1200 GiB SSD and SCRATCH_1, 6000 GiB HDD at 12 MB/s/TiB, 1800 GiB HDD
 * at 40; INTELLIGENT_TIERING one per 4000 MBps of ThroughputCapacity),
 * at least 1. The caller caps it.
 */
int	 fs_desc_ost_count(const json_t *desc);

/* "aws", "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, ... */
const char *fs_desc_partition(const char *region);
/* arn:<p>:fsx:<region>:<account>:file-system/<fs_id> */
void	 fs_desc_arn(char *buf, size_t n, const char *partition,
	    const char *region, const char *account, const char *fs_id);

/*
 * Automatic metadata IOPS of a PERSISTENT_2 SSD file system of `cap` GiB
 * (spec 4.3 table).
 */
long long fs_desc_auto_iops(long long cap);

/*
 * Administrative actions (FileSystem.AdministrativeActions, newest first,
 * at most 10 per type). A "finished" entry is COMPLETED, FAILED or
 * CANCELLED.
 *
 * fs_desc_action_add: prepend {AdministrativeActionType, Status,
 *     RequestTime, TargetFileSystemValues (target, stolen, may be NULL)}.
 * fs_desc_action_set_status: set Status of the newest unfinished entry of
 *     that type (nothing when there is none). COMPLETED on
 *     STORAGE_OPTIMIZATION also sets ProgressPercent 100.
 * fs_desc_action_fail: Status FAILED with FailureDetails.Message on the
 *     newest unfinished entry of that type.
 * fs_desc_action_progress: ProgressPercent (0-100) on the newest unfinished
 *     entry of that type.
 * fs_desc_action_remove: drop every entry of that type
 *     (STORAGE_OPTIMIZATION leaves the list on success).
 * fs_desc_action_pending_target: the TargetFileSystemValues of the newest
 *     unfinished entry of that type (borrowed), or NULL.
 */
void	 fs_desc_action_add(json_t *desc, const char *type,
	    const char *status, json_t *target, double now);
void	 fs_desc_action_set_status(json_t *desc, const char *type,
	    const char *status, double now);
void	 fs_desc_action_fail(json_t *desc, const char *type,
	    const char *message);
void	 fs_desc_action_progress(json_t *desc, const char *type, int pct);
void	 fs_desc_action_remove(json_t *desc, const char *type);
json_t	*fs_desc_action_pending_target(const json_t *desc, const char *type);

/*
 * Move the description to `lifecycle`. AVAILABLE drops FailureDetails
 * (a legacy DataRepositoryConfiguration's lifecycle is left to what the
 * S3 agent reports, api_dra.c); DELETING moves that to DELETING; FAILED sets
 * FailureDetails.Message (message, at most 256 chars; a generic text when
 * NULL).
 */
void	 fs_desc_set_lifecycle(json_t *desc, enum fs_lifecycle lc,
	    const char *message);

/*
 * Set StorageCapacity; with MetadataConfiguration Mode AUTOMATIC the Iops
 * follow the new capacity.
 */
void	 fs_desc_apply_capacity(json_t *desc, long long cap);
/*
 * Apply the server-backed values of a FILE_SYSTEM_UPDATE target
 * (StorageCapacity, LustreConfiguration.PerUnitStorageThroughput,
 * LustreConfiguration.ThroughputCapacity) to desc.
 */
void	 fs_desc_apply_target(json_t *desc, const json_t *target);

#endif
