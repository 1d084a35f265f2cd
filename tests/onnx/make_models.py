#!/usr/bin/python3
"""Writes the ONNX models hatc's model tests and bench/model_perf.py run,
built with onnx.helper from fixed-seed numpy weights (no binary files in
the repo).

    /usr/bin/python3 tests/onnx/make_models.py --out DIR [--set SET]...
        [--only NAME]... [--list]

Each model goes to DIR/NAME/model.onnx, its inputs (fixed seed) to
DIR/NAME/test_data_set_0/input_N.pb. Expected outputs come from ONNX
Runtime (tests/onnx/ort_outputs.py), except for the lit models (named
lit_*), whose expected outputs numpy computes here.

--set NAME writes a set (repeatable): `small` (SMALL_MODELS, the default
when neither --only nor --set is given: cheap enough for every test run),
`large` (full-size layers: the BERT-base encoder layer and ResNet-50's
conv2_x stage), `e2e` (both), `bench` (what bench/model_perf.py runs),
`networks` (whole ResNet-18 and MobileNetV2, ResNeXt-50's first stage:
bench inputs only),
`lit` (tiny models and error cases for lit, expected outputs by numpy),
`all`. --only NAME adds single models.

Needs Debian's python3-onnx: run under /usr/bin/python3.
"""
import argparse
import os
import sys

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit("make_models.py: needs the onnx python package; run it with "
             "/usr/bin/python3 (Debian's python3-onnx)")

F32 = TensorProto.FLOAT
I64 = TensorProto.INT64


class Builder:
    """Collects nodes and initializers; `rng` draws weights by a fixed seed."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.count = 0

    def weight(self, name, shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = scale if scale is not None else 1.0 / np.sqrt(max(fan_in, 1))
        data = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        return self.const(name, data)

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def ints(self, name, values):
        return self.const(name, np.asarray(values, dtype=np.int64))

    def scalar(self, name, value):
        return self.const(name, np.asarray(value, dtype=np.float32))

    def node(self, op, inputs, outputs=1, name=None, **attrs):
        self.count += 1
        name = name or f"{op.lower()}_{self.count}"
        if isinstance(outputs, int):
            outputs = [f"{name}_out{i}" if outputs > 1 else name
                       for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def model(self, name, inputs, outputs, opset):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph, producer_name="hatc-make_models",
            opset_imports=[helper.make_opsetid("", opset)])
        # IR version 7 (ONNX 1.7): read by every ONNX Runtime in use.
        model.ir_version = 7
        return model


def tensor_info(name, shape, elem=F32):
    return helper.make_tensor_value_info(name, elem, shape)


def random_inputs(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


# --- End-to-end models (expected outputs from ONNX Runtime) ----------------

def elementwise_chain():
    """Add/Mul/Relu/Sigmoid/Tanh/Clip with numpy broadcasting, opset 13."""
    b = Builder(1)
    scale = b.weight("scale", [5], scale=1.0)
    s = b.node("Add", ["x", "y"], name="add_xy")          # [2,3,4,5] + [3,1,5]
    m = b.node("Mul", [s, scale], name="mul_scale")       # * [5]
    r = b.node("Relu", [m], name="relu")
    g = b.node("Sigmoid", [r], name="sigmoid")
    t = b.node("Tanh", [s], name="tanh")
    d = b.node("Sub", [g, t], name="sub")
    lo, hi = b.scalar("clip_lo", -0.25), b.scalar("clip_hi", 0.75)
    b.node("Clip", [d, lo, hi], ["out"], name="clip")
    b.node("Mul", [t, b.scalar("two", 2.0)], ["out_tanh"], name="mul_two")
    model = b.model("elementwise_chain",
                    [tensor_info("x", [2, 3, 4, 5]), tensor_info("y", [3, 1, 5])],
                    [tensor_info("out", [2, 3, 4, 5]),
                     tensor_info("out_tanh", [2, 3, 4, 5])], 13)
    return model, random_inputs(101, [[2, 3, 4, 5], [3, 1, 5]]), {}


def batch_norm(b, x, channels, prefix):
    gamma = b.const(prefix + "_gamma",
                    (1 + 0.1 * b.rng.standard_normal(channels)).astype(np.float32))
    beta = b.const(prefix + "_beta",
                   (0.1 * b.rng.standard_normal(channels)).astype(np.float32))
    mean = b.const(prefix + "_mean",
                   (0.1 * b.rng.standard_normal(channels)).astype(np.float32))
    var = b.const(prefix + "_var",
                  (0.5 + b.rng.random(channels)).astype(np.float32))
    return b.node("BatchNormalization", [x, gamma, beta, mean, var],
                  name=prefix, epsilon=1e-5)


def mobilenet_block():
    """A MobileNet-style block as exporters write it at opset 11."""
    b = Builder(2)
    c = 16
    # Stem: Conv 3x3 stride 2 + BN + Clip(0, 6) (ReLU6; opset 11 bounds are inputs).
    x = b.node("Conv", ["input", b.weight("conv1_w", [c, 3, 3, 3]),
                        b.weight("conv1_b", [c], scale=0.1)],
               name="conv1", kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    x = batch_norm(b, x, c, "bn1")
    stem = b.node("Clip", [x, b.scalar("relu6_min", 0.0), b.scalar("relu6_max", 6.0)],
                  name="relu6")
    # Depthwise 3x3 + BN + hard swish (x * HardSigmoid(x)).
    x = b.node("Conv", [stem, b.weight("dw_w", [c, 1, 3, 3])], name="conv_dw",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=c)
    x = batch_norm(b, x, c, "bn_dw")
    hs = b.node("HardSigmoid", [x], name="hard_sigmoid", alpha=1.0 / 6, beta=0.5)
    x = b.node("Mul", [x, hs], name="hard_swish")
    # Pointwise 1x1 + BN, residual.
    x = b.node("Conv", [x, b.weight("pw_w", [c, c, 1, 1])], name="conv_pw",
               kernel_shape=[1, 1])
    x = batch_norm(b, x, c, "bn_pw")
    x = b.node("Add", [x, stem], name="residual")
    # Head: GlobalAveragePool, Flatten, Gemm classifier.
    x = b.node("GlobalAveragePool", [x], name="pool")
    x = b.node("Flatten", [x], name="flatten", axis=1)
    b.node("Gemm", [x, b.weight("fc_w", [10, c]), b.weight("fc_b", [10], scale=0.1)],
           ["logits"], name="classifier", transB=1)
    model = b.model("mobilenet_block", [tensor_info("input", ["batch", 3, 32, 32])],
                    [tensor_info("logits", ["batch", 10])], 11)
    return model, random_inputs(102, [[1, 3, 32, 32]]), {
        "input_shapes": ["input=1,3,32,32"]}


def layer_norm(b, x, dim, prefix):
    """LayerNorm as opset-13 exporters spell it out."""
    mean = b.node("ReduceMean", [x], name=prefix + "_mean", axes=[-1], keepdims=1)
    d = b.node("Sub", [x, mean], name=prefix + "_sub")
    p = b.node("Pow", [d, b.scalar(prefix + "_two", 2.0)], name=prefix + "_pow")
    var = b.node("ReduceMean", [p], name=prefix + "_var", axes=[-1], keepdims=1)
    v = b.node("Add", [var, b.scalar(prefix + "_eps", 1e-12)], name=prefix + "_add_eps")
    sd = b.node("Sqrt", [v], name=prefix + "_sqrt")
    n = b.node("Div", [d, sd], name=prefix + "_div")
    gamma = b.const(prefix + "_gamma",
                    (1 + 0.1 * b.rng.standard_normal(dim)).astype(np.float32))
    beta = b.const(prefix + "_beta",
                   (0.1 * b.rng.standard_normal(dim)).astype(np.float32))
    n = b.node("Mul", [n, gamma], name=prefix + "_scale")
    return b.node("Add", [n, beta], name=prefix + "_shift")


def layer_norm_op(b, x, dim, prefix, epsilon):
    """LayerNorm as the opset-17 LayerNormalization op (what exporters
    write from opset 17 on), over the last axis."""
    gamma = b.const(prefix + "_gamma",
                    (1 + 0.1 * b.rng.standard_normal(dim)).astype(np.float32))
    beta = b.const(prefix + "_beta",
                   (0.1 * b.rng.standard_normal(dim)).astype(np.float32))
    return b.node("LayerNormalization", [x, gamma, beta], name=prefix,
                  axis=-1, epsilon=epsilon)

def dense(b, x, n_in, n_out, prefix):
    y = b.node("MatMul", [x, b.weight(prefix + "_w", [n_in, n_out])],
               name=prefix + "_matmul")
    return b.node("Add", [y, b.weight(prefix + "_b", [n_out], scale=0.1)],
                  name=prefix + "_bias")


def bert_encoder(b, name, hidden, heads, ffn, seq):
    """One BERT encoder layer as exporters write it at opset 13: shapes by
    Shape -> Gather -> Unsqueeze -> Concat arithmetic, LayerNorm and Gelu
    spelled out in primitive ops; batch and sequence dims dynamic, fixed to
    [1, seq] with --input-shape."""
    head_dim = hidden // heads
    q = dense(b, "hidden", hidden, hidden, "query")
    k = dense(b, "hidden", hidden, hidden, "key")
    v = dense(b, "hidden", hidden, hidden, "value")
    # [batch, seq] from the input's shape, as a torch export computes them.
    shape = b.node("Shape", ["hidden"], name="shape")
    zero, one = b.ints("idx_batch", 0), b.ints("idx_seq", 1)
    axes0 = b.ints("unsqueeze_axes", [0])
    batch = b.node("Unsqueeze", [b.node("Gather", [shape, zero], name="gather_batch",
                                        axis=0), axes0], name="unsqueeze_batch")
    seqlen = b.node("Unsqueeze", [b.node("Gather", [shape, one], name="gather_seq",
                                         axis=0), axes0], name="unsqueeze_seq")
    split = b.node("Concat", [batch, seqlen, b.ints("heads", [heads]),
                              b.ints("head_dim", [head_dim])],
                   name="split_heads_shape", axis=0)
    merged = b.node("Concat", [batch, seqlen, b.ints("hidden_size", [hidden])],
                    name="merge_heads_shape", axis=0)

    def heads_of(t, prefix, perm):
        r = b.node("Reshape", [t, split], name=prefix + "_reshape")
        return b.node("Transpose", [r], name=prefix + "_transpose", perm=perm)

    qh = heads_of(q, "query", [0, 2, 1, 3])         # [b, h, s, d]
    kt = heads_of(k, "key", [0, 2, 3, 1])           # [b, h, d, s]
    vh = heads_of(v, "value", [0, 2, 1, 3])         # [b, h, s, d]
    scores = b.node("MatMul", [qh, kt], name="scores")
    scores = b.node("Div", [scores, b.scalar("sqrt_d", float(np.sqrt(head_dim)))],
                    name="scale_scores")
    probs = b.node("Softmax", [scores], name="softmax", axis=-1)
    ctx = b.node("MatMul", [probs, vh], name="context")
    ctx = b.node("Transpose", [ctx], name="context_transpose", perm=[0, 2, 1, 3])
    ctx = b.node("Reshape", [ctx, merged], name="context_reshape")
    attn = dense(b, ctx, hidden, hidden, "attn_out")
    x = b.node("Add", [attn, "hidden"], name="attn_residual")
    x = layer_norm(b, x, hidden, "ln1")
    # FFN with Gelu as exported: 0.5 * x * (1 + erf(x / sqrt(2))).
    h = dense(b, x, hidden, ffn, "ffn_in")
    e = b.node("Div", [h, b.scalar("sqrt2", float(np.sqrt(2.0)))], name="gelu_div")
    e = b.node("Erf", [e], name="gelu_erf")
    e = b.node("Add", [e, b.scalar("one", 1.0)], name="gelu_add")
    e = b.node("Mul", [h, e], name="gelu_mul")
    e = b.node("Mul", [e, b.scalar("half", 0.5)], name="gelu_half")
    y = dense(b, e, ffn, hidden, "ffn_out")
    y = b.node("Add", [y, x], name="ffn_residual")
    out = layer_norm(b, y, hidden, "ln2")
    b.node("Identity", [out], ["output"], name="output")
    model = b.model(name, [tensor_info("hidden", ["batch", "seq", hidden])],
                    [tensor_info("output", ["batch", "seq", hidden])], 13)
    return model, {"input_shapes": [f"hidden=1,{seq},{hidden}"]}


def bert_layer():
    """A small BERT encoder layer (hidden 64, 4 heads, FFN 256, sequence 16)."""
    model, extra = bert_encoder(Builder(3), "bert_layer", 64, 4, 256, 16)
    return model, random_inputs(103, [[1, 16, 64]]), extra


def bert_base_layer():
    """A BERT-base encoder layer: hidden 768, 12 heads, FFN 3072, sequence
    128 (about 1.9 GFLOP a run; 28 MB of weights)."""
    model, extra = bert_encoder(Builder(6), "bert_base_layer", 768, 12, 3072, 128)
    return model, random_inputs(106, [[1, 128, 768]]), extra


def bert_model():
    """A whole (tiny) BERT classifier as a PyTorch export at opset 17 writes
    it: word, position and token-type embeddings looked up by Gather with
    run-time ids (the position ids from Range over the sequence length), the
    attention mask turned into an additive -10000 bias, two encoder layers
    with the LayerNormalization op, a pooler (first token, Gemm, Tanh) and a
    two-class head. Hidden 64 (4 heads), FFN 256, vocabulary 100, sequence
    16; inputs are int64 ids below the vocabulary and a 0/1 mask."""
    hidden, heads, ffn, vocab, seq, layers = 64, 4, 256, 100, 16, 2
    head_dim = hidden // heads
    b = Builder(19)

    def layer_norm17(x, prefix):
        return layer_norm_op(b, x, hidden, prefix, 1e-12)

    words = b.node("Gather", [b.weight("word_embeddings", [vocab, hidden], 0.5),
                              "input_ids"], name="word_lookup", axis=0)
    shape = b.node("Shape", ["input_ids"], name="ids_shape")
    seqlen = b.node("Gather", [shape, b.const("seq_axis", np.array(1, np.int64))],
                    name="seq_len", axis=0)
    positions = b.node("Range", [b.const("range_start", np.array(0, np.int64)), seqlen,
                                 b.const("range_step", np.array(1, np.int64))],
                       name="position_ids")
    positions = b.node("Unsqueeze", [positions, b.ints("batch_axis", [0])],
                       name="position_ids_batch")
    types = b.node("ConstantOfShape", [shape], name="token_type_ids",
                   value=helper.make_tensor("zero", I64, [1], [0]))
    x = b.node("Add", [words, b.node("Gather", [
        b.weight("position_embeddings", [64, hidden], 0.5), positions],
        name="position_lookup", axis=0)], name="add_positions")
    x = b.node("Add", [x, b.node("Gather", [
        b.weight("token_type_embeddings", [2, hidden], 0.5), types],
        name="type_lookup", axis=0)], name="add_types")
    x = layer_norm17(x, "embeddings_ln")
    # [batch, seq] 0/1 -> [batch, 1, 1, seq] additive bias, 0 or -10000.
    mask = b.node("Unsqueeze", ["attention_mask", b.ints("mask_axes", [1, 2])],
                  name="mask_unsqueeze")
    mask = b.node("Cast", [mask], name="mask_cast", to=F32)
    mask = b.node("Sub", [b.scalar("mask_one", 1.0), mask], name="mask_invert")
    mask = b.node("Mul", [mask, b.scalar("mask_min", -10000.0)], name="mask_bias")
    split = b.ints("split_heads", [0, 0, heads, head_dim])
    merged = b.ints("merge_heads", [0, 0, hidden])
    for layer in range(layers):
        p = f"layer{layer}"
        q = dense(b, x, hidden, hidden, p + "_query")
        k = dense(b, x, hidden, hidden, p + "_key")
        v = dense(b, x, hidden, hidden, p + "_value")

        def heads_of(t, name, perm):
            r = b.node("Reshape", [t, split], name=f"{p}_{name}_reshape")
            return b.node("Transpose", [r], name=f"{p}_{name}_transpose", perm=perm)

        scores = b.node("MatMul", [heads_of(q, "query", [0, 2, 1, 3]),
                                   heads_of(k, "key", [0, 2, 3, 1])], name=p + "_scores")
        scores = b.node("Div", [scores, b.scalar(p + "_sqrt_d", float(np.sqrt(head_dim)))],
                        name=p + "_scale")
        scores = b.node("Add", [scores, mask], name=p + "_masked")
        probs = b.node("Softmax", [scores], name=p + "_softmax", axis=-1)
        ctx = b.node("MatMul", [probs, heads_of(v, "value", [0, 2, 1, 3])],
                     name=p + "_context")
        ctx = b.node("Transpose", [ctx], name=p + "_context_transpose", perm=[0, 2, 1, 3])
        ctx = b.node("Reshape", [ctx, merged], name=p + "_context_reshape")
        x = layer_norm17(b.node("Add", [dense(b, ctx, hidden, hidden, p + "_out"), x],
                                name=p + "_attn_residual"), p + "_ln1")
        h = dense(b, x, hidden, ffn, p + "_ffn_in")
        e = b.node("Erf", [b.node("Div", [h, b.scalar(p + "_sqrt2", float(np.sqrt(2.0)))],
                                  name=p + "_gelu_div")], name=p + "_gelu_erf")
        e = b.node("Add", [e, b.scalar(p + "_one", 1.0)], name=p + "_gelu_add")
        e = b.node("Mul", [b.node("Mul", [h, e], name=p + "_gelu_mul"),
                           b.scalar(p + "_half", 0.5)], name=p + "_gelu_half")
        y = dense(b, e, ffn, hidden, p + "_ffn_out")
        x = layer_norm17(b.node("Add", [y, x], name=p + "_ffn_residual"), p + "_ln2")
    b.node("Identity", [x], ["last_hidden_state"], name="last_hidden_state")
    first = b.node("Gather", [x, b.const("first_token", np.array(0, np.int64))],
                   name="first_token_state", axis=1)
    pooled = b.node("Tanh", [b.node("Gemm", [first, b.weight("pooler_w", [hidden, hidden]),
                                             b.weight("pooler_b", [hidden], 0.1)],
                                    name="pooler")], name="pooler_tanh")
    b.node("Gemm", [pooled, b.weight("classifier_w", [2, hidden]),
                    b.weight("classifier_b", [2], 0.1)], ["logits"],
           name="classifier", transB=1)
    model = b.model("bert_model",
                    [tensor_info("input_ids", ["batch", "seq"], I64),
                     tensor_info("attention_mask", ["batch", "seq"], I64)],
                    [tensor_info("last_hidden_state", ["batch", "seq", hidden]),
                     tensor_info("logits", ["batch", 2])], 17)
    rng = np.random.default_rng(119)
    ids = rng.integers(0, vocab, [1, seq]).astype(np.int64)
    attention = np.ones([1, seq], np.int64)
    attention[0, seq - 5:] = 0      # the last five tokens are padding
    return model, [ids, attention], {
        "input_shapes": [f"input_ids=1,{seq}", f"attention_mask=1,{seq}"]}


def cnn_mixed():
    """The CNN ops around the convs that a ResNet, Inception, ResNeXt or
    segmentation export brings, at opset 13 with a dynamic batch (2 here):
    a 7x7/2 stem with bias and Relu, MaxPool 3x3/2 (pad 1), an Inception
    block (1x1, 3x3 and AveragePool 3x3 without the pads counted, then
    Concat on channels), a grouped 3x3/2 conv (4 groups), a 2x nearest
    Resize, GlobalAveragePool, Flatten and a 100-class Gemm; a second
    output keeps the resized map (Sigmoid)."""
    b = Builder(20)
    x = b.node("Conv", ["image", b.weight("stem_w", [32, 3, 7, 7]),
                        b.weight("stem_b", [32], 0.1)],
               name="stem", pads=[3, 3, 3, 3], strides=[2, 2])
    x = b.node("Relu", [x], name="stem_relu")
    x = b.node("MaxPool", [x], name="stem_pool", kernel_shape=[3, 3],
               strides=[2, 2], pads=[1, 1, 1, 1])
    b1 = b.node("Relu", [b.node("Conv", [x, b.weight("b1_w", [16, 32, 1, 1])],
                                name="b1_conv")], name="b1_relu")
    b2 = b.node("Relu", [b.node("Conv", [x, b.weight("b2_w", [24, 32, 3, 3])],
                                name="b2_conv", pads=[1, 1, 1, 1])], name="b2_relu")
    b3 = b.node("AveragePool", [x], name="b3_pool", kernel_shape=[3, 3],
                strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0)
    b3 = b.node("Conv", [b3, b.weight("b3_w", [8, 32, 1, 1])], name="b3_conv")
    x = b.node("Concat", [b1, b2, b3], name="inception_concat", axis=1)
    x = b.node("Relu", [b.node("Conv", [x, b.weight("grouped_w", [48, 12, 3, 3])],
                               name="grouped_conv", group=4, pads=[1, 1, 1, 1],
                               strides=[2, 2])], name="grouped_relu")
    up = b.node("Resize", [x, "", b.const("scales", np.array([1, 1, 2, 2], np.float32))],
                name="upsample", mode="nearest")
    pooled = b.node("Flatten", [b.node("GlobalAveragePool", [up], name="gap")],
                    name="flatten", axis=1)
    # 100 classes: a width no register tile divides (B padded to 112).
    b.node("Gemm", [pooled, b.weight("fc_w", [100, 48]), b.weight("fc_b", [100], 0.1)],
           ["logits"], name="fc", transB=1)
    b.node("Sigmoid", [up], ["map"], name="map")
    model = b.model("cnn_mixed", [tensor_info("image", ["N", 3, 64, 64])],
                    [tensor_info("logits", ["N", 100]),
                     tensor_info("map", ["N", 48, 16, 16])], 13)
    return model, random_inputs(120, [[2, 3, 64, 64]]), {
        "input_shapes": ["image=2,3,64,64"]}


def gpt_block():
    """A GPT-2 block as its PyTorch export writes it at opset 17: the
    LayerNormalization op, one QKV projection cut by Split, a causal mask
    sliced from a constant lower-triangular bool matrix to the sequence
    length (Shape -> Gather -> Slice) and applied with Where, and the tanh
    form of GELU (Pow 3, Tanh). Hidden 128, 4 heads, MLP 512, sequence 32
    (dynamic)."""
    hidden, heads, seq = 128, 4, 32
    head_dim = hidden // heads
    b = Builder(21)

    def layer_norm17(x, prefix):
        return layer_norm_op(b, x, hidden, prefix, 1e-5)

    def linear(x, n_in, n_out, prefix):
        y = b.node("MatMul", [x, b.weight(prefix + "_w", [n_in, n_out])],
                   name=prefix + "_matmul")
        return b.node("Add", [y, b.weight(prefix + "_b", [n_out], scale=0.1)],
                      name=prefix + "_bias")

    h = layer_norm17("x", "ln_1")
    q, k, v = b.node("Split", [linear(h, hidden, 3 * hidden, "c_attn"),
                               b.ints("qkv_sizes", [hidden] * 3)],
                     outputs=3, name="qkv_split", axis=2)
    split = b.ints("split_heads", [1, -1, heads, head_dim])

    def heads_of(t, name, perm):
        r = b.node("Reshape", [t, split], name=name + "_reshape")
        return b.node("Transpose", [r], name=name + "_transpose", perm=perm)

    scores = b.node("MatMul", [heads_of(q, "query", [0, 2, 1, 3]),
                               heads_of(k, "key", [0, 2, 3, 1])], name="scores")
    scores = b.node("Mul", [scores, b.scalar("inv_sqrt_d", 1 / np.sqrt(head_dim))],
                    name="scale")
    length = b.node("Unsqueeze", [b.node("Gather", [
        b.node("Shape", ["x"], name="x_shape"),
        b.const("seq_axis", np.array(1, np.int64))], name="seq_len", axis=0),
        b.ints("len_axes", [0])], name="seq_len_1d")
    causal = b.const("causal", np.tril(np.ones((1, 1, 64, 64), bool)))
    causal = b.node("Slice", [causal, b.ints("rows_from", [0]), length,
                              b.ints("rows_axis", [2])], name="causal_rows")
    causal = b.node("Slice", [causal, b.ints("cols_from", [0]), length,
                              b.ints("cols_axis", [3])], name="causal_cols")
    scores = b.node("Where", [causal, scores, b.scalar("masked", -3.4e38)],
                    name="causal_mask")
    probs = b.node("Softmax", [scores], name="softmax", axis=-1)
    ctx = b.node("MatMul", [probs, heads_of(v, "value", [0, 2, 1, 3])], name="context")
    ctx = b.node("Transpose", [ctx], name="context_transpose", perm=[0, 2, 1, 3])
    ctx = b.node("Reshape", [ctx, b.ints("merge_heads", [1, -1, hidden])],
                 name="context_reshape")
    x = b.node("Add", ["x", linear(ctx, hidden, hidden, "c_proj")], name="attn_residual")
    f = linear(layer_norm17(x, "ln_2"), hidden, 4 * hidden, "c_fc")
    # 0.5 f (1 + tanh(sqrt(2 / pi) (f + 0.044715 f^3)))
    cube = b.node("Pow", [f, b.scalar("three", 3.0)], name="gelu_cube")
    t = b.node("Add", [f, b.node("Mul", [cube, b.scalar("gelu_c", 0.044715)],
                                 name="gelu_scale_cube")], name="gelu_inner")
    t = b.node("Tanh", [b.node("Mul", [t, b.scalar("gelu_k", float(np.sqrt(2 / np.pi)))],
                               name="gelu_scale")], name="gelu_tanh")
    g = b.node("Mul", [b.node("Mul", [f, b.scalar("half", 0.5)], name="gelu_half"),
                       b.node("Add", [t, b.scalar("one", 1.0)], name="gelu_one")],
               name="gelu")
    b.node("Add", [x, linear(g, 4 * hidden, hidden, "mlp_proj")], ["y"],
           name="mlp_residual")
    model = b.model("gpt_block", [tensor_info("x", [1, "seq", hidden])],
                    [tensor_info("y", [1, "seq", hidden])], 17)
    return model, random_inputs(121, [[1, seq, hidden]]), {
        "input_shapes": [f"x=1,{seq},{hidden}"]}


def conv_bn(b, x, cin, cout, k, prefix, act=None, group=1, clip=None, stride=1):
    """Conv (no bias, as torchvision's) + BatchNormalization, then Relu,
    Clip(0, 6) (act="relu6", bounds from `clip`) or nothing, as a PyTorch
    export writes them. Weights are He-scaled when an activation follows,
    so activations keep a unit-ish scale through deep stacks."""
    fan_in = cin // group * k * k
    gain = 2.0 if act else 1.0
    w = b.weight(prefix + "_w", [cout, cin // group, k, k],
                 scale=float(np.sqrt(gain / fan_in)))
    y = b.node("Conv", [x, w], name=prefix, kernel_shape=[k, k], pads=[k // 2] * 4,
               strides=[stride, stride], dilations=[1, 1], group=group)
    y = batch_norm(b, y, cout, prefix + "_bn")
    if act == "relu":
        return b.node("Relu", [y], name=prefix + "_relu")
    if act == "relu6":
        return b.node("Clip", [y, clip[0], clip[1]], name=prefix + "_relu6")
    return y


def bottleneck_stage(name, seed, width, group, input_seed):
    """A ResNet-style conv2_x stage at 56x56, NCHW: three bottlenecks of
    64 (the first) or 256 channels -> `width` (1x1) -> `width` (3x3 in
    `group` groups) -> 256 (1x1), the first with a 1x1 projection
    shortcut; every conv is Conv + BatchNormalization (+ Relu), residual
    Add + Relu. Batch and spatial dims dynamic, fixed to 1x64x56x56."""
    b = Builder(seed)
    x = "input"
    cin = 64
    for block in range(3):
        p = f"layer1_{block}"
        y = conv_bn(b, x, cin, width, 1, p + "_conv1", act="relu")
        y = conv_bn(b, y, width, width, 3, p + "_conv2", act="relu", group=group)
        y = conv_bn(b, y, width, 256, 1, p + "_conv3")
        shortcut = x if block else conv_bn(b, x, cin, 256, 1, p + "_downsample")
        y = b.node("Add", [y, shortcut], name=p + "_add")
        x = b.node("Relu", [y], *([["output"]] if block == 2 else []),
                   name=p + "_relu")
        cin = 256
    model = b.model(name,
                    [tensor_info("input", ["batch", 64, "height", "width"])],
                    [tensor_info("output", ["batch", 256, "height", "width"])], 13)
    return model, random_inputs(input_seed, [[1, 64, 56, 56]]), {
        "input_shapes": ["input=1,64,56,56"]}


def resnet50_stage():
    """ResNet-50's conv2_x stage (a bottleneck_stage of width 64, about
    1.4 GFLOP a run): 64 -> 64 -> 64 -> 256 with a projection shortcut,
    then two identity bottlenecks 256 -> 64 -> 64 -> 256."""
    return bottleneck_stage("resnet50_stage", 7, 64, 1, 107)


def resnet_wide_block():
    """A ResNet basic block of a late stage, narrowed to a 8x8 input: a
    strided 3x3 128 -> 256 and a 3x3 256 -> 256 (Conv + BatchNormalization
    (+ Relu)), a strided 1x1 projection shortcut, Add + Relu, then
    GlobalAveragePool, Flatten and a 10-class Gemm. Its 3x3 filters have
    rows of 256 floats (1 KiB), which the CPU layout pads; the map is small
    and the filters large, so its convs take their filter tiles outermost.
    Batch dynamic (1 here)."""
    b = Builder(22)
    y = conv_bn(b, "input", 128, 256, 3, "conv1", act="relu", stride=2)
    y = conv_bn(b, y, 256, 256, 3, "conv2")
    shortcut = conv_bn(b, "input", 128, 256, 1, "downsample", stride=2)
    x = b.node("Relu", [b.node("Add", [y, shortcut], name="add")], name="relu")
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], name="gap")],
               name="flatten", axis=1)
    b.node("Gemm", [x, b.weight("fc_w", [10, 256]), b.weight("fc_b", [10], 0.1)],
           ["logits"], name="fc", transB=1)
    model = b.model("resnet_wide_block",
                    [tensor_info("input", ["N", 128, 8, 8])],
                    [tensor_info("logits", ["N", 10])], 13)
    return model, random_inputs(122, [[1, 128, 8, 8]]), {
        "input_shapes": ["input=1,128,8,8"]}


def resnet50_stage_int8():
    """resnet50_stage quantized as ONNX Runtime's static quantizer writes it
    in the QOperator format: QuantizeLinear of the input (uint8, zero point
    128), every conv a QLinearConv (uint8 activations, int8 weights with a
    scale per output channel and zero points 0, int32 bias; Relu folded into
    a zero-point-0 output), residual adds as DequantizeLinear + Add + Relu +
    QuantizeLinear, DequantizeLinear of the output. Scales are fixed by
    hand (a unit-scale input, He-scaled weights), not calibrated. Weights
    take 7 bits (the quantizer's reduce_range, which ONNX Runtime advises
    for CPUs without VNNI): there its u8 x s8 kernels add pairs of products
    in int16 (vpmaddubsw), which saturates on 8-bit weights and would make
    the reference wrong."""
    b = Builder(17)
    u8 = np.uint8
    rng = b.rng

    def q(name, scale, zero):
        b.const(name + "_s", np.array(scale, dtype=np.float32))
        b.const(name + "_z", np.array(zero, dtype=u8))
        return name + "_s", name + "_z"

    def qconv(x, xq, cin, cout, k, prefix, relu):
        fan_in = cin * k * k
        w = rng.standard_normal((cout, cin, k, k)) * np.sqrt((2.0 if relu else 1.0) / fan_in)
        sw = (np.abs(w).reshape(cout, -1).max(axis=1) / 63).astype(np.float32)
        wq = np.clip(np.rint(w / sw[:, None, None, None]), -63, 63).astype(np.int8)
        b.const(prefix + "_w", wq)
        b.const(prefix + "_ws", sw)
        b.const(prefix + "_wz", np.zeros(cout, dtype=np.int8))
        sx = float(np.asarray(numpy_helper.to_array(
            next(i for i in b.inits if i.name == xq[0]))))
        bias = rng.standard_normal(cout) * 0.1
        b.const(prefix + "_b", np.rint(bias / (sx * sw)).astype(np.int32))
        yq = q(prefix + "_y", 0.03 if relu else 0.05, 0 if relu else 128)
        y = b.node("QLinearConv", [x, xq[0], xq[1], prefix + "_w", prefix + "_ws",
                                   prefix + "_wz", yq[0], yq[1], prefix + "_b"],
                   name=prefix, kernel_shape=[k, k], pads=[k // 2] * 4,
                   strides=[1, 1])
        return y, yq

    inq = q("input_q", 0.05, 128)
    x = b.node("QuantizeLinear", ["input", inq[0], inq[1]], name="quantize")
    xq = inq
    cin = 64
    for block in range(3):
        p = f"layer1_{block}"
        y, yq = qconv(x, xq, cin, 64, 1, p + "_conv1", True)
        y, yq = qconv(y, yq, 64, 64, 3, p + "_conv2", True)
        y, yq = qconv(y, yq, 64, 256, 1, p + "_conv3", False)
        if block:
            sc, scq = x, xq
        else:
            sc, scq = qconv(x, xq, cin, 256, 1, p + "_downsample", False)
        a = b.node("DequantizeLinear", [y, yq[0], yq[1]], name=p + "_dq")
        c = b.node("DequantizeLinear", [sc, scq[0], scq[1]], name=p + "_dq_shortcut")
        r = b.node("Relu", [b.node("Add", [a, c], name=p + "_add")], name=p + "_relu")
        xq = q(p + "_out", 0.05, 0)
        x = b.node("QuantizeLinear", [r, xq[0], xq[1]], name=p + "_quantize")
        cin = 256
    b.node("DequantizeLinear", [x, xq[0], xq[1]], ["output"], name="dequantize")
    model = b.model("resnet50_stage_int8",
                    [tensor_info("input", [1, 64, 56, 56])],
                    [tensor_info("output", [1, 256, 56, 56])], 13)
    return model, random_inputs(107, [[1, 64, 56, 56]]), {}


def mobilenetv2_block():
    """A MobileNetV2 inverted residual at 56x56x24, expansion 6: 1x1 conv
    24 -> 144 + BN + Clip(0, 6), depthwise 3x3 + BN + Clip(0, 6), 1x1
    project 144 -> 24 + BN, residual Add. Batch and spatial dims dynamic,
    fixed to 1x24x56x56."""
    b = Builder(8)
    clip = (b.scalar("relu6_min", 0.0), b.scalar("relu6_max", 6.0))
    y = conv_bn(b, "input", 24, 144, 1, "expand", act="relu6", clip=clip)
    y = conv_bn(b, y, 144, 144, 3, "depthwise", act="relu6", clip=clip, group=144)
    y = conv_bn(b, y, 144, 24, 1, "project")
    b.node("Add", [y, "input"], ["output"], name="residual")
    model = b.model("mobilenetv2_block",
                    [tensor_info("input", ["batch", 24, "height", "width"])],
                    [tensor_info("output", ["batch", 24, "height", "width"])], 13)
    return model, random_inputs(108, [[1, 24, 56, 56]]), {
        "input_shapes": ["input=1,24,56,56"]}


# --- Whole networks, for bench/model_perf.py only -------------------------

def imagenet_classifier(b, x, channels, name, seed):
    """The end of an ImageNet network on `x` (its last feature map):
    GlobalAveragePool, Flatten and a 1000-class Gemm; the model on a
    224x224 image, batch 1, its input drawn with `seed`."""
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], name="gap")],
               name="flatten", axis=1)
    b.node("Gemm", [x, b.weight("fc_w", [1000, channels]),
                    b.weight("fc_b", [1000], 0.1)],
           ["logits"], name="fc", transB=1)
    model = b.model(name, [tensor_info("image", ["batch", 3, 224, 224])],
                    [tensor_info("logits", ["batch", 1000])], 13)
    return model, random_inputs(seed, [[1, 3, 224, 224]]), {
        "input_shapes": ["image=1,3,224,224"]}

def resnet18():
    """torchvision's ResNet-18 at 224x224, batch 1 (1.8 GFLOP, 47 MB of
    weights): 7x7/2 stem + MaxPool, four stages of two basic blocks (strided
    3x3 and 1x1 projections where the stage starts), GlobalAveragePool and
    a 1000-class Gemm."""
    b = Builder(31)
    x = conv_bn(b, "image", 3, 64, 7, "stem", act="relu", stride=2)
    x = b.node("MaxPool", [x], name="stem_pool", kernel_shape=[3, 3],
               strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, (cout, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
        for block in range(2):
            s = stride if block == 0 else 1
            p = f"layer{stage + 1}_{block}"
            y = conv_bn(b, x, cin, cout, 3, p + "_conv1", act="relu", stride=s)
            y = conv_bn(b, y, cout, cout, 3, p + "_conv2")
            shortcut = (x if s == 1 and cin == cout else
                        conv_bn(b, x, cin, cout, 1, p + "_downsample", stride=s))
            x = b.node("Relu", [b.node("Add", [y, shortcut], name=p + "_add")],
                       name=p + "_relu")
            cin = cout
    return imagenet_classifier(b, x, 512, "resnet18", 131)


def mobilenetv2():
    """torchvision's MobileNetV2 (width 1.0) at 224x224, batch 1 (0.6
    GFLOP): 17 inverted residuals (1x1 expand, depthwise 3x3, strided where
    a stage starts, 1x1 project, Clip(0, 6)), a 1x1 conv to 1280,
    GlobalAveragePool and a 1000-class Gemm."""
    b = Builder(32)
    clip = (b.scalar("relu6_min", 0.0), b.scalar("relu6_max", 6.0))
    x = conv_bn(b, "image", 3, 32, 3, "stem", act="relu6", clip=clip, stride=2)
    cin, index = 32, 0
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for k in range(n):
            stride, hidden, p = (s if k == 0 else 1), cin * t, f"block{index}"
            index += 1
            y = x
            if t != 1:
                y = conv_bn(b, y, cin, hidden, 1, p + "_expand", act="relu6", clip=clip)
            y = conv_bn(b, y, hidden, hidden, 3, p + "_depthwise", act="relu6",
                        clip=clip, group=hidden, stride=stride)
            y = conv_bn(b, y, hidden, c, 1, p + "_project")
            x = (b.node("Add", [y, x], name=p + "_residual")
                 if stride == 1 and cin == c else y)
            cin = c
    x = conv_bn(b, x, cin, 1280, 1, "last", act="relu6", clip=clip)
    return imagenet_classifier(b, x, 1280, "mobilenetv2", 132)


def resnext50_stage():
    """ResNeXt-50 (32x4d)'s conv2_x stage: a bottleneck_stage of width 128
    whose 3x3 convs have 32 groups of 4."""
    return bottleneck_stage("resnext50_stage", 33, 128, 32, 133)


def mlp():
    """A small MLP, 784 -> 512 -> 512 -> 10, as torch exports nn.Linear
    (Gemm with transB=1) + Relu; dynamic batch, fixed to 32."""
    b = Builder(9)
    x = "input"
    dims = [784, 512, 512, 10]
    for i, (n_in, n_out) in enumerate(zip(dims, dims[1:])):
        last = i == len(dims) - 2
        w = b.weight(f"fc{i}_w", [n_out, n_in],
                     scale=float(np.sqrt((1.0 if last else 2.0) / n_in)))
        x = b.node("Gemm", [x, w, b.weight(f"fc{i}_b", [n_out], scale=0.1)],
                   *([["logits"]] if last else []), name=f"fc{i}", alpha=1.0,
                   beta=1.0, transB=1)
        if not last:
            x = b.node("Relu", [x], name=f"relu{i}")
    model = b.model("mlp", [tensor_info("input", ["batch", 784])],
                    [tensor_info("logits", ["batch", 10])], 13)
    return model, random_inputs(109, [[32, 784]]), {"input_shapes": ["input=32,784"]}


def external_weights():
    """256x256 constants stored in weights.bin beside the model."""
    b = Builder(4)
    x = b.node("Add", ["x", b.weight("bias_256x256", [256, 256], scale=1.0)],
               name="add_bias")
    x = b.node("Mul", [x, b.weight("scale_256x256", [256, 256], scale=1.0)],
               name="mul_scale")
    b.node("Relu", [x], ["y"], name="relu")
    model = b.model("external_weights", [tensor_info("x", [256, 256])],
                    [tensor_info("y", [256, 256])], 13)
    return model, random_inputs(104, [[256, 256]]), {"external": True}


def big_weights():
    """About 10 MB of weights (five 512x1024 f32 constants) on ops that
    import today: the import-speed and --elide-weights size checks."""
    b = Builder(5)
    shape = [512, 1024]
    x = "x"
    for i, op in enumerate(["Add", "Mul", "Add", "Mul", "Add"]):
        x = b.node(op, [x, b.weight(f"w{i}", shape, scale=1.0)], name=f"{op.lower()}_{i}")
        if i == 2:
            x = b.node("Relu", [x], name="relu")
    b.node("Tanh", [x], ["y"], name="tanh")
    model = b.model("big_weights", [tensor_info("x", shape)],
                    [tensor_info("y", shape)], 13)
    return model, random_inputs(105, [shape]), {}


# --- lit models (tiny; expected outputs by numpy) ---------------------------

def lit_broadcast_add():
    """[2,3,4] + [3,1]: one linalg.generic with broadcasting maps."""
    b = Builder(10)
    b.node("Add", ["a", "b"], ["sum"], name="add")
    model = b.model("lit_broadcast_add", [tensor_info("a", [2, 3, 4]),
                                          tensor_info("b", [3, 1])],
                    [tensor_info("sum", [2, 3, 4])], 13)
    a, c = random_inputs(110, [[2, 3, 4], [3, 1]])
    return model, [a, c], {"expected": [a + c]}


def lit_relu_clip():
    """Relu then Clip(-1, 0.5) (opset 13: bounds as inputs)."""
    b = Builder(11)
    r = b.node("Relu", ["x"], name="relu")
    b.node("Clip", [r, b.scalar("lo", -1.0), b.scalar("hi", 0.5)], ["y"], name="clip")
    model = b.model("lit_relu_clip", [tensor_info("x", [4, 8])],
                    [tensor_info("y", [4, 8])], 13)
    (x,) = random_inputs(111, [[4, 8]])
    expected = np.clip(np.maximum(x, 0), -1.0, 0.5).astype(np.float32)
    # A deliberately wrong expectation too: `hatc run --expect` must exit 2.
    return model, [x], {"expected": [expected], "wrong": [expected + 1.0]}


def lit_unsupported():
    """Op types hatc has no converter for, one in a custom domain."""
    b = Builder(12)
    x = b.node("Relu", ["x"], name="relu")
    # Op types no converter is planned for (data-dependent output shapes).
    y = b.node("NonZero", [x], name="nonzero_1")
    b.node("Unique", [y], ["vals"], name="unique_1")
    b.nodes.append(helper.make_node("MyOp", ["vals"], ["z"], name="custom_1",
                                    domain="com.example"))
    graph = helper.make_graph(b.nodes, "lit_unsupported", [tensor_info("x", [4, 8])],
                              [tensor_info("z", [4, 2])], b.inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    model.ir_version = 7
    return model, [], {}


def lit_passthrough():
    """Outputs that compute nothing next to one that does: the input itself,
    an Identity of it, and x @ w (once a crash in lowering: an input returned
    as a result, or one buffer returned twice)."""
    b = Builder(15)
    b.node("Identity", ["x"], ["same"], name="identity")
    b.node("MatMul", ["x", b.weight("w", [8, 6])], ["prod"], name="matmul")
    model = b.model("lit_passthrough", [tensor_info("x", [4, 8])],
                    [tensor_info("x", [4, 8]), tensor_info("same", [4, 8]),
                     tensor_info("prod", [4, 6])], 13)
    (x,) = random_inputs(115, [[4, 8]])
    w = numpy_helper.to_array(b.inits[0])
    return model, [x], {"expected": [x, x, (x @ w).astype(np.float32)]}


def lit_bad_arity(op, count):
    """A node with more or fewer inputs than its op takes (not valid ONNX)."""
    def make():
        b = Builder(16)
        b.node(op, ["x"] * count, ["y"], name="odd")
        return b.model("lit_bad_arity", [tensor_info("x", [4, 4])],
                       [tensor_info("y", [4, 4])], 13), [], {}
    return make


def lit_twice_written():
    """Two nodes writing one value: not valid ONNX (graphs are SSA)."""
    b = Builder(14)
    b.node("Relu", ["x"], ["y"], name="first")
    b.node("Neg", ["x"], ["y"], name="second")
    model = b.model("lit_twice_written", [tensor_info("x", [4])],
                    [tensor_info("y", [4])], 13)
    return model, [], {}


def lit_overcrop():
    """A Pad whose negative pads crop 20 from an axis of 8."""
    b = Builder(15)
    pads = b.const("pads", np.array([0, -20, 0, 0], dtype=np.int64))
    b.node("Pad", ["x", pads], ["y"], name="crop")
    model = b.model("lit_overcrop", [tensor_info("x", [4, 8])],
                    [tensor_info("y", [4, 0])], 13)
    return model, [], {}


def lit_opset18():
    """An Add at opset 18, newer than hatc supports."""
    b = Builder(13)
    b.node("Add", ["x", "x"], ["y"], name="add")
    model = b.model("lit_opset18", [tensor_info("x", [4])], [tensor_info("y", [4])], 18)
    return model, [], {}


def lit_dynamic():
    """An input with a named dynamic dim: needs --input-shape x=N,8, or
    input files (a 3x8 input and its Relu in test_data_set_0; a 3x9 one,
    against the model's fixed 8, in wrong_inputs)."""
    b = Builder(14)
    b.node("Relu", ["x"], ["y"], name="relu")
    model = b.model("lit_dynamic", [tensor_info("x", ["N", 8])],
                    [tensor_info("y", ["N", 8])], 13)
    x = random_inputs(123, [[3, 8]])
    return model, x, {"expected": [np.maximum(x[0], 0)],
                      "wrong_inputs": random_inputs(124, [[3, 9]])}


def lit_string_input():
    """A graph input of type string."""
    b = Builder(15)
    b.node("Identity", ["text"], ["same"], name="identity")
    model = b.model("lit_string_input",
                    [tensor_info("text", [2], TensorProto.STRING)],
                    [tensor_info("same", [2], TensorProto.STRING)], 13)
    return model, [], {}


def lit_corrupt():
    """A valid model's first bytes only: the protobuf does not parse."""
    model, _, _ = lit_relu_clip()
    return model, [], {"truncate": 40}


def lit_uint8():
    """uint8 values above 127 (i8 in the IR): unsigned Max, Less, Div,
    Cast to float and MaxPool."""
    b = Builder(16)
    u8 = TensorProto.UINT8
    b.node("Max", ["a", "b"], ["max"], name="max")
    b.node("Less", ["a", "b"], ["less"], name="less")
    b.node("Div", ["a", "b"], ["div"], name="div")
    b.node("Cast", ["a"], ["float"], name="cast", to=F32)
    b.node("MaxPool", ["x"], ["pool"], name="pool", kernel_shape=[2, 2],
           strides=[2, 2])
    model = b.model("lit_uint8",
                    [tensor_info("a", [6], u8), tensor_info("b", [6], u8),
                     tensor_info("x", [1, 2, 4, 4], u8)],
                    [tensor_info("max", [6], u8),
                     tensor_info("less", [6], TensorProto.BOOL),
                     tensor_info("div", [6], u8), tensor_info("float", [6]),
                     tensor_info("pool", [1, 2, 2, 2], u8)], 13)
    a = np.array([200, 3, 130, 255, 0, 127], dtype=np.uint8)
    c = np.array([100, 250, 129, 1, 7, 128], dtype=np.uint8)
    x = np.random.default_rng(116).integers(0, 256, (1, 2, 4, 4)).astype(np.uint8)
    pool = x.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5))
    return model, [a, c, x], {"expected": [np.maximum(a, c), a < c, a // c,
                                           a.astype(np.float32), pool]}


def lit_quant():
    """int8 QuantizeLinear/DequantizeLinear per axis, MatMulInteger (int8 x
    uint8, per-column zero points, batched), grouped strided ConvInteger."""
    b = Builder(17)
    i8, u8, i32 = TensorProto.INT8, TensorProto.UINT8, TensorProto.INT32
    b.node("QuantizeLinear", ["x", "s", "z"], ["q"], name="quantize", axis=0)
    b.node("DequantizeLinear", ["q", "s", "z"], ["d"], name="dequantize",
           axis=0)
    b.node("MatMulInteger", ["A", "B", "az", "bz"], ["mm"], name="matmul")
    b.node("ConvInteger", ["cx", "cw", "cxz", "cwz"], ["conv"], name="conv",
           pads=[1, 1, 1, 1], strides=[2, 2], group=2)
    model = b.model(
        "lit_quant",
        [tensor_info("x", [2, 4]), tensor_info("s", [2]),
         tensor_info("z", [2], i8), tensor_info("A", [2, 3, 5], i8),
         tensor_info("B", [5, 4], u8), tensor_info("az", [], i8),
         tensor_info("bz", [4], u8), tensor_info("cx", [1, 4, 5, 5], u8),
         tensor_info("cw", [4, 2, 3, 3], i8), tensor_info("cxz", [], u8),
         tensor_info("cwz", [4], i8)],
        [tensor_info("q", [2, 4], i8), tensor_info("d", [2, 4]),
         tensor_info("mm", [2, 3, 4], i32),
         tensor_info("conv", [1, 4, 3, 3], i32)], 13)
    rng = np.random.default_rng(117)
    x = np.array([[-3.3, 1.5, 2.5, 300.0], [-300, 0.49, 0.5, -0.5]],
                 dtype=np.float32)
    s = np.array([0.5, 2.0], dtype=np.float32)
    z = np.array([-3, 4], dtype=np.int8)
    q = np.clip(np.rint(x / s[:, None]) + z[:, None], -128, 127).astype(np.int8)
    d = ((q.astype(np.int32) - z[:, None]).astype(np.float32) * s[:, None])
    A = rng.integers(-128, 128, (2, 3, 5)).astype(np.int8)
    B = rng.integers(0, 256, (5, 4)).astype(np.uint8)
    az = np.array(-7, dtype=np.int8)
    bz = np.array([200, 3, 129, 0], dtype=np.uint8)
    mm = np.matmul(A.astype(np.int32) - az, B.astype(np.int32) - bz)
    cx = rng.integers(0, 256, (1, 4, 5, 5)).astype(np.uint8)
    cw = rng.integers(-128, 128, (4, 2, 3, 3)).astype(np.int8)
    cxz = np.array(150, dtype=np.uint8)
    cwz = np.array([1, -2, 3, 0], dtype=np.int8)
    xs = np.pad(cx.astype(np.int32) - 150, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ws = cw.astype(np.int32) - cwz[:, None, None, None]
    conv = np.zeros((1, 4, 3, 3), dtype=np.int32)
    for f in range(4):
        g = f // 2
        for i in range(3):
            for j in range(3):
                conv[0, f, i, j] = (xs[0, 2 * g:2 * g + 2, 2 * i:2 * i + 3,
                                       2 * j:2 * j + 3] * ws[f]).sum()
    return model, [x, s, z, A, B, az, bz, cx, cw, cxz, cwz], {
        "expected": [q, d, mm, conv]}


def lit_qconv():
    """Integer convs as quantizers write them: a constant int8 weight without
    (or with an all-zero) zero point and a constant input zero point, which
    the importer runs on the 8-bit values (narrowIntegerConv). 64 channels
    and 32 filters: on a CPU with AMX, cpu_conv_amx. ConvInteger of uint8
    (zero point 131, padded) and of int8 (zero point -5, stride 2), exact;
    QLinearConv (uint8 in and out, per-channel weight scales, bias, stride
    2, padded), its requantization rounded as numpy does in float32."""
    b = Builder(19)
    i8, u8, i32 = TensorProto.INT8, TensorProto.UINT8, TensorProto.INT32
    rng = np.random.default_rng(119)
    w = rng.integers(-128, 128, (32, 64, 3, 3)).astype(np.int8)
    b.const("w", w)
    b.const("zx_u8", np.array(131, dtype=np.uint8))
    b.const("zx_i8", np.array(-5, dtype=np.int8))
    b.const("zw", np.zeros(32, dtype=np.int8))
    b.node("ConvInteger", ["xu", "w", "zx_u8"], ["conv_u8"], name="conv_u8",
           pads=[1, 1, 1, 1])
    b.node("ConvInteger", ["xs", "w", "zx_i8", "zw"], ["conv_i8"], name="conv_i8",
           strides=[2, 2])
    sx = np.array(0.02, dtype=np.float32)
    sw = (rng.random(32) * 0.01 + 0.001).astype(np.float32)
    sy = np.array(0.5, dtype=np.float32)
    zy = np.array(100, dtype=np.uint8)
    bias = rng.integers(-5000, 5000, 32).astype(np.int32)
    for name, value in (("sx", sx), ("sw", sw), ("sy", sy), ("zy", zy),
                        ("bias", bias)):
        b.const(name, value)
    b.node("QLinearConv", ["xu", "sx", "zx_u8", "w", "sw", "zw", "sy", "zy", "bias"],
           ["qconv"], name="qconv", pads=[1, 1, 1, 1], strides=[2, 2])
    model = b.model(
        "lit_qconv",
        [tensor_info("xu", [1, 64, 6, 7], u8), tensor_info("xs", [1, 64, 7, 9], i8)],
        [tensor_info("conv_u8", [1, 32, 6, 7], i32),
         tensor_info("conv_i8", [1, 32, 3, 4], i32),
         tensor_info("qconv", [1, 32, 3, 4], u8)], 13)
    xu = rng.integers(0, 256, (1, 64, 6, 7)).astype(np.uint8)
    xs = rng.integers(-128, 128, (1, 64, 7, 9)).astype(np.int8)

    def conv(x, stride):
        _, _, h, wd = x.shape
        oh, ow = (h - 3) // stride + 1, (wd - 3) // stride + 1
        out = np.zeros((1, 32, oh, ow), dtype=np.int64)
        wl = w.astype(np.int64)
        for i in range(oh):
            for j in range(ow):
                patch = x[0, :, i * stride:i * stride + 3, j * stride:j * stride + 3]
                out[0, :, i, j] = (wl * patch[None]).sum(axis=(1, 2, 3))
        return out

    pad = lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv_u8 = conv(pad(xu.astype(np.int64) - 131), 1).astype(np.int32)
    conv_i8 = conv(xs.astype(np.int64) + 5, 2).astype(np.int32)
    acc = conv(pad(xu.astype(np.int64) - 131), 2) + bias[None, :, None, None]
    scale = (sx * sw / sy).astype(np.float32)[None, :, None, None]
    y = np.rint(acc.astype(np.float32) * scale) + np.float32(100)
    qconv = np.clip(y, 0, 255).astype(np.uint8)
    return model, [xu, xs], {"expected": [conv_u8, conv_i8, qconv]}


def lit_ops():
    """Representative ops for the importer's IR: a padded, strided Conv with
    bias, an exporter-style Shape -> Gather -> Unsqueeze -> Concat ->
    Reshape chain, MatMul, a Gather with run-time indices, Softmax."""
    b = Builder(18)
    conv = b.node("Conv", ["x", b.weight("w", [4, 3, 3, 3]), b.weight("bias", [4])],
                  name="conv", pads=[1, 1, 1, 1], strides=[2, 2])
    shape = b.node("Shape", [conv], name="shape")
    batch = b.node("Gather", [shape, b.ints("zero", 0)], name="batch", axis=0)
    batch1 = b.node("Unsqueeze", [batch, b.ints("axes0", [0])], name="unsq")
    target = b.node("Concat", [batch1, b.ints("rest", [-1])], name="target", axis=0)
    flat = b.node("Reshape", [conv, target], name="flatten")
    mm = b.node("MatMul", [flat, b.weight("fc_w", [64, 6])], name="fc")
    b.node("Softmax", [mm], ["probs"], name="softmax", axis=-1)
    b.node("Gather", [b.weight("table", [10, 5]), "ids"], ["rows"], name="embed",
           axis=0)
    model = b.model("lit_ops",
                    [tensor_info("x", [2, 3, 8, 8]),
                     tensor_info("ids", [3], TensorProto.INT64)],
                    [tensor_info("probs", [2, 6]), tensor_info("rows", [3, 5])], 13)
    return model, [], {}


def lit_int_div():
    """Integer Div and Mod by 0 and INT_MIN / -1: no trap (SIGFPE); a zero
    divisor gives 0 (ONNX leaves it undefined), MIN / -1 wraps."""
    b = Builder(19)
    i32 = TensorProto.INT32
    b.node("Div", ["a", "b"], ["q"], name="div")
    b.node("Mod", ["a", "b"], ["r"], name="mod")
    model = b.model("lit_int_div",
                    [tensor_info("a", [6], i32), tensor_info("b", [6], i32)],
                    [tensor_info("q", [6], i32), tensor_info("r", [6], i32)], 13)
    a = np.array([7, -7, 5, -2147483648, 9, -9], dtype=np.int32)
    c = np.array([2, 2, 0, -1, -4, 0], dtype=np.int32)
    q = np.array([3, -3, 0, -2147483648, -2, 0], dtype=np.int32)
    r = np.array([1, 1, 0, 0, -3, 0], dtype=np.int32)
    return model, [a, c], {"expected": [q, r]}


# Small models: cheap enough for every model-test run, on cpu and hwacc.
SMALL_MODELS = {
    "elementwise_chain": elementwise_chain,
    "mobilenet_block": mobilenet_block,
    "bert_layer": bert_layer,
    "bert_model": bert_model,
    "cnn_mixed": cnn_mixed,
    "resnet_wide_block": resnet_wide_block,
    "gpt_block": gpt_block,
    "external_weights": external_weights,
    "big_weights": big_weights,
    "mobilenetv2_block": mobilenetv2_block,
    "mlp": mlp,
}
# Full-size layers of real networks (1-2 GFLOP a run, up to 28 MB of
# weights): a few seconds each on cpu and on hwacc's device model here, so
# the model tests run them too; `small` leaves them out where that matters.
LARGE_MODELS = {
    "bert_base_layer": bert_base_layer,
    "resnet50_stage": resnet50_stage,
    "resnet50_stage_int8": resnet50_stage_int8,
}
E2E_MODELS = {**SMALL_MODELS, **LARGE_MODELS}
# Whole networks (0.6-1.8 GFLOP, up to 47 MB of weights): bench inputs for
# bench/model_perf.py, which checks them against ONNX Runtime; no ctest
# entry runs them.
NETWORK_MODELS = {
    "resnet18": resnet18,
    "mobilenetv2": mobilenetv2,
    "resnext50_stage": resnext50_stage,
}
# What bench/model_perf.py runs by default.
BENCH_MODELS = ["bert_base_layer", "resnet50_stage", "mobilenetv2_block", "mlp"]
LIT_MODELS = {
    "lit_broadcast_add": lit_broadcast_add,
    "lit_relu_clip": lit_relu_clip,
    "lit_ops": lit_ops,
    "lit_qconv": lit_qconv,
    "lit_int_div": lit_int_div,
    "lit_unsupported": lit_unsupported,
    "lit_twice_written": lit_twice_written,
    "lit_passthrough": lit_passthrough,
    "lit_matmul_one_input": lit_bad_arity("MatMul", 1),
    "lit_sub_three_inputs": lit_bad_arity("Sub", 3),
    "lit_overcrop": lit_overcrop,
    "lit_opset18": lit_opset18,
    "lit_dynamic": lit_dynamic,
    "lit_string_input": lit_string_input,
    "lit_corrupt": lit_corrupt,
    "lit_uint8": lit_uint8,
    "lit_quant": lit_quant,
}
ALL_MODELS = {**E2E_MODELS, **NETWORK_MODELS, **LIT_MODELS}
SETS = {
    "small": list(SMALL_MODELS),
    "large": list(LARGE_MODELS),
    "e2e": list(E2E_MODELS),
    "bench": BENCH_MODELS,
    "networks": list(NETWORK_MODELS),
    "lit": list(LIT_MODELS),
    "all": list(ALL_MODELS),
}


def write_tensors(folder, prefix, arrays):
    os.makedirs(folder, exist_ok=True)
    for i, array in enumerate(arrays):
        with open(os.path.join(folder, f"{prefix}_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(array).SerializeToString())


def write_model(out, name):
    model, inputs, extra = ALL_MODELS[name]()
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    for stale in ("model.onnx", "weights.bin"):
        if os.path.exists(os.path.join(folder, stale)):
            os.remove(os.path.join(folder, stale))
    if extra.get("external"):
        onnx.save_model(model, path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location="weights.bin",
                        size_threshold=0)
    elif "truncate" in extra:
        with open(path, "wb") as f:
            f.write(model.SerializeToString()[:extra["truncate"]])
    else:
        onnx.save_model(model, path)
    if inputs:
        data = os.path.join(folder, "test_data_set_0")
        write_tensors(data, "input", inputs)
        if "expected" in extra:
            write_tensors(data, "output", extra["expected"])
        if "wrong" in extra:
            write_tensors(os.path.join(folder, "wrong_expected"), "output",
                          extra["wrong"])
        if "wrong_inputs" in extra:
            write_tensors(os.path.join(folder, "wrong_inputs"), "input",
                          extra["wrong_inputs"])
    if extra.get("input_shapes"):
        with open(os.path.join(folder, "input_shapes.txt"), "w") as f:
            f.write("\n".join(extra["input_shapes"]) + "\n")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder to write the models into")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="write only this model (repeatable; any model, "
                             "lit ones included)")
    parser.add_argument("--set", action="append", choices=list(SETS),
                        help="write a set of models (repeatable): small (the "
                             "default without --only), large, e2e (small and "
                             "large), bench, lit, all")
    parser.add_argument("--list", action="store_true",
                        help="print the model names and exit")
    args = parser.parse_args()
    if args.list:
        for name in ALL_MODELS:
            sets = [s for s in SETS if s != "all" and name in SETS[s]]
            print(name, f"({', '.join(sets)})")
        return 0
    if not args.out:
        parser.error("--out DIR is required")
    names = list(args.only or [])
    for chosen in args.set or ([] if names else ["small"]):
        names += [n for n in SETS[chosen] if n not in names]
    unknown = [n for n in names if n not in ALL_MODELS]
    if unknown:
        sys.exit(f"make_models.py: unknown model(s) {', '.join(unknown)}; "
                 f"known: {', '.join(ALL_MODELS)}")
    for name in names:
        write_model(args.out, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
