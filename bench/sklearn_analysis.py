#!/usr/bin/python3
"""scikit-learn 1.2 on the same latent codes as bench/analysis_speed: silhouette with the digit
labels, k-means at k = 10 (n_init=1, like aesweep's bench), t-SNE (perplexity 30, PCA init,
1,000 iterations) with trustworthiness at k = 10.
Usage: sklearn_analysis.py ARCHIVE RUN [--skip-tsne] [--compare AESWEEP_JSON]
  --compare: a file holding analysis_speed's JSON line for the same codes; prints the speed
  ratios and the differences (silhouette must agree to 1e-5)."""
import json
import sys
import time

import h5py
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE, trustworthiness
from sklearn.metrics import silhouette_score

path, run = sys.argv[1], int(sys.argv[2])
skip_tsne = "--skip-tsne" in sys.argv
compare = sys.argv[sys.argv.index("--compare") + 1] if "--compare" in sys.argv else None
with h5py.File(path, "r") as f:
    x = f[f"runs/{run:06d}/latent_test"][:].astype(np.float32)
    y = f["dataset/test_labels"][:]
out = {"sklearn": sklearn.__version__, "points": x.shape[0], "dims": x.shape[1]}
t = time.perf_counter()
out["silhouette"] = float(silhouette_score(x, y))
out["silhouette_seconds"] = round(time.perf_counter() - t, 3)
t = time.perf_counter()
out["kmeans10_inertia"] = float(KMeans(10, n_init=1, random_state=0).fit(x).inertia_)
out["kmeans10_seconds"] = round(time.perf_counter() - t, 3)
if not skip_tsne:
    t = time.perf_counter()
    tsne = TSNE(2, perplexity=30, init="pca", n_iter=1000, learning_rate="auto", random_state=0)
    e = tsne.fit_transform(x)
    out["tsne_seconds"] = round(time.perf_counter() - t, 2)
    out["tsne_kl"] = float(tsne.kl_divergence_)
    out["tsne_trustworthiness"] = float(trustworthiness(x, e, n_neighbors=10))
print(json.dumps(out))
if compare:
    with open(compare) as f:
        ours = json.loads(f.read().strip().splitlines()[-1])
    cmp = {"silhouette_difference": abs(ours["silhouette"] - out["silhouette"]),
           "silhouette_equal_to_1e-5": abs(ours["silhouette"] - out["silhouette"]) <= 1e-5,
           "silhouette_speedup": round(out["silhouette_seconds"] / max(ours["silhouette_seconds"], 1e-9), 1),
           "kmeans10_speedup": round(out["kmeans10_seconds"] / max(ours["kmeans10_seconds"], 1e-9), 1)}
    if not skip_tsne and "tsne_seconds" in ours:
        cmp["tsne_speedup"] = round(out["tsne_seconds"] / ours["tsne_seconds"], 1)
        cmp["tsne_kl_relative"] = round(ours["tsne_kl"] / out["tsne_kl"] - 1.0, 4)
        cmp["trustworthiness_difference"] = round(ours["tsne_trustworthiness"] - out["tsne_trustworthiness"], 4)
    print(json.dumps(cmp))
