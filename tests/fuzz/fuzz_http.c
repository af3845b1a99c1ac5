/*
 * fuzz_http.c - HTTP requests to the engine's HTTP surface: the real server
 * (http_start, libmicrohttpd on a loopback port) and the engine's request
 * handling (method check, routing, health and metrics bodies). Each input is
 * sent as raw bytes on a fresh connection, the write side is closed, and the
 * answer is read to the end.
 *
 * Each input is followed by an empty line ("\r\n\r\n"), so most mutated
 * requests are complete and answered at once; one that is still incomplete
 * (a body shorter than its Content-Length) is held by libmicrohttpd until
 * HTTP_CONNECTION_TIMEOUT_S, so the harness waits at most ANSWER_WAIT_MS for
 * an answer and then resets the connection.
 *
 * Invariants: every answer starts with an HTTP/1.x status line, and every
 * LIVENESS_EVERY inputs (and at the first) a plain GET /health/basic still
 * gets an answer within 5 s (a 503: no engine runs in the harness), so the
 * server keeps serving whatever came before.
 * Coverage guidance reaches only our code: libmicrohttpd's parser is a
 * Debian library built without instrumentation, so it is exercised by the
 * mutated bytes but not steered into.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

#define ANSWER_WAIT_MS 50
#define LIVENESS_EVERY 100

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    char err[300];
    if (http_start("127.0.0.1", 0, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: %s\n", err);
        exit(1);
    }
    return 0;
}

static int connect_server(int wait_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)http_port()),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* Reset on close: no TIME_WAIT pile-up, and the server drops its side. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const void *data, size_t size)
{
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, (const char *)data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early on garbage: fine */
        sent += (size_t)n;
    }
}

/* Reads the answer until the server closes or the wait ends; returns its
 * size and the first bytes in head. */
static size_t read_answer(int fd, char *head, size_t head_len)
{
    char buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return total;
        if (total < head_len)
            memcpy(head + total, buf, (size_t)n < head_len - total ? (size_t)n : head_len - total);
        total += (size_t)n;
    }
}

static void check_liveness(void)
{
    static const char probe[] = "GET /health/basic HTTP/1.1\r\nHost: fuzz\r\n"
                                "Connection: close\r\n\r\n";
    int fd = connect_server(5000);
    FUZZ_EXPECT(fd >= 0, "the server stopped accepting connections");
    send_all(fd, probe, sizeof probe - 1);
    char head[16] = "";
    read_answer(fd, head, sizeof head - 1);
    close(fd);
    FUZZ_EXPECT(strncmp(head, "HTTP/1.1 ", 9) == 0, "GET /health/basic answered \"%.15s\"",
                head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long inputs;
    if (!http_port())
        LLVMFuzzerInitialize(NULL, NULL);
    if (inputs++ % LIVENESS_EVERY == 0)
        check_liveness();
    int fd = connect_server(ANSWER_WAIT_MS);
    FUZZ_EXPECT(fd >= 0, "the server stopped accepting connections");
    send_all(fd, data, size);
    send_all(fd, "\r\n\r\n", 4);
    shutdown(fd, SHUT_WR);
    char head[16] = "";
    size_t got = read_answer(fd, head, sizeof head - 1);
    close(fd);
    if (got > 0)
        FUZZ_EXPECT(strncmp(head, "HTTP/1.", 7) == 0, "answer starts with \"%.15s\"", head);
    return 0;
}
