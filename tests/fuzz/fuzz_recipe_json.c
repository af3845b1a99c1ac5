/*
 * fuzz_recipe_json.c - the recipe document parser (aldctl import/validate):
 * recipe_json_parse(), and for every document it accepts, the round trip
 * the CLI promises: build -> export -> parse again -> the same export.
 */
#include "fuzz.h"

#include "log.h"
#include "recipe.h"
#include "recipe_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    return 0;
}

/* Parse and build; 0 when both accept the text. */
static int parse_and_build(const char *text, recipe *r, char *err, size_t errlen)
{
    recipe_rows rows;
    recipe_rows_init(&rows);
    int rc = recipe_json_parse(text, &rows, err, errlen);
    if (rc == 0)
        rc = recipe_build(r, &rows, err, errlen);
    recipe_rows_free(&rows);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char err[600] = "";
    recipe r;
    memset(&r, 0, sizeof r);
    if (parse_and_build(text, &r, err, sizeof err) == 0) {
        char *doc = recipe_json_export(&r);
        char *snapshot = recipe_snapshot_json(&r);
        FUZZ_EXPECT(doc && snapshot, "export ran out of memory");
        recipe again;
        memset(&again, 0, sizeof again);
        FUZZ_EXPECT(parse_and_build(doc, &again, err, sizeof err) == 0,
                    "the export of an accepted document is refused: %s\n%s", err, doc);
        char *doc2 = recipe_json_export(&again);
        FUZZ_EXPECT(doc2 && strcmp(doc, doc2) == 0, "export is not stable:\n%s\n%s", doc,
                    doc2 ? doc2 : "(null)");
        FUZZ_EXPECT(again.total_steps == r.total_steps, "total steps %lld != %lld",
                    (long long)again.total_steps, (long long)r.total_steps);
        free(doc2);
        recipe_free(&again);
        free(snapshot);
        free(doc);
        recipe_free(&r);
    } else {
        FUZZ_EXPECT(err[0] != '\0', "refused without a message");
    }
    free(text);
    return 0;
}
