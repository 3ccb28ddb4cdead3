// The walkthrough's HTTP server, on libmicrohttpd (no home-made HTTP
// parsing): the page, the engine's .wasm, the corpus, the checkpoints and
// their listing. It trusts nothing it is sent and nothing it finds on disk:
//   - a path serves only a regular file whose real path lies inside its
//     root, opened without blocking and without following a last link, so
//     that a FIFO or a link out of the root is a 404, never a hang or a leak;
//   - names that start with '.' (dotfiles, "." and "..") are never served;
//   - every response is built in a buffer that grows, and every name is
//     escaped for where it goes: JSON, a URL, the log;
//   - a whole request header must arrive within a deadline, one address may
//     hold only so many connections, and a pool of threads serves the rest.
#define _DEFAULT_SOURCE  // realpath, O_NOFOLLOW
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "../src/checkpoint.h"
#include "../src/strbuf.h"

// ---- text ----

// A URL path segment: everything but A-Z a-z 0-9 - . _ ~ percent-encoded,
// so that '#', '?', '%', spaces and control characters survive the trip.
static void sb_url_segment(gg_strbuf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            gg_sb_printf(b, "%c", *p);
        else
            gg_sb_printf(b, "%%%02X", *p);
    }
}

// ---- files inside a root ----

static const char *mime_type(const char *path) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".wasm", "application/wasm"},          {".json", "application/json"},
        {".wgsl", "text/wgsl; charset=utf-8"},
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

// Whether rel (after the route's prefix) may name a file inside a root: no
// empty segment, none that starts with '.' (so no "." or "..", and no
// dotfile), no backslash, nothing absolute.
static int safe_relative(const char *rel) {
    if (!*rel || *rel == '/' || strchr(rel, '\\')) return 0;
    for (const char *s = rel; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || s[0] == '.') return 0;
        s += n + (e ? 1 : 0);
        if (e && !*s) return 0;  // a trailing slash
    }
    return 1;
}

// Opens root/rel for reading if it is a regular file whose real path lies
// inside root; returns the descriptor (with *st filled in) or -1. The open
// never blocks (a FIFO would) and never follows a link that appeared after
// realpath looked.
static int open_inside(const char *root, const char *rel, struct stat *st) {
    char path[PATH_MAX], real[PATH_MAX];
    size_t n = strlen(root), m = strlen(rel);
    if (!safe_relative(rel) || n + m + 2 > sizeof path) return -1;
    memcpy(path, root, n);
    path[n] = '/';
    memcpy(path + n + 1, rel, m + 1);
    if (!realpath(path, real) || strncmp(real, root, n) != 0 || real[n] != '/') return -1;
    int fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

// ---- responses ----

// One log line per request. The URL arrives percent-decoded, so any byte
// outside printable ASCII is written as \xNN: no forged lines, no terminal
// escapes.
static void log_request(const gg_server_roots *r, const char *method, const char *url,
                        unsigned status, long long bytes) {
    if (!r->log) return;
    char safe[4 * 200 + 4], *o = safe;
    size_t i = 0;
    for (; url[i] && i < 200; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\') o += sprintf(o, "\\x%02x", ch);
        else *o++ = (char)ch;
    }
    strcpy(o, url[i] ? "..." : "");
    char m[16];  // MHD accepts any token as a method
    snprintf(m, sizeof m, "%s", strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
                                        strlen(method) ? method : "?");
    time_t t = time(NULL);
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
    fprintf(r->log, "%s %s %s %u %lld\n", when, m, safe, status, bytes);
}

static enum MHD_Result send_text(struct MHD_Connection *c, const gg_server_roots *r,
                                 const char *method, const char *url, unsigned status,
                                 const char *type, const char *body) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(resp, "Allow", "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    log_request(r, method, url, status, (long long)strlen(body));
    return ok;
}

static enum MHD_Result not_found(struct MHD_Connection *c, const gg_server_roots *r,
                                 const char *method, const char *url) {
    return send_text(c, r, method, url, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

static enum MHD_Result send_file(struct MHD_Connection *c, const gg_server_roots *r,
                                 const char *method, const char *url, const char *root,
                                 const char *rel) {
    struct stat st;
    int fd = open_inside(root, rel, &st);
    if (fd < 0) return not_found(c, r, method, url);
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_type(rel));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    log_request(r, method, url, MHD_HTTP_OK, (long long)st.st_size);
    return ok;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// GET /api/models: [{"name", "url", "bytes", "vocab", "d_model", ...}, ...],
// the checkpoints that /models/ would serve, by name.
static enum MHD_Result send_models(struct MHD_Connection *c, const gg_server_roots *r,
                                   const char *method, const char *url) {
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(r->models);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".ckpt") != 0 || !safe_relative(e->d_name))
            continue;
        if (n == cap) {
            char **bigger = realloc(names, sizeof *names * (cap = cap ? 2 * cap : 16));
            if (!bigger) break;
            names = bigger;
        }
        if (!(names[n] = strdup(e->d_name))) break;
        n++;
    }
    if (d) closedir(d);
    if (n) qsort(names, n, sizeof *names, by_name);

    gg_strbuf b = {0};
    gg_sb_printf(&b, "[");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        int fd = open_inside(r->models, names[i], &st);
        if (fd < 0) continue;
        uint8_t head[64];
        ssize_t got = read(fd, head, sizeof head);
        close(fd);
        gg_config cfg;
        if (got < 0 || gg_checkpoint_header(head, (size_t)got, names[i], &cfg, NULL) != GG_OK)
            continue;
        gg_sb_printf(&b, "%s{\"name\":", first ? "" : ",");
        gg_sb_json_string(&b, names[i], strlen(names[i]));
        gg_sb_printf(&b, ",\"url\":\"/models/");
        sb_url_segment(&b, names[i]);
        gg_sb_printf(&b, "\",\"bytes\":%lld,\"vocab\":%d,\"d_model\":%d,\"n_layer\":%d,"
                  "\"n_head\":%d,\"ctx\":%d,\"d_ff\":%d,\"pos\":\"%s\"}",
                  (long long)st.st_size, cfg.vocab, cfg.d_model, cfg.n_layer, cfg.n_head, cfg.ctx,
                  cfg.d_ff, cfg.pos_kind == GG_POS_LEARNED ? "learned" : "sinusoidal");
        first = 0;
    }
    gg_sb_printf(&b, "]\n");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    enum MHD_Result ok =
        b.failed ? MHD_NO
                 : send_text(c, r, method, url, MHD_HTTP_OK, "application/json", b.p);
    free(b.p);
    return ok;
}

// ---- the header deadline ----
//
// libmicrohttpd's timeout counts idle time, which a client that sends one
// byte a second resets forever. So every connection is tracked from the
// moment it opens (or its previous request completes) until its header is
// in; a watcher thread shuts down the socket of any that takes longer than
// GG_SERVER_HEADER_DEADLINE_S. The connection's CLOSED notice comes before
// its socket is closed, and both sides hold the lock, so the watcher never
// touches a descriptor that has been reused.

typedef struct tracked {
    struct tracked *prev, *next;
    int fd;
    double since;  // when the current header began; < 0: header done
} tracked;

struct gg_server {
    struct MHD_Daemon *daemon;
    gg_server_roots roots;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watcher;
    int watching, stopping;
    tracked ring;  // every open connection
};

// ---- requests ----

typedef struct {
    int lengths, nonzero, chunked;
} body_headers;

static enum MHD_Result count_body_headers(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value) {
    (void)kind;
    body_headers *h = cls;
    if (strcasecmp(key, "Content-Length") == 0) {
        h->lengths++;
        if (!value || strcmp(value, "0") != 0) h->nonzero = 1;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        h->chunked = 1;
    }
    return MHD_YES;
}

static void header_done(gg_server *s, struct MHD_Connection *c);

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)version, (void)upload;
    gg_server *s = cls;
    const gg_server_roots *r = &s->roots;
    static int seen;  // any non-NULL marker: the headers have been looked at
    if (!*state) {
        // The first call comes when the whole header is in. A refusal goes
        // out now, and closes the connection, so that a body is never read.
        *state = &seen;
        header_done(s, c);
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_text(c, r, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                             "only GET and HEAD\n");
        body_headers h = {0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, count_body_headers, &h);
        if (h.lengths > 1)
            return send_text(c, r, method, url, MHD_HTTP_BAD_REQUEST, "text/plain",
                             "more than one Content-Length\n");
        if (h.nonzero || h.chunked)
            return send_text(c, r, method, url, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain",
                             "no request bodies\n");
        return MHD_YES;  // answered on the next call, so the connection stays open
    }
    if (*upload_size) return MHD_NO;  // a body after all: drop the connection
    if (strlen(url) > GG_SERVER_MAX_URL)
        return send_text(c, r, method, url, MHD_HTTP_URI_TOO_LONG, "text/plain", "URL too long\n");
    if (strcmp(url, "/") == 0) return send_file(c, r, method, url, r->web, "index.html");
    if (strcmp(url, "/glassgpt.wasm") == 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", r->wasm);
        char *slash = strrchr(dir, '/');
        if (!slash) return not_found(c, r, method, url);
        *slash = 0;
        return send_file(c, r, method, url, dir, slash + 1);
    }
    if (strcmp(url, "/api/models") == 0) return send_models(c, r, method, url);
    if (strncmp(url, "/data/", 6) == 0) return send_file(c, r, method, url, r->data, url + 6);
    if (strncmp(url, "/models/", 8) == 0) return send_file(c, r, method, url, r->models, url + 8);
    return send_file(c, r, method, url, r->web, url + 1);
}


static double monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static tracked *tracked_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

static void header_done(gg_server *s, struct MHD_Connection *c) {
    tracked *t = tracked_of(c);
    if (!t) return;
    pthread_mutex_lock(&s->lock);
    t->since = -1.0;
    pthread_mutex_unlock(&s->lock);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    gg_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *i =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        tracked *t = i ? malloc(sizeof *t) : NULL;
        *socket_context = t;
        if (!t) return;  // untracked: the idle timeout still applies
        t->fd = i->connect_fd;
        pthread_mutex_lock(&s->lock);
        t->since = monotonic();
        t->next = s->ring.next;
        t->prev = &s->ring;
        t->next->prev = t;
        s->ring.next = t;
        pthread_mutex_unlock(&s->lock);
    } else if (*socket_context) {
        tracked *t = *socket_context;
        pthread_mutex_lock(&s->lock);
        if (t->next) {
            t->prev->next = t->next;
            t->next->prev = t->prev;
        }
        pthread_mutex_unlock(&s->lock);
        free(t);
        *socket_context = NULL;
    }
}

// A request has been answered: the next one's header is timed from now.
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode toe) {
    (void)state, (void)toe;
    gg_server *s = cls;
    tracked *t = tracked_of(c);
    if (!t) return;
    pthread_mutex_lock(&s->lock);
    t->since = monotonic();
    pthread_mutex_unlock(&s->lock);
}

static void *watch_deadlines(void *arg) {
    gg_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        double now = monotonic();
        for (tracked *t = s->ring.next; t != &s->ring; t = t->next)
            if (t->since >= 0 && now - t->since > GG_SERVER_HEADER_DEADLINE_S) {
                shutdown(t->fd, SHUT_RDWR);  // libmicrohttpd sees the end and closes it
                t->since = -1.0;
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

// ---- the daemon ----

gg_server *gg_server_start(const gg_server_roots *roots, const struct sockaddr *addr,
                           unsigned threads) {
    gg_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->roots = *roots;
    s->ring.next = s->ring.prev = &s->ring;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->watcher, NULL, watch_deadlines, s) != 0) {
        gg_server_stop(s);
        return NULL;
    }
    s->watching = 1;
    if (!threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores < 2 ? 2 : cores > 16 ? 16 : (unsigned)cores;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (!addr) flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    else if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)GG_SERVER_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)GG_SERVER_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)GG_SERVER_HEADER_DEADLINE_S,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->daemon) {
        int saved = errno;
        gg_server_stop(s);
        errno = saved;
        return NULL;
    }
    return s;
}

unsigned gg_server_port(const gg_server *s) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int gg_server_add_connection(gg_server *s, int fd) {
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return MHD_add_connection(s->daemon, fd, (const struct sockaddr *)&peer, sizeof peer) == MHD_YES
               ? 0 : -1;
}

unsigned gg_server_open_connections(gg_server *s) {
    unsigned n = 0;
    pthread_mutex_lock(&s->lock);
    for (tracked *t = s->ring.next; t != &s->ring; t = t->next) n++;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void gg_server_stop(gg_server *s) {
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    if (s->watching) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->watcher, NULL);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
