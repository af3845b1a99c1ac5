/* render.c - formatting for people (see render.h). */
#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *render_duration(double ms, char *buf, size_t len)
{
    if (isnan(ms) || ms < 0)
        snprintf(buf, len, "?");
    else if (ms < 1000)
        snprintf(buf, len, "%.0f ms", ms);
    else if (ms < 60000)
        snprintf(buf, len, "%.1f s", ms / 1000);
    else if (ms < 3600000) {
        long s = lround(ms / 1000);
        snprintf(buf, len, "%ld min %02ld s", s / 60, s % 60);
    } else {
        long m = lround(ms / 60000);
        snprintf(buf, len, "%ld h %02ld min", m / 60, m % 60);
    }
    return buf;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

const char *render_progress_bar(const ctl_progress *p, int finished, int width, char *buf,
                                size_t len)
{
    int64_t total = p->total_steps > 0 ? p->total_steps : 0;
    int64_t done = clamp64(p->completed_steps, 0, total);
    int pct = total ? (int)(done * 100 / total) : 0;
    int fill = total ? (int)(done * width / total) : 0;
    char bar[128];
    if (width > (int)sizeof bar - 1)
        width = (int)sizeof bar - 1;
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = '\0';
    int n = snprintf(buf, len, "[%s] %3d%% %lld/%lld steps", bar, pct, (long long)done,
                     (long long)total);
    if (p->total_cycles > 0 && n > 0 && (size_t)n < len) {
        /* the cycle in progress while running; the cycles done once over */
        int64_t cycle = finished ? p->completed_cycles : p->completed_cycles + 1;
        snprintf(buf + n, len - (size_t)n, ", cycle %lld/%lld",
                 (long long)clamp64(cycle, 0, p->total_cycles), (long long)p->total_cycles);
    }
    return buf;
}

int render_run_finished(const ctl_progress *p)
{
    return p->found && (!strcmp(p->step_type, "completed") || !strcmp(p->step_type, "error"));
}

const char *render_run_outcome(const ctl_progress *p)
{
    if (!p->found)
        return "unknown";
    if (!strcmp(p->step_type, "completed"))
        return "completed";
    if (!strcmp(p->step_type, "error"))
        return strstr(p->step_name, "Abort") ? "aborted" : "failed";
    return "running";
}

void render_step(const recipe_step *s, char *buf, size_t len)
{
    static const char *const ops[] = {">=", "<=", ">", "<", "=="};
    char d[32];
    render_duration((double)s->duration_ms, d, sizeof d);
    switch (s->kind) {
    case STEP_VALVE:
        snprintf(buf, len, "valve \"%s\": valve %d for %s", s->name, s->valve_number, d);
        break;
    case STEP_PURGE:
        if (isnan(s->flow_rate))
            snprintf(buf, len, "purge \"%s\": %s %s", s->name, s->gas_type, d);
        else
            snprintf(buf, len, "purge \"%s\": %s at %g for %s", s->name, s->gas_type,
                     s->flow_rate, d);
        break;
    case STEP_SET_PARAMETER:
        snprintf(buf, len, "set parameter \"%s\": %s = %g%s%s", s->name, s->parameter_id,
                 s->target_value, s->duration_ms ? ", hold " : "", s->duration_ms ? d : "");
        break;
    case STEP_LOOP:
        snprintf(buf, len, "loop \"%s\" x%lld (%lld steps)", s->name,
                 (long long)s->iterations, (long long)s->leaf_count);
        break;
    case STEP_WAIT:
        snprintf(buf, len, "wait \"%s\": until %s %s %g, at most %s", s->name,
                 s->parameter_id, (unsigned)s->op < 5 ? ops[s->op] : "?", s->target_value, d);
        break;
    }
}

void render_tree(FILE *out, const recipe_step *steps, size_t n, const char *prefix,
                 int indent)
{
    for (size_t i = 0; i < n; i++) {
        char number[64], line[512];
        snprintf(number, sizeof number, "%s%zu.", prefix, i + 1);
        render_step(&steps[i], line, sizeof line);
        fprintf(out, "%*s%s %s\n", indent, "", number, line);
        if (steps[i].kind == STEP_LOOP)
            render_tree(out, steps[i].children, steps[i].child_count, number, indent + 3);
    }
}

int render_is_tty(void)
{
    return isatty(STDOUT_FILENO);
}

void render_json(json_t *value)
{
    char *text = value ? json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
    printf("%s\n", text ? text : "null");
    free(text);
    json_decref(value);
}
