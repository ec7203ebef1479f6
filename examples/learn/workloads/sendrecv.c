// sendrecv: the known workload of steps 2 and 10. Over a Unix datagram socketpair it runs
// ROUNDS rounds (default 6), INTERVAL_MS apart (default 500): in round r, r sendmsg() calls of
// 100*r bytes each, r recvmsg() calls that receive them, and one recvmsg(MSG_DONTWAIT) on the
// empty socket, which fails with EAGAIN (a call that moves no bytes). It ends by printing what
// it did, from the return values it got:
//   sendmsg=21 recvmsg=27 bytes_sent=9100 bytes_recv=9100
// Usage: sendrecv [ROUNDS [INTERVAL_MS]]
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

static long sends, recvs, sent, received;

static void transfer(int fd, size_t len, int send, int flags) {
  static char buf[4096];
  struct iovec iov = { .iov_base = buf, .iov_len = send ? len : sizeof(buf) };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n = send ? sendmsg(fd, &msg, flags) : recvmsg(fd, &msg, flags);
  if (send) sends++; else recvs++;
  if (n < 0 && !(errno == EAGAIN && (flags & MSG_DONTWAIT))) { perror(send ? "sendmsg" : "recvmsg"); exit(1); }
  if (n > 0) { if (send) sent += n; else received += n; }
}

int main(int argc, char **argv) {
  // Dies with the step that started it, however the step ends.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int rounds = argc > 1 ? atoi(argv[1]) : 6, interval = argc > 2 ? atoi(argv[2]) : 500;
  if (rounds < 1 || rounds > 30 || interval < 0 || interval > 10000) {
    fprintf(stderr, "usage: sendrecv [ROUNDS 1-30 [INTERVAL_MS 0-10000]]\n");
    return 2;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) { perror("socketpair"); return 1; }
  for (int r = 1; r <= rounds; r++) {
    for (int i = 0; i < r; i++) transfer(sv[0], 100 * r, 1, 0);
    for (int i = 0; i < r; i++) transfer(sv[1], 0, 0, 0);
    transfer(sv[1], 0, 0, MSG_DONTWAIT);
    if (r < rounds) nanosleep(&(struct timespec){ interval / 1000, (interval % 1000) * 1000000L }, NULL);
  }
  printf("sendmsg=%ld recvmsg=%ld bytes_sent=%ld bytes_recv=%ld\n", sends, recvs, sent, received);
  return 0;
}
