/*
 * recipe_json.h - the recipe document (aldctl import/export/validate) <->
 * recipe rows. docs/aldctl.md describes the format.
 *
 * Parsing only checks the document's SHAPE (JSON types, required and unknown
 * keys, step types); every rule about values (ranges, nesting, totals) stays
 * in recipe_build(), which recipe_json_parse() runs and whose messages it
 * re-words to point at the step's place in the document, e.g.
 *   steps[0].steps[1] "N2 purge": purge duration_ms 90000000 is out of range ...
 *
 * OWNERSHIP: rows are filled with deep copies; the caller frees them with
 * recipe_rows_free() (also after a failed parse). Exported text is malloc'd.
 * THREADING: no shared state; any thread. The uuid helper reads /dev/urandom.
 */
#ifndef ALD_ENGINE_RECIPE_JSON_H
#define ALD_ENGINE_RECIPE_JSON_H

#include <stddef.h>

#include "recipe.h"

#define RECIPE_JSON_UUID_LEN 37 /* 36 characters + NUL */

/* Parse `text` into `out` (initialised by the caller with recipe_rows_init):
 * the recipe row under a fresh v4 uuid, steps with fresh uuids, sequence
 * numbers 1..n within each level, parent_step_id for loop children, config
 * fields with has_*_config = 1 (wait steps: parameters_json), and the
 * parameters. Then validates with recipe_build(). Returns 0, or -1 with a
 * message in err: "line L, column C: ..." for JSON syntax, "PATH: ..." for
 * everything else. */
int recipe_json_parse(const char *text, recipe_rows *out, char *err, size_t errlen);

/* The document of a built recipe (2-space indented, keys in the documented
 * order, no ids: a document is portable between stores). malloc'd text
 * ending in a newline; NULL on out of memory. */
char *recipe_json_export(const recipe *r);

/* The recipe_version snapshot stored with a process: the same document plus
 * the recipe's id and its totals, compact. malloc'd; NULL on OOM. */
char *recipe_snapshot_json(const recipe *r);

/* Give parsed rows another recipe id (import --id). 0, or -1 out of memory. */
int recipe_json_set_id(recipe_rows *rows, const char *id);

/* A random version-4 uuid, lower case, into buf[RECIPE_JSON_UUID_LEN]. */
void recipe_json_uuid(char *buf);

#endif
