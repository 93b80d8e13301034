// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hostilenames: processes and sockets whose names an unprivileged user
 * chose to attack the terminal of whoever traces them: ESC sequences,
 * BEL, newlines, quotes, backslashes, invalid UTF-8. Every output format
 * must print them escaped (text) or encoded (JSON, DOT, SVG).
 *
 *   "\e]0;pwn\a"    (server)  a unix stream socket bound at
 *                             DIR/"s\e[2J\n\"'\\\xff.sock" and an abstract
 *                             datagram socket "\e[31m\nq\xc3"
 *   "nl\nx\"q'\\"   (client)  10 requests and replies on the stream
 *                             socket, 10 datagrams to the abstract one,
 *                             10 writes to a pipe
 *   "bad\xff\xfeutf8" (reader) reads the pipe
 *
 * Usage: hostilenames --dir DIR [--out FILE]
 * Prints (to --out) the pids and the exact names, as JSON with \u escapes.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 10

static const char server_name[] = "\033]0;pwn\a";
static const char client_name[] = "nl\nx\"q'\\";
static const char reader_name[] = "bad\xff\xfeutf8";
static const char sock_file[] = "s\033[2J\n\"'\\\xff.sock";
static const char abstract_name[] = "\033[31m\nq\xc3";

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "hostilenames: %s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t abstract_addr(struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, abstract_name, sizeof(abstract_name) - 1);
	return offsetof(struct sockaddr_un, sun_path) + 1 + sizeof(abstract_name) - 1;
}

static void set_name(const char *name)
{
	if (prctl(PR_SET_NAME, name))
		die("prctl");
}

static void server(int lfd, int dfd)
{
	char buf[64];
	int c;

	set_name(server_name);
	c = accept(lfd, NULL, NULL);
	if (c < 0)
		die("accept");
	for (int i = 0; i < ROUNDS; i++) {
		if (read(c, buf, 8) != 8 || write(c, buf, 4) != 4)
			die("serve");
		if (recv(dfd, buf, sizeof(buf), 0) != 3)
			die("recv dgram");
	}
	_exit(0);
}

static void client(const struct sockaddr_un *path, int pfd)
{
	struct sockaddr_un ab;
	socklen_t ablen = abstract_addr(&ab);
	char buf[8] = "request";
	int s, d;

	set_name(client_name);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	d = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (s < 0 || d < 0 || connect(s, (const struct sockaddr *)path, sizeof(*path)))
		die("connect");
	for (int i = 0; i < ROUNDS; i++) {
		if (write(s, buf, 8) != 8 || read(s, buf, 4) != 4)
			die("request");
		if (sendto(d, "dg", 3, 0, (struct sockaddr *)&ab, ablen) != 3)
			die("sendto");
		if (write(pfd, "p", 1) != 1)
			die("pipe");
	}
	_exit(0);
}

static void reader(int pfd)
{
	char c;

	set_name(reader_name);
	for (int i = 0; i < ROUNDS; i++)
		if (read(pfd, &c, 1) != 1)
			die("pipe read");
	_exit(0);
}

/* A JSON string of raw bytes: \u00XX for every byte outside printable ASCII. */
static void json_bytes(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			fputc(*p, f);
		else
			fprintf(f, "\\u%04x", *p);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	const char *dir = NULL, *out = NULL;
	struct sockaddr_un path = { .sun_family = AF_UNIX }, ab;
	pid_t kids[3];
	int opt, lfd, dfd, p[2], status;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'd')
			dir = optarg;
		else if (opt == 'o')
			out = optarg;
		else
			return 2;
	}
	if (!dir || snprintf(path.sun_path, sizeof(path.sun_path), "%s/%s", dir, sock_file) >=
		    (int)sizeof(path.sun_path))
		return 2;
	unlink(path.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	dfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (lfd < 0 || dfd < 0 || bind(lfd, (struct sockaddr *)&path, sizeof(path)) ||
	    listen(lfd, 1) || bind(dfd, (struct sockaddr *)&ab, abstract_addr(&ab)) || pipe(p))
		die("setup");
	if (!(kids[0] = fork()))
		server(lfd, dfd);
	if (!(kids[1] = fork()))
		client(&path, p[1]);
	if (!(kids[2] = fork()))
		reader(p[0]);
	for (int i = 0; i < 3; i++)
		if (kids[i] < 0 || waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			die("child failed");
	unlink(path.sun_path);
	f = out ? fopen(out, "w") : stdout;
	if (!f)
		die(out);
	fprintf(f, "{\"server\":{\"pid\":%d,\"comm\":", kids[0]);
	json_bytes(f, server_name);
	fprintf(f, "},\"client\":{\"pid\":%d,\"comm\":", kids[1]);
	json_bytes(f, client_name);
	fprintf(f, "},\"reader\":{\"pid\":%d,\"comm\":", kids[2]);
	json_bytes(f, reader_name);
	fprintf(f, "},\"path\":");
	json_bytes(f, path.sun_path);
	fprintf(f, ",\"abstract\":");
	json_bytes(f, abstract_name);
	fprintf(f, "}\n");
	return fclose(f) ? 1 : 0;
}
