"""reconcile: every disagreement named; real models counted three ways agree on conv/linear/matmul."""

from __future__ import annotations

from collections import Counter

import pytest

import effprof  # noqa: F401  (installs the torchvision shim before anything imports it)
from effprof.counters.reconcile import is_mac_op, op_class_of, reconcile
from effprof.counters.result import CountResult, OpCount
from effprof.errors import EffprofError

SHAPE = (1, 3, 8, 8)


#: the analytic counter's op for each class (a MAC op, as the real counter records)
_ANALYTIC_OP = {"conv_dense": "conv2d", "linear": "linear", "attention": "matmul"}


def _uncounted(kw: dict) -> dict:
    """``unsupported_by_module`` as the tests write it -> the table's (module, op) -> calls."""
    kw.pop("unsupported", None)  # derived from the per-module table
    by_module = kw.pop("unsupported_by_module", {})
    return {(path, op): n for path, ops in by_module.items() for op, n in ops.items()}


def analytic(rows: dict[str, dict[str, int]], **kw) -> CountResult:
    """path -> op class -> MACs, as the analytic counter reports them."""
    table = [OpCount(p, _ANALYTIC_OP[c], c, macs=m) for p, classes in rows.items() for c, m in classes.items()]
    types = {p: "Conv2d" for p in rows}
    return CountResult("analytic", SHAPE, table, module_types=types, uncounted=_uncounted(kw), **kw)


def external(name: str, by_module_op: dict[str, dict[str, int]], **kw) -> CountResult:
    table = [OpCount(p, op, op_class_of(op), macs=v) for p, ops in by_module_op.items() for op, v in ops.items()]
    return CountResult(name, SHAPE, table, uncounted=_uncounted(kw), **kw)


def test_op_vocabulary():
    assert is_mac_op("aten::_scaled_dot_product_flash_attention_for_cpu")
    assert is_mac_op("aten::convolution") and is_mac_op("conv") and is_mac_op("aten::mv")
    assert not is_mac_op("batch_norm") and not is_mac_op("aten::add")
    assert op_class_of("aten::addmm") == "linear" and op_class_of("aten::bmm") == "attention"
    assert op_class_of("layer_norm") == "norm" and op_class_of("adaptive_avg_pool2d") == "pool"


def test_agreement_has_no_disagreements_and_full_coverage():
    ref = analytic({"conv": {"conv_dense": 100}, "fc": {"linear": 10}})
    fv = external("fvcore", {"conv": {"conv": 100}, "fc": {"linear": 10}})
    rec = reconcile({"analytic": ref, "fvcore": fv})
    assert rec.disagreements == [] and rec.coverage == {"analytic": 1.0, "fvcore": 1.0}
    rows = rec.to_rows()
    assert rows[0] == {
        "layer": "conv",
        "type": "Conv2d",
        "macs": 100,
        "macs_fvcore": 100,
        "diff_pct_fvcore": 0.0,
        "diff_pct": 0.0,
        "reason": "",
    }


def test_named_reasons():
    ref = analytic({"conv": {"conv_dense": 100}, "attn": {"linear": 30, "attention": 20}})
    fv = external(
        "fvcore",
        {"conv": {"conv": 100}, "bn": {"batch_norm": 20}, "attn": {"linear": 30}},
        unsupported=Counter({"aten::scaled_dot_product_attention": 1, "aten::add": 3}),
        unsupported_by_module={
            "attn": Counter({"aten::scaled_dot_product_attention": 1}),
            "": Counter({"aten::add": 3}),
        },
    )
    torch_cpu = external(
        "torch",
        {"conv": {"aten::convolution": 100}, "attn": {"aten::addmm": 30}},
        unsupported=Counter({"aten::_scaled_dot_product_flash_attention_for_cpu": 1}),
        unsupported_by_module={"attn": Counter({"aten::_scaled_dot_product_flash_attention_for_cpu": 1})},
    )
    rec = reconcile({"analytic": ref, "fvcore": fv, "torch": torch_cpu})
    assert rec.unexplained == []
    reasons = rec.reasons()
    assert "fvcore counts batch_norm as flops (norms are other_ops in effprof)" in reasons
    assert "fvcore: aten::scaled_dot_product_attention unsupported (1 call), 0 counted" in reasons
    assert (
        "torch: aten::_scaled_dot_product_flash_attention_for_cpu has no formula (1 call), 0 counted"
        in reasons
    )
    assert not any("aten::add" in r for r in reasons)  # elementwise ops are not MACs anywhere
    assert rec.coverage["fvcore"] == pytest.approx(130 / 150)
    row = {r["layer"]: r for r in rec.to_rows()}["attn"]
    assert row["macs"] == 50 and row["macs_fvcore"] == 30 and row["diff_pct_torch"] == pytest.approx(-40.0)
    assert "unsupported" in row["reason"]
    classes = {r["op_class"]: r for r in rec.op_class_rows()}
    assert classes["norm"]["macs_fvcore"] == 20 and "batch_norm" in classes["norm"]["reason"]
    assert any("fvcore" in line and "86.7%" in line for line in rec.coverage_lines())


def test_unexplained_difference_is_flagged_and_threshold_respected():
    ref = analytic({"conv": {"conv_dense": 1000}, "fc": {"linear": 10}})
    off = external("fvcore", {"conv": {"conv": 1005}, "fc": {"linear": 12}})
    rec = reconcile({"analytic": ref, "fvcore": off}, threshold=0.01)
    assert [d.layer for d in rec.disagreements if not d.layer.startswith("op_class:")] == ["fc"]
    assert [d.layer for d in rec.unexplained][0] == "fc"
    assert "not explained" in rec.unexplained[0].reason


def test_handle_shortfall_is_named():
    ref = analytic({"mm": {"attention": 40}})
    fv = external("fvcore", {"mm": {"matmul": 10}}, miscounted_by_module={"mm": {"matmul": 30}})
    rec = reconcile({"analytic": ref, "fvcore": fv})
    assert rec.unexplained == []
    assert "fvcore: its matmul handle counts 30 MACs less than the formula on these shapes" in rec.reasons()


def test_errors():
    with pytest.raises(EffprofError, match="reference"):
        reconcile({"fvcore": external("fvcore", {})})
    other = analytic({})
    other.input_shape = (1, 3, 9, 9)
    with pytest.raises(EffprofError, match="one input shape"):
        reconcile({"analytic": analytic({}), "fvcore": other})


# --- real models: three counters side by side ----------------------------------------------------------

REFERENCE_GMACS = {"vit_b_16": 17.564, "swin_t": 4.491}
MODELS = ["resnet50", "mobilenet_v2", "vit_b_16", "swin_t"]


@pytest.fixture(scope="module")
def counted():
    """Each model counted once per counter (fvcore on a CPU build: it traces real tensors)."""
    from effprof.counters.analytic import count_analytic
    from effprof.counters.fvcore import count_fvcore
    from effprof.counters.torch_mode import count_torch
    from effprof.models import build_model

    cache: dict[str, dict[str, CountResult]] = {}

    def get(name: str) -> dict[str, CountResult]:
        if name not in cache:
            built = build_model(name, resolution=224)
            cpu = build_model(name, resolution=224, device="cpu").module
            shape = built.input_shape
            results = {
                "analytic": count_analytic(built.module, shape),
                "fvcore": count_fvcore(cpu, shape),
                "torch": count_torch(built.module, shape),
            }
            if name in REFERENCE_GMACS:  # the attention models: completed and CPU runs too
                results["fvcore+effprof"] = count_fvcore(cpu, shape, completed=True)
                results["torch_cpu"] = count_torch(cpu, shape, device="cpu")
            cache[name] = results
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_three_counters_agree_on_mac_ops_per_module(counted, name):
    results = counted(name)
    ref = results["analytic"]
    assert not ref.unsupported
    assert results["torch"].macs_by_module == {p: m for p, m in ref.macs_by_module.items() if m}
    assert results["analytic"].params == results["fvcore"].params == results["torch"].params
    fv = results["fvcore"]
    fv_macs = fv.mac_ops_by_module()
    for path, macs in ref.macs_by_module.items():
        missed = {op for op in fv.unsupported_by_module.get(path, {}) if is_mac_op(op)}
        if missed:  # only attention: the sdpa core is what is missing
            assert missed == {"aten::scaled_dot_product_attention"}
            assert fv_macs.get(path, 0) < macs
        else:
            assert fv_macs.get(path, 0) == macs, path
    assert (
        sum(fv_macs.values()) + sum(v for v in results.get("fvcore+effprof", fv).completed_ops.values())
        == ref.macs
    )
    if "fvcore+effprof" in results:
        assert results["fvcore+effprof"].mac_ops_by_module() == {
            p: m for p, m in ref.macs_by_module.items() if m
        }


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_every_difference_is_named(counted, name):
    rec = reconcile(counted(name))
    assert rec.unexplained == []
    reasons = " | ".join(rec.reasons())
    if name in ("resnet50", "mobilenet_v2"):
        assert "fvcore counts batch_norm as flops (norms are other_ops in effprof)" in reasons
        assert "fvcore counts adaptive_avg_pool2d as flops (pooling are other_ops in effprof)" in reasons
    else:
        assert "fvcore counts layer_norm as flops (norms are other_ops in effprof)" in reasons
    assert rec.coverage["torch"] == 1.0
    assert rec.reasons("torch") == []  # FlopCounterMode on meta counts everything effprof does


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vit_b_16", "swin_t"])
def test_attention_models_match_torchvision_and_name_missed_attention(counted, name):
    import torchvision

    results = counted(name)
    reference = torchvision.models.get_model_weights(name).DEFAULT.meta["_ops"]
    assert REFERENCE_GMACS[name] == pytest.approx(reference)
    assert results["analytic"].macs / 1e9 == pytest.approx(reference, rel=0.01)
    rec = reconcile(results)
    reasons = rec.reasons()
    if name == "vit_b_16":  # F.scaled_dot_product_attention inside nn.MultiheadAttention
        assert "fvcore: aten::scaled_dot_product_attention unsupported (12 calls), 0 counted" in reasons
        assert (
            "torch_cpu: aten::_scaled_dot_product_flash_attention_for_cpu has no formula (12 calls), 0 counted"
            in reasons
        )
        assert (
            rec.coverage["fvcore"]
            == pytest.approx(rec.coverage["torch_cpu"])
            == pytest.approx(0.959, abs=1e-3)
        )
    else:  # torchvision's Swin writes attention as explicit matmuls: every counter sees them
        assert rec.coverage["fvcore"] == rec.coverage["torch_cpu"] == 1.0
    assert rec.coverage["fvcore+effprof"] == 1.0


def test_coverage_line_names_the_references_own_gaps_and_never_a_bare_100():
    """sequencer2d_s before recurrent formulas: every counter missed the LSTMs, so each saw "100%"."""
    ref = analytic(
        {"fc": {"linear": 10}},
        unsupported=Counter({"lstm": 36, "cumprod": 2}),
        unsupported_by_module={"rnn": Counter({"lstm": 36}), "": Counter({"cumprod": 2})},
    )
    fv = external(
        "fvcore",
        {"fc": {"linear": 10}},
        unsupported=Counter({"aten::lstm": 36, "aten::add": 5}),
        unsupported_by_module={"rnn": Counter({"aten::lstm": 36}), "": Counter({"aten::add": 5})},
    )
    rec = reconcile({"analytic": ref, "fvcore": fv})
    assert rec.coverage["fvcore"] == 1.0
    [line] = rec.coverage_lines()
    assert "100.0%" not in line
    assert line.startswith("fvcore: counted every MAC of the 1e-08 GMACs analytic counted (")
    assert "fvcore: aten::lstm unsupported (36 calls), 0 counted" in line  # its MAC op, by name
    assert "fvcore could not count add x5 (no MACs in them)" in line  # and every other one
    assert "analytic itself has no formula for lstm x36, cumprod x2" in line


def test_coverage_line_carries_unexplained_differences_and_hides_no_rounding():
    ref = analytic({"conv": {"conv_dense": 1000}, "fc": {"linear": 10}})
    over = external("fvcore", {"conv": {"conv": 1000}, "fc": {"linear": 12}})
    rec = reconcile({"analytic": ref, "fvcore": over})
    assert len(rec.unexplained) == 2 and rec.coverage["fvcore"] == 1.0  # fc, and op_class:linear
    [line] = rec.coverage_lines()
    assert "100.0%" not in line and line.endswith("(2 differences have no named reason)")

    # 9,996 of 10,000 MACs: rounds to 100.0% at one decimal, so it reads ">99.9%"
    ref = analytic({"conv": {"conv_dense": 10_000}})
    short = external("fvcore", {"conv": {"conv": 9_996}})
    [line] = reconcile({"analytic": ref, "fvcore": short}).coverage_lines()
    assert line == "fvcore: counted >99.9% of analytic's 1e-05 GMACs"
    ref = analytic({"conv": {"conv_dense": 10_000}})
    [line] = reconcile(
        {"analytic": ref, "fvcore": external("fvcore", {"conv": {"conv": 10_000}})}
    ).coverage_lines()
    assert line == "fvcore: counted 100.0% of analytic's 1e-05 GMACs"
