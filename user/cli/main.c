// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* boundtrace: the command line. Parse, check, trace, report. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "analyze/chain_input.h"
#include "cli/opts.h"
#include "lib/clock.h"
#include "lib/escape.h"
#include "lib/outfile.h"
#include "cli/preflight.h"
#include "discover/proc.h"
#include "record/record.h"
#include "cli/cmd_report.h"
#include "export/report.h"
#include "export/serve.h"
#include "live/spawn.h"
#include "live/tracer.h"
#include "version.h"	/* generated: BT_GIT_REV */

#define BT_VERSION "0.1.0"
/* The trace loop wakes at least this often (events, -d, -i). */
#define POLL_MS 100
/* New channels appear while tracing; look for their far ends this often. */
#define DISCOVER_EVERY_NS (500 * 1000000ull)
/*
 * ... unless that costs more than a fiftieth of a core: a round that took
 * c of CPU of its own (struct bt_tracer's discover_cpu_ns) waits 50 c for
 * the next (the collections and folds go on every DISCOVER_EVERY_NS).
 * Each round reads every target fd: when they come from /proc (a readlink
 * each and, for a pipe, its fdinfo), tracing a process that holds 8,000
 * of them (2,000 socketpairs, 2,000 pipes) for 10 s took 1.8-2.0 s of
 * boundtrace's CPU here, 0.63 s with this. Far ends the kernel names at
 * the crossings (connections, marked channels) do not wait for a round.
 */
#define DISCOVER_COST_SHARE 50

/* When the next discovery round may start, the last one having cost cpu_ns. */
static uint64_t next_discovery(uint64_t cpu_ns)
{
	uint64_t wait = cpu_ns > UINT64_MAX / DISCOVER_COST_SHARE ? UINT64_MAX / 2 :
			cpu_ns * DISCOVER_COST_SHARE;

	return bt_mono_ns() + (wait > DISCOVER_EVERY_NS ? wait : DISCOVER_EVERY_NS);
}

static volatile sig_atomic_t stop_signal, signals_seen;

static void on_signal(int sig)
{
	stop_signal = sig;
	signals_seen++;
}

static int fail(const char *msg)
{
	fprintf(stderr, "boundtrace: %s\n", msg);
	return 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a signal must interrupt the poll. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed stdout (-i | head) is a write error we stop on, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

/* Where the trace goes: a report at the end, or snapshots into a recording. */
struct sink {
	FILE *out;
	const struct bt_exporter *exp;
	struct bt_rec_writer *rec;
};

/* Recordings get a snapshot this often, so a kill -9 loses at most this much. */
#define SNAPSHOT_EVERY_NS (1000 * 1000000ull)

/* Collects into the model, stamped and sorted: what every output is made from. */
static int take_model(struct bt_tracer *t, uint64_t start, char *err, size_t errlen)
{
	if (bt_tracer_collect(t)) {
		snprintf(err, errlen, "cannot read the kernel aggregates");
		return -1;
	}
	t->model->duration_ns = bt_mono_ns() - start;
	bt_tracer_self_cost(t);
	bt_model_sort(t->model);
	return 0;
}

/* -1 when stdout is gone (its reader closed it): the trace ends. */
static int print_interval(struct bt_tracer *t, uint64_t start)
{
	char err[128];

	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[2J", stdout);
	if (take_model(t, start, err, sizeof(err)) == 0) {
		/* The trace goes on: what is pending in the chain windows stays so. */
		t->model->chains_open = true;
		bt_report_write(stdout, bt_report_find("table"), t->model);
		t->model->chains_open = false;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "boundtrace: cannot write to stdout (%s); stopping\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A snapshot into the recording (the model taken just before): it writes
 * the records that came since the last one, then the report beside it
 * folds them into its chains (by the rows the snapshot holds, as
 * `report FILE` will), or they go. Either way the model holds one
 * snapshot's records, not the trace's.
 */
static int write_snapshot(struct bt_tracer *t, struct sink *s, bool last, char *err,
			  size_t errlen)
{
	struct bt_model *m = t->model;

	/*
	 * A second of records takes a while to write: the record rings are
	 * emptied meanwhile (a full ring loses records), what they bring
	 * waits for the next snapshot. The last one has no next: the trace
	 * ended with the model it writes, so the rings wait (what comes
	 * after is not the trace's), and the report beside it folds the
	 * same records the recording holds.
	 */
	m->episodes_written = m->nepisodes;
	m->exchanges_written = m->nexchanges;
	if (bt_rec_write_model_tick(s->rec, m, last ? NULL : bt_tracer_drain_records, t, err,
				    errlen))
		return -1;
	if (!s->exp) {
		bt_model_drop_records(m);
		return 0;
	}
	if (bt_model_fold_chains_tick(m, last ? NULL : bt_tracer_drain, t)) {
		snprintf(err, errlen, "out of memory folding the chains");
		return -1;
	}
	return 0;
}

static int snapshot(struct bt_tracer *t, struct sink *s, uint64_t start, char *err, size_t errlen)
{
	if (take_model(t, start, err, errlen))
		return -1;
	return write_snapshot(t, s, false, err, errlen);
}

/*
 * trace: a report to -o (or stdout), and a recording too with --record;
 * record: only the recording, to -o.
 */
static int open_sink(struct sink *s, const struct bt_opts *o, bool record, int argc, char **argv,
		     char *err, size_t errlen)
{
	const char *rec_path = record ? o->output : o->record;
	struct bt_rec_info info;

	memset(s, 0, sizeof(*s));
	/* Checked before either is made: a refusal leaves nothing behind. */
	if (!record && o->output && rec_path && bt_same_output(o->output, rec_path)) {
		snprintf(err, errlen, "%s: -o and --record name the same file", o->output);
		return -1;
	}
	if (!record) {
		s->exp = o->exporter;
		s->out = o->output ? bt_open_output(o->output, o->force, err, errlen) : stdout;
		if (!s->out)
			return -1;
	}
	if (rec_path) {
		bt_rec_info_init(&info, BT_VERSION, argc, argv);
		s->rec = bt_rec_open(rec_path, o->force, &info, err, errlen);
		if (!s->rec) {
			bt_abort_output(s->out);
			s->out = NULL;
			return -1;
		}
	}
	return 0;
}

/* complete: the report was written in full and takes its name; else it is dropped. */
static int close_sink(struct sink *s, bool complete, char *err, size_t errlen)
{
	int ok = 1;

	if (s->rec)
		ok = bt_rec_close(s->rec, err, errlen) == 0;
	if (s->out && complete)
		ok = bt_close_output(s->out, err, errlen) && ok;
	else if (s->out)
		bt_abort_output(s->out);
	s->rec = NULL;
	s->out = NULL;
	return ok ? 0 : -1;
}

/*
 * Chains aggregate as the trace goes: what came since the last round
 * folds in right after a collection (discover's, unless --all), whose
 * rows name every record's service. A recording's fold at its snapshots
 * instead, after they wrote the records (`report FILE` folds there too).
 */
static void fold_chains(struct bt_tracer *t, struct bt_model *m, bool all, bool rec)
{
	if (m->chain_mode && !rec && (!all || !bt_tracer_collect(t)))
		bt_model_fold_chains_tick(m, bt_tracer_drain, t);
}

/* The folds the window's budget brought forward, and their collections' CPU (for -v). */
struct budget_folds {
	uint64_t n, collect_ns;
};

/*
 * The window's budget of records came before the next round (a high
 * rate): a collection to name them, and the fold, now. Memory follows
 * the budget rather than a round's records.
 */
static void fold_budget(struct bt_tracer *t, struct bt_model *m, struct budget_folds *b)
{
	uint64_t t0 = bt_thread_cpu_ns();

	if (bt_tracer_collect(t))
		return;
	b->collect_ns += bt_thread_cpu_ns() - t0;
	bt_model_fold_chains_tick(m, bt_tracer_drain, t);
	b->n++;
}

static void print_fold_stats(const struct bt_model *m, const struct budget_folds *b)
{
	struct bt_fold_stats s;

	bt_model_fold_stats(m, &s);
	if (!s.folds)
		return;
	fprintf(stderr, "boundtrace: chain window: %llu folds, %llu at its budget of %zu records "
			"(their collections %.1f ms CPU; every fold %.1f ms); largest window %llu records; "
			"horizon %.0f ms, the shortest %.0f ms; episodes: largest window %llu, "
			"horizon %.0f ms, the shortest %.0f ms\n",
		(unsigned long long)s.folds, (unsigned long long)b->n, s.budget,
		b->collect_ns / 1e6, s.cpu_ns / 1e6, (unsigned long long)s.window_max,
		s.horizon_ns / 1e6, s.horizon_min_ns / 1e6, (unsigned long long)s.ep_window_max,
		s.ep_horizon_ns / 1e6, s.ep_horizon_min_ns / 1e6);
}

/* o by value: the trace reads it everywhere, and it is read once. */
/*
 * BOUNDTRACE_ONEHOP=check (tests): whether the chains of the exchanges
 * the kernel counted and of those paired as their records came agree
 * with those of their records; 1 when they
 * differ (the output is written all the same: it shows how).
 */
static int report_onehop_check(const struct bt_model *m)
{
	char why[256];
	uint64_t counted = 0, paired = 0;
	int r = bt_model_onehop_check(m, &counted, &paired, why, sizeof(why));

	if (r < 0)
		fprintf(stderr, "boundtrace: one-hop check: not made (no exchange chains)\n");
	else if (r > 0) {
		/* The difference may quote a channel or a thread name: another process's bytes. */
		fputs("boundtrace: one-hop check: the chains differ: ", stderr);
		bt_fputs_escaped(stderr, why);
		fputc('\n', stderr);
	}
	else
		fprintf(stderr, "boundtrace: one-hop check: %llu exchanges counted in the kernel, "
			"%llu paired as they came, the chains agree with every record's\n",
			(unsigned long long)counted, (unsigned long long)paired);
	return r > 0;
}

static int run_trace(const struct bt_opts o, int argc, char **argv)
{
	bool record = o.cmd == BT_CMD_RECORD;
	struct bt_tracer_config cfg = {};
	struct bt_tracer tracer = {};
	uint64_t start, next_interval, next_round, next_discover, next_snapshot;
	struct sink sink = {};
	struct bt_serve *serve = NULL;
	int status = 0, ret = 1;
	bool child_done = false, stdout_gone = false, killed = false, check_failed = false;
	uint64_t interval_ns = o.interval_ns;
	struct budget_folds budget = { 0 };
	struct bt_model model;
	char err[512];
	pid_t child = 0;

	bt_model_init(&model);
	if (bt_check_privileges(err, sizeof(err)) || bt_check_btf(err, sizeof(err)))
		return fail(err);
	for (int i = 0; i < o.npids; i++) {
		char state;
		unsigned long flags;

		if (!bt_proc_exists(o.pids[i])) {
			snprintf(err, sizeof(err), "no process with pid %u", o.pids[i]);
			return fail(err);
		}
		if (!bt_proc_read_state(o.pids[i], &state, &flags) && (flags & BT_PF_KTHREAD))
			fprintf(stderr, "boundtrace: pid %u is a kernel thread: it makes no "
					"crossings to trace\n", o.pids[i]);
	}
	/* The loop polls every 100 ms: a shorter -i could not be kept, so say what is. */
	if (interval_ns && interval_ns < POLL_MS * 1000000ull) {
		fprintf(stderr, "boundtrace: -i is below the %d ms poll interval; printing every "
				"%d ms\n", POLL_MS, POLL_MS);
		interval_ns = POLL_MS * 1000000ull;
	}
	/* Open the output first: an unwritable path fails before any tracing. */
	if (open_sink(&sink, &o, record, argc, argv, err, sizeof(err)))
		return fail(err);
	if (o.serve) {
		serve = bt_serve_start(o.serve, err, sizeof(err));
		if (!serve) {
			fail(err);
			goto cleanup;
		}
	}

	cfg.all = o.all;
	cfg.follow = o.follow;
	cfg.map_size = o.map_size;
	cfg.max_hops = o.peers;
	cfg.min_block_ns = o.chains ? o.min_block_ns : 0;
	cfg.stacks = o.stacks;
	cfg.sockets_only = o.sockets_only;
	cfg.stack_map_size = o.stack_map_size;
	model.weight = o.weight;
	model.group_exe = o.group_exe;
	model.connections = o.connections;
	model.metrics_pid = o.metrics_pid;
	model.max_series = o.max_series;
	model.keep_records = sink.rec != NULL;
	cfg.onehop = !model.keep_records;	/* a recording keeps every record */
	cfg.verbose = o.verbose;
	if (bt_tracer_open(&tracer, &cfg, &model, err, sizeof(err))) {
		fail(err);
		goto cleanup;
	}
	/* A signal stops an exit harvest mid-walk: the report is written at once. */
	tracer.stop = &stop_signal;
	install_signals();
	for (int i = 0; i < o.npids; i++) {
		if (bt_tracer_add_target(&tracer, o.pids[i])) {
			snprintf(err, sizeof(err), "cannot trace pid %u", o.pids[i]);
			fail(err);
			goto cleanup;
		}
	}
	if (o.command) {
		child = bt_spawn_stopped(o.command, err, sizeof(err));
		if (child < 0 || bt_tracer_add_target(&tracer, child)) {
			fail(child < 0 ? err : "cannot trace the command");
			if (child > 0)
				kill(child, SIGKILL);
			child = 0;
			goto cleanup;
		}
	}
	if (child) {
		int rc = bt_spawn_resume(child, &status);

		if (rc == 1) {
			child_done = true;
		} else if (rc == 0) {
			/*
			 * Held after exec, at its entry point when we can (its
			 * libraries mapped there): its image and name are there to
			 * read, its close-on-exec fds are gone, and peers found now
			 * are traced before its first crossing.
			 */
			if (o.stacks && bt_spawn_run_to_entry(child, &status) == 1)
				child_done = true;
			if (!child_done) {
				bt_tracer_exec_seen(&tracer, child);
				bt_tracer_discover(&tracer, true);
				bt_spawn_detach(child);
			}
		}
	} else {
		bt_tracer_discover(&tracer, true);
	}
	/*
	 * The first fold, right after the first round: from then on each
	 * record goes into the window as it comes (the first half second's
	 * waited in the model, 80 bytes each, about 10 MiB at a pinned pipe
	 * ping-pong's rate, and went into the window at once in the first
	 * fold, the rings not emptied meanwhile).
	 */
	fold_chains(&tracer, &model, o.all, sink.rec != NULL);
	if (o.verbose)
		fprintf(stderr, "boundtrace: tracing; Ctrl-C to stop\n");

	start = bt_mono_ns();
	next_interval = start + interval_ns;
	next_round = next_discover = start + DISCOVER_EVERY_NS;
	next_snapshot = start + SNAPSHOT_EVERY_NS;
	while (!stop_signal) {
		if (bt_tracer_poll(&tracer, POLL_MS) < 0)
			break;
		if (child && !child_done && waitpid(child, &status, WNOHANG) == child)
			child_done = true;
		if (child_done)
			break;
		if (!o.all && !child && bt_tracer_live_targets(&tracer) == 0)
			break;
		if (o.duration_ns && bt_mono_ns() - start >= o.duration_ns)
			break;
		if (bt_mono_ns() >= next_round) {
			if (bt_mono_ns() >= next_discover) {
				bt_tracer_discover(&tracer, false);
				next_discover = next_discovery(tracer.discover_cpu_ns);
			} else if (!o.all) {
				bt_tracer_collect(&tracer);	/* the fold names records by its rows */
			}
			next_round = bt_mono_ns() + DISCOVER_EVERY_NS;
			fold_chains(&tracer, &model, o.all, sink.rec != NULL);
		} else if (bt_model_fold_due(&model)) {
			fold_budget(&tracer, &model, &budget);
		}
		if (interval_ns && bt_mono_ns() >= next_interval && !record) {
			if (print_interval(&tracer, start)) {
				stdout_gone = true;
				break;
			}
			next_interval += interval_ns;
		}
		/* A scrape waits: a snapshot for it, as the interval tables take one. */
		if (serve && bt_serve_wanted(serve) && take_model(&tracer, start, err, sizeof(err)) == 0)
			bt_serve_publish(serve, &model);
		if (sink.rec && bt_mono_ns() >= next_snapshot) {
			if (snapshot(&tracer, &sink, start, err, sizeof(err))) {
				fail(err);
				goto cleanup;
			}
			next_snapshot = bt_mono_ns() + SNAPSHOT_EVERY_NS;
		}
	}
	/* Name the far ends of channels made since the last round (and every holder: a full scan). */
	bt_tracer_discover(&tracer, true);
	/* Which connections are still open: the model below says so. */
	bt_tracer_census_end(&tracer);
	if (bt_tracer_detach(&tracer)) {
		fail("cannot read the kernel aggregates");
		goto cleanup;
	}
	/* One model for every output: live and recorded say the same. */
	if (take_model(&tracer, start, err, sizeof(err)) ||
	    (sink.rec && write_snapshot(&tracer, &sink, true, err, sizeof(err)))) {
		fail(err);
		goto cleanup;
	}
	if (o.verbose)
		print_fold_stats(&model, &budget);
	/* The trace is over: the model grows no more, its unused room goes before the views come. */
	bt_model_fit(&model);
	if (sink.exp && bt_report_write(sink.out, sink.exp, &model)) {
		fail("cannot write the report");
		goto cleanup;
	}
	ret = 0;
	check_failed = model.onehop_check && report_onehop_check(&model);
cleanup:
	bt_serve_stop(serve);
	bt_tracer_close(&tracer);
	if (close_sink(&sink, ret == 0, err, sizeof(err))) {
		fail(err);
		ret = 1;
	}
	if (child) {
		if (!child_done) {
			/* Stopped by a signal, -d or a closed stdout: the command ends with us. */
			killed = bt_spawn_end(child, BT_SPAWN_GRACE_MS, &signals_seen, &status);
		}
		if (ret == 0)
			ret = bt_exit_status(status);
		/* A command we had to kill did not finish: never a success. */
		if (ret == 0 && killed)
			ret = 1;
	}
	if ((stdout_gone || check_failed) && ret == 0)
		ret = 1;
	bt_model_free(&model);
	return ret;
}

int main(int argc, char **argv)
{
	struct bt_opts o;
	char err[512];
	int ret = 0;

	/*
	 * A fixed mmap threshold (glibc's default value): left dynamic,
	 * glibc raises it to the largest mmap'd block freed (a discovery
	 * round's scratch array, sized by the whole machine's sockets), then
	 * serves such blocks from the heap and keeps up to twice that
	 * untrimmed: a long trace's RSS stepped up by 1.1 MiB once and stayed.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (bt_opts_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\nTry '%s --help'.\n", bt_opts_cmd_name(o.cmd), err,
			bt_opts_cmd_name(o.cmd));
		ret = 2;
	} else if (o.help) {
		bt_opts_usage(o.cmd, stdout);
	} else if (o.version) {
		printf("boundtrace %s (git %s)\n", BT_VERSION, BT_GIT_REV);
	} else if (o.cmd == BT_CMD_REPORT) {
		ret = bt_cmd_report(&o);
	} else {
		ret = run_trace(o, argc, argv);
	}
	bt_opts_free(&o);
	return ret;
}
