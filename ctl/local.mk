# ctl/: aldctl, the operators' command line, a program of its own on the
# engine's storage port. (Not named aldctl/: the binary aldctl is built at
# the top of the build tree, like ald-engine, so it finds conf.d and the
# plugins there too, and a directory of that name would clash with it.)
bin_PROGRAMS += aldctl
aldctl_SOURCES = \
	ctl/ctl.h \
	ctl/main.c \
	ctl/store.c \
	ctl/wait.c \
	ctl/render.c ctl/render.h \
	ctl/cmd_recipes.c \
	ctl/cmd_run.c \
	ctl/cmd_status.c
aldctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
aldctl_LDADD = engine/libaldcore.la $(JANSSON_LIBS) -lm
