/* The iommufd rows of FORMAT.md's ioctl table: /dev/iommu (<linux/iommufd.h>) and the VFIO
 * device cdev ioctls (/dev/vfio/devices/vfioX) that bind a device to it.
 *
 * Part of runner.c, which includes it once after ioctls.h (one translation unit, static
 * functions); run_ioctl() hands every name neither it nor run_kvm_ioctl() knows to
 * run_iommufd_ioctl(). */
#ifndef VFIOKIT_ORACLE_IOCTLS_IOMMUFD_H
#define VFIOKIT_ORACLE_IOCTLS_IOMMUFD_H

#include <stdint.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

static const struct named_value ioas_map_flags[] = {
	{ "FIXED_IOVA", IOMMU_IOAS_MAP_FIXED_IOVA },
	{ "WRITEABLE", IOMMU_IOAS_MAP_WRITEABLE },
	{ "READABLE", IOMMU_IOAS_MAP_READABLE },
	{ NULL, 0 },
};

static int run_iommufd_ioctl(const struct line *l, int fd, const char *name, int x, enum mode m,
			     struct sbuf *r, int in_bg)
{
	int rc;
	(void)in_bg;
	if (!strcmp(name, "IOMMU_IOAS_ALLOC")) {
		need_args(l, x, 0);
		if (m == EXECUTE) {
			struct iommu_ioas_alloc a = { .size = sizeof(a) };
			rc = ioctl(fd, IOMMU_IOAS_ALLOC, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "out_ioas_id", a.out_ioas_id);
		}
	} else if (!strcmp(name, "IOMMU_IOAS_MAP")) {
		need_args(l, x, 4);
		long long ioas = number(l, x), iova = number(l, x + 1), length = number(l, x + 2);
		unsigned long flags = named(l, x + 3, ioas_map_flags);
		if (m == EXECUTE) {
			/* LENGTH bytes of anonymous memory as user_va (never printed), as MAP_DMA does;
			 * a zero length maps one page so user_va is still a valid address. */
			void *va = mmap(NULL, length > 0 ? (size_t)length : 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (va == MAP_FAILED) {
				fprintf(stderr, "runner: mmap for IOAS_MAP: %s\n", errno_name(errno));
				exit(3);
			}
			struct iommu_ioas_map a = {
				.size = sizeof(a),
				.flags = (__u32)flags,
				.ioas_id = (__u32)ioas,
				.user_va = (__u64)(uintptr_t)va,
				.length = (__u64)length,
				.iova = (__u64)iova,
			};
			rc = ioctl(fd, IOMMU_IOAS_MAP, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "iova", a.iova);
		}
	} else if (!strcmp(name, "IOMMU_IOAS_UNMAP")) {
		need_args(l, x, 3);
		long long ioas = number(l, x), iova = number(l, x + 1), length = number(l, x + 2);
		if (m == EXECUTE) {
			struct iommu_ioas_unmap a = {
				.size = sizeof(a),
				.ioas_id = (__u32)ioas,
				.iova = (__u64)iova,
				.length = (__u64)length,
			};
			rc = ioctl(fd, IOMMU_IOAS_UNMAP, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "length", a.length);
		}
	} else if (!strcmp(name, "IOMMU_IOAS_IOVA_RANGES")) {
		need_args(l, x, 1);
		long long ioas = number(l, x);
		if (m == EXECUTE) {
			struct iommu_iova_range ranges[16];
			struct iommu_ioas_iova_ranges a = {
				.size = sizeof(a),
				.ioas_id = (__u32)ioas,
				.num_iovas = 16,
				.allowed_iovas = (__u64)(uintptr_t)ranges,
			};
			rc = ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &a);
			ioctl_result(r, rc);
			if (rc >= 0) {
				sb_field(r, "num_iovas", a.num_iovas);
				sb_field(r, "out_iova_alignment", a.out_iova_alignment);
				for (__u32 i = 0; i < a.num_iovas && i < 16; i++) {
					sb_printf(r, " [");
					sb_hex(r, ranges[i].start);
					sb_printf(r, ",");
					sb_hex(r, ranges[i].last);
					sb_printf(r, "]");
				}
			}
		}
	} else if (!strcmp(name, "IOMMU_IOAS_ALLOW_IOVAS")) {
		need_args(l, x, 3);
		long long ioas = number(l, x), start = number(l, x + 1), last = number(l, x + 2);
		if (m == EXECUTE) {
			struct iommu_iova_range range = { .start = (__u64)start, .last = (__u64)last };
			struct iommu_ioas_allow_iovas a = {
				.size = sizeof(a),
				.ioas_id = (__u32)ioas,
				.num_iovas = 1,
				.allowed_iovas = (__u64)(uintptr_t)&range,
			};
			ioctl_result(r, ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a));
		}
	} else if (!strcmp(name, "IOMMU_IOAS_COPY")) {
		need_args(l, x, 6);
		long long dst = number(l, x), src = number(l, x + 1), src_iova = number(l, x + 2),
			  dst_iova = number(l, x + 3), length = number(l, x + 4);
		unsigned long flags = named(l, x + 5, ioas_map_flags);
		if (m == EXECUTE) {
			struct iommu_ioas_copy a = {
				.size = sizeof(a),
				.flags = (__u32)flags,
				.dst_ioas_id = (__u32)dst,
				.src_ioas_id = (__u32)src,
				.length = (__u64)length,
				.dst_iova = (__u64)dst_iova,
				.src_iova = (__u64)src_iova,
			};
			rc = ioctl(fd, IOMMU_IOAS_COPY, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "dst_iova", a.dst_iova);
		}
	} else if (!strcmp(name, "IOMMU_OPTION")) {
		need_args(l, x, 4);
		long long option = number(l, x), op = number(l, x + 1), object = number(l, x + 2),
			  val = number(l, x + 3);
		if (m == EXECUTE) {
			struct iommu_option a = {
				.size = sizeof(a),
				.option_id = (__u32)option,
				.op = (__u16)op,
				.object_id = (__u32)object,
				.val64 = (__u64)val,
			};
			rc = ioctl(fd, IOMMU_OPTION, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "val64", a.val64);
		}
	} else if (!strcmp(name, "IOMMU_VFIO_IOAS")) {
		need_args(l, x, 2);
		long long op = number(l, x), ioas = number(l, x + 1);
		if (m == EXECUTE) {
			struct iommu_vfio_ioas a = { .size = sizeof(a), .ioas_id = (__u32)ioas, .op = (__u16)op };
			rc = ioctl(fd, IOMMU_VFIO_IOAS, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "ioas_id", a.ioas_id);
		}
	} else if (!strcmp(name, "IOMMU_HWPT_SET_DIRTY_TRACKING")) {
		need_args(l, x, 2);
		long long hwpt = number(l, x), flags = number(l, x + 1);
		if (m == EXECUTE) {
			struct iommu_hwpt_set_dirty_tracking a = {
				.size = sizeof(a), .flags = (__u32)flags, .hwpt_id = (__u32)hwpt,
			};
			ioctl_result(r, ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &a));
		}
	} else if (!strcmp(name, "IOMMU_HWPT_GET_DIRTY_BITMAP")) {
		need_args(l, x, 5);
		long long hwpt = number(l, x), flags = number(l, x + 1), iova = number(l, x + 2),
			  length = number(l, x + 3), page_size = number(l, x + 4);
		if (m == EXECUTE) {
			static __u64 bitmap[64];
			struct iommu_hwpt_get_dirty_bitmap a = {
				.size = sizeof(a), .hwpt_id = (__u32)hwpt, .flags = (__u32)flags,
				.iova = (__u64)iova, .length = (__u64)length, .page_size = (__u64)page_size,
				.data = (__u64)(uintptr_t)bitmap,
			};
			ioctl_result(r, ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &a));
		}
	} else if (!strcmp(name, "IOMMU_HWPT_INVALIDATE")) {
		need_args(l, x, 3);
		long long hwpt = number(l, x), entry_len = number(l, x + 1), entry_num = number(l, x + 2);
		if (m == EXECUTE) {
			static unsigned char entries[4096];
			struct iommu_hwpt_invalidate a = {
				.size = sizeof(a), .hwpt_id = (__u32)hwpt,
				.data_uptr = entry_num ? (__u64)(uintptr_t)entries : 0,
				.entry_len = (__u32)entry_len, .entry_num = (__u32)entry_num,
			};
			rc = ioctl(fd, IOMMU_HWPT_INVALIDATE, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "entry_num", a.entry_num);
		}
	} else if (!strcmp(name, "IOMMU_DESTROY")) {
		need_args(l, x, 1);
		long long id = number(l, x);
		if (m == EXECUTE) {
			struct iommu_destroy a = { .size = sizeof(a), .id = (__u32)id };
			ioctl_result(r, ioctl(fd, IOMMU_DESTROY, &a));
		}
	} else if (!strcmp(name, "VFIO_DEVICE_BIND_IOMMUFD")) {
		need_args(l, x, 1);
		int ifd = fd_of(l, x, m); /* the IOMMUFD argument is an fd name */
		if (m == EXECUTE) {
			struct vfio_device_bind_iommufd a = { .argsz = sizeof(a), .iommufd = ifd };
			rc = ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "out_devid", a.out_devid);
		}
	} else if (!strcmp(name, "VFIO_DEVICE_ATTACH_IOMMUFD_PT")) {
		need_args(l, x, 1);
		long long pt = number(l, x);
		if (m == EXECUTE) {
			struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = (__u32)pt };
			rc = ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
			ioctl_result(r, rc);
			if (rc >= 0)
				sb_field(r, "pt_id", a.pt_id);
		}
	} else if (!strcmp(name, "VFIO_DEVICE_DETACH_IOMMUFD_PT")) {
		need_args(l, x, 0);
		if (m == EXECUTE) {
			struct vfio_device_detach_iommufd_pt a = { .argsz = sizeof(a) };
			ioctl_result(r, ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a));
		}
	} else {
		return 0;
	}
	return 1;
}

#endif
