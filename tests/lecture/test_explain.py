"""Every explain topic: its derivation's numbers match the count on a real module; bad input is one line."""

import pytest

from effprof.errors import EffprofError
from effprof.lecture.explain import TOPICS, explain


@pytest.mark.parametrize("topic", list(TOPICS))
def test_topic_defaults_agree_with_the_count(topic):
    result = explain(topic)
    assert result.rows and all(r.passed is not False for r in result.rows)
    assert result.derivation and result.config == dict(TOPICS[topic].defaults)


def test_user_configuration_is_used():
    result = explain("dwconv", cin=128, cout=64, kernel=5, size=14)
    assert result.config == {"cin": 128, "cout": 64, "kernel": 5, "size": 14}
    assert any("Cin=128 Cout=64 K=5 14x14" == r.config for r in result.rows)
    assert "17.98×" in result.derivation[-1]  # 64*25/(25+64)
    vit = explain("vit", size=384, patch=32, dim=192)
    assert "N = HW/P² = 144 tokens" in vit.derivation[0]
    swin = explain("swin", size=30, window=7)  # padded to 35
    assert all(r.passed is not False for r in swin.rows) and "padded to 35×35" in swin.derivation[0]


@pytest.mark.parametrize(
    ("topic", "options", "match"),
    [
        ("nope", {}, "unknown topic 'nope'; valid topics: dwconv, inverted-residual, se, compound-scaling"),
        ("dwconv", {"cin": -3}, "--cin must be a positive whole number, got -3"),
        ("dwconv", {"kernel": 0}, "-k/--kernel must be a positive whole number, got 0"),
        ("vit", {"expansion": 6}, "explain vit does not use --expansion; it takes --size, --patch, --dim"),
        ("vit", {"size": 200}, "multiple of --patch"),
        ("se", {"cin": 100, "reduction": 16}, "divisible by --reduction"),
        ("ghost", {"cout": 127}, "divide --cout"),
        ("shuffle", {"groups": 7}, "must divide --cin"),
        ("compound-scaling", {"phi": 0}, r"--phi must be in \(0, 12\]"),
    ],
)
def test_invalid_input_is_a_one_line_error(topic, options, match):
    with pytest.raises(EffprofError, match=match) as info:
        explain(topic, **options)
    assert "\n" not in str(info.value) and info.value.exit_code == 2
