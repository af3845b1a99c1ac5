# bench/supabase.mk: the Supabase/outbox benchmark (issue 5), included from
# bench/local.mk. bench/supabase_bench.sh starts PostgreSQL 15 + the PostgREST
# fixture (tests/fixtures/postgrest/pg.sh) and runs bench/supabase_bench, which
# links the engine core (for the outbox and plugin loading) but not Check.
# Built by `make bench` (and by `make check`, never run by it).
check_PROGRAMS += bench/supabase_bench
bench_supabase_bench_SOURCES = bench/supabase_bench.c
bench_supabase_bench_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
bench_supabase_bench_LDADD = engine/libaldcore.la $(LIBCONFIG_LIBS)
EXTRA_bench_supabase_bench_DEPENDENCIES = plugins/storage-supabase/storage-supabase.la \
	plugins/storage-sqlite/storage-sqlite.la
dist_noinst_SCRIPTS += bench/supabase_bench.sh bench/supabase-lib.sh bench/wan_bench.sh \
	bench/delay_proxy.py

bench: bench/supabase_bench$(EXEEXT) plugins/storage-supabase/storage-supabase.la \
	plugins/storage-sqlite/storage-sqlite.la
