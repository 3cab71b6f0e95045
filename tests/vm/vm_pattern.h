/* SPDX-License-Identifier: Apache-2.0 */
/* What the VM test's host helper writes and its guest probe checks (tests/vm). */
#ifndef VM_PATTERN_H
#define VM_PATTERN_H

#include <stdint.h>

/* RAW area 0 holds the pattern (host writes, guest reads); RAW area 1 is the guest's to
 * write (the host reads it after the guest powers off). */
#define VM_RAW_PATTERN 0u
#define VM_RAW_SCRATCH 1u
#define VM_PATTERN_BYTES (64u * 1024u)
#define VM_SCRATCH_BYTES 4096u

/* Word i of the pattern: distinct per word and per position, never zero. */
static inline uint64_t vm_pattern(uint64_t i)
{
	return 0x5641434300000000ull ^ ((i + 1) * 0x9e3779b97f4a7c15ull);
}

#endif
