"""Training and transfer-learning cost: ``profile --train``/``compare --train`` and ``effprof finetune``."""

from effprof.training.finetune import STRATEGIES, FinetuneResult, finetune
from effprof.training.profile import TrainingProfile, TrainingResult, profile_training

__all__ = ["STRATEGIES", "FinetuneResult", "TrainingProfile", "TrainingResult", "finetune", "profile_training"]
