/* logger.h: being written */
