/*===- DeployRuntime.c - Contexts and runs of a deployed model -------------===*
 *
 *   MODEL_run(ctx, inputs, outputs)
 *     -> hatc_deploy_run(&table, ...) -> memref descriptors on the caller's
 *        buffers -> hatc_entry(args), with the context's thread count and
 *        device current on the calling thread
 *
 * Linked into every libMODEL.so (libhatc_deploy_rt.a, hidden symbols). The
 * model's code keeps no mutable global state (deploy checks that when it
 * builds the library), so everything a run changes lives in its context or
 * on its stack: threads that each use their own context run at once.
 *
 *===----------------------------------------------------------------------===*/
#include "hatc/Deploy/DeployAbi.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The OpenMP runtime the model's parallel loops call (libomp). Declared here
 * rather than through omp.h, which only some compilers ship. */
extern void omp_set_num_threads(int num_threads);
extern int omp_get_max_threads(void);

struct hatc_deploy_context {
  const hatc_deploy_model *model;
  int32_t num_threads; /* 0: OpenMP's default */
  void *device;        /* owned; NULL on the host-only target */
  char error[512];
};

/* "<model>_<format...>": the function of `model` that was called. */
static void set_error(hatc_deploy_context *ctx, const hatc_deploy_model *model,
                      const char *format, ...) {
  va_list args;
  va_start(args, format);
  int used = snprintf(ctx->error, sizeof(ctx->error), "%s_", model->model_name);
  if (used < 0 || (size_t)used >= sizeof(ctx->error))
    used = 0;
  vsnprintf(ctx->error + used, sizeof(ctx->error) - (size_t)used, format, args);
  va_end(args);
}

hatc_deploy_context *hatc_deploy_create(const hatc_deploy_model *model,
                                        int32_t num_threads) {
  /* Without a context there is no last error: the reason goes to stderr. */
  if (model->abi_version != HATC_DEPLOY_ABI_VERSION) {
    fprintf(stderr,
            "%s_create: the model's table is of ABI version %d, this "
            "runtime reads %d\n",
            model->model_name, (int)model->abi_version,
            HATC_DEPLOY_ABI_VERSION);
    return NULL;
  }
  if (num_threads < 0) {
    fprintf(stderr,
            "%s_create: num_threads must be 0 (OpenMP's default) or "
            "more, got %d\n",
            model->model_name, (int)num_threads);
    return NULL;
  }
  /* The model mallocs its temporaries (activations of a few MB) on every run
   * and frees them at its end; above glibc's mmap threshold each would be a
   * fresh mapping whose pages fault in again on every run (a third of a
   * ResNet-50 stage's time). Served from the heap they are reused, as an
   * inference runtime's arena would. Documented in MODEL.h. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20); /* and not handed back on free */
  hatc_deploy_context *ctx = calloc(1, sizeof(*ctx));
  if (!ctx) {
    fprintf(stderr, "%s_create: out of memory\n", model->model_name);
    return NULL;
  }
  ctx->model = model;
  ctx->num_threads = num_threads;
  if (model->device) {
    ctx->device = model->device->open(model->device_params, ctx->error,
                                      sizeof(ctx->error));
    if (!ctx->device) {
      fprintf(stderr, "%s_create: %s\n", model->model_name, ctx->error);
      free(ctx);
      return NULL;
    }
  }
  return ctx;
}

void hatc_deploy_destroy(const hatc_deploy_model *model,
                         hatc_deploy_context *ctx) {
  if (!ctx)
    return;
  if (ctx->device)
    model->device->close(ctx->device);
  free(ctx);
}

const char *hatc_deploy_last_error(const hatc_deploy_model *model,
                                   const hatc_deploy_context *ctx) {
  if (!ctx)
    return "no context (NULL)";
  return ctx->error;
}

static const hatc_deploy_tensor *tensor_at(const hatc_deploy_model *model,
                                           int32_t which, int32_t index) {
  int32_t count = which ? model->num_outputs : model->num_inputs;
  if (index < 0 || index >= count)
    return NULL;
  return which ? &model->outputs[index] : &model->inputs[index];
}

int32_t hatc_deploy_count(const hatc_deploy_model *model, int32_t which) {
  return which ? model->num_outputs : model->num_inputs;
}

const char *hatc_deploy_name(const hatc_deploy_model *model, int32_t which,
                             int32_t index) {
  const hatc_deploy_tensor *t = tensor_at(model, which, index);
  return t ? t->name : NULL;
}

int32_t hatc_deploy_rank(const hatc_deploy_model *model, int32_t which,
                         int32_t index) {
  const hatc_deploy_tensor *t = tensor_at(model, which, index);
  return t ? t->rank : -1;
}

const int64_t *hatc_deploy_shape(const hatc_deploy_model *model, int32_t which,
                                 int32_t index) {
  const hatc_deploy_tensor *t = tensor_at(model, which, index);
  return t ? t->shape : NULL;
}

int32_t hatc_deploy_dtype(const hatc_deploy_model *model, int32_t which,
                          int32_t index) {
  const hatc_deploy_tensor *t = tensor_at(model, which, index);
  return t ? t->dtype : 0;
}

size_t hatc_deploy_bytes(const hatc_deploy_model *model, int32_t which,
                         int32_t index) {
  const hatc_deploy_tensor *t = tensor_at(model, which, index);
  if (!t)
    return 0;
  size_t bytes = (size_t)t->elem_bytes;
  for (int32_t d = 0; d < t->rank; ++d)
    bytes *= (size_t)t->shape[d];
  return bytes;
}

/* Writes the ranked memref descriptor {allocated, aligned, offset, sizes[],
 * strides[]} of a dense row-major buffer; returns the words used. */
static size_t write_descriptor(int64_t *words, const hatc_deploy_tensor *t,
                               const void *data) {
  int64_t address = (int64_t)(intptr_t)data;
  words[0] = address;
  words[1] = address;
  words[2] = 0;
  int64_t stride = 1;
  for (int32_t d = t->rank - 1; d >= 0; --d) {
    words[3 + d] = t->shape[d];
    words[3 + t->rank + d] = stride;
    stride *= t->shape[d];
  }
  return 3 + 2 * (size_t)t->rank;
}

int32_t hatc_deploy_run(const hatc_deploy_model *model,
                        hatc_deploy_context *ctx, const void *const *inputs,
                        void *const *outputs) {
  if (!ctx)
    return -1;
  ctx->error[0] = '\0';
  if (ctx->model != model) {
    set_error(ctx, model, "run: the context was made by %s_create",
              ctx->model->model_name);
    return -1;
  }
  if ((model->num_inputs && !inputs) || (model->num_outputs && !outputs)) {
    set_error(ctx, model, "run: the %s array is NULL",
              inputs ? "outputs" : "inputs");
    return -1;
  }
  size_t words = 0;
  int32_t total = model->num_inputs + model->num_outputs;
  for (int32_t i = 0; i < total; ++i) {
    int32_t out = i >= model->num_inputs;
    int32_t index = out ? i - model->num_inputs : i;
    const hatc_deploy_tensor *t = tensor_at(model, out, index);
    const void *data = out ? (const void *)outputs[index] : inputs[index];
    if (!data) {
      set_error(ctx, model, "run: %s %d ('%s') is NULL",
                out ? "output" : "input", index, t->name);
      return -1;
    }
    words += 3 + 2 * (size_t)t->rank;
  }
  /* Descriptors and their pointers live in this call's own memory: runs on
   * other threads never see them. */
  int64_t *descriptors = malloc(words * sizeof(int64_t) + 1);
  void **args = malloc((size_t)total * sizeof(void *) + 1);
  if (!descriptors || !args) {
    free(descriptors);
    free(args);
    set_error(ctx, model, "run: out of memory for %zu argument descriptors",
              (size_t)total);
    return -1;
  }
  size_t used = 0;
  for (int32_t i = 0; i < total; ++i) {
    int32_t out = i >= model->num_inputs;
    int32_t index = out ? i - model->num_inputs : i;
    args[i] = descriptors + used;
    used +=
        write_descriptor(descriptors + used, tensor_at(model, out, index),
                         out ? (const void *)outputs[index] : inputs[index]);
  }

  /* nthreads-var is the calling thread's own ICV: setting it here changes
   * nothing for runs on other threads; the caller's value comes back after. */
  int previous_threads = 0;
  if (ctx->num_threads > 0) {
    previous_threads = omp_get_max_threads();
    omp_set_num_threads(ctx->num_threads);
  }
  void *previous_device = NULL;
  if (ctx->device)
    previous_device = model->device->enter(ctx->device);
  model->entry(args);
  int32_t status = 0;
  if (ctx->device) {
    char reason[400];
    if (model->device->check(ctx->device, reason, sizeof(reason)) != 0) {
      set_error(ctx, model, "run: the device rejected an instruction: %s",
                reason);
      status = -1;
    }
    model->device->leave(previous_device);
  }
  if (ctx->num_threads > 0)
    omp_set_num_threads(previous_threads);
  free(descriptors);
  free(args);
  return status;
}

/* --- memref.copy ------------------------------------------------------------
 * The lowering turns a memref.copy it cannot inline (non-contiguous layouts)
 * into a call of memrefCopy(elemSize, src, dst) on unranked memrefs, the
 * function MLIR's C runner utils define. Defined here (hidden, ours), so a
 * deployed library does not need libmlir_c_runner_utils, which pulls in
 * libLLVM. */

typedef struct {
  int64_t rank;
  void *
      descriptor; /* {allocated, aligned, offset, sizes[rank], strides[rank]} */
} hatc_unranked_memref;

void memrefCopy(int64_t elem_size, hatc_unranked_memref *src,
                hatc_unranked_memref *dst) {
  int64_t rank = src->rank;
  const int64_t *s = src->descriptor, *d = dst->descriptor;
  const int64_t *sizes = s + 3;
  const int64_t *src_strides = s + 3 + rank, *dst_strides = d + 3 + rank;
  char *src_base = (char *)(intptr_t)s[1] + s[2] * elem_size;
  char *dst_base = (char *)(intptr_t)d[1] + d[2] * elem_size;
  for (int64_t dim = 0; dim < rank; ++dim)
    if (sizes[dim] == 0)
      return;
  /* An odometer over the indices; rank is small (<= 8 in practice), so the
   * counter lives on the stack up to 16 dims and on the heap beyond. */
  int64_t small[16];
  int64_t *index = rank <= 16 ? small : calloc((size_t)rank, sizeof(int64_t));
  if (!index)
    abort();
  memset(index, 0, (size_t)(rank <= 16 ? 16 : rank) * sizeof(int64_t));
  int64_t src_offset = 0, dst_offset = 0;
  for (;;) {
    memcpy(dst_base + dst_offset * elem_size, src_base + src_offset * elem_size,
           (size_t)elem_size);
    int64_t dim = rank - 1;
    for (; dim >= 0; --dim) {
      ++index[dim];
      src_offset += src_strides[dim];
      dst_offset += dst_strides[dim];
      if (index[dim] < sizes[dim])
        break;
      src_offset -= src_strides[dim] * index[dim];
      dst_offset -= dst_strides[dim] * index[dim];
      index[dim] = 0;
    }
    if (dim < 0)
      break;
  }
  if (index != small)
    free(index);
}
