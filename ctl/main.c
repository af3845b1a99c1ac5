/*
 * main.c - aldctl: the operators' command line for ald-engine. Global
 * options, the command table and per-command help; each group of commands
 * lives in its own cmd_*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

#include "build-config.h" /* PACKAGE_VERSION, from configure */

typedef struct ctl_command {
    const char *name;
    int (*run)(ctl *c, int argc, char **argv);
    const char *synopsis; /* after "aldctl NAME" */
    const char *help;     /* what it does, its own options */
} ctl_command;

static const ctl_command COMMANDS[] = {
    {"recipes", cmd_recipes, "",
     "List the recipes in storage: id, name, version, executed steps and nominal\n"
     "duration.\n"},
    {"show", cmd_show, "RECIPE",
     "Show a recipe's settings and its tree of steps. RECIPE is an id or an exact name.\n"
     "With --json: the recipe as the engine records it (ids, totals).\n"},
    {"start", cmd_start, "RECIPE [--operator ID] [--wait]",
     "Queue a start_recipe command for the machine.\n"
     "  --operator ID   the operator the run is recorded for\n"
     "  --wait          follow the run: wait until an engine takes the command, show\n"
     "                  live progress, exit 0 only if the run completed\n"
     "Default --timeout with --wait: the recipe's nominal duration + 60 s.\n"},
    {"stop", cmd_stop, "[--process ID] [--wait] | --local",
     "Queue a stop_recipe command (the running recipe is aborted, valves closed).\n"
     "  --process ID    stop only if this process is the running one\n"
     "  --wait          wait for the engine's answer and for the run to end\n"
     "  --local         no database: signal the engine on this host (SIGUSR1 to the\n"
     "                  pid in DATA_DIR/ald-engine.pid); it aborts the run, closes\n"
     "                  the valves and records the outcome when storage answers\n"},
    {"set", cmd_set, "PARAMETER VALUE",
     "Write a setpoint through the engine (set_parameter) and wait for the outcome.\n"
     "PARAMETER is a parameter id or \"Component Name/parameter_name\",\n"
     "e.g. \"MFC 1/flow_rate\". The engine checks the parameter's limits.\n"},
    {"clear-error", cmd_clear_error, "",
     "Return a machine in error to idle (clear_error) and wait for the outcome.\n"},
    {"status", cmd_status, "[--watch] [--process ID]",
     "Machine status, the current process, its recipe, step and progress bar.\n"
     "  --process ID    show this process (also after it ended)\n"
     "  --watch         keep showing: redraw every 0.5 s on a terminal, else one\n"
     "                  line per change; ends with the run or Ctrl-C\n"},
    {"import", cmd_import, "FILE [--id ID]",
     "Validate a recipe document (JSON, see docs/aldctl.md; FILE - = stdin) and save\n"
     "it. Prints the recipe's id.\n"
     "  --id ID         save under this id, replacing the recipe that has it\n"},
    {"export", cmd_export, "RECIPE [-o FILE]",
     "Write a recipe as a JSON document (to stdout, or FILE with -o).\n"},
    {"validate", cmd_validate, "FILE",
     "Check a recipe document without storage. Exit 0 when valid, 1 with the place\n"
     "of the first problem otherwise.\n"},
};
#define COMMAND_COUNT (sizeof COMMANDS / sizeof COMMANDS[0])

static const char COMMON_HELP[] =
    "Options of every command:\n"
    "  --config DIR      engine configuration directory (default: as ald-engine)\n"
    "  --machine ID      machine to act on (default: engine machine_id / MACHINE_ID)\n"
    "  --json            machine-readable output\n"
    "  --timeout SECONDS how long to wait for the engine (default 30)\n"
    "  -h, --help        this help\n";

static const ctl_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!strcmp(COMMANDS[i].name, name))
            return &COMMANDS[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: aldctl [OPTION]... COMMAND [ARG]...\n"
                 "Operate an ALD tool through ald-engine: recipes, runs, setpoints.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].synopsis);
    fprintf(out,
            "\n%s  -V, --version     print the version, then exit\n\n"
            "'aldctl COMMAND --help' describes a command. Exit codes: 0 done, 1 failed\n"
            "or refused, 2 usage, 3 configuration/storage, 4 timed out.\n",
            COMMON_HELP);
}

void ctl_command_help(const char *command, FILE *out)
{
    const ctl_command *cmd = find_command(command);
    if (!cmd) {
        usage(out);
        return;
    }
    fprintf(out, "Usage: aldctl %s %s\n%s\n%s", cmd->name, cmd->synopsis, cmd->help,
            COMMON_HELP);
}

int ctl_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aldctl %s: ", command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'aldctl %s --help'.\n", command);
    return CTL_EXIT_USAGE;
}

int ctl_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aldctl: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= 0) || v > 1e7)
        return -1;
    *out = v;
    return 0;
}

int ctl_common_option(ctl *c, const char *command, int opt, const char *arg)
{
    switch (opt) {
    case CTL_OPT_CONFIG:
        c->config_dir = arg;
        return 0;
    case CTL_OPT_MACHINE:
        c->machine_opt = arg;
        return 0;
    case CTL_OPT_JSON:
        c->json = 1;
        return 0;
    case CTL_OPT_TIMEOUT:
        if (parse_seconds(arg, &c->timeout_s) != 0)
            return ctl_usage_error(command, "--timeout: '%s' is not a number of seconds",
                                   arg);
        return 0;
    case 'h':
        ctl_command_help(command, stdout);
        return CTL_OPT_EXIT_HELP;
    case '?':
        return ctl_usage_error(command, "unknown or incomplete option");
    default:
        return CTL_OPT_NOT_COMMON;
    }
}

int ctl_parse_simple(ctl *c, const char *command, int argc, char **argv, int positional,
                     const char **args)
{
    static const struct option opts[] = {CTL_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, command, o, optarg);
        if (rc != 0)
            return rc == CTL_OPT_NOT_COMMON ? ctl_usage_error(command, "unexpected option")
                                            : rc;
    }
    if (argc - optind != positional)
        return ctl_usage_error(command, "expected %d argument(s), got %d", positional,
                               argc - optind);
    for (int i = 0; i < positional; i++)
        args[i] = argv[optind + i];
    return 0;
}

/* Options before the command (aldctl --config DIR status): same as after it. */
static int parse_global(ctl *c, int argc, char **argv, int *command_index)
{
    static const struct option opts[] = {
        CTL_COMMON_LONGOPTS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        if (o == 'V') {
            printf("aldctl %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, ALD_ABI_MAJOR,
                   ALD_ABI_MINOR);
            return CTL_OPT_EXIT_HELP;
        }
        if (o == 'h') {
            usage(stdout);
            return CTL_OPT_EXIT_HELP;
        }
        int rc = ctl_common_option(c, "", o, optarg);
        if (rc != 0)
            return rc;
    }
    *command_index = optind;
    return 0;
}

int main(int argc, char **argv)
{
    ctl c;
    memset(&c, 0, sizeof c);
    c.timeout_s = -1;
    log_set_level(ALD_LOG_ERROR); /* plugins' info lines are not for this audience */
    int first = 0;
    int rc = parse_global(&c, argc, argv, &first);
    if (rc != 0)
        return rc == CTL_OPT_EXIT_HELP ? CTL_EXIT_OK : rc;
    if (first >= argc) {
        usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (!strcmp(argv[first], "help")) {
        ctl_command_help(first + 1 < argc ? argv[first + 1] : "", stdout);
        return CTL_EXIT_OK;
    }
    const ctl_command *cmd = find_command(argv[first]);
    if (!cmd) {
        fprintf(stderr, "aldctl: unknown command '%s'\nTry 'aldctl --help'.\n", argv[first]);
        return CTL_EXIT_USAGE;
    }
    rc = cmd->run(&c, argc - first, argv + first);
    ctl_close(&c);
    return rc == CTL_OPT_EXIT_HELP ? CTL_EXIT_OK : rc;
}
