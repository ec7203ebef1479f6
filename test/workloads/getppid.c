/* Makes exactly N getppid() system calls (argv[1]), then exits: ground truth for syscall counters.
 * With "wait" as argv[2] it first reads one line from stdin, so a tracer can learn its pid and set
 * a filter before the calls start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
  }
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  return 0;
}
