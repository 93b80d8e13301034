// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include "export/report_hosts.h"
#include "lib/escape.h"
#include "lib/units.h"

static const char *clock_from(const struct bt_host *h)
{
	switch (h->clock_from) {
	case BT_CLOCK_REFERENCE: return "reference";
	case BT_CLOCK_STITCHED: return "stitched";
	case BT_CLOCK_WALL: return "wall";
	case BT_CLOCK_UNKNOWN: break;
	}
	return "unknown";
}

void bt_json_hosts(struct jw *w, const struct bt_model *m)
{
	if (m->nhosts < 2)
		return;
	jw_key(w, "hosts");
	jw_arr_begin(w);
	for (size_t i = 0; i < m->nhosts; i++) {
		const struct bt_host *h = &m->hosts[i];

		jw_obj_begin(w);
		jw_kstr(w, "name", h->name);
		jw_kstr(w, "clock_from", clock_from(h));
		if (h->clock_from != BT_CLOCK_UNKNOWN)
			jw_ki64(w, "clock_offset_ns", h->clock_offset_ns);
		if (h->clock_from == BT_CLOCK_STITCHED) {
			jw_ku64(w, "clock_error_ns", h->clock_error_ns);
			jw_ku64(w, "clock_samples", h->clock_samples);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void bt_table_hosts(FILE *f, const struct bt_model *m)
{
	if (m->nhosts < 2)
		return;
	fprintf(f, "\nhosts (clock: monotonic clock minus the first host's):\n");
	for (size_t i = 0; i < m->nhosts; i++) {
		const struct bt_host *h = &m->hosts[i];
		char name[4 * sizeof(h->name)], off[32], err[32];
		int64_t o = h->clock_offset_ns;

		bt_escape_term(h->name, name, sizeof(name));
		fmt_ns(o < 0 ? -(uint64_t)o : (uint64_t)o, off, sizeof(off));
		fmt_ns(h->clock_error_ns, err, sizeof(err));
		switch (h->clock_from) {
		case BT_CLOCK_REFERENCE:
			fprintf(f, "  %s: the reference clock\n", name);
			break;
		case BT_CLOCK_STITCHED:
			fprintf(f, "  %s: %s%s \u00b1 %s, from %" PRIu64 " stitched receives\n", name,
				o < 0 ? "-" : "+", off, err, h->clock_samples);
			break;
		case BT_CLOCK_WALL:
			fprintf(f, "  %s: %s%s from the wall clocks alone (nothing stitched to narrow "
				"it: record with --chains)\n", name, o < 0 ? "-" : "+", off);
			break;
		case BT_CLOCK_UNKNOWN:
			fprintf(f, "  %s: unknown (no stitched exchanges, no wall clock): its "
				"episodes keep their own clock\n", name);
		}
	}
}
