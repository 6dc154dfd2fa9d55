/*
 * echo.c - plain TCP echo server in C: one thread, epoll, non-blocking sockets. The I/O ceiling
 * for bench/run.ts (driven with wsload --raw): what this machine's loopback and kernel allow with
 * no runtime at all in the way.
 *
 *   gcc -O2 -o echo echo.c && ./echo [--port P] [--host 127.0.0.1]
 *
 * --port 0 (the default) lets the OS pick. Prints `listening on tcp://HOST:PORT` when ready; exits
 * on SIGTERM. Each connection has one buffer: read into it, write it back; while the peer does not
 * take what we write, we stop reading from it (bounded memory per connection).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (256 * 1024)

typedef struct {
    int fd;
    size_t len, off; /* bytes in buf not yet written back: buf[off, len) */
    char buf[BUF];
} conn_t;

static int epfd;

static void die(const char *m) { perror(m); exit(1); }

static void watch(conn_t *c, int op, int out) {
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(conn_t *c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c);
}

/* write what is pending; 1 if all of it went, 0 if the socket is full, -1 if the connection is gone */
static int drain(conn_t *c) {
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
        if (n < 0) return errno == EAGAIN ? 0 : errno == EINTR ? drain(c) : -1;
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    return 1;
}

static void on_event(conn_t *c, uint32_t ev) {
    if (c->len) { /* waiting for EPOLLOUT */
        int r = drain(c);
        if (r < 0) { drop(c); return; }
        if (r == 0) return;
        watch(c, EPOLL_CTL_MOD, 0);
    }
    if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(c->fd, c->buf, BUF);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { drop(c); return; }
        if (n < 0) return;
        c->len = (size_t)n;
        int r = drain(c);
        if (r < 0) { drop(c); return; }
        if (r == 0) { watch(c, EPOLL_CTL_MOD, 1); return; }
        if (n < BUF) return;
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
        else { fprintf(stderr, "usage: echo [--port P] [--host H]\n"); return 2; }
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (lfd < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "bad --host (IPv4 literal)\n"); return 2; }
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) die("bind/listen");
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl listen");
    printf("listening on tcp://%s:%d\n", host, ntohs(sa.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr) { on_event(evs[i].data.ptr, evs[i].events); continue; }
            for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) break;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                conn_t *c = malloc(sizeof *c);
                if (!c) { close(fd); continue; }
                c->fd = fd; c->len = c->off = 0;
                watch(c, EPOLL_CTL_ADD, 0);
            }
        }
    }
}
