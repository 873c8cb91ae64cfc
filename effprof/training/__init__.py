"""Training and transfer-learning cost: ``profile --train``/``compare --train`` and ``effprof finetune``.

A layer on top of effprof.api (its Timing, spec checks and run meta): training imports the API, the
API never imports training; the CLI and ``effprof.profile_training`` / ``effprof.finetune`` call it.
"""

from effprof.training.finetune import STRATEGIES, FinetuneResult, finetune
from effprof.training.profile import TrainingProfile, TrainingResult, profile_training

__all__ = ["STRATEGIES", "FinetuneResult", "TrainingProfile", "TrainingResult", "finetune", "profile_training"]
