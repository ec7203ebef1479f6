/* Reading a string from user memory with one answer on every kernel.
 *
 * bpf_probe_read_user_str() returns the length read including the NUL, or a negative error. Before
 * Linux 6.5 an empty string read as 0, with no NUL written (strncpy_from_user_nofault() counted
 * the NUL only after a non-empty string): Debian 12's 6.1 does this, and a caller taking 0 for a
 * fault would show `move_mount(4, "", ...)` with a pointer instead of "". Here an empty string is
 * 1 byte, a NUL, everywhere.
 */
#ifndef BPFKIT_USER_STR_H
#define BPFKIT_USER_STR_H

static __always_inline long bpfkit_read_user_str(char *dst, u32 size, const void *src)
{
    long n = bpf_probe_read_user_str(dst, size, src);
    if (n == 0) {
        dst[0] = 0;
        n = 1;
    }
    return n;
}

#endif
