#include "testkit/tcpsrv.h"

#include "client/buf.h"
#include "client/http.h"
#include "client/rawhttp.h"
#include "proto/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcpsrv_conn {
	struct tcpsrv_conn *next;
	struct tcpsrv *srv;
	pthread_t thread;
	int fd;
	unsigned no;
	bool done;		/* handler returned; fd closed (guarded by srv->lock) */
};

struct tcpsrv {
	int lfd;
	int port;
	int stop_pipe[2];	/* written by tcpsrv_stop to wake the acceptor */
	tcpsrv_handler handler;
	void *ud;
	pthread_t acceptor;
	pthread_mutex_t lock;
	struct tcpsrv_conn *conns;
	unsigned accepted;	/* atomic */
	bool stopping;
};

static void *tcpsrv_conn_main(void *arg)
{
	struct tcpsrv_conn *c = arg;
	struct tcpsrv *s = c->srv;

	s->handler(c->fd, c->no, s->ud);
	pthread_mutex_lock(&s->lock);
	close(c->fd);
	c->fd = -1;
	c->done = true;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *tcpsrv_accept_main(void *arg)
{
	struct tcpsrv *s = arg;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = s->lfd, .events = POLLIN },
					 { .fd = s->stop_pipe[0], .events = POLLIN } };
		struct tcpsrv_conn *c;
		int fd, one = 1;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->srv = s;
		c->fd = fd;
		pthread_mutex_lock(&s->lock);
		c->no = __atomic_add_fetch(&s->accepted, 1, __ATOMIC_ACQ_REL);
		c->next = s->conns;
		s->conns = c;
		if (pthread_create(&c->thread, NULL, tcpsrv_conn_main, c) != 0) {
			s->conns = c->next;
			close(fd);
			free(c);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

struct tcpsrv *tcpsrv_start(tcpsrv_handler h, void *ud)
{
	struct tcpsrv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	if (!s)
		return NULL;
	s->handler = h;
	s->ud = ud;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 1024) < 0 || getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0 ||
	    pipe2(s->stop_pipe, O_CLOEXEC) < 0)
		goto fail;
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&s->acceptor, NULL, tcpsrv_accept_main, s) != 0)
		goto fail;
	return s;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop_pipe[0] >= 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

int tcpsrv_port(const struct tcpsrv *s)
{
	return s->port;
}

unsigned tcpsrv_accepted(const struct tcpsrv *s)
{
	return __atomic_load_n(&s->accepted, __ATOMIC_ACQUIRE);
}

void tcpsrv_stop(struct tcpsrv *s)
{
	struct tcpsrv_conn *c, *n;
	char b = 1;

	if (!s)
		return;
	if (write(s->stop_pipe[1], &b, 1) < 0) {
		/* the acceptor also stops when the listener closes below */
	}
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	/* Unblock handlers waiting on their peers: reads then see EOF. */
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (c = s->conns; c; c = c->next)
		if (!c->done)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	for (c = s->conns; c; c = n) {
		n = c->next;
		pthread_join(c->thread, NULL);
		free(c);
	}
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Length of a complete request at the start of buf, 0 if incomplete, -1 if malformed. */
static long tcpsrv_request_len(const char *buf, size_t len)
{
	const char *e = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t head, vlen;
	long body = 0;

	if (!e)
		return 0;
	head = (size_t)(e - buf) + 4;
	/* The request line takes the status line's place for the header finder. */
	cl = http_headers_find(buf, head, "Content-Length", &vlen);
	if (cl) {
		char num[24];

		if (vlen == 0 || vlen >= sizeof(num))
			return -1;
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		body = strtol(num, NULL, 10);
		if (body < 0)
			return -1;
	}
	if (len - head < (size_t)body)
		return 0;
	return (long)head + body;
}

long tcpsrv_read_request(int fd, struct cbuf *out, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	for (;;) {
		long n = out->len ? tcpsrv_request_len(out->p, out->len) : 0;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;
		int64_t left;

		if (n != 0)
			return n;
		if (cbuf_reserve(out, 4096) < 0)
			return -1;
		got = recv(fd, out->p + out->len, out->alloc - out->len - 1, 0);
		if (got > 0) {
			out->len += (size_t)got;
			out->p[out->len] = '\0';
			continue;
		}
		if (got == 0 || (got < 0 && errno == ECONNRESET))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		left = deadline - clock_mono_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return -1;
	}
}

int tcpsrv_peer_ip(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf,
				 (socklen_t)cap) ? 0 : -1;
	if (ss.ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
				 (socklen_t)cap) ? 0 : -1;
	return -1;
}
