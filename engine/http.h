/*
 * http.h - the engine's read-only HTTP surface (libmicrohttpd).
 *
 *   GET /health/basic  liveness JSON (health_basic_json)
 *   GET /health        readiness JSON (health_full_json)
 *   GET /metrics       Prometheus text format 0.0.4 (metrics_render)
 *   GET /              a JSON index of the routes and the version
 * Anything else is a 404 JSON; a method other than GET/HEAD is a 405 with
 * Allow. There are no write endpoints.
 *
 * One server per process. Requests are served by libmicrohttpd's own polling
 * thread (epoll), which only reads atomics and the metric registry, so a
 * request never blocks the logger. Slow or idle clients cannot starve it:
 * up to HTTP_MAX_CONNECTIONS connections are held at HTTP_CONNECTION_MEMORY
 * bytes each (epoll costs nothing per idle connection), one that sends
 * nothing for HTTP_CONNECTION_TIMEOUT_S seconds is dropped, and the open-file
 * limit is raised to fit. There is no per-address limit below the total:
 * behind HAProxy every request comes from one address. 500 idle or dripping
 * connections leave /health answering in milliseconds (docs/benchmarks.md).
 *
 * THREADING: http_start() and http_stop() from one thread (main);
 * http_port() from any thread.
 */
#ifndef ALD_ENGINE_HTTP_H
#define ALD_ENGINE_HTTP_H

#include <stddef.h>

#define HTTP_MAX_CONNECTIONS 1000
#define HTTP_CONNECTION_MEMORY 16384
#define HTTP_CONNECTION_TIMEOUT_S 5

/* Listen on bind_addr (numeric IPv4/IPv6 or a host name; NULL = every
 * interface; the daemon passes HTTP_BIND, default 127.0.0.1) and port (0 = an ephemeral port, see http_port()). Returns 0,
 * or -1 with a message in err naming the address, port and what to do
 * (e.g. "HTTP port 8000 is in use: ...; set --http-port"). */
int http_start(const char *bind_addr, int port, char *err, size_t errlen);

/* The bound port, 0 when the server is not running. */
int http_port(void);

/* Stop serving and close the socket; waits for requests in progress. No-op
 * when not running. */
void http_stop(void);

#endif
