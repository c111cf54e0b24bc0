/*
 * fsxd's answer to "where is this file system's MDS" (POST
 * /fsx-local/mount-info, SigV4-signed for service fsx with the
 * credentials of the environment), for fsx-mount: at mount time and
 * when the MDS stopped answering (it may have moved).
 *
 * Contract: see fsc_mount_info in fsc.h. The reply is bounded
 * (FSC_MOUNTINFO_MAX bytes) and checked field by field; nothing of it is
 * used unless the whole answer is well formed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "auth/creds.h"
#include "auth/sigv4.h"
#include "auth/sigv4_curl.h"
#include "core/util.h"
#include "fsc/fsc.h"

#define FSC_MOUNTINFO_MAX	(64 * 1024)

struct mi_resp {
	char	*buf;
	size_t	len;
};

static size_t
mi_curl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct mi_resp *r = arg;
	size_t n = size * nmemb;

	if (r->len + n > FSC_MOUNTINFO_MAX)
		return 0;
	memcpy(r->buf + r->len, ptr, n);
	r->len += n;
	return n;
}

int
fsc_mount_info(const char *endpoint, const char *fsid, const char *mount_name,
    const char *region, char *host, size_t hostlen, int *port,
    uint8_t *secret, char *msg, size_t msglen)
{
	static const char *const extra[] = {
		"Content-Type: application/json", NULL };
	struct sigv4_key key;
	struct curl_slist *hdrs = NULL;
	struct mi_resp resp = { NULL, 0 };
	json_t *root = NULL, *v;
	json_error_t jerr;
	char url[600], body[128];
	CURL *c = NULL;
	long code = 0;
	CURLcode cc;
	int rc = -EPROTO;

	msg[0] = '\0';
	snprintf(url, sizeof(url), "%s/fsx-local/mount-info", endpoint);
	snprintf(body, sizeof(body), "{\"FileSystemId\":\"%s\"}", fsid);
	creds_client_from_env(&key);
	hdrs = sigv4_curl_headers("POST", url, extra, body, strlen(body),
	    &key, region, "fsx", time(NULL));
	memset(key.secret, 0, sizeof(key.secret));
	if (hdrs == NULL) {
		snprintf(msg, msglen, "bad endpoint URL %s", endpoint);
		return -EINVAL;
	}
	resp.buf = xmalloc(FSC_MOUNTINFO_MAX);
	c = curl_easy_init();
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mi_curl_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(msg, msglen, "cannot reach %s: %s", endpoint,
		    curl_easy_strerror(cc));
		rc = -EHOSTUNREACH;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	root = json_loadb(resp.buf, resp.len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		snprintf(msg, msglen, "HTTP %ld with a body that is not JSON",
		    code);
		goto out;
	}
	if (code != 200) {
		const char *type = json_string_value(json_object_get(root,
		    "__type"));
		const char *m = json_string_value(json_object_get(root,
		    "Message"));
		const char *h;

		if (m == NULL)
			m = json_string_value(json_object_get(root, "message"));
		if (type == NULL)
			type = "InternalServerError";
		/* "com.amazon...#Code" -> "Code" */
		h = strrchr(type, '#');
		snprintf(msg, msglen, "%s: %s", h ? h + 1 : type,
		    m ? m : "(no message)");
		rc = -EACCES;
		goto out;
	}
	v = json_object_get(root, "Lifecycle");
	if (json_is_string(v) && strcmp(json_string_value(v), "AVAILABLE") &&
	    strcmp(json_string_value(v), "UPDATING")) {
		snprintf(msg, msglen, "BadRequest: File system %s is %s",
		    fsid, json_string_value(v));
		rc = -EACCES;
		goto out;
	}
	v = json_object_get(root, "MountName");
	if (mount_name[0] != '\0' && json_is_string(v) &&
	    strcmp(json_string_value(v), mount_name) != 0) {
		snprintf(msg, msglen, "BadRequest: mount name %s does not "
		    "match file system %s (its mount name is %s)",
		    mount_name, fsid, json_string_value(v));
		rc = -EACCES;
		goto out;
	}
	v = json_object_get(root, "MdsHost");
	if (!json_is_string(v) || strlen(json_string_value(v)) >= hostlen)
		goto bad;
	snprintf(host, hostlen, "%s", json_string_value(v));
	v = json_object_get(root, "MdsPort");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > 65535)
		goto bad;
	*port = (int)json_integer_value(v);
	v = json_object_get(root, "Secret");
	if (!json_is_string(v) || strlen(json_string_value(v)) !=
	    2 * MSG_SECRET_LEN ||
	    hex_decode(json_string_value(v), secret, MSG_SECRET_LEN) < 0)
		goto bad;
	rc = 0;
	goto out;
bad:
	snprintf(msg, msglen, "malformed mount-info reply from %s",
	    endpoint);
	rc = -EPROTO;
out:
	json_decref(root);
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(resp.buf);
	return rc;
}
