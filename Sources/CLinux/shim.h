#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
/* Linux system interfaces the event loops use that Glibc's Swift module does
   not bring: epoll, eventfd, TCP options, malloc_trim; and for terminals
   (timerctl watch and its tests), the window size and pseudo-terminals, which
   need the variadic ioctl or <pty.h>. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <signal.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <pty.h>

/* GNU extensions, declared here because the C library's headers may already
   have been read without _GNU_SOURCE. */
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int pthread_setname_np(pthread_t thread, const char *name);

static inline int clinux_accept_nonblocking(int fd) {
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* The size of the terminal on fd: 0 and rows and columns, or -1 (errno set)
   when fd is not a terminal. */
static inline int clinux_window_size(int fd, unsigned short *rows, unsigned short *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

/* A new pseudo-terminal pair of rows x columns with the default terminal
   settings: 0 and both descriptors, or -1 (errno set). */
static inline int clinux_open_pty(int *controller, int *terminal, unsigned short rows, unsigned short columns) {
    struct winsize size = { .ws_row = rows, .ws_col = columns, .ws_xpixel = 0, .ws_ypixel = 0 };
    return openpty(controller, terminal, NULL, NULL, &size);
}

/* Changes the size of a (pseudo-)terminal; its foreground process group gets
   SIGWINCH. 0, or -1 (errno set). */
static inline int clinux_set_window_size(int fd, unsigned short rows, unsigned short columns) {
    struct winsize size = { .ws_row = rows, .ws_col = columns, .ws_xpixel = 0, .ws_ypixel = 0 };
    return ioctl(fd, TIOCSWINSZ, &size);
}
#endif
