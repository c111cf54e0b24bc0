/*
 * Inside the FileSystem description rules (api_fs_desc*.c only): the
 * helpers, formats and checks that CreateFileSystem (api_fs_desc_create.c),
 * UpdateFileSystem (api_fs_desc_update.c) and the administrative actions
 * (api_fs_desc_action.c) share. Internal names start with fd_; the
 * public ones (api_fs_desc.h) with fs_desc_.
 */
#ifndef FSX_API_FS_DESC_INT_H
#define FSX_API_FS_DESC_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "api.h"
#include "api_fs_desc.h"

#define FD_ACTIONS_PER_TYPE	10
#define FD_FSU			"FILE_SYSTEM_UPDATE"
#define FD_OPT			"STORAGE_OPTIMIZATION"
#define FD_UINT_MAX		4294967294LL	/* RootSquash id max */
#define FD_IT_UNIT		4000		/* MBps per IT step */
#define FD_PUT_MISSING	"Invalid Lustre deployment configuration: the " \
	"provided throughput is invalid or does not meet the storage " \
	"capacity requirement"
#define FD_P2_LINK	"Linking a Persistent 2 file system to an S3 " \
	"bucket using the LustreConfiguration is not supported. Create a " \
	"file system " \
	"and then create a data repository association to link your Amazon " \
	"FSx for Lustre file system to your S3 bucket."

extern const long long fd_put_p1_ssd[];
extern const long long fd_put_p1_hdd[];
extern const long long fd_put_p2_ssd[];

int	fd_eq(const char *a, const char *b);
int	fd_is_scratch(const char *deploy);
double	fd_ms(double t);
void	fd_iso(double t, char *buf, size_t n);
void	fd_hash(uint8_t out[SHA256_DIGEST_LENGTH], const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	fd_hex17(char *buf, size_t n, const char *prefix,
	    const uint8_t h[SHA256_DIGEST_LENGTH]);
const char	*fd_json_str(const json_t *o, const char *key);
long long	fd_json_int(const json_t *o, const char *key, long long dflt);
void	fd_set_str(json_t *o, const char *key, const char *v);
int	fd_str(const json_t *o, const char *key, const char **v);
int	fd_int(const json_t *o, const char *key, long long *v);
int	fd_bool(const json_t *o, const char *key, int *v);
int	fd_val(const json_t *o, const char *key, const json_t **v);
int	fd_iops_valid(long long iops, int it);
const long long	*fd_put_set(const char *deploy, const char *stype);
int	fd_in_set(const long long *set, long long v);
void	fd_set_text(const long long *set, char *buf, size_t n);
long long	fd_cap_unit(const char *deploy, const char *stype,
	    long long put);
int	fd_s3_path(const char *path, char *bucket, size_t blen);
json_t	*fd_log_conf(const json_t *log, const char *part, const char *region,
	    const char *acct, struct api_error *err);
json_t	*fd_squash_conf(const json_t *sq, struct api_error *err);
json_t	*fd_cache_conf(const json_t *c, long long tc, struct api_error *err);
void	fd_default_weekly(const char *fs_id, char *buf, size_t n);
void	fd_default_daily(const char *fs_id, char *buf, size_t n);
int	fd_action_finished(const json_t *a);
int	fd_meta_auto_check(int it, int has_iops, struct api_error *err);

#endif

