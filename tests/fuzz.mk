# tests/fuzz.mk: libFuzzer harnesses for every parser of outside input
# (tests/fuzz/fuzz_*.c; docs/reliability.md says what each covers).
#
# Each harness is built twice:
#   tests/fuzz/replay_<name>  always: replay.c feeds it every kept input
#       (tests/fuzz/corpus/<name>/ seeds, tests/fuzz/regressions/<name>/
#       inputs of fixed crashes) as an ordinary TAP test of `make check`;
#   tests/fuzz/fuzz_<name>    with --enable-fuzz (CC=clang): the libFuzzer
#       binary that `make fuzz` runs (FUZZ_SECONDS per harness, default 600).
# Harnesses link the engine core and the plugins' own source lists, so a
# moved file needs an edit in one place only.
FUZZ_HARNESSES = recipe_json recipe_rows command_params config http modbus supabase
FUZZ_CC_FLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests/fuzz $(JANSSON_CFLAGS)
FUZZ_ENGINE_LIBS = engine/libaldcore.la $(JANSSON_LIBS) -lm

# The plugin code under test, compiled once for both builds of its harness.
check_LTLIBRARIES += tests/fuzz/libfuzz-modbus.la tests/fuzz/libfuzz-supabase.la
tests_fuzz_libfuzz_modbus_la_SOURCES = $(plugins_plc_modbus_plc_modbus_la_SOURCES)
tests_fuzz_libfuzz_modbus_la_CFLAGS = $(AM_CFLAGS) $(MODBUS_CFLAGS) -I$(top_srcdir)/plugins/common
tests_fuzz_libfuzz_modbus_la_LIBADD = $(MODBUS_LIBS) -lm
tests_fuzz_libfuzz_supabase_la_SOURCES = $(plugins_storage_supabase_storage_supabase_la_SOURCES)
tests_fuzz_libfuzz_supabase_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_libfuzz_supabase_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)
FUZZ_MODBUS_FLAGS = $(FUZZ_CC_FLAGS) $(MODBUS_CFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/plc-modbus
FUZZ_MODBUS_LIBS = tests/fuzz/libfuzz-modbus.la $(FUZZ_ENGINE_LIBS)
FUZZ_SUPABASE_FLAGS = $(FUZZ_CC_FLAGS) $(CURL_CFLAGS) -I$(top_srcdir)/plugins/storage-supabase
FUZZ_SUPABASE_LIBS = tests/fuzz/libfuzz-supabase.la $(FUZZ_ENGINE_LIBS) $(LIBCONFIG_LIBS) \
	$(CURL_LIBS)

# ---- replay drivers: ordinary tests ---------------------------------------------
FUZZ_REPLAYS = tests/fuzz/replay_recipe_json tests/fuzz/replay_recipe_rows \
	tests/fuzz/replay_command_params tests/fuzz/replay_config tests/fuzz/replay_http \
	tests/fuzz/replay_modbus tests/fuzz/replay_supabase
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)

tests_fuzz_replay_recipe_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_recipe_json.c
tests_fuzz_replay_recipe_json_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_replay_recipe_json_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_replay_recipe_rows_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_recipe_rows.c
tests_fuzz_replay_recipe_rows_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_replay_recipe_rows_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_replay_command_params_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_command_params.c
tests_fuzz_replay_command_params_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_replay_command_params_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_replay_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_config.c
tests_fuzz_replay_config_CFLAGS = $(FUZZ_CC_FLAGS) $(LIBCONFIG_CFLAGS)
tests_fuzz_replay_config_LDADD = $(FUZZ_ENGINE_LIBS) $(LIBCONFIG_LIBS)
tests_fuzz_replay_http_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_http.c
tests_fuzz_replay_http_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_replay_http_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_replay_modbus_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_modbus.c
tests_fuzz_replay_modbus_CFLAGS = $(FUZZ_MODBUS_FLAGS)
tests_fuzz_replay_modbus_LDADD = $(FUZZ_MODBUS_LIBS)
tests_fuzz_replay_supabase_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_supabase.c
tests_fuzz_replay_supabase_CFLAGS = $(FUZZ_SUPABASE_FLAGS) $(LIBCONFIG_CFLAGS)
tests_fuzz_replay_supabase_LDADD = $(FUZZ_SUPABASE_LIBS)

# ---- libFuzzer binaries and `make fuzz` ------------------------------------------------
FUZZ_SECONDS = 600
if ALD_FUZZ
FUZZ_BINARIES = tests/fuzz/fuzz_recipe_json tests/fuzz/fuzz_recipe_rows \
	tests/fuzz/fuzz_command_params tests/fuzz/fuzz_config tests/fuzz/fuzz_http \
	tests/fuzz/fuzz_modbus tests/fuzz/fuzz_supabase
check_PROGRAMS += $(FUZZ_BINARIES)
FUZZ_LD = -fsanitize=fuzzer
tests_fuzz_fuzz_recipe_json_SOURCES = tests/fuzz/fuzz_recipe_json.c
tests_fuzz_fuzz_recipe_json_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_recipe_json_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_recipe_json_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_fuzz_recipe_rows_SOURCES = tests/fuzz/fuzz_recipe_rows.c
tests_fuzz_fuzz_recipe_rows_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_recipe_rows_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_recipe_rows_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_fuzz_command_params_SOURCES = tests/fuzz/fuzz_command_params.c
tests_fuzz_fuzz_command_params_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_command_params_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_command_params_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_CC_FLAGS) $(LIBCONFIG_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_ENGINE_LIBS) $(LIBCONFIG_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_CFLAGS = $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_http_LDADD = $(FUZZ_ENGINE_LIBS)
tests_fuzz_fuzz_modbus_SOURCES = tests/fuzz/fuzz_modbus.c
tests_fuzz_fuzz_modbus_CFLAGS = $(FUZZ_MODBUS_FLAGS)
tests_fuzz_fuzz_modbus_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_modbus_LDADD = $(FUZZ_MODBUS_LIBS)
tests_fuzz_fuzz_supabase_SOURCES = tests/fuzz/fuzz_supabase.c
tests_fuzz_fuzz_supabase_CFLAGS = $(FUZZ_SUPABASE_FLAGS) $(LIBCONFIG_CFLAGS)
tests_fuzz_fuzz_supabase_LDFLAGS = $(FUZZ_LD)
tests_fuzz_fuzz_supabase_LDADD = $(FUZZ_SUPABASE_LIBS)

# `make fuzz [FUZZ_SECONDS=n] [FUZZ_HARNESSES="a b"]`: each harness for n
# seconds from its seeds; new inputs go to tests/fuzz/work/ in the build tree,
# a crash to tests/fuzz/crashes/ (copy it to tests/fuzz/regressions/<name>/
# once fixed). Ends with "N passed, N failed".
fuzz: $(FUZZ_BINARIES)
	$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_HARNESSES)
else
fuzz:
	@echo "make fuzz: the libFuzzer harnesses are not built; configure with" \
	    "CC=clang --enable-fuzz (tests/run-all.sh does, in build-asan)" >&2; exit 1
endif
.PHONY: fuzz

# The whole test list, for tests/run-all.sh (which runs a subset under the sanitizers).
print-tests:
	@echo $(TESTS)
.PHONY: print-tests

dist_noinst_SCRIPTS += tests/fuzz/run-fuzz.sh
EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/README.md tests/fuzz/json.dict tests/lsan.supp

# The kept inputs (replayed by make check; listed so make distcheck ships them).
FUZZ_INPUTS = \
	tests/fuzz/corpus/command_params/empty-object.json \
	tests/fuzz/corpus/command_params/empty-text \
	tests/fuzz/corpus/command_params/not-an-object.json \
	tests/fuzz/corpus/command_params/set-parameter-target-value.json \
	tests/fuzz/corpus/command_params/set-parameter.json \
	tests/fuzz/corpus/command_params/start-recipe.json \
	tests/fuzz/corpus/command_params/start-with-operator.json \
	tests/fuzz/corpus/command_params/stop.json \
	tests/fuzz/corpus/command_params/wrong-types.json \
	tests/fuzz/corpus/config/engine.conf \
	tests/fuzz/corpus/config/fixture-plc-real.conf \
	tests/fuzz/corpus/config/fixture-storage-supabase.conf \
	tests/fuzz/corpus/config/plc-modbus.conf \
	tests/fuzz/corpus/config/plc-sim.conf \
	tests/fuzz/corpus/config/storage-sqlite.conf \
	tests/fuzz/corpus/config/storage-supabase.conf \
	tests/fuzz/corpus/config/whole-directory.conf \
	tests/fuzz/corpus/http/chunked-post \
	tests/fuzz/corpus/http/get-health \
	tests/fuzz/corpus/http/get-health-basic \
	tests/fuzz/corpus/http/get-index-http10 \
	tests/fuzz/corpus/http/get-metrics-prometheus \
	tests/fuzz/corpus/http/head-health \
	tests/fuzz/corpus/http/not-found \
	tests/fuzz/corpus/http/options-star \
	tests/fuzz/corpus/http/pipelined \
	tests/fuzz/corpus/http/post-refused \
	tests/fuzz/corpus/modbus/demo-tool-mixed \
	tests/fuzz/corpus/modbus/legacy-codes-edges \
	tests/fuzz/corpus/modbus/overlap-and-gaps \
	tests/fuzz/corpus/modbus/tight-limits-f64 \
	tests/fuzz/corpus/recipe_json/broken.json \
	tests/fuzz/corpus/recipe_json/demo-al2o3-demo.json \
	tests/fuzz/corpus/recipe_json/demo-al2o3-quick.json \
	tests/fuzz/corpus/recipe_json/demo-nested-demo.json \
	tests/fuzz/corpus/recipe_json/long.json \
	tests/fuzz/corpus/recipe_json/nested.json \
	tests/fuzz/corpus/recipe_json/wait-timeout.json \
	tests/fuzz/corpus/recipe_rows/demo-recipe-1.json \
	tests/fuzz/corpus/recipe_rows/demo-recipe-2.json \
	tests/fuzz/corpus/recipe_rows/demo-recipe-3.json \
	tests/fuzz/corpus/recipe_rows/legacy-inline-parameters.json \
	tests/fuzz/corpus/supabase/claim-command \
	tests/fuzz/corpus/supabase/conflict-409 \
	tests/fuzz/corpus/supabase/gateway-503 \
	tests/fuzz/corpus/supabase/get-machine \
	tests/fuzz/corpus/supabase/lease-rpc \
	tests/fuzz/corpus/supabase/list-recipes \
	tests/fuzz/corpus/supabase/load-parameters \
	tests/fuzz/corpus/supabase/load-recipe-al2o3-demo \
	tests/fuzz/corpus/supabase/load-recipe-al2o3-quick \
	tests/fuzz/corpus/supabase/not-found-404 \
	tests/fuzz/corpus/supabase/open-processes \
	tests/fuzz/corpus/supabase/pending-commands \
	tests/fuzz/corpus/supabase/setpoint-commands \
	tests/fuzz/regressions/config/libconfig-lexer-leak.conf \
	tests/fuzz/regressions/config/libconfig-string-leak.conf \
	tests/fuzz/regressions/http/nul-bytes-in-request-line \
	tests/fuzz/regressions/recipe_rows/nameless-recipe
EXTRA_DIST += $(FUZZ_INPUTS)
