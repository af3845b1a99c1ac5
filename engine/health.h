/* health.h: being written */
