"""One order for the rows of a training matrix, taken from their own values.

Person ids derive from keyed identifier tokens, so two workspaces holding the same events list the same
customers in different orders. Models that sample rows by position (LightGBM's bagging, k-means
initialisation, a silhouette sample) would then fit differently on the same data. Sorting the rows by
their values first makes the same data give the same model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def canonical_order(matrix: npt.NDArray[np.float64], *last: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Row positions sorted by the matrix's columns, first to last, then by ``last`` (e.g. the labels).

    NaN sorts after every number. Rows equal in every key are interchangeable, so their order does not
    matter.
    """
    keys = np.where(np.isnan(matrix), np.inf, matrix)
    return np.lexsort((*(np.asarray(column) for column in reversed(last)), *keys.T[::-1]))
