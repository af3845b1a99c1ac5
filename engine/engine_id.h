/*
 * engine_id.h - this engine's stable name in engine_leases.
 *
 * ALD_ENGINE_ID when set (blue, green, the host name under systemd).
 * Otherwise the name kept in <data_dir>/engine-id: created once (host name
 * plus 64 random bits), then read back on every start, so an engine that
 * restarts on the same data directory (kill -9, a crash) is the same holder
 * and reclaims its own lease at once instead of waiting for it to expire.
 *
 * Two engines sharing a data directory (blue/green on one volume without
 * ALD_ENGINE_ID) must never share a name, or both would hold the lease: the
 * file stays locked (flock) for the whole life of the engine that claimed
 * it. An engine that finds it locked is a second live engine on the same
 * directory and is named host:pid instead, with a warning. The kernel drops
 * the lock when its holder dies, even of SIGKILL, so a restarted engine gets
 * the name back. (flock works across containers on one local volume; on a
 * network file system without flock set ALD_ENGINE_ID.)
 *
 * THREADING: main thread only (start and stop).
 */
#ifndef ALD_ENGINE_ENGINE_ID_H
#define ALD_ENGINE_ENGINE_ID_H

#include <stddef.h>

#define ENGINE_ID_FILE "engine-id"

/* Choose this engine's name (see above); never fails: the fallback is
 * host:pid. Logs where the name came from. */
void engine_id_claim(const char *data_dir);

/* The claimed name, or NULL before engine_id_claim / after engine_id_release. */
const char *engine_id_name(void);

/* Unlock the id file (at stop). */
void engine_id_release(void);

/* This process's life: random, made once, never reused. The engine id is
 * stable across restarts, so a run recorded as "ours" by a previous life
 * (crashed, restarted) is told apart from the run this life drives. Any thread. */
const char *engine_id_instance(void);

#endif
