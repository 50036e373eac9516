#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "wake.h"

/* The abstract name: a NUL, then "chat/INSTANCE/NAME". Returns the address length. */
static socklen_t
address(struct sockaddr_un *sa, const char *instance, const char *name)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "chat/%s/%s",
	    instance, name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		return 0;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int
wake_listen(const char *instance, char *name, size_t namesz)
{
	unsigned char raw[WAKE_NAME_LEN / 2];
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (namesz < WAKE_NAME_LEN + 1) {
		errno = EINVAL;
		return -1;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(name, namesz, raw, sizeof(raw));
	if ((len = address(&sa, instance, name)) == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
wake_sender(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

enum wake_status
wake_send(int fd, const char *instance, const char *name, char kind,
    const char *payload, size_t len)
{
	struct sockaddr_un sa;
	socklen_t salen = address(&sa, instance, name);
	struct iovec iov[2] = {
		{ .iov_base = &kind, .iov_len = 1 },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = salen,
		.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1,
	};

	if (salen == 0 || len >= WAKE_MAX)
		return WAKE_ERROR;
	if (sendmsg(fd, &msg, MSG_DONTWAIT) != -1)
		return WAKE_SENT;
	if (errno == ECONNREFUSED || errno == ENOENT)
		return WAKE_GONE;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return WAKE_FULL;
	return WAKE_ERROR;
}

ssize_t
wake_recv(int fd, char *buf, size_t bufsz)
{
	ssize_t n = recv(fd, buf, bufsz, MSG_DONTWAIT);

	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return n;
}
