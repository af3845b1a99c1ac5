# tests/deploy.mk: checks of the production deployment kit (deploy/local.mk).
#   deploy-static: shellcheck of every script, `haproxy -c`, `docker-compose
#       config` of docker-compose.prod.yml with the example env, Dockerfile,
#       entrypoint (with the built engine), systemd-analyze verify, the
#       scripts' command lines and --dry-run plans
#   deploy-live: health-check.sh against real engines; deploy.sh/rollback.sh
#       handing the lease between two real engines on one data directory
#       behind a real HAProxy (the shipped config on loopback ports);
#       failover after SIGKILL; HTTP exposure, secrets and sd_notify
# bats files run with --tap by tiny wrappers (not *.test: see Makefile.am).
TESTS += tests/deploy/deploy-static tests/deploy/deploy-live
dist_noinst_SCRIPTS += \
	tests/deploy/deploy-static \
	tests/deploy/deploy-live \
	tests/deploy/fake-docker-compose \
	tests/deploy/proc-compose \
	tests/deploy/slow-clients.py
EXTRA_DIST += tests/deploy/static.bats tests/deploy/live.bats tests/deploy/helpers.bash \
	tests/deploy/switch.bats tests/deploy/failover.bats tests/deploy/exposure.bats
