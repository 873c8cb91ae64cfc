"""Each formula against the arithmetic written out by hand."""

import pytest

from effprof.formulas import ops


def test_conv_macs_dense_3x3():
    # 64 -> 128 channels, 3x3, 56x56 output: every output element is a 64*3*3 dot product.
    assert ops.conv_macs((1, 128, 56, 56), 64, (3, 3)) == 128 * 56 * 56 * 64 * 3 * 3


def test_conv_macs_depthwise_is_cout_times_k2_hw():
    assert ops.conv_macs((1, 32, 112, 112), 32, (3, 3), groups=32) == 32 * 112 * 112 * 9


def test_conv_macs_grouped_and_batch():
    assert ops.conv_macs((8, 64, 10, 10), 64, (3, 3), groups=4) == 8 * 64 * 100 * 16 * 9


def test_conv_params_with_and_without_bias():
    assert ops.conv_params(64, 128, (3, 3)) == 64 * 128 * 9 + 128
    assert ops.conv_params(32, 32, (3, 3), groups=32, bias=False) == 32 * 9


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [(224, 7, 2, 3, 1, 112), (56, 3, 1, 1, 1, 56), (56, 3, 2, 1, 1, 28), (32, 3, 1, 2, 2, 32), (7, 7, 1, 0, 1, 1)],
)
def test_conv_output_size(size, kernel, stride, padding, dilation, expected):
    assert ops.conv_output_size(size, kernel, stride, padding, dilation) == expected


def test_conv_op_class():
    assert ops.conv_op_class(32, 32, (3, 3), 32) == "conv_depthwise"
    assert ops.conv_op_class(32, 64, (3, 3), 32) == "conv_depthwise"  # depth multiplier 2
    assert ops.conv_op_class(32, 64, (1, 1), 1) == "conv_pointwise"
    assert ops.conv_op_class(32, 64, (3, 3), 4) == "conv_grouped"
    assert ops.conv_op_class(3, 64, (7, 7), 1) == "conv_dense"


def test_linear_macs_with_leading_dims():
    # (B=2, N=197 tokens, 768) -> 3072: 2*197 rows, each 768*3072
    assert ops.linear_macs((2, 197, 768), 3072) == 2 * 197 * 768 * 3072
    assert ops.linear_params(768, 3072) == 768 * 3072 + 3072


def test_matmul_macs_broadcast_and_vectors():
    assert ops.matmul_macs((2, 12, 197, 64), (2, 12, 64, 197)) == 2 * 12 * 197 * 64 * 197
    assert ops.matmul_macs((5, 1, 4, 3), (6, 3, 2)) == 5 * 6 * 4 * 3 * 2
    assert ops.matmul_macs((3,), (3, 4)) == 3 * 4
    assert ops.matmul_macs((4, 3), (3,)) == 4 * 3


def test_einsum_macs():
    assert ops.einsum_macs("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]) == 2 * 3 * 4 * 5
    assert ops.einsum_macs("bhqd,bhkd->bhqk", [(1, 8, 49, 32), (1, 8, 49, 32)]) == 8 * 49 * 49 * 32
    assert ops.einsum_macs("...ij,...jk->...ik", [(7, 3, 4), (7, 4, 5)]) == 7 * 3 * 4 * 5
    assert ops.einsum_macs("ii->i", [(4, 4)]) == 0


def test_sdpa_macs_is_two_matmuls():
    b, h, n, d = 2, 12, 197, 64
    assert ops.sdpa_macs((b, h, n, d), (b, h, n, d), (b, h, n, d)) == 2 * b * h * n * n * d
    assert ops.sdpa_other_ops((b, h, n, d), (b, h, n, d)) == b * h * n * n
    # grouped-query attention: 8 query heads, 2 key/value heads; counted per query head
    assert ops.sdpa_macs((1, 8, 10, 16), (1, 2, 20, 16), (1, 2, 20, 16)) == 8 * 10 * 20 * 32


def test_mha_macs_vit_b16_block():
    n, e = 197, 768
    expected = 3 * n * e * e + 2 * n * n * e + n * e * e
    assert ops.mha_macs(n, n, 1, e) == expected


def test_attention_scaling_laws():
    # ViT: quadratic in tokens; Swin: linear in pixels for a fixed window
    assert ops.vit_attention_macs(2 * 196, 64) == 4 * ops.vit_attention_macs(196, 64)
    assert ops.window_attention_macs(112, 112, 7, 96) == 4 * ops.window_attention_macs(56, 56, 7, 96)
    assert ops.window_attention_macs(56, 56, 7, 96) == 2 * 56 * 56 * 49 * 96


def test_other_ops():
    assert ops.elementwise_other_ops((1, 64, 56, 56)) == 64 * 56 * 56
    assert ops.pool_other_ops((1, 64, 56, 56), (3, 3)) == 64 * 56 * 56 * 9
    assert ops.reduction_other_ops((1, 1280, 7, 7)) == 1280 * 49
    assert ops.tensor_bytes([(1, 3, 224, 224)]) == 3 * 224 * 224 * 4
