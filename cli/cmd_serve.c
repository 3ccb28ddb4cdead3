// glassgpt serve: delivers the walkthrough page, the engine's .wasm, the
// corpus and the models (server.c does the serving).
#define _DEFAULT_SOURCE  // realpath
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "server.h"

static const char usage_serve[] =
    "usage: glassgpt serve [--port 8080] [--host 127.0.0.1] [--models DIR]\n"
    "                      [--web DIR] [--wasm FILE] [--data DIR]\n"
    "\n"
    "Serves the walkthrough page and what it needs, on loopback unless told\n"
    "otherwise (--host :: for every interface); logs one line per request;\n"
    "stops on Ctrl-C or SIGTERM. Only regular files inside their directory are\n"
    "served, never one whose name starts with '.'. At most 32 connections come\n"
    "from one address, and a request header must arrive within 10 s.\n"
    "\n"
    "  /                  the page (from --web, default web)\n"
    "  /glassgpt.wasm     the engine (--wasm, default build/web/glassgpt.wasm)\n"
    "  /data/NAME         the corpus (--data, default data)\n"
    "  /models/NAME       checkpoints (--models, default models; there may be none\n"
    "                     yet: the page can train a model itself)\n"
    "  /api/models        the checkpoints, as JSON\n";

static volatile sig_atomic_t stopping;
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
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

// A directory that may not exist yet, as the absolute path that the server
// compares what it serves against once it does.
static int absolute(const char *given, char *out) {
    if (realpath(given, out)) return 0;
    char cwd[PATH_MAX];
    int n = given[0] == '/' ? snprintf(out, PATH_MAX, "%s", given)
            : getcwd(cwd, sizeof cwd) ? snprintf(out, PATH_MAX, "%s/%s", cwd, given) : -1;
    if (n < 0 || n >= PATH_MAX) return runtime_error("serve: the path %s is too long", given);
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
    gg_server_roots r = {.log = stderr};
    if (resolve("web", web, r.web, 1) || resolve("wasm", wasm, r.wasm, 0)) return EXIT_RUNTIME;
    // The models and the corpus may appear later; the page works without
    // models (it trains one) and says so.
    struct stat st;
    if (stat(models, &st) != 0 || !S_ISDIR(st.st_mode))
        fprintf(stderr, "glassgpt: no checkpoints in %s yet: the page can train a model itself, "
                "or `make run` trains tiny and small there\n", models);
    if (absolute(models, r.models) || absolute(data, r.data)) return EXIT_RUNTIME;

    // Room for the connection limit: raise the soft limit on descriptors.
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 4096) {
        nofile.rlim_cur = nofile.rlim_max < 4096 ? nofile.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *ai;
    char service[16];
    snprintf(service, sizeof service, "%ld", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) return runtime_error("serve: cannot resolve host %s: %s", host, gai_strerror(gai));
    int ipv6 = ai->ai_family == AF_INET6;
    gg_server *server = gg_server_start(&r, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (!server)
        return runtime_error("serve: cannot listen on %s:%ld (%s); is the port in use? try "
                             "--port", host, port, strerror(errno));
    // The address as given ("::" and "0.0.0.0" mean every interface).
    printf("glassgpt: serving the walkthrough at http://%s%s%s:%u/ (Ctrl-C stops)\n",
           ipv6 ? "[" : "", host, ipv6 ? "]" : "", gg_server_port(server));
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stopping) pause();
    gg_server_stop(server);
    fprintf(stderr, "glassgpt: stopped serving\n");
    return EXIT_OK;
}
