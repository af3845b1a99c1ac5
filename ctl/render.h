/*
 * render.h - how aldctl draws things for people: durations, progress bars,
 * step trees and run outcomes. Pure formatting into caller buffers or a FILE;
 * no storage, no globals.
 */
#ifndef ALD_ALDCTL_RENDER_H
#define ALD_ALDCTL_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "ctl.h"
#include "recipe.h"

/* "850 ms", "2.2 s", "3 min 20 s", "2 h 05 min". Returns buf. */
const char *render_duration(double ms, char *buf, size_t len);

/* "[#####-----] 40% 8/20 steps, cycle 2/5" (the cycle part only when the
 * recipe has loops). `width` = characters inside the brackets. */
const char *render_progress_bar(const ctl_progress *p, int finished, int width, char *buf,
                                size_t len);

/* What a process state says about the run: "running", "completed",
 * "aborted" or "failed" (from the executor's final step type/name). */
const char *render_run_outcome(const ctl_progress *p);
int render_run_finished(const ctl_progress *p);

/* "loop "ALD cycle" x5", "valve "TMA pulse": valve 1 for 20 ms", ... */
void render_step(const recipe_step *s, char *buf, size_t len);
/* The step tree, numbered per level ("1.", "1.2."), indented. */
void render_tree(FILE *out, const recipe_step *steps, size_t n, const char *prefix,
                 int indent);

/* Print a JSON value (2-space indented) on stdout and release it; NULL prints
 * null (jansson's pack failed: out of memory). */
void render_json(json_t *value);

/* Whether stdout is a terminal (progress redraws in place only there). */
int render_is_tty(void);

#endif
