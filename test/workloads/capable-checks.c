/* capable's test workload: capability checks whose number, capability, process and verdict are
 * known exactly.
 *
 *   capable-checks exec N K FILE [UID]
 *       runs `nice -n -5 true` N times and `chown OWNER FILE` K times, each in a child of its own,
 *       and prints "nice PID STATUS" / "chown PID STATUS" for each. Each nice is one CAP_SYS_NICE
 *       check (lowering the nice value past RLIMIT_NICE, which is set to 0 here), each chown one
 *       CAP_CHOWN check (a new owner for the file: as root, 65534 and 0 in turn; as UID, 0).
 *   capable-checks self N K FILE [UID]
 *       makes the same checks itself: N setpriority(-5) calls (each followed by one back to 0,
 *       which raises the value and checks nothing) and K fchown() calls; prints "done" with what
 *       the calls returned, then waits for the end of stdin (so that a tracer can still read its
 *       memory maps to name its user stacks).
 *
 * With UID the children (exec) or the process (self) run as UID/GID UID with no groups: FILE is
 * given to UID first, and every check is denied. Either mode prints "ready PID" and waits for a
 * line on stdin before its checks, so a tracer can be started (and filtered on PID) meanwhile. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int as_uid = -1;

static void drop(void)
{
    if (as_uid < 0)
        return;
    if (setgroups(0, NULL) || setgid(as_uid) || setuid(as_uid)) {
        perror("drop privileges");
        _exit(4);
    }
}

static int run(char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        drop();
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        exit(1);
    printf("%s %d %d\n", argv[0], pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return pid;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: capable-checks exec|self N K FILE [UID]\n");
        return 2;
    }
    int self = strcmp(argv[1], "self") == 0;
    int n = atoi(argv[2]), k = atoi(argv[3]);
    char *file = argv[4];
    if (argc > 5)
        as_uid = atoi(argv[5]);

    /* Without this a raised RLIMIT_NICE would let nice -5 through with no capability check. */
    struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_NICE, &none)) {
        perror("setrlimit");
        return 1;
    }
    int fd = open(file, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || (as_uid >= 0 && fchown(fd, as_uid, as_uid))) {
        perror(file);
        return 1;
    }
    if (self)
        drop();
    printf("ready %d\n", getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 3;

    if (!self) {
        for (int i = 0; i < n; i++) {
            char *nice[] = { "nice", "-n", "-5", "true", NULL };
            run(nice);
        }
        for (int i = 0; i < k; i++) {
            char *chown[] = { "chown", as_uid >= 0 || i % 2 ? "0" : "65534", file, NULL };
            run(chown);
        }
        printf("done\n");
        return 0;
    }

    int nice_ok = 0, nice_denied = 0, chown_ok = 0, chown_denied = 0;
    for (int i = 0; i < n; i++) {
        if (setpriority(PRIO_PROCESS, 0, -5) == 0)
            nice_ok++;
        else if (errno == EACCES || errno == EPERM)
            nice_denied++;
        setpriority(PRIO_PROCESS, 0, 0);
    }
    for (int i = 0; i < k; i++) {
        uid_t owner = as_uid >= 0 || i % 2 ? 0 : 65534;
        if (fchown(fd, owner, -1) == 0)
            chown_ok++;
        else if (errno == EPERM)
            chown_denied++;
    }
    printf("done nice_ok=%d nice_denied=%d chown_ok=%d chown_denied=%d\n", nice_ok, nice_denied, chown_ok, chown_denied);
    fflush(stdout);
    while (fgets(line, sizeof line, stdin))
        ;
    return 0;
}
