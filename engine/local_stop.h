/*
 * local_stop.h - the host-local stop (`aldctl stop --local`), which works
 * when the database cannot take a command (unreachable, disk full).
 *
 * The engine writes its pid to <data_dir>/ald-engine.pid once it runs and
 * removes it when it exits; SIGUSR1 to that pid aborts the running recipe
 * (valves closed first, as for any abort) and its outcome goes the usual
 * route: the primary store, else the outbox until the store answers.
 * aldctl checks the pid is an ald-engine before it signals.
 */
#ifndef ALD_ENGINE_LOCAL_STOP_H
#define ALD_ENGINE_LOCAL_STOP_H

#include <stddef.h>

#define LOCAL_STOP_PIDFILE "ald-engine.pid"
#define LOCAL_STOP_REASON "stopped on the host (aldctl stop --local)"

/* Write this process's pid file into data_dir. -1 with a message. */
int local_stop_write_pidfile(const char *data_dir, char *err, size_t len);
/* Remove the pid file if it still names this process. */
void local_stop_remove_pidfile(const char *data_dir);
/* Send the stop signal to the engine named by data_dir's pid file. Returns
 * its pid, or -1 with a message (no pid file, not an ald-engine, ...). */
long local_stop_signal(const char *data_dir, char *err, size_t len);

#endif
