/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Runs `-c CMD`: the child stops itself before exec so it is a target from its first syscall. */
#ifndef BT_SPAWN_H
#define BT_SPAWN_H

#include <stddef.h>
#include <signal.h>
#include <sys/types.h>

/* Forks CMD, stopped before exec. Returns its pid or -1 with a message. */
pid_t bt_spawn_stopped(const char *cmd, char *err, size_t errlen);
/*
 * Lets it run up to the end of its exec, where it stops again: 0 then
 * (call bt_spawn_detach to let it go on); 1 if it exited instead (exec
 * failed; *wstatus is its status); -1 on error.
 */
int bt_spawn_resume(pid_t pid, int *wstatus);
/*
 * From the exec stop, runs it to its program entry point (x86-64; a
 * breakpoint there), where the dynamic loader has mapped its libraries:
 * 0 stopped there; 1 it exited (*wstatus); -1 not done (still stopped
 * where it was, or elsewhere).
 */
int bt_spawn_run_to_entry(pid_t pid, int *wstatus);
int bt_spawn_detach(pid_t pid);
/* Splits a command without shell syntax into argv (in place); NULL if it needs a shell. */
char **bt_split_command(char *cmd);
/* Exit status for boundtrace from a wait status: code, or 128+signal. */
int bt_exit_status(int wstatus);
/*
 * Ends a command boundtrace started (the trace ended first: -d, a
 * signal): SIGTERM, up to grace_ms for it to exit, then SIGKILL, said on
 * stderr. A change of *hurry (another signal) cuts the grace short.
 * Returns 0 if it ended on SIGTERM, 1 if it had to be killed.
 */
#define BT_SPAWN_GRACE_MS 2000
int bt_spawn_end(pid_t pid, int grace_ms, volatile sig_atomic_t *hurry, int *wstatus);

#endif
