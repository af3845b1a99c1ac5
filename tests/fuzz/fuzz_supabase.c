/*
 * fuzz_supabase.c - PostgREST answers, as the storage-supabase plugin reads
 * them: the real plugin code (its own source list, see tests/fuzz.mk) calls
 * a loopback HTTP server in this harness, which answers every request with
 * the fuzzed status and body. So the answer goes through libcurl into the
 * plugin's body handling (size cap, JSON parse, error bodies, shape checks)
 * and then the row readers of the operation the input selects.
 *
 * Input: byte 0 picks the operation, byte 1 the HTTP status, the rest is the
 * bodies (JSON) of the answers, separated by a line "--": the n-th request of
 * the operation gets the n-th body (the last one repeats), so operations that
 * read several tables (load_recipe) see a different answer for each. Seeds
 * are real answers of the PostgREST fixture over the demo data. Every string a callback receives is read to its end, so a
 * dangling or unterminated field is a sanitizer report.
 * Invariant: an operation that fails leaves a last_error message.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ald/plugin.h"
#include "ports/host_services.h"
#include "log.h"

const ald_plugin_descriptor *ald_plugin_entry(void);

#define MACHINE "e3e6e280-0000-4000-8000-000000000001"
static const int STATUSES[] = {200, 200, 200, 201, 400, 401, 404, 406, 409, 500, 503};

/* ---- the answer server ----------------------------------------------------------- */

static pthread_mutex_t answer_lock = PTHREAD_MUTEX_INITIALIZER;
static int answer_status = 200;
static uint8_t *answers; /* the bodies, "\n--\n" between them */
static size_t answers_len, answer_at; /* where the next answer starts */

static void set_answers(int status, const uint8_t *bodies, size_t len)
{
    pthread_mutex_lock(&answer_lock);
    free(answers);
    answers = malloc(len ? len : 1);
    if (answers)
        memcpy(answers, bodies, len);
    answers_len = answers ? len : 0;
    answer_at = 0;
    answer_status = status;
    pthread_mutex_unlock(&answer_lock);
}

/* The next body (the last one again once all were served). Under answer_lock. */
static void next_answer(const uint8_t **body, size_t *len)
{
    static const char sep[] = "\n--\n";
    const uint8_t *start = answers + answer_at;
    size_t left = answers_len - answer_at;
    const uint8_t *end = left >= 4 ? memmem(start, left, sep, 4) : NULL;
    *body = start;
    *len = end ? (size_t)(end - start) : left;
    if (end)
        answer_at += *len + 4;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one request (head + Content-Length body). 0, or -1 at EOF/error. */
static int read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    char *end = NULL;
    while (!(end = strstr(buf, "\r\n\r\n"))) {
        if (len + 1 >= cap)
            return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    size_t body_have = len - (size_t)(end + 4 - buf), body_len = 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl && cl < end)
        body_len = strtoul(cl + 17, NULL, 10);
    while (body_have < body_len) { /* bodies are small: discard them */
        char sink[4096];
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n <= 0)
            return -1;
        body_have += (size_t)n;
    }
    return 0;
}

static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static _Thread_local char req[1 << 16];
    for (;;) {
        req[0] = '\0';
        if (read_request(fd, req, sizeof req) != 0)
            break;
        pthread_mutex_lock(&answer_lock);
        const uint8_t *body;
        size_t len;
        next_answer(&body, &len);
        /* Head and body in one write: two small writes would wait out
         * Nagle + delayed ACK (40 ms) on every request. */
        size_t cap = 256 + len;
        char *answer = malloc(cap);
        int ok = answer != NULL;
        if (ok) {
            int n = snprintf(answer, cap,
                             "HTTP/1.1 %d Fuzz\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             answer_status, len);
            memcpy(answer + n, body, len);
            ok = write_all(fd, answer, (size_t)n + len) == 0;
            free(answer);
        }
        pthread_mutex_unlock(&answer_lock);
        if (!ok)
            break;
    }
    close(fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int listener = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd) == 0)
            pthread_detach(t);
        else
            close(fd);
    }
    return NULL;
}

static int start_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0)
        return -1;
    pthread_t t;
    if (pthread_create(&t, NULL, accept_loop, (void *)(intptr_t)fd) != 0)
        return -1;
    pthread_detach(t);
    return ntohs(addr.sin_port);
}

/* ---- the plugin -------------------------------------------------------------------- */

static const ald_storage_vtable *vt;
static void *store;
static volatile size_t touched; /* keeps the reads below from being optimised out */

static void touch(const char *s)
{
    if (s)
        touched += strlen(s);
}

static void on_parameter(void *ctx, const ald_parameter *p)
{
    touch(p->id), touch(p->component_id), touch(p->component_name), touch(p->name);
    touch(p->unit), touch(p->data_type), touch(p->read_type), touch(p->write_type);
}

static void on_recipe(void *ctx, const ald_recipe_info *r)
{
    touch(r->id), touch(r->name), touch(r->description);
}

static void on_step(void *ctx, const ald_recipe_step *s)
{
    touch(s->id), touch(s->recipe_id), touch(s->parent_step_id), touch(s->name);
    touch(s->type), touch(s->parameters_json), touch(s->gas_type), touch(s->parameter_id);
}

static void on_recipe_parameter(void *ctx, const char *name, const char *value)
{
    touch(name), touch(value);
}

static void on_command(void *ctx, const ald_command *c)
{
    touch(c->id), touch(c->type), touch(c->parameters_json), touch(c->machine_id);
    touch(c->status), touch(c->created_at), touch(c->error_message);
}

static void on_machine(void *ctx, const ald_machine *m)
{
    touch(m->id), touch(m->status), touch(m->current_process_id);
    touch(m->current_operator_id), touch(m->failure_description);
}

static void on_process(void *ctx, const ald_process *p)
{
    touch(p->id), touch(p->machine_id), touch(p->recipe_id), touch(p->status);
    touch(p->error_message), touch(p->parameters_json);
}

static void on_process_state(void *ctx, const ald_process_state *s)
{
    touch(s->execution_id), touch(s->current_step_type), touch(s->current_step_name);
    touch(s->current_parameter_id);
}

static void on_setpoint(void *ctx, const ald_setpoint_command *c)
{
    touch(c->id), touch(c->parameter_name), touch(c->component_parameter_id);
    touch(c->machine_id), touch(c->data_type), touch(c->created_at);
}

static ald_status run_operation(unsigned op)
{
    char id[64];
    ald_recipe_reader reader = {sizeof reader, NULL, on_recipe, on_step, on_recipe_parameter};
    ald_process_start start = {.struct_size = sizeof start, .machine_id = MACHINE,
                               .recipe_id = "r", .recipe_version_json = "{}"};
    switch (op % 12) {
    case 0: return vt->load_parameters(store, MACHINE, on_parameter, NULL);
    case 1: return vt->load_recipe(store, "r", &reader);
    case 2: return vt->list_recipes(store, on_recipe, NULL);
    case 3: return vt->fetch_pending_commands(store, MACHINE, 10, on_command, NULL);
    case 4: return vt->claim_command(store, "c");
    case 5: return vt->get_machine(store, MACHINE, on_machine, NULL);
    case 6: return vt->get_or_create_session(store, "op", MACHINE, id, sizeof id);
    case 7: return vt->create_process(store, &start, id, sizeof id);
    case 8: return vt->find_open_processes(store, MACHINE, on_process, NULL);
    case 9: return vt->get_process_state(store, "p", on_process_state, NULL);
    case 10: return vt->fetch_setpoint_commands(store, MACHINE, 10, on_setpoint, NULL);
    default: return vt->acquire_lease(store, MACHINE, "fuzz", 15000);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    log_set_level(ALD_LOG_ERROR);
    int port = start_server();
    if (port <= 0) {
        perror("fuzz_supabase: loopback server");
        exit(1);
    }
    set_answers(200, (const uint8_t *)"[]", 2);
    static config_t settings;
    char text[512];
    snprintf(text, sizeof text, "url = \"http://127.0.0.1:%d\"; key = \"fuzz-key\"; "
             "retries = 0; timeout_ms = 5000;", port);
    config_init(&settings);
    if (!config_read_string(&settings, text)) {
        fprintf(stderr, "fuzz_supabase: settings: %s\n", config_error_text(&settings));
        exit(1);
    }
    vt = ald_plugin_entry()->vtable;
    char err[512] = "";
    if (vt->create(host_new("fuzz"), (const ald_config *)config_root_setting(&settings), &store,
                   err, sizeof err) != ALD_OK ||
        vt->start(store) != ALD_OK) {
        fprintf(stderr, "fuzz_supabase: create/start: %s%s\n", err,
                store ? vt->last_error(store) : "");
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        LLVMFuzzerInitialize(NULL, NULL);
    if (size < 2)
        return 0;
    set_answers(STATUSES[data[1] % (sizeof STATUSES / sizeof *STATUSES)], data + 2, size - 2);
    ald_status rc = run_operation(data[0]);
    if (rc != ALD_OK && rc != ALD_ERR_NOT_FOUND) {
        const char *e = vt->last_error(store);
        FUZZ_EXPECT(e && e[0], "%s without a last_error", ald_status_name(rc));
    }
    return 0;
}
