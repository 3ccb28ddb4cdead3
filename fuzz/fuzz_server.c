// libFuzzer: the server's request handling, on the real daemon. Each input
// is sent as the bytes of one connection (a socket pair handed to the
// server). Served from
// the repository's web/, data/ and models/ (run from the repository root).
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../cli/server.h"

static gg_server *server;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    static gg_server_roots r;
    if (!realpath("web", r.web) || !realpath("build/web/glassgpt.wasm", r.wasm) ||
        !realpath("models", r.models)) {
        fprintf(stderr, "fuzz_server: run from the repository root after make\n");
        exit(1);
    }
    if (!realpath("data", r.data)) snprintf(r.data, sizeof r.data, "data");
    server = gg_server_start(&r, NULL, 1);
    if (!server) {
        perror("fuzz_server: cannot start the server");
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    if (gg_server_add_connection(server, sv[1]) != 0) {
        close(sv[0]);
        return 0;  // at the connection limit: not this input's fault
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = send(sv[0], data + off, size - off, MSG_NOSIGNAL);
        if (w <= 0) break;  // the server may close early, after a refusal
        off += (size_t)w;
    }
    // Hang up at once: the server still reads what was sent, answers into a
    // closed socket and must then let the connection go. One that it keeps
    // open is a hang, which libFuzzer's -timeout reports.
    close(sv[0]);
    while (gg_server_open_connections(server) > 0) usleep(50);
    return 0;
}
