/* http.h: being written */
