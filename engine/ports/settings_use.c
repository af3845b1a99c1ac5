/* settings_use.c - the settings a plugin read in create() (see settings_use.h). */
#include "ports/settings_use.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local settings_use *current;

void settings_use_begin(settings_use *u, const ald_config *top)
{
    memset(u, 0, sizeof *u);
    u->top = top;
    current = u;
}

void settings_use_end(void)
{
    current = NULL;
}

static int is_marked(const settings_use *u, const void *s)
{
    for (size_t i = 0; i < u->count; i++)
        if (u->marks[i] == s)
            return 1;
    return 0;
}

static void mark(settings_use *u, const void *s)
{
    if (is_marked(u, s))
        return;
    if (u->count == u->capacity) {
        size_t cap = u->capacity ? u->capacity * 2 : 32;
        const void **m = realloc(u->marks, cap * sizeof *m);
        if (!m) {
            u->oom = 1; /* then nothing is refused: better than a false refusal */
            return;
        }
        u->marks = m;
        u->capacity = cap;
    }
    u->marks[u->count++] = s;
}

/* Marks s and every group above it (a read of "a.b" uses "a" too). */
static void mark_with_parents(settings_use *u, const config_setting_t *s)
{
    for (; s; s = config_setting_parent((config_setting_t *)s))
        mark(u, s);
}

static void note_asked(settings_use *u, const char *path)
{
    size_t used = strlen(u->asked), n = strcspn(path, ".[");
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)n, path);
    const char *hit = strstr(u->asked, name);
    size_t len = strlen(name);
    while (hit && !((hit == u->asked || hit[-1] == ' ') && (hit[len] == ',' || !hit[len])))
        hit = strstr(hit + 1, name);
    if (!hit && used + len + 3 < sizeof u->asked)
        snprintf(u->asked + used, sizeof u->asked - used, "%s%s", used ? ", " : "", name);
}

void settings_use_note(const ald_config *c, const char *path)
{
    if (!current || !c)
        return;
    config_setting_t *s = (config_setting_t *)c;
    if (path && *path) {
        if (c == current->top)
            note_asked(current, path);
        s = config_setting_lookup(s, path);
    }
    if (s)
        mark_with_parents(current, s);
}

void settings_use_note_child(const ald_config *child)
{
    if (current && child)
        mark_with_parents(current, (const config_setting_t *)child);
}

/* Settings the engine put there, and the names every instance is given. */
static int known_anyway(const config_setting_t *s, int top_level)
{
    if (config_setting_get_hook(s))
        return 1;
    const char *name = config_setting_name(s);
    return top_level && name && (!strcmp(name, "machine_id") || !strcmp(name, "data_dir"));
}

static int refuse(const settings_use *u, const config_setting_t *s, char *err, size_t errlen)
{
    const char *file = config_setting_source_file(s);
    const char *name = config_setting_name(s);
    snprintf(err, errlen, "%s:%u: setting %s: not a setting of this plugin (it reads: %s)",
             file ? file : "?", config_setting_source_line(s), name ? name : "(element)",
             u->asked[0] ? u->asked : "no settings");
    return -1;
}

static int check_group(const settings_use *u, const config_setting_t *g, int top, char *err,
                       size_t errlen)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        if (known_anyway(m, top))
            continue;
        if (!is_marked(u, m))
            return refuse(u, m, err, errlen);
        if (config_setting_is_group(m) && check_group(u, m, 0, err, errlen))
            return -1;
        if (config_setting_is_list(m))
            for (int j = 0; j < config_setting_length(m); j++) {
                const config_setting_t *e = config_setting_get_elem(m, (unsigned)j);
                if (config_setting_is_group(e) && is_marked(u, e) &&
                    check_group(u, e, 0, err, errlen))
                    return -1;
            }
    }
    return 0;
}

int settings_use_check(const settings_use *u, char *err, size_t errlen)
{
    if (u->oom || !u->top)
        return 0;
    return check_group(u, (const config_setting_t *)u->top, 1, err, errlen);
}

void settings_use_free(settings_use *u)
{
    free(u->marks);
    u->marks = NULL;
    u->count = u->capacity = 0;
}
