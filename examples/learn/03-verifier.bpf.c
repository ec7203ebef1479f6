// Step 3's programs: three the verifier refuses, each beside the same program fixed. Every one
// would compile and run in C; the verifier refuses what it cannot prove safe for every input.
BPF_HASH(counts, u32, u64, 1024);
struct slots { u64 n[4]; };
BPF_ARRAY(slots, struct slots, 1);
BPF_ARRAY(limit, u32, 1);

// 1. A lookup's result can be NULL (no such key): it must be checked before it is used.
int no_null_check(void *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u64 *n = counts.lookup(&pid);
  *n += 1;
  return 0;
}

int null_checked(void *ctx) {
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u64 *n = counts.lookup(&pid);
  if (n) *n += 1;
  return 0;
}

// 2. An index the verifier cannot bound: any u32 times 8 bytes, into a value 4 counters long.
int out_of_bounds(void *ctx) {
  u32 zero = 0;
  struct slots *s = slots.lookup(&zero);
  if (!s) return 0;
  u32 i = bpf_get_prandom_u32();
  s->n[i] += 1;
  return 0;
}

int bounds_checked(void *ctx) {
  u32 zero = 0;
  struct slots *s = slots.lookup(&zero);
  if (!s) return 0;
  u32 i = bpf_get_prandom_u32();
  if (i >= 4) return 0;
  s->n[i] += 1;
  return 0;
}

// 3. A loop whose bound is read from a map: it could run 4 billion times.
int unbounded_loop(void *ctx) {
  u32 zero = 0;
  u32 *max = limit.lookup(&zero);
  if (!max) return 0;
  u64 n = *max;
  u64 sum = 0;
  for (u64 i = 0; i < n; i++) sum += bpf_get_prandom_u32();
  struct slots *s = slots.lookup(&zero);
  if (s) s->n[0] = sum;
  return 0;
}

int bounded_loop(void *ctx) {
  u32 zero = 0;
  u32 *max = limit.lookup(&zero);
  if (!max) return 0;
  u64 n = *max;
  u64 sum = 0;
  // A bound known when compiling: clang copies the body 16 times and no jump goes back, so every
  // kernel's verifier sees 16 rounds at most (the map's n still applies below 16).
#pragma unroll
  for (int i = 0; i < 16; i++)
    if (i < n) sum += bpf_get_prandom_u32();
  struct slots *s = slots.lookup(&zero);
  if (s) s->n[0] = sum;
  return 0;
}
