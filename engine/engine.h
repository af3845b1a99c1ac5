/* engine.h: being written */
