// secwatch's workload: each step a child whose PID is printed, so that the test knows exactly
// which process should raise which alert.
//
//   secwatch-steps run     reads steps from stdin, one a line: NAME<TAB>ARG0<TAB>ARG1…; ARG0 is a
//                          program to exec (stdout to /dev/null) or @MODE (below), run in the child.
//                          After each: "step NAME PID exit CODE" or "step NAME PID signal SIG";
//                          a grandchild that matters: "sub NAME PID". An exec that fails exits
//                          200+errno (EPERM: 201). Ends with "done".
//   secwatch-steps opens   prints "ready PID", then reads lines "PATH N r|w" and opens PATH N
//                          times itself (r: O_RDONLY, w: O_WRONLY|O_CREAT), then "done OPENS".
//
// Modes: @memfd (fexecve of /bin/true's bytes from a memfd named bpfkit-secwatch), @sock-stdio
// (a loopback TCP connection dup2'd onto fd 1), @pipe-stdio (a pipe and an AF_UNIX socketpair onto
// fd 1, an AF_INET socket onto fd 10), @ptrace-attach (PTRACE_ATTACH of its own sleeping child),
// @traceme (a child asks PTRACE_TRACEME), @server NAME (renames itself NAME, runs sh -c true),
// @finit FILE (finit_module on FILE, which is no module: fails).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void say(const char *fmt, const char *name, long pid) {
  printf(fmt, name, pid);
  fflush(stdout);
}

static int memfd_exec(void) {
  int fd = memfd_create("bpfkit-secwatch", 0);
  int in = open("/bin/true", O_RDONLY);
  if (fd < 0 || in < 0) return 2;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(fd, buf, n) != n) return 3;
  close(in);
  char *argv[] = {"true", NULL};
  fexecve(fd, argv, environ);
  return 200 + errno;
}

static int sock_stdio(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) return 2;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) return 3;
  int s = accept(l, NULL, NULL);
  if (s < 0) return 4;
  if (dup2(c, 1) != 1) return 5;
  return 0;
}

static int pipe_stdio(void) {
  int p[2], sv[2];
  if (pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 2;
  int inet = socket(AF_INET, SOCK_STREAM, 0);
  if (inet < 0) return 3;
  if (dup2(p[1], 1) != 1 || dup2(sv[0], 1) != 1 || dup2(inet, 10) != 10) return 4;
  return 0;
}

static int ptrace_attach(void) {
  pid_t target = fork();
  if (target == 0) {
    for (;;) pause();
  }
  say("sub %s %ld\n", "ptrace-target", target);
  int status, rc = 0;
  if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0) rc = 2;
  else if (waitpid(target, &status, 0) != target || !WIFSTOPPED(status)) rc = 3;
  else if (ptrace(PTRACE_DETACH, target, NULL, NULL) != 0) rc = 4;
  kill(target, SIGKILL);
  waitpid(target, &status, 0);
  return rc;
}

static int traceme(void) {
  pid_t child = fork();
  if (child == 0) _exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : 1);
  say("sub %s %ld\n", "tracee", child);
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static int server(const char *name) {
  if (prctl(PR_SET_NAME, name, 0, 0, 0)) return 2;
  pid_t child = fork();
  if (child == 0) {
    execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
    _exit(200 + errno);
  }
  say("sub %s %ld\n", "shell", child);
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static int finit(const char *file) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) return 2;
  // Not a module: the call fails (ENOEXEC or the like); the hook sees it first.
  return syscall(SYS_finit_module, fd, "", 0) == 0 ? 3 : 0;
}

static int mode(char **argv) {
  const char *m = argv[0] + 1;
  if (!strcmp(m, "memfd")) return memfd_exec();
  if (!strcmp(m, "sock-stdio")) return sock_stdio();
  if (!strcmp(m, "pipe-stdio")) return pipe_stdio();
  if (!strcmp(m, "ptrace-attach")) return ptrace_attach();
  if (!strcmp(m, "traceme")) return traceme();
  if (!strcmp(m, "server") && argv[1]) return server(argv[1]);
  if (!strcmp(m, "finit") && argv[1]) return finit(argv[1]);
  return 99;
}

static int run(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0) continue;
    char *argv[32];
    int argc = 0;
    for (char *tok = strtok(line, "\t"); tok && argc < 31; tok = strtok(NULL, "\t")) argv[argc++] = tok;
    argv[argc] = NULL;
    if (argc < 2) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      if (argv[1][0] == '@') _exit(mode(argv + 1));
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      close(null);
      execv(argv[1], argv + 1);
      _exit(200 + errno);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) printf("step %s %ld signal %d\n", argv[0], (long)pid, WTERMSIG(status));
    else printf("step %s %ld exit %d\n", argv[0], (long)pid, WEXITSTATUS(status));
    fflush(stdout);
  }
  printf("done\n");
  return 0;
}

static int opens(void) {
  printf("ready %ld\n", (long)getpid());
  fflush(stdout);
  char path[4096], how[8];
  long count, total = 0;
  while (scanf("%4095s %ld %7s", path, &count, how) == 3) {
    int flags = how[0] == 'w' ? O_WRONLY | O_CREAT : O_RDONLY;
    for (long i = 0; i < count; i++) {
      int fd = open(path, flags, 0644);
      if (fd < 0) return 2;
      close(fd);
      total++;
    }
  }
  printf("done %ld\n", total);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "run")) return run();
  if (argc == 2 && !strcmp(argv[1], "opens")) return opens();
  fprintf(stderr, "usage: secwatch-steps run|opens\n");
  return 1;
}
