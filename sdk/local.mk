# Public ABI headers: installed under $(includedir)/ald/, with ald-sdk.pc.
aldincludedir = $(includedir)/ald
aldinclude_HEADERS = sdk/include/ald/abi.h sdk/include/ald/host.h \
	sdk/include/ald/plc.h sdk/include/ald/storage.h sdk/include/ald/plugin.h \
	sdk/include/ald/settings.h sdk/include/ald/number.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = sdk/ald-sdk.pc
EXTRA_DIST += sdk/ald-sdk.pc.in sdk/README.md
