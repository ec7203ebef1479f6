/* A typist for bashreadline's tests and bench: runs an interactive program (bash -i, or any
 * readline program) on a pseudo-terminal of its own, so that readline has a real terminal, and
 * types known lines into it.
 *
 *   bashreadline-pty lines N LINE1 ... LINEN CMD [ARG...]
 *     Starts CMD on the pty and waits for its first prompt (readline is then waiting for input),
 *     prints "pid P" (CMD's PID) and waits for a line on stdin, so that a tracer can be started
 *     before or after that prompt. Then types each LINE and its Enter, waiting for the next prompt
 *     before the next line, so each is read by its own readline call. After the last line it
 *     waits for CMD to end and prints "status S". The last line should end CMD ("exit").
 *   bashreadline-pty bench AMOUNT [wait]
 *     bash -i on the pty, made to read AMOUNT lines (or for @SECONDS) of ": bpfkit-bench" in
 *     batches, typed ahead; prints the bench's result line (test/bench/workloads/bench.h):
 *     ops=N elapsed_ns=T ns_per_op=T/N, timed from the first line typed to the last prompt.
 *
 * The prompt is the environment's PS1 (set here to PROMPT when absent), recognised in what the
 * program writes to the terminal. TERM=dumb keeps readline from writing escape sequences (and
 * from turning on bracketed paste); INPUTRC=/dev/null from reading the user's key bindings;
 * HISTFILE=/dev/null keeps the typed lines out of the user's history file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROMPT "BRL-PROMPT> "
#define BENCH_LINE ": bpfkit-bench\n"
#define BATCH 64

static const char *prompt;
static size_t matched;   /* bytes of the prompt seen so far at the end of the output */
static long prompts;     /* prompts seen */
static int master = -1;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bashreadline-pty: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The prompt's first byte appears only at its start, so a mismatch restarts the match there. */
static void scan(const char *buf, ssize_t n)
{
    size_t len = strlen(prompt);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == prompt[matched]) {
            if (++matched == len) {
                prompts++;
                matched = 0;
            }
        } else {
            matched = buf[i] == prompt[0];
        }
    }
}

/* Reads the program's output until `want` prompts have been seen; returns 0 at its end (EIO). */
static int read_until(long want)
{
    char buf[4096];
    while (prompts < want) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (getenv("BASHREADLINE_PTY_ECHO"))
            fwrite(buf, 1, n, stderr);
        scan(buf, n);
    }
    return 1;
}

/* Writes all of buf, reading output meanwhile so the program never blocks on a full terminal. */
static void type_all(const char *buf, size_t len)
{
    char out[4096];
    while (len > 0) {
        struct pollfd p = { .fd = master, .events = POLLIN | POLLOUT };
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p.revents & POLLIN) {
            ssize_t n = read(master, out, sizeof out);
            if (n > 0)
                scan(out, n);
        }
        if (p.revents & POLLOUT) {
            ssize_t n = write(master, buf, len);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                die("write to the terminal");
            if (n > 0) {
                buf += n;
                len -= n;
            }
        }
        if ((p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) {
            fprintf(stderr, "bashreadline-pty: the program ended before its input was typed\n");
            exit(1);
        }
    }
}

static pid_t start(char **argv)
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        die("posix_openpt");
    const char *name = ptsname(master);
    if (!name)
        die("ptsname");
    /* Wide: a dumb terminal's readline scrolls a line longer than the width sideways, and
     * redraws the prompt as it does so. */
    struct winsize ws = { .ws_row = 50, .ws_col = 30000 };
    ioctl(master, TIOCSWINSZ, &ws);
    setenv("PS1", PROMPT, 0);
    setenv("TERM", "dumb", 1);
    setenv("INPUTRC", "/dev/null", 1);
    /* An interactive bash saves its history at exit: never into the user's ~/.bash_history. */
    setenv("HISTFILE", "/dev/null", 1);
    unsetenv("PROMPT_COMMAND");
    prompt = getenv("PS1");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        /* A session of its own with the pty as its controlling terminal: bash's job control
         * wants one, and readline sets its modes on it. */
        setsid();
        int slave = open(name, O_RDWR);
        if (slave < 0)
            _exit(126);
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2)
            close(slave);
        close(master);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid)
{
    read_until(prompts + 1000000000L);   /* to the end of its output */
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void wait_for_go(void)
{
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        exit(3);
}

static int lines_mode(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : -1;
    if (n < 0 || argc < 4 + n) {
        fprintf(stderr, "usage: bashreadline-pty lines N LINE1 ... LINEN CMD [ARG...]\n");
        return 2;
    }
    char **lines = argv + 3;
    pid_t pid = start(argv + 3 + n);
    if (!read_until(1)) {
        fprintf(stderr, "bashreadline-pty: %s ended before its first prompt\n", argv[3 + n]);
        return 1;
    }
    printf("pid %d\n", pid);
    fflush(stdout);
    wait_for_go();
    for (long i = 0; i < n; i++) {
        type_all(lines[i], strlen(lines[i]));
        type_all("\n", 1);
        if (i + 1 < n && !read_until(prompts + 1)) {
            fprintf(stderr, "bashreadline-pty: the program ended after line %ld\n", i + 1);
            return 1;
        }
    }
    printf("status %d\n", finish(pid));
    return 0;
}

static int bench_mode(int argc, char **argv)
{
    const char *amount = argc > 2 ? argv[2] : "";
    long count = 0;
    double seconds = 0;
    if (amount[0] == '@')
        seconds = atof(amount + 1);
    else
        count = atol(amount);
    if (count <= 0 && seconds <= 0) {
        fprintf(stderr, "bad amount %s: a count, or @SECONDS\n", amount);
        return 2;
    }
    char *bash[] = { "bash", "--norc", "--noprofile", "-i", NULL };
    pid_t pid = start(bash);
    if (!read_until(1)) {
        fprintf(stderr, "bashreadline-pty: bash ended before its first prompt\n");
        return 1;
    }
    if (argc > 3 && strcmp(argv[3], "wait") == 0)
        wait_for_go();
    char batch[BATCH * sizeof BENCH_LINE];
    for (int i = 0; i < BATCH; i++)
        memcpy(batch + i * (sizeof BENCH_LINE - 1), BENCH_LINE, sizeof BENCH_LINE - 1);
    long done = 0;
    long long t0 = now_ns();
    while (count > 0 ? done < count : now_ns() - t0 < (long long)(seconds * 1e9)) {
        long k = count > 0 && count - done < BATCH ? count - done : BATCH;
        type_all(batch, k * (sizeof BENCH_LINE - 1));
        if (!read_until(prompts + k)) {
            fprintf(stderr, "bashreadline-pty: bash ended during the run\n");
            return 1;
        }
        done += k;
    }
    long long elapsed = now_ns() - t0;
    type_all("exit\n", 5);
    finish(pid);
    printf("ops=%ld elapsed_ns=%lld ns_per_op=%.1f\n", done, elapsed, (double)elapsed / done);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && strcmp(argv[1], "lines") == 0)
        return lines_mode(argc, argv);
    if (argc > 1 && strcmp(argv[1], "bench") == 0)
        return bench_mode(argc, argv);
    fprintf(stderr, "usage: bashreadline-pty lines N LINE... CMD [ARG...] | bench AMOUNT [wait]\n");
    return 2;
}
