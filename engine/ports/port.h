/*
 * port.h - what the PLC port and the storage port share: the opaque plugin
 * instance a worker holds, and the error text a port call captures.
 *
 * Workers (logger, writer, executor, commands, setpoint, engine) hold a
 * plugin_instance pointer but never look inside it: only engine/ports/ sees
 * plugin vtables. Every port call returns the plugin's ald_status; when it
 * fails and the caller passed a port_error, the plugin's last_error text is
 * copied into it inside the same critical section as the call, so the text
 * belongs to that call and not to another thread's.
 */
#ifndef ALD_ENGINE_PORT_H
#define ALD_ENGINE_PORT_H

#include "ald/abi.h"

typedef struct plugin_instance plugin_instance;

#define PORT_ERROR_LEN 256

typedef struct port_error {
    char text[PORT_ERROR_LEN]; /* "" when the plugin gave no text */
} port_error;

/* The captured text, or "" for a NULL error. */
static inline const char *port_error_text(const port_error *err)
{
    return err ? err->text : "";
}

/* The instance's configured name (for messages). */
const char *port_instance_name(const plugin_instance *pi);

#endif
