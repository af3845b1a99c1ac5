/*
 * ald/abi.h - versioning, descriptors and status codes of the ALD plugin ABI.
 *
 * Every plugin is a shared object that exports ONE function, ald_plugin_entry(),
 * returning a pointer to a static descriptor. The host dlopen()s the object with
 * RTLD_NOW | RTLD_LOCAL, calls the entry function and checks the descriptor's
 * header before it touches anything else.
 *
 * VERSIONING RULES (read before changing any sdk/ header):
 *   - ALD_ABI_MAJOR changes only when an existing field or function changes
 *     meaning, type or position. The host refuses plugins of another major.
 *   - ALD_ABI_MINOR grows when something is APPENDED: a field at the end of a
 *     struct, a function pointer at the end of a vtable, an enum value at the
 *     end of an enum. Nothing is ever removed or reordered.
 *   - Every struct that crosses the boundary starts with `uint32_t struct_size`.
 *     The reader uses min(struct_size, sizeof(its own struct)); a function
 *     pointer beyond the end of an older plugin's vtable reads as NULL and
 *     means "unsupported". So a plugin built for 1.0 loads in a 1.3 host, and
 *     a 1.3 plugin's new functions are simply not called by a 1.0 host.
 *   - Strings are UTF-8, NUL-terminated, and owned by whoever passed them;
 *     the callee copies what it keeps past the call.
 *
 * These headers include only the C standard library: no libconfig, jansson or
 * curl types, so a plugin can be built with any toolchain that speaks C11.
 */
#ifndef ALD_ABI_H
#define ALD_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALD_ABI_MAJOR 1
#define ALD_ABI_MINOR 2

/*
 * Sized structs. ALD_FIELD_END is where a member ends; ALD_HAS_FIELD tells
 * whether a struct handed across the boundary (which starts with its
 * struct_size) is long enough to hold a member, e.g. a plugin built for 1.2
 * reading a row from a 1.0 host:
 *
 *     if (ALD_HAS_FIELD(p, ald_parameter, set_value)) use(p->set_value);
 *
 * The host does the same for every row a plugin hands it: it copies the
 * plugin's struct_size bytes into a zero-filled struct of its own size, so a
 * member the plugin's build did not have reads as 0 / NULL, and it refuses
 * rows shorter than the ABI 1.0 size.
 */
#define ALD_FIELD_END(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define ALD_HAS_FIELD(ptr, type, member)                                                      \
    ((size_t)(ptr)->struct_size >= ALD_FIELD_END(type, member))

/* "ALDP" - first word of every descriptor; anything else is not our plugin. */
#define ALD_PLUGIN_MAGIC 0x414C4450u

/* Name of the single exported entry function. */
#define ALD_PLUGIN_ENTRY_SYMBOL "ald_plugin_entry"

/* Exports a symbol from a plugin built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define ALD_EXPORT __attribute__((visibility("default")))
#else
#define ALD_EXPORT
#endif

/*
 * Status codes returned by every plugin operation. Append-only.
 * On any value other than ALD_OK the plugin also sets its per-instance
 * last_error text (see the vtables), which the host logs as the detail.
 */
typedef enum ald_status {
    ALD_OK = 0,
    ALD_ERR_TIMEOUT = 1,      /* the peer did not answer in time; retryable */
    ALD_ERR_DISCONNECTED = 2, /* no connection; the plugin reconnects itself */
    ALD_ERR_PROTOCOL = 3,     /* the peer answered something unexpected */
    ALD_ERR_INVALID = 4,      /* bad argument or configuration; not retryable */
    ALD_ERR_UNSUPPORTED = 5,  /* the plugin does not implement this */
    ALD_ERR_CONFLICT = 6,     /* compare-and-set lost, duplicate key, lease held */
    ALD_ERR_AUTH = 7,         /* credentials refused; retrying will not help */
    ALD_ERR_TRANSIENT = 8,    /* try again later (overload, 5xx, busy) */
    ALD_ERR_NOMEM = 9,
    ALD_ERR_NOT_FOUND = 10,   /* the named row, tag or key does not exist */
    ALD_ERR_IO = 11,          /* local I/O failed (disk, file) */
    ALD_ERR_INTERNAL = 12     /* a bug; the message says where */
} ald_status;

/* Human-readable name of a status ("timeout", "disconnected", ...). */
static inline const char *ald_status_name(ald_status s)
{
    static const char *const names[] = {
        "ok",       "timeout",     "disconnected", "protocol error", "invalid",
        "unsupported", "conflict", "auth refused", "transient error", "out of memory",
        "not found", "I/O error",  "internal error",
    };
    return ((unsigned)s < sizeof names / sizeof names[0]) ? names[s] : "unknown status";
}

/* Whether a status is worth retrying later (used by store-and-forward). */
static inline int ald_status_is_transient(ald_status s)
{
    return s == ALD_ERR_TIMEOUT || s == ALD_ERR_DISCONNECTED || s == ALD_ERR_TRANSIENT ||
           s == ALD_ERR_IO;
}

typedef enum ald_plugin_kind {
    ALD_PLUGIN_PLC = 1,
    ALD_PLUGIN_STORAGE = 2
} ald_plugin_kind;

/*
 * Build facts that change struct layouts. A plugin compiled where any of
 * these differ from the host cannot share structs with it and is refused.
 */
typedef struct ald_abi_knobs {
    uint8_t pointer_size; /* sizeof(void *) */
    uint8_t long_size;    /* sizeof(long) */
    uint8_t double_size;  /* sizeof(double) */
    uint8_t enum_size;    /* sizeof(ald_status) */
} ald_abi_knobs;

#define ALD_ABI_KNOBS_INIT                                                                    \
    {                                                                                         \
        (uint8_t)sizeof(void *), (uint8_t)sizeof(long), (uint8_t)sizeof(double),              \
            (uint8_t)sizeof(ald_status)                                                       \
    }

/*
 * The descriptor a plugin's entry function returns. Fill it with
 * ALD_DESCRIPTOR_HEADER_INIT and designated initializers, e.g.
 *
 *     static const ald_plugin_descriptor desc = {
 *         ALD_DESCRIPTOR_HEADER_INIT,
 *         .name = "plc-example", .version = "1.0.0",
 *         .kind = ALD_PLUGIN_PLC, .capabilities = 0, .vtable = &my_vtable,
 *     };
 *     ALD_EXPORT const ald_plugin_descriptor *ald_plugin_entry(void) { return &desc; }
 */
typedef struct ald_plugin_descriptor {
    uint32_t magic;       /* ALD_PLUGIN_MAGIC */
    uint32_t struct_size; /* sizeof(ald_plugin_descriptor) as the plugin saw it */
    uint16_t abi_major;   /* ALD_ABI_MAJOR the plugin was built against */
    uint16_t abi_minor;   /* ALD_ABI_MINOR the plugin was built against */
    ald_abi_knobs knobs;
    const char *name;      /* short unique name, e.g. "plc-modbus" */
    const char *version;   /* the plugin's own version, free text */
    ald_plugin_kind kind;  /* which vtable type .vtable points to */
    uint64_t capabilities; /* ALD_CAP_* bits of the kind */
    const void *vtable;    /* ald_plc_vtable or ald_storage_vtable */
} ald_plugin_descriptor;

#define ALD_DESCRIPTOR_HEADER_INIT                                                            \
    .magic = ALD_PLUGIN_MAGIC, .struct_size = sizeof(ald_plugin_descriptor),                  \
    .abi_major = ALD_ABI_MAJOR, .abi_minor = ALD_ABI_MINOR, .knobs = ALD_ABI_KNOBS_INIT

/*
 * The same descriptor without designated initializers, for C++17 (which
 * lacks them; g++ -pedantic refuses ALD_DESCRIPTOR_HEADER_INIT there) and any
 * C compiler:
 *
 *     static const ald_plugin_descriptor desc =
 *         ALD_DESCRIPTOR("plc-example", "1.0.0", ALD_PLUGIN_PLC, 0, &my_vtable);
 *
 * In C++17 fill a vtable in a function (ald_plc_vtable v{}; v.struct_size =
 * sizeof v; v.create = ...; return v;): see sdk/README.md.
 */
#define ALD_DESCRIPTOR_HEADER                                                                 \
    ALD_PLUGIN_MAGIC, (uint32_t)sizeof(ald_plugin_descriptor), (uint16_t)ALD_ABI_MAJOR,       \
        (uint16_t)ALD_ABI_MINOR, ALD_ABI_KNOBS_INIT
#define ALD_DESCRIPTOR(name, version, kind, capabilities, vtable)                             \
    {                                                                                         \
        ALD_DESCRIPTOR_HEADER, (name), (version), (kind), (uint64_t)(capabilities), (vtable)  \
    }

typedef const ald_plugin_descriptor *(*ald_plugin_entry_fn)(void);

/* The entry function every plugin defines (declared here so plugins built
 * with -Wmissing-prototypes need no declaration of their own). */
ALD_EXPORT const ald_plugin_descriptor *ald_plugin_entry(void);

/* Declare the entry function with the right linkage and visibility. */
#define ALD_PLUGIN_ENTRY ALD_EXPORT const ald_plugin_descriptor *ald_plugin_entry(void)

#ifdef __cplusplus
}
#endif
#endif /* ALD_ABI_H */
