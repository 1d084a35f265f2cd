/* app.c - runs a model compiled by `hatc compile MODEL.onnx --name model
 * -o OUT/` through its C API: model.h and libmodel.so, nothing else.
 *
 *   cc app.c -I OUT -L OUT -lmodel -Wl,-rpath,OUT -lm -o app   (-lm: sin)
 *   ./app [INPUT_DIR [THREADS]]
 *
 * Inputs are read from INPUT_DIR/input_K.bin (raw, dense, row-major, the
 * model's element type) when INPUT_DIR is given, else made up
 * deterministically (sin(k), scaled to [-1, 1]). Prints each output's first
 * values and a checksum (sum and sum of |x|).
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double value(const void *data, model_dtype type, size_t i) {
  switch (type) {
  case model_FLOAT32: return ((const float *)data)[i];
  case model_FLOAT64: return ((const double *)data)[i];
  case model_INT8: return ((const int8_t *)data)[i];
  case model_UINT8: case model_BOOL: return ((const uint8_t *)data)[i];
  case model_INT32: return ((const int32_t *)data)[i];
  case model_INT64: return (double)((const int64_t *)data)[i];
  default: return NAN;
  }
}

static size_t elements(int rank, const int64_t *shape) {
  size_t n = 1;
  for (int d = 0; d < rank; ++d)
    n *= (size_t)shape[d];
  return n;
}

static void describe(const char *kind, int i, const char *name, int type,
                     int rank, const int64_t *shape) {
  printf("%s %d: \"%s\" type %d [", kind, i, name, type);
  for (int d = 0; d < rank; ++d)
    printf("%s%lld", d ? ", " : "", (long long)shape[d]);
  printf("]\n");
}

/* Made-up input values: sin(k) in the input's element type. */
static void fill(void *data, model_dtype type, size_t n) {
  for (size_t k = 0; k < n; ++k) {
    double v = sin((double)k);
    switch (type) {
    case model_FLOAT32: ((float *)data)[k] = (float)v; break;
    case model_FLOAT64: ((double *)data)[k] = v; break;
    case model_INT32: ((int32_t *)data)[k] = (int32_t)(v * 100); break;
    case model_INT64: ((int64_t *)data)[k] = (int64_t)(v * 100); break;
    default: ((uint8_t *)data)[k] = (uint8_t)(v > 0); break;
    }
  }
}

static int read_input(const char *dir, int i, void *data, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/input_%d.bin", dir, i);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "app: %s: cannot open\n", path);
    return -1;
  }
  size_t got = fread(data, 1, bytes, f);
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != bytes || extra) {
    fprintf(stderr, "app: %s: input %d ('%s') takes %zu bytes\n", path, i,
            model_input_name(i), bytes);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *input_dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
  int threads = argc > 2 ? atoi(argv[2]) : 0;
  int num_inputs = model_num_inputs(), num_outputs = model_num_outputs();
  void **inputs = calloc((size_t)num_inputs + 1, sizeof(void *));
  void **outputs = calloc((size_t)num_outputs + 1, sizeof(void *));
  for (int i = 0; i < num_inputs; ++i) {
    describe("input", i, model_input_name(i), model_input_type(i),
             model_input_rank(i), model_input_shape(i));
    inputs[i] = malloc(model_input_bytes(i) + 1);
    if (input_dir) {
      if (read_input(input_dir, i, inputs[i], model_input_bytes(i)) != 0)
        return 1;
    } else {
      fill(inputs[i], model_input_type(i),
           elements(model_input_rank(i), model_input_shape(i)));
    }
  }
  for (int i = 0; i < num_outputs; ++i)
    outputs[i] = malloc(model_output_bytes(i) + 1);

  model_context *ctx = model_create(threads);
  if (!ctx)
    return 1;
  if (model_run(ctx, (const void *const *)inputs, outputs) != 0) {
    fprintf(stderr, "app: %s\n", model_last_error(ctx));
    model_destroy(ctx);
    return 1;
  }
  for (int i = 0; i < num_outputs; ++i) {
    model_dtype type = model_output_type(i);
    size_t n = elements(model_output_rank(i), model_output_shape(i));
    describe("output", i, model_output_name(i), type, model_output_rank(i),
             model_output_shape(i));
    double sum = 0, abs_sum = 0;
    printf("  values:");
    for (size_t k = 0; k < n; ++k) {
      double v = value(outputs[i], type, k);
      if (k < 8)
        printf(" %.6g", v);
      sum += v;
      abs_sum += fabs(v);
    }
    printf("%s\n  checksum: sum %.6g, sum of |x| %.6g\n", n > 8 ? " ..." : "",
           sum, abs_sum);
  }
  model_destroy(ctx);
  for (int i = 0; i < num_inputs; ++i)
    free(inputs[i]);
  for (int i = 0; i < num_outputs; ++i)
    free(outputs[i]);
  free(inputs);
  free(outputs);
  return 0;
}
