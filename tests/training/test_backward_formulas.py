"""Backward MACs of a conv and a linear layer, written out as arithmetic and checked against autograd.

Each gradient is computed here by hand (im2col + matmul), its values compared with autograd's, and its
multiplies counted from the shapes of the matmuls actually performed: the registered formulas of
effprof.formulas.backward (the ones the training counter runs, given the op's own arguments as shapes,
marked by which operands need a gradient) must give that count.
"""

import pytest
import torch
import torch.nn.functional as F

import effprof  # noqa: F401
from effprof.formulas import backward as b
from effprof.formulas.backward import GradShape, TrainableShape
from effprof.formulas.registry import TensorShape, WeightShape


def _conv_grads_by_hand(x, w, dy, stride, padding, groups):
    """grad_input and grad_weight of conv2d via unfold + per-group matmuls; also the multiplies each did."""
    n, cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, Cin*k*k, L)
    L = cols.shape[-1]
    dy_flat = dy.reshape(n, cout, L)
    cout_g = cout // groups
    gw, gcols = [], []
    mults_w = mults_x = 0
    for g in range(groups):
        xg = cols[:, g * cin_g * kh * kw : (g + 1) * cin_g * kh * kw, :]  # (N, Cin/g*k*k, L)
        dyg = dy_flat[:, g * cout_g : (g + 1) * cout_g, :]  # (N, Cout/g, L)
        wg = w[g * cout_g : (g + 1) * cout_g].reshape(cout_g, -1)  # (Cout/g, Cin/g*k*k)
        gw.append(torch.einsum("nol,nkl->ok", dyg, xg))  # dW = sum_n dY X^T
        mults_w += n * cout_g * L * xg.shape[1]
        gcols.append(torch.einsum("ok,nol->nkl", wg, dyg))  # dX_col = W^T dY
        mults_x += n * xg.shape[1] * cout_g * L
    grad_w = torch.cat(gw).reshape(w.shape)
    grad_x = F.fold(torch.cat(gcols, dim=1), (h, wd), (kh, kw), padding=padding, stride=stride)  # adds only
    return grad_x, grad_w, mults_x, mults_w


@pytest.mark.parametrize(("cin", "cout", "groups", "stride"), [(4, 6, 1, 1), (4, 6, 2, 2), (8, 8, 8, 1)])
def test_conv_backward_equals_the_arithmetic_written_out(cin, cout, groups, stride):
    torch.manual_seed(0)
    x = torch.randn(2, cin, 9, 9, requires_grad=True)
    w = torch.randn(cout, cin // groups, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, stride=stride, padding=1, groups=groups)
    dy = torch.randn_like(y)
    y.backward(dy)
    grad_x, grad_w, mults_x, mults_w = _conv_grads_by_hand(x.detach(), w.detach(), dy, stride, 1, groups)
    torch.testing.assert_close(grad_x, x.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(grad_w, w.grad, rtol=1e-4, atol=1e-4)
    conv2d = b.backward_formula("conv2d")  # F.conv2d(input, weight, bias, stride, padding, dilation, groups)

    def got(x_shape, w_shape):
        return conv2d(x_shape, w_shape, None, stride, 1, 1, groups, out_shape=TensorShape(y.shape))

    assert got(GradShape(x.shape), TrainableShape(w.shape)) == [(mults_x, mults_w)]
    assert got(TensorShape(x.shape), TrainableShape(w.shape)) == [(0, mults_w)]
    assert got(GradShape(x.shape), WeightShape(w.shape)) == [(mults_x, 0)]


def test_linear_backward_equals_the_arithmetic_written_out():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 7, requires_grad=True)  # leading dims multiply, as forward
    w = torch.randn(4, 7, requires_grad=True)
    y = F.linear(x, w)
    dy = torch.randn_like(y)
    y.backward(dy)
    rows = x.detach().reshape(-1, 7)
    dy2 = dy.reshape(-1, 4)
    grad_x = dy2 @ w.detach()  # (rows x Cout) @ (Cout x Cin): rows*Cout*Cin multiplies
    grad_w = dy2.T @ rows  # (Cout x rows) @ (rows x Cin): Cout*rows*Cin multiplies
    torch.testing.assert_close(grad_x.reshape(x.shape), x.grad)
    torch.testing.assert_close(grad_w, w.grad)
    n_rows = rows.shape[0]
    expected = (n_rows * 4 * 7, 4 * n_rows * 7)
    linear = b.backward_formula("linear")
    out = TensorShape(y.shape)
    assert linear(GradShape(x.shape), TrainableShape(w.shape), None, out_shape=out) == [expected]
    assert linear(TensorShape(x.shape), WeightShape(w.shape), None, out_shape=out) == [(0, 0)]


def test_attention_backward_is_twice_forward_when_q_k_v_need_gradients():
    q, k, v = (2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)
    # dQ = dS K, dK = dS^T Q: B L S E each; dV = A^T dO, dA = dO V^T: B L S Ev each
    e_part, ev_part = 2 * 3 * 5 * 7 * 8, 2 * 3 * 5 * 7 * 4
    assert b.sdpa_backward_macs(q, k, v, q_grad=True, k_grad=True, v_grad=True) == (2 * e_part + 2 * ev_part, 0)
    assert b.sdpa_backward_macs(q, k, v, q_grad=False, k_grad=False, v_grad=True) == (ev_part, 0)
    assert b.sdpa_backward_macs(q, k, v, q_grad=False, k_grad=False, v_grad=False) == (0, 0)


def test_matmul_backward_splits_weight_and_activation_gradients():
    matmul, out = b.backward_formula("matmul"), TensorShape((4, 3))
    assert matmul(GradShape((4, 6)), TrainableShape((6, 3)), out_shape=out) == [(72, 72)]
    assert matmul(TrainableShape((4, 6)), GradShape((6, 3)), out_shape=out) == [(72, 72)]  # W @ x
    assert matmul(GradShape((4, 6)), GradShape((6, 3)), out_shape=out) == [(144, 0)]
    assert matmul(TensorShape((4, 6)), GradShape((6, 3)), out_shape=out) == [(72, 0)]
    assert b.backward_formula("addmm")(TrainableShape((3,)), GradShape((4, 6)), WeightShape((6, 3)),
                                       out_shape=out) == [(72, 0)]  # fmt: skip


def test_every_backward_formula_pairs_a_forward_formula_and_every_mac_op_but_recurrent_has_one():
    from effprof.formulas import OP_FORMULAS
    from effprof.formulas.ops import RNN_OPS

    assert set(b.BACKWARD_FORMULAS) <= set(OP_FORMULAS)
    mac_ops = {"conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "linear", "matmul", "mm", "bmm", "mv", "dot", "inner", "addmm", "baddbmm",
               "addbmm", "addmv", "einsum", "scaled_dot_product_attention", "multi_head_attention_forward"}  # fmt: skip
    assert set(b.BACKWARD_FORMULAS) == mac_ops
    assert not set(RNN_OPS) & set(b.BACKWARD_FORMULAS)  # reported as unsupported by the counter
