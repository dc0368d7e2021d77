#!/usr/bin/python3
"""Generate reference values for the analysis tests (tests/analysis/fixtures/).

Run with Debian's python3 (numpy + python3-sklearn 1.2):
    /usr/bin/python3 scripts/make_sklearn_fixtures.py

For each dataset NAME it writes
    NAME.f32     points, little-endian float32, n x d row-major (= each point contiguous,
                 which is the column-major d x n layout the C++ code uses)
    NAME.labels  labels, little-endian int32, n values
    NAME.txt     "key value" lines with the reference numbers
The test suite reads these files and never needs sklearn itself.
"""
import gzip
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.metrics import silhouette_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "analysis", "fixtures")
FASHION = "/usr/share/datasets/fashion-mnist"
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def knn_loo_accuracy(X, y, k):
    """Leave-one-out majority vote, ties to the smallest label (as KNeighborsClassifier)."""
    X = X.astype(np.float64)
    sq = (X * X).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * X @ X.T
    np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    correct = 0
    for i in range(X.shape[0]):
        votes = np.bincount(y[idx[i]])
        correct += int(np.argmax(votes) == y[i])
    return correct / X.shape[0]


def cosine_reference(X, y):
    X = X.astype(np.float64)
    norms = np.linalg.norm(X, axis=1)
    keep = norms > 0
    Xn = X[keep] / norms[keep, None]
    yk = y[keep]
    C = Xn @ Xn.T
    iu = np.triu_indices(Xn.shape[0], 1)
    vals = C[iu]
    same = yk[iu[0]] == yk[iu[1]]
    out = {"zero_rows": int((~keep).sum())}
    for name, v in (("same", vals[same]), ("diff", vals[~same])):
        out[f"cos_{name}_pairs"] = v.size
        out[f"cos_{name}_mean"] = v.mean()
        out[f"cos_{name}_std"] = v.std()
        for q, val in zip(QUANTILES, np.quantile(v, QUANTILES)):
            out[f"cos_{name}_q{int(round(q * 100)):02d}"] = val
        hist, _ = np.histogram(np.clip(v, -1, 1), bins=50, range=(-1.0, 1.0))
        out[f"cos_{name}_hist50"] = " ".join(str(int(h)) for h in hist)
    classes = np.unique(yk)
    m = np.zeros((classes.size, classes.size))
    for a, ca in enumerate(classes):
        for b, cb in enumerate(classes):
            block = C[np.ix_(yk == ca, yk == cb)]
            if ca == cb:
                cnt = block.shape[0] * (block.shape[0] - 1)
                m[a, b] = (block.sum() - np.trace(block)) / cnt if cnt > 0 else np.nan
            else:
                m[a, b] = block.mean()
    out["cos_class_mean"] = " ".join(repr(float(v)) for v in m.ravel())
    return out


def write(name, X, y, values, tsne=False):
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int32)
    X.astype("<f4").tofile(os.path.join(OUT, name + ".f32"))
    y.astype("<i4").tofile(os.path.join(OUT, name + ".labels"))
    Xd = X.astype(np.float64)
    ref = {"n": X.shape[0], "d": X.shape[1], "sklearn_version": sklearn.__version__}
    ref["silhouette"] = silhouette_score(Xd, y)
    km = KMeans(n_clusters=10, n_init=10, random_state=0).fit(X)
    ref["kmeans10_inertia_ninit10"] = km.inertia_
    km1 = KMeans(n_clusters=10, n_init=1, random_state=0).fit(X)
    ref["kmeans10_inertia_ninit1"] = km1.inertia_
    ref["knn5_accuracy"] = knn_loo_accuracy(X, y, 5)
    ref.update(cosine_reference(X, y))
    if tsne:
        ts = TSNE(n_components=2, perplexity=30.0, init="pca", learning_rate="auto",
                  method="barnes_hut", angle=0.5, n_iter=1000, random_state=0)
        emb = ts.fit_transform(X)
        ref["tsne_kl"] = ts.kl_divergence_
        ref["tsne_n_iter"] = ts.n_iter_
        ref["tsne_trustworthiness10"] = trustworthiness(Xd, emb, n_neighbors=10)
    values.update(ref)
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        for key, val in values.items():
            f.write(f"{key} {val!r}\n" if isinstance(val, float) else f"{key} {val}\n")
    print(name, {k: v for k, v in values.items() if not str(k).startswith("cos_")}, file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    # Well separated blobs: silhouette high, t-SNE easy.
    X, y = make_blobs(n_samples=600, centers=5, n_features=20, cluster_std=2.5, random_state=0)
    write("blobs_600x20", X, y, {"description": "make_blobs(600, centers=5, n_features=20, std=2.5, seed 0)"},
          tsne=True)
    # Overlapping blobs with 10 classes, like digit labels on a mediocre latent space.
    X, y = make_blobs(n_samples=1200, centers=10, n_features=40, cluster_std=6.0, center_box=(-8, 8),
                      random_state=1)
    write("blobs_1200x40", X, y, {"description": "make_blobs(1200, centers=10, n_features=40, std=6, box 8, seed 1)"})
    # Real images: 1500 Fashion-MNIST test images, pixels/255, PCA to 32 dims (fit on the same images).
    imgs = read_idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"))[:1500].reshape(1500, -1) / 255.0
    labels = read_idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"))[:1500].astype(np.int32)
    Z = PCA(n_components=32, random_state=0).fit_transform(imgs).astype(np.float32)
    write("fashion_1500x32", Z, labels, {"description": "Fashion-MNIST t10k[:1500], /255, PCA(32, seed 0)"},
          tsne=True)


if __name__ == "__main__":
    main()
