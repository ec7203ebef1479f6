/* A program that reads lines through the system's shared libreadline, as a bash that links it
 * would (bashreadline's -s tests), under the comm given:
 *
 *   bashreadline-lib COMM
 *
 * names itself COMM (prctl PR_SET_NAME: "bash" to pass for one, anything else to be a program
 * bashreadline must leave out), then calls readline(PS1) until end of input or a line "exit".
 * The library is opened at run time, so no readline headers are needed to build this. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bashreadline-lib COMM\n");
        return 2;
    }
    void *lib = dlopen("libreadline.so.8", RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "bashreadline-lib: %s\n", dlerror());
        return 1;
    }
    char *(*readline)(const char *) = (char *(*)(const char *))dlsym(lib, "readline");
    if (!readline) {
        fprintf(stderr, "bashreadline-lib: no readline in libreadline.so.8\n");
        return 1;
    }
    prctl(PR_SET_NAME, argv[1], 0, 0, 0);
    const char *prompt = getenv("PS1") ? getenv("PS1") : "> ";
    for (;;) {
        char *line = readline(prompt);
        if (!line)
            break;
        int last = strcmp(line, "exit") == 0;
        free(line);
        if (last)
            break;
    }
    return 0;
}
