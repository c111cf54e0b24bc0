/*
 * What data repository associations and tasks share (api_repo.h): ids,
 * listing cursors, filters, path rules, stored documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_repo.h"
#include "core/util.h"
#include "db/db.h"

void
api_repo_new_id(const char *prefix, char *out, size_t n)
{
	uint8_t r[9];
	char hex[19];

	rand_bytes(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	snprintf(out, n, "%s-%.17s", prefix, hex);
}

json_t *
api_repo_cursor(const char *kind, long long seq)
{
	char raw[48];
	unsigned char out[80];
	int n = snprintf(raw, sizeof(raw), "%s1:%lld", kind, seq);

	EVP_EncodeBlock(out, (unsigned char *)raw, n);
	return json_string((char *)out);
}

int
api_repo_cursor_parse(const char *kind, const char *tok, long long *seq)
{
	unsigned char raw[96];
	char want[16], tail;
	int n;

	if (strlen(tok) > 120)
		return -1;
	n = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)strlen(tok));
	if (n <= 0 || n >= (int)sizeof(raw))
		return -1;
	raw[n] = '\0';
	snprintf(want, sizeof(want), "%s1:", kind);
	if (strncmp((char *)raw, want, strlen(want)) != 0 ||
	    sscanf((char *)raw + strlen(want), "%lld%c", seq, &tail) != 1 ||
	    *seq < 0)
		return -1;
	return 0;
}

int
api_repo_page_add(struct api_repo_page *pg, long long seq, const char *doc,
    const char *lifecycle)
{
	json_t *o;

	if ((long long)json_array_size(pg->list) >= pg->max) {
		pg->more = 1;
		return 1;
	}
	o = api_repo_doc_out(doc, lifecycle);
	if (o != NULL)
		json_array_append_new(pg->list, o);
	pg->last = seq;
	return 0;
}

json_t *
api_repo_listing(const char *member, struct api_repo_page *pg,
    const char *kind)
{
	json_t *out = json_object();

	json_object_set_new(out, member, pg->list);
	pg->list = NULL;
	if (pg->more)
		json_object_set_new(out, "NextToken", api_repo_cursor(kind,
		    pg->last));
	return out;
}

const json_t *
api_repo_filter(const json_t *in, const char *name)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(in, "Filters"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "Name")) ?
		    json_string_value(json_object_get(f, "Name")) : "",
		    name) == 0)
			return json_object_get(f, "Values");
	return NULL;
}

int
api_repo_filter_match(const json_t *values, const char *s)
{
	size_t i;
	json_t *v;

	if (values == NULL)
		return 1;
	json_array_foreach(values, i, v)
		if (s != NULL && json_is_string(v) &&
		    strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

int
api_repo_filter_fs_check(struct api_ctx *cx, const json_t *in,
    struct api_error *err)
{
	size_t i, j;
	json_t *f, *v;

	json_array_foreach(json_object_get(in, "Filters"), i, f) {
		const char *name = json_string_value(json_object_get(f, "Name"));

		if (name == NULL || strcmp(name, "file-system-id") != 0)
			continue;
		json_array_foreach(json_object_get(f, "Values"), j, v) {
			json_t *d = api_fs_get(cx, json_string_value(v), NULL);

			if (d == NULL) {
				api_fail(err, API_E_FILE_SYSTEM_NOT_FOUND,
				    "File system '%s' does not exist.",
				    json_string_value(v));
				return -1;
			}
			json_decref(d);
		}
	}
	return 0;
}

int
api_repo_fs_path(const char *in, char *out, size_t n)
{
	size_t len = strlen(in);
	const char *c, *end;

	if (len == 0 || in[0] != '/' || len >= n)
		return -1;
	snprintf(out, n, "%s", in);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	/* each component after a '/': not empty, ".", ".." or control chars */
	for (c = out + 1; len > 1 && c <= out + len; c = end + 1) {
		end = strchr(c, '/');
		if (end == NULL)
			end = out + len;
		if (end == c || (end - c == 1 && c[0] == '.') ||
		    (end - c == 2 && c[0] == '.' && c[1] == '.'))
			return -1;
		for (const char *p = c; p < end; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -1;
	}
	return 0;
}

/* 1 when b is a or lies under a. */
static int
fs_under(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (strcmp(a, "/") == 0)
		return 1;
	return strncmp(a, b, la) == 0 && (b[la] == '\0' || b[la] == '/');
}

int
api_repo_fs_overlap(const char *a, const char *b)
{
	return fs_under(a, b) || fs_under(b, a);
}

/* S3's bucket naming rules (3-63 of [a-z0-9.-], alphanumeric ends, no
 * "..", not an IP address). */
static int
s3_bucket_ok(const char *b, size_t len)
{
	int dots = 0, digits_only = 1;

	if (len < 3 || len > 63)
		return 0;
	if (!((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= '0' && b[0] <= '9')) ||
	    !((b[len - 1] >= 'a' && b[len - 1] <= 'z') ||
	    (b[len - 1] >= '0' && b[len - 1] <= '9')))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-'))
			return 0;
		if (c == '.' && b[i + 1] == '.')
			return 0;
		dots += c == '.';
		if (c != '.' && (c < '0' || c > '9'))
			digits_only = 0;
	}
	return !(dots == 3 && digits_only);
}

int
api_repo_s3_path(const char *in, char *bucket, size_t blen, char *prefix,
    size_t plen)
{
	const char *b, *slash;
	size_t bl, pl;

	if (strncmp(in, "s3://", 5) != 0)
		return -1;
	b = in + 5;
	slash = strchr(b, '/');
	bl = slash ? (size_t)(slash - b) : strlen(b);
	if (!s3_bucket_ok(b, bl) || bl >= blen)
		return -1;
	memcpy(bucket, b, bl);
	bucket[bl] = '\0';
	prefix[0] = '\0';
	if (slash == NULL || slash[1] == '\0')
		return 0;
	pl = strlen(slash + 1);
	if (pl + 2 > plen || pl > 1024 || slash[1] == '/' ||
	    strstr(slash + 1, "//") != NULL)
		return -1;
	snprintf(prefix, plen, "%s%s", slash + 1,
	    slash[pl] == '/' ? "" : "/");
	return 0;
}

char *
api_repo_doc_text(const json_t *doc)
{
	json_t *copy = json_deep_copy(doc);
	char *text;

	json_object_del(copy, "Lifecycle");
	json_object_del(copy, "Tags");
	text = json_dumps(copy, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(copy);
	return text;
}

json_t *
api_repo_doc_out(const char *doc, const char *lifecycle)
{
	json_t *d = json_loads(doc, 0, NULL);

	if (!json_is_object(d)) {
		json_decref(d);
		return NULL;
	}
	json_object_set_new(d, "Lifecycle", json_string(lifecycle));
	return d;
}

int
api_repo_arn_exists(const struct api_ctx *cx, const char *res)
{
	struct db_dra d;
	struct db_task t;
	const char *slash;
	int found;

	if (strncmp(res, "task/", 5) == 0) {
		if (db_task_get(res + 5, cx->account, cx->region, &t) < 0)
			return 0;
		db_task_fini(&t);
		return 1;
	}
	if (strncmp(res, "association/", 12) != 0)
		return 0;
	slash = strchr(res + 12, '/');
	if (slash == NULL || strcmp(slash + 1, DB_DRA_LEGACY) == 0)
		return 0;
	if (db_dra_get(slash + 1, NULL, cx->account, cx->region, &d) < 0)
		return 0;
	found = strlen(d.fs_id) == (size_t)(slash - res - 12) &&
	    strncmp(res + 12, d.fs_id, strlen(d.fs_id)) == 0;
	db_dra_fini(&d);
	return found;
}
