/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Recordings: `boundtrace record -o FILE` writes the model into a file,
 * `boundtrace report FILE` reads it back into the same model, so every
 * exporter prints a recording exactly as it printed the live trace.
 *
 * The container (header, compressed blocks, checksums) is recfile.h; the
 * record tables below are schema.h, written by writer.c, read by reader.c.
 * Block types and payloads (format versions 1 and 2: the same blocks,
 * read differently, see below); integers little-endian, "str" is a u32
 * length and that many bytes (no NUL):
 *
 *   HEADER_INFO  first block of every file.
 *                str version, str kernel release, str host name (uname
 *                nodename), u64 start time (CLOCK_REALTIME ns), str command
 *                line, [u64 CLOCK_MONOTONIC ns at the same instant: the
 *                clock of episode times, so merged recordings of several
 *                hosts can be put on one timeline]
 *   PROCESS      u32 count, then count records:
 *                u32 record length, u32 pid, u64 start_ns, u8 flags
 *                (bit 0 exited), s32 exit_code, str comm,
 *                [str exe, u8 flags (bit 0 harvested, bit 1 target,
 *                bit 2 untimed: calls counted before it was followed),
 *                s32 hop]
 *   ROWS         u32 count, u32 hist_slots, u32 path_len, then count records:
 *                u32 record length, u32 process (index among this
 *                snapshot's PROCESS records: after pid reuse one pid is
 *                two processes), then struct bt_key: u32 tgid, u8 kind,
 *                u8 dir, u64 chan, u64 peer; struct bt_stats: u64 calls,
 *                bytes, errors, woken, blocked_ns, max_blocked_ns,
 *                u64 size_hist[hist_slots], u64 blocked_hist[hist_slots];
 *                u8 flags (bit 0 has_info); struct bt_chan_info: u8 kind,
 *                u8 family, u16 lport, u16 rport, u8 laddr[16],
 *                u8 raddr[16], u64 peer_ino, u8 path[path_len];
 *                [the rest of struct bt_key: s32 ustack, s32 kstack,
 *                u64 ucaller], [u64 lost_calls: calls the kernel could
 *                not count in this row (its map was full)]
 *                [exchanges: u8 role, u64 exchanges, u64 exch_ns,
 *                u64 max_exch_ns, u64 exch_hist[hist_slots]]
 *                [far end: u8 role, u32 peer_tgid] [u8 conn (enum
 *                bt_conn_seen), u32 netns]
 *   WAKES        u32 count, then count records: u32 record length,
 *                struct bt_wake_key: u32 waker, u32 wakee, u8 kind, u8 dir,
 *                u64 chan, u64 peer; u64 count
 *   HOLDERS      u32 count, then count records: u32 record length,
 *                u64 ino, u32 pid, u8 type, u8 mode
 *   SOCKFACTS    u32 count, then count records: u32 record length,
 *                u64 ino, u64 peer_ino, u8 proto, u8 family, u16 lport,
 *                u16 rport, u8 laddr[16], u8 raddr[16]
 *   EPISODES     u32 count, u8 flags (bit 0 chain mode, bit 1 sockets only:
 *                nothing but socket calls, no blocked time), u64 episodes over
 *                the model's cap, then count records: u32 record length,
 *                u32 pid, u32 tid, u8 kind, u8 dir, u32 waker_pid,
 *                u64 chan, u64 peer, u64 start_ns, u64 end_ns, u64 wake_ns,
 *                u32 waker_tid, [u8 wait (enum bt_wait), s32 ret]
 *   EXCHANGES    u32 count, then count records: u32 record length,
 *                u32 pid, u32 tid, u32 req_tid, u8 role, u8 kind, u8 type, u64 chan,
 *                u64 peer, u64 end_a, u64 end_b, u64 req_ns, u64 resp_ns,
 *                u8 comm[16] (the thread's name)
 *   STACKROWS    u32 count, then count records: u32 record length,
 *                struct bt_key (u32 tgid, u8 kind, u8 dir, u64 chan,
 *                u64 peer, s32 ustack, s32 kstack, u64 ucaller), u64 calls,
 *                bytes, errors, blocked_ns
 *   STACKS       u32 count, u8 flags (bit 0 stack mode), then count
 *                records: u32 record length, u32 pid, s32 id, u64 caller,
 *                str folded (at most BT_REC_MAX_STACK_LEN bytes and
 *                BT_REC_MAX_STACK_FRAMES ';'-separated frames)
 *   WAKESTACKS   u32 count, then count records: u32 record length,
 *                struct bt_wakestack_key: u32 wakee, u32 waker, u8 kind,
 *                u8 dir, s32 wakee_ustack, u64 chan, u64 peer,
 *                u64 wakee_ucaller, s32 waker_ustack, u64 waker_ucaller;
 *                struct bt_wakestack_val: u64 count, u64 blocked_ns
 *   LOST         u32 count, u64 lost[count] (enum bt_loss order)
 *   SELF         (new, skipped by older readers) what the trace cost
 *                boundtrace itself so far (struct bt_self_cost): u32 count,
 *                then count u64: load_cpu_ns, cpu_ns, max_rss_kib,
 *                records[BT_SELF_RECORDS_MAX] (enum bt_self_record order),
 *                record_bytes, bpf_stats (0 or 1), bpf_ns, bpf_runs,
 *                [chain_cpu_ns]; a value a newer writer added is
 *                ignored, one an older writer left out is 0. Absent:
 *                nothing measured.
 *   DURATION     u64 duration_ns. Closes a snapshot.
 *   END          empty. The recording was closed cleanly.
 *
 * Fields in [brackets] came after the first version 1 files: a record
 * may end before any of them (an older writer), never inside one. A
 * PROCESS record without its flags reads as a target when it has rows.
 * ROWS without the stack fields read as BT_STACK_NONE.
 *
 * A snapshot is PROCESS, ROWS, WAKES, HOLDERS, SOCKFACTS, EPISODES,
 * STACKROWS, WAKESTACKS, STACKS (each split into blocks of about 1 MiB;
 * the lists with nothing in them left out, EPISODES and STACKS also
 * written for their mode flag), LOST, SELF (a live trace's), then DURATION. The reader stages a
 * snapshot's blocks and commits them at DURATION, replacing the previous
 * snapshot: the kernel counters are cumulative, so the last complete
 * snapshot is the whole trace, and a file cut anywhere holds the one
 * before the cut. Every snapshot carries the whole model's sets
 * (processes, rows, wakes, holders, socket facts, stack rows, stacks,
 * waker stacks, futex links), its resolved stacks too, so none needs
 * another for them. No END means the file was cut (crash, kill -9, full
 * disk) or is still being written.
 *
 * The logs, EPISODES and EXCHANGES, are records, not keys. Format 1:
 * each snapshot held every record so far (at most BT_EPISODES_MAX of
 * each, the rest lost), rewritten every second. Format 2: each snapshot
 * holds the records that came since the one before (at most
 * BT_EPISODES_MAX of each a snapshot, as the writer's model holds
 * between snapshots), so the trace's records are those of every complete
 * snapshot, in order; a snapshot's records came before the collection
 * whose rows it holds, and are named (their services, analyze/) from
 * those rows. A format 1 reader refuses format 2 (it would read one
 * second of records as the trace's); format 2 reads format 1 as it was.
 * EPISODES' u64 of episodes over the cap is the trace's, in both.
 *
 * A snapshot's lists hold each key once, as the model does: a repeated
 * row, wake, stack row or waker stack is summed, a repeated holder's
 * modes are merged, a repeated socket's later facts win, a repeated
 * stack's first string wins. The folded weight (enum bt_weight) is a
 * presentation choice of the report, not recorded.
 *
 * Extending it (see recfile.h for the container's rules): a record's
 * length lets new fields go at its end (PROCESS gained exe that way),
 * hist_slots and path_len free the rows from today's array sizes, and
 * new data comes as new block types, skipped by older readers of the
 * same version:
 * per-snapshot data between a snapshot's first block and its DURATION,
 * file-wide data anywhere after HEADER_INFO.
 */
#ifndef BT_RECORD_H
#define BT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

enum bt_rec_block {
	BT_REC_HEADER_INFO = 1,
	BT_REC_PROCESS,
	BT_REC_ROWS,
	BT_REC_LOST,
	BT_REC_DURATION,
	BT_REC_END,
	BT_REC_WAKES,
	BT_REC_HOLDERS,
	BT_REC_SOCKFACTS,
	BT_REC_EPISODES,
	BT_REC_STACKROWS,
	BT_REC_STACKS,
	BT_REC_WAKESTACKS,
	BT_REC_EXCHANGES,
	BT_REC_FUTEXLINKS,
	BT_REC_SELF,
};

/* Reading limits per snapshot: memory stays bounded whatever the file says. */
/*
 * The records of a snapshot may make at most BT_REC_MODEL_PER_BYTE times
 * the file's size in model memory (BT_REC_MIN_MODEL_MIB at least), each
 * counted as what it makes (a process or a row: its struct; a list
 * entry: 64 bytes; never less than its own bytes): a small crafted file
 * cannot claim millions of compressed-away records. A real recording's
 * model is a few dozen times its file.
 */
#define BT_REC_MODEL_PER_BYTE	256u
#define BT_REC_MIN_MODEL_MIB	64u
#define BT_REC_MAX_SNAPSHOT	(4ull << 30)	/* uncompressed bytes of its blocks */
#define BT_REC_MAX_ROWS		(1u << 23)
#define BT_REC_MAX_PROCS	(1u << 22)
#define BT_REC_MAX_WAKES	(1u << 24)
#define BT_REC_MAX_HOLDERS	(1u << 22)
#define BT_REC_MAX_SOCKS	(1u << 22)
#define BT_REC_MAX_FUTEXLINKS	(1u << 22)
#define BT_REC_MAX_EPISODES	BT_EPISODES_MAX
#define BT_REC_MAX_STACKROWS	(1u << 24)
#define BT_REC_MAX_STACKS	(1u << 24)
#define BT_REC_MAX_WAKESTACKS	(1u << 24)
/* Bytes of one folded stack; a longer one is cut when written. */
#define BT_REC_MAX_STACK_LEN	(64u << 10)
/*
 * Frames of one folded stack (a live one has at most BT_STACK_DEPTH + 1):
 * two stacks and up to four frames more make a folded line, which must
 * fit BT_FLAME_MAX_DEPTH.
 */
#define BT_REC_MAX_STACK_FRAMES	510u

/* Where and how a recording was made. Strings are NUL-terminated, cut to fit. */
struct bt_rec_info {
	char version[64];	/* of the boundtrace that wrote it */
	char kernel[128];	/* uname release */
	char host[256];
	uint64_t start_ns;	/* CLOCK_REALTIME when recording began */
	char options[4096];	/* the command line, shell-quoted */
	uint64_t mono_ns;	/* CLOCK_MONOTONIC at start_ns; 0: not recorded (older file) */
};

struct bt_rec_status {
	uint32_t version;	/* format version of the file */
	uint32_t flags;		/* its header flags */
	bool truncated;		/* no END block: cut short or still being written */
	bool partial;		/* an incomplete last snapshot was dropped */
	unsigned int snapshots;	/* complete snapshots; the model is the last */
	unsigned int skipped;	/* blocks of types this version does not know */
	uint64_t bytes;		/* read up to here */
};

/* Fills info for this host and now; argv is joined into options. */
void bt_rec_info_init(struct bt_rec_info *info, const char *version, int argc,
		      char *const argv[]);

struct bt_rec_writer;

/*
 * Creates path as bt_open_output() does (O_EXCL unless force, never
 * through a symlink, mode 0600; "-" is stdout) and writes the file
 * header and info (may be NULL). NULL with a message in err on failure.
 */
struct bt_rec_writer *bt_rec_open(const char *path, bool force, const struct bt_rec_info *info,
				  char *err, size_t errlen);
/*
 * Appends m as one snapshot and flushes it to the kernel, so it survives
 * the death of this process. Call it as often as wanted: a reader keeps
 * the last one's sets, and adds up every one's episodes and exchange
 * records, so the caller lets those go once written
 * (bt_model_drop_records, or a fold of the chains). 0, or -1 with a
 * message (and every later call fails too).
 */
int bt_rec_write_model(struct bt_rec_writer *w, const struct bt_model *m,
		       char *err, size_t errlen);
/*
 * The same, calling tick(ctx) after each block: a tracer empties its
 * record rings there, so a long write loses nothing. tick may only
 * append to the model's episodes and exchanges: the snapshot holds
 * those there when it began.
 */
int bt_rec_write_model_tick(struct bt_rec_writer *w, const struct bt_model *m,
			    void (*tick)(void *ctx), void *ctx, char *err, size_t errlen);
/*
 * Writes END, syncs and closes, and frees w (also after an error).
 * 0, or -1 when this or any earlier write failed.
 */
int bt_rec_close(struct bt_rec_writer *w, char *err, size_t errlen);

/*
 * Reads a recording into m (initialized; its old content is replaced)
 * and, when not NULL, info and st. A file cut short is not an error:
 * st->truncated says so and m holds the last complete snapshot. On error
 * returns -1 with a one-line message naming the file, and leaves m as it
 * was. Processes and rows keep the order they were written in; the
 * episodes and exchange records are every complete snapshot's, in order
 * (at most BT_EPISODES_MAX of each, the rest counted lost).
 */
int bt_rec_read(const char *path, struct bt_model *m, struct bt_rec_info *info,
		struct bt_rec_status *st, char *err, size_t errlen);
/*
 * Called after each complete snapshot of a format 2 recording with the
 * snapshot's model, its episodes and exchange records those that came
 * since the snapshot before. take folds them into what it keeps in the
 * model from one snapshot to the next (m->fold, m->episodes_folded: the
 * chains, analyze/chain_input.h); the reader drops what it leaves. 0, or
 * -1 when out of memory.
 */
typedef int (*bt_rec_take_fn)(struct bt_model *m, void *ctx);
/*
 * bt_rec_read, with each snapshot's new records given to take as it is
 * read (format 2; a format 1 file's records stay in m, as bt_rec_read
 * leaves them): memory follows what take keeps and one snapshot, not
 * the recording's length. m is the last complete snapshot with what take
 * kept (no records).
 */
int bt_rec_read_each(const char *path, bt_rec_take_fn take, void *ctx, struct bt_model *m,
		     struct bt_rec_info *info, struct bt_rec_status *st, char *err, size_t errlen);
/* The same from memory; name is for the messages. */
int bt_rec_read_mem(const void *buf, size_t len, const char *name, struct bt_model *m,
		    struct bt_rec_info *info, struct bt_rec_status *st,
		    char *err, size_t errlen);

#endif
