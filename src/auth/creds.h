/*
 * Credentials: the server-side key store that fsxd's SigV4 verifier looks
 * keys up in, and the client-side lookup of the caller's own keys.
 *
 * Server side. Each entry is (access key, secret, account id, optional
 * session token). Sources, later ones replacing earlier entries with the
 * same access key:
 *   1. the default pair "test"/"test" -> account 000000000000, unless the
 *      store is created with CREDS_F_NO_DEFAULT (fsxd: environment
 *      FSXD_DEFAULT_CREDENTIALS=0);
 *   2. a file (fsxd --credentials): one entry per line,
 *        ACCESS_KEY SECRET ACCOUNT_ID [SESSION_TOKEN]
 *      separated by blanks; '#' starts a comment; blank lines ignored;
 *   3. the environment: FSXD_CREDENTIALS="AK:SECRET:ACCOUNT[:TOKEN],...".
 *      fsxd also reads FSXD_<OPTION> variables as options, so the same
 *      variable may reach creds_init() as 'file': in creds_init() both
 *      the file argument and FSXD_CREDENTIALS name a file when such a
 *      file exists, else (when they contain ':') an inline list; the
 *      same value is loaded once.
 * Access keys and secrets are 1..127 printable characters without blanks
 * (and without ':' or ',' in FSXD_CREDENTIALS); an account id is exactly
 * 12 digits; a token is at most 4095 printable characters. When a session
 * token is given, requests signed with that key must carry it in
 * X-Amz-Security-Token.
 *
 * Any-key mode (CREDS_F_ANY_KEY, fsxd --any-access-key) is LESS SAFE and
 * meant for test suites that use random credentials, as other local
 * emulators allow: a real SDK signs with whatever secret its user set,
 * which the server cannot know, so in this mode NO signature is compared
 * and no session token is checked, for any key. The Authorization header
 * must still be well formed, the dates must still be in the skew window,
 * and the account id still follows the key: a configured key gives its
 * configured account; an unknown key that is 12 digits is used as the
 * account id itself; any other unknown key maps to 000000000000.
 *
 * A store is immutable once built, so lookups need no locking.
 *
 * Client side (fsx-mount, lfs, the S3 client): creds_client_from_env()
 * and creds_client_region(), following the AWS CLI's order.
 */
#ifndef FSX_CREDS_H
#define FSX_CREDS_H

#include <stddef.h>

#include "auth/sigv4.h"

#define CREDS_DEFAULT_AKID	"test"
#define CREDS_DEFAULT_SECRET	"test"
#define CREDS_DEFAULT_ACCOUNT	"000000000000"
#define CREDS_DEFAULT_REGION	"us-east-1"

#define CREDS_F_ANY_KEY		0x1	/* accept any key, no signatures */
#define CREDS_F_NO_DEFAULT	0x2	/* leave out test/test */

struct creds;

/* A new store (with test/test unless CREDS_F_NO_DEFAULT); NULL on OOM. */
struct creds	*creds_new(int flags);
void		 creds_free(struct creds *c);

/*
 * Add or replace one entry; token may be NULL or "". Returns 0 or
 * -EINVAL (a field out of the rules above), -ENOSPC (too many entries).
 */
int	 creds_add(struct creds *c, const char *akid, const char *secret,
	    const char *account, const char *token);

/*
 * Load a credentials file. 0, -errno from reading, or -EINVAL for a bad
 * line (logged with its number, never with the secret); on error the
 * store keeps the entries added before the bad line.
 */
int	 creds_load_file(struct creds *c, const char *path);

/* Load "AK:SECRET:ACCOUNT[:TOKEN],..." (FSXD_CREDENTIALS). 0 or -EINVAL. */
int	 creds_load_env(struct creds *c, const char *value);

size_t	 creds_count(const struct creds *c);

/*
 * The sigv4_lookup_fn over store arg (a struct creds *), or over the
 * process-wide store from creds_init() when arg is NULL.
 * 0 with *out filled, or -ENOENT.
 */
int	 creds_lookup(void *arg, const char *akid, struct sigv4_secret *out);

/*
 * The process-wide store for fsxd: the default pair (unless
 * FSXD_DEFAULT_CREDENTIALS=0), file (may be NULL), FSXD_CREDENTIALS.
 * Call once at start-up before any lookup; 0 or -errno. creds_fini()
 * releases it.
 */
int	 creds_init(const char *file, int any_key);
void	 creds_fini(void);

/*
 * The caller's credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 * (+ AWS_SESSION_TOKEN); else the profile AWS_PROFILE (default "default")
 * of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); else
 * test/test. Always fills *out; returns 0.
 */
int	 creds_client_from_env(struct sigv4_key *out);

/*
 * The caller's region: AWS_REGION, AWS_DEFAULT_REGION, "region" in the
 * profile of AWS_CONFIG_FILE (default ~/.aws/config), else us-east-1.
 * Returns 0, or -ENAMETOOLONG when len is too small.
 */
int	 creds_client_region(char *out, size_t len);

#endif
