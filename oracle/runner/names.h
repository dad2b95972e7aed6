/* Named fds, mappings and background jobs of a running scenario.
 *
 * Part of runner.c, which includes it once (one translation unit, static functions). */
#ifndef VFIOKIT_ORACLE_NAMES_H
#define VFIOKIT_ORACLE_NAMES_H

/* Whether a command only checks its arguments (the whole file is validated before any
 * command runs) or runs. */
enum mode { VALIDATE, EXECUTE };

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

/* Named-fd resolution at run time: a name whose defining command failed stands for -1, so
 * the system call answers EBADF as it would for a closed fd (FORMAT.md). */
static int fd_of(const struct line *l, int i, enum mode m)
{
	struct name *n = lookup(l, i, K_FD);
	(void)m;
	return n->failed ? -1 : n->fd;
}

#endif
