"""The timed training step (shared timing loop), its measured peak memory, finetune and the CLI."""

import json

import pandas as pd
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import effprof
from effprof.cli import app
from effprof.counters.training import count_training
from effprof.latency.training import measure_training_step

runner = CliRunner()


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.pool(self.features(x)).flatten(1))


SHAPE = (4, 3, 32, 32)
#: the steps here are timed to check rows and memory, not speed: one thread, so a busy 2-core runner
#: does not burn CPU in spin-waiting thread pools
ONE = 1


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_step_is_timed_by_the_shared_loop_and_updates_only_trainable_weights(optimizer):
    model = Small()
    frozen_before = model.features[0].weight.detach().clone()
    step = measure_training_step(model, SHAPE, freeze="features.0", optimizer=optimizer, threads=ONE, budget_s=0.05)
    m = step.measurement
    assert m.runs >= 5 and m.median_ms > 0 and m.backend == "eager"
    assert torch.equal(model.features[0].weight, frozen_before)  # frozen: never updated
    assert model.features[0].weight.grad is None
    assert step.setup.trainable_params == sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_measured_cpu_peak_is_close_to_the_analytic_memory():
    count = count_training(Small(), SHAPE)
    for optimizer in ("sgd", "adamw"):
        step = measure_training_step(Small(), SHAPE, optimizer=optimizer, threads=ONE, budget_s=0.05)
        analytic = count.memory_bytes(optimizer)["total_bytes"]
        assert step.peak_bytes is not None and "profiler" in step.peak_method
        parts = count.memory_bytes(optimizer)
        # the profiler sees params, grads and optimizer state (all alive at the step's end) ...
        assert parts["params_bytes"] + parts["grads_bytes"] + parts["optimizer_state_bytes"] < step.peak_bytes
        # ... and at most one forward working set of activation gradients beyond the saved activations
        assert step.peak_bytes <= analytic + count.forward_peak_bytes


def test_nothing_to_train_is_a_clear_error():
    with pytest.raises(effprof.EffprofError, match="nothing to train"):
        measure_training_step(Small(), SHAPE, freeze="features,fc", threads=ONE, budget_s=0.05)


def test_profile_training_api_returns_rows_with_backward_columns():
    result = effprof.profile_training("resnet18", backends=None, batch=2)
    row = result.summary()
    assert row["backward_macs"] == row["grad_input_macs"] + row["grad_weight_macs"]
    assert row["training_macs_per_image"] == (row["forward_macs"] + row["backward_macs"]) / 2
    assert row["macs_torch_training"] == row["training_macs"]
    frozen = effprof.profile_training("resnet18", freeze="backbone", num_classes=3, backends=None).summary()
    assert frozen["backward_macs"] == frozen["grad_weight_macs"] == 512 * 3
    assert frozen["replaced_head"].startswith("fc:")


def test_cli_profile_train_shows_the_ratio_and_writes_files(tmp_path):
    out = tmp_path / "t.json"
    result = runner.invoke(app, ["profile", "resnet18", "--train", "--backend", "none", "-o", str(out), "-o", str(tmp_path / "t.png")])
    assert result.exit_code == 0, result.output
    assert "1.93x" in result.output and "(+0.0%)" in result.output
    doc = json.loads(out.read_text())
    assert doc["rows"][0]["trainable_params"] == 11689512
    assert any(r["layer"] == "conv1" and r["grad_input_macs"] == 0 for r in doc["layers"])
    assert (tmp_path / "t.png").stat().st_size > 0


def test_cli_bad_freeze_and_optimizer_are_one_line_exit_2():
    result = runner.invoke(app, ["profile", "resnet18", "--freeze", "nosuch*", "--backend", "none"])
    assert result.exit_code == 2 and "matches no module" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["profile", "resnet18", "--train", "--optimizer", "lion"])
    assert result.exit_code == 2 and "sgd, adamw" in result.output


def test_compare_train_one_row_per_model(tmp_path):
    out = tmp_path / "c.csv"
    result = runner.invoke(app, ["compare", "resnet18", "mobilenet_v2", "--train", "--freeze", "backbone",
                                 "--num-classes", "3", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert list(df["model"]) == ["resnet18", "mobilenet_v2"]
    assert list(df["grad_input_macs"]) == [0, 0]


def test_finetune_counts_strategies_a_b_c(tmp_path):
    result = effprof.finetune("mobilenet_v2", num_classes=3, dataset_size=100, epochs=5, backend=None, batch=2)
    df = result.to_pandas().set_index("strategy")
    a, b, c = df.loc["A"], df.loc["B"], df.loc["C"]
    assert a["trainable_params"] < b["trainable_params"] < c["trainable_params"]
    assert a["training_macs_per_image"] < b["training_macs_per_image"] < c["training_macs_per_image"]
    # A: the backbone runs once per image, then head-only epochs
    assert a["total_macs"] == pytest.approx(a["once_macs"] + 5 * a["epoch_macs"])
    assert c["total_macs"] == pytest.approx(5 * 100 * c["training_macs_per_image"])
    assert a["feature_cache_bytes"] == 100 * 1280 * 4


def test_cli_finetune_timed_on_a_small_input(tmp_path):
    paths = [tmp_path / f"f.{s}" for s in ("csv", "json", "md", "html", "png")]
    result = runner.invoke(app, ["finetune", "mobilenet_v2", "--num-classes", "3", "--dataset-size", "64",
                                 "--epochs", "2", "-r", "32", "-b", "2", "--budget-s", "0.05", "--threads", "1",
                                 *[a for p in paths for a in ("-o", str(p))]])  # fmt: skip
    assert result.exit_code == 0, result.output
    df = pd.read_csv(paths[0])
    assert list(df["strategy"]) == ["A", "B", "C"]
    assert df["step_ms"].notna().all() and df["peak_bytes_measured"].notna().all()
    assert df.loc[0, "once_s"] > 0 and df.loc[2, "total_s"] == pytest.approx(2 * df.loc[2, "epoch_s"])
    assert all(p.stat().st_size > 0 for p in paths)


def test_finetune_times_each_strategy_with_its_own_freezing():
    # the timed step must train what the count says: B's step froze its early layers, A's is the head alone
    result = effprof.finetune("mobilenet_v2", num_classes=3, dataset_size=16, epochs=1, resolution=32, batch=2,
                              threads=1, budget_s=0.05)  # fmt: skip
    for s in result.strategies:
        assert s.steps and s.steps[0].setup.trainable_params == s.count.trainable_params, s.strategy
    a = result.to_pandas().set_index("strategy").loc["A"]
    # A's measured peak is the larger of the feature pass (the whole backbone's params) and the head step
    backbone_params = sum(p.numel() for n, p in effprof.models.build_model("mobilenet_v2").module.named_parameters()
                          if not n.startswith("classifier"))  # fmt: skip
    assert a["peak_bytes_measured"] >= 4 * backbone_params


def test_finetune_without_head_or_bad_size_fails_before_work():
    result = runner.invoke(app, ["finetune", "resnet18", "--num-classes", "0", "--backend", "none"])
    assert result.exit_code == 2 and "num-classes" in result.output
