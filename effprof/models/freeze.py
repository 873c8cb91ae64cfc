"""Set a model up for training as a user would: replace the classifier head, freeze what should not train.

Rules:

- **The head** is the first direct child named ``fc`` (ResNet, ShuffleNet, SE-ResNet), ``classifier``
  (MobileNet, EfficientNet, ConvNeXt, MnasNet, GhostNet), ``head`` (Swin, timm ViT) or ``heads``
  (torchvision ViT). Everything outside it is the backbone. ``num_classes`` replaces the *last*
  ``nn.Linear`` inside the head with a fresh ``nn.Linear(in_features, num_classes)`` (what
  ``model.fc = nn.Linear(512, 3)`` does by hand) -- or, in a convolutional classifier with no
  Linear (SqueezeNet), its last 1x1 ``nn.Conv2d``; the replaced module's path is reported.
- **Freeze strategies** (``--freeze``): ``none`` trains every parameter; ``backbone`` trains only the
  head; ``later`` (the lecture's strategy B) trains the head and the last quarter of the backbone's
  parameterised layers (leaf modules with parameters, in definition order); anything else is a
  comma-separated list of globs over module names (``"features.0*,features.1*"``) whose matching
  modules are frozen, with every parameter below them.

Freezing sets ``requires_grad=False`` on the parameters, as a user's fine-tuning script would; a
frozen parameter gets no gradient and no optimizer state.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from torch import nn

from effprof.errors import EffprofError

HEAD_NAMES = ("fc", "classifier", "head", "heads")
NAMED_STRATEGIES = ("none", "backbone", "later")
#: strategy "later" trains this share of the backbone's parameterised layers (the last ones)
LATER_SHARE = 0.25


@dataclass
class TrainingSetup:
    """What was done to a model for training: its head, the replacement, what is frozen."""

    freeze: str
    head: str | None = None  # path of the head container, None when not needed and not found
    replaced: str | None = None  # e.g. "fc: Linear(512->1000) -> Linear(512->3)"
    frozen_modules: list[str] = field(default_factory=list)  # the patterns' matches, or the rule's
    first_trainable: str | None = None  # the first parameterised layer that trains (definition order)
    trainable_params: int = 0
    params: int = 0

    def describe(self) -> str:
        """One line: the strategy, the head replaced, from where the model trains."""
        parts = [f"freeze {self.freeze}"]
        if self.replaced:
            parts.append(f"replaced {self.replaced}")
        if self.first_trainable is not None:
            parts.append(f"trains from {self.first_trainable or '(root)'}")
        else:
            parts.append("nothing trains")
        parts.append(f"{self.trainable_params:,} of {self.params:,} params trainable")
        return "; ".join(parts)


def find_head(model: nn.Module) -> str:
    """The path of the classifier head (see the module docstring), or EffprofError naming the children."""
    children = [name for name, _ in model.named_children()]
    for name in HEAD_NAMES:
        if name in children:
            return name
    shown = ", ".join(children[:12]) + (" ..." if len(children) > 12 else "")
    raise EffprofError(
        f"no classifier head found on {type(model).__name__}: looked for a child named "
        f"{', '.join(HEAD_NAMES)} among [{shown}]; give --freeze PATTERN (globs over module names) instead"
    )


def replace_head(model: nn.Module, num_classes: int) -> str:
    """Replace the last nn.Linear of the head with ``nn.Linear(in_features, num_classes)``, in place.

    Returns what was replaced, e.g. ``"fc: Linear(512->1000) -> Linear(512->3)"``. The new layer is
    built on the device of the old one (meta stays meta).
    """
    check_num_classes(num_classes)
    head = find_head(model)
    container = model.get_submodule(head)
    found = [(name, m) for name, m in container.named_modules() if isinstance(m, nn.Linear)]
    if not found:  # a convolutional classifier (SqueezeNet): its last 1x1 conv maps features to classes
        found = [(name, m) for name, m in container.named_modules()
                 if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.groups == 1]  # fmt: skip
    if not found:
        raise EffprofError(f"the head {head!r} of {type(model).__name__} holds no nn.Linear (nor 1x1 nn.Conv2d) to "
                           "replace; give --freeze PATTERN and keep the model's own classes instead")  # fmt: skip
    name, old = found[-1]
    bias = old.bias is not None
    if isinstance(old, nn.Linear):
        new: nn.Module = nn.Linear(old.in_features, num_classes, bias=bias, device=old.weight.device)
        before, after = f"Linear({old.in_features}->{old.out_features})", f"Linear({old.in_features}->{num_classes})"
    else:
        new = nn.Conv2d(old.in_channels, num_classes, 1, bias=bias, device=old.weight.device)
        before = f"Conv2d 1x1({old.in_channels}->{old.out_channels})"
        after = f"Conv2d 1x1({old.in_channels}->{num_classes})"
    path = f"{head}.{name}" if name else head
    if name:
        parent_path, _, attr = name.rpartition(".")
        parent = container.get_submodule(parent_path) if parent_path else container
        setattr(parent, attr, new)
    else:
        setattr(model, head, new)
    return f"{path}: {before} -> {after}"


def check_num_classes(num_classes: object) -> int:
    """``num_classes`` must be a whole number from 1 to 1,000,000."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 1 <= num_classes <= 1_000_000:
        raise EffprofError(f"--num-classes {num_classes!r}: must be a whole number from 1 to 1000000")
    return num_classes


def param_layers(model: nn.Module) -> list[str]:
    """Paths of the modules that own parameters directly, in definition order (shared ones once)."""
    seen: set[int] = set()
    paths = []
    for path, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        if own:
            seen.update(id(p) for p in own)
            paths.append(path)
    return paths


def _under(path: str, root: str) -> bool:
    return root == "" or path == root or path.startswith(root + ".")


def frozen_by_rule(model: nn.Module, freeze: str) -> list[str]:
    """The module paths a strategy freezes: [] for none, the backbone's layers, or the glob matches."""
    strategy = freeze.strip()
    if strategy == "none":
        return []
    if strategy in ("backbone", "later"):
        head = find_head(model)
        backbone = [p for p in param_layers(model) if not _under(p, head)]
        if strategy == "backbone":
            return backbone
        keep = max(1, round(len(backbone) * LATER_SHARE))
        return backbone[: len(backbone) - keep]
    patterns = [p.strip() for p in strategy.split(",") if p.strip()]
    if not patterns:
        raise EffprofError(f"--freeze {freeze!r}: use none, backbone, later, or globs over module names")
    names = [path for path, _ in model.named_modules() if path]
    matched: list[str] = []
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            examples = ", ".join(names[:6])
            raise EffprofError(
                f"--freeze pattern {pattern!r} matches no module of {type(model).__name__}; module names look like "
                f"{examples} ...; use none, backbone, later, or globs such as 'layer1*,layer2*'"
            )
        matched.extend(h for h in hits if h not in matched)
    return matched


def setup_training(model: nn.Module, freeze: str = "none", num_classes: int | None = None) -> TrainingSetup:
    """Replace the head (when ``num_classes``), then freeze per ``freeze``; ``model`` is changed in place.

    Every parameter is made trainable first, so the result depends only on the strategy.
    """
    if not isinstance(freeze, str) or not freeze.strip():
        raise EffprofError(f"--freeze {freeze!r}: use none, backbone, later, or globs over module names")
    freeze = freeze.strip()
    replaced = replace_head(model, num_classes) if num_classes is not None else None
    for p in model.parameters():
        p.requires_grad_(True)
    frozen = frozen_by_rule(model, freeze)
    # a rule names modules that own parameters directly (the root among them: a ViT's class token),
    # so it freezes their own; a glob freezes everything below the modules it matches
    recurse = freeze not in ("backbone", "later")
    for path in frozen:
        for p in model.get_submodule(path).parameters(recurse=recurse):
            p.requires_grad_(False)
    head = None
    if freeze in ("backbone", "later") or replaced:
        head = find_head(model)
    first = None
    for path in param_layers(model):
        if any(p.requires_grad for p in model.get_submodule(path).parameters(recurse=False)):
            first = path
            break
    params = list(model.parameters())
    return TrainingSetup(
        freeze=freeze,
        head=head,
        replaced=replaced,
        frozen_modules=frozen,
        first_trainable=first,
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        params=sum(p.numel() for p in params),
    )
