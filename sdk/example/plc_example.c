/*
 * plc_example.c - the smallest useful PLC plugin, for plugin authors.
 *
 * Tags are signal generators instead of PLC registers:
 *     "const:2.5"   always 2.5
 *     "ramp:10"     counts up by 1 per read, wrapping at 10
 * Writes go to a per-tag "override" value that reads return from then on.
 *
 * Build it against the installed SDK alone:
 *     cc -std=c11 -shared -fPIC -fvisibility=hidden $(pkg-config --cflags ald-sdk) \
 *        -o plc-example.so plc_example.c
 * and declare it in conf.d:  plugins = ( { name = "gen"; plugin = "/path/plc-example.so";
 *                                          role = "plc"; plc_type = "simulation"; } );
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ald/plugin.h>

typedef enum { GEN_CONST, GEN_RAMP } generator;

typedef struct example_tag {
    generator kind;
    double param;     /* the constant, or the ramp's wrap value */
    double override;  /* NaN = none */
    unsigned counter; /* ramp position */
} example_tag;

typedef struct example {
    const ald_host *host; /* valid until destroy() */
    example_tag *tags;
    size_t count;
    char last_error[256];
} example;

static ald_status ex_create(const ald_host *host, const ald_config *cfg, void **instance,
                            char *err, size_t errlen)
{
    example *ex = calloc(1, sizeof *ex);
    if (!ex) {
        snprintf(err, errlen, "out of memory");
        return ALD_ERR_NOMEM;
    }
    ex->host = host;
    *instance = ex;
    return ALD_OK;
}

static void ex_destroy(void *instance)
{
    example *ex = instance;
    free(ex->tags);
    free(ex);
}

static const char *ex_last_error(void *instance)
{
    return ((example *)instance)->last_error;
}

static int parse_generator(const char *address, example_tag *out)
{
    char *end;
    if (!address)
        return -1;
    if (!strncmp(address, "const:", 6))
        out->kind = GEN_CONST, out->param = strtod(address + 6, &end);
    else if (!strncmp(address, "ramp:", 5))
        out->kind = GEN_RAMP, out->param = strtod(address + 5, &end);
    else
        return -1;
    return *end == '\0' ? 0 : -1;
}

static ald_status ex_set_tags(void *instance, const ald_tag *const *tags, size_t count)
{
    example *ex = instance;
    example_tag *parsed = calloc(count ? count : 1, sizeof *parsed);
    if (!parsed)
        return ALD_ERR_NOMEM;
    for (size_t i = 0; i < count; i++) {
        parsed[i].override = NAN;
        if (parse_generator(tags[i]->read_address, &parsed[i]) != 0) {
            snprintf(ex->last_error, sizeof ex->last_error,
                     "tag %s: address '%s' is not const:<value> or ramp:<wrap>",
                     tags[i]->name, tags[i]->read_address ? tags[i]->read_address : "");
            free(parsed);
            return ALD_ERR_INVALID;
        }
    }
    free(ex->tags);
    ex->tags = parsed;
    ex->count = count;
    return ALD_OK;
}

static double next_value(example_tag *t)
{
    if (!isnan(t->override))
        return t->override;
    if (t->kind == GEN_CONST)
        return t->param;
    double v = t->counter++;
    if (t->counter >= t->param)
        t->counter = 0;
    return v;
}

static ald_status ex_read_all(void *instance, ald_tag_value *out, size_t count)
{
    example *ex = instance;
    for (size_t i = 0; i < count && i < ex->count; i++)
        out[i] = (ald_tag_value){next_value(&ex->tags[i]), ALD_OK};
    return ALD_OK;
}

static ald_status ex_read_tags(void *instance, const size_t *indexes, size_t n,
                               ald_tag_value *out)
{
    example *ex = instance;
    for (size_t i = 0; i < n; i++) {
        if (indexes[i] >= ex->count)
            return ALD_ERR_INVALID;
        out[i] = (ald_tag_value){next_value(&ex->tags[indexes[i]]), ALD_OK};
    }
    return ALD_OK;
}

static ald_status ex_write_tag(void *instance, size_t index, double value)
{
    example *ex = instance;
    if (index >= ex->count)
        return ALD_ERR_INVALID;
    ex->tags[index].override = value;
    return ALD_OK;
}

static int ex_is_connected(void *instance)
{
    return 1;
}

static const ald_plc_vtable example_vtable = {
    .struct_size = sizeof(ald_plc_vtable),
    .create = ex_create,
    .destroy = ex_destroy,
    .last_error = ex_last_error,
    .set_tags = ex_set_tags,
    .read_all = ex_read_all,
    .read_tags = ex_read_tags,
    .write_tag = ex_write_tag,
    .is_connected = ex_is_connected,
};

static const ald_plugin_descriptor example_descriptor = {
    ALD_DESCRIPTOR_HEADER_INIT,
    .name = "plc-example",
    .version = "1.0.0",
    .kind = ALD_PLUGIN_PLC,
    .capabilities = 0,
    .vtable = &example_vtable,
};

ALD_PLUGIN_ENTRY
{
    return &example_descriptor;
}
