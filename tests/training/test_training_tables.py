"""The training and finetune tables fit the terminal like every effprof table (reports.table.fit_table):
at 80 and 120 columns every number is whole, the columns left out are named under the table, and a
failed step's long message is a line below it."""

import re

import pytest
from rich.console import Console

import effprof
from effprof.latency import Measurement
from effprof.latency.training import TrainingStep
from effprof.reports.training import render_finetune, render_training

#: torchvision's resnet18 (weights metadata): 11,689,512 params, 1.814 GMACs; its conv1 (3->64, 7x7,
#: 112x112 out) is 118,013,952 MACs and needs no grad-input (the image needs no gradient)
RESNET18_PARAMS, RESNET18_MACS, CONV1_MACS = 11_689_512, 1.814e9, 64 * 3 * 49 * 112 * 112
#: mobilenet_v2: 3,504,872 params; its classifier Linear(1280->1000) is 1,281,000 of them
MNV2_PARAMS, MNV2_HEAD = 3_504_872, 1280 * 1000 + 1000
LONG_ERROR = "adamw: CUDA out of memory while allocating the optimizer state " + "and retrying did not help " * 4


def printed(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


@pytest.fixture(scope="module")
def resnet18():
    return effprof.profile_training("resnet18", backends=None, layers=3)


@pytest.fixture(scope="module")
def timed_finetune():
    result = effprof.finetune("mobilenet_v2", num_classes=3, dataset_size=1000, epochs=10, backend=None)
    for s in result.strategies:  # a made-up timed step (20 ms), so the timing columns have to fit too
        m = Measurement("eager", "cpu", 2, times_s=[0.021, 0.020, 0.019, 0.020, 0.020])
        s.steps.append(TrainingStep("sgd", m, s.count.setup, peak_bytes=50 * 2**20, peak_method="tracemalloc"))
    result.strategies[2].errors["adamw"] = LONG_ERROR
    return result


@pytest.mark.parametrize("width", [80, 120])
def test_training_table_fits_with_every_number_whole(resnet18, width):
    text = printed(render_training(resnet18, width=width), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    assert f"{RESNET18_PARAMS:,} of {RESNET18_PARAMS:,} params trainable" in " ".join(text.split())
    assert "11.7 M" in text and "1.81 G" in text  # trainable params and forward MACs, whole
    # backward = grad-weight (= forward) + grad-input (= forward less conv1's): about 2 - conv1/total
    ratio = float(re.search(r"(\d\.\d\d)x", text).group(1))
    assert ratio == pytest.approx(2 - CONV1_MACS / RESNET18_MACS, abs=0.01)
    assert "step ms" not in text  # nothing timed: no empty timing columns
    if width == 80:
        assert re.search(r"not shown at 80 columns: .*bwd grad-input", text)
    # the analytic memory stays even at 80 columns, and a line says what it counts
    header = next(line for line in text.splitlines() if "model" in line and "trainable" in line)
    assert "mem MiB" in header and "mem MiB: analytic (params + grads + optimizer state" in " ".join(text.split())


@pytest.mark.parametrize("width", [80, 120])
def test_finetune_table_fits_and_errors_go_under_it(timed_finetune, width):
    text = printed(render_finetune(timed_finetune, width=width), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    header = next(line for line in text.splitlines() if "strategy" in line and "trainable" in line)
    assert "total s" in header and "total MACs" in header
    assert "3.84 k" in text  # A: the new head alone, Linear(1280->3)
    assert si_m(MNV2_PARAMS - MNV2_HEAD + 1280 * 3 + 3) in text  # C: everything, with the new head
    # 1000 images / batch 8 = 125 steps of 20 ms = 2.5 s per epoch, 25 s for 10 epochs (C)
    headers = [h.strip() for h in header.split("┃")]
    row_c = next(line for line in text.splitlines() if "C: everything" in line)
    cells = [c.strip() for c in row_c.split("│")]
    assert cells[headers.index("total s")] == "25"
    assert "step ms" not in headers or cells[headers.index("step ms")] == "20"
    error = "".join(text.split())
    assert "error:Cadamw:" + "".join(LONG_ERROR.split()) in error  # whole, under the table
    assert re.search(r"not shown at \d+ columns", text)


def si_m(n: int) -> str:
    return f"{n / 1e6:.3g} M"


def test_wide_training_shows_every_column(resnet18):
    text = printed(render_training(resnet18, width=None, wide=True), 300)
    for header in ("freeze", "bwd grad-input", "bwd grad-weight", "train MACs/img", "torch fwd+bwd"):
        assert header in text
    assert "not shown" not in text
