/* sdnotify.c - systemd's notify datagram protocol (see sdnotify.h). */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *message)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0])
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof addr.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    socklen_t addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t sent =
        sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&addr, addrlen);
    int saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 1;
}

uint64_t sdnotify_watchdog_ns(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec || !usec[0])
        return 0;
    if (pid && pid[0] && strtol(pid, NULL, 10) != (long)getpid())
        return 0; /* meant for another process (e.g. our ExecStartPre) */
    char *end;
    unsigned long long v = strtoull(usec, &end, 10);
    return *end || v == 0 ? 0 : (uint64_t)v * 1000u;
}
