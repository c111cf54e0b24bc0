/*
 * Signing for libcurl callers (see sigv4_curl.h): a URL and extra headers
 * in, the full signed header list out. A separate object so that a binary
 * that only verifies (fsxd) does not pull in this code and its libcurl
 * calls from the static library.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth/sigv4.h"
#include "auth/sigv4_curl.h"
#include "core/util.h"

/*
 * Split a URL into the Host header value (lowercase, default port
 * dropped, userinfo dropped), the path and the query. 0 or -EINVAL.
 */
static int
url_split(const char *url, char **host, char **path, char **query)
{
	const char *p, *a, *ae, *at, *hp, *pe;
	size_t sl;
	int https, port = -1;
	char *hs;

	*host = *path = *query = NULL;
	p = strstr(url, "://");
	if (p == NULL)
		return -EINVAL;
	sl = (size_t)(p - url);
	https = sl == 5 && strncasecmp(url, "https", 5) == 0;
	if (!https && !(sl == 4 && strncasecmp(url, "http", 4) == 0))
		return -EINVAL;
	a = p + 3;
	ae = a + strcspn(a, "/?#");
	at = NULL;
	for (const char *c = a; c < ae; c++)
		if (*c == '@')
			at = c;
	if (at != NULL)
		a = at + 1;
	if (ae == a)
		return -EINVAL;
	/* Port: after the last ':' that is not inside [v6]. */
	hp = ae;
	for (const char *c = ae; c > a; c--) {
		if (c[-1] == ']')
			break;
		if (c[-1] == ':') {
			hp = c - 1;
			break;
		}
	}
	if (hp < ae) {
		char *end;
		long v = strtol(hp + 1, &end, 10);

		if (end != ae || hp + 1 == ae || v <= 0 || v > 65535)
			return -EINVAL;
		port = (int)v;
		if ((https && port == 443) || (!https && port == 80))
			port = -1;
	}
	hs = xmalloc((size_t)(hp - a) + 8);
	memcpy(hs, a, (size_t)(hp - a));
	hs[hp - a] = '\0';
	for (char *c = hs; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (port > 0) {
		*host = xasprintf("%s:%d", hs, port);
		free(hs);
	} else {
		*host = hs;
	}
	pe = ae + strcspn(ae, "?#");
	if (pe == ae)
		*path = xstrdup("/");
	else
		*path = strndup(ae, (size_t)(pe - ae));
	if (*pe == '?')
		*query = strndup(pe + 1, strcspn(pe + 1, "#"));
	else
		*query = xstrdup("");
	if (*path == NULL || *query == NULL) {
		free(*host);
		free(*path);
		free(*query);
		*host = *path = *query = NULL;
		return -ENOMEM;
	}
	return 0;
}

static struct curl_slist *
slist_add(struct curl_slist *l, int *err, const char *a, const char *b)
{
	struct curl_slist *n;
	char *s;

	if (*err)
		return l;
	/* b == NULL: a is a whole "Name: value" line */
	s = b ? xasprintf("%s: %s", a, b) : xstrdup(a);
	n = curl_slist_append(l, s);
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	if (n == NULL) {
		*err = 1;
		return l;
	}
	return n;
}

struct curl_slist *
sigv4_curl_headers(const char *method, const char *url,
    const char *const *extra_headers, const void *body, size_t len,
    const struct sigv4_key *key, const char *region, const char *service,
    time_t now)
{
	struct sigv4_req rq;
	struct sigv4_signed sg;
	struct sigv4_hdr *h = NULL;
	char *host = NULL, *path = NULL, *query = NULL, **names = NULL;
	struct curl_slist *l = NULL;
	size_t nx = 0, nh = 0, i;
	int err = 0, extra_host = 0;

	if (method == NULL || url == NULL || key == NULL)
		return NULL;
	if (url_split(url, &host, &path, &query) < 0)
		return NULL;
	while (extra_headers != NULL && extra_headers[nx] != NULL)
		nx++;
	if (nx > SIGV4_NHDR_MAX) {
		err = 1;
		goto out;
	}
	h = xcalloc(nx + 1, sizeof(*h));
	names = xcalloc(nx + 1, sizeof(*names));
	for (i = 0; i < nx; i++) {
		const char *c = strchr(extra_headers[i], ':');
		const char *v;

		if (c == NULL || c == extra_headers[i]) {
			err = 1;
			goto out;
		}
		names[i] = strndup(extra_headers[i],
		    (size_t)(c - extra_headers[i]));
		if (names[i] == NULL) {
			err = 1;
			goto out;
		}
		v = c + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(names[i], "host") == 0)
			extra_host = 1;
		h[nh].name = names[i];
		h[nh++].value = v;
	}
	if (!extra_host) {
		h[nh].name = "Host";
		h[nh++].value = host;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = path;
	rq.query = query;
	rq.hdr = h;
	rq.nhdr = nh;
	rq.payload = body;
	rq.payload_len = len;
	if (sigv4_sign(&rq, key, region, service, now, &sg) < 0) {
		err = 1;
		goto out;
	}
	if (!extra_host)
		l = slist_add(l, &err, "Host", host);
	for (i = 0; i < nx; i++)
		l = slist_add(l, &err, extra_headers[i], NULL);
	l = slist_add(l, &err, "X-Amz-Date", sg.amz_date);
	if (sg.add_content_sha)
		l = slist_add(l, &err, "X-Amz-Content-Sha256",
		    sg.payload_hash);
	if (sg.add_token)
		l = slist_add(l, &err, "X-Amz-Security-Token",
		    key->token);
	l = slist_add(l, &err, "Authorization", sg.authorization);
out:
	if (names != NULL)
		for (i = 0; i < nx; i++)
			free(names[i]);
	free(names);
	free(h);
	free(host);
	free(path);
	free(query);
	if (err) {
		curl_slist_free_all(l);
		return NULL;
	}
	return l;
}
