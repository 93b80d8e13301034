/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Human units for tables: 12,004 · 4.1 MiB · 3.2 ms. */
#ifndef BT_UNITS_H
#define BT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns buf. */
char *fmt_count(uint64_t v, char *buf, size_t len);
char *fmt_bytes(uint64_t v, char *buf, size_t len);
char *fmt_ns(uint64_t ns, char *buf, size_t len);

#endif
