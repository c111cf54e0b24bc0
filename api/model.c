/*
 * The FSx API model as data: api/model.json (generated from botocore by
 * tools/gen_model.py) is embedded at build time, loaded once into C
 * structures with every shape reference resolved and every pattern
 * compiled, and api_validate() walks a request against the operation's
 * input shape the way AWS's front end does:
 *
 *   1. types: a member of the wrong JSON type makes the whole request a
 *      SerializationException (nothing is validated further);
 *   2. constraints: every violation, in model member order, joined into
 *      "N validation error(s) detected: ..." (BadRequest, spec 1.4).
 *
 * Members the model does not know are ignored; JSON null is "absent".
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "model.h"
#include "pattern.h"
#include "core/log.h"
#include "core/util.h"
#include "model_json.h"

/* A growing string buffer; allocation cannot fail (xmalloc). */
struct sb {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
	char *nb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = xmalloc(cap);
		if (b->len > 0)
			memcpy(nb, b->buf, b->len);
		free(b->buf);
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sb *b, char c)
{
	sb_putn(b, &c, 1);
}

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_putn(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void
sb_trunc(struct sb *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->buf[len] = '\0';
	}
}

static void
sb_free(struct sb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* The loaded model. */
enum mtype { MT_STRING, MT_INTEGER, MT_LONG, MT_BOOLEAN, MT_TIMESTAMP,
	MT_LIST, MT_STRUCT };

static const char *const mtype_names[] = {
	"string", "integer", "long", "boolean", "timestamp", "list", "structure"
};

/* How a type error names the target ("can not be converted to an ..."). */
static const char *const mtype_java[] = {
	"a String", "an Integer", "a Long", "a Boolean", "a Date", "a List",
	"a Structure"
};

struct model_shape;

struct model_member {
	char			*name;
	char			*lname;		/* lowerCamelCase, for paths */
	struct model_shape	*shape;
	int			 required;
	int			 token;
};

struct model_shape {
	char			*name;
	enum mtype		 type;
	int			 has_min;
	int			 has_max;
	json_int_t		 min;
	json_int_t		 max;
	struct pattern	*pat;		/* borrowed from model.pats */
	char			**enums;
	size_t			 nenums;
	struct model_shape	*member;	/* MT_LIST */
	struct model_member	*members;	/* MT_STRUCT */
	size_t			 nmembers;
};

struct model_op {
	char			*name;
	struct model_shape	*input;
	const char		*token;		/* borrowed member name */
	json_t			*errors;	/* owned: the declared __types */
};

static struct {
	pthread_mutex_t		 lock;
	int			 loaded;
	char			*prefix;
	struct model_shape	*shapes;
	size_t			 nshapes;
	struct model_op		*ops;
	size_t			 nops;
	struct pattern	**pats;
	size_t			 npats;
} model = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
shape_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_shape *)a)->name,
	    ((const struct model_shape *)b)->name);
}

static int
op_cmp(const void *a, const void *b)
{
	return strcmp(((const struct model_op *)a)->name,
	    ((const struct model_op *)b)->name);
}

static struct model_shape *
shape_find(const char *name)
{
	struct model_shape key = { .name = (char *)name };

	if (name == NULL || model.shapes == NULL)
		return NULL;
	return bsearch(&key, model.shapes, model.nshapes, sizeof(key),
	    shape_cmp);
}

static struct model_op *
op_find(const char *name)
{
	struct model_op key = { .name = (char *)name };

	if (name == NULL || model.ops == NULL)
		return NULL;
	return bsearch(&key, model.ops, model.nops, sizeof(key), op_cmp);
}

/* The compiled pattern for src, shared between shapes. */
static struct pattern *
pat_get(const char *src)
{
	struct pattern *mp;
	size_t i;

	for (i = 0; i < model.npats; i++)
		if (strcmp(pattern_src(model.pats[i]), src) == 0)
			return model.pats[i];
	mp = pattern_new(src);
	if (mp == NULL) {
		log_err("api model: cannot translate pattern %s", src);
		return NULL;
	}
	model.pats = realloc(model.pats, (model.npats + 1) *
	    sizeof(*model.pats));
	if (model.pats == NULL)
		fatal("out of memory");
	model.pats[model.npats++] = mp;
	return mp;
}

static int
shape_load_struct(struct model_shape *sh, const json_t *v)
{
	const json_t *members = json_object_get(v, "members");
	const json_t *req = json_object_get(v, "required"), *m, *r;
	size_t i, j;

	if (!json_is_array(members))
		return -EINVAL;
	sh->nmembers = json_array_size(members);
	sh->members = xcalloc(sh->nmembers + 1, sizeof(*sh->members));
	json_array_foreach(members, i, m) {
		struct model_member *mm = &sh->members[i];
		const char *name = json_string_value(json_object_get(m, "name"));

		if (name == NULL || name[0] == '\0')
			return -EINVAL;
		mm->name = xstrdup(name);
		mm->lname = xstrdup(name);
		if (mm->lname[0] >= 'A' && mm->lname[0] <= 'Z')
			mm->lname[0] = (char)(mm->lname[0] - 'A' + 'a');
		mm->shape = shape_find(json_string_value(json_object_get(m,
		    "shape")));
		if (mm->shape == NULL)
			return -EINVAL;
		mm->token = json_is_true(json_object_get(m, "idempotencyToken"));
	}
	json_array_foreach(req, i, r) {
		for (j = 0; j < sh->nmembers; j++)
			if (json_is_string(r) &&
			    strcmp(sh->members[j].name, json_string_value(r)) == 0)
				break;
		if (j == sh->nmembers)
			return -EINVAL;
		sh->members[j].required = 1;
	}
	return 0;
}

static int
shape_load(struct model_shape *sh, const json_t *v)
{
	const char *type = json_string_value(json_object_get(v, "type"));
	const json_t *x, *e;
	size_t i;

	for (i = 0; i < sizeof(mtype_names) / sizeof(mtype_names[0]); i++)
		if (type != NULL && strcmp(type, mtype_names[i]) == 0)
			break;
	if (i == sizeof(mtype_names) / sizeof(mtype_names[0]))
		return -EINVAL;
	sh->type = (enum mtype)i;
	if ((x = json_object_get(v, "min")) != NULL) {
		if (!json_is_integer(x))
			return -EINVAL;
		sh->has_min = 1;
		sh->min = json_integer_value(x);
	}
	if ((x = json_object_get(v, "max")) != NULL) {
		if (!json_is_integer(x))
			return -EINVAL;
		sh->has_max = 1;
		sh->max = json_integer_value(x);
	}
	if ((x = json_object_get(v, "pattern")) != NULL) {
		if (!json_is_string(x))
			return -EINVAL;
		sh->pat = pat_get(json_string_value(x));
		if (sh->pat == NULL)
			return -EINVAL;
	}
	if ((x = json_object_get(v, "enum")) != NULL) {
		sh->nenums = json_array_size(x);
		sh->enums = xcalloc(sh->nenums + 1, sizeof(*sh->enums));
		json_array_foreach(x, i, e) {
			if (!json_is_string(e))
				return -EINVAL;
			sh->enums[i] = xstrdup(json_string_value(e));
		}
	}
	if (sh->type == MT_LIST) {
		sh->member = shape_find(json_string_value(json_object_get(v,
		    "member")));
		if (sh->member == NULL)
			return -EINVAL;
	}
	if (sh->type == MT_STRUCT)
		return shape_load_struct(sh, v);
	return 0;
}

static void
model_free(void)
{
	size_t i, j;

	for (i = 0; i < model.nshapes; i++) {
		struct model_shape *sh = &model.shapes[i];

		free(sh->name);
		for (j = 0; j < sh->nenums; j++)
			free(sh->enums[j]);
		free(sh->enums);
		for (j = 0; j < sh->nmembers; j++) {
			free(sh->members[j].name);
			free(sh->members[j].lname);
		}
		free(sh->members);
	}
	free(model.shapes);
	for (i = 0; i < model.nops; i++) {
		free(model.ops[i].name);
		json_decref(model.ops[i].errors);
	}
	free(model.ops);
	for (i = 0; i < model.npats; i++)
		pattern_free(model.pats[i]);
	free(model.pats);
	free(model.prefix);
	model.shapes = NULL;
	model.nshapes = 0;
	model.ops = NULL;
	model.nops = 0;
	model.pats = NULL;
	model.npats = 0;
	model.prefix = NULL;
	model.loaded = 0;
}

static int
model_load_ops(const json_t *ops)
{
	const char *key;
	const json_t *v;
	size_t i = 0, j;

	model.nops = json_object_size(ops);
	model.ops = xcalloc(model.nops + 1, sizeof(*model.ops));
	json_object_foreach((json_t *)ops, key, v)
		model.ops[i++].name = xstrdup(key);
	qsort(model.ops, model.nops, sizeof(*model.ops), op_cmp);
	for (i = 0; i < model.nops; i++) {
		struct model_op *op = &model.ops[i];

		v = json_object_get(ops, op->name);
		op->input = shape_find(json_string_value(json_object_get(v,
		    "input")));
		if (op->input == NULL || op->input->type != MT_STRUCT) {
			log_err("api model: operation %s: bad input", op->name);
			return -EINVAL;
		}
		for (j = 0; j < op->input->nmembers; j++)
			if (op->input->members[j].token)
				op->token = op->input->members[j].name;
		op->errors = json_incref(json_object_get(v, "errors"));
	}
	return 0;
}

static int
model_load(void)
{
	const json_t *shapes, *ops, *prefix, *v;
	json_error_t jerr;
	json_t *root;
	const char *key;
	size_t i = 0;
	int rc = -EINVAL;

	root = json_loadb((const char *)api_model_json[0].data,
	    api_model_json[0].len, 0, &jerr);
	if (root == NULL) {
		log_err("api model: line %d: %s", jerr.line, jerr.text);
		return -EINVAL;
	}
	shapes = json_object_get(root, "shapes");
	ops = json_object_get(root, "operations");
	prefix = json_object_get(json_object_get(root, "metadata"),
	    "targetPrefix");
	if (!json_is_object(shapes) || !json_is_object(ops) ||
	    !json_is_string(prefix))
		goto out;
	model.prefix = xstrdup(json_string_value(prefix));
	model.nshapes = json_object_size(shapes);
	model.shapes = xcalloc(model.nshapes + 1, sizeof(*model.shapes));
	json_object_foreach((json_t *)shapes, key, v)
		model.shapes[i++].name = xstrdup(key);
	qsort(model.shapes, model.nshapes, sizeof(*model.shapes), shape_cmp);
	for (i = 0; i < model.nshapes; i++) {
		v = json_object_get(shapes, model.shapes[i].name);
		if (shape_load(&model.shapes[i], v) != 0) {
			log_err("api model: bad shape %s", model.shapes[i].name);
			goto out;
		}
	}
	rc = model_load_ops(ops);
out:
	json_decref(root);
	if (rc != 0)
		model_free();
	else
		model.loaded = 1;
	return rc;
}

int
api_model_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&model.lock);
	if (!model.loaded)
		rc = model_load();
	pthread_mutex_unlock(&model.lock);
	return rc;
}

void
api_model_fini(void)
{
	pthread_mutex_lock(&model.lock);
	model_free();
	pthread_mutex_unlock(&model.lock);
}

int
api_model_has_op(const char *op)
{
	if (api_model_init() != 0)
		return 0;
	return op_find(op) != NULL;
}

int
api_model_op_declares(const char *op, const char *type)
{
	const struct model_op *o;
	const json_t *e;
	size_t i;

	if (api_model_init() != 0)
		return 0;
	o = op_find(op);
	if (o == NULL)
		return 0;
	json_array_foreach(o->errors, i, e)
		if (strcmp(json_string_value(e), type) == 0)
			return 1;
	return 0;
}

const char *
api_model_target_prefix(void)
{
	if (api_model_init() != 0)
		return NULL;
	return model.prefix;
}

const char *
api_model_token_member(const char *op)
{
	const struct model_op *o;

	if (api_model_init() != 0)
		return NULL;
	o = op_find(op);
	return o != NULL ? o->token : NULL;
}

json_t *
api_model_ops(void)
{
	json_t *a;

	if (api_model_init() != 0)
		return NULL;
	a = json_array();
	for (size_t i = 0; i < model.nops; i++)
		json_array_append_new(a, json_string(model.ops[i].name));
	return a;
}

int
api_model_npatterns(void)
{
	int rc = api_model_init();

	return rc != 0 ? rc : (int)model.npats;
}

int
api_model_pattern_match(const char *pattern, const char *s, size_t len)
{
	struct pattern *mp = pattern_new(pattern);
	int rc;

	if (mp == NULL)
		return -EINVAL;
	rc = pattern_match(mp, s, len);
	pattern_free(mp);
	return rc;
}

/*
 * Validation.
 */
struct vctx {
	struct sb	 path;		/* 'lustreConfiguration.deploymentType' */
	struct sb	 msg;		/* violations joined by "; " */
	int		 nerr;
	struct sb	 serr;		/* the type error */
	int		 bad;
};

static size_t
path_push(struct vctx *cx, const char *seg)
{
	size_t old = cx->path.len;

	if (old > 0)
		sb_putc(&cx->path, '.');
	sb_puts(&cx->path, seg);
	return old;
}

static size_t
path_push_index(struct vctx *cx, size_t i)
{
	char seg[48];

	snprintf(seg, sizeof(seg), "%zu.member", i + 1);
	return path_push(cx, seg);
}

/* A number as Java would print it: integral values without a fraction. */
static void
render_number(struct sb *b, const json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	}
	d = json_real_value(v);
	if (d == floor(d) && fabs(d) < 1e18)
		sb_printf(b, "%.0f", d);
	else
		sb_printf(b, "%.17g", d);
}

/* A value as the validation message shows it: strings bare, lists [a, b]. */
static void
render(struct sb *b, const json_t *v)
{
	const char *key, *s;
	const json_t *e;
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		for (i = 0; i < n; i++)
			if (s[i] != '\0')
				sb_putc(b, s[i]);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		render_number(b, v);
		break;
	case JSON_TRUE:
		sb_puts(b, "true");
		break;
	case JSON_FALSE:
		sb_puts(b, "false");
		break;
	case JSON_ARRAY:
		sb_putc(b, '[');
		json_array_foreach(v, i, e) {
			if (i > 0)
				sb_puts(b, ", ");
			render(b, e);
		}
		sb_putc(b, ']');
		break;
	case JSON_OBJECT:
		sb_putc(b, '{');
		i = 0;
		json_object_foreach((json_t *)v, key, e) {
			if (i++ > 0)
				sb_puts(b, ", ");
			sb_puts(b, key);
			sb_putc(b, '=');
			render(b, e);
		}
		sb_putc(b, '}');
		break;
	default:
		sb_puts(b, "null");
		break;
	}
}

/* One violation; v NULL means the value was missing (rendered null). */
static void
violation(struct vctx *cx, const json_t *v, const char *text)
{
	if (cx->nerr++ > 0)
		sb_puts(&cx->msg, "; ");
	sb_puts(&cx->msg, "Value ");
	if (v == NULL)
		sb_puts(&cx->msg, "null");
	else {
		sb_putc(&cx->msg, '\'');
		render(&cx->msg, v);
		sb_putc(&cx->msg, '\'');
	}
	sb_puts(&cx->msg, " at '");
	sb_puts(&cx->msg, cx->path.buf != NULL ? cx->path.buf : "");
	sb_puts(&cx->msg, "' failed to satisfy constraint: ");
	sb_puts(&cx->msg, text);
}

static void
type_error(struct vctx *cx, const json_t *v, const struct model_shape *sh)
{
	if (cx->bad++ > 0)
		return;
	if (json_is_object(v))
		sb_puts(&cx->serr, "Start of structure or map found where not "
		    "expected");
	else if (json_is_array(v))
		sb_puts(&cx->serr, "Start of list found where not expected");
	else
		sb_printf(&cx->serr, "class %s can not be converted to %s",
		    json_is_string(v) ? "java.lang.String" :
		    json_is_boolean(v) ? "java.lang.Boolean" :
		    "java.math.BigDecimal", mtype_java[sh->type]);
	if (cx->path.len > 0)
		sb_printf(&cx->serr, " (at '%s')", cx->path.buf);
}

static void
number_error(struct vctx *cx, const json_t *v, const struct model_shape *sh,
    const char *why)
{
	if (cx->bad++ > 0)
		return;
	sb_puts(&cx->serr, "Value ");
	render_number(&cx->serr, v);
	sb_printf(&cx->serr, " %s %s", why, mtype_java[sh->type]);
	if (cx->path.len > 0)
		sb_printf(&cx->serr, " (at '%s')", cx->path.buf);
}

/* Pass 1: JSON types. Stops at the first bad one. */
static void
check_types(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	const json_t *e;
	double d;
	size_t i, old;

	switch (sh->type) {
	case MT_STRING:
		if (!json_is_string(v))
			type_error(cx, v, sh);
		break;
	case MT_INTEGER:
	case MT_LONG:
		if (json_is_integer(v)) {
			json_int_t x = json_integer_value(v);

			if (sh->type == MT_INTEGER &&
			    (x < INT32_MIN || x > INT32_MAX))
				number_error(cx, v, sh, "is out of range for");
		} else if (json_is_real(v)) {
			d = json_real_value(v);
			if (!isfinite(d) || d != floor(d))
				number_error(cx, v, sh, "can not be converted to");
			else if (sh->type == MT_INTEGER ? (d < (double)INT32_MIN ||
			    d > (double)INT32_MAX) : (d < -9223372036854775808.0 ||
			    d >= 9223372036854775808.0))
				number_error(cx, v, sh, "is out of range for");
		} else
			type_error(cx, v, sh);
		break;
	case MT_BOOLEAN:
		if (!json_is_boolean(v))
			type_error(cx, v, sh);
		break;
	case MT_TIMESTAMP:
		/* epoch seconds or ISO 8601; no FSx input has one today */
		if (!json_is_number(v) && !json_is_string(v))
			type_error(cx, v, sh);
		break;
	case MT_LIST:
		if (!json_is_array(v)) {
			type_error(cx, v, sh);
			break;
		}
		json_array_foreach(v, i, e) {
			if (cx->bad || json_is_null(e))
				continue;
			old = path_push_index(cx, i);
			check_types(cx, sh->member, e);
			sb_trunc(&cx->path, old);
		}
		break;
	case MT_STRUCT:
		if (!json_is_object(v)) {
			type_error(cx, v, sh);
			break;
		}
		for (i = 0; i < sh->nmembers && !cx->bad; i++) {
			e = json_object_get(v, sh->members[i].name);
			if (e == NULL || json_is_null(e))
				continue;
			old = path_push(cx, sh->members[i].lname);
			check_types(cx, sh->members[i].shape, e);
			sb_trunc(&cx->path, old);
		}
		break;
	}
}

static json_int_t
number_value(const json_t *v)
{
	return json_is_integer(v) ? json_integer_value(v) :
	    (json_int_t)json_real_value(v);
}

/*
 * The constraints of a scalar shape, in the order AWS lists them: rule r
 * (0..3) -> its text in `text`; returns -1 when the shape has no rule r,
 * else 1 if v (when not NULL) violates it, 0 if not.
 */
static int
scalar_rule(const struct model_shape *sh, int r, const json_t *v,
    struct sb *text)
{
	const char *s;
	size_t i, n;
	int bad = 0;

	if (sh->type == MT_STRING) {
		s = v != NULL ? json_string_value(v) : NULL;
		n = v != NULL ? pattern_utf16_len(s, json_string_length(v)) : 0;
		switch (r) {
		case 0:
			if (!sh->has_max)
				return -1;
			sb_printf(text, "Member must have length less than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->max);
			return v != NULL && (json_int_t)n > sh->max;
		case 1:
			if (!sh->has_min)
				return -1;
			sb_printf(text, "Member must have length greater than "
			    "or equal to %" JSON_INTEGER_FORMAT, sh->min);
			return v != NULL && (json_int_t)n < sh->min;
		case 2:
			if (sh->pat == NULL)
				return -1;
			sb_puts(text, "Member must satisfy regular expression "
			    "pattern: ");
			sb_puts(text, pattern_src(sh->pat));
			return v != NULL && !pattern_match(sh->pat, s,
			    json_string_length(v));
		case 3:
			if (sh->enums == NULL)
				return -1;
			sb_puts(text, "Member must satisfy enum value set: [");
			bad = v != NULL;
			for (i = 0; i < sh->nenums; i++) {
				if (i > 0)
					sb_puts(text, ", ");
				sb_puts(text, sh->enums[i]);
				if (bad && strlen(sh->enums[i]) ==
				    json_string_length(v) &&
				    strcmp(sh->enums[i], s) == 0)
					bad = 0;
			}
			sb_putc(text, ']');
			return bad;
		default:
			return -1;
		}
	}
	if (sh->type == MT_INTEGER || sh->type == MT_LONG) {
		if (r == 0 && sh->has_max) {
			sb_printf(text, "Member must have value less than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->max);
			return v != NULL && number_value(v) > sh->max;
		}
		if (r == 1 && sh->has_min) {
			sb_printf(text, "Member must have value greater than or "
			    "equal to %" JSON_INTEGER_FORMAT, sh->min);
			return v != NULL && number_value(v) < sh->min;
		}
	}
	return -1;
}

static void
check_scalar(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	struct sb text = { 0 };

	for (int r = 0; r < 4; r++) {
		sb_trunc(&text, 0);
		if (scalar_rule(sh, r, v, &text) == 1)
			violation(cx, v, text.buf);
	}
	sb_free(&text);
}

/* Does v violate any of the scalar shape's constraints? */
static int
scalar_bad(const struct model_shape *sh, const json_t *v)
{
	struct sb text = { 0 };
	int bad = 0;

	for (int r = 0; r < 4 && !bad; r++)
		bad = scalar_rule(sh, r, v, &text) == 1;
	sb_free(&text);
	return bad;
}

static void check_constraints(struct vctx *, const struct model_shape *,
    const json_t *);

static void
check_list(struct vctx *cx, const struct model_shape *sh, const json_t *v)
{
	const struct model_shape *el = sh->member;
	struct sb text = { 0 };
	size_t i, n = json_array_size(v), old;
	const json_t *e;
	int any = 0, first = 1;

	if (sh->has_max && (json_int_t)n > sh->max) {
		sb_printf(&text, "Member must have length less than or equal "
		    "to %" JSON_INTEGER_FORMAT, sh->max);
		violation(cx, v, text.buf);
	}
	if (sh->has_min && (json_int_t)n < sh->min) {
		sb_trunc(&text, 0);
		sb_printf(&text, "Member must have length greater than or "
		    "equal to %" JSON_INTEGER_FORMAT, sh->min);
		violation(cx, v, text.buf);
	}
	json_array_foreach(v, i, e) {
		if (json_is_null(e)) {
			old = path_push_index(cx, i);
			violation(cx, NULL, "Member must not be null");
			sb_trunc(&cx->path, old);
		} else if (el->type == MT_LIST || el->type == MT_STRUCT) {
			old = path_push_index(cx, i);
			check_constraints(cx, el, e);
			sb_trunc(&cx->path, old);
		} else if (!any && scalar_bad(el, e))
			any = 1;
	}
	if (any) {
		/* the whole list, with every constraint of its elements */
		sb_trunc(&text, 0);
		sb_puts(&text, "Member must satisfy constraint: [");
		for (int r = 0; r < 4; r++) {
			size_t mark = text.len;

			if (!first)
				sb_puts(&text, ", ");
			if (scalar_rule(el, r, NULL, &text) < 0)
				sb_trunc(&text, mark);
			else
				first = 0;
		}
		sb_putc(&text, ']');
		violation(cx, v, text.buf);
	}
	sb_free(&text);
}

/* Pass 2: constraints, every violation in model member order. */
static void
check_constraints(struct vctx *cx, const struct model_shape *sh,
    const json_t *v)
{
	const struct model_member *m;
	const json_t *e;
	size_t i, old;

	switch (sh->type) {
	case MT_LIST:
		check_list(cx, sh, v);
		break;
	case MT_STRUCT:
		for (i = 0; i < sh->nmembers; i++) {
			m = &sh->members[i];
			e = json_object_get(v, m->name);
			old = path_push(cx, m->lname);
			if (e == NULL || json_is_null(e)) {
				if (m->required)
					violation(cx, NULL,
					    "Member must not be null");
			} else
				check_constraints(cx, m->shape, e);
			sb_trunc(&cx->path, old);
		}
		break;
	default:
		check_scalar(cx, sh, v);
		break;
	}
}

/* Copy into err->message, cutting on a UTF-8 character boundary. */
static void
set_message(struct api_error *err, const char *s)
{
	size_t n = strlen(s), max = sizeof(err->message) - 1;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(err->message, s, n);
	err->message[n] = '\0';
}

int
api_validate(const char *op, const json_t *in, struct api_error *err)
{
	const struct model_op *o;
	struct vctx cx;
	json_t *empty = NULL;
	int rc = -1;

	memset(&cx, 0, sizeof(cx));
	if (api_model_init() != 0) {
		err->code = API_E_INTERNAL_SERVER_ERROR;
		set_message(err, "The API model failed to load");
		return -1;
	}
	o = op_find(op);
	if (o == NULL) {
		err->code = API_E_UNKNOWN_OPERATION;
		set_message(err, "Unknown operation");
		return -1;
	}
	if (in == NULL)
		in = empty = json_object();
	check_types(&cx, o->input, in);
	if (cx.bad) {
		err->code = API_E_SERIALIZATION;
		set_message(err, cx.serr.buf);
		goto out;
	}
	check_constraints(&cx, o->input, in);
	if (cx.nerr > 0) {
		struct sb m = { 0 };

		sb_printf(&m, "%d validation error%s detected: ", cx.nerr,
		    cx.nerr == 1 ? "" : "s");
		sb_puts(&m, cx.msg.buf);
		err->code = API_E_BAD_REQUEST;
		set_message(err, m.buf);
		sb_free(&m);
		goto out;
	}
	rc = 0;
out:
	json_decref(empty);
	sb_free(&cx.path);
	sb_free(&cx.msg);
	sb_free(&cx.serr);
	return rc;
}
