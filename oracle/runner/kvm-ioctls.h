/* The KVM rows of FORMAT.md's ioctl table (arm64 <linux/kvm.h>): /dev/kvm, the VM, vCPU and
 * device fds, irqfd and KVM_IRQ_LINE.
 *
 * Part of runner.c, which includes it once after ioctls.h (one translation unit, static
 * functions); run_ioctl() hands every name it does not know to run_kvm_ioctl(). */
#ifndef VFIOKIT_ORACLE_KVM_IOCTLS_H
#define VFIOKIT_ORACLE_KVM_IOCTLS_H

#include <stddef.h>
#include <linux/kvm.h>

/* The arm64 names come from <asm/kvm.h>; the self-test may compile against another
 * architecture's headers, where they are missing: same values, by number. */
#ifndef KVM_DEV_ARM_VGIC_GRP_ADDR
#define KVM_DEV_ARM_VGIC_GRP_ADDR 0
#define KVM_DEV_ARM_VGIC_GRP_DIST_REGS 1
#define KVM_DEV_ARM_VGIC_GRP_CPU_REGS 2
#define KVM_DEV_ARM_VGIC_GRP_NR_IRQS 3
#define KVM_DEV_ARM_VGIC_GRP_CTRL 4
#define KVM_DEV_ARM_VGIC_GRP_REDIST_REGS 5
#define KVM_DEV_ARM_VGIC_CTRL_INIT 0
#define KVM_VGIC_V2_ADDR_TYPE_DIST 0
#define KVM_VGIC_V2_ADDR_TYPE_CPU 1
#define KVM_VGIC_V3_ADDR_TYPE_DIST 2
#define KVM_VGIC_V3_ADDR_TYPE_REDIST 3
#define KVM_VGIC_ITS_ADDR_TYPE 4
#define KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION 5
#endif

static const struct named_value kvm_device_types[] = {
	{ "KVM_DEV_TYPE_VFIO", KVM_DEV_TYPE_VFIO },
	{ "KVM_DEV_TYPE_ARM_VGIC_V2", KVM_DEV_TYPE_ARM_VGIC_V2 },
	{ "KVM_DEV_TYPE_ARM_VGIC_V3", KVM_DEV_TYPE_ARM_VGIC_V3 },
	{ "KVM_DEV_TYPE_ARM_VGIC_ITS", KVM_DEV_TYPE_ARM_VGIC_ITS },
	{ NULL, 0 },
};

static const struct named_value kvm_attr_groups[] = {
	{ "KVM_DEV_ARM_VGIC_GRP_ADDR", KVM_DEV_ARM_VGIC_GRP_ADDR },
	{ "KVM_DEV_ARM_VGIC_GRP_DIST_REGS", KVM_DEV_ARM_VGIC_GRP_DIST_REGS },
	{ "KVM_DEV_ARM_VGIC_GRP_NR_IRQS", KVM_DEV_ARM_VGIC_GRP_NR_IRQS },
	{ "KVM_DEV_ARM_VGIC_GRP_CTRL", KVM_DEV_ARM_VGIC_GRP_CTRL },
	{ "KVM_DEV_VFIO_FILE", KVM_DEV_VFIO_FILE },
	{ NULL, 0 },
};

static const struct named_value kvm_attrs[] = {
	{ "KVM_VGIC_V2_ADDR_TYPE_DIST", KVM_VGIC_V2_ADDR_TYPE_DIST },
	{ "KVM_VGIC_V2_ADDR_TYPE_CPU", KVM_VGIC_V2_ADDR_TYPE_CPU },
	{ "KVM_VGIC_V3_ADDR_TYPE_DIST", KVM_VGIC_V3_ADDR_TYPE_DIST },
	{ "KVM_VGIC_V3_ADDR_TYPE_REDIST", KVM_VGIC_V3_ADDR_TYPE_REDIST },
	{ "KVM_DEV_ARM_VGIC_CTRL_INIT", KVM_DEV_ARM_VGIC_CTRL_INIT },
	{ "KVM_DEV_VFIO_FILE_ADD", KVM_DEV_VFIO_FILE_ADD },
	{ "KVM_DEV_VFIO_FILE_DEL", KVM_DEV_VFIO_FILE_DEL },
	{ NULL, 0 },
};

/* The capabilities the model answers (`case` labels of kvm_vm_ioctl_check_extension_generic
 * and arm64's kvm_vm_ioctl_check_extension that concern interrupts and devices). */
static const struct named_value kvm_caps[] = {
	{ "KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP },
	{ "KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY },
	{ "KVM_CAP_IRQ_ROUTING", KVM_CAP_IRQ_ROUTING },
	{ "KVM_CAP_IRQFD", KVM_CAP_IRQFD },
	{ "KVM_CAP_SIGNAL_MSI", KVM_CAP_SIGNAL_MSI },
	{ "KVM_CAP_IRQFD_RESAMPLE", KVM_CAP_IRQFD_RESAMPLE },
	{ "KVM_CAP_DEVICE_CTRL", KVM_CAP_DEVICE_CTRL },
	{ "KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS },
	{ "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS },
	{ "KVM_CAP_MAX_VCPU_ID", KVM_CAP_MAX_VCPU_ID },
	{ "KVM_CAP_MSI_DEVID", KVM_CAP_MSI_DEVID },
	{ "KVM_CAP_ARM_IRQ_LINE_LAYOUT_2", KVM_CAP_ARM_IRQ_LINE_LAYOUT_2 },
	{ "KVM_CAP_ARM_SET_DEVICE_ADDR", KVM_CAP_ARM_SET_DEVICE_ADDR },
	{ "KVM_CAP_ARM_USER_IRQ", KVM_CAP_ARM_USER_IRQ },
	{ NULL, 0 },
};

static const struct named_value kvm_irqfd_flags[] = {
	{ "DEASSIGN", KVM_IRQFD_FLAG_DEASSIGN },
	{ "RESAMPLE", KVM_IRQFD_FLAG_RESAMPLE },
	{ NULL, 0 },
};

/* A KVM ioctl that creates an fd (KVM_CREATE_VM, KVM_CREATE_VCPU): `ret=fd` and the name. */
static void kvm_new_fd(struct name *n, int rc, struct sbuf *r)
{
	if (rc < 0) {
		n->failed = 1;
		sb_errno(r, errno);
	} else {
		n->fd = rc;
		sb_puts(r, "ret=fd");
	}
}

/* KVM_{SET,GET,HAS}_DEVICE_ATTR GROUP ATTR [VALUE]: VALUE is a number, stored at addr as a
 * __u64 for KVM_DEV_ARM_VGIC_GRP_ADDR and as a __u32 otherwise, or an fd name, stored as the
 * __s32 fd (KVM_DEV_VFIO_FILE). Without VALUE, addr is NULL (CTRL_INIT). GET prints `value`. */
static void kvm_device_attr(const struct line *l, int fd, int x, const char *name, enum mode m,
			    struct sbuf *r)
{
	if (l->ntok < x + 2 || l->ntok > x + 3)
		scenario_error(l->lineno, "%s GROUP ATTR [VALUE]", name);
	unsigned long group = named(l, x, kvm_attr_groups);
	unsigned long attr = named(l, x + 1, kvm_attrs);
	int has_value = l->ntok == x + 3;
	long long v = 0;
	int is_fd = has_value && parse_number(&l->tok[x + 2], &v);
	int vfd = is_fd ? fd_of(l, x + 2, m) : -1;
	int get = !strcmp(name, "KVM_GET_DEVICE_ATTR");
	if (get && has_value)
		scenario_error(l->lineno, "KVM_GET_DEVICE_ATTR GROUP ATTR");
	if (m != EXECUTE)
		return;
	union {
		__u64 u64;
		__u32 u32;
		__s32 s32;
	} value = { 0 };
	if (is_fd)
		value.s32 = vfd;
	else if (group == KVM_DEV_ARM_VGIC_GRP_ADDR)
		value.u64 = (__u64)v;
	else
		value.u32 = (__u32)v;
	struct kvm_device_attr a = {
		.group = (__u32)group,
		.attr = attr,
		.addr = has_value || get ? (__u64)(uintptr_t)&value : 0,
	};
	unsigned long req = get			     ? KVM_GET_DEVICE_ATTR
			    : !strcmp(name, "KVM_SET_DEVICE_ATTR") ? KVM_SET_DEVICE_ATTR
								   : KVM_HAS_DEVICE_ATTR;
	int rc = ioctl(fd, req, &a);
	ioctl_result(r, rc);
	if (rc >= 0 && get)
		sb_field(r, "value", group == KVM_DEV_ARM_VGIC_GRP_ADDR ? value.u64 : value.u32);
}

/* KVM_SET_GSI_ROUTING ENTRY...: `irqchip:GSI:CHIP:PIN`, `msi:GSI:ADDR_LO:ADDR_HI:DATA`,
 * `msidev:GSI:ADDR_LO:ADDR_HI:DATA:DEVID` (flags KVM_MSI_VALID_DEVID) or `raw:GSI:TYPE:FLAGS`
 * (an entry of any type and flags, union zero); numbers decimal or 0x hex. */
static void kvm_gsi_routing(const struct line *l, int fd, int x, enum mode m, struct sbuf *r)
{
	int n = l->ntok - x;
	struct kvm_irq_routing *q = xmalloc(sizeof(*q) + (size_t)n * sizeof(q->entries[0]));
	memset(q, 0, sizeof(*q) + (size_t)n * sizeof(q->entries[0]));
	q->nr = (__u32)n;
	for (int i = 0; i < n; i++) {
		const struct token *t = &l->tok[x + i];
		if (t->quoted)
			scenario_error(l->lineno, "routing entry %d: not a string", i + 1);
		char *copy = strdup((const char *)t->bytes), *save = NULL;
		const char *kind = strtok_r(copy, ":", &save);
		unsigned long long v[6];
		int nv = 0;
		for (char *p = strtok_r(NULL, ":", &save); p && nv < 6; p = strtok_r(NULL, ":", &save)) {
			char *end;
			errno = 0;
			v[nv++] = strtoull(p, &end, 0);
			if (*end || errno)
				scenario_error(l->lineno, "routing entry %d: bad number %s", i + 1, p);
		}
		struct kvm_irq_routing_entry *e = &q->entries[i];
		if (kind && !strcmp(kind, "irqchip") && nv == 3) {
			e->gsi = (__u32)v[0];
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = (__u32)v[1];
			e->u.irqchip.pin = (__u32)v[2];
		} else if (kind && (!strcmp(kind, "msi") || !strcmp(kind, "msidev")) &&
			   nv == (kind[3] ? 5 : 4)) {
			e->gsi = (__u32)v[0];
			e->type = KVM_IRQ_ROUTING_MSI;
			e->u.msi.address_lo = (__u32)v[1];
			e->u.msi.address_hi = (__u32)v[2];
			e->u.msi.data = (__u32)v[3];
			if (kind[3]) {
				e->flags = KVM_MSI_VALID_DEVID;
				e->u.msi.devid = (__u32)v[4];
			}
		} else if (kind && !strcmp(kind, "raw") && nv == 3) {
			e->gsi = (__u32)v[0];
			e->type = (__u32)v[1];
			e->flags = (__u32)v[2];
		} else {
			scenario_error(l->lineno, "routing entry %d: irqchip:GSI:CHIP:PIN, msi:GSI:LO:HI:DATA, msidev:GSI:LO:HI:DATA:DEVID or raw:GSI:TYPE:FLAGS", i + 1);
		}
		free(copy);
	}
	if (m == EXECUTE)
		ioctl_result(r, ioctl(fd, KVM_SET_GSI_ROUTING, q));
	free(q);
}

/* Returns 0 when NAME is not a KVM ioctl. */
static int run_kvm_ioctl(const struct line *l, int fd, const char *name, int x, enum mode m,
			 struct sbuf *r, int in_bg)
{
	int rc;
	if (!strcmp(name, "KVM_CHECK_EXTENSION")) {
		need_args(l, x, 1);
		unsigned long cap = named(l, x, kvm_caps);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, KVM_CHECK_EXTENSION, cap));
	} else if (!strcmp(name, "KVM_GET_API_VERSION")) {
		need_args(l, x, 0);
		if (m == EXECUTE)
			ioctl_result(r, ioctl(fd, KVM_GET_API_VERSION, 0));
	} else if (!strcmp(name, "KVM_CREATE_VM") || !strcmp(name, "KVM_CREATE_VCPU")) {
		need_args(l, x, 2);
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		long long arg = number(l, x);
		struct name *n = define(l, x + 1, K_FD);
		unsigned long req = !strcmp(name, "KVM_CREATE_VM") ? KVM_CREATE_VM : KVM_CREATE_VCPU;
		if (m == EXECUTE)
			kvm_new_fd(n, ioctl(fd, req, (unsigned long)arg), r);
	} else if (!strcmp(name, "KVM_CREATE_DEVICE")) {
		need_args(l, x, 2);
		if (in_bg)
			scenario_error(l->lineno, "a background job cannot define names");
		unsigned long type = named(l, x, kvm_device_types);
		struct name *n = define(l, x + 1, K_FD);
		if (m == EXECUTE) {
			struct kvm_create_device d = { .type = (__u32)type };
			rc = ioctl(fd, KVM_CREATE_DEVICE, &d);
			ioctl_result(r, rc);
			if (rc < 0)
				n->failed = 1;
			else
				n->fd = (int)d.fd;
		}
	} else if (!strcmp(name, "KVM_SET_DEVICE_ATTR") || !strcmp(name, "KVM_GET_DEVICE_ATTR") ||
		   !strcmp(name, "KVM_HAS_DEVICE_ATTR")) {
		kvm_device_attr(l, fd, x, name, m, r);
	} else if (!strcmp(name, "KVM_IRQFD")) {
		if (l->ntok != x + 3 && l->ntok != x + 4)
			scenario_error(l->lineno, "KVM_IRQFD EFD GSI FLAGS [RESAMPLEFD]");
		int efd = fd_of(l, x, m);
		long long gsi = number(l, x + 1);
		unsigned long flags = named(l, x + 2, kvm_irqfd_flags);
		int rfd = l->ntok == x + 4 ? fd_of(l, x + 3, m) : 0;
		if (m == EXECUTE) {
			struct kvm_irqfd q = {
				.fd = (__u32)efd,
				.gsi = (__u32)gsi,
				.flags = (__u32)flags,
				.resamplefd = (__u32)rfd,
			};
			ioctl_result(r, ioctl(fd, KVM_IRQFD, &q));
		}
	} else if (!strcmp(name, "KVM_SET_GSI_ROUTING")) {
		kvm_gsi_routing(l, fd, x, m, r);
	} else if (!strcmp(name, "KVM_IRQ_LINE")) {
		need_args(l, x, 2);
		long long irq = number(l, x), level = number(l, x + 1);
		if (m == EXECUTE) {
			struct kvm_irq_level q = { .irq = (__u32)irq, .level = (__u32)level };
			ioctl_result(r, ioctl(fd, KVM_IRQ_LINE, &q));
		}
	} else {
		return 0;
	}
	return 1;
}

#endif
