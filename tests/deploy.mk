# tests/deploy.mk: checks of the production deployment kit (deploy/local.mk).
#   deploy-static: shellcheck of every script, `haproxy -c`, `docker-compose
#       config` of docker-compose.prod.yml with the example env, Dockerfile,
#       entrypoint (with the built engine), systemd-analyze verify, the
#       scripts' command lines and --dry-run plans
#   deploy-live: health-check.sh against real engines; deploy.sh/rollback.sh
#       handing the lease between two real engines on one data directory
#       behind a real HAProxy (the shipped config on loopback ports);
#       failover after SIGKILL; HTTP exposure, secrets and sd_notify
#   deploy-container: the image built with podman from this tree
#       (deploy/podman-build.sh) and run: healthy, non-root, volume ownership,
#       clean stop mid-recipe, standby and takeover on a shared volume, the
#       Supabase key as a secret file (SKIP only when podman cannot run)
#   deploy-compose: docker-compose.prod.yml's hardening: admin ports on
#       loopback, secrets as files, health checks, limits and log rotation on
#       every service; the health checks run against the real programs
# bats files run with --tap by tiny wrappers (not *.test: see Makefile.am).
TESTS += tests/deploy/deploy-static tests/deploy/deploy-live tests/deploy/deploy-container \
	tests/deploy/deploy-compose
dist_noinst_SCRIPTS += \
	tests/deploy/deploy-static \
	tests/deploy/deploy-live \
	tests/deploy/deploy-container \
	tests/deploy/deploy-compose \
	tests/deploy/fake-docker-compose \
	tests/deploy/proc-compose \
	tests/deploy/slow-clients.py
EXTRA_DIST += tests/deploy/static.bats tests/deploy/live.bats tests/deploy/helpers.bash \
	tests/deploy/switch.bats tests/deploy/failover.bats tests/deploy/exposure.bats \
	tests/deploy/container.bats tests/deploy/compose.bats
