/* plugin_check_caps.c - capability bits against the operations that back
 * them, both ways (see plugin_check.h). */
#include <stdio.h>
#include <string.h>

#include "plugin_check.h"

typedef struct cap_rule {
    ald_plugin_kind kind;
    uint64_t bit;
    const char *bit_name;
    const char *ops[4]; /* every one must be present with the bit, none without */
} cap_rule;

static const cap_rule rules[] = {
    {ALD_PLUGIN_PLC, ALD_CAP_PLC_TIMED_PULSE, "ALD_CAP_PLC_TIMED_PULSE", {"pulse"}},
    {ALD_PLUGIN_PLC, ALD_CAP_PLC_VALVE_LOG, "ALD_CAP_PLC_VALVE_LOG", {"valve_events"}},
    {ALD_PLUGIN_STORAGE,
     ALD_CAP_STORAGE_OUTBOX,
     "ALD_CAP_STORAGE_OUTBOX",
     {"outbox_push", "outbox_peek", "outbox_ack", "outbox_stats"}},
};

static int present(const loaded_plugin *p, const char *name)
{
    size_t count;
    const loader_op *ops = loader_ops(p->desc.kind, &count);
    for (size_t i = 0; i < count; i++)
        if (!strcmp(ops[i].name, name))
            return loader_op_present(p, &ops[i]);
    return 0;
}

static int check_rule(const loaded_plugin *p, const cap_rule *r)
{
    int has_bit = (p->desc.capabilities & r->bit) != 0, problems = 0;
    for (size_t i = 0; i < 4 && r->ops[i]; i++) {
        int has_op = present(p, r->ops[i]);
        if (has_bit && !has_op)
            printf("  PROBLEM: capability %s is set but operation %s is missing\n",
                   r->bit_name, r->ops[i]);
        else if (!has_bit && has_op)
            printf("  PROBLEM: operation %s is present but capability %s is not set\n",
                   r->ops[i], r->bit_name);
        else
            continue;
        problems++;
    }
    return problems;
}

int plugin_check_capabilities(const loaded_plugin *p)
{
    const uint64_t known = p->desc.kind == ALD_PLUGIN_PLC
                               ? ALD_CAP_PLC_TIMED_PULSE | ALD_CAP_PLC_THREAD_SAFE |
                                     ALD_CAP_PLC_VALVE_LOG
                               : ALD_CAP_STORAGE_THREAD_SAFE | ALD_CAP_STORAGE_OUTBOX |
                                     ALD_CAP_STORAGE_LOCAL;
    int problems = 0;
    if (p->desc.capabilities & ~known) {
        printf("  PROBLEM: capability bits 0x%llx are not defined for %s plugins\n",
               (unsigned long long)(p->desc.capabilities & ~known),
               p->desc.kind == ALD_PLUGIN_PLC ? "PLC" : "storage");
        problems++;
    }
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].kind == p->desc.kind)
            problems += check_rule(p, &rules[i]);
    return problems;
}
