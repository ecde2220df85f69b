/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ringwallctl: the control client. It sends one request line to a running
 * `ringwall run` over its Unix socket and prints the reply (docs/control.md).
 *
 *   ringwallctl [-s SOCKET] [--json] COMMAND [ARGS...]
 *
 * Exit status: 0 the command succeeded, 1 the daemon answered with an
 * error (printed on stderr), 2 usage or no daemon to talk to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/ringwall.sock"
#define REQ_MAX 4096

static const char usage[] =
	"usage: ringwallctl [-s SOCKET] [--json] COMMAND [ARGS...]\n"
	"\n"
	"commands:\n"
	"  status                 uptime, workers, ports, rule set generation, privileges\n"
	"  stats                  packets/bytes per port and worker, drops by reason, states\n"
	"  states [count] [proto P] [addr A[/LEN]] [port N] [limit N]\n"
	"                         tracked connections (default limit 1000)\n"
	"  rules                  rules with their line and packet/byte counters\n"
	"  reload                 re-read the configuration (errors: rules unchanged, exit 1)\n"
	"  rule add [at N|before N|after N] \"RULE\"\n"
	"                         insert one rule (default: after the last); prints the time it took\n"
	"  rule remove N          remove rule N\n"
	"  table add NAME [!]ADDR[/LEN]\n"
	"  table remove NAME [!]ADDR[/LEN]\n"
	"                         edit a table in place\n"
	"  table show [NAME]      a table's entries (no NAME: every table and its size)\n"
	"                         (rule and table edits last until the next reload from the file)\n"
	"  flush                  forget every tracked connection\n"
	"  metrics                Prometheus text exposition\n"
	"  help                   the daemon's own command list\n"
	"\n"
	"SOCKET defaults to $RINGWALL_SOCKET, else " DEFAULT_SOCKET ".\n";

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ringwallctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "ringwallctl: %s: %s (is ringwall running? -s SOCKET)\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Join the words into one request line; --json travels as a word. */
static int build_request(char *req, size_t max, char **words, int n, int json)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		int w = snprintf(req + len, max - len, "%s%s", i ? " " : "", words[i]);

		if (w < 0 || (size_t)w >= max - len || strpbrk(words[i], "\n\r"))
			return -1;
		len += (size_t)w;
	}
	if (snprintf(req + len, max - len, "%s\n", json ? " --json" : "") >= (int)(max - len))
		return -1;
	return 0;
}

static char *read_reply(int fd, size_t *out_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;

		if (len + 1 == cap) {
			char *b = realloc(buf, cap * 2);
			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf[len] = 0;
			*out_len = len;
			return buf;
		}
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *path = getenv("RINGWALL_SOCKET");
	char *words[64], req[REQ_MAX], *reply, *body;
	int nwords = 0, json = 0, fd, ok;
	size_t len;

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) && !nwords) {
			if (++i == argc) {
				fputs(usage, stderr);
				return 2;
			}
			path = argv[i];
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if ((!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) && !nwords) {
			fputs(usage, stdout);
			return 0;
		} else if (nwords < (int)(sizeof(words) / sizeof(words[0]))) {
			words[nwords++] = argv[i];
		} else {
			fprintf(stderr, "ringwallctl: too many arguments\n");
			return 2;
		}
	}
	if (!nwords) {
		fputs(usage, stderr);
		return 2;
	}
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	if (build_request(req, sizeof(req), words, nwords, json)) {
		fprintf(stderr, "ringwallctl: request too long or contains a newline\n");
		return 2;
	}
	fd = connect_to(path);
	if (fd < 0)
		return 2;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		fprintf(stderr, "ringwallctl: %s: send: %s\n", path, strerror(errno));
		close(fd);
		return 2;
	}
	shutdown(fd, SHUT_WR);
	reply = read_reply(fd, &len);
	close(fd);
	if (!reply) {
		fprintf(stderr, "ringwallctl: out of memory reading the reply\n");
		return 2;
	}
	body = strchr(reply, '\n');
	ok = !strncmp(reply, "ok\n", 3);
	if (!body || (!ok && strncmp(reply, "error\n", 6))) {
		fprintf(stderr, "ringwallctl: %s: no valid reply (daemon stopped?)\n", path);
		free(reply);
		return 2;
	}
	body++;
	fwrite(body, 1, len - (size_t)(body - reply), ok ? stdout : stderr);
	free(reply);
	return ok ? 0 : 1;
}
