// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target of the recording reader (make fuzz-record).
 *
 * Two kinds of input:
 *   anything not starting with 'S': the bytes of a recording file, as is.
 *   'S' then (u32 type, u32 length, payload)...: blocks, framed and
 *       compressed here behind a valid file header. Checksums and zlib
 *       would stop almost every mutation of a real file at the container;
 *       this way the payload parsers see the mutations.
 *
 * Each input is read twice, from memory and through a file descriptor,
 * which must agree (the same model: the same bytes written back).
 * Whatever reads cleanly must keep the reader's bounds, go through every
 * exporter, and survive a round trip: written back and read again, it
 * must write the same bytes.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "record/recfile.h"
#include "record/record.h"
#include "export/report.h"

static char tmp_path[256];
static char fd_path[64];
static int memfd = -1;
static FILE *devnull;

static void cleanup(void)
{
	unlink(tmp_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		dir = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	snprintf(tmp_path, sizeof(tmp_path), "%s/bt-fuzz-record-%d.btrec", dir, (int)getpid());
	atexit(cleanup);
	devnull = fopen("/dev/null", "w");
	memfd = memfd_create("fuzz-record", MFD_CLOEXEC);
	if (!devnull || memfd < 0)
		abort();
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

static char *write_back(const struct bt_model *m, const struct bt_rec_info *info, size_t *len);

/*
 * The file reader must say what the memory reader said, word for word,
 * and read the same model: one is what the writer made of it.
 */
static void same_through_fd(const void *in, size_t len, int ret, const char *err,
			    const char *one, size_t len1, const struct bt_rec_info *info,
			    const struct bt_rec_status *st)
{
	struct bt_rec_status st2;
	struct bt_rec_info info2;
	struct bt_model m2;
	char err2[512] = "";
	size_t len2;
	char *two;

	if (ftruncate(memfd, 0) || pwrite(memfd, in, len, 0) != (ssize_t)len)
		abort();
	bt_model_init(&m2);
	if (bt_rec_read(fd_path, &m2, &info2, &st2, err2, sizeof(err2)) != ret)
		abort();
	if (ret) {
		/* The same words after the name. */
		if (strcmp(err + strlen("fuzz"), err2 + strlen(fd_path)))
			abort();
		return;
	}
	if (memcmp(info, &info2, sizeof(info2)) || st->truncated != st2.truncated ||
	    st->partial != st2.partial || st->snapshots != st2.snapshots ||
	    st->skipped != st2.skipped || st->bytes != st2.bytes)
		abort();
	two = write_back(&m2, &info2, &len2);
	if (len1 != len2 || memcmp(one, two, len1))
		abort();
	free(two);
	bt_model_free(&m2);
}

/* Frames the blocks of an 'S' input into a recording in memory. */
static char *frame_blocks(const uint8_t *data, size_t size, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	bt_recf_write_header(f, 0);
	while (size >= 8) {
		uint32_t type, n;

		memcpy(&type, data, 4);
		memcpy(&n, data + 4, 4);
		type = le32toh(type);
		n = le32toh(n);
		data += 8;
		size -= 8;
		if (n > size)
			n = size;
		bt_recf_write_block(f, type, data, n);
		data += n;
		size -= n;
	}
	if (fclose(f))
		abort();
	return buf;
}

/* What the reader promises: terminated strings, and its bounds kept. */
static void check_bounds(const struct bt_model *m)
{
	if (m->nprocs > BT_REC_MAX_PROCS || m->nwakes > BT_REC_MAX_WAKES ||
	    m->nholders > BT_REC_MAX_HOLDERS || m->nsocks > BT_REC_MAX_SOCKS ||
	    m->nepisodes > BT_REC_MAX_EPISODES || m->nstackrows > BT_REC_MAX_STACKROWS ||
	    m->nstacks > BT_REC_MAX_STACKS)
		abort();
	for (size_t i = 0; i < m->nstacks; i++)
		if (!m->stacks[i].folded ||
		    strnlen(m->stacks[i].folded, BT_REC_MAX_STACK_LEN + 1) > BT_REC_MAX_STACK_LEN)
			abort();
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		if (!memchr(p->comm, 0, sizeof(p->comm)) || !memchr(p->exe, 0, sizeof(p->exe)))
			abort();
		for (size_t j = 0; j < p->nrows; j++) {
			const struct bt_row *r = &p->rows[j];

			if (!r->channel || strnlen(r->channel, BT_CHANNEL_LEN) >= BT_CHANNEL_LEN ||
			    !memchr(r->info.path, 0, sizeof(r->info.path)))
				abort();
		}
	}
}

/* The model as the writer writes it: its file's bytes. */
static char *write_back(const struct bt_model *m, const struct bt_rec_info *info, size_t *len)
{
	char err[512];
	struct bt_rec_writer *w = bt_rec_open(tmp_path, true, info, err, sizeof(err));
	char *buf;
	FILE *f;
	long n;

	if (!w || bt_rec_write_model(w, m, err, sizeof(err)) || bt_rec_close(w, err, sizeof(err))) {
		fprintf(stderr, "write back: %s\n", err);
		abort();
	}
	f = fopen(tmp_path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0)
		abort();
	rewind(f);
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = n;
	return buf;
}

/* What the writer made of a model reads back as the model: it writes the same bytes. */
static void round_trip(const char *one, size_t len1)
{
	struct bt_rec_status st;
	struct bt_rec_info info2;
	struct bt_model m2;
	char err[512];
	size_t len2;
	char *two;

	bt_model_init(&m2);
	if (bt_rec_read_mem(one, len1, "round trip", &m2, &info2, &st, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	if (st.truncated || st.snapshots != 1 || st.skipped)
		abort();
	two = write_back(&m2, &info2, &len2);
	if (len1 != len2 || memcmp(one, two, len1))
		abort();
	free(two);
	bt_model_free(&m2);
}

/*
 * Every exporter, as `boundtrace report -f` would run it. Some say on
 * stderr what the model lacks: make fuzz-record runs with
 * -close_fd_mask=2 (the sanitizers still report).
 */
static void export_all(const struct bt_model *m)
{
	char names[256], *save = NULL;

	snprintf(names, sizeof(names), "%s", bt_report_format_names());
	for (char *s = strtok_r(names, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
		const struct bt_exporter *e = bt_report_find(s);

		if (!e || bt_report_write(devnull, e, m)) {
			/* Say which, for the crash report (stderr may be closed). */
			fprintf(stdout, "fuzz_record: exporter %s failed\n", s);
			fflush(stdout);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model m;
	char err[512] = "";
	char *framed = NULL, *one = NULL;
	size_t len = size, len1 = 0;
	const void *in = data;
	int ret;

	if (size && data[0] == 'S') {
		framed = frame_blocks(data + 1, size - 1, &len);
		in = framed;
	}
	bt_model_init(&m);
	ret = bt_rec_read_mem(in, len, "fuzz", &m, &info, &st, err, sizeof(err));
	if (ret == 0)
		one = write_back(&m, &info, &len1);
	same_through_fd(in, len, ret, err, one, len1, &info, &st);
	if (ret == 0) {
		check_bounds(&m);
		round_trip(one, len1);
		bt_model_sort(&m);
		export_all(&m);
	} else if (!err[0] || strchr(err, '\n') || strncmp(err, "fuzz: ", 6)) {
		/* Every failure is one line naming the input. */
		abort();
	}
	bt_model_free(&m);
	free(one);
	free(framed);
	return 0;
}
