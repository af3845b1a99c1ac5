/* tagmap.c - parameter rows -> PLC tags (see tagmap.h). */
#include "tagmap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void tagmap_init(tagmap *m)
{
    memset(m, 0, sizeof *m);
}

static void free_tag_strings(ald_tag *t)
{
    free((char *)t->name);
    free((char *)t->read_address);
    free((char *)t->write_address);
}

void tagmap_free(tagmap *m)
{
    for (size_t i = 0; i < m->param_count; i++) {
        free(m->params[i].id);
        free(m->params[i].component_name);
        free(m->params[i].name);
    }
    for (size_t i = 0; i < m->tag_count; i++)
        free_tag_strings(&m->tags[i]);
    free(m->params);
    free(m->tags);
    free(m->tag_ptrs);
    free(m->tag_param);
    tagmap_init(m);
}

int tagmap_is_area_word(const char *word)
{
    static const char *const words[] = {"holding_register", "input_register", "coil",
                                        "discrete_input"};
    for (size_t i = 0; word && i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(word, words[i]))
            return 1;
    return 0;
}

ald_data_type tagmap_data_type(const char *data_type, const char *modbus_type)
{
    if (modbus_type && (!strcasecmp(modbus_type, "coil") ||
                        !strcasecmp(modbus_type, "discrete_input")))
        return ALD_TYPE_BOOL;
    if (!data_type)
        return ALD_TYPE_F32;
    if (!strcasecmp(data_type, "int32"))
        return ALD_TYPE_I32;
    if (!strcasecmp(data_type, "int16"))
        return ALD_TYPE_I16;
    if (!strcasecmp(data_type, "binary"))
        return ALD_TYPE_BOOL;
    return ALD_TYPE_F32; /* "float" and anything unknown: the old system's default */
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The row's own words, "holding_register:100", or NULL when the row has no
 * usable address of that kind. The PLC plugin parses them (for Modbus, its
 * codec); the engine formats no protocol's address syntax. The bound is the
 * schema's (SCHEMA.md: *_modbus_address columns hold 0-based 16-bit
 * addresses): a row outside it is skipped and counted, as any unusable row
 * is, rather than handed on to stop the whole tag set. */
static char *row_address(const char *area_word, int64_t address)
{
    if (!tagmap_is_area_word(area_word) || address < 0 || address > 65535)
        return NULL;
    char buf[64];
    snprintf(buf, sizeof buf, "%s:%lld", area_word, (long long)address);
    return strdup(buf);
}

static int grow(void **array, size_t *capacity, size_t needed, size_t elem)
{
    if (needed <= *capacity)
        return 0;
    size_t cap = *capacity ? *capacity * 2 : 32;
    while (cap < needed)
        cap *= 2;
    void *p = realloc(*array, cap * elem);
    if (!p)
        return -1;
    *array = p;
    *capacity = cap;
    return 0;
}

static size_t add_tag(tagmap *m, size_t param, const char *name, char *read_addr,
                      char *write_addr, ald_data_type type)
{
    size_t cap = m->capacity_tags;
    if (grow((void **)&m->tags, &cap, m->tag_count + 1, sizeof *m->tags) != 0 ||
        grow((void **)&m->tag_param, &m->capacity_tags, m->tag_count + 1,
             sizeof *m->tag_param) != 0) {
        free(read_addr);
        free(write_addr);
        return SIZE_MAX;
    }
    size_t i = m->tag_count++;
    m->tags[i] = (ald_tag){.struct_size = sizeof(ald_tag),
                           .name = strdup(name),
                           .read_address = read_addr,
                           .write_address = write_addr,
                           .type = type,
                           .byte_order = ALD_ORDER_DEFAULT,
                           .scale = 1.0};
    m->tag_param[i] = param;
    return i;
}

/* The schema's rule (SCHEMA.md): valve N is parameter valve_state of the
 * component named "Valve N"; recipes name valves by that number. */
static int valve_number_of(const ald_parameter *p)
{
    int n = 0;
    if (p->component_name && p->name && !strcasecmp(p->name, "valve_state") &&
        sscanf(p->component_name, "Valve %d", &n) == 1 && n > 0)
        return n;
    return 0;
}

/* Does the setpoint live at an address other than the reading? */
static int has_separate_setpoint(const ald_parameter *p)
{
    if (!p->is_writable || !p->write_type || p->write_address < 0)
        return 0;
    if (strcasecmp(p->write_type, "holding_register") != 0)
        return 0; /* coils: the state is the value itself */
    return !p->read_type || strcasecmp(p->read_type, p->write_type) != 0 ||
           p->read_address != p->write_address;
}

static void add_param_tags(tagmap *m, size_t pi, const ald_parameter *p)
{
    tag_param *tp = &m->params[pi];
    char *read_addr = row_address(p->read_type, p->read_address);
    char *write_addr = p->is_writable ? row_address(p->write_type, p->write_address) : NULL;
    ald_data_type type = tagmap_data_type(p->data_type, read_addr ? p->read_type : p->write_type);
    if (!read_addr && !write_addr) {
        m->skipped++;
        return;
    }
    int separate_sp = has_separate_setpoint(p);
    char *sp_write = separate_sp ? dup_or_null(write_addr) : NULL;
    size_t t = add_tag(m, pi, p->id, read_addr, separate_sp ? NULL : write_addr, type);
    if (read_addr)
        tp->value_tag = t;
    if (!separate_sp) {
        tp->write_tag = write_addr ? t : SIZE_MAX;
        return;
    }
    char sp_name[300];
    snprintf(sp_name, sizeof sp_name, "%s#setpoint", p->id);
    size_t s = add_tag(m, pi, sp_name, strdup(sp_write), sp_write,
                       tagmap_data_type(p->data_type, p->write_type));
    free(write_addr);
    tp->setpoint_tag = s;
    tp->write_tag = s;
}

void tagmap_add_parameter(void *ctx, const ald_parameter *p)
{
    tagmap *m = ctx;
    if (!p->id) {
        if (!m->error[0])
            snprintf(m->error, sizeof m->error, "a parameter row has no id");
        return;
    }
    if (grow((void **)&m->params, &m->capacity_params, m->param_count + 1,
             sizeof *m->params) != 0)
        return;
    size_t pi = m->param_count++;
    m->params[pi] = (tag_param){.id = strdup(p->id),
                                .component_name = dup_or_null(p->component_name),
                                .name = dup_or_null(p->name),
                                .writable = p->is_writable,
                                .min_value = p->min_value,
                                .max_value = p->max_value,
                                .valve_number = valve_number_of(p),
                                .value_tag = SIZE_MAX,
                                .setpoint_tag = SIZE_MAX,
                                .write_tag = SIZE_MAX};
    add_param_tags(m, pi, p);
}

int tagmap_finish(tagmap *m)
{
    free(m->tag_ptrs);
    m->tag_ptrs = malloc((m->tag_count ? m->tag_count : 1) * sizeof *m->tag_ptrs);
    if (!m->tag_ptrs)
        return -1;
    for (size_t i = 0; i < m->tag_count; i++)
        m->tag_ptrs[i] = &m->tags[i];
    return 0;
}

const tag_param *tagmap_valve(const tagmap *m, int valve_number)
{
    for (size_t i = 0; i < m->param_count; i++)
        if (m->params[i].valve_number == valve_number)
            return &m->params[i];
    return NULL;
}

const tag_param *tagmap_find(const tagmap *m, const char *id)
{
    for (size_t i = 0; id && i < m->param_count; i++)
        if (!strcmp(m->params[i].id, id))
            return &m->params[i];
    return NULL;
}
