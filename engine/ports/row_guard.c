/* row_guard.c - sized copies of the rows plugins hand the host (see row_guard.h). */
#include "ports/row_guard.h"

#include <stdio.h>
#include <string.h>

#include "build-config.h" /* PACKAGE_VERSION */
#include "ports/plugin_instance.h"

int row_guard_copy(row_guard *g, void *dst, size_t dst_size, const void *row)
{
    uint32_t size = 0;
    if (row)
        memcpy(&size, row, sizeof size); /* every row starts with its struct_size */
    if (!row || size < g->v1_size) {
        if (g->refused++ == 0)
            g->refused_size = size;
        return 0;
    }
    memset(dst, 0, dst_size);
    memcpy(dst, row, size < dst_size ? size : dst_size);
    return 1;
}

ald_status row_guard_finish(const row_guard *g, const plugin_instance *pi, ald_status st,
                            port_error *err)
{
    if (g->refused == 0)
        return st;
    if (err)
        snprintf(err->text, sizeof err->text,
                 "instance '%s' (%s) handed %zu %s row(s) of %u bytes, refused: ABI 1.0 "
                 "rows are at least %zu bytes; rebuild the plugin against ald-sdk "
                 PACKAGE_VERSION,
                 pi->name, pi->lib.desc.name ? pi->lib.desc.name : "?", g->refused,
                 g->row_type, g->refused_size, g->v1_size);
    return ALD_ERR_PROTOCOL;
}
