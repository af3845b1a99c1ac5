# deploy: filled in by its owner
dist_noinst_SCRIPTS += deploy/install-deps.sh deploy/quickstart.sh tests/run-all.sh
# owner: deploy
# The production deployment kit (docs/deployment.md): container image,
# compose stack, HAProxy, deploy/rollback/health-check scripts, systemd unit.
# Nothing is built or installed; the files ship in the tarball and are
# checked by tests/deploy.mk.
dist_noinst_SCRIPTS += \
	deploy/docker-entrypoint.sh \
	deploy/podman-build.sh \
	deploy/scripts/deploy.sh \
	deploy/scripts/rollback.sh \
	deploy/scripts/health-check.sh
EXTRA_DIST += \
	deploy/Dockerfile \
	deploy/production.env.example \
	deploy/secrets/README.md \
	deploy/haproxy/haproxy.cfg \
	deploy/ald-engine.service \
	docker-compose.prod.yml
