/* Starts exactly N processes as fast as it can: WORKERS processes each fork and exec PATH with
 * the given arguments (argv[0] = PATH), one at a time, waiting for each. Ground truth for exec
 * tracers under load. Exits 0 only if all N children ran and exited 0.
 *   execburst N WORKERS PATH [ARG...] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_many(long count, char **argv)
{
    int failures = 0;
    for (long i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execv(argv[0], argv);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failures++;
    }
    return failures;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: execburst N WORKERS PATH [ARG...]\n");
        return 2;
    }
    long n = atol(argv[1]);
    long workers = atol(argv[2]);
    if (n < 0 || workers < 1)
        return 2;
    for (long w = 0; w < workers; w++) {
        long share = n / workers + (w < n % workers ? 1 : 0);
        if (fork() == 0)
            _exit(run_many(share, &argv[3]) ? 1 : 0);
    }
    int failed = 0, status;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    return failed;
}
