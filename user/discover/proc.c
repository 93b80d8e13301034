// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "model/model.h"
#include "discover/proc.h"

bool bt_proc_exists(uint32_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

int bt_proc_parse_stat_start(const char *stat, unsigned long long *ticks)
{
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	const char *p = strrchr(stat, ')');
	int field = 2;
	char *end;

	if (!p)
		return -1;
	p++;
	while (*p && field < 22) {
		if (*p == ' ') {
			field++;
			while (*p == ' ')
				p++;
			continue;
		}
		p++;
	}
	/* strtoull alone would take "abc" as 0 and "-5" as a huge number. */
	if (field != 22 || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	*ticks = strtoull(p, &end, 10);
	return errno || (*end && *end != ' ' && *end != '\n') ? -1 : 0;
}

int bt_proc_parse_stat_state(const char *stat, char *state, unsigned long *flags)
{
	/* After the last ')': " S ppid pgrp session tty_nr tpgid flags ..." */
	const char *p = strrchr(stat, ')');
	unsigned long f;
	char st;

	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &st, &f) != 2)
		return -1;
	*state = st;
	*flags = f;
	return 0;
}

int bt_proc_read_state(uint32_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	return bt_proc_parse_stat_state(buf, state, flags);
}

/* ns per clock tick of /proc (USER_HZ), 0 when unknown. */
static uint64_t tick_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? 1000000000ull / hz : 0;
}

uint64_t bt_proc_start_ns(uint64_t boot_ns)
{
	uint64_t tick = tick_ns();

	return tick ? boot_ns / tick * tick : boot_ns;
}

int bt_proc_read_identity(uint32_t pid, char *comm, size_t commlen, uint64_t *start_ns)
{
	char path[64], buf[1024];
	unsigned long long ticks;
	uint64_t tick = tick_ns();
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return -1;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	snprintf(comm, commlen, "%s", buf);
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (read_small(path, buf, sizeof(buf)) > 0 && !bt_proc_parse_stat_start(buf, &ticks) &&
	    tick)
		*start_ns = ticks * tick;
	return 0;
}

void bt_proc_read_exe(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (!len)
		return;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
}

uint32_t bt_proc_read_ppid(uint32_t pid)
{
	char path[64], buf[1024];
	const char *p;
	unsigned int ppid;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	/* "PID (COMM) STATE PPID ...": comm may hold ')' itself. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %u", &ppid) != 1)
		return 0;
	return ppid;
}

int bt_proc_read_image(struct bt_proc *p)
{
	if (bt_proc_read_identity(p->pid, p->comm, sizeof(p->comm), &p->start_ns))
		return -1;
	bt_proc_read_exe(p->pid, p->exe, sizeof(p->exe));
	if (!p->ppid)
		p->ppid = bt_proc_read_ppid(p->pid);
	return 0;
}
