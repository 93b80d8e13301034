// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floorhooks: load floorhooks.bpf.o (next to this binary), attach every
 * program in it, or those on the tracepoints named, and hold them until
 * SIGINT or SIGTERM. `make bench` measures the floor rows with it: the
 * cost of the hooks' mere existence, and of the non-syscall hooks alone.
 *
 * Usage: floorhooks [TRACEPOINT...]   e.g. floorhooks sock_send_length
 *        (exit 0 after a signal, 1 if it cannot attach or a name is unknown)
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The object beside the binary: build/tools/floorhooks.bpf.o. */
static int object_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - sizeof(".bpf.o"));

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	strcat(buf, ".bpf.o");
	return 0;
}

/* Each program is floor_TRACEPOINT: whether argv names its tracepoint (none named: all). */
static bool wanted(const struct bpf_program *prog, int argc, char **argv)
{
	const char *tp = bpf_program__name(prog) + strlen("floor_");

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], tp))
			return true;
	return argc < 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	char path[PATH_MAX];
	int n = 0, rc = 1;

	if (object_path(path, sizeof(path))) {
		perror("floorhooks: /proc/self/exe");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floorhooks: cannot load %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		char name[64];

		if (snprintf(name, sizeof(name), "floor_%s", argv[i]) >= (int)sizeof(name) ||
		    !bpf_object__find_program_by_name(obj, name)) {
			fprintf(stderr, "floorhooks: no empty program on tracepoint '%s'\n", argv[i]);
			goto out;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		if (!wanted(prog, argc, argv))
			continue;
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "floorhooks: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			goto out;
		}
		n++;
	}
	fprintf(stderr, "floorhooks: %d empty programs attached\n", n);
	while (!stop)
		pause();
	rc = 0;
out:
	bpf_object__close(obj);	/* detaches: the links belong to the object's programs */
	return rc;
}
