# deploy: filled in by its owner
dist_noinst_SCRIPTS += deploy/install-deps.sh deploy/quickstart.sh tests/run-all.sh
