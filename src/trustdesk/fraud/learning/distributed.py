"""Training on a Dask cluster with LightGBM's own data-parallel learner (`lightgbm.dask`).

`DaskTrainer` is a `Trainer` (see classifier.py): the training rows are dealt round-robin into one
partition per worker, each partition is sent to its worker, and `DaskLGBMClassifier` grows the
trees with `tree_learner=data`: every worker builds histograms of its own rows and LightGBM's
network layer adds them up, so each split is chosen on all rows. The workers talk to each other
directly on ports LightGBM picks (loopback on a LocalCluster; on a cluster, the workers' hosts
must accept TCP connections from each other). The result is an ordinary booster, saved, versioned,
activated and rolled back like any other.

Not bit-identical to `fit_local`: the feature bins are found per worker on its own rows, and row
and column subsampling draw on each worker, so the trees differ slightly; the validation metrics
agree within the spread that changing the random seed gives (docs/scale.md).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from trustdesk.fraud.learning.classifier import PARAMS

__all__ = ["DaskTrainer"]


def _quiet_lightgbm() -> None:
    """LightGBM's Python side prints its progress ("Finding random open ports") to stdout, which
    would mix with a command's --json output: send it to the `lightgbm` logger instead. (The
    workers' native messages go to their stdout: see `dask_engine.dask_client`.)"""
    lgb.register_logger(logging.getLogger("lightgbm"))


class DaskTrainer:
    """A `Trainer` that grows the trees on every worker of `client`'s cluster."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.workers: list[str] = sorted(client.scheduler_info().get("workers", {}))
        self.machines: list[int] = []  # how many workers each training took part in

    def __call__(self, features: pd.DataFrame, labels: np.ndarray) -> lgb.Booster:
        dd: Any = importlib.import_module("dask.dataframe")
        dask: Any = importlib.import_module("dask")
        lgb_dask: Any = importlib.import_module("lightgbm.dask")
        labels = np.asarray(labels)
        _quiet_lightgbm()
        workers = self.workers[: max(1, min(len(self.workers), len(features)))]
        # Round-robin: each worker gets a sample of every day, so its own bins resemble the whole.
        slot = np.arange(len(features)) % len(workers)
        x_parts, y_parts = [], []
        for k, worker in enumerate(workers):
            rows = slot == k
            x = features[rows]
            y = pd.Series(labels[rows], index=x.index, name="tx_fraud")
            x_parts.append(dask.delayed(self.client.scatter(x, workers=[worker], direct=True)))
            y_parts.append(dask.delayed(self.client.scatter(y, workers=[worker], direct=True)))
        x_all = dd.from_delayed(x_parts, meta=features.iloc[:0])
        y_all = dd.from_delayed(y_parts, meta=pd.Series([], dtype=labels.dtype, name="tx_fraud"))
        params = {k: v for k, v in PARAMS.items() if k != "n_jobs"}  # threads: the workers'
        model = lgb_dask.DaskLGBMClassifier(client=self.client, **params)
        model.fit(x_all, y_all)
        booster: lgb.Booster = model.booster_
        self.machines.append(int(booster.params.get("num_machines", 1)))
        return booster

    def describe(self) -> dict[str, Any]:
        """The cluster's size and, per training (the final trees first, then the calibration's),
        how many workers took part: the scheduler may move a partition before training, and
        LightGBM trains on the workers that hold one."""
        return {
            "engine": "dask",
            "workers": len(self.workers),
            "tree_learner": "data",
            "machines": list(self.machines),
        }
