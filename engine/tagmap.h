/* tagmap.h: being written */
