import pytest

from agnews_bert import AgNewsError

from agnews_bert.hardware import Hardware, choose_attention, choose_precision, describe_choice

CPU = Hardware("cpu", "CPU")
T4 = Hardware("cuda", "Tesla T4", (7, 5), flash_attn_installed=True)
V100 = Hardware("cuda", "Tesla V100", (7, 0))
A100 = Hardware("cuda", "NVIDIA A100", (8, 0))
L4 = Hardware("cuda", "NVIDIA L4", (8, 9))
H100_FLASH = Hardware("cuda", "NVIDIA H100", (9, 0), flash_attn_installed=True)


@pytest.mark.parametrize(
    "hardware, precision, attention",
    [
        (CPU, "fp32", "sdpa"),
        (T4, "fp16", "sdpa"),  # flash-attn installed, but a T4 cannot run it
        (V100, "fp16", "sdpa"),
        (A100, "bf16", "sdpa"),  # no flash-attn package
        (L4, "bf16", "sdpa"),
        (H100_FLASH, "bf16", "flash_attention_2"),
    ],
)
def test_auto_choices_per_compute_capability(hardware, precision, attention):
    assert choose_precision("auto", hardware) == precision
    assert choose_attention("auto", hardware) == attention


def test_overrides_are_kept_when_the_hardware_allows_them():
    assert choose_precision("fp32", A100) == "fp32"
    assert choose_precision("fp16", A100) == "fp16"
    assert choose_attention("eager", H100_FLASH) == "eager"


def test_impossible_overrides_say_what_to_use():
    with pytest.raises(AgNewsError, match="Tesla T4 has none: use fp16 or auto"):
        choose_precision("bf16", T4)
    with pytest.raises(AgNewsError, match="needs a CUDA GPU"):
        choose_precision("fp16", CPU)
    with pytest.raises(AgNewsError, match="flash_attn package, an Ampere or newer GPU and bf16"):
        choose_attention("flash_attention_2", T4)


def test_description_names_gpu_and_precision():
    assert describe_choice(T4, "fp16", "sdpa") == "Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention"


def test_detect_hardware_reads_a_faked_gpu(monkeypatch):
    import torch

    from agnews_bert import detect_hardware

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: (7, 5))
    hardware = detect_hardware()
    assert (hardware.device, hardware.name, hardware.capability) == ("cuda", "Tesla T4", (7, 5))
    assert (choose_precision("auto", hardware), choose_attention("auto", hardware)) == ("fp16", "sdpa")


def test_trainer_settings_on_a_t4_and_on_the_cpu(tmp_path):
    import agnews_bert as ab

    config = ab.RunConfig.from_preset("smoke", precision="auto", output_dir=str(tmp_path))
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    on_t4 = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path / "t4", hardware=T4)
    on_cpu = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path / "cpu", hardware=CPU)
    assert (on_t4.args.fp16, on_t4.args.bf16, on_t4.args.dataloader_pin_memory) == (True, False, True)
    assert (on_cpu.args.fp16, on_cpu.args.bf16, on_cpu.args.dataloader_pin_memory) == (False, False, False)
    assert on_t4.data_collator.pad_to_multiple_of == 8 and on_cpu.data_collator.pad_to_multiple_of is None
    assert on_t4.args.per_device_eval_batch_size == 4 * config.batch_size


def test_flash_attention_is_not_chosen_for_full_precision():
    assert choose_attention("auto", H100_FLASH, precision="fp32") == "sdpa"
    assert choose_attention("auto", H100_FLASH, precision="bf16") == "flash_attention_2"


def test_a_t4_that_claims_bf16_still_trains_in_fp16(monkeypatch):
    """torch.cuda.is_bf16_supported() says True on a T4 (bf16 emulated, slowly): only the capability counts."""
    import torch

    from agnews_bert import detect_hardware

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla T4")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: (7, 5))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    hardware = detect_hardware()
    assert choose_precision("auto", hardware) == "fp16"
    with pytest.raises(AgNewsError, match="Tesla T4 has none: use fp16 or auto"):
        choose_precision("bf16", hardware)
