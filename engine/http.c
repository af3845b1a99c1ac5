/* http.c - the read-only HTTP surface (see http.h). */
#include "build-config.h" /* PACKAGE_NAME/VERSION from configure */

#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ald/abi.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "thread_role.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define JSON_TYPE "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define ALLOWED_METHODS "GET, HEAD"

static struct MHD_Daemon *daemon_handle;
static atomic_int bound_port;

/* ---- the listen socket ---------------------------------------------------- */

static void describe_bind_error(int errnum, const char *addr, int port, char *err,
                                size_t errlen)
{
    if (errnum == EADDRINUSE)
        snprintf(err, errlen,
                 "HTTP port %d is in use: %s (on %s); another process listens there; stop "
                 "it or set --http-port to a free port (http_port in the config)",
                 port, strerror(errnum), addr);
    else if (errnum == EACCES)
        snprintf(err, errlen,
                 "HTTP port %d on %s is not allowed: %s; use a port above 1023 "
                 "(--http-port) or grant CAP_NET_BIND_SERVICE",
                 port, addr, strerror(errnum));
    else
        snprintf(err, errlen,
                 "HTTP server cannot listen on %s port %d: %s; check the bind "
                 "address and --http-port",
                 addr, port, strerror(errnum));
}

/* A bound, listening, non-blocking socket, or -1 with errno set. */
static int listen_on(const struct sockaddr *sa, socklen_t len, int v6only)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1; /* restart while old connections sit in TIME_WAIT */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, sa, len) != 0 || listen(fd, HTTP_MAX_CONNECTIONS) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Every interface: IPv6 dual stack, or IPv4 where IPv6 is unavailable. */
static int listen_any(int port, char *err, size_t errlen)
{
    struct sockaddr_in6 any6 = {.sin6_family = AF_INET6,
                                .sin6_port = htons((uint16_t)port),
                                .sin6_addr = IN6ADDR_ANY_INIT};
    int fd = listen_on((struct sockaddr *)&any6, sizeof any6, 0);
    if (fd >= 0)
        return fd;
    if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
        struct sockaddr_in any4 = {.sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)port),
                                   .sin_addr.s_addr = htonl(INADDR_ANY)};
        fd = listen_on((struct sockaddr *)&any4, sizeof any4, 0);
        if (fd >= 0)
            return fd;
    }
    describe_bind_error(errno, "all interfaces", port, err, errlen);
    return -1;
}

static int listen_addr(const char *addr, int port, char *err, size_t errlen)
{
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(addr, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen,
                 "HTTP bind address \"%s\" cannot be resolved: %s; use an IP "
                 "address such as 127.0.0.1 or 0.0.0.0",
                 addr, gai_strerror(rc));
        return -1;
    }
    int fd = listen_on(res->ai_addr, res->ai_addrlen, 1);
    int saved = errno;
    freeaddrinfo(res);
    if (fd < 0)
        describe_bind_error(saved, addr, port, err, errlen);
    return fd;
}

static int socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- responses ------------------------------------------------------------- */

/* Queue body (malloc'd, or NULL = out of memory) with status and type. */
static enum MHD_Result respond(struct MHD_Connection *conn, int status, const char *type,
                               char *body)
{
    struct MHD_Response *resp;
    if (body) {
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    } else {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        type = JSON_TYPE;
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, ALLOWED_METHODS);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

#define ROUTES_JSON                                                                      \
    "[\"/health/basic\",\"/health\",\"/health/ready\",\"/health/active\",\"/metrics\"]"

#define ABI_VERSION STR(ALD_ABI_MAJOR) "." STR(ALD_ABI_MINOR)

static char *index_json(void)
{
    return strdup("{\"service\":\"" PACKAGE_NAME "\",\"version\":\"" PACKAGE_VERSION
                  "\",\"abi\":\"" ABI_VERSION "\",\"routes\":" ROUTES_JSON "}");
}

static enum MHD_Result route(struct MHD_Connection *conn, const char *url)
{
    int status = MHD_HTTP_OK;
    if (strcmp(url, "/health/basic") == 0) {
        char *body = health_basic_json(&status);
        return respond(conn, status, JSON_TYPE, body);
    }
    if (strcmp(url, "/health/ready") == 0) {
        char *body = health_ready_json(&status);
        return respond(conn, status, JSON_TYPE, body);
    }
    if (strcmp(url, "/health/active") == 0) {
        char *body = health_active_json(&status);
        return respond(conn, status, JSON_TYPE, body);
    }
    if (strcmp(url, "/health") == 0) {
        char *body = health_full_json(&status);
        return respond(conn, status, JSON_TYPE, body);
    }
    if (strcmp(url, "/metrics") == 0)
        return respond(conn, MHD_HTTP_OK, METRICS_TYPE, metrics_render(NULL));
    if (strcmp(url, "/") == 0)
        return respond(conn, MHD_HTTP_OK, JSON_TYPE, index_json());
    return respond(conn, MHD_HTTP_NOT_FOUND, JSON_TYPE,
                   strdup("{\"error\":\"not found\",\"routes\":" ROUTES_JSON "}"));
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)cls, (void)version, (void)upload_data, (void)upload_data_size, (void)req_cls;
    thread_role_enter_once("ald-http", THREAD_BACKGROUND); /* libmicrohttpd's thread */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond(
            conn, MHD_HTTP_METHOD_NOT_ALLOWED, JSON_TYPE,
            strdup("{\"error\":\"method not allowed\",\"allow\":\"" ALLOWED_METHODS "\"}"));
    return route(conn, url);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt,
                                                          va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warning("http", "%s", line);
}

/* ---- lifecycle --------------------------------------------------------------- */

/* Room for HTTP_MAX_CONNECTIONS sockets next to the engine's own files: the
 * usual soft limit (1024) would refuse accepts before the connection limit. */
static void raise_file_limit(void)
{
    struct rlimit rl;
    rlim_t want = HTTP_MAX_CONNECTIONS + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        log_warning("http", "cannot raise the open-file limit to %lu: %s",
                    (unsigned long)want, strerror(errno));
}

int http_start(const char *bind_addr, int port, char *err, size_t errlen)
{
    if (daemon_handle) {
        snprintf(err, errlen,
                 "HTTP server already running on port %d; call http_stop() first",
                 http_port());
        return -1;
    }
    if (port < 0 || port > 65535) {
        snprintf(err, errlen, "HTTP port %d is out of range; set --http-port to 1-65535",
                 port);
        return -1;
    }
    raise_file_limit();
    int fd =
        bind_addr ? listen_addr(bind_addr, port, err, errlen) : listen_any(port, err, errlen);
    if (fd < 0)
        return -1;
    daemon_handle = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!daemon_handle) {
        close(fd);
        snprintf(err, errlen,
                 "HTTP server on %s port %d failed to start in libmicrohttpd "
                 "(see the [http] log line above)",
                 bind_addr ? bind_addr : "all interfaces", port);
        return -1;
    }
    atomic_store(&bound_port, socket_port(fd));
    log_info("http", "serving /health, /health/basic and /metrics on %s port %d",
             bind_addr ? bind_addr : "all interfaces", http_port());
    return 0;
}

int http_port(void)
{
    return atomic_load(&bound_port);
}

void http_stop(void)
{
    if (!daemon_handle)
        return;
    MHD_stop_daemon(daemon_handle); /* also closes the listen socket */
    daemon_handle = NULL;
    atomic_store(&bound_port, 0);
}
