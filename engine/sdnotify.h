/*
 * sdnotify.h - systemd's notify protocol, without libsystemd: one datagram
 * per message to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or
 * "@name" for the abstract namespace), as documented in sd_notify(3).
 *
 * The engine sends READY=1 once it logs, WATCHDOG=1 while its logger and
 * executor are alive (engine_is_alive), STOPPING=1 when shutdown begins.
 * Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
 *
 * THREADING: call from the main thread.
 */
#ifndef ALD_ENGINE_SDNOTIFY_H
#define ALD_ENGINE_SDNOTIFY_H

#include <stdint.h>

/* Send one message ("READY=1", "STATUS=..."). 1 sent, 0 no socket set,
 * -1 the socket refused it (errno set). */
int sdnotify_send(const char *message);

/* The watchdog period systemd asks for ($WATCHDOG_USEC, for this pid when
 * $WATCHDOG_PID is set), in ns; 0 = no watchdog. */
uint64_t sdnotify_watchdog_ns(void);

#endif
