/* events-open N PATH: N openat() calls of PATH, each closed again, for step 6.
 * It says "ready" once the loader is done (the loader opens files of its own), waits for one
 * byte on stdin, and then makes exactly N openat calls and prints nothing more, so that a
 * program filtered to its pid sees N openat entries and nothing else of the kind. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: events-open N PATH\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    if (n < 1 || n > 10000000) {
        fprintf(stderr, "events-open: N must be 1-10000000\n");
        return 2;
    }
    if (write(1, "ready\n", 6) != 6)
        return 1;
    char go;
    if (read(0, &go, 1) != 1)
        return 1;
    for (long i = 0; i < n; i++) {
        int fd = openat(AT_FDCWD, argv[2], O_RDONLY);
        if (fd < 0) {
            perror("events-open: openat");
            return 1;
        }
        close(fd);
    }
    return 0;
}
