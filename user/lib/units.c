// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "lib/units.h"

char *fmt_count(uint64_t v, char *buf, size_t len)
{
	char digits[32], out[48];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	int o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	snprintf(buf, len, "%s", out);
	return buf;
}

/* Scales v by step through units, printing one decimal below 100. */
static char *fmt_scaled(double v, double step, const char *const *units, int nunits,
			char *buf, size_t len)
{
	int u = 0;

	/* Promote on the value as printed: 1023.6 KiB would print "1024 KiB". */
	while (u < nunits - 1 && v >= (u ? step - 0.5 : step)) {
		v /= step;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f %s", v, units[0]);
	else if (v < 99.95)	/* from here "%.1f" would print "100.0" */
		snprintf(buf, len, "%.1f %s", v, units[u]);
	else
		snprintf(buf, len, "%.0f %s", v, units[u]);
	return buf;
}

char *fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

	return fmt_scaled((double)v, 1024, units, 6, buf, len);
}

char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	static const char *const units[] = { "ns", "us", "ms", "s" };

	/* 59.95 s and up would print "60.0 s". */
	if (ns >= 59950000000ull) {
		snprintf(buf, len, "%.1f min", ns / 60e9);
		return buf;
	}
	return fmt_scaled((double)ns, 1000, units, 4, buf, len);
}
