/*
 * TagResource, UntagResource, ListTagsForResource, and the tag rules every
 * resource's create shares.
 *
 * Tags are rows keyed by the resource's ARN (src/db/db_tag.c, for every
 * resource kind); Describe gets them back from there. ARNs are checked in
 * this order, as FSx does: malformed -> BadRequest; another service ->
 * NotServiceResourceError; an FSx resource this caller cannot see (other
 * account or region, or no such resource) -> ResourceNotFound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "api.h"
#include "api_backup.h"
#include "api_ctx.h"
#include "api_fs.h"
#include "api_ops.h"
#include "api_repo.h"
#include "db/db.h"

#define TAGS_PAGE_MAX	50

/*
 * Check that arn names a resource this caller can see. Resource kinds are
 * resolved by their ARN's resource type; each kind answers "exists for
 * this caller?" through its own loader. 0, or -1 with err set.
 */
static int
tags_resolve(struct api_ctx *cx, const char *arn, struct api_error *err)
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
		return -1;
	}
	if (strncmp(res, "file-system/", 12) == 0 &&
	    strcmp(part, cx->partition) == 0 &&
	    strcmp(region, cx->region) == 0 &&
	    strcmp(account, cx->account) == 0) {
		d = api_fs_get(cx, res + 12, NULL);
		if (d != NULL) {
			json_decref(d);
			return 0;
		}
	}
	if (strcmp(part, cx->partition) == 0 &&
	    strcmp(region, cx->region) == 0 &&
	    strcmp(account, cx->account) == 0 &&
	    ((strncmp(res, "backup/", 7) == 0 && api_backup_exists(cx, res + 7))
	    || api_repo_arn_exists(cx, res)))
		return 0;
	api_fail(err, API_E_RESOURCE_NOT_FOUND,
	    "The resource ARN %s does not exist.", arn);
	api_error_set(err, "ResourceARN", json_string(arn));
	return -1;
bad:
	api_fail(err, API_E_BAD_REQUEST, "Invalid resource ARN: %s", arn);
	return -1;
}

/* Tag rules beyond the model: the aws: prefix is reserved; keys unique. */
int
api_tags_check(const json_t *tags, struct api_error *err)
{
	size_t i, j;
	json_t *t;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));

		if (k != NULL && strncasecmp(k, "aws:", 4) == 0) {
			api_fail(err, API_E_BAD_REQUEST,
			    "Tag keys starting with 'aws:' are reserved for AWS use.");
			return -1;
		}
		for (j = 0; j < i; j++) {
			const char *k2 = json_string_value(json_object_get(
			    json_array_get(tags, j), "Key"));

			if (k && k2 && strcmp(k, k2) == 0) {
				api_fail(err, API_E_BAD_REQUEST,
				    "Duplicate tag key '%s' in the request.", k);
				return -1;
			}
		}
	}
	return 0;
}

int
api_tags_put(const char *arn, const json_t *tags)
{
	size_t i;
	json_t *t;
	int rc = 0;

	json_array_foreach(tags, i, t) {
		const char *v = json_string_value(json_object_get(t, "Value"));

		rc = db_tag_put(arn, json_string_value(json_object_get(t, "Key")),
		    v ? v : "");
		if (rc < 0)
			break;
	}
	return rc;
}

/* A tag change: resolve, then the rows; one transaction. */
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
	const json_t *list = json_object_get(t->in, t->add ? "Tags" : "TagKeys");
	const char *keys[TAGS_PAGE_MAX];
	int n = 0, have, fresh, rc = 0;
	size_t i;
	json_t *e;

	if (tags_resolve(t->cx, arn, t->err) < 0)
		return -1;
	if (!t->add) {
		json_array_foreach(list, i, e)
			if (rc == 0)
				rc = db_tag_delete(arn, json_string_value(e));
		return rc;
	}
	json_array_foreach(list, i, e)
		if (n < TAGS_PAGE_MAX)
			keys[n++] = json_string_value(json_object_get(e, "Key"));
	have = db_tag_list(arn, 0, NULL, 0);
	fresh = db_tag_new_keys(arn, keys, n);
	if (have < 0 || fresh < 0)
		return have < 0 ? have : fresh;
	if (have + fresh > t->cx->conf->q_tags) {
		/* BadRequest: the only limit error TagResource's model declares */
		api_fail(t->err, API_E_BAD_REQUEST,
		    "A resource can have at most %ld tags.", t->cx->conf->q_tags);
		return -1;
	}
	return api_tags_put(arn, list);
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
	struct db_tag tags[TAGS_PAGE_MAX];
	long long start = 0, max = TAGS_PAGE_MAX;
	json_t *page, *out;
	int n, total;

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
	if (tags_resolve(cx, arn, err) < 0)
		return NULL;
	total = db_tag_list(arn, start, tags, (int)max);
	if (total < 0)
		return api_fail(err, API_E_INTERNAL_SERVER_ERROR, "state unavailable");
	n = total - start < max ? (int)(total > start ? total - start : 0) : (int)max;
	page = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(page, json_pack("{s:s,s:s}", "Key",
		    tags[i].key, "Value", tags[i].value));
	out = json_object();
	json_object_set_new(out, "Tags", page);
	if (start + max < total) {
		char raw[32];
		unsigned char b64[64];
		int len = snprintf(raw, sizeof(raw), "tag1:%lld", start + max);

		EVP_EncodeBlock(b64, (unsigned char *)raw, len);
		json_object_set_new(out, "NextToken", json_string((char *)b64));
	}
	return out;
}
