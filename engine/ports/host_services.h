/*
 * host_services.h - builds the ald_host services table handed to each plugin instance.
 * The table is per instance: log lines carry the instance name.
 */
#ifndef ALD_ENGINE_HOST_SERVICES_H
#define ALD_ENGINE_HOST_SERVICES_H

#include "ald/host.h"

/* A heap-allocated table for one instance; free with host_free(). */
ald_host *host_new(const char *instance_name);
void host_free(ald_host *host);
/* The instance name a table was made for. */
const char *host_instance_name(const ald_host *host);
/* Warnings and errors the instance has logged so far, and the first of them
 * into first ("" while its text is being written): for --doctor, a
 * plugin's own diagnosis at start. */
unsigned host_warnings(const ald_host *host, char *first, size_t len);
/* While quiet, the instance's warnings and infos are logged at DEBUG and not
 * counted (errors stay errors): a second instance of a plugin (the recipe
 * loader, engine.c) would otherwise repeat what the first said at start. */
void host_set_quiet(ald_host *host, int quiet);

#endif
