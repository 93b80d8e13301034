// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "live/spawn.h"
#include "lib/vec.h"

char **bt_split_command(char *cmd)
{
	size_t n = 0, cap = 0;
	char **argv = NULL;

	/* Anything a shell would interpret goes through /bin/sh -c. */
	if (strpbrk(cmd, "|&;<>()$`\\\"'*?[#~=%{}\n"))
		return NULL;
	/* Room for the NULL after the words too; the new room is zeroed. */
	for (char *tok = strtok(cmd, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (!bt_grow((void **)&argv, &cap, n + 2, sizeof(*argv))) {
			free(argv);
			return NULL;
		}
		argv[n++] = tok;
	}
	if (!n) {
		free(argv);
		return NULL;
	}
	return argv;
}

static void __attribute__((noreturn)) child(const char *cmd)
{
	char *copy = strdup(cmd);
	char **argv = copy ? bt_split_command(copy) : NULL;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/*
	 * The parent marks us a target while we are stopped, and (as our
	 * tracer until then) sees us stop again right after exec, to read the
	 * new image's maps before any of it can run and exit.
	 */
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	/*
	 * Only stdio passes to the command: descriptors boundtrace inherited
	 * from its own parent would make that parent look like a peer.
	 */
	syscall(SYS_close_range, 3, ~0U, 0);
	raise(SIGSTOP);
	if (argv)
		execvp(argv[0], argv);
	else
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	fprintf(stderr, "boundtrace: cannot run '%s': %s\n", cmd, strerror(errno));
	_exit(127);
}

pid_t bt_spawn_stopped(const char *cmd, char *err, size_t errlen)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(cmd);
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		snprintf(err, errlen, "the command did not start");
		return -1;
	}
	return pid;
}

int bt_spawn_resume(pid_t pid, int *wstatus)
{
	int status;

	if (ptrace(PTRACE_CONT, pid, NULL, NULL))
		return kill(pid, SIGCONT) ? -1 : 0;
	/* The next stop is the exec's SIGTRAP, unless exec failed and it exited. */
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		*wstatus = status;
		return 1;
	}
	return 0;
}

#if defined(__x86_64__)
/* The program's entry point, from its auxiliary vector (AT_ENTRY). */
static unsigned long entry_point(pid_t pid)
{
	unsigned long aux[2], entry = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fread(aux, sizeof(aux), 1, f) == 1 && aux[0] != AT_NULL)
		if (aux[0] == AT_ENTRY)
			entry = aux[1];
	fclose(f);
	return entry;
}

int bt_spawn_run_to_entry(pid_t pid, int *wstatus)
{
	unsigned long entry = entry_point(pid);
	struct user_regs_struct regs;
	long word;
	int status;

	if (!entry)
		return -1;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno)
		return -1;
	/* int3 at the entry: the dynamic loader has mapped every library by then. */
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc)))
		return -1;
	if (ptrace(PTRACE_CONT, pid, NULL, NULL) || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		*wstatus = status;
		return 1;
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)word) ||
	    ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return -1;
	if (WSTOPSIG(status) != SIGTRAP || regs.rip != entry + 1)
		return -1;	/* stopped elsewhere: leave it be */
	regs.rip = entry;
	return ptrace(PTRACE_SETREGS, pid, NULL, &regs) ? -1 : 0;
}
#else
int bt_spawn_run_to_entry(pid_t pid, int *wstatus)
{
	(void)pid;
	(void)wstatus;
	return -1;	/* the exec stop is as far as we go */
}
#endif

int bt_spawn_detach(pid_t pid)
{
	return ptrace(PTRACE_DETACH, pid, NULL, NULL);
}

int bt_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

int bt_spawn_end(pid_t pid, int grace_ms, volatile sig_atomic_t *hurry, int *wstatus)
{
	const struct timespec tick = { 0, 10 * 1000000 };
	sig_atomic_t seen = hurry ? *hurry : 0;

	kill(pid, SIGTERM);
	for (int waited = 0; waited < grace_ms; waited += 10) {
		if (waitpid(pid, wstatus, WNOHANG) == pid)
			return 0;
		/* Another Ctrl-C: no more waiting. */
		if (hurry && *hurry != seen)
			break;
		nanosleep(&tick, NULL);
	}
	if (waitpid(pid, wstatus, WNOHANG) == pid)
		return 0;
	fprintf(stderr, "boundtrace: the command (pid %d) did not end %s SIGTERM; killing it\n",
		(int)pid, hurry && *hurry != seen ? "on" : "within the grace period after");
	kill(pid, SIGKILL);
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
	return 1;
}
