"""Point labels on the pareto/search figures: none overlaps another, none leaves the axes."""

from effprof.reports.plots.style import declutter, pyplot


def _labels(points):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.scatter([x for x, _ in points], [y for _, y in points])
    ax.set_xlim(0, 10)
    texts = [ax.annotate(f"model number {i}", p, xytext=(4, -9), textcoords="offset points", fontsize=7)
             for i, p in enumerate(points)]  # fmt: skip
    declutter(fig, ax, texts)
    return fig, ax, texts


def test_a_label_that_would_overlap_an_earlier_one_is_dropped():
    fig, ax, texts = _labels([(2, 5), (2.05, 5.0), (2, 1)])
    kept = [t for t in texts if t.axes is not None]
    assert [t.get_text() for t in kept] == ["model number 0", "model number 2"]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in kept]
    assert not boxes[0].overlaps(boxes[1])


def test_a_label_past_the_right_edge_is_written_left_of_its_point():
    fig, ax, texts = _labels([(9.8, 5)])
    renderer = fig.canvas.get_renderer()
    assert texts[0].get_horizontalalignment() == "right"
    assert texts[0].get_window_extent(renderer).x1 <= ax.get_window_extent(renderer).x1
