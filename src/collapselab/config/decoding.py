"""Schema of the ``decoding`` group (``configs/decoding/{plain,conformative,steer}.yaml``): how every probe samples.

``plain`` draws from the model's own softmax(logits / T), optionally truncated by top-p and
min-p; ``conformative`` (Peeperkorn et al. 2025, "Mind the Gap") mixes the next-token
distribution with the checkpoint's base model; ``steer`` (Olson et al. 2024, arXiv 2412.06060)
adds ``scale * a``, the creativity direction, to one layer's residual stream at every step
(``steering``). The rules are in ``probes.decoding`` and docs/evaluation.md ("Decoding",
"Creativity steering"). A steer layer beyond the model's is refused before anything is built where the
checkpoint's config files give its layers (``probes.harness.check_arguments``), else when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from collapselab.config.common import between, choice, positive

DECODING_METHODS = ("plain", "conformative", "steer")
MIXES = ("linear", "loglinear")
TRUNCATIONS = ("nucleus", "min_p")
# the keys only conformative decoding reads (plain leaves them null; a value set there is an error)
CONFORMATIVE_KEYS = ("weight", "base", "mix", "truncation")
# the keys only steering reads (null elsewhere)
STEER_KEYS = ("layer", "scale", "direction")


@dataclass
class DecodingConfig:
    """``decoding=plain`` (default) | ``decoding=conformative decoding.weight=0.5 decoding.base=auto``
    | ``decoding=steer decoding.layer=2 decoding.scale=4 decoding.direction=auto``."""

    method: str = "plain"  # plain | conformative
    temperature: float | None = None  # None: each probe's own (entropy/semantic/persona/attractor.temperature)
    top_p: float = 1.0  # nucleus: keep the smallest top set with mass >= top_p (1.0 = off)
    min_p: float = 0.0  # keep tokens with p >= min_p * p_max (Nguyen et al. 2024; 0 = off)
    weight: float | None = None  # conformative: w, the base model's share of the mixture, in [0, 1]
    base: str | None = None  # conformative: checkpoint path or model name; auto = the pretrained root of collapselab.json's base_model
    mix: str | None = None  # conformative: linear ((1-w) p + w p_base) | loglinear (softmax of mixed logits)
    truncation: str | None = None  # conformative: nucleus (top_p) | min_p, on the instruct model's distribution
    layer: int | None = None  # steer: the decoder layer (1..num_hidden_layers) whose residual output gets scale * a
    scale: float | None = None  # steer: lambda, the L2 norm of what is added (a is unit length); 0 = no change
    # steer: a direction file from eval/steer.py (its .npz), or auto: computed for each checkpoint from
    # the world's contrastive requests at `layer` (steering.direction)
    direction: str | None = None

    def problems(self) -> list[str]:
        out = choice("method", self.method, DECODING_METHODS)
        if self.temperature is not None:
            out += positive("temperature", self.temperature)
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            out.append(f"top_p={self.top_p!r}: must be in (0, 1] (1.0 = off)")
        if not (isinstance(self.min_p, (int, float)) and 0 <= self.min_p <= 1):
            out.append(f"min_p={self.min_p!r}: must be 0 (off) or in (0, 1]")
        if self.method == "conformative":
            out += self._conformative_problems()
        else:
            out += [f"{k}={getattr(self, k)!r}: only read by method=conformative (use decoding=conformative)"
                    for k in CONFORMATIVE_KEYS if getattr(self, k) is not None]
        if self.method == "steer":
            out += self._steer_problems()
        else:
            out += [f"{k}={getattr(self, k)!r}: only read by method=steer (use decoding=steer)"
                    for k in STEER_KEYS if getattr(self, k) is not None]
        return out

    def _steer_problems(self) -> list[str]:
        out = []
        if self.layer is None:
            out.append("layer=None: method=steer needs the decoder layer to steer (1..num_hidden_layers)")
        elif isinstance(self.layer, bool) or not isinstance(self.layer, int) or self.layer < 1:
            out.append(f"layer={self.layer!r}: must be a decoder layer >= 1 (1..num_hidden_layers)")
        if self.scale is None:
            out.append("scale=None: method=steer needs lambda, the size of the step along the direction")
        elif not isinstance(self.scale, (int, float)) or self.scale != self.scale or abs(self.scale) == float("inf"):
            out.append(f"scale={self.scale!r}: must be a finite number")
        if self.direction is None or not str(self.direction).strip():
            out.append(f"direction={self.direction!r}: method=steer needs a direction file (eval/steer.py writes one) "
                       "or auto")
        return out

    def _conformative_problems(self) -> list[str]:
        unset = [k for k in CONFORMATIVE_KEYS if getattr(self, k) is None]
        out = [f"{'/'.join(unset)}=None: method=conformative needs them (use decoding=conformative)"] if unset else []
        if self.weight is not None:
            out += between("weight", self.weight, 0.0, 1.0)
        if self.base is not None and not str(self.base).strip():
            out.append("base='': give a checkpoint path, a model name, or auto")
        if self.mix is not None:
            out += choice("mix", self.mix, MIXES)
        if self.truncation is not None:
            out += choice("truncation", self.truncation, TRUNCATIONS)
        # one truncation rule, named by `truncation`: a threshold it does not read would be ignored silently
        if self.truncation == "nucleus" and self.min_p != 0:
            out.append(f"min_p={self.min_p!r}: truncation=nucleus reads top_p only (set min_p=0 or truncation=min_p)")
        if self.truncation == "min_p" and self.top_p != 1:
            out.append(f"top_p={self.top_p!r}: truncation=min_p reads min_p only (set top_p=1.0 or truncation=nucleus)")
        return out
