/* Replaces itself with PATH, with exactly the argv given (argv[0] included) and an empty
 * environment, through the syscall MODE names:
 *   exec_as execve   PATH ARGV0 [ARG...]   execve(PATH, argv, envp)
 *   exec_as execveat PATH ARGV0 [ARG...]   execveat(AT_FDCWD, PATH, argv, envp, 0)
 *   exec_as fexecve  PATH ARGV0 [ARG...]   open(PATH), then execveat(fd, "", …, AT_EMPTY_PATH)
 *   exec_as thread   PATH ARGV0 [ARG...]   execve() called by a second thread, not the leader
 * The PID stays the caller's in every case. A failed exec prints the error and exits 127. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *path;
static char **args;
static char *empty_env[] = { NULL };

static int run(const char *mode)
{
    if (strcmp(mode, "execve") == 0)
        return execve(path, args, empty_env);
    if (strcmp(mode, "execveat") == 0)
        return syscall(SYS_execveat, AT_FDCWD, path, args, empty_env, 0);
    if (strcmp(mode, "fexecve") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        return syscall(SYS_execveat, fd, "", args, empty_env, AT_EMPTY_PATH);
    }
    errno = EINVAL;
    return -1;
}

static void *in_thread(void *unused)
{
    (void)unused;
    execve(path, args, empty_env);
    fprintf(stderr, "exec_as: %s: %s\n", path, strerror(errno));
    _exit(127);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: exec_as execve|execveat|fexecve|thread PATH ARGV0 [ARG...]\n");
        return 2;
    }
    path = argv[2];
    args = &argv[3];
    if (strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, in_thread, NULL);
        pthread_join(t, NULL);
        return 127;
    }
    run(argv[1]);
    fprintf(stderr, "exec_as: %s: %s\n", path, strerror(errno));
    return 127;
}
