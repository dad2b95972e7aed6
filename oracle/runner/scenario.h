/* Scenario text: tokens (FORMAT.md "Lexical rules"), loading a file, the output buffer with
 * canonical quoting, numbers and names as tokens.
 *
 * Part of runner.c, which includes it once (one translation unit, static functions). */
#ifndef VFIOKIT_ORACLE_SCENARIO_H
#define VFIOKIT_ORACLE_SCENARIO_H

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

static void need_args(const struct line *l, int first, int count)
{
	if (l->ntok - first != count)
		scenario_error(l->lineno, "%s takes %d argument(s)", l->tok[first - 1].bytes, count);
}

#endif
