/*
 * fuzz_command_params.c - the parameters JSON of a recipe_commands row, as
 * the command processor reads it: commands_parse_params(), then the typed
 * reads its commands make (recipe_id, operator_id, process_id, parameter_id
 * as text; value / target_value as a number).
 *
 * Invariants: NULL or "" is an empty object; anything accepted is an object;
 * a refusal carries a message.
 */
#include "fuzz.h"

#include <jansson.h>

#include "commands.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    return 0;
}

/* Reads a key the way a command does, touching every byte of a string. */
static size_t read_key(json_t *params, const char *key)
{
    json_t *v = json_object_get(params, key);
    if (json_is_string(v))
        return strlen(json_string_value(v));
    if (json_is_number(v))
        return json_number_value(v) > 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    static const char *const keys[] = {"recipe_id",    "operator_id", "process_id",
                                       "parameter_id", "value",       "target_value"};
    char err[300] = "";
    json_t *params = commands_parse_params(text, err, sizeof err);
    if (params) {
        FUZZ_EXPECT(json_is_object(params), "accepted parameters that are not an object");
        if (text[0] == '\0')
            FUZZ_EXPECT(json_object_size(params) == 0, "empty text gave parameters");
        size_t touched = 0;
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            touched += read_key(params, keys[i]);
        (void)touched;
        json_decref(params);
    } else {
        FUZZ_EXPECT(err[0] != '\0', "refused without a message");
    }
    free(text);
    return 0;
}
