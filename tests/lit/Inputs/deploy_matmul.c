/* deploy_matmul.c - runs a matmul workload compiled with
 * `hatc compile W.mlir --name mm -o DIR/` through mm.h alone, and checks
 * C = A B against a double-precision reference computed here.
 *
 *   deploy_matmul NUM_THREADS ROW_STEP [RUNS]
 *
 * Inputs come from a seeded generator (shapes from the API); every ROW_STEP-th
 * row of C is checked (|c - ref| <= 1e-3 |ref| + 1e-4). With RUNS two
 * threads run at once, each with its own context and inputs, RUNS runs
 * each. Prints PASS and exits 0 when every checked element matched.
 */
#include "mm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int threads, row_step, runs;

static float next(uint64_t *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((*state >> 40) & 0xffff) / 32768.0f - 1.0f;
}

/* One run into a NaN-filled C; returns the mismatches. */
static long run_once(mm_context *ctx, uint64_t seed, double *max_rel) {
  const int64_t *a = mm_input_shape(0), *b = mm_input_shape(1);
  int64_t m = a[0], k = a[1], n = b[1];
  float *A = malloc(mm_input_bytes(0)), *B = malloc(mm_input_bytes(1));
  float *C = malloc(mm_output_bytes(0));
  for (int64_t i = 0; i < m * k; ++i)
    A[i] = next(&seed);
  for (int64_t i = 0; i < k * n; ++i)
    B[i] = next(&seed);
  memset(C, 0xff, mm_output_bytes(0));
  const void *inputs[] = {A, B};
  void *outputs[] = {C};
  long bad = 0;
  if (mm_run(ctx, inputs, outputs) != 0) {
    fprintf(stderr, "deploy_matmul: %s\n", mm_last_error(ctx));
    bad = 1;
  }
  for (int64_t i = 0; i < m && !bad; i += row_step)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0;
      for (int64_t p = 0; p < k; ++p)
        ref += (double)A[i * k + p] * B[p * n + j];
      double diff = fabs(C[i * n + j] - ref);
      double rel = diff / (fabs(ref) > 1e-4 ? fabs(ref) : 1e-4);
      if (!(rel <= *max_rel))
        *max_rel = rel;
      bad += !(diff <= 1e-4 + 1e-3 * fabs(ref));
    }
  free(A);
  free(B);
  free(C);
  return bad;
}

typedef struct {
  uint64_t seed;
  long bad;
  double max_rel;
} job;

static void *work(void *arg) {
  job *j = arg;
  mm_context *ctx = mm_create(threads);
  for (int r = 0; r < runs; ++r)
    j->bad += run_once(ctx, j->seed + (uint64_t)r, &j->max_rel);
  mm_destroy(ctx);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3)
    return 2;
  threads = atoi(argv[1]);
  row_step = atoi(argv[2]);
  printf("%d inputs, %d outputs\n", mm_num_inputs(), mm_num_outputs());
  for (int i = 0; i < mm_num_inputs(); ++i)
    printf("input %d: %s type %d rank %d [%lld, %lld] %zu bytes\n", i,
           mm_input_name(i), (int)mm_input_type(i), mm_input_rank(i),
           (long long)mm_input_shape(i)[0], (long long)mm_input_shape(i)[1],
           mm_input_bytes(i));
  printf("output 0: %s type %d\n", mm_output_name(0), (int)mm_output_type(0));
  printf("out of range: %s %d\n", mm_input_name(2) ? "name" : "NULL",
         mm_output_rank(-1));
  long bad = 0;
  double max_rel = 0;
  if (argc > 3) {
    runs = atoi(argv[3]);
    job jobs[2] = {{1, 0, 0}, {1000, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; ++i)
      pthread_create(&t[i], NULL, work, &jobs[i]);
    for (int i = 0; i < 2; ++i) {
      pthread_join(t[i], NULL);
      bad += jobs[i].bad;
      if (jobs[i].max_rel > max_rel)
        max_rel = jobs[i].max_rel;
    }
  } else {
    /* A negative thread count gives no context (the reason on stderr). */
    if (mm_create(-1) != NULL)
      bad += 1;
    mm_context *ctx = mm_create(threads);
    /* A run with a NULL input fails with a message, and the context still
     * runs afterwards. */
    const void *none[] = {NULL, NULL};
    void *out[] = {NULL};
    if (mm_run(ctx, none, out) == 0)
      bad += 1;
    printf("error: %s\n", mm_last_error(ctx));
    bad += run_once(ctx, 1, &max_rel);
    printf("after a good run: '%s'\n", mm_last_error(ctx));
    mm_destroy(ctx);
  }
  printf("%s: %ld mismatches, max relative error %.2g\n",
         bad ? "FAIL" : "PASS", bad, max_rel);
  return bad != 0;
}
