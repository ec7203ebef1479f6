/* The mountsnoop workload: in a private mount namespace of its own, AMOUNT times mount a tmpfs
 * on a temporary directory and unmount it (N, or @SECONDS: see bench.h). One op is one
 * mount() and one umount2(), both checked; a failure ends the run with status 1.
 *   mountloop AMOUNT [wait] */
#include "bench.h"
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mountloop AMOUNT [wait]\n");
        return 2;
    }
    struct amount a = parse_amount(argv[1]);
    char dir[] = "/tmp/bpfkit-mountloop-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* Private: nothing mounted here propagates to (or is seen by) the rest of the machine. */
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        perror("unshare/mount");
        rmdir(dir);
        return 1;
    }
    wait_for_go(argc, argv, 2);
    long n = 0;
    int status = 0;
    long long start = now_ns();
    while (amount_more(&a, n, start)) {
        if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0 || umount2(dir, 0) != 0) {
            perror("mount/umount");
            status = 1;
            break;
        }
        n++;
    }
    long long elapsed = now_ns() - start;
    rmdir(dir);
    report(n, elapsed);
    return status;
}
