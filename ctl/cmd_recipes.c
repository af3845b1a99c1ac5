/*
 * cmd_recipes.c - the recipe commands: recipes, show, import, export,
 * validate. Documents are parsed and written by recipe_json.c; every value
 * rule is recipe_build()'s.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "recipe_json.h"
#include "render.h"

#define MAX_DOCUMENT (16u << 20) /* 16 MiB: far beyond any real recipe */

/* Reads a whole file ("-" = stdin). malloc'd, NUL-terminated; NULL + err. */
static char *read_document(const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    while (text) {
        len += fread(text + len, 1, cap - 1 - len, f);
        if (len < cap - 1 || cap > MAX_DOCUMENT)
            break;
        char *bigger = realloc(text, cap * 2);
        if (!bigger) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!text || failed || cap > MAX_DOCUMENT) {
        snprintf(err, errlen, "cannot read %s: %s", path,
                 !text    ? "out of memory"
                 : failed ? "read error"
                          : "larger than 16 MiB");
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

/* ---- recipes -------------------------------------------------------------------------- */

typedef struct info_list {
    char (*ids)[CTL_ID_LEN];
    size_t count, cap;
} info_list;

static void on_info(void *ctx, const ald_recipe_info *r)
{
    info_list *l = ctx;
    if (!r->id)
        return;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char(*ids)[CTL_ID_LEN] = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return;
        l->ids = ids;
        l->cap = cap;
    }
    snprintf(l->ids[l->count++], CTL_ID_LEN, "%s", r->id);
}

static void print_recipe_row(ctl *c, const char *id, json_t *arr)
{
    recipe r;
    char err[CTL_ERR_LEN], dur[32];
    int ok = ctl_load_recipe(c, id, &r, err, sizeof err) == 0;
    if (arr) {
        json_t *o = ok ? json_pack("{s:s, s:s, s:I, s:I, s:f, s:b}", "id", id, "name", r.name,
                                   "version", (json_int_t)r.version, "steps",
                                   (json_int_t)r.total_steps, "nominal_duration_ms",
                                   r.nominal_ms, "valid", 1)
                       : json_pack("{s:s, s:b, s:s}", "id", id, "valid", 0, "error", err);
        json_array_append_new(arr, o);
    } else if (ok) {
        printf("%-36s  %-28s %7lld %9lld  %s\n", id, r.name, (long long)r.version,
               (long long)r.total_steps, render_duration(r.nominal_ms, dur, sizeof dur));
    } else {
        printf("%-36s  (invalid: %s)\n", id, err);
    }
    if (ok)
        recipe_free(&r);
}

int cmd_recipes(ctl *c, int argc, char **argv)
{
    char err[CTL_ERR_LEN];
    int rc = ctl_parse_simple(c, "recipes", argc, argv, 0, NULL);
    if (rc != 0)
        return rc;
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    info_list l = {0};
    port_error why;
    ald_status st = storage_port_list_recipes(&c->store, on_info, &l, &why);
    if (ctl_store_result(c, st, &why, "list recipes", "listing recipes", err, sizeof err)) {
        free(l.ids);
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    }
    json_t *arr = c->json ? json_array() : NULL;
    if (!arr)
        printf("%-36s  %-28s %7s %9s  %s\n", "ID", "NAME", "VERSION", "STEPS", "DURATION");
    for (size_t i = 0; i < l.count; i++)
        print_recipe_row(c, l.ids[i], arr);
    if (arr)
        render_json(arr);
    free(l.ids);
    return CTL_EXIT_OK;
}

/* ---- show --------------------------------------------------------------------------------
 */

static void print_number_setting(const char *label, double v, const char *unit)
{
    if (!isnan(v))
        printf("  %-28s %g %s\n", label, v, unit);
}

static void show_text(const recipe *r)
{
    char dur[32];
    printf("%s  (id %s, version %lld)\n", r->name, r->id, (long long)r->version);
    if (r->description && *r->description)
        printf("  %s\n", r->description);
    print_number_setting("chamber temperature", r->chamber_temperature_set_point, "degC");
    print_number_setting("pressure", r->pressure_set_point, "Torr");
    for (size_t i = 0; i < r->parameter_count; i++)
        printf("  %-28s %s\n", r->parameter_names[i], r->parameter_values[i]);
    printf("  %lld steps executed, %lld cycles, nominal %s\n", (long long)r->total_steps,
           (long long)r->total_cycles, render_duration(r->nominal_ms, dur, sizeof dur));
    render_tree(stdout, r->steps, r->step_count, "", 2);
}

/* Resolve RECIPE and load it (the common start of show/export). */
static int open_recipe(ctl *c, const char *text, recipe *r)
{
    char err[CTL_ERR_LEN], id[CTL_ID_LEN];
    if (ctl_open_store(c, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (ctl_resolve_recipe(c, text, id, sizeof id, err, sizeof err) != 0 ||
        ctl_load_recipe(c, id, r, err, sizeof err) != 0)
        return ctl_fail(CTL_EXIT_FAILED, "%s", err);
    return 0;
}

int cmd_show(ctl *c, int argc, char **argv)
{
    const char *name;
    recipe r;
    int rc = ctl_parse_simple(c, "show", argc, argv, 1, &name);
    if (rc != 0 || (rc = open_recipe(c, name, &r)) != 0)
        return rc;
    if (c->json) {
        char *text = recipe_snapshot_json(&r);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        show_text(&r);
    }
    recipe_free(&r);
    return CTL_EXIT_OK;
}

/* ---- export -----------------------------------------------------------------------------
 */

int cmd_export(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_LONGOPTS, {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
    const char *output = NULL;
    int o, rc;
    optind = 0;
    while ((o = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (o == 'o')
            output = optarg;
        else if ((rc = ctl_common_option(c, "export", o, optarg)) != 0)
            return rc;
    }
    if (argc - optind != 1)
        return ctl_usage_error("export", "expected one RECIPE (an id or exact name)");
    recipe r;
    if ((rc = open_recipe(c, argv[optind], &r)) != 0)
        return rc;
    char *text = recipe_json_export(&r);
    recipe_free(&r);
    if (!text)
        return ctl_fail(CTL_EXIT_FAILED, "out of memory writing the document");
    FILE *f = output ? fopen(output, "w") : stdout;
    int ok = f && fputs(text, f) >= 0;
    if (f && f != stdout)
        ok = (fclose(f) == 0) && ok;
    free(text);
    if (!ok)
        return ctl_fail(CTL_EXIT_FAILED, "cannot write %s: %s", output ? output : "stdout",
                        strerror(errno));
    return CTL_EXIT_OK;
}

/* ---- validate / import --------------------------------------------------------------------
 */

/* Parse a file into rows (the caller frees them). 0 or an exit code. */
static int parse_file(const char *path, recipe_rows *rows)
{
    char err[CTL_ERR_LEN];
    recipe_rows_init(rows);
    char *text = read_document(path, err, sizeof err);
    if (!text)
        return ctl_fail(CTL_EXIT_FAILED, "%s", err);
    int rc = recipe_json_parse(text, rows, err, sizeof err);
    free(text);
    if (rc != 0)
        return ctl_fail(CTL_EXIT_FAILED, "%s: %s", path, err);
    return 0;
}

static void print_summary(const char *verb, const recipe *r, const char *path)
{
    char dur[32];
    printf("%s: %s: '%s', %lld steps executed, %lld cycles, nominal %s\n", path, verb,
           r->name, (long long)r->total_steps, (long long)r->total_cycles,
           render_duration(r->nominal_ms, dur, sizeof dur));
}

int cmd_validate(ctl *c, int argc, char **argv)
{
    const char *path;
    recipe_rows rows;
    recipe r;
    char err[CTL_ERR_LEN];
    int rc = ctl_parse_simple(c, "validate", argc, argv, 1, &path);
    if (rc != 0)
        return rc;
    if ((rc = parse_file(path, &rows)) != 0) {
        recipe_rows_free(&rows);
        return rc;
    }
    rc = recipe_build(&r, &rows, err, sizeof err); /* parse already proved it builds */
    recipe_rows_free(&rows);
    if (rc != 0)
        return ctl_fail(CTL_EXIT_FAILED, "%s: %s", path, err);
    if (c->json)
        render_json(json_pack("{s:b, s:s, s:I, s:I, s:f}", "valid", 1, "name", r.name,
                              "steps", (json_int_t)r.total_steps, "cycles",
                              (json_int_t)r.total_cycles, "nominal_duration_ms",
                              r.nominal_ms));
    else
        print_summary("valid", &r, path);
    recipe_free(&r);
    return CTL_EXIT_OK;
}

static int save_rows(ctl *c, const recipe_rows *rows, char *err, size_t errlen)
{
    const ald_recipe_step **steps = calloc(rows->count + 1, sizeof *steps);
    if (!steps) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < rows->count; i++)
        steps[i] = &rows->steps[i];
    port_error why;
    ald_status st = storage_port_save_recipe(
        &c->store, &rows->info, steps, rows->count, (const char *const *)rows->param_names,
        (const char *const *)rows->param_values, rows->param_count, &why);
    free(steps);
    return ctl_store_result(c, st, &why, "import recipes (no save_recipe)",
                            "saving the recipe", err, errlen);
}

int cmd_import(ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_LONGOPTS, {"id", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0}};
    const char *id = NULL;
    int o, rc;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'i')
            id = optarg;
        else if ((rc = ctl_common_option(c, "import", o, optarg)) != 0)
            return rc;
    }
    if (argc - optind != 1)
        return ctl_usage_error("import", "expected one FILE (a recipe document, - = stdin)");
    const char *path = argv[optind];
    char err[CTL_ERR_LEN];
    recipe_rows rows;
    if ((rc = parse_file(path, &rows)) == 0 && id && recipe_json_set_id(&rows, id) != 0)
        rc = ctl_fail(CTL_EXIT_FAILED, "out of memory");
    if (rc == 0 && ctl_open_store(c, err, sizeof err) != 0)
        rc = ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (rc == 0 && save_rows(c, &rows, err, sizeof err) != 0)
        rc = ctl_fail(CTL_EXIT_STORE, "%s", err);
    if (rc == 0 && c->json)
        render_json(json_pack("{s:s, s:s}", "id", rows.info.id, "name", rows.info.name));
    else if (rc == 0)
        printf("%s\n", rows.info.id);
    recipe_rows_free(&rows);
    return rc;
}
