"""Backward MACs of a conv and a linear layer, written out as arithmetic and checked against autograd.

Each gradient is computed here by hand (im2col + matmul), its values compared with autograd's, and its
multiplies counted from the shapes of the matmuls actually performed: the formulas of
effprof.formulas.backward must give that count.
"""

import pytest
import torch
import torch.nn.functional as F

import effprof  # noqa: F401
from effprof.formulas import backward as b


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
    got = b.conv_backward_macs(tuple(y.shape), cin, (3, 3), groups, input_grad=True, weight_grad=True)
    assert got == (mults_x, mults_w)
    assert b.conv_backward_macs(tuple(y.shape), cin, (3, 3), groups, input_grad=False, weight_grad=True) == (0, mults_w)
    assert b.conv_backward_macs(tuple(y.shape), cin, (3, 3), groups, input_grad=True, weight_grad=False) == (mults_x, 0)


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
    assert b.linear_backward_macs(tuple(x.shape), 4, input_grad=True, weight_grad=True) == expected
    assert b.linear_backward_macs(tuple(x.shape), 4, input_grad=False, weight_grad=False) == (0, 0)


def test_attention_backward_is_twice_forward_when_q_k_v_need_gradients():
    q, k, v = (2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)
    # dQ = dS K, dK = dS^T Q: B L S E each; dV = A^T dO, dA = dO V^T: B L S Ev each
    e_part, ev_part = 2 * 3 * 5 * 7 * 8, 2 * 3 * 5 * 7 * 4
    assert b.sdpa_backward_macs(q, k, v, q_grad=True, k_grad=True, v_grad=True) == (2 * e_part + 2 * ev_part, 0)
    assert b.sdpa_backward_macs(q, k, v, q_grad=False, k_grad=False, v_grad=True) == (ev_part, 0)
    assert b.sdpa_backward_macs(q, k, v, q_grad=False, k_grad=False, v_grad=False) == (0, 0)


def test_matmul_backward_splits_weight_and_activation_gradients():
    assert b.matmul_backward_macs((4, 6), (6, 3), a_grad=True, b_grad=True, b_is_weight=True) == (72, 72)
    assert b.matmul_backward_macs((4, 6), (6, 3), a_grad=True, b_grad=True) == (144, 0)
    assert b.matmul_backward_macs((4, 6), (6, 3), a_grad=False, b_grad=True) == (72, 0)
