# tests/http.mk: the metric registry, standard metrics, health and the HTTP
# surface (engine/metrics.c, stdmetrics.c, procstat.c, health.c, http.c).
check_PROGRAMS += tests/check_metrics tests/check_http
TESTS += tests/check_metrics tests/check_http

tests_check_metrics_SOURCES = tests/check_metrics.c
tests_check_metrics_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_metrics_LDADD = $(ALD_TEST_LIBS)

tests_check_http_SOURCES = tests/check_http.c
tests_check_http_CFLAGS = $(ALD_TEST_CC_FLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
tests_check_http_LDADD = $(ALD_TEST_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)
