from __future__ import annotations

import pandas as pd
import pytest

from raymlops.data.sources import DataUnusableError, resolve_source


def test_files_folders_globs_and_uris_resolve(tmp_path):
    df = pd.DataFrame({"a": [1, 2]})
    (tmp_path / "d").mkdir()
    for i in range(3):
        df.to_parquet(tmp_path / "d" / f"part-{i}.parquet")
    df.to_csv(tmp_path / "one.csv", index=False)
    assert resolve_source(str(tmp_path / "one.csv")).format == "csv"
    folder = resolve_source(str(tmp_path / "d"))
    assert (folder.format, len(folder.paths)) == ("parquet", 3)
    assert len(resolve_source(str(tmp_path / "d" / "part-[01].parquet")).paths) == 2
    assert resolve_source(f"file://{tmp_path}/one.csv").paths == (str(tmp_path / "one.csv"),)
    assert resolve_source("sklearn://iris").kind == "sklearn"
    assert resolve_source(df).kind == "pandas"


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: str(p / "missing.csv"), "does not exist"),
        (lambda p: (p / "x.txt").write_text("a\n1\n") and str(p / "x.txt"), "cannot tell the format"),
        (lambda p: (p / "e.csv").write_text("\n") and str(p / "e.csv"), "is empty"),
        (lambda p: str(p / "*.nomatch"), "no file matches"),
        (lambda p: "sklearn://imagenet", "unknown bundled dataset"),
    ],
)
def test_unusable_sources_say_what_to_pass(tmp_path, make, needle):
    with pytest.raises(DataUnusableError, match=needle) as info:
        resolve_source(make(tmp_path))
    assert info.value.exit_code == 2
