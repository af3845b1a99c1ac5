/* recipe_json.c - recipe document <-> recipe rows (see recipe_json.h). */
#include "recipe_json.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 256

/* Where a step came from, to turn recipe_build's "step 3 'x' (id ...)" into
 * the document path of that step. */
typedef struct step_place {
    char id[RECIPE_JSON_UUID_LEN];
    char path[PATH_LEN];
    char name[128];
} step_place;

typedef struct parse_ctx {
    recipe_rows *rows;
    ald_recipe_reader reader; /* recipe.c's copying callbacks */
    char recipe_id[RECIPE_JSON_UUID_LEN];
    char *err;
    size_t errlen;
    step_place *places;
    size_t place_count, place_cap;
} parse_ctx;

static const char STEP_TYPES[] = "valve, purge, loop, set parameter, wait";

/* ---- uuids ------------------------------------------------------------------- */

void recipe_json_uuid(char *buf)
{
    unsigned char b[16];
    /* getrandom(2) takes the 16 bytes it needs; a buffered fopen of
     * /dev/urandom read 4 KiB per id, most of a 100 000-step import's time. */
    ssize_t got = getrandom(b, sizeof b, GRND_NONBLOCK);
    if (got != (ssize_t)sizeof b) { /* no entropy yet (early boot): unique enough per run */
        static unsigned seed;
        if (!seed)
            seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)(rand_r(&seed) >> 7);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(buf, RECIPE_JSON_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* ---- errors ----------------------------------------------------------------------- */

static int fail(parse_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parse_ctx *c, const char *path, const char *fmt, ...)
{
    int n = path && *path ? snprintf(c->err, c->errlen, "%s: ", path) : 0;
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A short rendering of a JSON value for "got ..." ("20" quoted, objects cut). */
static void describe(json_t *v, char *buf, size_t len)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text)
        snprintf(buf, len, "an unprintable value");
    else if (strlen(text) > 40)
        snprintf(buf, len, "%.37s...", text);
    else
        snprintf(buf, len, "%s", text);
    free(text);
}

static int fail_type(parse_ctx *c, const char *path, const char *expected, json_t *got)
{
    char seen[64];
    describe(got, seen, sizeof seen);
    return fail(c, path, "expected %s, got %s", expected, seen);
}

static void mark_cut(char *out, int written)
{
    if (written >= PATH_LEN) /* absurdly deep: say the path was cut */
        memcpy(out + PATH_LEN - 4, "...", 4);
}

static void join(char *out, const char *path, const char *key)
{
    mark_cut(out, snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key));
}

/* ---- typed fields: 1 = present, 0 = absent (or null where allowed), -1 = error ---- */

static int get_text(parse_ctx *c, json_t *obj, const char *path, const char *key,
                    const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    char where[PATH_LEN];
    join(where, path, key);
    if (!json_is_string(v))
        return fail_type(c, where, "text", v);
    *out = json_string_value(v);
    return 1;
}

/* A whole number >= min; `what` names the unit for the message. */
static int get_whole(parse_ctx *c, json_t *obj, const char *path, const char *key,
                     const char *what, int64_t min, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char where[PATH_LEN], expected[96];
    join(where, path, key);
    snprintf(expected, sizeof expected, "%s", what);
    double d = json_is_real(v) ? json_real_value(v) : 0;
    if (json_is_integer(v))
        *out = json_integer_value(v);
    else if (json_is_real(v) && d == floor(d) && fabs(d) < 9e15)
        *out = (int64_t)d;
    else
        return fail_type(c, where, expected, v);
    if (*out < min) {
        snprintf(expected, sizeof expected, "%s (%lld or more)", what, (long long)min);
        return fail_type(c, where, expected, v);
    }
    return 1;
}

static int get_number(parse_ctx *c, json_t *obj, const char *path, const char *key,
                      double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    char where[PATH_LEN];
    join(where, path, key);
    if (!json_is_number(v))
        return fail_type(c, where, "a number", v);
    *out = json_number_value(v);
    return 1;
}

/* A required field that get_* reported absent (0): name it and the step kind. */
static int need(parse_ctx *c, int got, const char *path, const char *key, const char *kind)
{
    if (got > 0)
        return 0;
    if (got < 0)
        return -1;
    return fail(c, path, "missing \"%s\" (required in a %s step)", key, kind);
}

static int check_keys(parse_ctx *c, json_t *obj, const char *path, const char *const *allowed,
                      const char *what)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i])
            continue;
        char list[256] = "", where[PATH_LEN];
        for (i = 0; allowed[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     allowed[i]);
        join(where, path, key);
        return fail(c, where, "unknown key (%s takes: %s)", what, list);
    }
    return 0;
}

/* ---- steps ----------------------------------------------------------------------------- */

static const char *const VALVE_KEYS[] = {"type", "name", "valve_number", "duration_ms", NULL};
static const char *const PURGE_KEYS[] = {"type",     "name",      "duration_ms",
                                         "gas_type", "flow_rate", NULL};
static const char *const SETPARAM_KEYS[] = {
    "type", "name", "parameter_id", "target_value", "hold_duration_ms", NULL};
static const char *const LOOP_KEYS[] = {"type", "name", "iteration_count", "steps", NULL};
static const char *const WAIT_KEYS[] = {
    "type", "name", "parameter_id", "operator", "value", "timeout_ms", NULL};

static const char *const *keys_of(step_kind kind)
{
    switch (kind) {
    case STEP_VALVE:
        return VALVE_KEYS;
    case STEP_PURGE:
        return PURGE_KEYS;
    case STEP_SET_PARAMETER:
        return SETPARAM_KEYS;
    case STEP_LOOP:
        return LOOP_KEYS;
    default:
        return WAIT_KEYS;
    }
}

static const char MS[] = "a whole number of milliseconds";
static const char WHOLE[] = "a whole number";

static int fill_valve(parse_ctx *c, json_t *o, const char *path, ald_recipe_step *s)
{
    s->has_valve_config = 1;
    if (need(c, get_whole(c, o, path, "valve_number", WHOLE, 0, &s->valve_number), path,
             "valve_number", "valve") ||
        need(c, get_whole(c, o, path, "duration_ms", MS, 0, &s->valve_duration_ms), path,
             "duration_ms", "valve"))
        return -1;
    return 0;
}

static int fill_purge(parse_ctx *c, json_t *o, const char *path, ald_recipe_step *s)
{
    s->has_purge_config = 1;
    s->gas_type = "N2";
    s->flow_rate = NAN;
    if (need(c, get_whole(c, o, path, "duration_ms", MS, 0, &s->purge_duration_ms), path,
             "duration_ms", "purge") ||
        get_text(c, o, path, "gas_type", &s->gas_type) < 0 ||
        get_number(c, o, path, "flow_rate", &s->flow_rate) < 0)
        return -1;
    return 0;
}

static int fill_set_parameter(parse_ctx *c, json_t *o, const char *path, ald_recipe_step *s)
{
    s->has_parameter_config = 1;
    s->target_value = NAN;
    s->hold_duration_ms = 0;
    if (need(c, get_text(c, o, path, "parameter_id", &s->parameter_id), path, "parameter_id",
             "set parameter") ||
        need(c, get_number(c, o, path, "target_value", &s->target_value), path,
             "target_value", "set parameter") ||
        get_whole(c, o, path, "hold_duration_ms", MS, 0, &s->hold_duration_ms) < 0)
        return -1;
    return 0;
}

static int fill_loop(parse_ctx *c, json_t *o, const char *path, ald_recipe_step *s)
{
    s->has_loop_config = 1;
    if (need(c, get_whole(c, o, path, "iteration_count", WHOLE, 0, &s->iteration_count), path,
             "iteration_count", "loop"))
        return -1;
    if (!json_object_get(o, "steps"))
        return fail(c, path, "missing \"steps\" (required in a loop step)");
    return 0;
}

/* Wait settings travel as the step's inline parameters JSON (recipe.h). */
static int fill_wait(parse_ctx *c, json_t *o, const char *path, ald_recipe_step *s,
                     char **json_out)
{
    const char *pid = NULL, *op = ">=";
    double value = NAN;
    int64_t timeout = 0;
    if (need(c, get_text(c, o, path, "parameter_id", &pid), path, "parameter_id", "wait") ||
        get_text(c, o, path, "operator", &op) < 0 ||
        need(c, get_number(c, o, path, "value", &value), path, "value", "wait") ||
        need(c, get_whole(c, o, path, "timeout_ms", MS, 0, &timeout), path, "timeout_ms",
             "wait"))
        return -1;
    json_t *js = json_pack("{s:s, s:s, s:f, s:I}", "parameter_id", pid, "operator", op,
                           "value", value, "timeout_ms", (json_int_t)timeout);
    *json_out = js ? json_dumps(js, JSON_COMPACT) : NULL;
    json_decref(js);
    s->parameters_json = *json_out;
    return *json_out ? 0 : fail(c, path, "out of memory");
}

static int remember_place(parse_ctx *c, const char *id, const char *path, const char *name)
{
    if (c->place_count == c->place_cap) {
        size_t cap = c->place_cap ? c->place_cap * 2 : 16;
        step_place *p = realloc(c->places, cap * sizeof *p);
        if (!p)
            return fail(c, path, "out of memory");
        c->places = p;
        c->place_cap = cap;
    }
    step_place *p = &c->places[c->place_count++];
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->path, sizeof p->path, "%s", path);
    snprintf(p->name, sizeof p->name, "%s", name);
    return 0;
}

static int parse_steps(parse_ctx *c, json_t *arr, const char *path, const char *parent_id);

static int fill_kind(parse_ctx *c, step_kind kind, json_t *o, const char *path,
                     ald_recipe_step *s, char **wait_json)
{
    switch (kind) {
    case STEP_VALVE:
        return fill_valve(c, o, path, s);
    case STEP_PURGE:
        return fill_purge(c, o, path, s);
    case STEP_SET_PARAMETER:
        return fill_set_parameter(c, o, path, s);
    case STEP_LOOP:
        return fill_loop(c, o, path, s);
    default:
        return fill_wait(c, o, path, s, wait_json);
    }
}

static int parse_step(parse_ctx *c, json_t *o, const char *path, const char *parent_id,
                      int64_t seq)
{
    if (!json_is_object(o))
        return fail_type(c, path, "a step (an object with a \"type\")", o);
    const char *type = NULL, *name = NULL;
    char where[PATH_LEN];
    int got = get_text(c, o, path, "type", &type);
    if (got <= 0)
        return got < 0 ? -1 : fail(c, path, "missing \"type\" (%s)", STEP_TYPES);
    int kind = recipe_step_kind(type);
    if (kind < 0) {
        join(where, path, "type");
        return fail(c, where, "unknown step type \"%s\" (%s)", type, STEP_TYPES);
    }
    const char *kind_name = recipe_step_kind_name((step_kind)kind);
    char what[48], id[RECIPE_JSON_UUID_LEN];
    snprintf(what, sizeof what, "a %s step", kind_name);
    if (check_keys(c, o, path, keys_of((step_kind)kind), what) != 0 ||
        get_text(c, o, path, "name", &name) < 0)
        return -1;
    recipe_json_uuid(id);
    ald_recipe_step s = {.struct_size = sizeof s,
                         .id = id,
                         .recipe_id = c->recipe_id,
                         .parent_step_id = parent_id,
                         .sequence_number = seq,
                         .name = name ? name : kind_name,
                         .type = kind_name};
    char *wait_json = NULL;
    int rc = fill_kind(c, (step_kind)kind, o, path, &s, &wait_json);
    if (rc == 0)
        rc = remember_place(c, id, path, s.name);
    if (rc == 0)
        c->reader.step(c->reader.ctx, &s); /* deep copy */
    free(wait_json);
    if (rc == 0 && kind == STEP_LOOP) {
        join(where, path, "steps");
        rc = parse_steps(c, json_object_get(o, "steps"), where, id);
    }
    return rc;
}

static int parse_steps(parse_ctx *c, json_t *arr, const char *path, const char *parent_id)
{
    if (!json_is_array(arr))
        return fail_type(c, path, "a list of steps", arr);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        char where[PATH_LEN];
        mark_cut(where, snprintf(where, sizeof where, "%s[%zu]", path, i));
        if (parse_step(c, o, where, parent_id, (int64_t)i + 1) != 0)
            return -1;
    }
    return 0;
}

/* ---- the recipe ------------------------------------------------------------------------ */

static const char *const RECIPE_KEYS[] = {"name",
                                          "description",
                                          "version",
                                          "chamber_temperature_set_point",
                                          "pressure_set_point",
                                          "parameters",
                                          "steps",
                                          NULL};

static int parse_parameters(parse_ctx *c, json_t *params)
{
    if (!params || json_is_null(params))
        return 0;
    if (!json_is_object(params))
        return fail_type(c, "parameters", "an object of name: \"value\" pairs", params);
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        char where[PATH_LEN];
        join(where, "parameters", key);
        if (!json_is_string(v))
            return fail_type(c, where, "text (write numbers in quotes, e.g. \"10\")", v);
        c->reader.parameter(c->reader.ctx, key, json_string_value(v));
    }
    return 0;
}

static int parse_info(parse_ctx *c, json_t *root)
{
    if (!json_is_object(root))
        return fail_type(c, "(document)", "a recipe object", root);
    if (check_keys(c, root, "", RECIPE_KEYS, "a recipe") != 0)
        return -1;
    ald_recipe_info info = {.struct_size = sizeof info,
                            .id = c->recipe_id,
                            .version = 1,
                            .chamber_temperature_set_point = NAN,
                            .pressure_set_point = NAN};
    int got = get_text(c, root, "", "name", &info.name);
    if (got < 0)
        return -1;
    if (got == 0 || !*info.name)
        return fail(c, "name", "missing: every recipe needs a name (non-empty text)");
    if (get_text(c, root, "", "description", &info.description) < 0 ||
        get_whole(c, root, "", "version", WHOLE, 1, &info.version) < 0 ||
        get_number(c, root, "", "chamber_temperature_set_point",
                   &info.chamber_temperature_set_point) < 0 ||
        get_number(c, root, "", "pressure_set_point", &info.pressure_set_point) < 0)
        return -1;
    if (!json_object_get(root, "steps"))
        return fail(c, "steps", "missing: every recipe needs a list of steps");
    c->reader.recipe(c->reader.ctx, &info);
    return parse_parameters(c, json_object_get(root, "parameters"));
}

/* recipe_build names a step "step N 'name' (id X): why"; say where it is instead. */
static void point_at_step(parse_ctx *c, const char *msg)
{
    for (size_t i = 0; i < c->place_count; i++) {
        const char *at = strstr(msg, c->places[i].id);
        if (!at)
            continue;
        const char *why = strstr(at, "): ");
        snprintf(c->err, c->errlen, "%s \"%s\": %s", c->places[i].path, c->places[i].name,
                 why ? why + 3 : msg);
        return;
    }
    snprintf(c->err, c->errlen, "%s", msg);
}

static int validate(parse_ctx *c)
{
    if (c->rows->oom)
        return fail(c, NULL, "out of memory");
    recipe r;
    char why[600];
    if (recipe_build(&r, c->rows, why, sizeof why) != 0) {
        point_at_step(c, why);
        return -1;
    }
    recipe_free(&r);
    return 0;
}

int recipe_json_parse(const char *text, recipe_rows *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return -1;
    }
    parse_ctx c = {
        .rows = out, .reader = recipe_rows_reader(out), .err = err, .errlen = errlen};
    recipe_json_uuid(c.recipe_id);
    int rc = parse_info(&c, root);
    if (rc == 0)
        rc = parse_steps(&c, json_object_get(root, "steps"), "steps", NULL);
    if (rc == 0)
        rc = validate(&c);
    free(c.places);
    json_decref(root);
    return rc;
}

int recipe_json_set_id(recipe_rows *rows, const char *id)
{
    char *copy = strdup(id);
    if (!copy)
        return -1;
    free((char *)rows->info.id);
    rows->info.id = copy;
    for (size_t i = 0; i < rows->count; i++) {
        char *step_copy = strdup(id);
        if (!step_copy)
            return -1;
        free((char *)rows->steps[i].recipe_id);
        rows->steps[i].recipe_id = step_copy;
    }
    return 0;
}

/* ---- export ---------------------------------------------------------------------------- */

/* Whole values as integers, so 150 stays 150 (not 150.0) across a round trip. */
static json_t *number(double v)
{
    if (isnan(v))
        return json_null();
    if (v == floor(v) && fabs(v) < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static const char *wait_op_text(wait_op op)
{
    static const char *const ops[] = {">=", "<=", ">", "<", "=="};
    return (unsigned)op < 5 ? ops[op] : ">=";
}

static json_t *steps_doc(const recipe_step *steps, size_t n);

static void add_kind_fields(json_t *o, const recipe_step *s)
{
    switch (s->kind) {
    case STEP_VALVE:
        json_object_set_new(o, "valve_number", json_integer(s->valve_number));
        json_object_set_new(o, "duration_ms", json_integer(s->duration_ms));
        break;
    case STEP_PURGE:
        json_object_set_new(o, "duration_ms", json_integer(s->duration_ms));
        json_object_set_new(o, "gas_type", json_string(s->gas_type ? s->gas_type : "N2"));
        if (!isnan(s->flow_rate))
            json_object_set_new(o, "flow_rate", number(s->flow_rate));
        break;
    case STEP_SET_PARAMETER:
        json_object_set_new(o, "parameter_id", json_string(s->parameter_id));
        json_object_set_new(o, "target_value", number(s->target_value));
        json_object_set_new(o, "hold_duration_ms", json_integer(s->duration_ms));
        break;
    case STEP_LOOP:
        json_object_set_new(o, "iteration_count", json_integer(s->iterations));
        json_object_set_new(o, "steps", steps_doc(s->children, s->child_count));
        break;
    case STEP_WAIT:
        json_object_set_new(o, "parameter_id", json_string(s->parameter_id));
        json_object_set_new(o, "operator", json_string(wait_op_text(s->op)));
        json_object_set_new(o, "value", number(s->target_value));
        json_object_set_new(o, "timeout_ms", json_integer(s->duration_ms));
        break;
    }
}

static json_t *steps_doc(const recipe_step *steps, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(recipe_step_kind_name(steps[i].kind)));
        json_object_set_new(o, "name", json_string(steps[i].name ? steps[i].name : ""));
        add_kind_fields(o, &steps[i]);
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The recipe as a document of the import format (owned by the caller). */
static json_t *recipe_document(const recipe *r)
{
    json_t *params = json_object();
    for (size_t i = 0; params && i < r->parameter_count; i++)
        json_object_set_new(params, r->parameter_names[i],
                            json_string(r->parameter_values[i]));
    json_t *root = json_object();
    json_object_set_new(root, "name", json_string(r->name ? r->name : ""));
    json_object_set_new(root, "description",
                        r->description ? json_string(r->description) : json_null());
    json_object_set_new(root, "version", json_integer(r->version > 0 ? r->version : 1));
    json_object_set_new(root, "chamber_temperature_set_point",
                        number(r->chamber_temperature_set_point));
    json_object_set_new(root, "pressure_set_point", number(r->pressure_set_point));
    json_object_set_new(root, "parameters", params);
    json_object_set_new(root, "steps", steps_doc(r->steps, r->step_count));
    return root;
}

char *recipe_json_export(const recipe *r)
{
    json_t *root = recipe_document(r);
    char *body = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (!body)
        return NULL;
    size_t len = strlen(body);
    char *text = realloc(body, len + 2);
    if (!text) {
        free(body);
        return NULL;
    }
    memcpy(text + len, "\n", 2);
    return text;
}

char *recipe_snapshot_json(const recipe *r)
{
    json_t *root = recipe_document(r);
    if (!root)
        return NULL;
    json_object_set_new(root, "id", r->id ? json_string(r->id) : json_null());
    json_object_set_new(root, "total_steps", json_integer(r->total_steps));
    json_object_set_new(root, "total_cycles", json_integer(r->total_cycles));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}
