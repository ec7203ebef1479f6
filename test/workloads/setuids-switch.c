/* setuids' kernel test workload: run as root, it switches to nobody (65534) and back with every
 * call of the setuid family, then drops root for good and tries to get it back (EPERM), printing
 * each call as it made it: its arguments, what it returned, and the ids it had before it (from
 * /proc/self/status, which makes no setuid-family call of its own).
 *   setuids-switch          prints "pid N", waits for a line on stdin, then makes the calls
 * Each call's line: NAME ARGS RET RUID,EUID,SUID,FSUID RGID,EGID,SGID,FSGID (ARGS comma-joined). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOBODY 65534

/* "Uid:\t0\t0\t0\t0" → "0,0,0,0" */
static void ids(const char *key, char *out, size_t size)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    out[0] = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, strlen(key)) != 0)
            continue;
        unsigned a, b, c, d;
        if (sscanf(line + strlen(key), "%u %u %u %u", &a, &b, &c, &d) == 4)
            snprintf(out, size, "%u,%u,%u,%u", a, b, c, d);
        break;
    }
    fclose(f);
}

static void call(const char *name, long nr, int nargs, int a0, int a1, int a2)
{
    char uids[64], gids[64];
    ids("Uid:", uids, sizeof uids);
    ids("Gid:", gids, sizeof gids);
    long r = syscall(nr, a0, a1, a2);
    if (r < 0)
        r = -errno;
    char args[64];
    if (nargs == 1)
        snprintf(args, sizeof args, "%d", a0);
    else if (nargs == 2)
        snprintf(args, sizeof args, "%d,%d", a0, a1);
    else
        snprintf(args, sizeof args, "%d,%d,%d", a0, a1, a2);
    printf("%s %s %ld %s %s\n", name, args, r, uids, gids);
}

int main(void)
{
    printf("pid %d\n", getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 3;
    /* As root: to nobody and back, effective ids only (the real ones stay 0). */
    call("setresgid", SYS_setresgid, 3, -1, NOBODY, -1);
    call("setresuid", SYS_setresuid, 3, -1, NOBODY, -1);
    call("setfsuid", SYS_setfsuid, 1, 0, 0, 0);
    call("setfsuid", SYS_setfsuid, 1, NOBODY, 0, 0);
    call("setresuid", SYS_setresuid, 3, -1, 0, -1);
    call("setresgid", SYS_setresgid, 3, -1, 0, -1);
    call("setgid", SYS_setgid, 1, 0, 0, 0);
    call("setreuid", SYS_setreuid, 2, 0, 0, 0);
    call("setregid", SYS_setregid, 2, NOBODY, NOBODY, 0);
    call("setfsgid", SYS_setfsgid, 1, 0, 0, 0);
    call("setfsgid", SYS_setfsgid, 1, NOBODY, 0, 0);
    /* Root dropped for good: every way back fails (setfsuid says so only by not changing). */
    call("setuid", SYS_setuid, 1, NOBODY, 0, 0);
    call("setuid", SYS_setuid, 1, 0, 0, 0);
    call("setgid", SYS_setgid, 1, 0, 0, 0);
    call("setresuid", SYS_setresuid, 3, -1, 0, -1);
    call("setfsuid", SYS_setfsuid, 1, 0, 0, 0);
    return 0;
}
