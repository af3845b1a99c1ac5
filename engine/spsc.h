/* spsc.h: being written */
