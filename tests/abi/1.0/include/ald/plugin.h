/*
 * ald/plugin.h - the one header a plugin includes: the whole public ABI.
 * See abi.h for the versioning rules, host.h for host services, plc.h and
 * storage.h for the two plugin kinds.
 */
#ifndef ALD_PLUGIN_H
#define ALD_PLUGIN_H

#include "ald/abi.h"
#include "ald/host.h"
#include "ald/plc.h"
#include "ald/storage.h"

#endif /* ALD_PLUGIN_H */
