/* `guest VM VCPU SPI` (FORMAT.md): run a vCPU with a fixed guest program that takes one
 * interrupt of the in-kernel vGICv3 the way a guest's handler does, so KVM's EOI path (the
 * irqfd resampler, the resamplefd) runs on the real kernel.
 *
 * Part of runner.c, which includes it once after kvm-ioctls.h (one translation unit, static
 * functions). */
#ifndef VFIOKIT_ORACLE_KVM_GUEST_H
#define VFIOKIT_ORACLE_KVM_GUEST_H

/* The guest program (aarch64, EL1, MMU off), assembled from:
 *	ldr x0, dist; ldr w1, spi; ldr x11, mmio
 *	GICD_CTLR = ARE_NS | EnableGrp1A (0x12)
 *	GICD_ICFGR: clear bit 2*(spi%16)+1 (level); GICD_ISENABLER: set bit spi%32
 *	ICC_PMR_EL1 = 0xff; ICC_IGRPEN1_EL1 = 1; isb
 *	x2 = ICC_IAR1_EL1; if (x2 < 1020) { ICC_EOIR1_EL1 = x2; isb }   (EOImode 0)
 *	str w2, [x11]	-- an MMIO exit at 0x0c000000 that reports the INTID; then b .
 * with `dist` (0x08000000, the vGIC distributor the scenarios set), `mmio` and `spi` (patched
 * per run at GUEST_SPI_OFF) as literals after the code. */
static const unsigned char guest_code[] = {
	0x80, 0x04, 0x00, 0x58, 0xe1, 0x04, 0x00, 0x18, 0x8b, 0x04, 0x00, 0x58, 0x42, 0x02, 0x80, 0x52,
	0x02, 0x00, 0x00, 0xb9, 0x23, 0x7c, 0x05, 0x53, 0x63, 0x74, 0x1e, 0x53, 0x25, 0x10, 0x00, 0x12,
	0x24, 0x00, 0x80, 0x52, 0x84, 0x20, 0xc5, 0x1a, 0x28, 0x7c, 0x04, 0x53, 0x08, 0x75, 0x1e, 0x53,
	0x29, 0x0c, 0x00, 0x12, 0x29, 0x79, 0x1f, 0x53, 0x29, 0x05, 0x00, 0x11, 0x2a, 0x00, 0x80, 0x52,
	0x4a, 0x21, 0xc9, 0x1a, 0x06, 0x00, 0x30, 0x91, 0xc7, 0x68, 0x68, 0xb8, 0xe7, 0x00, 0x2a, 0x0a,
	0xc7, 0x68, 0x28, 0xb8, 0x06, 0x00, 0x04, 0x91, 0xc4, 0x68, 0x23, 0xb8, 0xe2, 0x1f, 0x80, 0xd2,
	0x02, 0x46, 0x18, 0xd5, 0x22, 0x00, 0x80, 0xd2, 0xe2, 0xcc, 0x18, 0xd5, 0xdf, 0x3f, 0x03, 0xd5,
	0x02, 0xcc, 0x38, 0xd5, 0x5f, 0xf0, 0x0f, 0x71, 0x62, 0x00, 0x00, 0x54, 0x22, 0xcc, 0x18, 0xd5,
	0xdf, 0x3f, 0x03, 0xd5, 0x62, 0x01, 0x00, 0xb9, 0x00, 0x00, 0x00, 0x14, 0x1f, 0x20, 0x03, 0xd5,
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
#define GUEST_SPI_OFF 0xa0
#define GUEST_RAM 0x40000000ULL
#define GUEST_RAM_SIZE 0x10000
#define GUEST_REPORT 0x0c000000ULL

#ifdef __aarch64__
/* One set-up per VM (memslot with the code) and per vCPU (KVM_ARM_VCPU_INIT, kvm_run map). */
struct guest_vcpu {
	int vcpu_fd;
	struct kvm_run *run;
};
static struct guest_vcpu guest_vcpus[8];
static int guest_vm_fds[8];
static unsigned char *guest_mem;

static int guest_fail(struct sbuf *r)
{
	sb_errno(r, errno);
	return -1;
}

static struct kvm_run *guest_setup(int vm, int vcpu, struct sbuf *r)
{
	for (int i = 0; i < 8; i++)
		if (guest_vcpus[i].run && guest_vcpus[i].vcpu_fd == vcpu)
			return guest_vcpus[i].run;
	int have_vm = 0;
	for (int i = 0; i < 8; i++)
		have_vm |= guest_vm_fds[i] == vm + 1;
	if (!have_vm) {
		if (!guest_mem) {
			guest_mem = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (guest_mem == MAP_FAILED) {
				fprintf(stderr, "runner: guest memory: %s\n", errno_name(errno));
				exit(3);
			}
		}
		struct kvm_userspace_memory_region mr = {
			.slot = 0,
			.guest_phys_addr = GUEST_RAM,
			.memory_size = GUEST_RAM_SIZE,
			.userspace_addr = (__u64)(uintptr_t)guest_mem,
		};
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
			return guest_fail(r), NULL;
		for (int i = 0; i < 8; i++)
			if (!guest_vm_fds[i]) {
				guest_vm_fds[i] = vm + 1;
				break;
			}
	}
	struct kvm_vcpu_init init;
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0 || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
		return guest_fail(r), NULL;
	int kvm = open("/dev/kvm", O_RDWR);
	int size = kvm < 0 ? -1 : ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm >= 0)
		close(kvm);
	if (size < 0)
		return guest_fail(r), NULL;
	void *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return guest_fail(r), NULL;
	for (int i = 0; i < 8; i++)
		if (!guest_vcpus[i].run) {
			guest_vcpus[i].vcpu_fd = vcpu;
			guest_vcpus[i].run = run;
			return run;
		}
	fprintf(stderr, "runner: more than 8 guest vCPUs\n");
	exit(3);
}

static void guest_run(int vm, int vcpu, unsigned spi, struct sbuf *r)
{
	struct kvm_run *run = guest_setup(vm, vcpu, r);
	if (!run)
		return;
	memcpy(guest_mem, guest_code, sizeof(guest_code));
	memcpy(guest_mem + GUEST_SPI_OFF, &spi, sizeof(spi));
	__u64 pc = GUEST_RAM;
	struct kvm_one_reg reg = {
		.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		      KVM_REG_ARM_CORE_REG(regs.pc),
		.addr = (__u64)(uintptr_t)&pc,
	};
	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0) {
		guest_fail(r);
		return;
	}
	/* Exits the kernel handles (the vGIC's own MMIO) never reach here; anything but the
	 * report is printed as the exit reason. */
	for (int tries = 0; tries < 100; tries++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			guest_fail(r);
			return;
		}
		if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == GUEST_REPORT &&
		    run->mmio.is_write) {
			__u32 intid;
			memcpy(&intid, run->mmio.data, sizeof(intid));
			sb_printf(r, "intid=%u", intid);
			return;
		}
		sb_printf(r, "exit=%u", run->exit_reason);
		return;
	}
	sb_puts(r, "exit=EINTR");
}
#else
/* The self-test host is not arm64: the command parses, and running it is a runner failure. */
static void guest_run(int vm, int vcpu, unsigned spi, struct sbuf *r)
{
	(void)vm, (void)vcpu, (void)spi, (void)r;
	fprintf(stderr, "runner: guest needs an arm64 host\n");
	exit(3);
}
#endif

static void run_guest(const struct line *l, int a, enum mode m, struct sbuf *r, int in_bg)
{
	need_args(l, a, 3);
	if (in_bg)
		scenario_error(l->lineno, "guest cannot run in a background job");
	int vm = fd_of(l, a, m), vcpu = fd_of(l, a + 1, m);
	long long spi = number(l, a + 2);
	if (spi < 32 || spi > 1019)
		scenario_error(l->lineno, "guest SPI must be 32..1019");
	if (m == EXECUTE)
		guest_run(vm, vcpu, (unsigned)spi, r);
}

#endif
