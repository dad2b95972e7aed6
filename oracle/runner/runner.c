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

#include "errnames.h"

#define MAX_TOKENS 64
#define MAX_NAMES 64
#define RESULT_MAX 16384
#define READ_MAX 4096

/* ---------------------------------------------------------------- scenario text */

struct token {
	unsigned char *bytes; /* NUL-terminated copy (may contain NULs when quoted) */
	size_t len;
	int quoted;
};

struct line {
	int lineno;
	int ntok;
	struct token tok[MAX_TOKENS];
};

static const char *scenario_path;
static struct line *lines;
static int nlines;

static void scenario_error(int lineno, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "runner: %s:%d: scenario error: ", scenario_path, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "runner: out of memory\n");
		exit(3);
	}
	return p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Split one line into tokens (FORMAT.md "Lexical rules"). */
static void tokenize(char *s, int lineno, struct line *out)
{
	out->lineno = lineno;
	out->ntok = 0;
	size_t n = strlen(s);
	size_t i = 0;
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= n)
			break;
		if (out->ntok == MAX_TOKENS)
			scenario_error(lineno, "more than %d tokens", MAX_TOKENS);
		struct token *t = &out->tok[out->ntok++];
		t->bytes = xmalloc(n + 1);
		t->len = 0;
		t->quoted = 0;
		if (s[i] == '"') {
			t->quoted = 1;
			i++;
			for (;;) {
				if (i >= n)
					scenario_error(lineno, "unterminated string");
				unsigned char c = (unsigned char)s[i++];
				if (c == '"')
					break;
				if (c != '\\') {
					t->bytes[t->len++] = c;
					continue;
				}
				if (i >= n)
					scenario_error(lineno, "unterminated escape");
				c = (unsigned char)s[i++];
				switch (c) {
				case 'n': t->bytes[t->len++] = '\n'; break;
				case 't': t->bytes[t->len++] = '\t'; break;
				case '0': t->bytes[t->len++] = '\0'; break;
				case '\\': t->bytes[t->len++] = '\\'; break;
				case '"': t->bytes[t->len++] = '"'; break;
				case 'x': {
					int hi = i < n ? hexval(s[i]) : -1;
					int lo = i + 1 < n ? hexval(s[i + 1]) : -1;
					if (hi < 0 || lo < 0)
						scenario_error(lineno, "bad \\x escape");
					t->bytes[t->len++] = (unsigned char)(hi * 16 + lo);
					i += 2;
					break;
				}
				default:
					scenario_error(lineno, "unknown escape \\%c", c);
				}
			}
			if (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
				scenario_error(lineno, "text right after a closing quote");
		} else {
			while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
				if (s[i] == '"')
					scenario_error(lineno, "quote inside a bare token");
				t->bytes[t->len++] = (unsigned char)s[i++];
			}
		}
		t->bytes[t->len] = '\0';
	}
}

static void load_scenario(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "runner: cannot open %s: %s\n", path, errno_name(errno));
		exit(2);
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, cap_lines = 0;
	while ((len = getline(&buf, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if ((size_t)len != strlen(buf))
			scenario_error(lineno, "NUL byte in the file");
		const char *p = buf;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (nlines == cap_lines) {
			cap_lines = cap_lines ? cap_lines * 2 : 64;
			struct line *nl = realloc(lines, cap_lines * sizeof(*lines));
			if (!nl) {
				fprintf(stderr, "runner: out of memory\n");
				exit(3);
			}
			lines = nl;
		}
		tokenize(buf, lineno, &lines[nlines++]);
	}
	free(buf);
	fclose(f);
}

/* ---------------------------------------------------------------- output */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		char *np = realloc(b->p, b->cap);
		if (!np) {
			fprintf(stderr, "runner: out of memory\n");
			exit(3);
		}
		b->p = np;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_puts(b, tmp);
}

/* FORMAT.md "Canonical quoting". */
static void sb_quote(struct sbuf *b, const unsigned char *s, size_t n)
{
	sb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		switch (c) {
		case '\n': sb_puts(b, "\\n"); break;
		case '\t': sb_puts(b, "\\t"); break;
		case '\0': sb_puts(b, "\\0"); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '"': sb_puts(b, "\\\""); break;
		default:
			if (c >= 0x20 && c <= 0x7e)
				sb_putc(b, (char)c);
			else
				sb_printf(b, "\\x%02x", c);
		}
	}
	sb_putc(b, '"');
}

static void sb_token(struct sbuf *b, const struct token *t)
{
	if (t->quoted)
		sb_quote(b, t->bytes, t->len);
	else
		sb_puts(b, (const char *)t->bytes);
}

static void sb_errno(struct sbuf *b, int e)
{
	sb_puts(b, errno_name(e));
}

static void sb_hex(struct sbuf *b, unsigned long long v)
{
	sb_printf(b, "0x%llx", v);
}

/* ---------------------------------------------------------------- numbers and names */

static int parse_number(const struct token *t, long long *out)
{
	if (t->quoted || t->len == 0)
		return -1;
	const char *s = (const char *)t->bytes;
	int neg = 0;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	unsigned long long v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return -1;
		for (; *s; s++) {
			int h = hexval(*s);
			if (h < 0)
				return -1;
			v = v * 16 + (unsigned)h;
		}
	} else {
		if (!*s)
			return -1;
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v = v * 10 + (unsigned)(*s - '0');
		}
	}
	*out = neg ? -(long long)v : (long long)v;
	return 0;
}

static long long number(const struct line *l, int i)
{
	long long v;
	if (i >= l->ntok || parse_number(&l->tok[i], &v))
		scenario_error(l->lineno, "token %d is not a number", i + 1);
	return v;
}

static int is_name(const struct token *t)
{
	if (t->quoted || t->len == 0 || t->len > 31)
		return 0;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = t->bytes[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

/* A bare or quoted token used as a C string (paths, device names). */
static const char *cstr(const struct line *l, int i)
{
	const struct token *t = &l->tok[i];
	if (strlen((const char *)t->bytes) != t->len)
		scenario_error(l->lineno, "NUL byte in a path or name");
	return (const char *)t->bytes;
}

enum kind { K_FD, K_MAP, K_JOB };
static const char *const kind_names[] = { "fd", "mapping", "job" };

struct name {
	char name[32];
	enum kind kind;
	int used;
	int failed; /* the command that defined it failed */
	int fd;
	void *addr;
	size_t len;
	pid_t pid;
	int pipe_rd;
	struct sbuf result;
	int done;
};

static struct name names[MAX_NAMES];

static struct name *find_name(enum kind k, const char *n)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].used && names[i].kind == k && !strcmp(names[i].name, n))
			return &names[i];
	return NULL;
}

static struct name *lookup(const struct line *l, int i, enum kind k)
{
	if (i >= l->ntok || !is_name(&l->tok[i]))
		scenario_error(l->lineno, "token %d is not a %s name", i + 1, kind_names[k]);
	struct name *n = find_name(k, (const char *)l->tok[i].bytes);
	if (!n)
		scenario_error(l->lineno, "%s %s is not defined", kind_names[k], l->tok[i].bytes);
	return n;
}

static struct name *define(const struct line *l, int i, enum kind k)
{
	if (i >= l->ntok || !is_name(&l->tok[i]))
		scenario_error(l->lineno, "token %d is not a valid name", i + 1);
	const char *s = (const char *)l->tok[i].bytes;
	if (find_name(k, s))
		scenario_error(l->lineno, "%s %s is already defined", kind_names[k], s);
	for (int j = 0; j < MAX_NAMES; j++) {
		if (!names[j].used) {
			memset(&names[j], 0, sizeof(names[j]));
			names[j].used = 1;
			names[j].kind = k;
			names[j].fd = -1;
			names[j].pipe_rd = -1;
			snprintf(names[j].name, sizeof(names[j].name), "%s", s);
			return &names[j];
		}
	}
	scenario_error(l->lineno, "more than %d names", MAX_NAMES);
	return NULL;
}

static void undefine(struct name *n)
{
	free(n->result.p);
	memset(n, 0, sizeof(*n));
}

/* ---------------------------------------------------------------- ioctl argument names */

struct named_value {
	const char *name;
	unsigned long value;
};

static const struct named_value iommu_names[] = {
	{ "VFIO_TYPE1_IOMMU", VFIO_TYPE1_IOMMU },
	{ "VFIO_SPAPR_TCE_IOMMU", VFIO_SPAPR_TCE_IOMMU },
	{ "VFIO_TYPE1v2_IOMMU", VFIO_TYPE1v2_IOMMU },
	{ "VFIO_DMA_CC_IOMMU", VFIO_DMA_CC_IOMMU },
	{ "VFIO_EEH", VFIO_EEH },
	{ "VFIO_TYPE1_NESTING_IOMMU", 6 /* by number: later headers may drop the name */ },
	{ "VFIO_SPAPR_TCE_v2_IOMMU", VFIO_SPAPR_TCE_v2_IOMMU },
	{ "VFIO_NOIOMMU_IOMMU", VFIO_NOIOMMU_IOMMU },
	{ "VFIO_UNMAP_ALL", VFIO_UNMAP_ALL },
	{ "VFIO_UPDATE_VADDR", VFIO_UPDATE_VADDR },
	{ NULL, 0 },
};

static const struct named_value irq_set_flags[] = {
	{ "DATA_NONE", VFIO_IRQ_SET_DATA_NONE },
	{ "DATA_BOOL", VFIO_IRQ_SET_DATA_BOOL },
	{ "DATA_EVENTFD", VFIO_IRQ_SET_DATA_EVENTFD },
	{ "ACTION_MASK", VFIO_IRQ_SET_ACTION_MASK },
	{ "ACTION_UNMASK", VFIO_IRQ_SET_ACTION_UNMASK },
	{ "ACTION_TRIGGER", VFIO_IRQ_SET_ACTION_TRIGGER },
	{ NULL, 0 },
};

static const struct named_value map_flags[] = {
	{ "READ", VFIO_DMA_MAP_FLAG_READ },
	{ "WRITE", VFIO_DMA_MAP_FLAG_WRITE },
	{ "VADDR", VFIO_DMA_MAP_FLAG_VADDR },
	{ NULL, 0 },
};

static const struct named_value unmap_flags[] = {
	{ "GET_DIRTY_BITMAP", VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP },
	{ "ALL", VFIO_DMA_UNMAP_FLAG_ALL },
	{ "VADDR", VFIO_DMA_UNMAP_FLAG_VADDR },
	{ NULL, 0 },
};

/* A number, a name of the table, or names joined by '|'. */
static unsigned long named(const struct line *l, int i, const struct named_value *table)
{
	long long v;
	if (i >= l->ntok)
		scenario_error(l->lineno, "missing argument %d", i + 1);
	if (!parse_number(&l->tok[i], &v))
		return (unsigned long)v;
	if (l->tok[i].quoted)
		scenario_error(l->lineno, "token %d: a name or number, not a string", i + 1);
	char *copy = strdup((const char *)l->tok[i].bytes);
	unsigned long out = 0;
	char *save = NULL;
	for (char *part = strtok_r(copy, "|", &save); part; part = strtok_r(NULL, "|", &save)) {
		const struct named_value *nv = table;
		while (nv->name && strcmp(nv->name, part))
			nv++;
		if (!nv->name)
			scenario_error(l->lineno, "unknown name %s", part);
		out |= nv->value;
	}
	free(copy);
	return out;
}

/* ---------------------------------------------------------------- commands */

enum mode { VALIDATE, EXECUTE };

static void need_args(const struct line *l, int first, int count)
{
	if (l->ntok - first != count)
		scenario_error(l->lineno, "%s takes %d argument(s)", l->tok[first - 1].bytes, count);
}

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

/* Named-fd resolution at run time: a name whose defining command failed stands for -1, so
 * the system call answers EBADF as it would for a closed fd (FORMAT.md). */
static int fd_of(const struct line *l, int i, enum mode m)
{
	struct name *n = lookup(l, i, K_FD);
	(void)m;
	return n->failed ? -1 : n->fd;
}

static void run_ioctl(const struct line *l, int a, enum mode m, struct sbuf *r, int in_bg);

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

/* ---------------------------------------------------------------- ioctls */

static void ioctl_result(struct sbuf *r, int rc)
{
	if (rc < 0)
		sb_errno(r, errno);
	else
		sb_printf(r, "ret=%d", rc);
}

static void sb_field(struct sbuf *r, const char *name, unsigned long long v)
{
	sb_printf(r, " %s=", name);
	sb_hex(r, v);
}

static void run_ioctl(const struct line *l, int a, enum mode m, struct sbuf *r, int in_bg)
{
	if (l->ntok < a + 2)
		scenario_error(l->lineno, "ioctl FD NAME ARGS...");
	int fd = fd_of(l, a, m);
	const char *name = (const char *)l->tok[a + 1].bytes;
	int x = a + 2; /* first ioctl argument */
	int rc;

	if (!strcmp(name, "VFIO_GET_API_VERSION")) {
		need_args(l, x, 0);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, VFIO_GET_API_VERSION));
	} else if (!strcmp(name, "VFIO_CHECK_EXTENSION") || !strcmp(name, "VFIO_SET_IOMMU")) {
		need_args(l, x, 1);
		unsigned long v = named(l, x, iommu_names);
		unsigned long req = name[5] == 'C' ? VFIO_CHECK_EXTENSION : VFIO_SET_IOMMU;
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, req, v));
	} else if (!strcmp(name, "VFIO_GROUP_GET_STATUS")) {
		need_args(l, x, 0);
		if (m == EXECUTE) {
			struct vfio_group_status s = { .argsz = sizeof(s) };
			rc = ioctl(fd, VFIO_GROUP_GET_STATUS, &s);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "flags", s.flags);
		}
	} else if (!strcmp(name, "VFIO_GROUP_SET_CONTAINER")) {
		need_args(l, x, 1);
		int cfd = fd_of(l, x, m);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, VFIO_GROUP_SET_CONTAINER, &cfd));
	} else if (!strcmp(name, "VFIO_GROUP_UNSET_CONTAINER")) {
		need_args(l, x, 0);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, VFIO_GROUP_UNSET_CONTAINER));
	} else if (!strcmp(name, "VFIO_GROUP_GET_DEVICE_FD")) {
		need_args(l, x, 2);
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		const char *dev = cstr(l, x);
		struct name *n = define(l, x + 1, K_FD);
		if (m == EXECUTE) {
			rc = ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, dev);
			if (rc < 0) {
				n->failed = 1;
				sb_errno(r, errno);
			} else {
				n->fd = rc;
				sb_puts(r, "ret=fd");
			}
		}
	} else if (!strcmp(name, "VFIO_DEVICE_GET_INFO")) {
		need_args(l, x, 0);
		if (m == EXECUTE) {
			struct vfio_device_info i = { .argsz = sizeof(i) };
			rc = ioctl(fd, VFIO_DEVICE_GET_INFO, &i);
			ioctl_result(r, rc);
			if (rc >= 0) {
				sb_field(r, "flags", i.flags);
				sb_field(r, "num_regions", i.num_regions);
				sb_field(r, "num_irqs", i.num_irqs);
			}
		}
	} else if (!strcmp(name, "VFIO_DEVICE_GET_REGION_INFO")) {
		need_args(l, x, 1);
		long long idx = number(l, x);
		if (m == EXECUTE) {
			struct vfio_region_info i = { .argsz = sizeof(i), .index = (__u32)idx };
			rc = ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &i);
			ioctl_result(r, rc);
			if (rc >= 0) {
				sb_field(r, "flags", i.flags);
				sb_field(r, "index", i.index);
				sb_field(r, "size", i.size);
				if (i.offset % (1ULL << 40) == 0)
					sb_printf(r, " offset=idx:%llu", (unsigned long long)(i.offset >> 40));
				else
					sb_field(r, "offset", i.offset);
			}
		}
	} else if (!strcmp(name, "VFIO_DEVICE_GET_IRQ_INFO")) {
		need_args(l, x, 1);
		long long idx = number(l, x);
		if (m == EXECUTE) {
			struct vfio_irq_info i = { .argsz = sizeof(i), .index = (__u32)idx };
			rc = ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &i);
			ioctl_result(r, rc);
			if (rc >= 0) {
				sb_field(r, "flags", i.flags);
				sb_field(r, "index", i.index);
				sb_field(r, "count", i.count);
			}
		}
	} else if (!strcmp(name, "VFIO_DEVICE_SET_IRQS")) {
		if (l->ntok < x + 4)
			scenario_error(l->lineno, "VFIO_DEVICE_SET_IRQS FLAGS INDEX START COUNT [DATA...]");
		unsigned long flags = named(l, x, irq_set_flags);
		long long idx = number(l, x + 1), start = number(l, x + 2), count = number(l, x + 3);
		int ndata = l->ntok - (x + 4);
		int type = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
		size_t elem = type == VFIO_IRQ_SET_DATA_EVENTFD ? sizeof(__s32)
			      : type == VFIO_IRQ_SET_DATA_BOOL  ? sizeof(__u8)
								: 0;
		if (elem == 0 && ndata)
			scenario_error(l->lineno, "DATA_NONE takes no data arguments");
		size_t argsz = sizeof(struct vfio_irq_set) + elem * (size_t)ndata;
		struct vfio_irq_set *s = xmalloc(argsz);
		memset(s, 0, argsz);
		s->argsz = (__u32)argsz;
		s->flags = (__u32)flags;
		s->index = (__u32)idx;
		s->start = (__u32)start;
		s->count = (__u32)count;
		for (int i = 0; i < ndata; i++) {
			const struct token *t = &l->tok[x + 4 + i];
			long long v;
			if (elem == sizeof(__s32)) {
				__s32 efd;
				if (!parse_number(t, &v) && v == -1)
					efd = -1;
				else
					efd = fd_of(l, x + 4 + i, m);
				memcpy(s->data + i * elem, &efd, sizeof(efd));
			} else {
				if (parse_number(t, &v) || (v != 0 && v != 1))
					scenario_error(l->lineno, "DATA_BOOL arguments are 0 or 1");
				s->data[i] = (__u8)v;
			}
		}
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, VFIO_DEVICE_SET_IRQS, s));
		free(s);
	} else if (!strcmp(name, "VFIO_DEVICE_RESET")) {
		need_args(l, x, 0);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, VFIO_DEVICE_RESET));
	} else if (!strcmp(name, "VFIO_IOMMU_GET_INFO")) {
		need_args(l, x, 0);
		if (m == EXECUTE) {
			struct vfio_iommu_type1_info i = { .argsz = sizeof(i) };
			rc = ioctl(fd, VFIO_IOMMU_GET_INFO, &i);
			ioctl_result(r, rc);
			if (rc >= 0) {
				sb_field(r, "flags", i.flags);
				sb_field(r, "iova_pgsizes", i.iova_pgsizes);
			}
		}
	} else if (!strcmp(name, "VFIO_IOMMU_MAP_DMA")) {
		need_args(l, x, 3);
		long long iova = number(l, x), size = number(l, x + 1);
		unsigned long flags = named(l, x + 2, map_flags);
		if (size <= 0)
			scenario_error(l->lineno, "MAP_DMA SIZE must be > 0");
		if (m == EXECUTE) {
			/* The vaddr is fresh anonymous memory; it stays mapped (an unmapped vaddr
			 * would be a different scenario) and is never printed. */
			void *va = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (va == MAP_FAILED) {
				fprintf(stderr, "runner: mmap for MAP_DMA: %s\n", errno_name(errno));
				exit(3);
			}
			struct vfio_iommu_type1_dma_map d = {
				.argsz = sizeof(d),
				.flags = (__u32)flags,
				.vaddr = (__u64)(uintptr_t)va,
				.iova = (__u64)iova,
				.size = (__u64)size,
			};
			ioctl_result(r, ioctl(fd, VFIO_IOMMU_MAP_DMA, &d));
		}
	} else if (!strcmp(name, "VFIO_IOMMU_UNMAP_DMA")) {
		need_args(l, x, 3);
		long long iova = number(l, x), size = number(l, x + 1);
		unsigned long flags = named(l, x + 2, unmap_flags);
		if (m == EXECUTE) {
			struct vfio_iommu_type1_dma_unmap d = {
				.argsz = sizeof(d),
				.flags = (__u32)flags,
				.iova = (__u64)iova,
				.size = (__u64)size,
			};
			rc = ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &d);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "size", d.size);
		}
	} else {
		scenario_error(l->lineno, "unknown ioctl %s", name);
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
