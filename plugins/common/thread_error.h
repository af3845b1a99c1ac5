/*
 * thread_error.h - an instance's last error text as the CALLING THREAD left
 * it. The PLC ABI lets write_tag() and pulse() run on the executor's thread
 * while read_all() runs on the logger's: with one shared text, the message
 * read after a failed valve close could be the logger's read error. A PLC
 * plugin records each error here too, and its last_error() prefers this
 * thread's own text, so the text read right after a call describes that call.
 * Compiled into each plugin that uses it (never into the engine).
 */
#ifndef ALD_THREAD_ERROR_H
#define ALD_THREAD_ERROR_H

/* Record text as this thread's last error on instance. */
void thread_error_set(const void *instance, const char *text);
/* This thread's last call on instance succeeded where it clears errors. */
void thread_error_clear(const void *instance);
/* This thread's last error text on instance, or NULL when this thread
 * recorded none for it (then the caller falls back to the shared text). */
const char *thread_error_get(const void *instance);

#endif
