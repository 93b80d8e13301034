// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON export; the fields are documented in docs/SCHEMA.md. */
#include "json.h"
#include "kinds.h"
#include "report.h"

static void write_row(struct jw *w, const struct bt_row *r)
{
	jw_obj_begin(w);
	jw_kstr(w, "kind", bt_kind_name(r->key.kind));
	jw_kstr(w, "channel", r->channel);
	jw_kstr(w, "direction", bt_dir_name(r->key.dir));
	jw_ku64(w, "calls", r->st.calls);
	jw_ku64(w, "bytes", r->st.bytes);
	jw_ku64(w, "errors", r->st.errors);
	jw_ku64(w, "blocked_ns", r->st.blocked_ns);
	jw_ku64(w, "max_blocked_ns", r->st.max_blocked_ns);
	if (r->key.kind == BT_KIND_FUTEX && r->key.dir == BT_DIR_WAKE)
		jw_ku64(w, "woken", r->st.woken);
	if (r->has_info && r->info.path[0])
		jw_kstr(w, "path", r->info.path);
	jw_obj_end(w);
}

static void write_proc(struct jw *w, const struct bt_proc *p)
{
	jw_obj_begin(w);
	jw_ku64(w, "pid", p->pid);
	jw_kstr(w, "comm", p->comm[0] ? p->comm : "?");
	jw_kbool(w, "exited", p->exited);
	jw_key(w, "boundaries");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->nrows; i++)
		write_row(w, &p->rows[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

int bt_report_json(FILE *f, const struct bt_model *m)
{
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_ku64(&w, "version", 1);
	jw_ku64(&w, "duration_ns", m->duration_ns);
	jw_key(&w, "processes");
	jw_arr_begin(&w);
	for (size_t i = 0; i < m->nprocs; i++)
		write_proc(&w, &m->procs[i]);
	jw_arr_end(&w);
	jw_key(&w, "lost");
	jw_obj_begin(&w);
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		jw_ku64(&w, bt_loss_name(l), m->lost[l]);
	jw_obj_end(&w);
	jw_obj_end(&w);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
