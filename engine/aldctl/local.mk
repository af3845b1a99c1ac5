# engine/aldctl: the operators' command line. Built at the top of the build
# tree (like ald-engine) so it finds conf.d and the plugins there too.
bin_PROGRAMS += aldctl
aldctl_SOURCES = \
	engine/aldctl/ctl.h \
	engine/aldctl/main.c \
	engine/aldctl/store.c \
	engine/aldctl/wait.c \
	engine/aldctl/render.c engine/aldctl/render.h \
	engine/aldctl/cmd_recipes.c \
	engine/aldctl/cmd_run.c \
	engine/aldctl/cmd_status.c
aldctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
aldctl_LDADD = engine/libaldcore.la $(JANSSON_LIBS) -lm
