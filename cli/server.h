// The walkthrough's HTTP server: what `glassgpt serve` runs, split from the
// command so that a fuzzer can drive the same daemon over a socket pair.
#ifndef GLASSGPT_SERVER_H
#define GLASSGPT_SERVER_H

#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct {
    // absolute paths without a trailing slash; data may not exist yet
    char web[PATH_MAX], data[PATH_MAX], models[PATH_MAX], wasm[PATH_MAX];
    FILE *log;  // one line per request; NULL: no log
} gg_server_roots;

// The limits that keep slow or greedy clients from starving the others.
enum {
    GG_SERVER_MAX_URL = 1024,
    GG_SERVER_CONNECTIONS = 1000,     // at once, from everyone
    GG_SERVER_PER_IP = 32,            // at once, from one address
    GG_SERVER_HEADER_DEADLINE_S = 10,  // to send a whole request header
    GG_SERVER_IDLE_S = 15,            // between requests on a kept-alive connection
};

typedef struct gg_server gg_server;

// Starts serving on addr in threads of its own (addr NULL: no listening
// socket; connections come from gg_server_add_connection). threads 0: one
// per core. Returns NULL when it cannot, with errno set.
gg_server *gg_server_start(const gg_server_roots *roots, const struct sockaddr *addr,
                           unsigned threads);
// The port it listens on (0 without a listening socket).
unsigned gg_server_port(const gg_server *s);
// Hands the server a connected socket, which it then owns; 0 on success.
int gg_server_add_connection(gg_server *s, int fd);
// How many connections are open now.
unsigned gg_server_open_connections(gg_server *s);
void gg_server_stop(gg_server *s);

#endif
