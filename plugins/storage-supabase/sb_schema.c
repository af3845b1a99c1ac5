/*
 * sb_schema.c - what the project's schema offers, learned once in start().
 *
 * A site that switches from the Python system may not have applied
 * deploy/supabase/migrations yet. Rather than meeting a 404 on every cycle
 * (and reporting it as something else), start() reads PostgREST's OpenAPI
 * root (GET /rest/v1/) once and says, in one warning, which of the objects
 * the engine needs are missing and the command that applies them. Without
 * them the engine still logs samples and health; what needs them is listed
 * in docs/supabase.md ("Without the migrations").
 *
 * The same read tells which names operator_sessions uses: status/start_time
 * (fresh projects, e7d9f0a-era sites) or session_status/session_start_time
 * (HEAD-era sites). When the root is not readable (a gateway may hide it),
 * nothing is assumed missing and the session columns are probed directly.
 */
#include <string.h>

#include "sb_store.h"

/* What the engine calls that only the project's migrations create. */
static const struct {
    const char *path;  /* as listed in the OpenAPI "paths" */
    const char *needed; /* what stops working without it */
} REQUIRED[] = {
    {"/rpc/acquire_engine_lease", "commands (no lease)"},
    {"/rpc/batch_update_parameter_values", "component_parameters.current_value updates"},
    {"/rpc/ald_set_machine_state", "machine status updates"},
    {"/rpc/ald_save_recipe", "aldctl import"},
    {"/engine_leases", "commands (no lease)"},
};

#define APPLY_HINT                                                                           \
    "apply them: for f in deploy/supabase/migrations/000*.sql; do psql \"$DATABASE_URL\" "   \
    "-v ON_ERROR_STOP=1 -f \"$f\"; done (docs/supabase.md, \"Switching an existing site\")"

int sb_schema_has(const sb_store *sb, const char *path)
{
    for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++)
        if (strcmp(REQUIRED[i].path, path) == 0)
            return !(sb->missing_mask & (1u << i));
    return 1;
}

const char *sb_schema_hint(void)
{
    return APPLY_HINT;
}

/* Lists the missing objects into sb->missing (and the mask); 0 = none. */
static int note_missing(sb_store *sb, const json_t *paths)
{
    sb_buf names = {0}, lost = {0};
    for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++) {
        if (json_object_get(paths, REQUIRED[i].path))
            continue;
        sb->missing_mask |= 1u << i;
        sb_buf_printf(&names, "%s%s", names.len ? ", " : "", REQUIRED[i].path + 1);
        if (!lost.data || !strstr(lost.data, REQUIRED[i].needed))
            sb_buf_printf(&lost, "%s%s", lost.len ? ", " : "", REQUIRED[i].needed);
    }
    if (names.len)
        snprintf(sb->missing, sizeof sb->missing, "%s (without them: no %s)", names.data,
                 lost.data);
    sb_buf_free(&names);
    sb_buf_free(&lost);
    return sb->missing_mask != 0;
}

static void note_session_columns(sb_store *sb, const json_t *root)
{
    const json_t *props = json_object_get(
        json_object_get(json_object_get(root, "definitions"), "operator_sessions"),
        "properties");
    if (props)
        sb->session_head = json_object_get(props, "session_status") != NULL &&
                           json_object_get(props, "status") == NULL;
}

/* Without a readable root: does operator_sessions answer for session_status? */
static void probe_session_columns(sb_store *sb)
{
    sb_request req;
    sb_response resp;
    sb_req_init(&req, "GET", "operator_sessions", "start (operator_sessions columns)");
    sb_req_param(&req, "select", "session_status");
    sb_req_param(&req, "limit", "0");
    sb->session_head = sb_call(sb, &req, &resp) == ALD_OK;
    sb_response_free(&resp);
    sb_req_free(&req);
}

void sb_schema_check(sb_store *sb)
{
    sb_request req;
    sb_response resp;
    sb->missing_mask = 0;
    sb->missing[0] = '\0';
    sb_req_init(&req, "GET", "", "start (reading the schema)");
    ald_status rc = sb_call(sb, &req, &resp);
    const json_t *paths = rc == ALD_OK ? json_object_get(resp.json, "paths") : NULL;
    int readable = json_is_object(paths); /* paths dies with resp below */
    if (readable) {
        if (note_missing(sb, paths))
            sb->host->log(sb->host, ALD_LOG_WARNING,
                          "storage-supabase: the project lacks what deploy/supabase/migrations "
                          "create: %s; " APPLY_HINT, sb->missing);
        note_session_columns(sb, resp.json);
    }
    sb_response_free(&resp);
    sb_req_free(&req);
    if (!readable) {
        sb->host->log(sb->host, ALD_LOG_INFO, "storage-supabase: the schema root %s/ is not "
                      "readable, so missing migrations are found when first used", sb->base_url);
        probe_session_columns(sb);
    }
}
