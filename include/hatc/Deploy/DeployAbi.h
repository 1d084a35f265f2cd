/*===- DeployAbi.h - What a deployed model and its runtime share -*- C -*-===*
 *
 * A deployed library (hatc compile --emit lib) is three pieces linked into
 * one libMODEL.so:
 *
 *   the model's code + a constant hatc_deploy_model table + MODEL_* functions
 *     (generated, deploy/Library.cpp: each MODEL_f forwards to hatc_deploy_f
 *      with the table)
 *   libhatc_deploy_rt.a: contexts, argument checks, memref descriptors,
 *     the thread count (deploy/runtime/DeployRuntime.c)
 *   libhatc_deploy_hwacc_rt.a (--target hwacc only): the device model and
 *     hatc_deploy_hwacc_device (deploy/runtime/DeployHwacc.cpp)
 *
 * The table is built as LLVM IR with the layout of these structs; change
 * both together and bump HATC_DEPLOY_ABI_VERSION.
 *
 *===----------------------------------------------------------------------===*/
#ifndef HATC_DEPLOY_DEPLOYABI_H
#define HATC_DEPLOY_DEPLOYABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HATC_DEPLOY_ABI_VERSION 1

/* One graph input or output: dense, row-major. */
typedef struct {
  const char *name;
  int32_t rank;
  int32_t dtype;         /* ONNX TensorProto.DataType value */
  int32_t elem_bytes;
  int32_t reserved;
  const int64_t *shape;  /* rank entries; NULL when rank is 0 */
} hatc_deploy_tensor;

/* A device a context owns (hwacc): made by open, made the calling thread's
 * current device around each run. */
typedef struct {
  /* NULL with a message in err (errlen bytes) on failure. */
  void *(*open)(const double *params, char *err, size_t errlen);
  void (*close)(void *device);
  /* Makes `device` current for the calling thread; returns the previous. */
  void *(*enter)(void *device);
  void (*leave)(void *previous);
  /* After a run: 0, or -1 with the device's first invalid instruction in
   * err. */
  int (*check)(void *device, char *err, size_t errlen);
} hatc_deploy_device_ops;

typedef struct {
  int32_t abi_version;
  int32_t num_inputs;
  int32_t num_outputs;
  int32_t reserved;
  const char *model_name;
  const hatc_deploy_tensor *inputs;
  const hatc_deploy_tensor *outputs;
  /* hatc_entry: args[i] points at the i-th memref descriptor, inputs then
   * outputs (results are out-params). */
  void (*entry)(void **args);
  const hatc_deploy_device_ops *device; /* NULL: host only */
  const double *device_params;          /* for device->open */
} hatc_deploy_model;

/* hwacc's device params: dim, scratchpad bytes, accumulator bytes, DMA bytes
 * per cycle, DMA latency cycles, clock GHz. */
#define HATC_DEPLOY_HWACC_NUM_PARAMS 6
extern const hatc_deploy_device_ops hatc_deploy_hwacc_device;

typedef struct hatc_deploy_context hatc_deploy_context;

/* The functions every MODEL_* forwards to; `which` is 0 for inputs and 1
 * for outputs. */
hatc_deploy_context *hatc_deploy_create(const hatc_deploy_model *model,
                                        int32_t num_threads);
void hatc_deploy_destroy(const hatc_deploy_model *model,
                         hatc_deploy_context *ctx);
int32_t hatc_deploy_run(const hatc_deploy_model *model,
                        hatc_deploy_context *ctx, const void *const *inputs,
                        void *const *outputs);
const char *hatc_deploy_last_error(const hatc_deploy_model *model,
                                   const hatc_deploy_context *ctx);
int32_t hatc_deploy_count(const hatc_deploy_model *model, int32_t which);
const char *hatc_deploy_name(const hatc_deploy_model *model, int32_t which,
                             int32_t index);
int32_t hatc_deploy_rank(const hatc_deploy_model *model, int32_t which,
                         int32_t index);
const int64_t *hatc_deploy_shape(const hatc_deploy_model *model,
                                 int32_t which, int32_t index);
int32_t hatc_deploy_dtype(const hatc_deploy_model *model, int32_t which,
                          int32_t index);
size_t hatc_deploy_bytes(const hatc_deploy_model *model, int32_t which,
                         int32_t index);

#ifdef __cplusplus
}
#endif

#endif /* HATC_DEPLOY_DEPLOYABI_H */
