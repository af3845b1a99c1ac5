# monitoring: the observability kit (Prometheus config and alert rules with
# their unit tests, Alertmanager config template and its render script,
# Grafana provisioning and dashboards). Nothing is compiled; the files ship
# in the tarball for the deploy kit and are checked by tests/monitoring.mk.
MONITORING_FILES = \
	monitoring/prometheus.yml \
	monitoring/alert_rules.yml \
	monitoring/alertmanager.yml \
	monitoring/tests/alert_rules_test.yml \
	monitoring/grafana/provisioning/datasources/prometheus.yml \
	monitoring/grafana/provisioning/dashboards/dashboards.yml \
	monitoring/grafana/dashboards/system-overview.json \
	monitoring/grafana/dashboards/plc-monitoring.json \
	monitoring/grafana/dashboards/performance.json \
	monitoring/grafana/dashboards/alerts.json
EXTRA_DIST += $(MONITORING_FILES)
dist_noinst_SCRIPTS += monitoring/render-alertmanager.sh
