/*
 * Failpoints (failpoint.h). Without FSX_FAILPOINTS this file compiles to
 * nothing. The armed set is a fixed table parsed from $FSX_FAILPOINTS once,
 * or from $FSX_FAILPOINTS_FILE whenever it changes; a hook looks its name
 * up linearly under one mutex (a test build arms a few).
 */
#include "core/failpoint.h"

#ifdef FSX_FAILPOINTS
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define FP_MAX		32
#define FP_NAME_MAX	64
#define FP_LOG_MAX	100	/* fires logged per process */

enum fp_act { FP_OFF, FP_ERROR, FP_SHORT_ACT, FP_DELAY, FP_KILL };

struct fp {
	char		name[FP_NAME_MAX];
	long		key;
	int		keyed;
	enum fp_act	act;
	long		arg;		/* -errno, or milliseconds */
	long		left;		/* fires left; < 0: unlimited */
};

static struct fp	fps[FP_MAX];
static int		nfp;
static pthread_mutex_t	fp_mu = PTHREAD_MUTEX_INITIALIZER;
static int		fp_loaded;
static struct stat	fp_file_st;	/* FSX_FAILPOINTS_FILE as last read */
static atomic_int	fp_logged;

/* One "name[@key]=action[*count]" item; 0 or -1 when malformed. */
static int
fp_parse_one(char *it, struct fp *f)
{
	char *eq = strchr(it, '='), *at, *star, *end;
	long count = -1;

	if (eq == NULL)
		return -1;
	*eq = '\0';
	memset(f, 0, sizeof(*f));
	at = strchr(it, '@');
	if (at != NULL) {
		*at = '\0';
		f->key = strtol(at + 1, &end, 0);
		if (*end != '\0' || end == at + 1)
			return -1;
		f->keyed = 1;
	}
	if (*it == '\0' || strlen(it) >= FP_NAME_MAX)
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", it);
	it = eq + 1;
	star = strchr(it, '*');
	if (star != NULL) {
		*star = '\0';
		count = strtol(star + 1, &end, 10);
		if (*end != '\0' || count < 0)
			return -1;
	}
	if (strcmp(it, "off") == 0)
		f->act = FP_OFF;
	else if (strcmp(it, "short") == 0)
		f->act = FP_SHORT_ACT;
	else if (strcmp(it, "kill") == 0)
		f->act = FP_KILL;
	else if (sscanf(it, "error(%ld)", &f->arg) == 1 && f->arg < 0 &&
	    f->arg > -4096)
		f->act = FP_ERROR;
	else if (sscanf(it, "delay(%ld)", &f->arg) == 1 && f->arg >= 0)
		f->act = FP_DELAY;
	else
		return -1;
	f->left = count;
	return 0;
}

/* Arm what `spec` says (NULL or "": nothing). Under fp_mu. */
static void
fp_arm(const char *spec)
{
	char *copy, *it, *save = NULL;

	nfp = 0;
	if (spec == NULL || *spec == '\0')
		return;
	copy = strdup(spec);
	if (copy == NULL)
		return;
	for (it = strtok_r(copy, ",", &save); it != NULL;
	    it = strtok_r(NULL, ",", &save)) {
		if (nfp == FP_MAX || fp_parse_one(it, &fps[nfp]) < 0) {
			log_err("FSX_FAILPOINTS: cannot use '%s'; none armed",
			    it);
			nfp = 0;
			break;
		}
		nfp++;
	}
	free(copy);
	if (nfp > 0)
		log_warn("failpoints armed: %s", spec);
}

/* Load the spec at the first hook, and again when the file changed. */
static void
fp_load(void)
{
	const char *file = getenv("FSX_FAILPOINTS_FILE");
	struct stat st;
	char buf[1024];
	ssize_t n = 0;
	int fd;

	if (file == NULL) {
		if (!fp_loaded)
			fp_arm(getenv("FSX_FAILPOINTS"));
		fp_loaded = 1;
		return;
	}
	if (stat(file, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (fp_loaded && st.st_size == fp_file_st.st_size &&
	    st.st_mtim.tv_sec == fp_file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == fp_file_st.st_mtim.tv_nsec)
		return;
	fp_loaded = 1;
	fp_file_st = st;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	fp_arm(buf);
}

/* The armed failpoint for this hit whose action fires now, or NULL. */
static int
fp_fire(const char *name, long key, int keyed, struct fp *out)
{
	int fired = 0;

	pthread_mutex_lock(&fp_mu);
	fp_load();
	for (int i = 0; i < nfp; i++) {
		struct fp *f = &fps[i];
		long left;

		if (strcmp(f->name, name) != 0 ||
		    (f->keyed && (!keyed || f->key != key)))
			continue;
		left = f->left;
		if (left == 0 || f->act == FP_OFF)
			break;
		if (left > 0)
			f->left = left - 1;
		*out = *f;
		fired = 1;
		break;
	}
	pthread_mutex_unlock(&fp_mu);
	/* the first few only: an armed hook in a retry loop must not fill
	   the disk with its log */
	if (fired && atomic_fetch_add(&fp_logged, 1) < FP_LOG_MAX)
		log_warn("failpoint %s fires", name);
	return fired;
}

/* What fires for this hit: delay and kill act here (FP_OFF after a
 * delay), error and short are the caller's. FP_OFF when nothing fires. */
static enum fp_act
fp_act(const char *name, long key, int keyed, long *arg)
{
	struct fp f;

	if (!fp_fire(name, key, keyed, &f))
		return FP_OFF;
	if (f.act == FP_DELAY) {
		struct timespec ts = { f.arg / 1000,
		    (f.arg % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return FP_OFF;
	}
	if (f.act == FP_KILL)
		raise(SIGKILL);
	*arg = f.arg;
	return f.act;
}

int
fp_hit(const char *name, long key, int keyed)
{
	long arg = 0;

	return fp_act(name, key, keyed, &arg) == FP_ERROR ? (int)arg : 0;
}

int
fp_fail(const char *name, long key, int keyed)
{
	int rc = fp_hit(name, key, keyed);

	if (rc == 0)
		return 0;
	errno = -rc;
	return 1;
}

ssize_t
fp_short(const char *name, ssize_t n)
{
	long arg = 0;

	if (n <= 1)
		return n;
	return fp_act(name, 0, 0, &arg) == FP_SHORT_ACT ? n / 2 : n;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fp_unused_t;
#endif
