/*
 * Credentials: the server's key store and the client's own keys
 * (see creds.h for the sources, formats and the any-key mode).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "auth/creds.h"
#include "core/log.h"
#include "core/util.h"

#define CREDS_MAX		4096		/* entries */
#define CREDS_FILE_MAX		(4 * 1024 * 1024)

struct creds_ent {
	char	akid[SIGV4_AKID_MAX];
	char	secret[SIGV4_SECRET_MAX];
	char	account[SIGV4_ACCOUNT_MAX];
	char	*token;		/* NULL: none */
};

struct creds {
	int			 flags;
	size_t			 n;
	size_t			 cap;
	struct creds_ent	*e;
};

static struct creds *creds_global;

static int
word_ok(const char *s, size_t max, const char *forbid)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr(forbid, c) != NULL)
			return 0;
	}
	return 1;
}

static int
account_ok(const char *s)
{
	if (s == NULL || strlen(s) != 12)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

struct creds *
creds_new(int flags)
{
	struct creds *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->flags = flags;
	if (!(flags & CREDS_F_NO_DEFAULT) &&
	    creds_add(c, CREDS_DEFAULT_AKID, CREDS_DEFAULT_SECRET,
	    CREDS_DEFAULT_ACCOUNT, NULL) < 0) {
		creds_free(c);
		return NULL;
	}
	return c;
}

void
creds_free(struct creds *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i].token != NULL) {
			OPENSSL_cleanse(c->e[i].token, strlen(c->e[i].token));
			free(c->e[i].token);
		}
	}
	if (c->e != NULL)
		OPENSSL_cleanse(c->e, c->cap * sizeof(*c->e));
	free(c->e);
	free(c);
}

size_t
creds_count(const struct creds *c)
{
	return c ? c->n : 0;
}

static struct creds_ent *
creds_find(const struct creds *c, const char *akid)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].akid, akid) == 0)
			return &c->e[i];
	return NULL;
}

int
creds_add(struct creds *c, const char *akid, const char *secret,
    const char *account, const char *token)
{
	struct creds_ent *e;
	char *tok = NULL;

	if (c == NULL || !word_ok(akid, SIGV4_AKID_MAX, "/,:;=") ||
	    !word_ok(secret, SIGV4_SECRET_MAX, "") || !account_ok(account))
		return -EINVAL;
	if (token != NULL && token[0] != '\0') {
		if (!word_ok(token, SIGV4_TOKEN_MAX, ""))
			return -EINVAL;
		tok = strdup(token);
		if (tok == NULL)
			return -ENOMEM;
	}
	e = creds_find(c, akid);
	if (e == NULL) {
		if (c->n >= CREDS_MAX) {
			free(tok);
			return -ENOSPC;
		}
		if (c->n == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 8;
			struct creds_ent *ne = calloc(ncap, sizeof(*ne));

			if (ne == NULL) {
				free(tok);
				return -ENOMEM;
			}
			if (c->n > 0)
				memcpy(ne, c->e, c->n * sizeof(*ne));
			if (c->e != NULL)
				OPENSSL_cleanse(c->e, c->cap * sizeof(*c->e));
			free(c->e);
			c->e = ne;
			c->cap = ncap;
		}
		e = &c->e[c->n++];
	} else if (e->token != NULL) {
		OPENSSL_cleanse(e->token, strlen(e->token));
		free(e->token);
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->akid, sizeof(e->akid), "%s", akid);
	snprintf(e->secret, sizeof(e->secret), "%s", secret);
	snprintf(e->account, sizeof(e->account), "%s", account);
	e->token = tok;
	return 0;
}

/* Split s in place on any of the separator characters; at most max. */
static size_t
split_fields(char *s, const char *sep, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, sep, &save); t != NULL;
	    t = strtok_r(NULL, sep, &save)) {
		if (n == max)
			return max + 1;
		f[n++] = t;
	}
	return n;
}

int
creds_load_file(struct creds *c, const char *path)
{
	char *buf = NULL, *line, *next, *hash, *f[5];
	size_t len = 0, nf;
	int rc, lineno = 0;

	rc = file_read_all(path, &buf, &len, CREDS_FILE_MAX);
	if (rc < 0) {
		log_err("%s: %s: %s", __func__, path, strerror(-rc));
		return rc;
	}
	if (memchr(buf, '\0', len) != NULL) {
		log_err("%s: %s: binary data", __func__, path);
		rc = -EINVAL;
		goto out;
	}
	for (line = buf; line != NULL && rc == 0; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		nf = split_fields(line, " \t\r\v\f", f, 4);
		if (nf == 0)
			continue;
		if (nf < 3 || nf > 4) {
			log_err("%s: %s:%d: want ACCESS_KEY SECRET ACCOUNT_ID "
			    "[SESSION_TOKEN]", __func__, path, lineno);
			rc = -EINVAL;
			break;
		}
		rc = creds_add(c, f[0], f[1], f[2], nf == 4 ? f[3] : NULL);
		if (rc < 0)
			log_err("%s: %s:%d: bad entry (%s)", __func__, path,
			    lineno, rc == -EINVAL ? "access key, secret, "
			    "12-digit account id or token malformed" :
			    strerror(-rc));
	}
out:
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

int
creds_load_env(struct creds *c, const char *value)
{
	char *buf, *ent, *save = NULL, *f[5];
	size_t nf, n;
	int rc = 0, idx = 0;

	if (value == NULL)
		return 0;
	n = strlen(value);
	buf = strdup(value);
	if (buf == NULL)
		return -ENOMEM;
	for (ent = strtok_r(buf, ",", &save); ent != NULL && rc == 0;
	    ent = strtok_r(NULL, ",", &save)) {
		char *s = ent;

		idx++;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			continue;
		nf = split_fields(s, ":", f, 4);
		for (size_t i = 0; i < nf && i < 4; i++) {
			char *e = f[i] + strlen(f[i]);

			while (e > f[i] && isspace((unsigned char)e[-1]))
				*--e = '\0';
		}
		if (nf < 3 || nf > 4) {
			log_err("%s: FSXD_CREDENTIALS entry %d: want "
			    "AK:SECRET:ACCOUNT[:TOKEN]", __func__, idx);
			rc = -EINVAL;
			break;
		}
		rc = creds_add(c, f[0], f[1], f[2], nf == 4 ? f[3] : NULL);
		if (rc < 0)
			log_err("%s: FSXD_CREDENTIALS entry %d is malformed",
			    __func__, idx);
	}
	OPENSSL_cleanse(buf, n);
	free(buf);
	return rc;
}

int
creds_lookup(void *arg, const char *akid, struct sigv4_secret *out)
{
	const struct creds *c = arg ? arg : creds_global;
	const struct creds_ent *e;

	/* every string empty; not a 4.4 KB memset on every request */
	out->secret[0] = out->account[0] = out->token[0] = '\0';
	out->skip_signature = 0;
	if (c == NULL || akid == NULL)
		return -ENOENT;
	e = creds_find(c, akid);
	if (e != NULL) {
		str_copy(out->secret, sizeof(out->secret), e->secret);
		str_copy(out->account, sizeof(out->account), e->account);
		if (e->token != NULL)
			str_copy(out->token, sizeof(out->token), e->token);
		out->skip_signature = (c->flags & CREDS_F_ANY_KEY) != 0;
		return 0;
	}
	if (!(c->flags & CREDS_F_ANY_KEY))
		return -ENOENT;
	str_copy(out->account, sizeof(out->account),
	    account_ok(akid) ? akid : CREDS_DEFAULT_ACCOUNT);
	out->skip_signature = 1;
	return 0;
}

/*
 * A credentials source named by --credentials or FSXD_CREDENTIALS: an
 * existing file, or else, when it has a ':', an inline list.
 */
static int
load_spec(struct creds *c, const char *spec)
{
	struct stat st;

	if (strchr(spec, ':') != NULL && stat(spec, &st) < 0)
		return creds_load_env(c, spec);
	return creds_load_file(c, spec);
}

int
creds_init(const char *file, int any_key)
{
	const char *env = getenv("FSXD_CREDENTIALS");
	const char *def = getenv("FSXD_DEFAULT_CREDENTIALS");
	int flags = any_key ? CREDS_F_ANY_KEY : 0;
	struct creds *c;
	int rc;

	if (def != NULL && (strcmp(def, "0") == 0 || strcasecmp(def, "no") == 0
	    || strcasecmp(def, "false") == 0))
		flags |= CREDS_F_NO_DEFAULT;
	c = creds_new(flags);
	if (c == NULL)
		return -ENOMEM;
	if (file != NULL && file[0] != '\0') {
		rc = load_spec(c, file);
		if (rc < 0)
			goto fail;
	}
	/* fsxd maps FSXD_<OPTION> to options: it may be 'file' already. */
	if (env != NULL && env[0] != '\0' &&
	    (file == NULL || strcmp(file, env) != 0)) {
		rc = load_spec(c, env);
		if (rc < 0)
			goto fail;
	}
	if (c->n == 0 && !any_key)
		log_warn("%s: no credentials configured; every request will "
		    "be refused", __func__);
	creds_free(creds_global);
	creds_global = c;
	log_info("%s: %zu access key(s)%s", __func__, c->n,
	    any_key ? ", any access key accepted" : "");
	return 0;
fail:
	creds_free(c);
	return rc;
}

void
creds_fini(void)
{
	creds_free(creds_global);
	creds_global = NULL;
}

/* ---- client side ---- */

static void
trim(char **s)
{
	char *e;

	while (isspace((unsigned char)**s))
		(*s)++;
	e = *s + strlen(*s);
	while (e > *s && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

/*
 * Read "key = value" from section [want] (or [alt] when alt is not NULL)
 * of an AWS INI file. Calls fn for each pair of that section.
 */
static int
ini_section(const char *path, const char *want, const char *alt,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	char *buf = NULL, *line, *next, *eq, *k, *v;
	size_t len = 0;
	int in = 0, found = 0;

	if (file_read_all(path, &buf, &len, 1024 * 1024) < 0)
		return -ENOENT;
	if (memchr(buf, '\0', len) != NULL)
		goto out;
	for (line = buf; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		trim(&line);
		if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			char *end = strchr(line, ']');

			in = 0;
			if (end == NULL)
				continue;
			*end = '\0';
			k = line + 1;
			trim(&k);
			if (strcmp(k, want) == 0 ||
			    (alt != NULL && strcmp(k, alt) == 0)) {
				in = 1;
				found = 1;
			}
			continue;
		}
		if (!in)
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		k = line;
		v = eq + 1;
		trim(&k);
		trim(&v);
		fn(arg, k, v);
	}
out:
	OPENSSL_cleanse(buf, len);
	free(buf);
	return found ? 0 : -ENOENT;
}

static void
key_pair(void *arg, const char *k, const char *v)
{
	struct sigv4_key *key = arg;

	if (strcmp(k, "aws_access_key_id") == 0 &&
	    strlen(v) < sizeof(key->akid))
		snprintf(key->akid, sizeof(key->akid), "%s", v);
	else if (strcmp(k, "aws_secret_access_key") == 0 &&
	    strlen(v) < sizeof(key->secret))
		snprintf(key->secret, sizeof(key->secret), "%s", v);
	else if ((strcmp(k, "aws_session_token") == 0 ||
	    strcmp(k, "aws_security_token") == 0) &&
	    strlen(v) < sizeof(key->token))
		snprintf(key->token, sizeof(key->token), "%s", v);
}

/* $VAR if set and non-empty, else $HOME/rel; NULL if neither. */
static char *
aws_file(const char *var, const char *rel)
{
	const char *p = getenv(var), *home;

	if (p != NULL && p[0] != '\0')
		return xstrdup(p);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		return NULL;
	return xasprintf("%s/%s", home, rel);
}

static const char *
profile_name(void)
{
	const char *p = getenv("AWS_PROFILE");

	if (p == NULL || p[0] == '\0')
		p = getenv("AWS_DEFAULT_PROFILE");
	return (p != NULL && p[0] != '\0') ? p : "default";
}

int
creds_client_from_env(struct sigv4_key *out)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tk = getenv("AWS_SESSION_TOKEN");
	char *path;

	memset(out, 0, sizeof(*out));
	if (ak != NULL && sk != NULL && ak[0] != '\0' && sk[0] != '\0' &&
	    strlen(ak) < sizeof(out->akid) && strlen(sk) < sizeof(out->secret)) {
		snprintf(out->akid, sizeof(out->akid), "%s", ak);
		snprintf(out->secret, sizeof(out->secret), "%s", sk);
		if (tk != NULL && strlen(tk) < sizeof(out->token))
			snprintf(out->token, sizeof(out->token), "%s", tk);
		return 0;
	}
	path = aws_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	if (path != NULL) {
		struct sigv4_key k;

		memset(&k, 0, sizeof(k));
		if (ini_section(path, profile_name(), NULL, key_pair, &k) == 0
		    && k.akid[0] != '\0' && k.secret[0] != '\0')
			*out = k;
		OPENSSL_cleanse(&k, sizeof(k));
		free(path);
		if (out->akid[0] != '\0')
			return 0;
	}
	snprintf(out->akid, sizeof(out->akid), CREDS_DEFAULT_AKID);
	snprintf(out->secret, sizeof(out->secret), CREDS_DEFAULT_SECRET);
	return 0;
}

struct region_arg {
	char	region[SIGV4_SCOPE_PART_MAX];
};

static void
region_pair(void *arg, const char *k, const char *v)
{
	struct region_arg *ra = arg;

	if (strcmp(k, "region") == 0 && v[0] != '\0' &&
	    strlen(v) < sizeof(ra->region))
		snprintf(ra->region, sizeof(ra->region), "%s", v);
}

int
creds_client_region(char *out, size_t len)
{
	const char *r = getenv("AWS_REGION");
	struct region_arg ra;
	char *path, *alt;

	memset(&ra, 0, sizeof(ra));
	if (r == NULL || r[0] == '\0')
		r = getenv("AWS_DEFAULT_REGION");
	if (r != NULL && r[0] != '\0' && strlen(r) < sizeof(ra.region)) {
		snprintf(ra.region, sizeof(ra.region), "%s", r);
	} else {
		path = aws_file("AWS_CONFIG_FILE", ".aws/config");
		if (path != NULL) {
			/* [default] or [profile NAME] */
			alt = xasprintf("profile %s", profile_name());
			ini_section(path, strcmp(profile_name(), "default") ?
			    alt : "default", alt, region_pair, &ra);
			free(alt);
			free(path);
		}
	}
	if (ra.region[0] == '\0')
		snprintf(ra.region, sizeof(ra.region), CREDS_DEFAULT_REGION);
	if (strlen(ra.region) >= len)
		return -ENAMETOOLONG;
	snprintf(out, len, "%s", ra.region);
	return 0;
}
