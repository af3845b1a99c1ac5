# tests/monitoring.mk: checks of the monitoring kit (monitoring/local.mk).
#   monitoring-static: promtool check config/rules, promtool test rules, rule
#       coverage, dashboards (jq), metric names vs docs/metrics.md,
#       Alertmanager rendering (amtool when installed)
#   monitoring-live: the built ald-engine + real prometheus (+ alertmanager
#       when installed): live metric names, a recipe run started through
#       recipe_commands (sqlite3), every dashboard query, recipe-failed and
#       PLC-lost alerts end to end, and the outbox alerts from a second
#       engine whose Supabase is unreachable (SQLite fallback)
# Both are bats files run with --tap by a tiny wrapper; tools that are not
# installed make their cases skip with the package to install.
TESTS += tests/monitoring/monitoring-static tests/monitoring/monitoring-live
dist_noinst_SCRIPTS += \
	tests/monitoring/monitoring-static \
	tests/monitoring/monitoring-live \
	tests/monitoring/metric_names.py \
	tests/monitoring/rule_coverage.py
EXTRA_DIST += tests/monitoring/static.bats tests/monitoring/live.bats
