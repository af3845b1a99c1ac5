/*
 * stdmetrics.h - the engine's standard metric families (docs/metrics.md).
 *
 * Worker threads only touch g_state; a collector mirrors g_state and
 * /proc/self into the registry at scrape time, so there is one source of
 * truth. The one exception is the logger's period histogram, which needs
 * every observation: the logger calls stdmetrics_observe_cycle().
 *
 * THREADING: stdmetrics_init() once from the main thread after state_init()
 * (again after metrics_reset()); stdmetrics_observe_cycle() from any thread,
 * lock-free.
 */
#ifndef ALD_ENGINE_STDMETRICS_H
#define ALD_ENGINE_STDMETRICS_H

/* Register the standard families and their collector. version and
 * abi_version label ald_build_info (copied; NULL reads as "unknown"). */
void stdmetrics_init(const char *version, const char *abi_version);

/* Record one measured logger period (seconds) in
 * ald_parameter_logging_interval_seconds. No-op before stdmetrics_init(). */
void stdmetrics_observe_cycle(double period_seconds);

#endif
