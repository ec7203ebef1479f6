/* A slow file system for fileslower's test: one regular file, "slow", whose every read and write
 * the server answers only after sleeping a known time. Files are opened with direct_io, so each
 * read() or write() of a client is one request here (no page cache in between).
 *   fileslower-fuse MOUNTPOINT SLEEP_MS SIZE
 * Runs in the foreground, single-threaded; SIGTERM (or SIGINT) unmounts and exits. As root,
 * libfuse mounts with mount(2) itself: no fusermount3 is needed. */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *FILE_PATH = "/slow";
static long sleep_ms;
static off_t file_size;

static void slow_down(void)
{
    struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void *slow_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->direct_io = 1;
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    return NULL;
}

static int slow_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    memset(st, 0, sizeof *st);
    if (strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (strcmp(path, FILE_PATH) == 0) {
        st->st_mode = S_IFREG | 0666;
        st->st_nlink = 1;
        st->st_size = file_size;
        return 0;
    }
    return -ENOENT;
}

static int slow_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                        enum fuse_readdir_flags flags)
{
    (void)off; (void)fi; (void)flags;
    if (strcmp(path, "/") != 0)
        return -ENOENT;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    fill(buf, FILE_PATH + 1, NULL, 0, 0);
    return 0;
}

static int slow_open(const char *path, struct fuse_file_info *fi)
{
    if (strcmp(path, FILE_PATH) != 0)
        return -ENOENT;
    fi->direct_io = 1;
    return 0;
}

static int slow_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    if (strcmp(path, FILE_PATH) != 0)
        return -ENOENT;
    slow_down();
    if (off >= file_size)
        return 0;
    if ((off_t)size > file_size - off)
        size = file_size - off;
    memset(buf, 'x', size);
    return size;
}

static int slow_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)buf; (void)off; (void)fi;
    if (strcmp(path, FILE_PATH) != 0)
        return -ENOENT;
    slow_down();
    return size;
}

static int slow_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    (void)size; (void)fi;
    return strcmp(path, FILE_PATH) == 0 ? 0 : -ENOENT;
}

static const struct fuse_operations ops = {
    .init = slow_init,
    .getattr = slow_getattr,
    .readdir = slow_readdir,
    .open = slow_open,
    .read = slow_read,
    .write = slow_write,
    .truncate = slow_truncate,
};

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fileslower-fuse MOUNTPOINT SLEEP_MS SIZE\n");
        return 2;
    }
    sleep_ms = atol(argv[2]);
    file_size = atoll(argv[3]);
    char *args[] = { argv[0], "-f", "-s", "-o", "fsname=bpfkit-slow", argv[1], NULL };
    return fuse_main(6, args, &ops, NULL);
}
