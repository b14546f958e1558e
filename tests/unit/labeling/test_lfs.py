from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raymlops.labeling import LabelingFunctionError, LabelMatrix, apply_lfs, labeling_function, lfs_from_source

DF = pd.DataFrame({"id": [10, 11, 12, 13], "text": ["WIN NOW", "hello", "http://x", "meeting"], "n": [1, 5, 0, 2]})

SOURCE = '''
from raymlops.labeling import labeling_function
CLASSES = ["ham", "spam"]

@labeling_function()
def has_link(df):
    return df["text"].str.contains("http").map({True: 1, False: -1})

@labeling_function()
def shouting(row):
    return "spam" if row["text"].isupper() else -1

@labeling_function(name="short")
def few_words(df):
    return np.where(df["n"] > 3, 0, -1)

import numpy as np
'''


def test_vectorised_and_row_wise_functions_and_class_names():
    lfset = lfs_from_source(SOURCE, "lfs.py")
    assert lfset.names == ["has_link", "shouting", "short"] and lfset.classes == ["ham", "spam"]
    L = apply_lfs(DF, lfset, key="id")
    assert L.to_dense().tolist() == [[-1, 1, -1], [-1, -1, 0], [1, -1, -1], [-1, -1, -1]]
    assert [lf.mode for lf in lfset.lfs] == ["vectorised", "row-wise", "vectorised"]
    assert L.keys.tolist() == [10, 11, 12, 13]


def test_batches_give_the_same_matrix():
    lfset = lfs_from_source(SOURCE, "lfs.py")
    a = apply_lfs(DF, lfset, batch_rows=1).to_dense()
    b = apply_lfs(DF, lfset).to_dense()
    assert (a == b).all()


def test_raising_function_names_itself_the_row_and_the_line():
    src = "from raymlops.labeling import labeling_function\n@labeling_function()\ndef bad(row):\n    return 1 if row['n'] < 5 else row['missing']\n"
    with pytest.raises(LabelingFunctionError, match=r"labeling function 'bad' raised KeyError: 'missing' on row 1 \(id=11\) at lfs.py:4"):
        apply_lfs(DF, lfs_from_source(src, "lfs.py"), key="id")


def test_vectorised_function_that_raises_is_located_row_by_row():
    src = "from raymlops.labeling import labeling_function\n@labeling_function(rowwise=False)\ndef bad(df):\n    return df['n'].map(lambda v: 10 // v)\n"
    with pytest.raises(LabelingFunctionError, match=r"'bad' raised ZeroDivisionError.* on row 2"):
        apply_lfs(DF, lfs_from_source(src, "lfs.py"))


def test_wrong_number_of_labels():
    @labeling_function(rowwise=False)
    def short(df):
        return [1]

    with pytest.raises(LabelingFunctionError, match=r"'short' returned 1 values for a batch of 4 rows"):
        short.apply(DF)


def test_label_that_is_not_a_class():
    @labeling_function()
    def odd(df):
        return df["n"].map(lambda v: "eggs" if v > 0 else -1)

    with pytest.raises(LabelingFunctionError, match=r"'odd' returned 'eggs' on row 0 \(id=10\)"):
        odd.apply(DF, classes=["ham", "spam"], key="id")
    seven = labeling_function(name="seven")(lambda df: np.full(len(df), 7))
    with pytest.raises(LabelingFunctionError, match=r"'seven' returned 7 on row 0; return -1 or a class index 0..1"):
        seven.apply(DF, classes=["a", "b"])


def test_file_with_a_syntax_error():
    with pytest.raises(LabelingFunctionError, match=r"LF file lfs.py line 2: SyntaxError"):
        lfs_from_source("x = 1\ndef (:\n", "lfs.py")


def test_file_that_raises_while_loading():
    with pytest.raises(LabelingFunctionError, match=r"LF file lfs.py line 1 raised NameError"):
        lfs_from_source("undefined_name + 1\n", "lfs.py")


def test_file_without_labeling_functions():
    with pytest.raises(LabelingFunctionError, match="defines no labeling function"):
        lfs_from_source("def f(df):\n    return df\n", "lfs.py")


def test_two_functions_with_one_name():
    src = "from raymlops.labeling import labeling_function\n@labeling_function(name='a')\ndef f(df): return -1\n@labeling_function(name='a')\ndef g(df): return -1\n"
    with pytest.raises(LabelingFunctionError, match="two labeling functions named 'a'"):
        lfs_from_source(src, "lfs.py")


def test_label_matrix_round_trips_through_parquet(tmp_path):
    L = LabelMatrix.from_dense(np.array([[0, -1, 2], [-1, -1, -1], [1, 1, -1]]), names=["a", "b", "c"], classes=["x", "y", "z"], keys=["r1", "r2", "r3"])
    back = LabelMatrix.load(L.save(str(tmp_path / "L.parquet"), key="id"))
    assert back.to_dense().tolist() == L.to_dense().tolist()
    assert back.names == ["a", "b", "c"] and back.classes == ["x", "y", "z"] and back.keys.tolist() == ["r1", "r2", "r3"]
    stored = pd.read_parquet(tmp_path / "L.parquet")
    assert list(stored.columns) == ["id", "row", "lf", "label"]
    assert len(stored) == 5 and stored[stored["lf"] == -1]["id"].tolist() == ["r2"]  # the votes, and the row without any


def test_label_matrix_memory_follows_the_votes():
    n = 200_000
    cols = [np.where(np.arange(n) % 100 == j, 1, -1) for j in range(50)]
    L = LabelMatrix.from_columns(cols, names=[f"lf{j}" for j in range(50)])
    assert L.csr.nnz == 50 * n // 100
    assert L.csr.data.nbytes + L.csr.indices.nbytes < 1_000_000
