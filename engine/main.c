/*
 * main.c - ald-engine: command line, configuration, signals, and the main
 * thread's loop (signals + periodic housekeeping). All real work happens on
 * the logger, writer and HTTP threads.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "engine.h"
#include "http.h"
#include "local_stop.h"
#include "log.h"
#include "doctor.h"
#include "metrics.h"
#include "sdnotify.h"
#include "state.h"
#include "stdmetrics.h"

#include "build-config.h" /* PACKAGE_VERSION, from configure */

typedef struct options {
    const char *config_dir;
    int http_port; /* -1 = from config */
    int check_only;
    int doctor;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ald-engine [OPTION]...\n"
            "Runs an ALD tool: logs every PLC parameter, serves health and metrics.\n"
            "\n"
            "  -c, --config DIR     configuration directory (every *.conf in it)\n"
            "                       default: %s\n"
            "  -p, --http-port N    port of /health and /metrics (0 = off; default 8000)\n"
            "      --check-config   validate the configuration and plugins, then exit\n"
            "      --doctor         connect to the store and check it (the migrations'\n"
            "                       objects, the machine row, the parameter map), then\n"
            "                       read the PLC once and judge the values (byte order);\n"
            "                       exit 1 when something is wrong\n"
            "  -V, --version        print the version and ABI, then exit\n"
            "  -h, --help           print this help, then exit\n"
            "\n"
            "Environment: MACHINE_ID, PLC_TYPE (a configured plc_type: simulation, real, ...),\n"
            "PLC_HOST/PLC_IP, PLC_PORT, ALD_ARCHIVE_DIR (JSON-lines archive sink),\n"
            "PLC_BYTE_ORDER, SUPABASE_URL, SUPABASE_KEY (or SUPABASE_KEY_FILE), LOG_LEVEL,\n"
            "STATUS_LOG_INTERVAL, ALD_DATA_DIR, ALD_PLUGIN_DIR, HTTP_BIND (default 127.0.0.1),\n"
            "ALD_ENGINE_ID, ALD_LEASE_TTL_MS, ALD_LEASE_RENEW_MS, ALD_EXECUTOR_RT_PRIORITY,\n"
            "ALD_START_CLEARS_ERROR.\n"
            "Signals: SIGTERM/SIGINT stop the engine (valves closed); SIGUSR1 aborts the\n"
            "running recipe (aldctl stop --local; pid in DATA_DIR/ald-engine.pid).\n"
            "See README.md.\n",
            config_default_dir());
}

static int parse_port(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

/* 0 = run, 1 = exit 0 (help/version), 2 = usage error. */
static int parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"http-port", required_argument, NULL, 'p'},
        {"check-config", no_argument, NULL, 'k'}, {"doctor", no_argument, NULL, 'D'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    *o = (options){.config_dir = NULL, .http_port = -1, .check_only = 0, .doctor = 0};
    int c;
    while ((c = getopt_long(argc, argv, "c:p:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_dir = optarg;
            break;
        case 'p':
            if (parse_port(optarg, &o->http_port) != 0) {
                fprintf(stderr, "ald-engine: --http-port: '%s' is not a port (0-65535)\n",
                        optarg);
                return 2;
            }
            break;
        case 'k':
            o->check_only = 1;
            break;
        case 'D':
            o->doctor = 1;
            break;
        case 'V':
            printf("ald-engine %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, ALD_ABI_MAJOR,
                   ALD_ABI_MINOR);
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fprintf(stderr, "Try 'ald-engine --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ald-engine: unexpected argument '%s'\nTry 'ald-engine --help'.\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

static int load_configuration(engine_config *cfg, const options *o)
{
    char err[1024];
    if (config_load_effective(cfg, o->config_dir, err, sizeof err) != 0) {
        fprintf(stderr, "ald-engine: configuration error: %s\n", err);
        return -1;
    }
    if (runtime_env_load(&cfg->runtime, err, sizeof err) != 0) {
        fprintf(stderr, "ald-engine: configuration error: %s\n", err);
        return -1;
    }
    if (o->http_port >= 0)
        cfg->http_port = o->http_port;
    log_set_level(cfg->log_level);
    return 0;
}

static int check_configuration(const engine_config *cfg)
{
    engine e;
    char err[1024];
    int rc = engine_create_plugins(&e, cfg, err, sizeof err);
    engine_stop(&e);
    if (rc != 0) {
        fprintf(stderr, "ald-engine: configuration error: %s\n", err);
        return EXIT_FAILURE;
    }
    printf("configuration OK: %s (%zu plugin instance(s))\n", cfg->config_dir,
           cfg->plugin_count);
    return EXIT_SUCCESS;
}

/* Block the signals we handle in every thread; the main loop takes them. */
static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1); /* aldctl stop --local */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Feed systemd's watchdog only while the engine's threads do their work: a
 * wedged logger or recipe thread gets the process restarted. */
static void feed_watchdog(const engine *e, uint64_t watchdog_ns, uint64_t now)
{
    static int starving;
    if (!watchdog_ns)
        return;
    int alive = engine_is_alive(e, now);
    if (alive)
        sdnotify_send("WATCHDOG=1");
    if (alive == starving)
        log_warning("engine", alive ? "logger and executor alive again: feeding the systemd "
                                      "watchdog"
                                    : "logger or executor stuck: not feeding the systemd "
                                      "watchdog (systemd restarts the engine)");
    starving = !alive;
}

/* SIGUSR1 (aldctl stop --local): abort the running recipe without the
 * database; the executor closes the valves and records the outcome through
 * the outbox when the store cannot take it. */
static void stop_locally(engine *e)
{
    char running[64] = "";
    if (e->exec_ready)
        executor_process_id(&e->exec, running, sizeof running);
    if (!running[0]) {
        log_info("engine", "SIGUSR1 (aldctl stop --local): no recipe is running");
        return;
    }
    log_warning("engine", "SIGUSR1 (aldctl stop --local): aborting process %s", running);
    executor_stop(&e->exec, LOCAL_STOP_REASON);
}

static void run_until_signal(engine *e, const sigset_t *set)
{
    const struct timespec tick = {1, 0};
    uint64_t watchdog_ns = sdnotify_watchdog_ns();
    if (watchdog_ns && watchdog_ns < 2000000000ull)
        log_warning("engine", "WatchdogSec under 2 s: the engine checks once a second, set "
                    "WatchdogSec=10 or more");
    sdnotify_send("READY=1\nSTATUS=logging");
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            log_info("engine", "%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
            sdnotify_send("STOPPING=1\nSTATUS=stopping: closing valves, draining the writer");
            return;
        }
        feed_watchdog(e, watchdog_ns, clock_mono_ns());
        if (sig == SIGHUP)
            log_info("engine", "SIGHUP: configuration reload needs a restart; ignoring");
        if (sig == SIGUSR1)
            stop_locally(e);
        engine_housekeeping(e, clock_mono_ns());
    }
}

static int run(const engine_config *cfg)
{
    sigset_t set;
    block_signals(&set);
    state_init((uint64_t)(cfg->logging_interval_s * 1e9));
    char abi[16];
    snprintf(abi, sizeof abi, "%d.%d", ALD_ABI_MAJOR, ALD_ABI_MINOR);
    stdmetrics_init(PACKAGE_VERSION, abi);
    log_info("engine", "ald-engine %s starting (plugin ABI %s), pid %d", PACKAGE_VERSION, abi,
             (int)getpid());
    config_log_effective(cfg);

    char err[1024];
    if (cfg->http_port > 0 &&
        http_start(cfg->runtime.http_bind, cfg->http_port, err, sizeof err) != 0) {
        log_error("engine", "%s", err);
        return EXIT_FAILURE;
    }
    engine e;
    int rc = EXIT_SUCCESS;
    if (engine_create_plugins(&e, cfg, err, sizeof err) != 0 ||
        engine_start(&e, err, sizeof err) != 0) {
        log_error("engine", "cannot start: %s", err);
        rc = EXIT_FAILURE;
    } else {
        const char *data_dir = cfg->data_dir ? cfg->data_dir : config_default_data_dir();
        if (local_stop_write_pidfile(data_dir, err, sizeof err) != 0)
            log_warning("engine", "%s", err);
        run_until_signal(&e, &set);
        local_stop_remove_pidfile(data_dir);
    }
    uint64_t t0 = clock_mono_ns();
    engine_stop(&e);
    http_stop();
    log_info("engine", "stopped in %.0f ms", (double)(clock_mono_ns() - t0) / 1e6);
    metrics_reset();
    return rc;
}

int main(int argc, char **argv)
{
    options opts;
    int parsed = parse_args(argc, argv, &opts);
    if (parsed)
        return parsed == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
    engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (load_configuration(&cfg, &opts) != 0) {
        config_free(&cfg);
        return EXIT_FAILURE;
    }
    int rc = opts.doctor       ? (doctor_run(&cfg) == 0 ? EXIT_SUCCESS : EXIT_FAILURE)
             : opts.check_only ? check_configuration(&cfg)
                               : run(&cfg);
    config_free(&cfg);
    return rc;
}
