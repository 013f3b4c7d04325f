"""What the machine can do, and the precision and attention kernel to train with.

- bf16 on GPUs of compute capability 8.0 and newer (A100, L4, H100), with TF32
  matrix products for what stays in float32;
- fp16 mixed precision on older GPUs such as Colab's T4 (7.5), which has no bf16;
  the compute capability decides, never `torch.cuda.is_bf16_supported()`, which
  says True on a T4 because torch emulates bf16 there (slowly);
- fp32 on a CPU, where mixed precision gives no speed.
- FlashAttention 2 when the `flash_attn` package is installed and the GPU is an
  Ampere or newer; otherwise PyTorch's scaled-dot-product attention (SDPA).

Example:
    >>> t4 = Hardware("cuda", "Tesla T4", (7, 5), flash_attn_installed=False)
    >>> choose_precision("auto", t4), choose_attention("auto", t4)
    ('fp16', 'sdpa')
"""

import importlib.util
from dataclasses import dataclass

import torch

from .errors import AgNewsError, setting

BF16_MIN_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class Hardware:
    """The device training runs on. capability is the CUDA compute capability, or None."""

    device: str
    name: str
    capability: tuple | None = None
    flash_attn_installed: bool = False

    @property
    def has_bf16(self) -> bool:
        return self.capability is not None and tuple(self.capability) >= BF16_MIN_CAPABILITY


def detect_hardware() -> Hardware:
    """Look at the machine: the first CUDA GPU if there is one, else the CPU."""
    if torch.cuda.is_available():
        return Hardware("cuda", torch.cuda.get_device_name(0), tuple(torch.cuda.get_device_capability(0)),
                        flash_attn_installed=importlib.util.find_spec("flash_attn") is not None)
    return Hardware(device="cpu", name="CPU")


def choose_precision(requested: str, hardware: Hardware) -> str:
    """bf16, fp16 or fp32: the user's choice if the hardware allows it, else the best it has."""
    if requested == "auto":
        return "fp32" if hardware.device != "cuda" else "bf16" if hardware.has_bf16 else "fp16"
    if requested == "bf16" and hardware.device == "cuda" and not hardware.has_bf16:
        raise AgNewsError(f"{setting('precision', 'bf16')} needs an Ampere or newer GPU; the {hardware.name} has "
                          "none: use fp16 or auto", field="precision")
    if requested == "fp16" and hardware.device != "cuda":
        raise AgNewsError(f"{setting('precision', 'fp16')} needs a CUDA GPU; on this machine use fp32 or auto",
                          field="precision")
    return requested


def choose_attention(requested: str, hardware: Hardware, precision: str = "auto") -> str:
    """The attention kernel: FlashAttention 2 where it can run (16-bit, Ampere or newer), else SDPA."""
    sixteen_bit = choose_precision(precision, hardware) in ("bf16", "fp16")
    flash_possible = hardware.device == "cuda" and hardware.has_bf16 and hardware.flash_attn_installed and sixteen_bit
    if requested == "auto":
        return "flash_attention_2" if flash_possible else "sdpa"
    if requested == "flash_attention_2" and not flash_possible:
        raise AgNewsError(f"{setting('attention', 'flash_attention_2')} needs the flash_attn package, an Ampere or "
                          "newer GPU and bf16 or fp16; use sdpa or auto", field="attention")
    return requested


def describe_choice(hardware: Hardware, precision: str, attention: str) -> str:
    """One line for the student. Example: "Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention" """
    compute = f", compute {hardware.capability[0]}.{hardware.capability[1]}" if hardware.capability else ""
    mode = "fp32 (full precision)" if precision == "fp32" else f"{precision} mixed precision"
    return f"{hardware.name} ({hardware.device}{compute}): {mode}, {attention} attention"
