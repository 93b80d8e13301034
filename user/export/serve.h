/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --serve ADDR:PORT: /metrics over HTTP (libmicrohttpd), in the Prometheus
 * text format or OpenMetrics as the scraper's Accept header asks.
 *
 * Threads: libmicrohttpd answers on its own threads; the model belongs to
 * the trace loop. A scrape asks for a page and waits; the trace loop, at
 * its next poll (every 100 ms), sees the request (bt_serve_wanted), takes
 * a model snapshot as the interval tables do and renders it
 * (bt_serve_publish); the scrape is answered from that page. Nothing but
 * the rendered pages crosses threads, under one mutex.
 */
#ifndef BT_SERVE_H
#define BT_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "model/model.h"

struct bt_serve;

/*
 * "ADDR:PORT" ("127.0.0.1:9464", "[::1]:9464") to a socket address. Both
 * parts are required: nothing is bound to an address not given. 0, or -1
 * with the reason in err.
 */
int bt_serve_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			char *err, size_t errlen);

/* Binds and starts answering; NULL with the reason in err. */
struct bt_serve *bt_serve_start(const char *addr, char *err, size_t errlen);
/* A scrape is waiting for a snapshot. */
bool bt_serve_wanted(struct bt_serve *s);
/* Renders m for the waiting scrapes and wakes them. 0, or -1 (out of memory). */
int bt_serve_publish(struct bt_serve *s, const struct bt_model *m);
/* Stops answering (waiting scrapes get 503) and frees s; NULL is fine. */
void bt_serve_stop(struct bt_serve *s);

#endif
