/* loader.h: being written */
