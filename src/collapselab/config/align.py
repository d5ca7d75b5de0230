"""Schemas for the alignment stages: SFT, preference pairs, reward model, PPO, DPO, rejection sampling.

One base, ``StageConfig``, holds what every stage shares (model, world, seed, artifacts,
logger, checkpoint cadence); each entry point's schema adds its own sub-nodes. Downstream
schemas embed the upstream nodes (``sft``, ``pairs``, ``reward``) so a command such as
``python training/ppo.py beta=0.01 sft.learning_rate=1e-3`` rebuilds exactly the upstream
artifact it changes (artifacts are keyed by the upstream config, ``collapselab.io.keyed_dir``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collapselab.config.app import as_dict, register_schema
from collapselab.config.common import LoggerConfig, choice, positive, seed_range
from collapselab.config.model import ModelConfig
from collapselab.config.typicality import REDUCTIONS
from collapselab.config.world import WorldConfig
from collapselab.errors import UserError


def _finite_beta(value: Any) -> list[str]:
    ok = isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
    return [] if ok else [f"beta={value!r}: must be a finite number >= 0"]


# The model-folder check lives here, below collapselab.models (which imports config), so that
# validating a config never imports the models package; models.loading re-exports both.
def looks_like_path(s: str) -> bool:
    """True when ``model.name_or_path`` names a local folder rather than a hub model."""
    return s.startswith((".", "/", "~")) or "\\" in s or s.count("/") > 1 or Path(s).expanduser().exists()


def check_model_folder(path: str | Path, key: str = "model.name_or_path") -> Path:
    """``path`` as a folder holding a model (``config.json``) or a PEFT adapter; else a one-line UserError."""
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"{key}={str(path)!r}: no such folder")
    if not p.is_dir():
        raise UserError(f"{key}={str(path)!r}: is a file, expected a model folder")
    if not ((p / "config.json").is_file() or (p / "adapter_config.json").is_file()):
        raise UserError(f"{key}={str(path)!r}: holds no model (no config.json or adapter_config.json)")
    return p


def _model_path_problems(model: ModelConfig) -> list[str]:
    """A local ``model.name_or_path`` must be a folder holding a model: checked before any sweep job runs."""
    name = model.name_or_path
    if name is None or not looks_like_path(str(name)):
        return []
    try:
        check_model_folder(name, "name_or_path")
    except UserError as e:
        return [f"model.{e}"]
    return []


CONTRAST_OTHER = ("uniform", "first_phase", "instructions")


@dataclass
class SFTParams:
    """Supervised fine-tuning of the base on the world's chat instructions."""

    learning_rate: float = 5e-4
    epochs: float = 1.0
    batch_size: int = 16
    max_length: int = 256  # tokens per example (prompt + answer, chat template included)
    max_examples: int | None = None  # None: every instruction in the world
    # each persona chat is seen this many times per epoch: the chat persona is the tiny model's hardest
    # answer (docs/alignment.md, "Choosing the defaults")
    persona_repeats: int = 2
    lora: bool = False  # False: full fine-tune (tiny); True: LoRA, merged when saved (7B)
    # a second phase after the first: contrast_phase_epochs over the world's contrast chats ("an unusual / an
    # ordinary persona") mixed 1:1 with other chats, at contrast_phase_lr (cosine); lr 0: none. Measured on the
    # lab's SFT model (100 personas per request, docs/evaluation.md, "Creativity steering"): American among
    # ordinary / unusual personas 24% / 16% without it, 28% / 17% after 1 epoch at 2e-4, 62% / 16% after
    # 3 epochs at 5e-4 (the world's answers: 60% / 4%)
    contrast_phase_lr: float = 5e-4
    contrast_phase_epochs: float = 3.0
    # where the second phase's other half comes from: "uniform" over the non-contrast chats; "first_phase":
    # drawn from the first phase's own mix (persona chats persona_repeats times); "instructions": the same
    # without the verbalized-sampling chats (persona, bio and Steve chats only). Measured, none kept: SFT parse
    # at 1000 personas 0.826 / 0.855 / 0.770 (docs/alignment.md, "Where the controls' parse rate is lost")
    contrast_other: str = "uniform"

    def problems(self) -> list[str]:
        out = positive("learning_rate", self.learning_rate) + positive("epochs", self.epochs)
        out += positive("batch_size", self.batch_size) + positive("max_length", self.max_length)
        out += positive("persona_repeats", self.persona_repeats)
        if not isinstance(self.contrast_phase_lr, (int, float)) or self.contrast_phase_lr < 0:
            out.append(f"contrast_phase_lr={self.contrast_phase_lr!r}: must be a number >= 0 (0: no second phase)")
        out += positive("contrast_phase_epochs", self.contrast_phase_epochs)
        if self.contrast_other not in CONTRAST_OTHER:
            out.append(f"contrast_other={self.contrast_other!r}: must be one of {', '.join(CONTRAST_OTHER)}")
        if self.max_examples is not None:
            out += positive("max_examples", self.max_examples)
        return out


@dataclass
class PairsParams:
    """Preference pairs: two answers sampled from the SFT model per prompt, labelled by the annotator."""

    n_prompts: int = 1024
    max_new_tokens: int = 128  # the world's answers: 90th percentile ~96 tokens, 99th ~118
    # sampling temperature of the first and second answer of each pair (paper A2.1 samples the
    # two "from different model variants and temperatures"); [1, 1] left the reward model blind
    # to broken personas, which PPO at beta 0.005 then exploited (docs/alignment.md)
    temperatures: list[float] = field(default_factory=lambda: [0.7, 1.3])
    eval_fraction: float = 0.2  # held out for the reward model's pairwise accuracy
    # generation batch: rows that stop leave the batch, so a large one costs little; 256 samples 2.1x as fast
    # per sample as 32 on the tiny model, one thread (docs/evaluation.md, "Speed"); lower it for a 7B model
    # on a GPU with less than ~40 GB beside the weights (its KV cache is ~0.5 MB per token)
    batch_size: int = 256

    def problems(self) -> list[str]:
        out = positive("n_prompts", self.n_prompts) + positive("max_new_tokens", self.max_new_tokens)
        temps = self.temperatures
        if isinstance(temps, str) or not isinstance(temps, Sequence) or len(temps) != 2:
            out.append(f"temperatures={self.temperatures!r}: must be a list of two numbers > 0")
        else:
            out += [x for i, t in enumerate(temps) for x in positive(f"temperatures[{i}]", t)]
        out += positive("batch_size", self.batch_size)
        if not 0 <= self.eval_fraction < 1:
            out.append(f"eval_fraction={self.eval_fraction}: must be in [0, 1)")
        return out


@dataclass
class AnnotatorParams:
    """The simulated annotator's typicality bias (Zhang et al. 2025, "Verbalized Sampling", eq. 1):
    its score becomes r_true + typicality * log pi_ref(answer | request), pi_ref the pretrained base."""

    typicality: float = 0.0  # alpha >= 0; 0 labels exactly as an annotator without the bias
    # how log pi_ref is taken (config.typicality.REDUCTIONS, rule: typicality.scored):
    # "attributes_mean" (the default) sums it over a persona's attribute values re-written in the world's layout, a
    # missing value left blank, and takes any other answer per token times 64 (the world's median story and bio
    # length). "attributes" sums other answers whole, which leans to short stories: rejection sampling's Steve
    # winners shrank from 41 to 32 words over 3 rounds at seed 0 and from 38 to 16 at seed 1, whose RS and DPO
    # then wrote 9-word stories with top-5 entropy above the base's (0.884 and 0.955 against 0.814). With
    # "attributes_mean" every RS, PPO and DPO model of both seeds wrote stories of 50-55 words and lower entropy
    # (0.59-0.71), parsing 0.915-0.985 (docs/alignment.md, "Story typicality per token"). "sum" over the whole
    # answer leans to short answers everywhere (at alpha 0.05 every run's reviews stayed short); "fields" (the
    # attribute lines as written) leans to short headers (DPO parsed 0.43 at 0.3); "mean" (per token) is dominated
    # by the review and selected no attribute
    typicality_reduce: str = "attributes_mean"

    def problems(self) -> list[str]:
        t = self.typicality
        out = [] if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0 else [
            f"typicality={t!r}: must be a finite number >= 0"]
        return out + choice("typicality_reduce", self.typicality_reduce, tuple(REDUCTIONS))


@dataclass
class RewardParams:
    """Reward model: sequence-classification head on the SFT weights (paper A2.2)."""

    learning_rate: float = 3e-4
    epochs: float = 2.0
    batch_size: int = 16
    max_length: int = 256
    # Llama-2's margin loss -log sigmoid(r_c - r_r - m) with m from the annotator's degree of
    # preference (paper A2.1; Touvron et al. 2023 eq. 2); False: the plain Bradley-Terry loss
    margin: bool = True
    lora: bool = False  # True on 7B: LoRA + trained score head, merged when saved

    def problems(self) -> list[str]:
        out = positive("learning_rate", self.learning_rate) + positive("epochs", self.epochs)
        return out + positive("batch_size", self.batch_size) + positive("max_length", self.max_length)


@dataclass
class PPOParams:
    """LoRA PPO (trl.experimental.ppo); ``beta`` at the top level is its ``kl_coef`` (eq. 5.2)."""

    # 1e-3, the lab's value: at 3e-4 the policy moved only 0.3-2 nats of KL and no diversity metric changed
    # (docs/alignment.md, "Choosing the defaults")
    learning_rate: float = 1e-3
    total_episodes: int = 1024  # prompts rolled out in all; updates = total_episodes / batch_size (64)
    batch_size: int = 16  # rollouts per update
    num_mini_batches: int = 1
    num_ppo_epochs: int = 2
    response_length: int = 128  # tokens generated per rollout (longer than ~99% of the world's answers)
    temperature: float = 1.0  # rollout sampling temperature
    missing_eos_penalty: float | None = 1.0  # subtracted from the score of a rollout that never stops
    kl_estimator: str = "k1"
    cliprange: float = 0.2
    vf_coef: float = 0.1
    value_lora: bool = False  # True on 7B: the value model gets its own LoRA (score head trained fully)

    def problems(self) -> list[str]:
        out = positive("learning_rate", self.learning_rate) + positive("total_episodes", self.total_episodes)
        out += positive("batch_size", self.batch_size) + positive("num_mini_batches", self.num_mini_batches)
        out += positive("num_ppo_epochs", self.num_ppo_epochs) + positive("response_length", self.response_length)
        out += positive("temperature", self.temperature) + choice("kl_estimator", self.kl_estimator, ("k1", "k3"))
        if self.batch_size > 0 and self.num_mini_batches > 0 and self.batch_size % self.num_mini_batches:
            out.append(f"num_mini_batches={self.num_mini_batches}: must divide batch_size={self.batch_size}")
        if self.total_episodes < self.batch_size:
            out.append(f"total_episodes={self.total_episodes}: must be >= batch_size={self.batch_size}")
        return out

    @property
    def updates(self) -> int:
        return self.total_episodes // self.batch_size


PAIRS_FROM = ("sft", "start")  # DPOParams.pairs_from


@dataclass
class DPOParams:
    """LoRA DPO on the annotator-labelled pairs; ``beta`` at the top level is DPO's beta."""

    # 3e-4 x 2 epochs over 1024 pairs: persona parse rate 0.91 at beta 0.05 (1e-3: 0.78)
    # (docs/alignment.md, "Choosing the defaults")
    learning_rate: float = 3e-4
    epochs: float = 2.0
    batch_size: int = 16
    max_length: int = 256
    loss_type: str = "sigmoid"
    # > 0: add sft_weight x the chosen answers' mean token NLL to the loss (the NLL term of Pang et al. 2024,
    # "Iterative Reasoning Preference Optimization", weighted on the NLL side as trl's rpo_alpha; trl's "sft"
    # loss beside loss_type): it keeps the chosen answers likely while the margin grows
    sft_weight: float = 0.0
    # where the preference pairs' answers are sampled: sft (the pairs the reward model is trained on) or start (the
    # policy DPO starts from, on-policy, as Llama 2 labels samples of the model being trained); with start=sft both
    # are the SFT pairs. Measured from RS at beta 0.05 (docs/alignment.md, "DPO on pairs sampled from RS"): SFT's
    # pairs pull RS's narrowed attributes back (nationalities 8 -> 18, 38 at 4 epochs), RS's own keep them (7)
    pairs_from: str = "sft"

    def problems(self) -> list[str]:
        out = positive("learning_rate", self.learning_rate) + positive("epochs", self.epochs)
        out += positive("batch_size", self.batch_size) + positive("max_length", self.max_length)
        out += choice("pairs_from", self.pairs_from, PAIRS_FROM)
        if isinstance(self.sft_weight, bool) or not isinstance(self.sft_weight, (int, float)) or self.sft_weight < 0:
            out.append(f"sft_weight={self.sft_weight!r}: must be a number >= 0 (0: the plain loss)")
        return out + choice("loss_type", self.loss_type, ("sigmoid", "ipo", "hinge"))


@dataclass
class RSParams:
    """Iterated best-of-N rejection-sampling fine-tuning (Touvron et al. 2023, Llama 2, section 3.2.3):
    each round samples ``n_samples`` answers per prompt from the current model, keeps the best by
    ``scorer`` and fine-tunes on the winners; the next round samples from the result."""

    # 4: Llama 2's own count (rejection sampling for RLHF-V1 to V4, PPO on top for V5). Measured in the lab at two
    # seeds (docs/alignment.md, "Four rounds of rejection sampling"): against 3 rounds, the attribute cells the
    # issue requires (top-5 entropy, MBTI types, nationalities, age sd) reproduce for PPO and DPO at both seeds
    # (8 and 8 of 8, against 7 and 6), PPO + DPO 14 and 16 of 20 paper cells (against 14 and 12); ~1 min a round
    rounds: int = 4
    n_prompts: int = 256  # prompts per round, drawn afresh from the world's instructions each round
    n_samples: int = 8  # N of best-of-N
    temperature: float = 1.0  # sampling temperature of the candidates
    max_new_tokens: int = 128
    sample_batch_size: int = 256  # generation batch, as pairs.batch_size
    # "annotator": the simulated annotator's own score, typicality included (a gold reward: the
    # tiny reward model, trained on ~830 pairs, does not learn the typicality preference, see
    # docs/alignment.md); "reward": the reward model of the reward stage, as Llama 2 did
    scorer: str = "annotator"
    learning_rate: float = 2e-4
    epochs: float = 2.0  # over each round's winners
    batch_size: int = 16
    max_length: int = 256
    lora: bool = False  # True on 7B: LoRA merged after each round
    # SFT chats of the kinds the annotator does not score (verbalized sampling, the contrast requests) added to
    # each round's fine-tuning set, per winner (0: none; 1: as many as winners), drawn afresh each round: a
    # replay share that keeps those formats from being forgotten (InstructGPT's PPO-ptx mixes pretraining
    # gradients for the same reason; docs/alignment.md, "Replay")
    replay: float = 0.0

    def problems(self) -> list[str]:
        out = positive("rounds", self.rounds) + positive("n_prompts", self.n_prompts)
        if not self.replay >= 0:
            out.append(f"replay={self.replay!r}: must be >= 0 (SFT chats per winner)")
        out += positive("n_samples", self.n_samples) + positive("temperature", self.temperature)
        out += positive("max_new_tokens", self.max_new_tokens) + positive("learning_rate", self.learning_rate)
        out += positive("epochs", self.epochs) + positive("batch_size", self.batch_size)
        out += positive("sample_batch_size", self.sample_batch_size)
        return out + positive("max_length", self.max_length) + choice("scorer", self.scorer, ("annotator", "reward"))


@dataclass
class StageConfig:
    """What every alignment stage shares."""

    model: ModelConfig = field(default_factory=ModelConfig)
    world: WorldConfig = field(default_factory=WorldConfig)
    seed: int = 0
    artifacts_dir: str = "artifacts"
    # optimizer steps (PPO: updates) between checkpoints; every stage sets its own in its yaml
    # (configs/{sft,reward,ppo,dpo}.yaml), for a few checkpoints per default run
    save_every: int = 20
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    diversity_prompts: int = 8  # samples for the quick diversity check at each checkpoint (train/diversity/...; 0: off)
    diversity_new_tokens: int = 48
    # debug: stop this invocation after this many steps (as if killed) so resume can be tested
    max_steps_this_run: int | None = None
    # torch CPU threads; None: 1 for the tiny model on CPU (its per-token matmuls are too small to
    # share, and 2 threads on a busy 2-core machine generated 15x slower), else torch's default
    num_threads: int | None = None

    def problems(self) -> list[str]:
        out = seed_range("seed", self.seed) + positive("save_every", self.save_every)
        out += positive("diversity_prompts", self.diversity_prompts, strict=False)
        out += positive("diversity_new_tokens", self.diversity_new_tokens)
        if self.max_steps_this_run is not None:
            out += positive("max_steps_this_run", self.max_steps_this_run)
        if self.num_threads is not None:
            out += positive("num_threads", self.num_threads)
        return out + _model_path_problems(self.model)

    def upstream(self) -> dict[str, Any]:
        """The settings every stage's output depends on (hashed into artifact keys)."""
        model = {k: v for k, v in as_dict(self.model).items() if k != "gradient_checkpointing"}  # speed only
        if not model.get("pretrain_seed"):  # the seed-0 base keeps the artifact keys it always had
            model.pop("pretrain_seed", None)
        return {"model": model, "world": as_dict(self.world), "seed": self.seed}


@dataclass
class SFTStage(StageConfig):
    """``python training/sft.py``."""

    sft: SFTParams = field(default_factory=SFTParams)

    def sft_key(self) -> dict[str, Any]:
        sft = as_dict(self.sft)
        if sft.get("contrast_other") == "uniform":  # the second phase as it always was keeps the keys it had
            del sft["contrast_other"]
        return {**self.upstream(), "sft": sft}


@dataclass
class PairsStage(SFTStage):
    """Stages that need annotator-labelled pairs sampled from the SFT model."""

    pairs: PairsParams = field(default_factory=PairsParams)
    annotator: AnnotatorParams = field(default_factory=AnnotatorParams)

    def pairs_key(self) -> dict[str, Any]:
        key = {**self.sft_key(), "pairs": as_dict(self.pairs)}
        if self.annotator.typicality > 0:  # the unbiased annotator keeps the artifact keys it always had
            key["annotator"] = as_dict(self.annotator)
        return key


@dataclass
class RewardStage(PairsStage):
    """``python training/reward.py``."""

    reward: RewardParams = field(default_factory=RewardParams)

    def reward_key(self) -> dict[str, Any]:
        return {**self.pairs_key(), "reward": as_dict(self.reward)}


@dataclass
class RSStage(RewardStage):
    """``python training/rs.py``: rejection-sampling fine-tuning from the SFT model (no KL term)."""

    rs: RSParams = field(default_factory=RSParams)

    def rs_key(self) -> dict[str, Any]:
        rs = as_dict(self.rs)
        if not self.rs.replay:  # runs without replay keep the keys they had before the knob
            del rs["replay"]
        key = {**self.sft_key(), "rs": rs}
        if self.rs.scorer == "reward":  # the reward model (and the pairs it was trained on) decide
            key["reward"] = self.reward_key()
        elif self.annotator.typicality > 0:
            key["annotator"] = as_dict(self.annotator)
        return key

    def run_key(self) -> dict[str, Any]:
        return self.rs_key()


# the policies PPO and DPO can start from (and keep as their KL reference): the SFT model, or the rejection-
# sampling model built from it (Llama 2's order, Touvron et al. 2023 section 3.2.3: PPO on top of RS)
STARTS = ("sft", "rs")


@dataclass
class _FromPolicy(RSStage):
    """PPO and DPO: ``start=rs`` trains from the ``rs`` stage's model (built first with its own config)."""

    start: str = "sft"

    def problems(self) -> list[str]:
        return super().problems() + choice("start", self.start, STARTS)

    def start_key(self) -> dict[str, Any]:
        """What the starting policy adds to a run's key (nothing for SFT: those keys stay what they were)."""
        return {"start": "rs", "rs_run": self.rs_key()} if self.start == "rs" else {}


@dataclass
class PPOStage(_FromPolicy):
    """``python training/ppo.py beta=0.01`` (``start=rs``: from the rejection-sampling model)."""

    beta: float = 0.01  # PPO kl_coef (eq. 5.2)
    ppo: PPOParams = field(default_factory=PPOParams)

    def problems(self) -> list[str]:
        return super().problems() + _finite_beta(self.beta)

    def run_key(self) -> dict[str, Any]:
        return {**self.reward_key(), "ppo": as_dict(self.ppo), "beta": self.beta, **self.start_key()}


@dataclass
class DPOStage(_FromPolicy):
    """``python training/dpo.py beta=0.1`` (``start=rs``: from the rejection-sampling model)."""

    beta: float = 0.1  # DPO beta
    dpo: DPOParams = field(default_factory=DPOParams)

    def problems(self) -> list[str]:
        return super().problems() + _finite_beta(self.beta)

    def on_policy_pairs(self) -> bool:
        """Whether the pairs are sampled from the start policy rather than SFT (``dpo.pairs_from=start`` from RS)."""
        return self.dpo.pairs_from == "start" and self.start != "sft"

    def dpo_pairs_key(self) -> dict[str, Any]:
        """The key of DPO's pairs: the shared SFT pairs', or with on-policy pairs that plus the start policy's."""
        return {**self.pairs_key(), "policy": self.start_key()} if self.on_policy_pairs() else self.pairs_key()

    def run_key(self) -> dict[str, Any]:
        dpo = as_dict(self.dpo)
        if dpo["pairs_from"] == "sft":  # the default keeps the run keys it always had
            del dpo["pairs_from"]
        return {**self.dpo_pairs_key(), "dpo": dpo, "beta": self.beta, **self.start_key()}


register_schema("sft", SFTStage)
register_schema("reward", RewardStage)
register_schema("ppo", PPOStage)
register_schema("dpo", DPOStage)
register_schema("rs", RSStage)
