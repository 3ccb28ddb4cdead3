// glassgpt serve: delivers the walkthrough page, the engine's .wasm, the
// corpus and the models, with libmicrohttpd (no home-made HTTP parsing).
#define _DEFAULT_SOURCE  // realpath
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "../src/checkpoint.h"
#include "cli.h"

static const char usage_serve[] =
    "usage: glassgpt serve [--port 8080] [--host 127.0.0.1] [--models DIR]\n"
    "                      [--web DIR] [--wasm FILE] [--data DIR]\n"
    "\n"
    "Serves the walkthrough page and what it needs, on loopback unless told\n"
    "otherwise; logs one line per request; stops on Ctrl-C.\n"
    "\n"
    "  /                  the page (from --web, default web)\n"
    "  /glassgpt.wasm     the engine (--wasm, default build/web/glassgpt.wasm)\n"
    "  /data/NAME         the corpus (--data, default data)\n"
    "  /models/NAME       checkpoints (--models, default models)\n"
    "  /api/models        the checkpoints, as JSON\n";

typedef struct {
    char web[PATH_MAX], data[PATH_MAX], models[PATH_MAX], wasm[PATH_MAX];
} roots;

enum { MAX_URL = 1024 };

static volatile sig_atomic_t stopping;
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static const char *mime_type(const char *path) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".wasm", "application/wasm"},          {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},  {".bpe", "text/plain; charset=utf-8"},
        {".tsv", "text/tab-separated-values; charset=utf-8"},
        {".svg", "image/svg+xml"},              {".png", "image/png"},
        {".ico", "image/x-icon"},               {".ckpt", "application/octet-stream"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

// Whether rel (after the route's prefix) names a file inside a root: no
// empty, "." or ".." segment, no backslash, nothing absolute.
static int safe_relative(const char *rel) {
    if (!*rel || *rel == '/' || strchr(rel, '\\')) return 0;
    for (const char *s = rel; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
        s += n + (e ? 1 : 0);
        if (e && !*s) return 0;  // a trailing slash
    }
    return 1;
}

static void log_request(const char *method, const char *url, unsigned status, long long bytes) {
    time_t t = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", localtime(&t));
    size_t n = strlen(url);  // a long URL is logged by its start
    fprintf(stderr, "%s %s %.*s%s %u %lld\n", when, method, n > 200 ? 200 : (int)n, url,
            n > 200 ? "..." : "", status, bytes);
}

static enum MHD_Result send_text(struct MHD_Connection *c, const char *method, const char *url,
                                 unsigned status, const char *type, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    log_request(method, url, status, (long long)strlen(body));
    return ok;
}

static enum MHD_Result send_file(struct MHD_Connection *c, const char *method, const char *url,
                                 const char *root, const char *rel) {
    char path[PATH_MAX + MAX_URL + 2], real[PATH_MAX];
    if (!safe_relative(rel) || strlen(root) + strlen(rel) + 2 > PATH_MAX)
        return send_text(c, method, url, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    snprintf(path, sizeof path, "%s/%s", root, rel);
    // the real path must stay inside the root, whatever links say
    size_t n = strlen(root);
    struct stat st;
    if (!realpath(path, real) || strncmp(real, root, n) != 0 || real[n] != '/' ||
        stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return send_text(c, method, url, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    int fd = open(real, O_RDONLY);
    if (fd < 0) return send_text(c, method, url, MHD_HTTP_FORBIDDEN, "text/plain", "forbidden\n");
    struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", mime_type(real));
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    log_request(method, url, MHD_HTTP_OK, (long long)st.st_size);
    return ok;
}

// GET /api/models: [{"name", "url", "bytes", "vocab", "d_model", ...}, ...]
static enum MHD_Result send_models(struct MHD_Connection *c, const char *method, const char *url,
                                   const char *dir) {
    size_t cap = 4096, len = 0;
    char *json = malloc(cap);
    if (!json) return MHD_NO;
    len += (size_t)snprintf(json, cap, "[");
    DIR *d = opendir(dir);
    struct dirent *e;
    int first = 1;
    while (d && (e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".ckpt") != 0 || !safe_relative(e->d_name) ||
            strpbrk(e->d_name, "\"\\") || nl > 200)
            continue;
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        uint8_t head[64];
        FILE *f = fopen(path, "rb");
        size_t got = f ? fread(head, 1, sizeof head, f) : 0;
        long long bytes = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        if (f) fclose(f);
        gg_config cfg;
        if (gg_checkpoint_header(head, got, e->d_name, &cfg, NULL) != GG_OK) continue;
        if (len + 512 > cap) {
            char *bigger = realloc(json, cap *= 2);
            if (!bigger) break;
            json = bigger;
        }
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"name\":\"%s\",\"url\":\"/models/%s\",\"bytes\":%lld,"
                                "\"vocab\":%d,\"d_model\":%d,\"n_layer\":%d,\"n_head\":%d,"
                                "\"ctx\":%d,\"d_ff\":%d,\"pos\":\"%s\"}",
                                first ? "" : ",", e->d_name, e->d_name, bytes, cfg.vocab,
                                cfg.d_model, cfg.n_layer, cfg.n_head, cfg.ctx, cfg.d_ff,
                                cfg.pos_kind == GG_POS_LEARNED ? "learned" : "sinusoidal");
        first = 0;
    }
    if (d) closedir(d);
    snprintf(json + len, cap - len, "]\n");
    enum MHD_Result ok = send_text(c, method, url, MHD_HTTP_OK, "application/json", json);
    free(json);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version, (void)upload, (void)upload_size, (void)state;
    const roots *r = cls;
    // Every answer goes out on the first call, when only the headers have
    // been read: a body is never accepted, nor read.
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                         "only GET and HEAD\n");
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if ((length && strcmp(length, "0") != 0) ||
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
        return send_text(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
                         "no request bodies\n");
    if (strlen(url) > MAX_URL)
        return send_text(c, method, url, MHD_HTTP_URI_TOO_LONG, "text/plain", "URL too long\n");
    if (strcmp(url, "/") == 0) return send_file(c, method, url, r->web, "index.html");
    if (strcmp(url, "/glassgpt.wasm") == 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", r->wasm);
        char *slash = strrchr(dir, '/');
        *slash = 0;
        return send_file(c, method, url, dir, slash + 1);
    }
    if (strcmp(url, "/api/models") == 0) return send_models(c, method, url, r->models);
    if (strncmp(url, "/data/", 6) == 0) return send_file(c, method, url, r->data, url + 6);
    if (strncmp(url, "/models/", 8) == 0) return send_file(c, method, url, r->models, url + 8);
    return send_file(c, method, url, r->web, url + 1);
}

// Resolves a directory (or, for the wasm, a file) to an absolute path.
static int resolve(const char *what, const char *given, char *out, int want_dir) {
    struct stat st;
    if (!realpath(given, out) || stat(out, &st) != 0 ||
        (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
        return runtime_error("serve: %s %s not found (run from the repository root after `make`, "
                             "or give --%s)", what, given, what);
    return 0;
}

int cmd_serve(int argc, char **argv) {
    const char *host = "127.0.0.1", *models = "models", *web = "web", *data = "data";
    const char *wasm = "build/web/glassgpt.wasm", *v;
    long port = 8080;
    for (int i = 1; i < argc; i++) {
        int rc;
        if (is_help(argv[i])) {
            fputs(usage_serve, stdout);
            return EXIT_OK;
        } else if ((rc = take_option(argc, argv, &i, "--port", NULL, &v))) {
            if (rc < 0 || !parse_long(v, 0, 65535, &port))
                return usage_error("serve", "--port needs a number from 0 to 65535");
        } else if ((rc = take_option(argc, argv, &i, "--host", NULL, &host)) ||
                   (rc = take_option(argc, argv, &i, "--models", NULL, &models)) ||
                   (rc = take_option(argc, argv, &i, "--web", NULL, &web)) ||
                   (rc = take_option(argc, argv, &i, "--data", NULL, &data)) ||
                   (rc = take_option(argc, argv, &i, "--wasm", NULL, &wasm))) {
            if (rc < 0) return usage_error("serve", "%s needs a value", argv[i]);
        } else {
            return usage_error("serve", "unexpected argument '%s'", argv[i]);
        }
    }
    roots r;
    if (resolve("web", web, r.web, 1) || resolve("wasm", wasm, r.wasm, 0) ||
        resolve("models", models, r.models, 1))
        return EXIT_RUNTIME;
    if (!realpath(data, r.data)) snprintf(r.data, sizeof r.data, "%s", data);  // may appear later

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    char service[16];
    snprintf(service, sizeof service, "%ld", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) return runtime_error("serve: cannot resolve host %s: %s", host, gai_strerror(gai));
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handle, &r, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d)
        return runtime_error("serve: cannot listen on %s:%ld (%s); is the port in use? try "
                             "--port", host, port, strerror(errno));
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("glassgpt: serving the walkthrough at http://%s:%u/ (Ctrl-C stops)\n",
           strchr(host, ':') ? "[::1]" : host, info ? info->port : (unsigned)port);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stopping) pause();
    MHD_stop_daemon(d);
    fprintf(stderr, "glassgpt: stopped serving\n");
    return EXIT_OK;
}
