"""One seed seeds python, numpy and torch."""

import os
import random

import numpy as np


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # library code must import without torch for the toy simulator
        return
    torch.manual_seed(seed)
