/* The ioctl table of FORMAT.md: argument names and how each ioctl is called and printed.
 *
 * Part of runner.c, which includes it once (one translation unit, static functions). */
#ifndef VFIOKIT_ORACLE_IOCTLS_H
#define VFIOKIT_ORACLE_IOCTLS_H

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

#include "kvm-ioctls.h"
#include "kvm-guest.h"
#include "ioctls-iommufd.h"

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
	} else if (!run_kvm_ioctl(l, fd, name, x, m, r, in_bg) &&
		   !run_iommufd_ioctl(l, fd, name, x, m, r, in_bg)) {
		scenario_error(l->lineno, "unknown ioctl %s", name);
	}
}

#endif
