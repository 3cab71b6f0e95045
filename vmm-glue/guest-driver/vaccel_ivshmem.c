// SPDX-License-Identifier: GPL-2.0
/*
 * vaccel_ivshmem: a write-back user mapping of QEMU's ivshmem shared memory.
 *
 * Licence: this file alone is GPL-2.0, as a Linux module must be to load without tainting
 * the kernel as proprietary and to use the kernel's GPL-only symbols. The rest of the
 * vAccel project is Apache-2.0.
 *
 * Why: user space can map an ivshmem device's BAR2 (the shared region) through sysfs
 * resource2, but the PCI core maps those files uncached. On KVM hosts that honour the
 * guest's memory type every poll of a ring index through such a mapping is an uncached
 * access. This driver hands user space a cacheable (write-back) mapping instead.
 *
 * What it does, per ivshmem device (PCI 1af4:1110):
 *   - enables the device's memory decoding and claims BAR2 (BAR0, the registers, is left
 *     alone: user space keeps mapping it uncached through sysfs resource0, which is right
 *     for registers such as the doorbell);
 *   - memremap()s BAR2 with MEMREMAP_WB. On x86 that records a write-back PAT memtype for
 *     the whole BAR, which every later mapping of it inherits (PAT keeps all mappings of a
 *     physical range at one type), and gives the kernel a mapping whose page-table entry
 *     we read back to report the type really obtained;
 *   - registers a misc device /dev/vaccel-ivshmemN whose parent is the PCI device, so it
 *     is also found from the device's sysfs folder (.../0000:00:04.0/misc/vaccel-ivshmemN);
 *     its attributes "size" (BAR2 bytes) and "cache_mode" say what mmap gives;
 *   - mmap (MAP_SHARED, within BAR2) uses remap_pfn_range() with the VMA's default page
 *     protection, which is cacheable; x86 PAT then checks it against the memtype above;
 *     lseek(fd, 0, SEEK_END) returns the BAR's size.
 *
 * x86 memory types: PAT's memtype_reserve() silently turns a write-back request into
 * uncached-minus when the MTRRs do not say write-back for the range, and SeaBIOS (QEMU's
 * default firmware) places small 64-bit BARs below 4 GiB, in a 32-bit PCI hole it marks
 * uncachable in the MTRRs. So the probe first tries a write-back mapping where BAR2 is;
 * if that comes back anything else, it moves BAR2 above 4 GiB, into the host bridge's
 * 64-bit window, where no MTRR applies (module parameter relocate=0: don't). If BAR2 still
 * cannot be write-back, the probe warns and cache_mode says what it is: the driver works,
 * uncached, rather than pretending. See the README's "Running with a real VM".
 *
 * Mappings outlive neither the module nor the device by accident: every open file holds a
 * reference on the module (fops.owner) and on our per-device data, and a VMA holds its
 * file. If the device is unbound while a file is open, mmap() on it fails with ENODEV;
 * existing mappings keep pointing at the BAR (QEMU's memory) until unmapped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/pgtable.h>
#endif

#define VIVD_NAME "vaccel-ivshmem"
#define VIVD_BAR 2

struct vivd {
	struct kref ref;
	struct mutex lock;		/* protects gone against mmap */
	bool gone;			/* unbound: no new mmap */
	struct pci_dev *pdev;
	struct miscdevice misc;
	char name[32];
	int id;
	phys_addr_t start;		/* BAR2 */
	resource_size_t size;
	void *kva;			/* memremap(MEMREMAP_WB) of BAR2 */
	const char *cache_mode;		/* what the kernel mapping got */
};

static DEFINE_IDA(vivd_ida);

static void vivd_free(struct kref *ref)
{
	struct vivd *d = container_of(ref, struct vivd, ref);

	kfree(d);
}

#ifdef CONFIG_X86
/* The name of the cache mode whose page-table bits are these (PWT, PCD, PAT). */
static const char *vivd_cache_name(pgprotval_t bits)
{
	static const struct {
		enum page_cache_mode pcm;
		const char *name;
	} modes[] = {
		/* UC- before WP: without PAT's WP slot, WP reuses UC-'s bits. */
		{ _PAGE_CACHE_MODE_WB, "write-back" },
		{ _PAGE_CACHE_MODE_UC_MINUS, "uncached-minus" },
		{ _PAGE_CACHE_MODE_UC, "uncached" },
		{ _PAGE_CACHE_MODE_WC, "write-combining" },
		{ _PAGE_CACHE_MODE_WT, "write-through" },
		{ _PAGE_CACHE_MODE_WP, "write-protected" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (cachemode2protval(modes[i].pcm) == bits)
			return modes[i].name;
	return "unknown";
}

/* Reads back the kernel's page-table entry for kva: the type PAT really gave BAR2. */
static const char *vivd_kernel_cache_mode(void *kva)
{
	unsigned int level;
	pgprotval_t v;
	pte_t *pte;

	pte = lookup_address((unsigned long)kva, &level);
	if (!pte || !pte_present(*pte))
		return "unknown";
	v = pte_flags(*pte);
	/* In a 2M or 1G entry the PAT bit sits at bit 12, not 7. */
	if (level != PG_LEVEL_4K)
		v = protval_large_2_4k(v);
	return vivd_cache_name(v & _PAGE_CACHE_MASK);
}
#else
static const char *vivd_kernel_cache_mode(void *kva)
{
	/* memremap(MEMREMAP_WB) succeeds only with a cacheable mapping elsewhere. */
	return "write-back";
}
#endif

static int vivd_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data to our miscdevice and holds misc_mtx, which
	 * misc_deregister() also takes: d cannot be freed under us here. */
	struct vivd *d = container_of(file->private_data, struct vivd, misc);

	kref_get(&d->ref);
	file->private_data = d;
	return 0;
}

static int vivd_release(struct inode *inode, struct file *file)
{
	struct vivd *d = file->private_data;

	kref_put(&d->ref, vivd_free);
	return 0;
}

static loff_t vivd_llseek(struct file *file, loff_t offset, int whence)
{
	struct vivd *d = file->private_data;

	return fixed_size_llseek(file, offset, whence, d->size);
}

static int vivd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vivd *d = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long pages = d->size >> PAGE_SHIFT;
	int ret;

	/* A private (copy-on-write) mapping of device memory makes no sense. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff >= pages || (len >> PAGE_SHIFT) > pages - vma->vm_pgoff)
		return -EINVAL;

	mutex_lock(&d->lock);
	if (d->gone) {
		ret = -ENODEV;
		goto out;
	}
	/*
	 * vm_page_prot is the default protection of a shared mapping: cacheable (no PCD,
	 * PWT or PAT bit on x86). It is not made device/uncached here on purpose. On x86,
	 * remap_pfn_range() reserves the range with PAT, which finds the write-back memtype
	 * our memremap() recorded and keeps it; remap_pfn_range also marks the VMA
	 * VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP.
	 */
	ret = remap_pfn_range(vma, vma->vm_start, PHYS_PFN(d->start) + vma->vm_pgoff, len,
			      vma->vm_page_prot);
	if (!ret)
		dev_dbg(&d->pdev->dev, "%s: mapped %lu bytes at offset %lu for pid %d (%s)\n",
			d->name, len, vma->vm_pgoff << PAGE_SHIFT, task_pid_nr(current),
			d->cache_mode);
out:
	mutex_unlock(&d->lock);
	return ret;
}

static const struct file_operations vivd_fops = {
	.owner = THIS_MODULE,
	.open = vivd_open,
	.release = vivd_release,
	.llseek = vivd_llseek,
	.mmap = vivd_mmap,
};

static ssize_t size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct miscdevice *misc = dev_get_drvdata(dev);
	struct vivd *d = container_of(misc, struct vivd, misc);

	return sysfs_emit(buf, "%llu\n", (unsigned long long)d->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t cache_mode_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct miscdevice *misc = dev_get_drvdata(dev);
	struct vivd *d = container_of(misc, struct vivd, misc);

	return sysfs_emit(buf, "%s\n", d->cache_mode);
}
static DEVICE_ATTR_RO(cache_mode);

static struct attribute *vivd_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_cache_mode.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vivd);

#ifdef CONFIG_X86
static bool relocate = true;
module_param(relocate, bool, 0444);
MODULE_PARM_DESC(relocate,
		 "Move BAR2 above 4 GiB when the guest's MTRRs keep it from being write-back where the firmware put it (default: yes)");

/* What a write-back mapping of BAR2 gets where it is now (a trial memremap). */
static const char *vivd_try_wb(struct pci_dev *pdev)
{
	void *p = memremap(pci_resource_start(pdev, VIVD_BAR), pci_resource_len(pdev, VIVD_BAR),
			   MEMREMAP_WB);
	const char *mode;

	if (!p)
		return "unmappable";
	mode = vivd_kernel_cache_mode(p);
	memunmap(p);
	return mode;
}

/*
 * SeaBIOS (QEMU's default firmware) assigns a small 64-bit BAR below 4 GiB and marks the
 * whole 32-bit PCI hole uncachable in the MTRRs, so PAT cannot make it write-back there.
 * Above 4 GiB no MTRR says uncachable. QEMU's host bridge offers a 64-bit window there
 * (ACPI _CRS), and pci_assign_resource() tries above 4 GiB first for a 64-bit BAR.
 * Nothing else may be using BAR2 at this point: the driver loads before user space maps
 * the device (a process holding sysfs resource2 mapped would keep the old address).
 */
static int vivd_relocate(struct pci_dev *pdev)
{
	struct resource *res = &pdev->resource[VIVD_BAR];
	resource_size_t start = res->start, end = res->end;
	unsigned long flags = res->flags;
	const char *mode;
	int ret;

	if (!relocate || !(flags & IORESOURCE_MEM_64) || start >= SZ_4G)
		return 0;
	mode = vivd_try_wb(pdev);
	if (!strcmp(mode, "write-back"))
		return 0;
	dev_info(&pdev->dev, "BAR%d %pR can only be %s here (guest MTRRs); moving it above 4 GiB\n",
		 VIVD_BAR, res, mode);
	pci_release_resource(pdev, VIVD_BAR);
	ret = pci_assign_resource(pdev, VIVD_BAR);
	if (!ret) {
		if (res->start < SZ_4G)
			dev_warn(&pdev->dev,
				 "no room above 4 GiB for BAR%d: it stays uncachable (%pR)\n",
				 VIVD_BAR, res);
		return 0;
	}
	/* The BAR register was not rewritten: claim the old range again. */
	res->start = start;
	res->end = end;
	res->flags = flags;
	ret = pci_claim_resource(pdev, VIVD_BAR);
	if (ret) {
		dev_err(&pdev->dev, "could not move BAR%d above 4 GiB, nor reclaim %pR: %d\n",
			VIVD_BAR, res, ret);
		return -ENODEV;
	}
	dev_warn(&pdev->dev, "could not move BAR%d above 4 GiB: it stays at %pR\n", VIVD_BAR, res);
	return 0;
}
#else
static int vivd_relocate(struct pci_dev *pdev)
{
	return 0;
}
#endif

static int vivd_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct vivd *d;
	int ret;

	if (!(pci_resource_flags(pdev, VIVD_BAR) & IORESOURCE_MEM) ||
	    !pci_resource_len(pdev, VIVD_BAR)) {
		dev_err(dev, "BAR%d is not an assigned memory BAR: no shared memory to map\n",
			VIVD_BAR);
		return -ENODEV;
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	kref_init(&d->ref);
	mutex_init(&d->lock);
	d->pdev = pdev;
	d->id = ida_alloc(&vivd_ida, GFP_KERNEL);
	if (d->id < 0) {
		ret = d->id;
		goto err_free;
	}
	snprintf(d->name, sizeof(d->name), VIVD_NAME "%d", d->id);

	ret = pci_enable_device_mem(pdev);
	if (ret) {
		dev_err(dev, "cannot enable the device: %d\n", ret);
		goto err_ida;
	}
	ret = vivd_relocate(pdev);
	if (ret)
		goto err_disable;
	d->start = pci_resource_start(pdev, VIVD_BAR);
	d->size = pci_resource_len(pdev, VIVD_BAR);
	/* QEMU's BAR2 is a power of two of at least 4 KiB; anything else is not ivshmem's. */
	if (!PAGE_ALIGNED(d->start) || !PAGE_ALIGNED(d->size)) {
		dev_err(dev, "BAR%d %pR is not page aligned: cannot map it\n", VIVD_BAR,
			&pdev->resource[VIVD_BAR]);
		ret = -EINVAL;
		goto err_disable;
	}
	ret = pci_request_region(pdev, VIVD_BAR, KBUILD_MODNAME);
	if (ret) {
		dev_err(dev, "BAR%d %pR is claimed by someone else: %d\n", VIVD_BAR,
			&pdev->resource[VIVD_BAR], ret);
		goto err_disable;
	}
	d->kva = memremap(d->start, d->size, MEMREMAP_WB);
	if (!d->kva) {
		dev_err(dev, "memremap(MEMREMAP_WB) of BAR%d %pR failed\n", VIVD_BAR,
			&pdev->resource[VIVD_BAR]);
		ret = -ENOMEM;
		goto err_region;
	}
	d->cache_mode = vivd_kernel_cache_mode(d->kva);

	d->misc.minor = MISC_DYNAMIC_MINOR;
	d->misc.name = d->name;
	d->misc.fops = &vivd_fops;
	d->misc.parent = dev;
	d->misc.groups = vivd_groups;
	d->misc.mode = 0600;
	pci_set_drvdata(pdev, d);
	ret = misc_register(&d->misc);
	if (ret) {
		dev_err(dev, "cannot register /dev/%s: %d\n", d->name, ret);
		goto err_unmap;
	}

	if (strcmp(d->cache_mode, "write-back"))
		dev_warn(dev, "BAR%d %pR: asked for write-back, got %s (the guest's MTRRs do not mark the range write-back?); /dev/%s maps it %s too\n",
			 VIVD_BAR, &pdev->resource[VIVD_BAR], d->cache_mode, d->name,
			 d->cache_mode);
	else
		dev_info(dev, "BAR%d %pR (%llu KiB) mapped write-back as /dev/%s\n", VIVD_BAR,
			 &pdev->resource[VIVD_BAR], (unsigned long long)d->size >> 10,
			 d->name);
	return 0;

err_unmap:
	memunmap(d->kva);
err_region:
	pci_release_region(pdev, VIVD_BAR);
err_disable:
	pci_disable_device(pdev);
err_ida:
	ida_free(&vivd_ida, d->id);
err_free:
	kref_put(&d->ref, vivd_free);
	return ret;
}

static void vivd_remove(struct pci_dev *pdev)
{
	struct vivd *d = pci_get_drvdata(pdev);

	/* After this no open() is running or can start (misc_mtx). */
	misc_deregister(&d->misc);
	mutex_lock(&d->lock);
	d->gone = true;
	mutex_unlock(&d->lock);
	memunmap(d->kva);
	pci_release_region(pdev, VIVD_BAR);
	pci_disable_device(pdev);
	ida_free(&vivd_ida, d->id);
	dev_info(&pdev->dev, "/dev/%s removed\n", d->name);
	kref_put(&d->ref, vivd_free);
}

static const struct pci_device_id vivd_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) }, /* QEMU ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, vivd_ids);

static struct pci_driver vivd_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vivd_ids,
	.probe = vivd_probe,
	.remove = vivd_remove,
};
module_pci_driver(vivd_driver);

MODULE_DESCRIPTION("Write-back user mappings of QEMU ivshmem shared memory (BAR2) for vAccel");
MODULE_LICENSE("GPL");
