"""Closed-form lecture formulas of the efficient-architecture story, built from ``ops.py``.

Each function states its rule first, sees only sizes and hyper-parameters (never a module or a
tensor), and returns exact integers where the architecture is integral. ``effprof formulas``
(``effprof.lecture.checks``) holds each of them against counts on real built modules.

Names carry units: ``*_params`` parameters, ``*_macs`` multiply-accumulates, ``*_ops`` non-MAC
elementwise work (effprof's ``other_ops``), ``*_channels`` channels per pixel of live tensors.
Feature maps are square: ``size`` is the side in pixels of a conv's *output*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from effprof.formulas import ops

# --- depthwise-separable convolution (MobileNetV1, Howard et al. 2017, Sec. 3.1) ------------------


def standard_conv_params(in_channels: int, out_channels: int, kernel: int) -> int:
    """Params of a K x K conv without bias = K^2 * Cin * Cout."""
    return ops.conv_params(in_channels, out_channels, (kernel, kernel), bias=False)


def separable_conv_params(in_channels: int, out_channels: int, kernel: int) -> int:
    """Params of depthwise K x K + pointwise 1x1, no bias = K^2 * Cin + Cin * Cout."""
    depthwise = ops.conv_params(in_channels, in_channels, (kernel, kernel), groups=in_channels, bias=False)
    return depthwise + ops.conv_params(in_channels, out_channels, (1, 1), bias=False)


def standard_conv_macs(in_channels: int, out_channels: int, kernel: int, size: int) -> int:
    """MACs of a K x K conv = K^2 * Cin * Cout * H * W (H = W = ``size``, the output side)."""
    return ops.conv_macs((1, out_channels, size, size), in_channels, (kernel, kernel))


def separable_conv_macs(in_channels: int, out_channels: int, kernel: int, size: int) -> int:
    """MACs of depthwise + pointwise = (K^2 * Cin + Cin * Cout) * H * W."""
    depthwise = ops.conv_macs((1, in_channels, size, size), in_channels, (kernel, kernel), groups=in_channels)
    return depthwise + ops.conv_macs((1, out_channels, size, size), in_channels, (1, 1))


def separable_reduction(out_channels: int, kernel: int) -> float:
    """Standard / separable cost = Cout * K^2 / (K^2 + Cout), for params and MACs alike (Cin cancels).

    8.69x for Cout = 256, K = 3: the paper's "8 to 9 times less computation".
    """
    return out_channels * kernel**2 / (kernel**2 + out_channels)


# --- MobileNetV1 width (alpha) and resolution (rho) multipliers (Sec. 3.3-3.4) ----------------------


#: (output channels, stride) of each depthwise-separable block, Table 1 of Howard et al. 2017;
#: effprof.models.mobilenet_v1 builds from this table, so formula and model cannot drift apart
MOBILENET_V1_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)  # fmt: skip
MOBILENET_V1_STEM_CHANNELS = 32


def mobilenet_v1_layer_macs(kernel: int, in_channels: int, out_channels: int, size: int) -> int:
    """MACs of one depthwise-separable layer = D_K^2 * M * D_F^2 + M * N * D_F^2 (``separable_conv_macs``).

    With the multipliers applied (M -> alpha*M, N -> alpha*N, D_F -> rho*D_F) this is the paper's
    D_K^2 * aM * r^2 D_F^2 + aM * aN * r^2 D_F^2: pass the already-scaled integer sizes.
    """
    return separable_conv_macs(in_channels, out_channels, kernel, size)


def width_resolution_scaling(alpha: float, rho: float) -> float:
    """Cost of MobileNetV1(alpha, rho) relative to (1, 1) ~ alpha^2 * rho^2.

    Exact for the pointwise term, which dominates; the depthwise term scales as alpha * rho^2,
    the stem conv as alpha * rho^2 and the classifier as alpha alone.
    """
    return alpha**2 * rho**2


def mobilenet_v1_macs(alpha: float, resolution: int, num_classes: int = 1000) -> int:
    """MACs of effprof's MobileNetV1 = stem 3x3 conv + sum of the 13 separable layers + classifier.

    Channels are ``max(1, round(alpha * C))`` over ``MOBILENET_V1_BLOCKS`` (the paper's Table 1, as
    ``effprof.models.mobilenet_v1`` builds it); each layer's D_F is its output side, following
    PyTorch's conv size rule (padding k // 2).
    """

    def ch(c: int) -> int:
        return max(1, round(c * alpha))

    size = ops.conv_output_size(resolution, 3, 2, 1)
    cin = ch(MOBILENET_V1_STEM_CHANNELS)
    total = ops.conv_macs((1, cin, size, size), 3, (3, 3))
    for cout, stride in MOBILENET_V1_BLOCKS:
        size = ops.conv_output_size(size, 3, stride, 1)
        total += mobilenet_v1_layer_macs(3, cin, ch(cout), size)
        cin = ch(cout)
    return total + ops.linear_macs((1, cin), num_classes)


# --- inverted residual with linear bottleneck (MobileNetV2, Sandler et al. 2018, Sec. 3-5) -------


def inverted_residual_params(in_channels: int, out_channels: int, expansion: int, kernel: int = 3) -> int:
    """Conv weights of expand 1x1 -> depthwise K x K -> project 1x1 = eC*C + K^2*eC + eC*C'.

    No expand conv when e = 1 (torchvision's rule). BatchNorm's 2 params per channel are not included.
    """
    hidden = round(in_channels * expansion)
    expand = ops.conv_params(in_channels, hidden, (1, 1), bias=False) if expansion != 1 else 0
    depthwise = ops.conv_params(hidden, hidden, (kernel, kernel), groups=hidden, bias=False)
    return expand + depthwise + ops.conv_params(hidden, out_channels, (1, 1), bias=False)


def inverted_residual_macs(
    in_channels: int, out_channels: int, expansion: int, size: int, stride: int = 1, kernel: int = 3
) -> int:
    """MACs = H*W*C*eC (expand) + (H/s)(W/s)*K^2*eC (depthwise) + (H/s)(W/s)*eC*C' (project).

    ``size`` is the block's input side H; the depthwise conv (padding K // 2) sets the output side.
    """
    hidden = round(in_channels * expansion)
    out_size = ops.conv_output_size(size, kernel, stride, kernel // 2)
    expand = ops.conv_macs((1, hidden, size, size), in_channels, (1, 1)) if expansion != 1 else 0
    depthwise = ops.conv_macs((1, hidden, out_size, out_size), hidden, (kernel, kernel), groups=hidden)
    return expand + depthwise + ops.conv_macs((1, out_channels, out_size, out_size), hidden, (1, 1))


def inverted_residual_live_channels(channels: int, expansion: int) -> int:
    """Widest set of live tensors between two ops of an inverted residual = (1 + e) * C per pixel:
    the narrow input, kept for the residual add, plus the expanded e*C tensor."""
    return (1 + expansion) * channels


def inverted_residual_live_during_channels(channels: int, expansion: int) -> int:
    """Live tensors *during* the depthwise conv of an inverted residual = (1 + 2e) * C per pixel:
    the input held for the residual, the expanded tensor it reads and the one it writes (stride 1).

    With e = 1 (no expand conv) the peak moves to the project conv: input + its input + output, 3C.
    """
    return (1 + 2 * expansion) * channels


def bottleneck_live_channels(channels: int, reduction: int) -> float:
    """Live tensors of a classic (ResNet) bottleneck right after its 1x1 reduce = C * (1 + 1/e):
    the wide input, kept for the residual add, plus the reduced C/e tensor.

    Not its peak: just before the residual add the input and the block's output are both live, 2C.
    """
    return channels * (1 + 1 / reduction)


# --- squeeze-and-excitation (Hu et al. 2018, Sec. 3) ------------------------------------------------


def se_params(channels: int, squeeze_channels: int, bias: bool = False) -> int:
    """Params of SE's two FC layers = 2 * C * C/r (the paper's 2C^2/r); + C/r + C with biases
    (torchvision's SqueezeExcitation and timm's SE modules have them)."""
    fc1 = ops.conv_params(channels, squeeze_channels, (1, 1), bias=bias)
    return fc1 + ops.conv_params(squeeze_channels, channels, (1, 1), bias=bias)


def se_macs(channels: int, squeeze_channels: int) -> int:
    """MACs of SE's two FC layers on the squeezed 1x1 vector = 2 * C * C/r (independent of H, W)."""
    return 2 * channels * squeeze_channels


def se_rescale_ops(channels: int, height: int, width: int) -> int:
    """SE's channel-wise rescale: one multiply per element = C * H * W.

    effprof counts it as an elementwise ``other_op`` (not a MAC: nothing accumulates); the squeeze
    (global average pool) reads the same C * H * W elements, a pool ``other_op``.
    """
    return channels * height * width


# --- compound scaling (EfficientNet, Tan & Le 2019, Sec. 3.3) -------------------------------------

# The paper's grid search at phi = 1, under alpha * beta^2 * gamma^2 ~ 2.
COMPOUND_ALPHA = 1.2  # depth
COMPOUND_BETA = 1.1  # width
COMPOUND_GAMMA = 1.15  # resolution


def compound_coefficients(
    phi: float, alpha: float = COMPOUND_ALPHA, beta: float = COMPOUND_BETA, gamma: float = COMPOUND_GAMMA
) -> tuple[float, float, float]:
    """(depth, width, resolution) multipliers = (alpha^phi, beta^phi, gamma^phi)."""
    return alpha**phi, beta**phi, gamma**phi


def compound_flops_ratio(
    phi: float, alpha: float = COMPOUND_ALPHA, beta: float = COMPOUND_BETA, gamma: float = COMPOUND_GAMMA
) -> float:
    """FLOPs relative to phi = 0 = d * w^2 * r^2 = (alpha * beta^2 * gamma^2)^phi ~ 2^phi.

    The paper constrains alpha * beta^2 * gamma^2 ~ 2; its (1.2, 1.1, 1.15) gives 1.920.
    """
    d, w, r = compound_coefficients(phi, alpha, beta, gamma)
    return d * w * w * r * r


def compound_resolution(phi: float, base: int = 224, gamma: float = COMPOUND_GAMMA) -> int:
    """Input side of the literal compound-scaled model = round(base * gamma^phi): 224, 258, 296, ..."""
    return round(base * gamma**phi)


# --- vision transformer (Dosovitskiy et al. 2021) --------------------------------------------------


def vit_tokens(resolution: int, patch: int) -> int:
    """Patch tokens N = H*W / P^2 (the class token, where there is one, is one more)."""
    return (resolution // patch) ** 2


def vit_macs_by_class(
    resolution: int,
    patch: int,
    dim: int,
    depth: int,
    mlp_ratio: float = 4.0,
    num_classes: int = 1000,
    class_token: bool = True,
) -> dict[str, int]:
    """MACs of a plain ViT by effprof op class, with N = HW/P^2 (+1 class token) tokens of width d.

    attention: depth * 2 * N^2 * d (Q K^T and A V)       -- quadratic in N, so in pixels
    linear:    depth * (4 + 2 * mlp_ratio) * N * d^2     -- q, k, v, out projections and the MLP
               + d * classes (head on the class token)   -- linear in N
    conv_dense: the patch embedding, N_patches * 3 * P^2 * d.
    """
    patches = vit_tokens(resolution, patch)
    tokens = patches + (1 if class_token else 0)
    hidden = round(mlp_ratio * dim)
    per_block_linear = ops.linear_macs((tokens, dim), 4 * dim) + 2 * ops.linear_macs((tokens, dim), hidden)
    return {
        "attention": depth * ops.vit_attention_macs(tokens, dim),
        "linear": depth * per_block_linear + ops.linear_macs((1, dim), num_classes),
        "conv_dense": ops.conv_macs((1, dim, resolution // patch, resolution // patch), 3, (patch, patch)),
    }


# --- Swin window attention (Liu et al. 2021, Sec. 3.2) ---------------------------------------------


def padded_window_attention_macs(size: int, window: int, dim: int) -> int:
    """Window attention core on a size x size map = 2 * H'W' * M^2 * d, with H' = W' = size rounded
    up to a multiple of M (torchvision pads the map; a window larger than the map stays M)."""
    padded = math.ceil(size / window) * window
    return ops.window_attention_macs(padded, padded, window, dim)


def swin_attention_macs(
    resolution: int,
    patch: int = 4,
    embed_dim: int = 96,
    depths: Sequence[int] = (2, 2, 6, 2),
    window: int = 7,
) -> int:
    """Attention-core MACs of a Swin Transformer = sum over stages of depth_i * 2 * H_i W_i * M^2 * C_i.

    Stage i works on a (R / P / 2^i)-sided map with C_i = embed_dim * 2^i channels: for a fixed window
    M this is linear in the number of pixels, where a ViT's is quadratic. Defaults are Swin-T's.
    """
    total, size = 0, resolution // patch
    for stage, depth in enumerate(depths):
        total += depth * padded_window_attention_macs(size, window, embed_dim * 2**stage)
        size = math.ceil(size / 2)  # PatchMerging pads an odd side
    return total


# --- GhostNet ghost module (Han et al. 2020, Sec. 3.1) ------------------------------------------------


def ghost_module_macs(
    in_channels: int, out_channels: int, size: int, kernel: int = 1, ratio: int = 2, dw_size: int = 3
) -> int:
    """MACs = (n/s) * c * k^2 * H'W' (primary conv) + (s-1) * (n/s) * d^2 * H'W' (cheap depthwise).

    n/s is rounded up (timm's ``ceil(out / ratio)``); the cheap op makes (s-1) maps per primary one.
    """
    primary = math.ceil(out_channels / ratio)
    cheap = primary * (ratio - 1)
    macs = ops.conv_macs((1, primary, size, size), in_channels, (kernel, kernel))
    return macs + ops.conv_macs((1, cheap, size, size), primary, (dw_size, dw_size), groups=primary)


def ghost_speedup(ratio: int, in_channels: int, kernel: int, dw_size: int) -> float:
    """Ordinary conv / ghost module MACs = s * c * k^2 / (c * k^2 + (s - 1) * d^2) ~ s (when d ~ k, s << c).

    Exact when n is a multiple of s. GhostNet's own k = 1 primary conv with d = 3 gives less than s.
    """
    return ratio * in_channels * kernel**2 / (in_channels * kernel**2 + (ratio - 1) * dw_size**2)


# --- ShuffleNet group convolution (Zhang et al. 2018, Sec. 3.1) --------------------------------------


def group_conv_macs(in_channels: int, out_channels: int, kernel: int, size: int, groups: int) -> int:
    """MACs of a grouped conv = K^2 * Cin * Cout * H * W / g: each output sees Cin/g input channels."""
    return ops.conv_macs((1, out_channels, size, size), in_channels, (kernel, kernel), groups=groups)
