/*
 * testhost: a stand-in for Fluent Bit's Go proxy (src/flb_plugin_proxy.c,
 * src/proxy/go/go.c) that loads an output plugin .so and drives it through
 * the same ABI, so the Go tests can exercise the real exported functions
 * without a Fluent Bit build. Chunks are packed with msgpack-c exactly like
 * Fluent Bit packs them (msgpack_pack_ext for EventTime = fixext8 "d7 00").
 *
 * Build: cc -O1 -Wall -o host host.c -ldl -lpthread -lmsgpackc
 * Run:   host /path/to/plugin.so < script
 *        host noop < script   (no .so: built-in no-op exports that answer
 *                              FLB_OK and never read the chunk; the
 *                              receive-only baseline of the CPU benchmark,
 *                              like Fluent Bit's null output)
 *
 * Script: one command per line, words separated by single spaces.
 *   set INST KEY VALUE...   add a property to instance INST (value = rest of
 *                           the line, may be empty; lookups are
 *                           case-insensitive and return the first match, like
 *                           flb_kv_get_key_value)
 *   register                FLBPluginRegister(def)  (done once at start too)
 *   init INST               FLBPluginInit for INST (the shared plugin struct
 *                           is pointed at INST's properties and context first)
 *   flush INST FILE LAYOUT  pack the records of FILE into one chunk and call
 *                           FLBPluginFlushCtx; LAYOUT is v1 ([ts, rec],
 *                           fixarray), v2 ([[ts, {}], rec], fixarray, like
 *                           Fluent Bit's current fast path), v2a32 (array32
 *                           headers, like Fluent Bit 4.2.8) or raw (FILE is
 *                           the chunk itself: corrupt/truncated chunks)
 *   flushraw INST FILE      same as flush INST FILE raw
 *   parflush INST LAYOUT FILE...
 *                           one thread per FILE (files may repeat), all
 *                           calling FLBPluginFlushCtx on INST at once
 *   exit INST               FLBPluginExitCtx(INST's remote context)
 *   exitunknown             FLBPluginExitCtx with NULL and with an unknown
 *                           pointer (what Fluent Bit does for instances whose
 *                           init never ran)
 *   exitall                 FLBPluginExit() (the fallback without ExitCtx)
 *   unregister              FLBPluginUnregister(def)
 *   quit                    dlclose and exit 0
 *
 * Record file: one record per line, tokens separated by one space, every
 * token percent-encoded (%XX for any byte; the Go side escapes space, '%',
 * control bytes and non-ASCII bytes):
 *   TS KEY VALUE KEY VALUE ...
 *   TS    = e:SEC.NSEC (EventTime) | i:SEC (integer) | f:FLOAT | g:start | g:end
 *   VALUE = s:TEXT (str) | b:TEXT (bin) | i:INT | u:UINT
 *
 * Output on stdout, one line per result, then "end" after each command:
 *   result op=OP inst=INST [thread=N] rc=RC name=FLB_OK|FLB_ERROR|FLB_RETRY|other
 *   error MESSAGE            (a script error: the test fails)
 * The plugin's own log lines go to stderr, untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the ABI, as in fluent-bit include/fluent-bit/flb_plugin_proxy.h,
 * flb_api.h and fluent-bit-go output/flb_output.h ---- */

/* Fluent Bit <= 4.2.2 layout (32 bytes, flb_malloc'd, not zeroed): the
 * pinned fluent-bit-go must not write past it. */
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
};

/* The v4.0.3+ table; the plugin only ever calls output_get_property. */
struct flb_api {
    char *(*output_get_property)(char *, void *);
    char *(*input_get_property)(char *, void *);
    void *(*output_get_cmt_instance)(void *);
    void *(*input_get_cmt_instance)(void *);
    void (*log_print)(int, const char *, int, const char *, ...);
    int (*input_log_check)(void *, int);
    int (*output_log_check)(void *, int);
    char *(*custom_get_property)(char *, void *);
    int (*custom_log_check)(void *, int);
};

struct flb_plugin_proxy_context {
    void *remote_context;
};

struct flbgo_output_plugin {
    void *_;
    struct flb_api *api;
    void *o_ins; /* struct flb_output_instance * in Fluent Bit; ours is struct instance * */
    struct flb_plugin_proxy_context *context;
};

#define FLB_ERROR 0
#define FLB_OK 1
#define FLB_RETRY 2

typedef int (*register_fn)(struct flb_plugin_proxy_def *);
typedef int (*init_fn)(void *);
typedef int (*flush_ctx_fn)(void *, const void *, size_t, char *);
typedef int (*exit_ctx_fn)(void *);
typedef int (*exit_fn)(void);
typedef void (*unregister_fn)(struct flb_plugin_proxy_def *);

static struct {
    register_fn reg;
    init_fn init;
    flush_ctx_fn flush_ctx;
    exit_ctx_fn exit_ctx;
    exit_fn exit_all;
    unregister_fn unreg;
} sym;

/* ---- instances and their properties ---- */

struct prop {
    char *key;
    char *value;
};

struct instance {
    char name[64];
    struct prop props[128];
    int nprops;
    struct flb_plugin_proxy_context *ctx; /* calloc'd per instance, like flb_output_new */
};

static struct instance instances[16];
static int ninstances;
static struct flb_api api;
static struct flbgo_output_plugin plugin; /* one per .so, as in go.c */
static struct flb_plugin_proxy_def *def;

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static const char *rc_name(int rc)
{
    switch (rc) {
    case FLB_ERROR: return "FLB_ERROR";
    case FLB_OK: return "FLB_OK";
    case FLB_RETRY: return "FLB_RETRY";
    }
    return "other";
}

static struct instance *find_instance(const char *name, int create)
{
    for (int i = 0; i < ninstances; i++) {
        if (strcmp(instances[i].name, name) == 0) {
            return &instances[i];
        }
    }
    if (!create || ninstances == (int) (sizeof(instances) / sizeof(instances[0])) ||
        strlen(name) >= sizeof(instances[0].name)) {
        return NULL;
    }
    struct instance *in = &instances[ninstances++];
    snprintf(in->name, sizeof(in->name), "%s", name);
    in->ctx = calloc(1, sizeof(*in->ctx));
    return in;
}

/* flb_kv_get_key_value: case-insensitive, exact length, first match; NULL
 * when missing (and for empty values, which flb_output_set_property stores
 * as NULL after env translation). */
static char *get_property(char *key, void *o_ins)
{
    struct instance *in = o_ins;
    size_t len = strlen(key);
    for (int i = 0; i < in->nprops; i++) {
        if (strlen(in->props[i].key) == len && strncasecmp(in->props[i].key, key, len) == 0) {
            return in->props[i].value[0] ? in->props[i].value : NULL;
        }
    }
    return NULL;
}

static char *no_property(char *key, void *ins)
{
    (void) key;
    (void) ins;
    fprintf(stderr, "testhost: plugin called a non-output property getter\n");
    abort();
}

/* ---- record files -> msgpack chunk ---- */

static int unhex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* unescape decodes %XX in place and returns the new length (-1 on error). */
static long unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) return -1;
            int h = unhex((unsigned char) s[i + 1]), l = unhex((unsigned char) s[i + 2]);
            if (h < 0 || l < 0) return -1;
            s[o++] = (char) (h << 4 | l);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    return (long) o;
}

static void pack_header(msgpack_sbuffer *sb, msgpack_packer *pk, int a32)
{
    if (a32) {
        msgpack_sbuffer_write(sb, "\xdd\x00\x00\x00\x02", 5);
    } else {
        msgpack_pack_array(pk, 2);
    }
}

/* flb_time_append_to_msgpack: ext type 0, 8 bytes, big-endian sec and nsec. */
static void pack_event_time(msgpack_packer *pk, uint32_t sec, uint32_t nsec)
{
    char b[8];
    uint32_t s = htobe32(sec), n = htobe32(nsec);
    memcpy(b, &s, 4);
    memcpy(b + 4, &n, 4);
    msgpack_pack_ext(pk, 8, 0);
    msgpack_pack_ext_body(pk, b, 8);
}

static int pack_ts(msgpack_packer *pk, const char *t)
{
    if (strncmp(t, "e:", 2) == 0) {
        unsigned long long sec = 0, nsec = 0;
        if (sscanf(t + 2, "%llu.%llu", &sec, &nsec) < 1) return -1;
        pack_event_time(pk, (uint32_t) sec, (uint32_t) nsec);
    } else if (strncmp(t, "i:", 2) == 0) {
        msgpack_pack_uint64(pk, strtoull(t + 2, NULL, 10));
    } else if (strncmp(t, "f:", 2) == 0) {
        msgpack_pack_double(pk, strtod(t + 2, NULL));
    } else if (strcmp(t, "g:start") == 0) {
        pack_event_time(pk, 0xFFFFFFFFu, 0);
    } else if (strcmp(t, "g:end") == 0) {
        pack_event_time(pk, 0xFFFFFFFEu, 0);
    } else {
        return -1;
    }
    return 0;
}

static int pack_value(msgpack_packer *pk, char *tok, size_t len)
{
    if (len < 2 || tok[1] != ':') return -1;
    char type = tok[0];
    long n = unescape(tok + 2, len - 2);
    if (n < 0) return -1;
    switch (type) {
    case 's':
        msgpack_pack_str(pk, (size_t) n);
        msgpack_pack_str_body(pk, tok + 2, (size_t) n);
        return 0;
    case 'b':
        msgpack_pack_bin(pk, (size_t) n);
        msgpack_pack_bin_body(pk, tok + 2, (size_t) n);
        return 0;
    case 'i':
        tok[2 + n] = 0;
        msgpack_pack_int64(pk, strtoll(tok + 2, NULL, 10));
        return 0;
    case 'u':
        tok[2 + n] = 0;
        msgpack_pack_uint64(pk, strtoull(tok + 2, NULL, 10));
        return 0;
    }
    return -1;
}

/* build_chunk packs every record line of path; returns 0 or -1 with *err. */
static int build_chunk(const char *path, const char *layout, msgpack_sbuffer *sb, const char **err)
{
    int v2, a32;
    if (strcmp(layout, "v1") == 0) {
        v2 = 0, a32 = 0;
    } else if (strcmp(layout, "v2") == 0) {
        v2 = 1, a32 = 0;
    } else if (strcmp(layout, "v2a32") == 0) {
        v2 = 1, a32 = 1;
    } else {
        *err = "unknown layout";
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = strerror(errno);
        return -1;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        if (len == 0) continue;
        char *toks[512];
        size_t lens[512];
        int nt = 0;
        char *p = line, *end = line + len;
        while (p < end && nt < 512) {
            char *sp = memchr(p, ' ', (size_t) (end - p));
            if (!sp) sp = end;
            toks[nt] = p;
            lens[nt] = (size_t) (sp - p);
            *sp = 0;
            nt++;
            p = sp + 1;
        }
        if (nt < 1 || nt % 2 != 1) {
            *err = "record line: want TS followed by key/value pairs";
            rc = -1;
            break;
        }
        pack_header(sb, &pk, a32);
        if (v2) {
            pack_header(sb, &pk, a32);
        }
        if (pack_ts(&pk, toks[0]) < 0) {
            *err = "record line: bad timestamp";
            rc = -1;
            break;
        }
        if (v2) {
            msgpack_pack_map(&pk, 0);
        }
        msgpack_pack_map(&pk, (size_t) (nt - 1) / 2);
        for (int i = 1; i < nt; i += 2) {
            long kn = unescape(toks[i], lens[i]);
            if (kn < 0) {
                *err = "record line: bad key escape";
                rc = -1;
                break;
            }
            msgpack_pack_str(&pk, (size_t) kn);
            msgpack_pack_str_body(&pk, toks[i], (size_t) kn);
            if (pack_value(&pk, toks[i + 1], lens[i + 1]) < 0) {
                *err = "record line: bad value (want s:, b:, i: or u:)";
                rc = -1;
                break;
            }
        }
        if (rc < 0) break;
    }
    free(line);
    fclose(f);
    return rc;
}

static int read_file(const char *path, char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
    }
    fclose(f);
    *data = b;
    *size = n;
    return 0;
}

/* flush_copy hands the plugin a private copy of the chunk and poisons it
 * afterwards: Fluent Bit frees the chunk after the callback, so a plugin
 * keeping a view past FLBPluginFlushCtx would read garbage (and the tests
 * would see wrong sums). */
static int flush_copy(struct instance *in, const char *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    char tag[] = "courier.log";
    int rc = sym.flush_ctx(in->ctx->remote_context, copy, size, tag);
    memset(copy, 0xc1, size); /* 0xc1: never valid msgpack */
    free(copy);
    return rc;
}

struct par {
    pthread_t th;
    struct instance *in;
    const char *data;
    size_t size;
    int rc;
};

static void *par_main(void *arg)
{
    struct par *p = arg;
    p->rc = flush_copy(p->in, p->data, p->size);
    return NULL;
}

/* ---- "noop": the receive-only baseline (no Go runtime, no decoding) ---- */

static int noop_register(struct flb_plugin_proxy_def *d)
{
    d->type = 1; /* FLB_PROXY_OUTPUT_PLUGIN */
    d->proxy = 2; /* FLB_PROXY_GOLANG */
    d->flags = 0;
    d->name = "noop";
    d->description = "receives chunks and does nothing";
    return 0;
}

static int noop_init(void *p)
{
    struct flbgo_output_plugin *pl = p;
    pl->context->remote_context = pl->o_ins;
    return FLB_OK;
}

static int noop_flush(void *ctx, const void *data, size_t size, char *tag)
{
    (void) ctx;
    (void) data;
    (void) size;
    (void) tag;
    return FLB_OK;
}

static int noop_exit_ctx(void *ctx)
{
    (void) ctx;
    return FLB_OK;
}

static int noop_exit(void)
{
    return FLB_OK;
}

/* ---- the script ---- */

static void result(const char *op, const char *inst, int rc)
{
    say("result op=%s inst=%s rc=%d name=%s", op, inst, rc, rc_name(rc));
}

static void do_register(void)
{
    if (!def) {
        def = malloc(sizeof(*def)); /* not zeroed, like flb_malloc in <= 4.2.2 */
        memset(def, 0xa5, sizeof(*def));
    }
    int rc = sym.reg(def);
    say("result op=register inst=- rc=%d name=%s type=%d proxy=%d plugin=%s", rc, rc == -1 ? "failure" : "ok",
        def->type, def->proxy, def->name ? def->name : "(null)");
}

/* load_chunk returns the chunk of a flush/parflush file argument. */
static int load_chunk(const char *file, const char *layout, char **data, size_t *size)
{
    if (strcmp(layout, "raw") == 0) {
        if (read_file(file, data, size) < 0) {
            say("error %s: %s", file, strerror(errno));
            return -1;
        }
        return 0;
    }
    const char *err = NULL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (build_chunk(file, layout, &sb, &err) < 0) {
        say("error %s: %s", file, err);
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    *size = sb.size;
    *data = msgpack_sbuffer_release(&sb);
    return 0;
}

#define MAXWORDS 70

static void command(char *line)
{
    char *w[MAXWORDS];
    int nw = 0;
    char *value = NULL; /* for set: everything after the key, spaces included */
    for (char *p = line; p && *p && nw < MAXWORDS;) {
        w[nw++] = p;
        p = strchr(p, ' ');
        if (p) {
            *p++ = 0;
            if (nw == 3 && strcmp(w[0], "set") == 0) {
                value = p;
                break;
            }
        }
    }
    if (nw == 0) return;
    const char *cmd = w[0];
    if (strcmp(cmd, "set") == 0 && nw == 3) {
        struct instance *in = find_instance(w[1], 1);
        if (!in || in->nprops == 128) {
            say("error too many instances or properties");
            return;
        }
        in->props[in->nprops].key = strdup(w[2]);
        in->props[in->nprops].value = strdup(value ? value : "");
        in->nprops++;
        return;
    }
    if (strcmp(cmd, "register") == 0) {
        do_register();
        return;
    }
    if (strcmp(cmd, "exitunknown") == 0) {
        if (!sym.exit_ctx) {
            say("error no FLBPluginExitCtx");
            return;
        }
        result("exitctx-null", "-", sym.exit_ctx(NULL));
        static char unknown;
        result("exitctx-unknown", "-", sym.exit_ctx(&unknown));
        return;
    }
    if (strcmp(cmd, "exitall") == 0) {
        if (!sym.exit_all) {
            say("error no FLBPluginExit");
            return;
        }
        result("exit", "-", sym.exit_all());
        return;
    }
    if (strcmp(cmd, "unregister") == 0) {
        if (sym.unreg) sym.unreg(def);
        say("result op=unregister inst=- rc=1 name=FLB_OK");
        return;
    }
    if (nw < 2) {
        say("error bad command: %s", cmd);
        return;
    }
    struct instance *in = find_instance(w[1], strcmp(cmd, "init") == 0);
    if (!in) {
        say("error unknown instance %s", w[1]);
        return;
    }
    if (strcmp(cmd, "init") == 0) {
        /* flb_proxy_output_cb_init + proxy_go_output_init: the one plugin
         * struct is re-pointed at this instance for the duration of init. */
        plugin.api = &api;
        plugin.o_ins = in;
        plugin.context = in->ctx;
        result("init", in->name, sym.init(&plugin));
        plugin.o_ins = NULL;
        return;
    }
    if (strcmp(cmd, "exit") == 0) {
        if (!sym.exit_ctx) {
            say("error no FLBPluginExitCtx");
            return;
        }
        result("exitctx", in->name, sym.exit_ctx(in->ctx->remote_context));
        return;
    }
    if (strcmp(cmd, "flush") == 0 && nw == 4) {
        char *data = NULL;
        size_t size = 0;
        if (load_chunk(w[2], w[3], &data, &size) < 0) return;
        result("flush", in->name, flush_copy(in, data, size));
        free(data);
        return;
    }
    if (strcmp(cmd, "flushraw") == 0 && nw == 3) {
        char *data = NULL;
        size_t size = 0;
        if (load_chunk(w[2], "raw", &data, &size) < 0) return;
        result("flushraw", in->name, flush_copy(in, data, size));
        free(data);
        return;
    }
    if (strcmp(cmd, "parflush") == 0 && nw >= 4) {
        int n = nw - 3;
        struct par *ps = calloc((size_t) n, sizeof(*ps));
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            char *data = NULL;
            size_t size = 0;
            ok = load_chunk(w[3 + i], w[2], &data, &size) == 0;
            ps[i] = (struct par){.in = in, .data = data, .size = size};
        }
        if (ok) {
            /* all chunks are built first so that the flushes overlap */
            for (int i = 0; i < n; i++) pthread_create(&ps[i].th, NULL, par_main, &ps[i]);
            for (int i = 0; i < n; i++) pthread_join(ps[i].th, NULL);
            for (int i = 0; i < n; i++) {
                say("result op=parflush inst=%s thread=%d rc=%d name=%s", in->name, i, ps[i].rc, rc_name(ps[i].rc));
            }
        }
        for (int i = 0; i < n; i++) free((void *) ps[i].data);
        free(ps);
        return;
    }
    say("error bad command or arguments: %s", cmd);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so|noop < script\n", argv[0]);
        return 2;
    }
    void *h = NULL;
    if (strcmp(argv[1], "noop") == 0) {
        sym.reg = noop_register;
        sym.init = noop_init;
        sym.flush_ctx = noop_flush;
        sym.exit_ctx = noop_exit_ctx;
        sym.exit_all = noop_exit;
    } else {
        h = dlopen(argv[1], RTLD_LAZY);
        if (!h) {
            say("error dlopen: %s", dlerror());
            return 1;
        }
        sym.reg = (register_fn) dlsym(h, "FLBPluginRegister");
        sym.init = (init_fn) dlsym(h, "FLBPluginInit");
        sym.flush_ctx = (flush_ctx_fn) dlsym(h, "FLBPluginFlushCtx");
        sym.exit_ctx = (exit_ctx_fn) dlsym(h, "FLBPluginExitCtx");
        sym.exit_all = (exit_fn) dlsym(h, "FLBPluginExit");
        sym.unreg = (unregister_fn) dlsym(h, "FLBPluginUnregister");
    }
    if (!sym.reg || !sym.init || !sym.flush_ctx) {
        say("error missing FLBPluginRegister, FLBPluginInit or FLBPluginFlushCtx");
        return 1;
    }
    api.output_get_property = get_property;
    api.input_get_property = no_property;
    api.custom_get_property = no_property;

    do_register();
    say("end");

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        if (strcmp(line, "quit") == 0) break;
        command(line);
        say("end");
    }
    free(line);
    /* Fluent Bit dlclose()s the .so after FLBPluginUnregister. */
    if (h) dlclose(h);
    say("result op=quit inst=- rc=1 name=FLB_OK");
    return 0;
}
