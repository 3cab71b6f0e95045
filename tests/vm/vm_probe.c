/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest program of the VM tests: finds the ivshmem device, maps the region, validates its
 * header (vmm-glue/guest), prints the layout; optionally checks the host's pattern in RAW
 * area 0 and writes a word into RAW area 1. Each failure has its own exit code so the host
 * side can tell from the guest's console which check failed. --bar2 FILE and --no-driver
 * choose the BAR2 mapping (vivg_opts.bar2_file, no_driver) instead of the library's own
 * choice (the vaccel_ivshmem driver's node when it is bound, else sysfs resource2).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vm/vm_pattern.h"
#include "vmm-glue/guest/ivshmem_guest.h"

enum {
	EX_OK = 0,
	EX_USAGE = 2,
	EX_NODEV = 3,    /* no ivshmem PCI device */
	EX_PERM = 4,     /* BAR files not accessible */
	EX_SIZE = 5,     /* BAR smaller than the header says */
	EX_MAGIC = 6,    /* bad magic: no vAccel region served */
	EX_VERSION = 7,  /* unsupported layout version */
	EX_HEADER = 8,   /* other header defect */
	EX_OTHER = 9,    /* mmap/open/other errors */
	EX_NOAREA = 10,  /* RAW area missing or too small */
	EX_PATTERN = 11, /* pattern mismatch */
	EX_DOORBELL = 12, /* no BAR0, or the own ID is not the expected one */
};

static int _exit_code(int err)
{
	switch (err) {
	case -ENODEV: return EX_NODEV;
	case -EACCES:
	case -EPERM: return EX_PERM;
	case -EMSGSIZE: return EX_SIZE;
	case -EBADMSG: return EX_MAGIC;
	case -EPROTONOSUPPORT: return EX_VERSION;
	case -EPROTO: return EX_HEADER;
	default: return EX_OTHER;
	}
}

static void _usage(FILE *f)
{
	fprintf(f, "usage: vm_probe [--sysfs DIR] [--bar2 FILE | --no-driver] [--check-pattern]\n"
		   "                [--write OFF=VALUE] [--expect-id ID] [--ring PEER:VECTOR:COUNT]\n"
		   "exit: 0 ok, 2 usage, 3 no device, 4 permission, 5 BAR too small, 6 bad magic,\n"
		   "      7 version, 8 other header defect, 9 other error, 10 no RAW area,\n"
		   "      11 pattern mismatch, 12 doorbell (no BAR0 or wrong own ID)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"sysfs", required_argument, NULL, 's'},
		{"bar2", required_argument, NULL, 'b'},
		{"no-driver", no_argument, NULL, 'n'},
		{"check-pattern", no_argument, NULL, 'p'},
		{"write", required_argument, NULL, 'w'},
		{"expect-id", required_argument, NULL, 'i'},
		{"ring", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct vivg_opts o = {0};
	int check_pattern = 0, do_write = 0, c, ret;
	uint64_t woff = 0, wval = 0;
	int expect_id = -1;
	unsigned ring_peer = 0, ring_vec = 0, ring_count = 0;
	struct vivg_dev *d;
	enum vshm_check verdict;
	struct vshm_err err = {{0}};

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.sysfs = optarg; break;
		case 'b': o.bar2_file = optarg; break;
		case 'n': o.no_driver = 1; break;
		case 'p': check_pattern = 1; break;
		case 'w': {
			char *eq = strchr(optarg, '='), *end;

			if (!eq)
				goto usage;
			woff = strtoull(optarg, &end, 0);
			if (end != eq)
				goto usage;
			wval = strtoull(eq + 1, &end, 0);
			if (*end || !eq[1] || woff % 8)
				goto usage;
			do_write = 1;
			break;
		}
		case 'i': expect_id = atoi(optarg); break;
		case 'r':
			if (sscanf(optarg, "%u:%u:%u", &ring_peer, &ring_vec, &ring_count) != 3)
				goto usage;
			break;
		case 'h': _usage(stdout); return EX_OK;
		default: goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	ret = vivg_open(&o, &d, &verdict, &err);
	if (ret) {
		printf("vm_probe: FAIL %s (%s): %s\n", vivg_strerror(ret), strerror(-ret), err.msg);
		return _exit_code(ret);
	}
	const struct vshm_layout *l = vshm_region_layout(d->region);
	printf("vm_probe: device %s\n", d->path);
	printf("vm_probe: BAR2 through %s (%s, %s)\n", d->bar2_path, vivg_bar2_via_str(d->bar2_via),
	       d->bar2_cache[0] ? d->bar2_cache : "cache mode unknown");
	printf("vm_probe: BAR2 %" PRIu64 " bytes, BAR0 %" PRIu64 " bytes, own id %d\n", d->mem_size,
	       d->regs_size, vivg_own_id(d));
	printf("vm_probe: header ok: region %" PRIu64 " bytes, features 0x%" PRIx64 ", %u areas\n",
	       l->region_size, l->features, l->nr_areas);
	for (uint32_t i = 0; i < l->nr_areas; i++)
		printf("vm_probe:   area kind %u index %u offset %" PRIu64 " size %" PRIu64
		       " params %u %u\n",
		       l->areas[i].kind, l->areas[i].index, l->areas[i].offset, l->areas[i].size,
		       l->areas[i].param0, l->areas[i].param1);

	if (check_pattern) {
		const struct vshm_area *a;
		/* volatile: each word is a real load from the BAR, not a cached copy. */
		volatile uint64_t *w = vshm_region_area(d->region, VSHM_AREA_RAW, VM_RAW_PATTERN, &a);

		if (!w || a->size < VM_PATTERN_BYTES) {
			printf("vm_probe: FAIL no RAW area %u of %u bytes\n", VM_RAW_PATTERN,
			       VM_PATTERN_BYTES);
			vivg_close(d);
			return EX_NOAREA;
		}
		for (uint64_t i = 0; i < VM_PATTERN_BYTES / 8; i++) {
			if (w[i] != vm_pattern(i)) {
				printf("vm_probe: FAIL pattern word %" PRIu64 " is 0x%" PRIx64
				       ", want 0x%" PRIx64 "\n",
				       i, w[i], vm_pattern(i));
				vivg_close(d);
				return EX_PATTERN;
			}
		}
		printf("vm_probe: pattern ok (%u words)\n", VM_PATTERN_BYTES / 8);
	}
	if (do_write) {
		const struct vshm_area *a;
		volatile uint64_t *w = vshm_region_area(d->region, VSHM_AREA_RAW, VM_RAW_SCRATCH, &a);

		if (!w || woff + 8 > a->size) {
			printf("vm_probe: FAIL no RAW area %u holding offset %" PRIu64 "\n",
			       VM_RAW_SCRATCH, woff);
			vivg_close(d);
			return EX_NOAREA;
		}
		w[woff / 8] = wval;
		printf("vm_probe: wrote 0x%" PRIx64 " at RAW %u offset %" PRIu64 ", reads back 0x%" PRIx64
		       "\n",
		       wval, VM_RAW_SCRATCH, woff, w[woff / 8]);
	}
	if (expect_id >= 0 && vivg_own_id(d) != expect_id) {
		printf("vm_probe: FAIL own id %d, want %d\n", vivg_own_id(d), expect_id);
		vivg_close(d);
		return EX_DOORBELL;
	}
	for (unsigned i = 0; i < ring_count; i++) {
		ret = vivg_ring(d, ring_peer, ring_vec);
		if (ret) {
			printf("vm_probe: FAIL ring: %s\n", strerror(-ret));
			vivg_close(d);
			return EX_DOORBELL;
		}
	}
	if (ring_count)
		printf("vm_probe: rang peer %u vector %u %u times\n", ring_peer, ring_vec, ring_count);
	vivg_close(d);
	printf("vm_probe: OK\n");
	return EX_OK;
usage:
	_usage(stderr);
	return EX_USAGE;
}
