/* vfiokit kernel oracle runner.
 *
 * A static aarch64 program that runs inside the Linux 6.12 guest: it executes one scenario
 * file (oracle/FORMAT.md, the single definition of the format) and prints its transcript on
 * stdout. The TypeScript runner (oracle/model/) executes the same file on the model and must
 * print the same transcript.
 *
 *   runner SCENARIO.scn            run it, transcript on stdout
 *   runner --check SCENARIO.scn    only parse and validate it (exit 2 on a scenario error)
 *
 * Exit status: 0 when the scenario ran to its end (whatever the kernel answered), 2 on a
 * scenario error (FORMAT.md "Scenario errors"), 3 on a runner failure (out of memory, …).
 *
 * Built with: aarch64-linux-gnu-gcc -static -O2 -I<kernel>/usr/include runner.c
 * One translation unit: scenario.h (text, output), names.h (fds, mappings, jobs) and ioctls.h
 * (the ioctl table) hold static functions and are included here once; this file has the
 * commands and main().
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#define MAX_TOKENS 64
#define MAX_NAMES 64
#define READ_MAX 4096

#include "errnames.h"
#include "scenario.h"
#include "names.h"
#include "ioctls.h"

/* ---------------------------------------------------------------- commands */

static void hex_bytes(struct sbuf *b, const unsigned char *p, size_t n)
{
	if (n == 0) {
		sb_puts(b, "(empty)");
		return;
	}
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%02x", p[i]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ms_sleep(long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}


/* Runs (or, in VALIDATE mode, only checks) the command whose name is token `a - 1`,
 * appending the result text to r. `in_bg` marks a command run by a background job. */
static void run_command(const struct line *l, int a, enum mode m, struct sbuf *r, int in_bg)
{
	const char *cmd = (const char *)l->tok[a - 1].bytes;
	if (l->tok[a - 1].quoted)
		scenario_error(l->lineno, "a command name cannot be quoted");

	if (!strcmp(cmd, "write") || !strcmp(cmd, "writen")) {
		int is_n = cmd[5] == 'n';
		need_args(l, a, is_n ? 3 : 2);
		const char *path = cstr(l, a);
		const unsigned char *data;
		size_t len;
		unsigned char *owned = NULL;
		if (is_n) {
			long long count = number(l, a + 1);
			if (count < 0 || count > (1 << 24))
				scenario_error(l->lineno, "writen COUNT out of range");
			if (l->tok[a + 2].len != 1)
				scenario_error(l->lineno, "writen CHAR must be exactly one byte");
			len = (size_t)count;
			owned = xmalloc(len);
			memset(owned, l->tok[a + 2].bytes[0], len);
			data = owned;
		} else {
			data = l->tok[a + 1].bytes;
			len = l->tok[a + 1].len;
		}
		if (m == EXECUTE) {
			int fd = open(path, O_WRONLY);
			if (fd < 0) {
				sb_errno(r, errno);
			} else {
				ssize_t n = write(fd, data, len);
				if (n < 0)
					sb_errno(r, errno);
				else
					sb_printf(r, "%zd", n);
				close(fd);
			}
		}
		free(owned);
	} else if (!strcmp(cmd, "read")) {
		need_args(l, a, 1);
		const char *path = cstr(l, a);
		if (m == EXECUTE) {
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				sb_errno(r, errno);
			} else {
				unsigned char buf[READ_MAX];
				ssize_t n = read(fd, buf, sizeof(buf));
				if (n < 0)
					sb_errno(r, errno);
				else
					sb_quote(r, buf, (size_t)n);
				close(fd);
			}
		}
	} else if (!strcmp(cmd, "readlink")) {
		need_args(l, a, 1);
		const char *path = cstr(l, a);
		if (m == EXECUTE) {
			char buf[READ_MAX];
			ssize_t n = readlink(path, buf, sizeof(buf));
			if (n < 0)
				sb_errno(r, errno);
			else
				sb_quote(r, (unsigned char *)buf, (size_t)n);
		}
	} else if (!strcmp(cmd, "ls")) {
		need_args(l, a, 1);
		const char *path = cstr(l, a);
		if (m == EXECUTE) {
			DIR *d = opendir(path);
			if (!d) {
				sb_errno(r, errno);
			} else {
				char **v = NULL;
				size_t n = 0, cap = 0;
				struct dirent *de;
				errno = 0;
				while ((de = readdir(d))) {
					if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
						continue;
					if (n == cap) {
						cap = cap ? cap * 2 : 32;
						v = realloc(v, cap * sizeof(*v));
						if (!v)
							exit(3);
					}
					v[n++] = strdup(de->d_name);
				}
				int e = errno;
				closedir(d);
				if (e) {
					sb_errno(r, e);
				} else if (n == 0) {
					sb_puts(r, "(empty)");
				} else {
					qsort(v, n, sizeof(*v), cmp_str);
					for (size_t i = 0; i < n; i++) {
						if (i)
							sb_putc(r, ' ');
						sb_puts(r, v[i]);
					}
				}
				for (size_t i = 0; i < n; i++)
					free(v[i]);
				free(v);
			}
		}
	} else if (!strcmp(cmd, "exists")) {
		need_args(l, a, 1);
		const char *path = cstr(l, a);
		if (m == EXECUTE) {
			struct stat st;
			sb_puts(r, lstat(path, &st) == 0 ? "yes" : "no");
		}
	} else if (!strcmp(cmd, "open")) {
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		need_args(l, a, 2);
		const char *path = cstr(l, a + 1);
		struct name *n = define(l, a, K_FD);
		if (m == EXECUTE) {
			n->fd = open(path, O_RDWR);
			if (n->fd < 0) {
				n->failed = 1;
				sb_errno(r, errno);
			} else {
				sb_puts(r, "ok");
			}
		}
	} else if (!strcmp(cmd, "close")) {
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot close names");
		need_args(l, a, 1);
		struct name *n = lookup(l, a, K_FD);
		if (m == EXECUTE) {
			if (close(n->failed ? -1 : n->fd) < 0)
				sb_errno(r, errno);
			else
				sb_puts(r, "ok");
		}
		undefine(n);
	} else if (!strcmp(cmd, "ioctl")) {
		run_ioctl(l, a, m, r, in_bg);
	} else if (!strcmp(cmd, "guest")) {
		run_guest(l, a, m, r, in_bg);
	} else if (!strcmp(cmd, "pread")) {
		need_args(l, a, 3);
		int fd = fd_of(l, a, m);
		long long off = number(l, a + 1), len = number(l, a + 2);
		if (off < 0 || len < 0 || len > (1 << 20))
			scenario_error(l->lineno, "pread OFFSET/LEN out of range");
		if (m == EXECUTE) {
			unsigned char *buf = xmalloc((size_t)len);
			ssize_t n = pread(fd, buf, (size_t)len, (off_t)off);
			if (n < 0)
				sb_errno(r, errno);
			else
				hex_bytes(r, buf, (size_t)n);
			free(buf);
		}
	} else if (!strcmp(cmd, "pwrite")) {
		need_args(l, a, 3);
		int fd = fd_of(l, a, m);
		long long off = number(l, a + 1);
		const struct token *h = &l->tok[a + 2];
		if (off < 0 || h->quoted || h->len % 2)
			scenario_error(l->lineno, "pwrite OFFSET HEX (an even number of hex digits)");
		size_t len = h->len / 2;
		unsigned char *buf = xmalloc(len);
		for (size_t i = 0; i < len; i++) {
			int hi = hexval(h->bytes[2 * i]), lo = hexval(h->bytes[2 * i + 1]);
			if (hi < 0 || lo < 0)
				scenario_error(l->lineno, "pwrite HEX has a non-hex digit");
			buf[i] = (unsigned char)(hi * 16 + lo);
		}
		if (m == EXECUTE) {
			ssize_t n = pwrite(fd, buf, len, (off_t)off);
			if (n < 0)
				sb_errno(r, errno);
			else
				sb_printf(r, "%zd", n);
		}
		free(buf);
	} else if (!strcmp(cmd, "mmap")) {
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		need_args(l, a, 4);
		int fd = fd_of(l, a + 1, m);
		long long off = number(l, a + 2), len = number(l, a + 3);
		if (off < 0 || len <= 0)
			scenario_error(l->lineno, "mmap OFFSET/LEN out of range");
		struct name *n = define(l, a, K_MAP);
		n->len = (size_t)len;
		if (m == EXECUTE) {
			void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				       (off_t)off);
			if (p == MAP_FAILED) {
				n->failed = 1;
				sb_errno(r, errno);
			} else {
				n->addr = p;
				sb_puts(r, "ok");
			}
		}
	} else if (!strcmp(cmd, "peek32") || !strcmp(cmd, "poke32")) {
		int poke = cmd[1] == 'o';
		need_args(l, a, poke ? 3 : 2);
		struct name *n = lookup(l, a, K_MAP);
		long long off = number(l, a + 1);
		long long val = poke ? number(l, a + 2) : 0;
		if (off < 0 || off % 4 || (size_t)off + 4 > n->len)
			scenario_error(l->lineno, "%s OFF outside the mapping or unaligned", cmd);
		if (m == EXECUTE) {
			if (n->failed) {
				sb_errno(r, EFAULT);
			} else {
				volatile uint32_t *p = (volatile uint32_t *)((char *)n->addr + off);
				if (poke) {
					*p = (uint32_t)val;
					sb_puts(r, "ok");
				} else {
					sb_hex(r, *p);
				}
			}
		}
	} else if (!strcmp(cmd, "munmap")) {
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot unmap names");
		need_args(l, a, 1);
		struct name *n = lookup(l, a, K_MAP);
		if (m == EXECUTE) {
			if (n->failed)
				sb_errno(r, EFAULT);
			else if (munmap(n->addr, n->len) < 0)
				sb_errno(r, errno);
			else
				sb_puts(r, "ok");
		}
		undefine(n);
	} else if (!strcmp(cmd, "eventfd")) {
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		need_args(l, a, 1);
		struct name *n = define(l, a, K_FD);
		if (m == EXECUTE) {
			n->fd = eventfd(0, EFD_NONBLOCK);
			if (n->fd < 0) {
				n->failed = 1;
				sb_errno(r, errno);
			} else {
				sb_puts(r, "ok");
			}
		}
	} else if (!strcmp(cmd, "efdwrite")) {
		/* write(efd, &u64, 8): fs/eventfd.c eventfd_write adds N and wakes the waiters
		 * (an UNMASK virqfd runs its handler inside that wakeup). */
		need_args(l, a, 2);
		int fd = fd_of(l, a, m);
		uint64_t v = (uint64_t)number(l, a + 1);
		if (m == EXECUTE) {
			ssize_t n = write(fd, &v, sizeof(v));
			if (n < 0)
				sb_errno(r, errno);
			else
				sb_printf(r, "%zd", n);
		}
	} else if (!strcmp(cmd, "poll")) {
		need_args(l, a, 2);
		int fd = fd_of(l, a, m);
		long long ms = number(l, a + 1);
		if (ms < 0)
			scenario_error(l->lineno, "poll MS must be >= 0");
		if (m == EXECUTE) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int rc;
			long long deadline = now_ms() + ms;
			do {
				long long left = deadline - now_ms();
				rc = poll(&p, 1, left > 0 ? (int)left : 0);
			} while (rc < 0 && errno == EINTR);
			if (rc < 0) {
				sb_errno(r, errno);
			} else if (rc == 0) {
				sb_puts(r, "timeout");
			} else if (p.revents & POLLNVAL) {
				sb_errno(r, EBADF);
			} else {
				uint64_t count;
				ssize_t n = read(fd, &count, sizeof(count));
				if (n < 0)
					sb_errno(r, errno);
				else
					sb_printf(r, "count=%llu", (unsigned long long)count);
			}
		}
	} else if (!strcmp(cmd, "sleep")) {
		need_args(l, a, 1);
		long long ms = number(l, a);
		if (ms < 0)
			scenario_error(l->lineno, "sleep MS must be >= 0");
		if (m == EXECUTE) {
			ms_sleep(ms);
			sb_puts(r, "ok");
		}
	} else if (!strcmp(cmd, "bg")) {
		if (in_bg)
			scenario_error(l->lineno, "bg cannot be nested");
		if (l->ntok < a + 2)
			scenario_error(l->lineno, "bg JOB COMMAND...");
		struct name *job = define(l, a, K_JOB);
		if (m == VALIDATE) {
			run_command(l, a + 2, VALIDATE, r, 1);
			return;
		}
		int p[2];
		if (pipe(p) < 0) {
			fprintf(stderr, "runner: pipe: %s\n", errno_name(errno));
			exit(3);
		}
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "runner: fork: %s\n", errno_name(errno));
			exit(3);
		}
		if (pid == 0) {
			/* The child drops every named fd and mapping its command does not name:
			 * an inherited device fd or region mapping would keep the VFIO device open
			 * and the parent's `close` would not release it. */
			close(p[0]);
			for (int i = 0; i < MAX_NAMES; i++) {
				struct name *n = &names[i];
				if (!n->used || n->failed)
					continue;
				int named_here = 0;
				for (int t = a + 2; t < l->ntok; t++)
					if (!l->tok[t].quoted && !strcmp((const char *)l->tok[t].bytes, n->name))
						named_here = 1;
				if (named_here)
					continue;
				if (n->kind == K_FD)
					close(n->fd);
				else if (n->kind == K_MAP)
					munmap(n->addr, n->len);
				else if (n->kind == K_JOB && n->pipe_rd >= 0)
					close(n->pipe_rd);
			}
			struct sbuf cr = { 0 };
			run_command(l, a + 2, EXECUTE, &cr, 1);
			size_t off = 0;
			while (off < cr.len) {
				ssize_t w = write(p[1], cr.p + off, cr.len - off);
				if (w <= 0)
					_exit(3);
				off += (size_t)w;
			}
			_exit(0);
		}
		close(p[1]);
		job->pid = pid;
		job->pipe_rd = p[0];
		sb_puts(r, "started");
	} else if (!strcmp(cmd, "wait")) {
		if (in_bg)
			scenario_error(l->lineno, "wait cannot run in a background job");
		need_args(l, a, 2);
		struct name *job = lookup(l, a, K_JOB);
		long long ms = number(l, a + 1);
		if (ms < 0)
			scenario_error(l->lineno, "wait MS must be >= 0");
		if (m == VALIDATE)
			return;
		if (job->done)
			scenario_error(l->lineno, "job %s was already waited for", job->name);
		long long deadline = now_ms() + ms;
		for (;;) {
			long long left = deadline - now_ms();
			struct pollfd p = { .fd = job->pipe_rd, .events = POLLIN };
			int rc = poll(&p, 1, left > 0 ? (int)left : 0);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0) {
				sb_puts(r, "blocked");
				return;
			}
			char buf[1024];
			ssize_t n = read(job->pipe_rd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				sb_putc(&job->result, buf[i]);
		}
		int status = 0;
		while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
			;
		close(job->pipe_rd);
		job->pipe_rd = -1;
		job->done = 1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "runner: job %s failed (status 0x%x)\n", job->name, status);
			exit(3);
		}
		sb_puts(r, job->result.p ? job->result.p : "");
	} else {
		scenario_error(l->lineno, "unknown command %s", cmd);
	}
}

/* ---------------------------------------------------------------- main */

static int is_header(const char *s)
{
	return !strcmp(s, "title") || !strcmp(s, "machine") || !strcmp(s, "cmdline");
}

static void echo_line(struct sbuf *b, const struct line *l)
{
	for (int i = 0; i < l->ntok; i++) {
		if (i)
			sb_putc(b, ' ');
		sb_token(b, &l->tok[i]);
	}
}

static void run_all(enum mode m)
{
	int seen_command = 0;
	for (int i = 0; i < nlines; i++) {
		const struct line *l = &lines[i];
		const char *first = (const char *)l->tok[0].bytes;
		struct sbuf out = { 0 };
		echo_line(&out, l);
		if (!l->tok[0].quoted && is_header(first)) {
			if (seen_command)
				scenario_error(l->lineno, "%s must come before the first command", first);
			if (strcmp(first, "title") && l->ntok < 2)
				scenario_error(l->lineno, "%s needs a value", first);
		} else {
			seen_command = 1;
			struct sbuf res = { 0 };
			run_command(l, 1, m, &res, 0);
			sb_puts(&out, " -> ");
			sb_puts(&out, res.p ? res.p : "");
			free(res.p);
		}
		if (m == EXECUTE) {
			fputs(out.p, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		free(out.p);
	}
}

int main(int argc, char **argv)
{
	int check_only = 0;
	if (argc == 3 && !strcmp(argv[1], "--check")) {
		check_only = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: runner [--check] SCENARIO.scn\n");
		return 2;
	}
	scenario_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	load_scenario(scenario_path);

	/* Validate the whole file first, so a scenario error never leaves half a transcript. */
	run_all(VALIDATE);
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].used)
			undefine(&names[i]);
	if (check_only)
		return 0;
	run_all(EXECUTE);

	/* Jobs nobody waited for: release every fd and mapping they may be blocked on (a
	 * blocked unbind waits for both), then let them finish, so the guest powers off with a
	 * settled device. */
	for (int i = 0; i < MAX_NAMES; i++) {
		if (!names[i].used || names[i].failed)
			continue;
		if (names[i].kind == K_FD)
			close(names[i].fd);
		else if (names[i].kind == K_MAP)
			munmap(names[i].addr, names[i].len);
	}
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].used && names[i].kind == K_JOB && !names[i].done && names[i].pid > 0)
			waitpid(names[i].pid, NULL, 0);
	return 0;
}
