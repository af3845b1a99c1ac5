/* procstat.h: being written */
