/* writer.h: being written */
