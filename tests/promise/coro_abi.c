/* The context switch against its ABI contract, in plain C so that it also
 * runs as an AArch64 binary under qemu-user (CMakeLists.txt): an assembly
 * switch that forgot a callee-saved register passes every test that keeps
 * nothing live across a switch, so here three parties (the thread and two
 * nested coroutines) each keep 12 integers and 8 doubles live across every
 * switch, more than the callee-saved registers hold (x86-64: 6 integer, no
 * vector; AArch64: 10 integer plus fp, and d8-d15), and each must end with
 * what the same arithmetic gives with no switches at all.
 *
 * `coro_abi overflow` instead runs a coroutine off the end of its 32 KiB
 * stack, for the guard page's report (the test matches its stderr). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loopscope/coro.h"

enum { ROUNDS = 2000 };

typedef struct {
  uint64_t ints;
  double doubles;
} mix_result;

/* Every value is live across every sw() call; noinline and the indirect
 * call keep the compiler from seeing through either. */
static __attribute__((noinline)) mix_result mix(uint64_t seed, void (*sw)(void *), void *arg) {
  uint64_t a = seed * 3 + 1, b = seed * 5 + 2, c = seed * 7 + 3, d = seed * 11 + 4;
  uint64_t e = seed * 13 + 5, f = seed * 17 + 6, g = seed * 19 + 7, h = seed * 23 + 8;
  uint64_t i = seed * 29 + 9, j = seed * 31 + 10, k = seed * 37 + 11, l = seed * 41 + 12;
  double p = (double)seed + 0.5, q = (double)seed + 1.25, r = (double)seed + 2.125;
  double s = (double)seed + 3.0625, t = (double)seed + 4.5, u = (double)seed + 5.75;
  double v = (double)seed + 6.875, w = (double)seed + 7.9375;
  for (int round = 0; round < ROUNDS; round++) {
    sw(arg);
    /* neither growing past a double's range nor forgetting old values, so
     * a wrong register shows at the end */
    a = a * 6364136223846793005u + b;
    b = (b ^ c) + (d << 1);
    c = c * 31 + e;
    d = (d >> 3) ^ f;
    e = e + g * 3;
    f = (f ^ h) + 7;
    g = g * 5 + i;
    h = (h << 2) ^ j;
    i = i + k;
    j = (j ^ l) * 3;
    k = k + a;
    l = (l >> 1) + b;
    p += q * 0.001 + 0.5;
    q += r * 0.001 + 0.5;
    r += s * 0.001 + 0.5;
    s += t * 0.001 + 0.5;
    t += u * 0.001 + 0.5;
    u += v * 0.001 + 0.5;
    v += w * 0.001 + 0.5;
    w += p * 0.001 + 0.5;
  }
  return (mix_result){.ints = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l,
                      .doubles = p + q + r + s + t + u + v + w};
}

enum { SEED_THREAD = 1, SEED_OUTER = 1000, SEED_INNER = 1000000 };

static ls_coro *outer, *inner;
static mix_result got_thread, got_outer, got_inner;

static void no_switch(void *arg) { (void)arg; }
static void yield_sw(void *arg) {
  (void)arg;
  ls_coro_yield();
}
static void resume_sw(void *arg) { ls_coro_resume(arg); }
/* The outer coroutine's switch: a nested resume, then its own yield. */
static void resume_inner_then_yield(void *arg) {
  ls_coro_resume(arg);
  ls_coro_yield();
}

static void inner_fn(ls_coro *co, void *arg) {
  (void)co;
  (void)arg;
  got_inner = mix(SEED_INNER, yield_sw, NULL);
}

static void outer_fn(ls_coro *co, void *arg) {
  (void)co;
  (void)arg;
  got_outer = mix(SEED_OUTER, resume_inner_then_yield, inner);
  ls_coro_resume(inner); /* its last round's yield came back; let it finish */
}

static int check(const char *who, mix_result got, uint64_t seed) {
  mix_result want = mix(seed, no_switch, NULL);
  if (got.ints == want.ints && memcmp(&got.doubles, &want.doubles, sizeof got.doubles) == 0)
    return 0;
  fprintf(stderr, "coro_abi: %s: integers %#llx (want %#llx), doubles %.17g (want %.17g)\n",
          who, (unsigned long long)got.ints, (unsigned long long)want.ints, got.doubles,
          want.doubles);
  return 1;
}

static int recurse_deep(unsigned depth) {
  volatile unsigned char pad[1024];
  pad[depth % sizeof pad] = (unsigned char)depth;
  if (depth == UINT32_MAX) /* never: the guard page stops it first */
    return 0;
  int below = recurse_deep(depth + 1);
  return below + pad[depth % sizeof pad]; /* a volatile read after the call: no loop */
}

static void overflow_fn(ls_coro *co, void *arg) {
  (void)co;
  (void)arg;
  recurse_deep(0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
    ls_coro_set_stack_size(32 * 1024);
    ls_coro_resume(ls_coro_new(overflow_fn, NULL));
    fprintf(stderr, "coro_abi: the coroutine came back from overflowing its stack\n");
    return 1;
  }
  inner = ls_coro_new(inner_fn, NULL);
  outer = ls_coro_new(outer_fn, NULL);
  if (!inner || !outer) {
    perror("coro_abi: ls_coro_new");
    return 1;
  }
  got_thread = mix(SEED_THREAD, resume_sw, outer);
  ls_coro_resume(outer); /* the same for the outer coroutine */
  int failed = 0;
  if (!ls_coro_finished(outer) || !ls_coro_finished(inner)) {
    fprintf(stderr, "coro_abi: a coroutine did not finish\n");
    failed = 1;
  }
  failed |= check("thread", got_thread, SEED_THREAD);
  failed |= check("outer coroutine", got_outer, SEED_OUTER);
  failed |= check("inner coroutine", got_inner, SEED_INNER);
  ls_coro_free(outer);
  ls_coro_free(inner);
  if (!failed)
    printf("coro_abi: %d switches on each side, every register value kept\n", ROUNDS);
  return failed;
}
