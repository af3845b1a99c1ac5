/* stdmetrics.c: being written */
