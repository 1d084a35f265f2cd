/*===- HwaccAbi.h - The C ABI hwacc kernels call --------------------*- C -*-===*
 *
 * Host code compiled by hatc drives the hwacc accelerator through these calls
 * (emitted by hatc-convert-hwacc-to-llvm). They act on the calling thread's
 * current device: the one a measurer set (hatc::setCurrentHwaccDevice), the
 * one hatc_hwacc_create_device made, or else a device of the default target
 * (configs/targets/hwacc.json, 16x16) created on the thread's first call, so
 * a C program can call them directly. Addresses are in rows: a
 * scratchpad row holds DIM input elements, an accumulator row DIM accumulator
 * elements (f32 for f32 inputs, i32 for i8 inputs). DRAM pointers point at
 * the first element moved; strides count elements. All sizes are >= 1 and
 * rows, cols, m, k, n <= DIM. Calls are asynchronous in the timing model: the
 * load, execute and store queues overlap, ordered by the rows they touch;
 * hatc_hwacc_fence waits for all of them.
 *
 *===----------------------------------------------------------------------===*/
#ifndef HATC_RUNTIME_HWACCABI_H
#define HATC_RUNTIME_HWACCABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes a new device the calling thread's current one, owned by this library
 * (one made by an earlier call on this thread is freed). target_json: a
 * target description (a file like configs/targets/hwacc.json), or NULL for
 * the default target. Returns 0, or -1 with the reason in hatc_hwacc_last_error() (the
 * current device is then unchanged). */
int hatc_hwacc_create_device(const char *target_json);
/* Frees the device hatc_hwacc_create_device (or a first call) made on this
 * thread; the next call creates a default one again. */
void hatc_hwacc_destroy_device(void);
/* Why the last hatc_hwacc_create_device on this thread failed; "" when it
 * did not. */
const char *hatc_hwacc_last_error(void);
/* The current device's first invalid instruction, described; "" when every
 * instruction was valid. Invalid instructions are skipped, not fatal. */
const char *hatc_hwacc_device_error(void);
/* The current device's modeled cycles so far (every instruction issued). */
int64_t hatc_hwacc_cycles(void);

/* dataflow: 0 output-stationary, 1 weight-stationary.
 * elem: 0 f32 inputs (f32 accumulation), 1 i8 inputs (i32 accumulation).
 * out: 0 accumulator type (f32 or i32), 1 i8 (scaled, rounded, saturated).
 * scale multiplies accumulators on mvout; relu != 0 clamps them at 0. */
void hatc_hwacc_config(int64_t dataflow, int64_t elem, int64_t out,
                       float scale, int64_t relu);
/* DRAM -> scratchpad rows [sp_row, sp_row + rows), cols elements each; the
 * rest of each row (cols..DIM) is zero-filled. */
void hatc_hwacc_mvin(const void *dram, int64_t stride, int64_t sp_row,
                     int64_t rows, int64_t cols);
/* DRAM (accumulator type) -> accumulator rows, for C += A * B with a C that
 * is not zero. */
void hatc_hwacc_mvin_acc(const void *dram, int64_t stride, int64_t acc_row,
                         int64_t rows, int64_t cols);
/* Latches the k x n block of B at scratchpad rows [sp_row, sp_row + k) into
 * the array and names the accumulator rows the next compute writes;
 * accumulate = 0 overwrites them, 1 adds to them. */
void hatc_hwacc_preload(int64_t sp_row, int64_t acc_row, int64_t k, int64_t n,
                        int64_t accumulate);
/* Streams the m x k block of A at scratchpad rows [sp_row, sp_row + m)
 * through the array: acc[acc_row + i][j] (+)= sum_p A[i][p] * B[p][j]. */
void hatc_hwacc_compute(int64_t sp_row, int64_t m, int64_t k);
/* Accumulator rows -> DRAM, through the configured scale/activation/output
 * type. */
void hatc_hwacc_mvout(void *dram, int64_t stride, int64_t acc_row,
                      int64_t rows, int64_t cols);
/* Waits until every queue is empty. */
void hatc_hwacc_fence(void);
/* Bracket host work between device instructions (an elementwise consumer,
 * an im2col copy: work every schedule of the workload does). The device
 * waits for its queues (the host work may read device results), then the
 * wall time until hatc_hwacc_host_end counts as host time: the host and the
 * device take turns. */
void hatc_hwacc_host_begin(void);
/* The same for a GEMM the schedule kept on the host (hwacc.on_host), ended
 * by hatc_hwacc_host_end: its wall time also counts in the time a schedule
 * is ranked by (HwaccStats::scheduleSeconds). */
void hatc_hwacc_host_kept_begin(void);
void hatc_hwacc_host_end(void);

#ifdef __cplusplus
}
#endif

#endif /* HATC_RUNTIME_HWACCABI_H */
