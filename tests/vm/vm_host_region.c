/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host side of the VM tests: creates a region file (under /dev/shm) for QEMU's
 * memory-backend-file with a real header, a pattern in RAW area 0 and an empty RAW area 1,
 * optionally damaged; later reads back the word the guest wrote.
 *
 *   vm_host_region create PATH [--size BYTES] [--corrupt magic|version|size]
 *   vm_host_region expect PATH OFF=VALUE     (RAW area 1, exit 0 if it holds VALUE)
 *   vm_host_region serve SOCK PATH RINGS TIMEOUT_MS
 *       a one-client ivshmem server (vmm-glue/ivshmem_proto) for QEMU's ivshmem-doorbell:
 *       greets the client as peer 1 with the region file as shared memory and one doorbell
 *       for the host (peer 0, vector 0); exits 0 once that doorbell counted RINGS rings and
 *       the client left, 1 on a wrong count or timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/region.h"
#include "tests/vm/vm_pattern.h"
#include "vmm-glue/ivshmem_proto.h"

/* Kept until exit on purpose: closing a created FILE region unlinks it, and the file must
 * outlive this process for QEMU. A global keeps LeakSanitizer quiet. */
static struct vshm_region *g_region;

static int _usage(void)
{
	fprintf(stderr, "usage: vm_host_region create PATH [--size BYTES] [--corrupt magic|version|size]\n"
			"       vm_host_region expect PATH OFF=VALUE\n"
			"       vm_host_region serve SOCK PATH RINGS TIMEOUT_MS\n");
	return 2;
}

static int _create(int argc, char **argv)
{
	const char *path = argv[0], *corrupt = NULL;
	uint64_t size = 1u << 20;
	struct vshm_layout l;
	struct vshm_err err = {{0}};
	struct vshm_opts o = {0};
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--corrupt") && i + 1 < argc)
			corrupt = argv[++i];
		else
			return _usage();
	}
	vshm_layout_init(&l);
	if (vshm_layout_add(&l, VSHM_AREA_RAW, VM_RAW_PATTERN, VM_PATTERN_BYTES, 0, 0) ||
	    vshm_layout_add(&l, VSHM_AREA_RAW, VM_RAW_SCRATCH, VM_SCRATCH_BYTES, 0, 0)) {
		fprintf(stderr, "vm_host_region: layout failed\n");
		return 1;
	}
	o.size = size;
	o.backing = VSHM_BACK_FILE;
	o.path = path;
	o.numa_cpu = -1;
	o.pow2 = 1; /* ivshmem's BAR2 must be a power of two */
	ret = vshm_region_create(&o, &l, &g_region, &err);
	if (ret) {
		fprintf(stderr, "vm_host_region: create %s: %s\n", path, err.msg);
		return 1;
	}
	uint64_t *w = vshm_region_area(g_region, VSHM_AREA_RAW, VM_RAW_PATTERN, NULL);
	for (uint64_t i = 0; i < VM_PATTERN_BYTES / 8; i++)
		w[i] = vm_pattern(i);
	struct vshm_header *h = vshm_region_header(g_region);
	if (corrupt && !strcmp(corrupt, "magic"))
		h->magic ^= 0xff;
	else if (corrupt && !strcmp(corrupt, "version"))
		h->version = VSHM_VERSION + 1;
	else if (corrupt && !strcmp(corrupt, "size"))
		h->region_size = vshm_region_size(g_region) * 2; /* more than the BAR holds */
	else if (corrupt)
		return _usage();
	printf("vm_host_region: %s: %" PRIu64 " bytes%s%s\n", path, vshm_region_size(g_region),
	       corrupt ? ", corrupted " : "", corrupt ? corrupt : "");
	return 0;
}

static int _expect(const char *path, const char *spec)
{
	char *eq = strchr(spec, '='), *end;
	struct vshm_region *r;
	struct vshm_err err = {{0}};
	const struct vshm_area *a;
	uint64_t off, want;
	int ret;

	if (!eq)
		return _usage();
	off = strtoull(spec, &end, 0);
	want = strtoull(eq + 1, NULL, 0);
	if (end != eq || off % 8)
		return _usage();
	ret = vshm_region_attach_path(path, &r, &err);
	if (ret) {
		fprintf(stderr, "vm_host_region: attach %s: %s\n", path, err.msg);
		return 1;
	}
	volatile uint64_t *w = vshm_region_area(r, VSHM_AREA_RAW, VM_RAW_SCRATCH, &a);
	if (!w || off + 8 > a->size) {
		fprintf(stderr, "vm_host_region: no scratch word at %" PRIu64 "\n", off);
		vshm_region_close(r);
		return 1;
	}
	uint64_t got = w[off / 8];
	vshm_region_close(r);
	if (got != want) {
		fprintf(stderr, "vm_host_region: RAW %u offset %" PRIu64 " holds 0x%" PRIx64
				", want 0x%" PRIx64 "\n",
			VM_RAW_SCRATCH, off, got, want);
		return 1;
	}
	printf("vm_host_region: RAW %u offset %" PRIu64 " holds 0x%" PRIx64 " as expected\n",
	       VM_RAW_SCRATCH, off, got);
	return 0;
}

static int64_t _now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int _serve(const char *sock, const char *path, uint64_t want, int timeout_ms)
{
	int64_t end = _now_ms() + timeout_ms;
	struct vivs_peer host = {0};
	uint64_t count = 0;
	int ls, conn, shm, own, ret, gone = 0;

	shm = open(path, O_RDWR | O_CLOEXEC);
	if (shm < 0) {
		fprintf(stderr, "vm_host_region: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (unsigned v = 0; v < VIVS_MAX_VECTORS; v++)
		host.fds[v] = -1;
	host.id = VIVS_HOST_PEER;
	/* Non-blocking: QEMU sets O_NONBLOCK on its copy anyway, and the flag is shared. */
	host.fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	own = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ls = vivs_listen(sock, 1);
	if (host.fds[0] < 0 || own < 0 || ls < 0) {
		fprintf(stderr, "vm_host_region: cannot listen on %s: %s\n", sock,
			ls < 0 ? vivs_strerror(ls) : strerror(errno));
		return 1;
	}
	conn = vivs_accept(ls, timeout_ms);
	if (conn < 0) {
		fprintf(stderr, "vm_host_region: no client on %s: %s\n", sock, vivs_strerror(conn));
		return 1;
	}
	ret = vivs_server_greet(conn, 1, shm, &host, 1, &own, 1);
	if (ret) {
		fprintf(stderr, "vm_host_region: greeting failed: %s\n", vivs_strerror(ret));
		return 1;
	}
	/* Count rings until the client (QEMU) leaves, which it does when the guest powers off:
	 * so extra rings are seen too, not only the first `want`. */
	while (!gone) {
		struct pollfd p[2] = {{host.fds[0], POLLIN, 0}, {conn, POLLIN, 0}};
		int64_t left = end - _now_ms();

		if (left <= 0) {
			fprintf(stderr, "vm_host_region: timed out with %" PRIu64 " of %" PRIu64 " rings\n",
				count, want);
			return 1;
		}
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & POLLIN) {
			uint64_t n;

			if (read(host.fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
				count += n; /* EAGAIN: another reader took it first; poll again */
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			char b;

			/* The server never receives anything: readable means EOF. */
			if (read(conn, &b, 1) <= 0)
				gone = 1;
		}
	}
	/* Rings written just before the client left are in the counter already. */
	{
		uint64_t n;

		if (read(host.fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
			count += n;
	}
	printf("vm_host_region: doorbell rang %" PRIu64 " times (want %" PRIu64 ")\n", count, want);
	close(conn);
	close(ls);
	unlink(sock);
	close(host.fds[0]);
	close(own);
	close(shm);
	return count == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "serve"))
		return _serve(argv[2], argv[3], strtoull(argv[4], NULL, 0), atoi(argv[5]));
	if (argc >= 3 && !strcmp(argv[1], "create"))
		return _create(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "expect"))
		return _expect(argv[2], argv[3]);
	return _usage();
}
