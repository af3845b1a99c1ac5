/*
 * config_access.c - typed reads of a plugin's settings (the ald_config the
 * host hands to plugins). An ald_config is a libconfig group setting; the
 * type never crosses the ABI, plugins only see the opaque pointer.
 *
 * A setting that came from the environment carries its origin ("environment
 * PLC_HOST") in the libconfig hook pointer, so errors about it name the
 * variable instead of a file:line that does not exist.
 */
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"

static const config_setting_t *setting_of(const ald_config *c)
{
    return (const config_setting_t *)c;
}

static config_setting_t *lookup(const ald_config *c, const char *path)
{
    if (!c)
        return NULL;
    if (!path || !*path)
        return (config_setting_t *)setting_of(c); /* the setting itself */
    return config_setting_lookup((config_setting_t *)setting_of(c), path);
}

ald_status config_get_string(const ald_config *c, const char *path, const char **out)
{
    config_setting_t *s = lookup(c, path);
    if (!s)
        return ALD_ERR_NOT_FOUND;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return ALD_ERR_INVALID;
    *out = config_setting_get_string(s);
    return ALD_OK;
}

ald_status config_get_int(const ald_config *c, const char *path, int64_t *out)
{
    config_setting_t *s = lookup(c, path);
    if (!s)
        return ALD_ERR_NOT_FOUND;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        *out = config_setting_get_int(s);
        return ALD_OK;
    case CONFIG_TYPE_INT64:
        *out = config_setting_get_int64(s);
        return ALD_OK;
    default:
        return ALD_ERR_INVALID;
    }
}

ald_status config_get_double(const ald_config *c, const char *path, double *out)
{
    config_setting_t *s = lookup(c, path);
    if (!s)
        return ALD_ERR_NOT_FOUND;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_FLOAT:
        *out = config_setting_get_float(s);
        return ALD_OK;
    case CONFIG_TYPE_INT:
        *out = config_setting_get_int(s);
        return ALD_OK;
    case CONFIG_TYPE_INT64:
        *out = (double)config_setting_get_int64(s);
        return ALD_OK;
    default:
        return ALD_ERR_INVALID;
    }
}

ald_status config_get_bool(const ald_config *c, const char *path, int *out)
{
    config_setting_t *s = lookup(c, path);
    if (!s)
        return ALD_ERR_NOT_FOUND;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return ALD_ERR_INVALID;
    *out = config_setting_get_bool(s);
    return ALD_OK;
}

unsigned config_get_count(const ald_config *c, const char *path)
{
    config_setting_t *s = lookup(c, path);
    if (!s || !config_setting_is_aggregate(s))
        return 0;
    return (unsigned)config_setting_length(s);
}

const ald_config *config_get_child(const ald_config *c, const char *path, unsigned index)
{
    config_setting_t *s = lookup(c, path);
    if (!s || !config_setting_is_aggregate(s))
        return NULL;
    config_setting_t *child = config_setting_get_elem(s, index);
    if (!child || config_setting_type(child) != CONFIG_TYPE_GROUP)
        return NULL;
    return (const ald_config *)child;
}

const char *config_get_where(const ald_config *c, const char *path, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    const config_setting_t *s = path ? lookup(c, path) : setting_of(c);
    if (!s)
        s = setting_of(c); /* an absent setting: point at its group */
    if (!s)
        return buf;
    const char *origin = config_setting_get_hook(s);
    const char *file = config_setting_source_file(s);
    if (origin)
        snprintf(buf, len, "%s", origin);
    else if (file)
        snprintf(buf, len, "%s:%u", file, config_setting_source_line(s));
    return buf;
}

int config_name_is_secret(const char *name)
{
    static const char *const words[] = {"key", "password", "secret", "token", "passwd"};
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return 1;
    return 0;
}
