/* deploy_matmul_i8.c - runs an i8 x i8 -> i32 matmul compiled with
 * `hatc compile W.mlir --name mm -o DIR/` through mm.h alone (on a CPU with
 * AMX its kernel uses the tiles, which the library asks Linux for when it
 * is loaded), and checks every element of C against an exact reference.
 *
 *   deploy_matmul_i8 NUM_THREADS [RUNS]
 *
 * With RUNS, two threads run at once, each with its own context, RUNS runs
 * each. Prints PASS and exits 0 when every element matched.
 */
#include "mm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int threads, runs = 1;

static long run_once(mm_context *ctx, uint64_t seed) {
  const int64_t *a = mm_input_shape(0), *b = mm_input_shape(1);
  int64_t m = a[0], k = a[1], n = b[1];
  int8_t *A = malloc(mm_input_bytes(0)), *B = malloc(mm_input_bytes(1));
  int32_t *C = malloc(mm_output_bytes(0));
  for (int64_t i = 0; i < m * k + k * n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    int8_t v = (int8_t)(seed >> 56);
    if (i < m * k)
      A[i] = v;
    else
      B[i - m * k] = v;
  }
  memset(C, 0x5a, mm_output_bytes(0));
  const void *inputs[] = {A, B};
  void *outputs[] = {C};
  long bad = 0;
  if (mm_run(ctx, inputs, outputs) != 0) {
    fprintf(stderr, "deploy_matmul_i8: %s\n", mm_last_error(ctx));
    bad = 1;
  }
  for (int64_t i = 0; i < m && !bad; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t ref = 0;
      for (int64_t p = 0; p < k; ++p)
        ref += (int32_t)A[i * k + p] * B[p * n + j];
      bad += C[i * n + j] != ref;
    }
  free(A);
  free(B);
  free(C);
  return bad;
}

static void *work(void *arg) {
  long *bad = arg;
  mm_context *ctx = mm_create(threads);
  for (int r = 0; r < runs; ++r)
    *bad += run_once(ctx, (uint64_t)(uintptr_t)bad + (uint64_t)r);
  mm_destroy(ctx);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  threads = atoi(argv[1]);
  long bad[2] = {0, 0};
  if (argc > 2) {
    runs = atoi(argv[2]);
    pthread_t t[2];
    for (int i = 0; i < 2; ++i)
      pthread_create(&t[i], NULL, work, &bad[i]);
    for (int i = 0; i < 2; ++i)
      pthread_join(t[i], NULL);
  } else {
    work(&bad[0]);
  }
  long total = bad[0] + bad[1];
  printf("%s: %ld mismatches\n", total ? "FAIL" : "PASS", total);
  return total ? 1 : 0;
}
