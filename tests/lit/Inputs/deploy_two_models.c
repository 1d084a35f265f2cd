/* deploy_two_models.c - two deployed models in one program: mm (a matmul,
 * C = A B) and br (Y = max(X + b, 0)), each library with its own copy of
 * the runtime inside; each checked against a reference computed here, and a
 * context of one model refused by the other. Prints PASS and exits 0 when
 * everything matched.
 */
#include "br.h"
#include "mm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float value(size_t i, int salt) {
  return (float)sin((double)(i * 7 + (size_t)salt)) ;
}

int main(void) {
  long bad = 0;
  /* mm: C[m][n] = sum_p A[m][p] B[p][n] */
  const int64_t *a = mm_input_shape(0), *b = mm_input_shape(1);
  int64_t m = a[0], k = a[1], n = b[1];
  float *A = malloc(mm_input_bytes(0)), *B = malloc(mm_input_bytes(1));
  float *C = malloc(mm_output_bytes(0));
  for (int64_t i = 0; i < m * k; ++i)
    A[i] = value((size_t)i, 1);
  for (int64_t i = 0; i < k * n; ++i)
    B[i] = value((size_t)i, 2);
  mm_context *mctx = mm_create(1);
  const void *min[] = {A, B};
  void *mout[] = {C};
  bad += mm_run(mctx, min, mout) != 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0;
      for (int64_t p = 0; p < k; ++p)
        ref += (double)A[i * k + p] * B[p * n + j];
      bad += !(fabs(C[i * n + j] - ref) <= 1e-4 + 1e-3 * fabs(ref));
    }
  /* br: Y[i][j] = max(X[i][j] + b[j], 0) */
  const int64_t *x = br_input_shape(0);
  int64_t rows = x[0], cols = x[1];
  float *X = malloc(br_input_bytes(0)), *bias = malloc(br_input_bytes(1));
  float *Y = malloc(br_output_bytes(0));
  for (int64_t i = 0; i < rows * cols; ++i)
    X[i] = value((size_t)i, 3);
  for (int64_t j = 0; j < cols; ++j)
    bias[j] = value((size_t)j, 4);
  br_context *bctx = br_create(1);
  const void *bin[] = {X, bias};
  void *bout[] = {Y};
  bad += br_run(bctx, bin, bout) != 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      float ref = X[i * cols + j] + bias[j];
      bad += Y[i * cols + j] != (ref > 0 ? ref : 0);
    }
  /* One model's context is not the other's. */
  bad += br_run(mctx, bin, bout) == 0;
  printf("br_run with mm's context: %s\n", br_last_error(mctx));
  mm_destroy(mctx);
  br_destroy(bctx);
  printf("%s: %ld mismatches\n", bad ? "FAIL" : "PASS", bad);
  return bad != 0;
}
