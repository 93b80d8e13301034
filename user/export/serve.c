// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "export/metrics.h"
#include "export/report.h"
#include "export/serve.h"

/* A scrape waits this long for the trace loop before it gets a 503. */
#define SCRAPE_WAIT_S	10

struct page {
	char *text;
	size_t len;
};

struct bt_serve {
	struct MHD_Daemon *daemon;
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned int want;		/* flavor bits a scrape waits for */
	uint64_t gen;			/* pages published so far */
	bool stopping;
	struct page page[BT_METRICS_FLAVORS];
	struct bt_metrics_keep keep;	/* trace loop only */
};

int bt_serve_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "--serve '%s': want [IPV6]:PORT", s);
			return -1;
		}
		h = s + 1;
		colon = close + 1;
		hlen = close - h;
	} else {
		hlen = colon ? (size_t)(colon - s) : 0;
	}
	if (!colon || !hlen) {
		snprintf(err, errlen, "--serve '%s': want ADDR:PORT, e.g. 127.0.0.1:9464 (the address "
			 "is required; all interfaces only when asked for: 0.0.0.0:PORT)", s);
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] == '-' ||
	    colon[1] == '+') {
		snprintf(err, errlen, "--serve '%s': the port must be 1..65535", s);
		return -1;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "--serve '%s': not an IP address", s);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	snprintf(err, errlen, "--serve '%s': '%s' is not an IP address", s, host);
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)msg, strlen(msg),
		     MHD_RESPMEM_PERSISTENT);
}

/* OpenMetrics when the scraper lists it (Prometheus does), else the text format. */
static enum bt_metrics_flavor negotiate(struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);

	return accept && strstr(accept, "application/openmetrics-text") ?
		BT_METRICS_OPENMETRICS : BT_METRICS_PROMETHEUS;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **ctx)
{
	struct bt_serve *s = cls;
	enum bt_metrics_flavor flavor;
	struct timespec deadline;
	char *copy = NULL;
	size_t len = 0;
	uint64_t gen;
	int rc = 0;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)ctx;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET /metrics\n");
	if (strcmp(url, "/metrics"))
		return text_reply(c, MHD_HTTP_NOT_FOUND, "boundtrace serves /metrics\n");
	flavor = negotiate(c);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SCRAPE_WAIT_S;
	pthread_mutex_lock(&s->lock);
	s->want |= 1u << flavor;
	gen = s->gen;
	while (s->gen == gen && !s->stopping && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->done, &s->lock, &deadline);
	if (s->gen != gen && s->page[flavor].text) {
		len = s->page[flavor].len;
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, s->page[flavor].text, len);
	}
	pthread_mutex_unlock(&s->lock);
	if (!copy)
		return text_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "boundtrace: no snapshot (stopping, or the trace loop is busy)\n");
	return reply(c, MHD_HTTP_OK, bt_metrics_content_type(flavor), copy, len,
		     MHD_RESPMEM_MUST_FREE);
}

static int listen_on(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (bt_serve_parse_addr(addr, &ss, &len, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--serve %s: socket: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		snprintf(err, errlen, "--serve %s: cannot listen: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct bt_serve *bt_serve_start(const char *addr, char *err, size_t errlen)
{
	struct bt_serve *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->done, NULL);
	/* Bound here, not by the library: the error names the cause (in use, no such address). */
	s->fd = listen_on(addr, err, errlen);
	if (s->fd < 0)
		goto fail;
	/* A thread per connection: a scrape may wait for the trace loop without holding up others. */
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_ITC,
				     0, NULL, NULL, on_request, s,
				     MHD_OPTION_LISTEN_SOCKET, s->fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)8,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
				     MHD_OPTION_END);
	if (!s->daemon) {
		snprintf(err, errlen, "--serve %s: cannot start the HTTP server", addr);
		close(s->fd);
		goto fail;
	}
	return s;
fail:
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

bool bt_serve_wanted(struct bt_serve *s)
{
	bool want;

	pthread_mutex_lock(&s->lock);
	want = s->want != 0;
	pthread_mutex_unlock(&s->lock);
	return want;
}

int bt_serve_publish(struct bt_serve *s, const struct bt_model *m)
{
	struct page fresh[BT_METRICS_FLAVORS] = { 0 };
	struct bt_views v;
	unsigned int want;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	want = s->want;
	pthread_mutex_unlock(&s->lock);
	if (bt_views_build(m, BT_VIEW_PEERS, &v))
		return -1;
	for (int fl = 0; fl < BT_METRICS_FLAVORS; fl++) {
		FILE *f;

		if (!(want & (1u << fl)))
			continue;
		f = open_memstream(&fresh[fl].text, &fresh[fl].len);
		if (!f || bt_metrics_write(f, m, &v, fl, &s->keep))
			err = -1;
		if (f && fclose(f))
			err = -1;
	}
	bt_views_free(&v);
	pthread_mutex_lock(&s->lock);
	for (int fl = 0; fl < BT_METRICS_FLAVORS; fl++) {
		if (!(want & (1u << fl)))
			continue;
		free(s->page[fl].text);
		s->page[fl] = err ? (struct page){ 0 } : fresh[fl];
		if (err)
			free(fresh[fl].text);
	}
	s->want &= ~want;
	s->gen++;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	return err;
}

void bt_serve_stop(struct bt_serve *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
	/* Quiesced, the library hands the listening socket back: ours to close, once. */
	s->fd = MHD_quiesce_daemon(s->daemon);
	MHD_stop_daemon(s->daemon);
	if (s->fd >= 0)
		close(s->fd);
	for (int fl = 0; fl < BT_METRICS_FLAVORS; fl++)
		free(s->page[fl].text);
	bt_metrics_keep_free(&s->keep);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
