/*
 * TagResource, UntagResource, ListTagsForResource.
 *
 * Tags live in the owning resource's description (its "Tags" member), so
 * Describe shows them. ARNs are checked in this order, as FSx does:
 * malformed -> BadRequest; another service -> NotServiceResourceError;
 * an FSx resource this caller cannot see (other account or region, or no
 * such resource) -> ResourceNotFound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"

#define TAGS_MAX	50

/* Resolve an ARN to a file system description of the caller (new ref). */
static json_t *
tags_resolve(struct api_ctx *cx, const char *arn, char *fs_id, size_t n,
    struct api_error *err)
{
	char part[16], svc[32], region[32], account[16], res[256];
	const char *p = arn, *colon;
	char *fields[5] = { part, svc, region, account, NULL };
	size_t sizes[4] = { sizeof(part), sizeof(svc), sizeof(region), sizeof(account) };
	json_t *d;

	if (strncmp(p, "arn:", 4) != 0)
		goto bad;
	p += 4;
	for (int i = 0; i < 4; i++) {
		colon = strchr(p, ':');
		if (colon == NULL || (size_t)(colon - p) >= sizes[i])
			goto bad;
		memcpy(fields[i], p, colon - p);
		fields[i][colon - p] = '\0';
		p = colon + 1;
	}
	if (strlen(p) >= sizeof(res) || *p == '\0')
		goto bad;
	snprintf(res, sizeof(res), "%s", p);
	if (strcmp(svc, "fsx") != 0) {
		api_fail(err, API_E_NOT_SERVICE_RESOURCE,
		    "Resource ARN %s is not an Amazon FSx resource.", arn);
		api_error_set(err, "ResourceARN", json_string(arn));
		return NULL;
	}
	if (strncmp(res, "file-system/", 12) == 0 &&
	    strcmp(part, cx->partition) == 0 &&
	    strcmp(region, cx->region) == 0 &&
	    strcmp(account, cx->account) == 0 && strlen(res + 12) < n) {
		memcpy(fs_id, res + 12, strlen(res + 12) + 1);
		d = api_fs_load(cx, fs_id, NULL, 0);
		if (d != NULL)
			return d;
	}
	api_fail(err, API_E_RESOURCE_NOT_FOUND,
	    "The resource ARN %s does not exist.", arn);
	api_error_set(err, "ResourceARN", json_string(arn));
	return NULL;
bad:
	api_fail(err, API_E_BAD_REQUEST, "Invalid resource ARN: %s", arn);
	return NULL;
}

static json_t *
tags_find(json_t *tags, const char *key, size_t *idx)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t) {
		if (strcmp(json_string_value(json_object_get(t, "Key")), key) == 0) {
			*idx = i;
			return t;
		}
	}
	return NULL;
}

static size_t
tags_user_count(const json_t *tags)
{
	size_t i, n = 0;
	json_t *t;

	json_array_foreach(tags, i, t)
		if (strncasecmp(json_string_value(json_object_get(t, "Key")),
		    "aws:", 4) != 0)
			n++;
	return n;
}

static json_t *
tags_of(json_t *desc)
{
	json_t *tags = json_object_get(desc, "Tags");

	if (!json_is_array(tags)) {
		tags = json_array();
		json_object_set_new(desc, "Tags", tags);
	}
	return tags;
}

/* A tag change: resolve, edit the description's tags, store; one tx. */
struct tags_tx {
	struct api_ctx		*cx;
	const json_t		*in;
	struct api_error	*err;
	int			 add;		/* TagResource, else Untag */
};

static int
tags_tx(void *arg)
{
	struct tags_tx *t = arg;
	const char *arn = json_string_value(json_object_get(t->in, "ResourceARN"));
	char fs_id[64];
	json_t *d, *tags, *e;
	size_t i, at;
	int rc = -1;

	d = tags_resolve(t->cx, arn, fs_id, sizeof(fs_id), t->err);
	if (d == NULL)
		return -1;
	tags = tags_of(d);
	if (!t->add) {
		json_array_foreach(json_object_get(t->in, "TagKeys"), i, e)
			if (tags_find(tags, json_string_value(e), &at) != NULL)
				json_array_remove(tags, at);
		goto store;
	}
	json_array_foreach(json_object_get(t->in, "Tags"), i, e) {
		const char *k = json_string_value(json_object_get(e, "Key"));
		const char *v = json_string_value(json_object_get(e, "Value"));
		json_t *old = tags_find(tags, k, &at);

		if (old != NULL)
			json_object_set_new(old, "Value", json_string(v ? v : ""));
		else
			json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", k,
			    "Value", v ? v : ""));
	}
	if (tags_user_count(tags) > (size_t)t->cx->conf->q_tags) {
		/* BadRequest: the only limit error TagResource's model declares */
		api_fail(t->err, API_E_BAD_REQUEST,
		    "A resource can have at most %ld tags.", t->cx->conf->q_tags);
		goto out;
	}
store:
	rc = api_fs_store(fs_id, d, -1);
out:
	json_decref(d);
	return rc;
}

json_t *
api_tag_resource(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct tags_tx t = { cx, in, err, 1 };

	if (api_tags_check(json_object_get(in, "Tags"), err) < 0 ||
	    api_tx(tags_tx, &t, err, "tags") < 0)
		return NULL;
	return json_object();
}

json_t *
api_untag_resource(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	struct tags_tx t = { cx, in, err, 0 };
	size_t i;
	json_t *k;

	json_array_foreach(json_object_get(in, "TagKeys"), i, k) {
		if (strncasecmp(json_string_value(k), "aws:", 4) == 0)
			return api_fail(err, API_E_BAD_REQUEST,
			    "Tag keys starting with 'aws:' are reserved for AWS use.");
	}
	if (api_tx(tags_tx, &t, err, "tags") < 0)
		return NULL;
	return json_object();
}

/* NextToken for tags: base64 of "tag1:<index>" (position in the list). */
json_t *
api_list_tags(struct api_ctx *cx, const json_t *in, struct api_error *err)
{
	const char *arn = json_string_value(json_object_get(in, "ResourceARN"));
	const json_t *jmax = json_object_get(in, "MaxResults");
	const char *tok = json_string_value(json_object_get(in, "NextToken"));
	long long start = 0, max = TAGS_MAX;
	char fs_id[64];
	json_t *d, *tags, *page, *out;
	size_t n;

	if (jmax != NULL && json_integer_value(jmax) < max)
		max = json_integer_value(jmax);
	if (tok != NULL) {
		unsigned char raw[64];
		int len = (int)strlen(tok);

		if (len > 80 || (len = EVP_DecodeBlock(raw, (const unsigned char *)tok,
		    len)) <= 0 || len >= (int)sizeof(raw))
			return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
		raw[len] = '\0';
		if (sscanf((char *)raw, "tag1:%lld", &start) != 1 || start < 0)
			return api_fail(err, API_E_BAD_REQUEST, "Invalid NextToken.");
	}
	d = tags_resolve(cx, arn, fs_id, sizeof(fs_id), err);
	if (d == NULL)
		return NULL;
	tags = tags_of(d);
	n = json_array_size(tags);
	page = json_array();
	for (long long i = start; i < (long long)n && i < start + max; i++)
		json_array_append(page, json_array_get(tags, (size_t)i));
	out = json_object();
	json_object_set_new(out, "Tags", page);
	if (start + max < (long long)n) {
		char raw[32];
		unsigned char b64[64];
		int len = snprintf(raw, sizeof(raw), "tag1:%lld", start + max);

		EVP_EncodeBlock(b64, (unsigned char *)raw, len);
		json_object_set_new(out, "NextToken", json_string((char *)b64));
	}
	json_decref(d);
	return out;
}
