/* recipe.c - recipe rows -> validated step tree (see recipe.h). */
#include "recipe.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- collecting rows ---------------------------------------------------- */

void recipe_rows_init(recipe_rows *rows)
{
    memset(rows, 0, sizeof *rows);
}

static void free_row(ald_recipe_step *s)
{
    free((char *)s->id);
    free((char *)s->recipe_id);
    free((char *)s->parent_step_id);
    free((char *)s->name);
    free((char *)s->type);
    free((char *)s->parameters_json);
    free((char *)s->gas_type);
    free((char *)s->parameter_id);
}

void recipe_rows_free(recipe_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++)
        free_row(&rows->steps[i]);
    free(rows->steps);
    for (size_t i = 0; i < rows->param_count; i++) {
        free(rows->param_names[i]);
        free(rows->param_values[i]);
    }
    free(rows->param_names);
    free(rows->param_values);
    if (rows->have_info) {
        free((char *)rows->info.id);
        free((char *)rows->info.name);
        free((char *)rows->info.description);
    }
    recipe_rows_init(rows);
}

static void rows_on_recipe(void *ctx, const ald_recipe_info *r)
{
    recipe_rows *rows = ctx;
    rows->info = *r;
    rows->info.id = dup_or_null(r->id);
    rows->info.name = dup_or_null(r->name);
    rows->info.description = dup_or_null(r->description);
    rows->have_info = 1;
}

static void rows_on_step(void *ctx, const ald_recipe_step *s)
{
    recipe_rows *rows = ctx;
    if (rows->count == rows->capacity) {
        size_t cap = rows->capacity ? rows->capacity * 2 : 16;
        ald_recipe_step *p = realloc(rows->steps, cap * sizeof *p);
        if (!p) {
            rows->oom = 1;
            return;
        }
        rows->steps = p;
        rows->capacity = cap;
    }
    ald_recipe_step *d = &rows->steps[rows->count++];
    *d = *s;
    d->id = dup_or_null(s->id);
    d->recipe_id = dup_or_null(s->recipe_id);
    d->parent_step_id = dup_or_null(s->parent_step_id);
    d->name = dup_or_null(s->name);
    d->type = dup_or_null(s->type);
    d->parameters_json = dup_or_null(s->parameters_json);
    d->gas_type = dup_or_null(s->gas_type);
    d->parameter_id = dup_or_null(s->parameter_id);
}

static void rows_on_parameter(void *ctx, const char *name, const char *value)
{
    recipe_rows *rows = ctx;
    if (rows->param_count == rows->param_capacity) {
        size_t cap = rows->param_capacity ? rows->param_capacity * 2 : 8;
        char **n = realloc(rows->param_names, cap * sizeof *n);
        if (n)
            rows->param_names = n;
        char **v = realloc(rows->param_values, cap * sizeof *v);
        if (v)
            rows->param_values = v;
        if (!n || !v) {
            rows->oom = 1;
            return;
        }
        rows->param_capacity = cap;
    }
    rows->param_names[rows->param_count] = dup_or_null(name ? name : "");
    rows->param_values[rows->param_count] = dup_or_null(value ? value : "");
    rows->param_count++;
}

ald_recipe_reader recipe_rows_reader(recipe_rows *rows)
{
    return (ald_recipe_reader){.struct_size = sizeof(ald_recipe_reader),
                               .ctx = rows,
                               .recipe = rows_on_recipe,
                               .step = rows_on_step,
                               .parameter = rows_on_parameter};
}

/* ---- step kinds ------------------------------------------------------------ */

int recipe_step_kind(const char *type)
{
    static const struct {
        const char *word;
        step_kind kind;
    } words[] = {{"valve", STEP_VALVE},
                 {"purge", STEP_PURGE},
                 {"loop", STEP_LOOP},
                 {"set parameter", STEP_SET_PARAMETER},
                 {"set_parameter", STEP_SET_PARAMETER},
                 {"parameter", STEP_SET_PARAMETER},
                 {"wait", STEP_WAIT}};
    for (size_t i = 0; type && i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(type, words[i].word))
            return (int)words[i].kind;
    return -1;
}

const char *recipe_step_kind_name(step_kind kind)
{
    static const char *const names[] = {"valve", "purge", "set parameter", "loop", "wait"};
    return (unsigned)kind < 5 ? names[kind] : "?";
}

/* ---- building ---------------------------------------------------------------- */

/* The rows indexed once, so building is O(n log n) in the number of steps:
 * members[first[g]] .. members[first[g + 1] - 1] are the children of row g in
 * sequence order, and group `count` is the top level. */
typedef struct build_ctx {
    const recipe_rows *rows;
    char *err;
    size_t errlen;
    size_t *first;   /* count + 2 offsets into members */
    size_t *members; /* row indices grouped by parent */
} build_ctx;

static int fail(build_ctx *b, const ald_recipe_step *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(build_ctx *b, const ald_recipe_step *row, const char *fmt, ...)
{
    int n = 0;
    if (row)
        n = snprintf(b->err, b->errlen, "step %lld '%s' (id %s): ", (long long)row->sequence_number,
                     row->name ? row->name : "", row->id ? row->id : "?");
    if (n < 0 || (size_t)n >= b->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads an integer field of the inline JSON; 1 found, 0 absent, -1 wrong type. */
static int json_int_field(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9e15) {
        *out = (int64_t)json_real_value(v);
        return 1;
    }
    return -1;
}

static int json_num_field(json_t *obj, const char *key, double *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 1;
}

static int json_str_field(json_t *obj, const char *key, const char **out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 1;
}

/* The first of several accepted key spellings that is present. */
static int inline_int(build_ctx *b, const ald_recipe_step *row, json_t *obj,
                      const char *const *keys, int64_t *out)
{
    for (; *keys; keys++) {
        int got = json_int_field(obj, *keys, out);
        if (got < 0)
            return fail(b, row, "parameters.%s must be a whole number", *keys);
        if (got > 0)
            return 1;
    }
    return 0;
}

static int check_range(build_ctx *b, const ald_recipe_step *row, const char *what, int64_t v,
                       int64_t lo, int64_t hi)
{
    if (v < lo || v > hi)
        return fail(b, row, "%s %lld is out of range (%lld..%lld)", what, (long long)v,
                    (long long)lo, (long long)hi);
    return 0;
}

static int build_valve(build_ctx *b, const ald_recipe_step *row, json_t *js, recipe_step *s)
{
    int64_t number = 0, ms = 0;
    int found = 2;
    if (row->has_valve_config) {
        number = row->valve_number;
        ms = row->valve_duration_ms;
    } else {
        static const char *const nkeys[] = {"valve_number", "valve", NULL};
        static const char *const dkeys[] = {"duration_ms", "duration", NULL};
        int n = inline_int(b, row, js, nkeys, &number), d = inline_int(b, row, js, dkeys, &ms);
        if (n < 0 || d < 0)
            return -1;
        found = n + d;
    }
    if (found < 2)
        return fail(b, row, "valve step needs a valve number and a duration "
                    "(valve_step_config row or parameters.valve_number/duration_ms)");
    if (check_range(b, row, "valve number", number, 1, 64) ||
        check_range(b, row, "valve duration_ms", ms, 1, RECIPE_MAX_VALVE_MS))
        return -1;
    s->valve_number = (int)number;
    s->duration_ms = ms;
    return 0;
}

static int build_purge(build_ctx *b, const ald_recipe_step *row, json_t *js, recipe_step *s)
{
    int64_t ms = 0;
    int found = 1;
    const char *gas = NULL;
    s->flow_rate = NAN;
    if (row->has_purge_config) {
        ms = row->purge_duration_ms;
        gas = row->gas_type;
        s->flow_rate = row->flow_rate;
    } else {
        static const char *const dkeys[] = {"duration_ms", "duration", NULL};
        if ((found = inline_int(b, row, js, dkeys, &ms)) < 0)
            return -1;
        if (json_str_field(js, "gas_type", &gas) < 0 ||
            json_num_field(js, "flow_rate", &s->flow_rate) < 0)
            return fail(b, row, "parameters.gas_type must be text and flow_rate a number");
    }
    if (!found)
        return fail(b, row, "purge step needs a duration (purge_step_config row or "
                    "parameters.duration_ms)");
    if (check_range(b, row, "purge duration_ms", ms, 0, RECIPE_MAX_WAIT_MS))
        return -1;
    s->duration_ms = ms;
    s->gas_type = strdup(gas ? gas : "N2");
    return 0;
}

static int build_loop(build_ctx *b, const ald_recipe_step *row, json_t *js, recipe_step *s)
{
    int64_t count = 0;
    int found = 1;
    if (row->has_loop_config) {
        count = row->iteration_count;
    } else {
        static const char *const keys[] = {"iteration_count", "count", "iterations", NULL};
        if ((found = inline_int(b, row, js, keys, &count)) < 0)
            return -1;
    }
    if (!found)
        return fail(b, row, "loop step needs an iteration count (loop_step_config row or "
                    "parameters.iteration_count)");
    if (check_range(b, row, "loop iteration_count", count, 1, RECIPE_MAX_ITERATIONS))
        return -1;
    s->iterations = count;
    return 0;
}

static int build_set_parameter(build_ctx *b, const ald_recipe_step *row, json_t *js,
                               recipe_step *s)
{
    const char *pid = NULL;
    double target = NAN;
    int64_t hold = 0;
    if (row->has_parameter_config) {
        pid = row->parameter_id;
        target = row->target_value;
        hold = row->hold_duration_ms < 0 ? 0 : row->hold_duration_ms;
    } else {
        static const char *const hkeys[] = {"hold_duration_ms", "duration_ms", NULL};
        if (json_str_field(js, "parameter_id", &pid) < 0)
            return fail(b, row, "parameters.parameter_id must be text");
        if (json_num_field(js, "target_value", &target) < 0 ||
            json_num_field(js, "value", &target) < 0)
            return fail(b, row, "parameters.target_value must be a number");
        if (inline_int(b, row, js, hkeys, &hold) < 0)
            return -1;
    }
    if (row->has_parameter_config && pid && isnan(target))
        return fail(b, row, "parameter_step_config.target_value is not a number (NULL, or "
                    "text that is not exactly a number such as 'abc' or '120abc')");
    if (!pid || isnan(target))
        return fail(b, row, "set parameter step needs a parameter_id and a target value");
    if (check_range(b, row, "hold_duration_ms", hold, 0, RECIPE_MAX_WAIT_MS))
        return -1;
    s->parameter_id = strdup(pid);
    s->target_value = target;
    s->duration_ms = hold;
    return 0;
}

int recipe_parse_wait_op(const char *text, wait_op *op)
{
    static const char *const ops[] = {">=", "<=", ">", "<", "=="};
    static const wait_op values[] = {WAIT_GE, WAIT_LE, WAIT_GT, WAIT_LT, WAIT_EQ};
    for (size_t i = 0; text && i < 5; i++)
        if (!strcmp(text, ops[i])) {
            *op = values[i];
            return 0;
        }
    return -1;
}

/* Extension: {"parameter_id", "operator" (">=" ...), "value", "timeout_ms"}. */
static int build_wait(build_ctx *b, const ald_recipe_step *row, json_t *js, recipe_step *s)
{
    const char *pid = NULL, *op = ">=";
    double value = NAN;
    int64_t timeout = -1;
    static const char *const tkeys[] = {"timeout_ms", NULL};
    if (json_str_field(js, "parameter_id", &pid) < 0 || json_str_field(js, "operator", &op) < 0 ||
        json_num_field(js, "value", &value) < 0 || inline_int(b, row, js, tkeys, &timeout) < 0)
        return fail(b, row, "wait parameters: parameter_id and operator are text, value and "
                    "timeout_ms numbers");
    if (!pid || isnan(value) || timeout < 0)
        return fail(b, row, "wait step needs parameters.parameter_id, value and timeout_ms");
    if (recipe_parse_wait_op(op, &s->op) != 0)
        return fail(b, row, "wait operator '%s' is not one of >= <= > < ==", op);
    if (check_range(b, row, "wait timeout_ms", timeout, 1, RECIPE_MAX_WAIT_MS))
        return -1;
    s->parameter_id = strdup(pid);
    s->target_value = value;
    s->duration_ms = timeout;
    return 0;
}

static int build_one(build_ctx *b, const ald_recipe_step *row, recipe_step *s)
{
    int kind = recipe_step_kind(row->type);
    if (kind < 0)
        return fail(b, row, "unknown step type '%s' (valve, purge, loop, set parameter, wait)",
                    row->type ? row->type : "");
    s->kind = (step_kind)kind;
    s->id = strdup(row->id);
    s->name = strdup(row->name ? row->name : recipe_step_kind_name(s->kind));
    s->sequence_number = row->sequence_number;
    json_t *js = NULL;
    if (row->parameters_json && *row->parameters_json) {
        json_error_t jerr;
        js = json_loads(row->parameters_json, 0, &jerr);
        if (!js || !json_is_object(js)) {
            json_decref(js);
            return fail(b, row, "parameters is not a JSON object (%s)",
                        js ? "wrong type" : jerr.text);
        }
    }
    int rc;
    switch (s->kind) {
    case STEP_VALVE:
        rc = build_valve(b, row, js, s);
        break;
    case STEP_PURGE:
        rc = build_purge(b, row, js, s);
        break;
    case STEP_LOOP:
        rc = build_loop(b, row, js, s);
        break;
    case STEP_SET_PARAMETER:
        rc = build_set_parameter(b, row, js, s);
        break;
    default:
        rc = build_wait(b, row, js, s);
        break;
    }
    json_decref(js);
    return rc;
}

typedef struct id_ref {
    const char *id;
    size_t row;
} id_ref;

static int by_id(const void *a, const void *b)
{
    const id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Ids sorted once; duplicates are neighbours. The caller frees the array. */
static id_ref *sorted_ids(build_ctx *b)
{
    const recipe_rows *rows = b->rows;
    id_ref *ids = malloc(rows->count * sizeof *ids);
    if (!ids) {
        fail(b, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rows->count; i++) {
        if (!rows->steps[i].id) {
            free(ids);
            fail(b, &rows->steps[i], "step has no id");
            return NULL;
        }
        ids[i] = (id_ref){rows->steps[i].id, i};
    }
    qsort(ids, rows->count, sizeof *ids, by_id);
    for (size_t i = 1; i < rows->count; i++)
        if (!strcmp(ids[i - 1].id, ids[i].id)) {
            fail(b, &rows->steps[ids[i].row], "two steps share this id");
            free(ids);
            return NULL;
        }
    return ids;
}

/* Each row's parent as a row index (`count` for the top level), or -1. */
static int find_parents(build_ctx *b, const id_ref *ids, size_t *parent)
{
    const recipe_rows *rows = b->rows;
    for (size_t i = 0; i < rows->count; i++) {
        const ald_recipe_step *row = &rows->steps[i];
        parent[i] = rows->count;
        if (!row->parent_step_id)
            continue;
        id_ref key = {row->parent_step_id, 0};
        size_t lo = 0, hi = rows->count; /* first id >= key */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(ids[mid].id, key.id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == rows->count || strcmp(ids[lo].id, key.id) != 0)
            return fail(b, row, "parent step %s does not exist in this recipe",
                        row->parent_step_id);
        parent[i] = ids[lo].row;
    }
    return 0;
}

/* qsort_r comparator (glibc): row indices by sequence number. */
static int by_sequence(const void *a, const void *b, void *ctx)
{
    const recipe_rows *rows = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = rows->steps[i].sequence_number, y = rows->steps[j].sequence_number;
    if (x != y)
        return (x > y) - (x < y);
    return (i > j) - (i < j); /* equal numbers keep the rows' order */
}

/* Children grouped by parent (counting sort), each group in sequence order. */
static int group_children(build_ctx *b, const size_t *parent)
{
    size_t n = b->rows->count;
    b->first = calloc(n + 2, sizeof *b->first);
    b->members = malloc((n ? n : 1) * sizeof *b->members);
    size_t *fill = calloc(n + 1, sizeof *fill);
    if (!b->first || !b->members || !fill) {
        free(fill);
        return fail(b, NULL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        b->first[parent[i] + 1]++;
    for (size_t g = 0; g <= n; g++)
        b->first[g + 1] += b->first[g];
    for (size_t i = 0; i < n; i++)
        b->members[b->first[parent[i]] + fill[parent[i]]++] = i;
    free(fill);
    for (size_t g = 0; g <= n; g++)
        if (b->first[g + 1] - b->first[g] > 1)
            qsort_r(b->members + b->first[g], b->first[g + 1] - b->first[g], sizeof(size_t),
                    by_sequence, (void *)b->rows);
    return 0;
}

/* Every row hangs below the top level. One that does not is in, or below, a
 * parent cycle: name a step of the cycle itself (n hops up from any such row
 * always land in it), never leave the rows out silently. */
static int check_reachable(build_ctx *b, const size_t *parent)
{
    size_t n = b->rows->count, head = 0, tail = 0;
    size_t *queue = malloc((n + 1) * sizeof *queue);
    unsigned char *seen = calloc(n ? n : 1, 1);
    int rc = 0;
    if (!queue || !seen)
        rc = fail(b, NULL, "out of memory");
    if (rc == 0)
        queue[tail++] = n;
    while (rc == 0 && head < tail) {
        size_t g = queue[head++];
        for (size_t k = b->first[g]; k < b->first[g + 1]; k++)
            if (!seen[b->members[k]]) {
                seen[b->members[k]] = 1;
                queue[tail++] = b->members[k];
            }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!seen[i]) {
            size_t in_cycle = i;
            for (size_t hops = 0; hops < n; hops++)
                in_cycle = parent[in_cycle];
            rc = fail(b, &b->rows->steps[in_cycle], "its parent links form a cycle, so it "
                      "and the steps below it are not reachable from the recipe's top level");
        }
    free(queue);
    free(seen);
    return rc;
}

/* Ids unique, every parent present, no cycles; leaves b->first/members set. */
static int index_rows(build_ctx *b)
{
    id_ref *ids = sorted_ids(b);
    if (!ids)
        return -1;
    size_t *parent = malloc(b->rows->count * sizeof *parent);
    int rc = parent ? find_parents(b, ids, parent) : fail(b, NULL, "out of memory");
    free(ids);
    if (rc == 0)
        rc = group_children(b, parent);
    if (rc == 0)
        rc = check_reachable(b, parent);
    free(parent);
    return rc;
}

static int build_level(build_ctx *b, size_t group, int depth, recipe_step **out,
                       size_t *out_count);

static int64_t sat_mul(int64_t a, int64_t b)
{
    return (a != 0 && b > RECIPE_MAX_TOTAL_STEPS / a) ? RECIPE_MAX_TOTAL_STEPS + 1 : a * b;
}

static int build_children(build_ctx *b, size_t index, recipe_step *s, int depth)
{
    const ald_recipe_step *row = &b->rows->steps[index];
    if (build_level(b, index, depth + 1, &s->children, &s->child_count) != 0)
        return -1;
    if (s->kind != STEP_LOOP) {
        s->leaf_count = 1;
        return s->child_count ? fail(b, row, "a %s step cannot have child steps",
                                     recipe_step_kind_name(s->kind))
                              : 0;
    }
    if (s->child_count == 0)
        return fail(b, row, "loop has no steps inside it");
    int64_t body = 0;
    for (size_t i = 0; i < s->child_count; i++)
        body += s->children[i].leaf_count;
    s->leaf_count = sat_mul(body, s->iterations);
    if (s->leaf_count > RECIPE_MAX_TOTAL_STEPS)
        return fail(b, row, "loop would execute more than %d steps", RECIPE_MAX_TOTAL_STEPS);
    return 0;
}

static int build_level(build_ctx *b, size_t group, int depth, recipe_step **out,
                       size_t *out_count)
{
    const size_t *level = b->members + b->first[group];
    size_t n = b->first[group + 1] - b->first[group];
    *out = calloc(n ? n : 1, sizeof **out);
    *out_count = n;
    int rc = *out ? 0 : fail(b, NULL, "out of memory");
    if (rc == 0 && n && depth > RECIPE_MAX_DEPTH)
        rc = fail(b, &b->rows->steps[level[0]], "loops nested deeper than %d levels",
                  RECIPE_MAX_DEPTH);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = build_one(b, &b->rows->steps[level[i]], &(*out)[i]);
        if (rc == 0)
            rc = build_children(b, level[i], &(*out)[i], depth);
    }
    return rc;
}

static double nominal_ms(const recipe_step *steps, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const recipe_step *s = &steps[i];
        if (s->kind == STEP_LOOP)
            total += (double)s->iterations * nominal_ms(s->children, s->child_count);
        else if (s->kind != STEP_WAIT)
            total += (double)s->duration_ms;
    }
    return total;
}

static void copy_info(recipe *r, const recipe_rows *rows)
{
    r->id = dup_or_null(rows->info.id);
    r->name = dup_or_null(rows->info.name ? rows->info.name : "");
    r->description = dup_or_null(rows->info.description);
    r->version = rows->info.version;
    r->chamber_temperature_set_point = rows->info.chamber_temperature_set_point;
    r->pressure_set_point = rows->info.pressure_set_point;
    r->parameter_count = rows->param_count;
    r->parameter_names = calloc(rows->param_count + 1, sizeof(char *));
    r->parameter_values = calloc(rows->param_count + 1, sizeof(char *));
    for (size_t i = 0; r->parameter_names && r->parameter_values && i < rows->param_count; i++) {
        r->parameter_names[i] = strdup(rows->param_names[i]);
        r->parameter_values[i] = strdup(rows->param_values[i]);
    }
}

int recipe_build(recipe *r, const recipe_rows *rows, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    build_ctx b = {rows, err, errlen, NULL, NULL};
    if (rows->oom)
        return fail(&b, NULL, "out of memory while reading the recipe");
    if (!rows->have_info)
        return fail(&b, NULL, "recipe not found");
    copy_info(r, rows);
    if (rows->count == 0) {
        fail(&b, NULL, "recipe '%s' has no steps", r->name);
        recipe_free(r);
        return -1;
    }
    int rc = index_rows(&b);
    if (rc == 0)
        rc = build_level(&b, rows->count, 1, &r->steps, &r->step_count);
    free(b.first);
    free(b.members);
    if (rc != 0) {
        recipe_free(r);
        return -1;
    }
    int64_t total = 0, cycles = 0;
    for (size_t i = 0; i < r->step_count; i++) {
        total += r->steps[i].leaf_count;
        if (r->steps[i].kind == STEP_LOOP)
            cycles += r->steps[i].iterations;
    }
    if (total > RECIPE_MAX_TOTAL_STEPS) {
        fail(&b, NULL, "recipe would execute more than %d steps", RECIPE_MAX_TOTAL_STEPS);
        recipe_free(r);
        return -1;
    }
    r->total_steps = total;
    r->total_cycles = cycles;
    r->nominal_ms = nominal_ms(r->steps, r->step_count);
    return 0;
}

static void free_steps(recipe_step *steps, size_t n)
{
    for (size_t i = 0; steps && i < n; i++) {
        free(steps[i].id);
        free(steps[i].name);
        free(steps[i].gas_type);
        free(steps[i].parameter_id);
        free_steps(steps[i].children, steps[i].child_count);
    }
    free(steps);
}

void recipe_free(recipe *r)
{
    free_steps(r->steps, r->step_count);
    for (size_t i = 0; i < r->parameter_count; i++) {
        if (r->parameter_names)
            free(r->parameter_names[i]);
        if (r->parameter_values)
            free(r->parameter_values[i]);
    }
    free(r->parameter_names);
    free(r->parameter_values);
    free(r->id);
    free(r->name);
    free(r->description);
    memset(r, 0, sizeof *r);
}

int recipe_condition_holds(wait_op op, double v, double target)
{
    switch (op) {
    case WAIT_GE:
        return v >= target;
    case WAIT_LE:
        return v <= target;
    case WAIT_GT:
        return v > target;
    case WAIT_LT:
        return v < target;
    default:
        return fabs(v - target) <= fmax(fabs(target) * 1e-6, 1e-9);
    }
}
