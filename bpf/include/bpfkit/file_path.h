/* The absolute path of a file, built in the kernel from its dentry and mount: the walk d_path()
 * makes, which tracepoint programs may not call. Each dentry gives its name and its parent; at
 * the root of a mount the walk continues from the dentry the mount sits on, in the parent mount,
 * until the root of the mount namespace (whose parent mount is itself). A path is built from its
 * end: the last name first, each parent's name written before it.
 *
 * A file opened by a relative name resolves to the same path as by its absolute one, which is why
 * a security rule on "/dev/shm/" must see this and not the string the caller passed. What it does
 * not do: "(deleted)" is not appended; a path deeper than BPFKIT_PATH_DEPTH names (mount crossings
 * included) or longer than BPFKIT_PATH_MAX - 1 bytes is cut at its start and marked truncated;
 * chroot is not honoured (the path is the one seen from the mount namespace's root); a file on a
 * pseudo file system (a memfd, a pipe, a socket) is "/" and its name ("/memfd:NAME").
 *
 * Needs these offsets from the running kernel's BTF (lib/kernel/offsets.ts filePathOffsets):
 *   DENTRY_PARENT_OFFSET, DENTRY_NAME_LEN_OFFSET, DENTRY_NAME_OFFSET   dentry.d_parent, d_name.len, d_name.name
 *   MOUNT_MNT_OFFSET, MOUNT_PARENT_OFFSET, MOUNT_MOUNTPOINT_OFFSET     mount.mnt (the vfsmount in it), mnt_parent, mnt_mountpoint
 *   VFSMOUNT_ROOT_OFFSET                                               vfsmount.mnt_root
 *   PATH_MNT_OFFSET, PATH_DENTRY_OFFSET                                struct path's mnt and dentry
 *   FILE_PATH_OFFSET                                                   file.f_path */
#ifndef BPFKIT_FILE_PATH_H
#define BPFKIT_FILE_PATH_H

#if !defined(DENTRY_PARENT_OFFSET) || !defined(MOUNT_MNT_OFFSET) || !defined(VFSMOUNT_ROOT_OFFSET) || !defined(FILE_PATH_OFFSET)
#error "include bpfkit/file_path.h only with the offsets from lib/kernel/offsets.ts filePathOffsets()"
#endif

#define BPFKIT_PATH_MAX 256
#define BPFKIT_PATH_DEPTH 32

/* The work area: a path is built right-aligned to byte PATH_END (its NUL) in the first half, and
 * the second half holds what is copied in before it (a relative name). Offsets are masked to
 * the buffer's size and lengths to a name's, so that the verifier can bound every write. */
#define BPFKIT_PATH_END (2 * BPFKIT_PATH_MAX - 1)
#define BPFKIT_PATH_FIRST (BPFKIT_PATH_END - (BPFKIT_PATH_MAX - 1))
struct bpfkit_path_work {
    char buf[4 * BPFKIT_PATH_MAX];
    u32 start;      /* the path is buf[start .. PATH_END), NUL at PATH_END */
    u32 truncated;
};

static __always_inline const void *bpfkit_path_ptr(const void *base, unsigned long offset)
{
    const void *value = 0;
    if (base)
        bpf_probe_read_kernel(&value, sizeof(value), (const char *)base + offset);
    return value;
}

/* Writes `len` bytes from kernel memory before w->start; false when they do not fit. */
static __always_inline bool bpfkit_path_put(struct bpfkit_path_work *w, const char *src, u32 len)
{
    if (len > BPFKIT_PATH_MAX - 1 || w->start < BPFKIT_PATH_FIRST + len) {
        w->truncated = 1;
        return false;
    }
    w->start -= len;
    bpf_probe_read_kernel(&w->buf[w->start & (2 * BPFKIT_PATH_MAX - 1)], len & (BPFKIT_PATH_MAX - 1), src);
    return true;
}

static __always_inline bool bpfkit_path_slash(struct bpfkit_path_work *w)
{
    if (w->start <= BPFKIT_PATH_FIRST) {
        w->truncated = 1;
        return false;
    }
    w->start -= 1;
    w->buf[w->start & (2 * BPFKIT_PATH_MAX - 1)] = '/';
    return true;
}

/* Prepends the path of (dentry, vfsmount) to what w holds: "/a/b" before "/c" gives "/a/b/c". */
static __always_inline void bpfkit_path_prepend(struct bpfkit_path_work *w, const void *dentry, const void *vfsmount)
{
    const char *mnt = (const char *)vfsmount - MOUNT_MNT_OFFSET;
    const void *mnt_root = bpfkit_path_ptr(vfsmount, VFSMOUNT_ROOT_OFFSET);
    for (int i = 0; i < BPFKIT_PATH_DEPTH && dentry; i++) {
        if (dentry == mnt_root) {
            const char *parent_mnt = bpfkit_path_ptr(mnt, MOUNT_PARENT_OFFSET);
            if (!parent_mnt || parent_mnt == mnt)
                break;
            dentry = bpfkit_path_ptr(mnt, MOUNT_MOUNTPOINT_OFFSET);
            mnt = parent_mnt;
            mnt_root = bpfkit_path_ptr(mnt + MOUNT_MNT_OFFSET, VFSMOUNT_ROOT_OFFSET);
            continue;
        }
        const void *parent = bpfkit_path_ptr(dentry, DENTRY_PARENT_OFFSET);
        u32 len = 0;
        bpf_probe_read_kernel(&len, sizeof(len), (const char *)dentry + DENTRY_NAME_LEN_OFFSET);
        const char *name = bpfkit_path_ptr(dentry, DENTRY_NAME_OFFSET);
        if (!bpfkit_path_put(w, name, len) || !bpfkit_path_slash(w))
            return;
        /* A pseudo file's dentry is its own parent: its one name is the whole path. */
        if (parent == dentry)
            return;
        dentry = parent;
        if (i == BPFKIT_PATH_DEPTH - 1)
            w->truncated = 1;
    }
    if (w->start == BPFKIT_PATH_END)
        bpfkit_path_slash(w);
}

/* Starts an empty path in w. */
static __always_inline void bpfkit_path_reset(struct bpfkit_path_work *w)
{
    w->start = BPFKIT_PATH_END;
    w->truncated = 0;
    w->buf[BPFKIT_PATH_END] = 0;
}

/* The path of an open file (struct file *) into w. */
static __always_inline void bpfkit_file_path(struct bpfkit_path_work *w, const void *file)
{
    bpfkit_path_reset(w);
    if (!file)
        return;
    const char *path = (const char *)file + FILE_PATH_OFFSET;
    bpfkit_path_prepend(w, bpfkit_path_ptr(path, PATH_DENTRY_OFFSET), bpfkit_path_ptr(path, PATH_MNT_OFFSET));
}

/* The path of a struct path * (a task's working directory, fs_struct.pwd) into w. */
static __always_inline void bpfkit_struct_path(struct bpfkit_path_work *w, const void *path)
{
    bpfkit_path_reset(w);
    if (path)
        bpfkit_path_prepend(w, bpfkit_path_ptr(path, PATH_DENTRY_OFFSET), bpfkit_path_ptr(path, PATH_MNT_OFFSET));
}

/* The length of the path w holds, without its NUL. */
static __always_inline u32 bpfkit_path_len(const struct bpfkit_path_work *w)
{
    return BPFKIT_PATH_END - w->start;
}

#endif /* BPFKIT_FILE_PATH_H */
