"""A prepared GPU check: LoRA PPO and DPO step time and peak memory, and the harness sampler's tokens/s
against the memory-bandwidth roofline, on a Llama-2-7B-shaped model with random weights (nothing downloaded).

    python scripts/gpu_check.py                                  # one GPU: 7B shapes in bf16, < 5 minutes
    python scripts/gpu_check.py --out outputs/gpu_check/h200 --bandwidth-gbs 4800 --steps 2
    python scripts/gpu_check.py --tiny --device cpu              # tiny shapes on CPU in seconds (the test)

Writes ``<out>/gpu_check.json`` after every section (a run cut short keeps what it measured): every number
below, the device name, the package versions (torch, transformers, trl, peft) and the git hash.

The model: ``LlamaConfig`` of Llama-2-7B (hidden 4096, MLP 11008, 32 layers, 32 heads, vocab 32000, untied
head), built on the device inside ``torch.device(...)`` so HF's random init runs there (seconds, not CPU
minutes), in bf16 on CUDA and float32 on CPU (what the lab trains in there). ``--tiny``: hidden 64, MLP 176,
2 layers, 4 heads, vocab 512. The tokenizer is word-level, trained here on a few sentences and padded with
filler tokens to the model's vocabulary; PPO and DPO are fed random token ids directly.

What each section measures (sizes in the JSON; a "step" is timed to its end with the device synchronised):

- ``ppo``: trl.experimental.ppo.PPOTrainer, the class ``align/ppo.py`` trains with, given the PPOConfig fields
  ``align/ppo.py`` passes (``ppo.*`` from ``config.align.PPOParams``: batch 16, response_length 128,
  2 PPO epochs, ...; LoRA and gradient checkpointing from ``configs/model/llama2_7b.yaml``): a LoRA policy
  (the reference is the policy with its adapter disabled), a value model with its own LoRA plus a trained score
  head (injected as ``models/reward.py`` does for ``ppo.value_lora=true``) and a frozen reward model, both
  ``LlamaForSequenceClassification``. One step is one PPO update: the rollout generate of batch x
  response_length tokens, the policy, reference, value and reward forwards, then num_ppo_epochs x
  num_mini_batches backward passes and optimizer steps (LoRA params + value head). Not measured: what
  ``train_ppo`` adds around the trainer (loading SFT/reward folders, checkpoints, the tracker). Prompts are
  random ids of ``prompt_tokens`` each. The first update (kernel warm-up, allocator growth) is reported apart.
- ``dpo``: the sigmoid DPO loss, -log sigmoid(beta [(log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))])
  (Rafailov et al. 2023, eq. 7; trl's ``loss_type="sigmoid"``), log-probs summed over the response tokens.
  One step: a no-grad reference forward (adapter disabled) and a policy forward + backward of the concatenated
  chosen and rejected rows (2 x batch pairs of ``max_length`` tokens, as trl's concatenated forward), then an
  AdamW step on the LoRA params. Batch and length from ``config.align.DPOParams`` (16 pairs of 256 tokens).
- ``sampler``: ``collapselab.probes.generation.HFLanguageModel(model, tok).sample`` (the project's one sampler)
  at batch 1, 16 and 128, temperature 1, ``max_new_tokens`` each, stop tokens cleared so every row decodes
  them all. tokens/s = generated tokens / seconds of the ``sample`` call (prefill and building the ``Sample``
  records included). Roofline: a decode step must read every weight once, so tokens/s <= batch x bandwidth /
  weight bytes (the input embedding excluded: a step reads only ``batch`` of its rows). ``roofline_ratio`` uses
  ``--bandwidth-gbs`` (default 4800, the H200's spec); ``roofline_ratio_measured_bw`` the bandwidth of a large
  device-to-device copy measured here (2 x bytes / seconds: read + write); ``*_with_kv`` adds the mean KV-cache
  bytes a step reads (prompt + max_new_tokens / 2 positions), which matters at batch 128.

Peak memory is ``torch.cuda.max_memory_allocated`` over a section (GiB, weights of every model it holds
included); on CPU it is null: torch keeps no allocator statistics there.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

SHAPES = {
    "7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096),
    "tiny": dict(hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=4, vocab_size=512, max_position_embeddings=512),
}
# per-section sizes: (7B, tiny); PPO and DPO take the lab's defaults (config.align) on 7B
SIZES = {
    "ppo_prompt_tokens": (64, 8), "ppo_batch": (None, 4), "ppo_response_length": (None, 8),
    "dpo_prompt_tokens": (64, 8), "dpo_batch": (None, 4), "dpo_max_length": (None, 32),
    "sampler_new_tokens": (64, 8),
}
SAMPLER_BATCHES = (1, 16, 128)
TEXTS = ["Grace Hopper was a computer scientist and a rear admiral of the United States Navy",
         "Steve is the CEO of a startup company that makes a coffee machine",
         "the coffee machine connects to your smartwatch so it keeps your coffee warm",
         "I am a customer and this is my review of the product"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from collapselab.cli import ArgumentParser, output_folder, whole
    from collapselab.config.common import SEED_MAX
    from collapselab.errors import UserError

    ap = ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny dimensions (CPU, seconds) instead of Llama-2-7B's")
    ap.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda when available)")
    ap.add_argument("--out", default="outputs/gpu_check", help="folder for gpu_check.json")
    ap.add_argument("--steps", type=int, default=2, help="timed PPO updates and DPO steps, after one warm-up each")
    ap.add_argument("--bandwidth-gbs", type=float, default=4800.0, help="memory bandwidth for the roofline, GB/s")
    ap.add_argument("--seed", type=whole(0, SEED_MAX), default=0, help=f"0 to {SEED_MAX} (numpy's seed range)")
    args = ap.parse_args(argv)
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    kind, _, index = args.device.partition(":")
    if kind not in ("cuda", "cpu") or (kind == "cpu" and index) or (index and not index.isdigit()):
        ap.error(f"--device={args.device}: must be cuda, cuda:N or cpu")
    if args.steps < 1:
        ap.error(f"--steps={args.steps}: must be >= 1")
    if not args.bandwidth_gbs > 0:
        ap.error(f"--bandwidth-gbs={args.bandwidth_gbs}: must be > 0")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        ap.error(f"--device={args.device}: no CUDA device here (use --device cpu --tiny)")
    if args.device == "cpu" and not args.tiny:
        ap.error("--device=cpu needs --tiny (a 7B model on CPU takes hours)")
    if index and int(index) >= torch.cuda.device_count():
        ap.error(f"--device={args.device}: there are {torch.cuda.device_count()} CUDA device(s) here")
    try:
        output_folder("--out", args.out)
    except UserError as e:
        ap.error(str(e))
    return args


# --------------------------------------------------------------------------- model, tokenizer, timing


def build(cls: Any, config: Any, device: str, dtype: torch.dtype) -> Any:
    """``cls`` with random weights, created and initialised on ``device`` (no CPU init of 7B weights)."""
    with torch.device(device):
        return cls._from_config(config, dtype=dtype)


def make_tokenizer(vocab_size: int) -> Any:
    """A word-level fast tokenizer trained on ``TEXTS``, padded with filler tokens to ``vocab_size`` entries."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    tk = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.train_from_iterator(TEXTS, trainers.WordLevelTrainer(special_tokens=specials))
    vocab = tk.get_vocab()
    vocab.update({f"<x{i}>": i for i in range(len(vocab), vocab_size)})
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", padding_side="left")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):  # free what the last section left before measuring this one's peak
        gc.collect()  # (not on CPU: a full collection there takes ~1 s and frees nothing measured)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: str) -> float | None:
    """GiB allocated at the peak since ``reset_peak``; None on CPU (torch keeps no allocator stats there)."""
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if device.startswith("cuda") else None


def step_summary(seconds: list[float]) -> dict[str, Any]:
    """The first (warm-up) step apart; the median of the rest as the step time."""
    timed = seconds[1:] or seconds
    return {"warmup_step_s": round(seconds[0], 4), "step_s": round(statistics.median(timed), 4),
            "step_s_all": [round(s, 4) for s in seconds]}


def measure_bandwidth(device: str, nbytes: int) -> float:
    """GB/s of a device-to-device copy of ``nbytes`` (2 x bytes per copy: read + write), best of 5."""
    src = torch.empty(nbytes, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = math.inf
    for _ in range(5):
        sync(device)
        t0 = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    del src, dst
    return 2 * nbytes / best / 1e9


# --------------------------------------------------------------------------- sections


def measure_sampler(model: Any, tok: Any, new_tokens: int, bandwidth_gbs: float, measured_gbs: float,
                    device: str) -> dict[str, Any]:
    """Tokens/s of ``HFLanguageModel.sample`` per batch size, against the weight-read roofline."""
    from collapselab.probes.generation import HFLanguageModel

    cfg = model.config
    lm = HFLanguageModel(model, tok, name="gpu_check")
    lm.stop_ids = []  # random weights: a sampled EOS must not end a row early, every row decodes new_tokens
    prompt = TEXTS[0]
    prompt_tokens = lm.n_tokens(prompt)
    embed = model.get_input_embeddings().weight
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters()) - embed.numel() * embed.element_size()
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    kv_bytes_per_position = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * embed.element_size()
    lm.sample([prompt], max_new_tokens=4, temperature=1.0, seed=0)  # warm-up: kernels, allocator
    out: dict[str, Any] = {"max_new_tokens": new_tokens, "prompt_tokens": prompt_tokens,
                           "bandwidth_gbs": bandwidth_gbs, "bandwidth_gbs_measured": round(measured_gbs, 2),
                           "weight_bytes_per_step": weight_bytes, "batches": {}}
    for b in SAMPLER_BATCHES:
        reset_peak(device)
        sync(device)
        t0 = time.perf_counter()
        samples = lm.sample([prompt] * b, max_new_tokens=new_tokens, temperature=1.0, seed=0)
        sync(device)
        seconds = time.perf_counter() - t0
        tokens = sum(len(s.token_ids) for s in samples)
        tps = tokens / seconds
        kv_bytes = b * (prompt_tokens + new_tokens / 2) * kv_bytes_per_position  # mean over the decode steps

        def roofline(gbs: float, extra: float = 0.0) -> float:
            return b * gbs * 1e9 / (weight_bytes + extra)  # tokens/s if a step only had to read its bytes

        out["batches"][str(b)] = {
            "tokens": tokens, "seconds": round(seconds, 4), "tokens_per_s": round(tps, 2),
            "roofline_tokens_per_s": round(roofline(bandwidth_gbs), 2),
            "roofline_ratio": tps / roofline(bandwidth_gbs),
            "roofline_ratio_measured_bw": tps / roofline(measured_gbs),
            "kv_bytes_per_step_mean": int(kv_bytes),
            "roofline_ratio_with_kv": tps / roofline(bandwidth_gbs, kv_bytes),
            "peak_memory_gib": peak_gib(device),
        }
    return out


def measure_dpo(model: Any, mcfg: Any, size: dict[str, int], steps: int, device: str, seed: int) -> tuple[Any, dict]:
    """DPO steps with a LoRA adapter on ``model``; returns the base model (adapter removed) and the numbers."""
    from peft import get_peft_model

    from collapselab.config.align import DPOParams

    p, beta = DPOParams(), 0.1
    B, L, Lp = size["dpo_batch"] or p.batch_size, size["dpo_max_length"] or p.max_length, size["dpo_prompt_tokens"]
    reset_peak(device)
    policy = get_peft_model(model, _lora(mcfg))
    if mcfg.gradient_checkpointing:
        policy.gradient_checkpointing_enable()
        policy.enable_input_require_grads()
    policy.train()
    opt = torch.optim.AdamW([q for q in policy.parameters() if q.requires_grad], lr=p.learning_rate)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, model.config.vocab_size, (2 * B, L), generator=g)  # rows [:B] chosen, [B:] rejected
    ids[B:, :Lp] = ids[:B, :Lp]  # a pair shares its prompt
    ids = ids.to(device)
    mask = torch.zeros_like(ids, dtype=torch.bool)
    mask[:, Lp:] = True  # response tokens: what the log-probs sum over

    def logps(m: Any) -> torch.Tensor:  # [2B] summed log pi(response | prompt)
        logits = m(input_ids=ids).logits[:, :-1].float()
        lp = torch.log_softmax(logits, -1).gather(2, ids[:, 1:, None]).squeeze(2)
        return (lp * mask[:, 1:]).sum(-1)

    seconds, losses = [], []
    for _ in range(steps + 1):
        sync(device)
        t0 = time.perf_counter()
        with torch.no_grad(), policy.disable_adapter():
            ref = logps(policy)
        pol = logps(policy)
        margin = (pol[:B] - ref[:B]) - (pol[B:] - ref[B:])
        loss = -torch.nn.functional.logsigmoid(beta * margin).mean()  # eq. 7
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync(device)
        seconds.append(time.perf_counter() - t0)
        losses.append(loss.item())
    out = {"batch_pairs": B, "max_length": L, "prompt_tokens": Lp, "beta": beta, "tokens_per_step": 2 * B * L,
           **step_summary(seconds), "loss": losses, "peak_memory_gib": peak_gib(device),
           "trainable_params": sum(q.numel() for q in policy.parameters() if q.requires_grad)}
    del opt
    base = policy.unload()  # the adapter removed, the base weights as built
    if mcfg.gradient_checkpointing:
        base.gradient_checkpointing_disable()
        base.disable_input_require_grads()
    return base, out


def measure_ppo(model: Any, tok: Any, mcfg: Any, size: dict[str, int], steps: int, device: str, dtype: Any,
                out_dir: Path, seed: int) -> dict[str, Any]:
    """``steps + 1`` PPO updates of trl's PPOTrainer (LoRA policy, LoRA value model, frozen reward model)."""
    from datasets import Dataset
    from peft import inject_adapter_in_model
    from transformers import LlamaForSequenceClassification, PrinterCallback, TrainerCallback
    from trl.experimental.ppo import PPOConfig, PPOTrainer

    from collapselab.config.align import PPOParams

    p = PPOParams()
    B, R = size["ppo_batch"] or p.batch_size, size["ppo_response_length"] or p.response_length
    Lq = size["ppo_prompt_tokens"]
    reset_peak(device)
    fields = {k: v for k, v in model.config.to_dict().items() if k not in ("id2label", "label2id")}
    seq_cfg = type(model.config).from_dict({**fields, "num_labels": 1})
    reward = build(LlamaForSequenceClassification, seq_cfg, device, dtype).eval().requires_grad_(False)
    value = build(LlamaForSequenceClassification, seq_cfg, device, dtype)
    value_lora = _lora(mcfg)
    value_lora.task_type = "SEQ_CLS"
    value = inject_adapter_in_model(value_lora, value)  # as models/reward.load_reward_model(lora_cfg=...)
    for name, prm in value.named_parameters():
        prm.requires_grad = "lora_" in name or name.startswith("score")
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(4, model.config.vocab_size, (B * (steps + 1), Lq), generator=g)
    ends: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001 - HF signature
            sync(device)
            ends.append(time.perf_counter())

    args = PPOConfig(  # the fields align/ppo.py sets, with its defaults
        output_dir=str(out_dir / "ppo_trainer"), report_to="none", save_strategy="no", logging_steps=1, seed=seed,
        learning_rate=p.learning_rate, per_device_train_batch_size=B, gradient_accumulation_steps=1,
        num_mini_batches=p.num_mini_batches, local_rollout_forward_batch_size=B, total_episodes=B * (steps + 1),
        num_ppo_epochs=p.num_ppo_epochs, response_length=R, temperature=p.temperature, kl_coef=0.05,
        kl_estimator=p.kl_estimator, cliprange=p.cliprange, vf_coef=p.vf_coef, stop_token="eos",
        missing_eos_penalty=p.missing_eos_penalty, num_sample_generations=0, use_cpu=device == "cpu",
        bf16=dtype == torch.bfloat16, disable_tqdm=True, gradient_checkpointing=mcfg.gradient_checkpointing,
    )
    trainer = PPOTrainer(args=args, processing_class=tok, model=model, ref_model=None, reward_model=reward,
                         train_dataset=Dataset.from_dict({"input_ids": prompts.tolist()}), value_model=value,
                         peft_config=_lora(mcfg), callbacks=[Clock()])
    trainer.remove_callback(PrinterCallback)
    sync(device)
    t0 = time.perf_counter()
    trainer.train()
    seconds = [b - a for a, b in zip([t0, *ends], ends)]
    trainable = sum(q.numel() for q in trainer.model.parameters() if q.requires_grad)
    return {"batch": B, "prompt_tokens": Lq, "response_length": R, "num_ppo_epochs": p.num_ppo_epochs,
            "num_mini_batches": p.num_mini_batches, "gradient_checkpointing": mcfg.gradient_checkpointing,
            "updates": len(seconds), **step_summary(seconds), "peak_memory_gib": peak_gib(device),
            "trainable_params": trainable}


def _lora(mcfg: Any) -> Any:
    from collapselab.models import lora_config

    return lora_config(mcfg)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every section; return the result (also written to ``<out>/gpu_check.json``)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from collapselab import meta
    from collapselab.io import atomic_write_json
    from collapselab.models import model_config
    from collapselab.seed import seed_everything

    args = parse_args(argv)
    t_start = time.perf_counter()
    device, kind = args.device, "tiny" if args.tiny else "7b"
    size = {k: v[1] if args.tiny else v[0] for k, v in SIZES.items()}
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)  # tiny matmuls gain nothing from threads; shared cores make them spin
    out_dir = Path(args.out)
    path = out_dir / "gpu_check.json"
    result: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
        "device_type": "cuda" if device.startswith("cuda") else "cpu", "shapes": kind, "dtype": str(dtype),
        "argv": sys.argv[1:] if argv is None else list(argv), "versions": meta.package_versions(),
        "git": meta.git_hash(), "sections_done": [],
    }

    def save(section: str | None = None) -> None:
        if section:
            result["sections_done"].append(section)
        result["seconds_total"] = round(time.perf_counter() - t_start, 2)
        atomic_write_json(path, result)

    try:
        seed_everything(args.seed)
        mcfg = model_config("llama2_7b")  # LoRA r/alpha/targets/dropout and gradient checkpointing of the 7B runs
        config = LlamaConfig(**SHAPES[kind], pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
        t0 = time.perf_counter()
        model = build(LlamaForCausalLM, config, device, dtype)
        tok = make_tokenizer(config.vocab_size)
        result["model"] = {**SHAPES[kind], "n_params": sum(q.numel() for q in model.parameters()),
                           "build_s": round(time.perf_counter() - t0, 2), "lora_r": mcfg.lora_r,
                           "lora_target_modules": list(mcfg.lora_target_modules)}
        measured = measure_bandwidth(device, 2**30 if device.startswith("cuda") else 2**26)
        result["sampler"] = measure_sampler(model, tok, size["sampler_new_tokens"], args.bandwidth_gbs, measured,
                                            device)
        save("sampler")
        model, result["dpo"] = measure_dpo(model, mcfg, size, args.steps, device, args.seed)
        save("dpo")
        result["ppo"] = measure_ppo(model, tok, mcfg, size, args.steps, device, dtype, out_dir, args.seed)
        save("ppo")
    finally:
        torch.set_num_threads(threads)
    print(json.dumps({k: result[k] for k in ("device", "seconds_total")}
                     | {"sampler_tokens_per_s": {b: r["tokens_per_s"] for b, r in result["sampler"]["batches"].items()},
                        "roofline_ratio": {b: float(f"{r['roofline_ratio']:.3g}")
                                           for b, r in result["sampler"]["batches"].items()},
                        "dpo_step_s": result["dpo"]["step_s"], "ppo_step_s": result["ppo"]["step_s"],
                        "peak_memory_gib": {s: result[s].get("peak_memory_gib") for s in ("dpo", "ppo")}}, indent=1))
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
