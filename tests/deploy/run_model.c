/* run_model.c - runs a deployed model through its C API alone and checks
 * its outputs against expected ones (tests/deploy/deploy_test.py).
 *
 *   cc run_model.c -I OUT -L OUT -ltestmodel -Wl,-rpath,OUT -lpthread
 *   run_model SET                     one run on SET/input_K.bin, compared
 *                                     with SET/output_K.bin
 *   run_model --concurrent N SET0 SET1  two threads at once, each with its
 *                                     own context and inputs, N runs each,
 *                                     every run compared
 *
 * .bin files are raw, dense, row-major tensors of the model's element types.
 * A float output matches when |out - expected| <= 1e-4 + 1e-3 |expected|
 * (ONNX Runtime's outputs; the same tolerance as tests/onnx/models_test.py);
 * integer outputs must be equal. The max relative error printed is hatc's
 * (|out - ref| / max(|ref|, 1e-2 max |ref|)). Exit 0 when everything matched.
 */
#include "testmodel.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-3
#define ATOL 1e-4

typedef struct {
  void *inputs[testmodel_NUM_INPUTS + 1];
  void *expected[testmodel_NUM_OUTPUTS + 1];
} data_set;

static void *read_file(const char *dir, const char *kind, int i,
                       size_t bytes) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s_%d.bin", dir, kind, i);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "run_model: %s: cannot open\n", path);
    exit(1);
  }
  void *data = malloc(bytes + 1);
  size_t got = fread(data, 1, bytes + 1, f);
  fclose(f);
  if (got != bytes) {
    fprintf(stderr, "run_model: %s: %zu bytes, the model's %s %d ('%s') "
            "takes %zu\n", path, got, kind, i,
            strcmp(kind, "input") ? testmodel_output_name(i)
                                  : testmodel_input_name(i), bytes);
    exit(1);
  }
  return data;
}

static void load_set(const char *dir, data_set *set) {
  for (int i = 0; i < testmodel_num_inputs(); ++i)
    set->inputs[i] = read_file(dir, "input", i, testmodel_input_bytes(i));
  for (int i = 0; i < testmodel_num_outputs(); ++i)
    set->expected[i] = read_file(dir, "output", i, testmodel_output_bytes(i));
}

static double element(const void *data, testmodel_dtype type, size_t i) {
  switch (type) {
  case testmodel_FLOAT32: return ((const float *)data)[i];
  case testmodel_FLOAT64: return ((const double *)data)[i];
  case testmodel_INT8: return ((const int8_t *)data)[i];
  case testmodel_UINT8: case testmodel_BOOL: return ((const uint8_t *)data)[i];
  case testmodel_INT32: return ((const int32_t *)data)[i];
  case testmodel_INT64: return (double)((const int64_t *)data)[i];
  default:
    fprintf(stderr, "run_model: element type %d not compared\n", (int)type);
    exit(1);
  }
}

/* Compares output i; returns the number of mismatches, reports the first. */
static size_t compare(int i, const void *got, const void *want,
                      const char *who, double *max_rel) {
  testmodel_dtype type = testmodel_output_type(i);
  size_t bytes = testmodel_output_bytes(i);
  size_t n = bytes / (type == testmodel_FLOAT64 || type == testmodel_INT64 ? 8
                      : type == testmodel_INT32 || type == testmodel_FLOAT32
                          ? 4 : 1);
  int exact = type != testmodel_FLOAT32 && type != testmodel_FLOAT64;
  size_t bad = 0;
  /* The relative error hatc reports everywhere (README): |out - ref| /
   * max(|ref|, 1e-2 max |ref|). */
  double peak = 0;
  for (size_t k = 0; k < n; ++k)
    peak = fmax(peak, fabs(element(want, type, k)));
  for (size_t k = 0; k < n; ++k) {
    double a = element(got, type, k), b = element(want, type, k);
    double diff = fabs(a - b);
    double floor = fmax(1e-2 * peak, 1e-30);
    double rel = diff / (fabs(b) > floor ? fabs(b) : floor);
    if (rel > *max_rel || a != a)
      *max_rel = a != a ? INFINITY : rel;
    if (exact ? a != b : !(diff <= ATOL + RTOL * fabs(b))) {
      if (!bad)
        fprintf(stderr, "run_model: %s: output %d ('%s') element %zu is %g, "
                "expected %g\n", who, i, testmodel_output_name(i), k, a, b);
      ++bad;
    }
  }
  return bad;
}

/* One run into fresh, NaN-poisoned outputs, compared; 0 when all match. */
static int run_and_check(testmodel_context *ctx, const data_set *set,
                         const char *who, double *max_rel) {
  void *outputs[testmodel_NUM_OUTPUTS + 1];
  for (int i = 0; i < testmodel_num_outputs(); ++i) {
    outputs[i] = malloc(testmodel_output_bytes(i));
    memset(outputs[i], 0xff, testmodel_output_bytes(i));
  }
  int failed = 0;
  if (testmodel_run(ctx, (const void *const *)set->inputs, outputs) != 0) {
    fprintf(stderr, "run_model: %s: run failed: %s\n", who,
            testmodel_last_error(ctx));
    failed = 1;
  }
  for (int i = 0; i < testmodel_num_outputs() && !failed; ++i)
    failed |= compare(i, outputs[i], set->expected[i], who, max_rel) != 0;
  for (int i = 0; i < testmodel_num_outputs(); ++i)
    free(outputs[i]);
  return failed;
}

typedef struct {
  const data_set *set;
  int runs;
  int failures;
  double max_rel;
  char name[32];
} worker;

static void *work(void *arg) {
  worker *w = arg;
  testmodel_context *ctx = testmodel_create(2);
  if (!ctx) {
    w->failures = w->runs;
    return NULL;
  }
  for (int r = 0; r < w->runs; ++r)
    w->failures += run_and_check(ctx, w->set, w->name, &w->max_rel);
  testmodel_destroy(ctx);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc == 2) {
    data_set set;
    load_set(argv[1], &set);
    for (int i = 0; i < testmodel_num_inputs(); ++i) {
      printf("input %d: %s rank %d type %d [", i, testmodel_input_name(i),
             testmodel_input_rank(i), (int)testmodel_input_type(i));
      for (int d = 0; d < testmodel_input_rank(i); ++d)
        printf("%s%lld", d ? "," : "",
               (long long)testmodel_input_shape(i)[d]);
      printf("]\n");
    }
    testmodel_context *ctx = testmodel_create(0);
    if (!ctx)
      return 1;
    double max_rel = 0;
    int failed = run_and_check(ctx, &set, argv[1], &max_rel);
    testmodel_destroy(ctx);
    printf("%s: %d output(s), max relative error %.3g\n",
           failed ? "FAIL" : "PASS", testmodel_num_outputs(), max_rel);
    return failed;
  }
  if (argc == 5 && !strcmp(argv[1], "--concurrent")) {
    data_set sets[2];
    load_set(argv[3], &sets[0]);
    load_set(argv[4], &sets[1]);
    worker workers[2];
    pthread_t threads[2];
    for (int t = 0; t < 2; ++t) {
      workers[t] = (worker){&sets[t], atoi(argv[2]), 0, 0, ""};
      snprintf(workers[t].name, sizeof(workers[t].name), "thread %d", t);
      if (pthread_create(&threads[t], NULL, work, &workers[t]) != 0) {
        fprintf(stderr, "run_model: cannot start a thread\n");
        return 1;
      }
    }
    int failures = 0;
    for (int t = 0; t < 2; ++t) {
      pthread_join(threads[t], NULL);
      printf("thread %d: %d run(s), %d failed, max relative error %.3g\n", t,
             workers[t].runs, workers[t].failures, workers[t].max_rel);
      failures += workers[t].failures;
    }
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures != 0;
  }
  fprintf(stderr, "usage: run_model SET | run_model --concurrent N SET0 SET1\n");
  return 2;
}
