/*
 * The FSx API model (api/model.json, embedded at build time) beyond what
 * api.h declares: look-ups for the dispatcher and for tests. Everything
 * here loads the model on first use (api_model_init) and is thread-safe;
 * api_model_fini() frees it (and a later call loads it again).
 *
 * Patterns are compiled by api/pattern.c (pattern.h says how they match).
 */
#ifndef FSX_API_MODEL_H
#define FSX_API_MODEL_H

#include <jansson.h>

void		 api_model_fini(void);
/* "AWSSimbaAPIService_v20180301", or NULL if the model cannot load. */
const char	*api_model_target_prefix(void);
/* The input member with the idempotencyToken trait, or NULL when none. */
const char	*api_model_token_member(const char *op);
/* 1 when the model declares error `type` (a __type) for `op`, else 0. */
int		 api_model_op_declares(const char *op, const char *type);
/* Sorted array of every operation name; new reference (NULL on failure). */
json_t		*api_model_ops(void);
/* Number of distinct patterns the model compiled; -errno if it failed. */
int		 api_model_npatterns(void);
/*
 * Match `s` (len bytes, NUL bytes allowed) against a Java pattern with the
 * translation the validator uses: 1 match, 0 no match, -EINVAL when the
 * pattern cannot be translated.
 */
int		 api_model_pattern_match(const char *pattern, const char *s,
		    size_t len);

#endif
