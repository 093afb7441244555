"""The Binder demo notebooks run top to bottom on the pilot-streaming kernel (real Kafka pilot).

Run with the project's venv: .venv/bin/pytest ui-tests/notebooks
"""

import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDER = REPO_ROOT / "binder"
CLI = REPO_ROOT / "lib" / "dist" / "cli" / "main.js"
KAFKA_LAG_MIME_TYPE = "application/vnd.pilot-streaming.kafka-lag.v1+json"
PILOT_ID = re.compile(r"\bpilot-[a-z0-9]+\b")


def cli(home, *args):
    env = {**os.environ, "PILOT_STREAMING_HOME": str(home)}
    return subprocess.run(
        ["node", str(CLI), *args], env=env, check=True, capture_output=True, text=True, timeout=120
    ).stdout


def text_of(cell):
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


@pytest.fixture
def pilot_home(tmp_path):
    """A registry of the test's own; every pilot left in it is cancelled afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    yield home
    for pilot_id in sorted(set(PILOT_ID.findall(cli(home, "list")))):
        cli(home, "cancel", pilot_id)


def test_kafka_pilot_notebook_runs_top_to_bottom(tmp_path, pilot_home, monkeypatch):
    notebook = nbformat.read(BINDER / "01-kafka-pilot.ipynb", as_version=4)
    assert notebook.metadata.kernelspec.name == "pilot-streaming"
    assert all(not cell.get("outputs") for cell in notebook.cells), "saved with outputs"

    # The kernel inherits this environment: the test's registry, not the user's.
    monkeypatch.setenv("PILOT_STREAMING_HOME", str(pilot_home))
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="pilot-streaming",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in code]

    created = code[sources.index(next(s for s in sources if s.startswith("%pilot create")))]
    assert "Running, bootstrap servers 127.0.0.1:" in text_of(created)

    produced = code[sources.index(next(s for s in sources if "producer.send" in s))]
    assert "high: '1000'" in text_of(produced)

    consumed = code[sources.index(next(s for s in sources if "commitOffsets" in s))]
    assert "consumed 400 messages" in text_of(consumed)

    reader = code[sources.index(next(s for s in sources if "read the remaining" in s))]
    assert "read the remaining 600 messages" in text_of(reader)

    lag_cell = code[sources.index(next(s for s in sources if s.startswith("kafkaLag(")))]
    views = [
        output.data[KAFKA_LAG_MIME_TYPE]
        for output in lag_cell.outputs
        if KAFKA_LAG_MIME_TYPE in output.get("data", {})
    ]
    assert len(views) == 1, [list(output.get("data", {})) for output in lag_cell.outputs]
    # Live updates of the widget keep the lag cell's parent header, and nbclient only records
    # messages of the cell it is running, so only the first view is here; the Galata test
    # checks the live numbers in the browser.
    view = views[0]
    assert (view["pilotId"], view["topic"], view["groupId"]) == (
        PILOT_ID.search(text_of(created)).group(0),
        "demo-events",
        "demo-readers",
    )

    pilot_id = PILOT_ID.search(text_of(created)).group(0)
    # The magic expanded {pilot.id} to the id of the pilot this notebook created.
    cancelled = code[sources.index("%pilot cancel {pilot.id}")]
    assert f"{pilot_id} Canceled" in text_of(cancelled), text_of(cancelled)

    listing = text_of(code[-1])
    assert re.search(rf"{pilot_id}\s.*Canceled", listing), listing


def test_reconstruction_notebook_shows_the_tooth(tmp_path, monkeypatch):
    notebook = nbformat.read(BINDER / "03-tomographic-reconstruction.ipynb", as_version=4)
    assert notebook.metadata.kernelspec.name == "pilot-streaming"
    assert all(not cell.get("outputs") for cell in notebook.cells), "saved with outputs"
    monkeypatch.setenv("PILOT_STREAMING_HOME", str(tmp_path / "home"))
    # Run where the notebook lives: it reads data/tooth.h5 beside it.
    client = NotebookClient(
        notebook, timeout=300, kernel_name="pilot-streaming", resources={"metadata": {"path": str(BINDER)}}
    )
    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "2 sinograms of 181 angles × 640 pixels" in text_of(code[0])
    assert re.search(r"2 slices of 640×640 by gridrec, centre 29\d\.\d\d found automatically", text_of(code[1]))
    assert "by mlem" in text_of(code[2])
    for cell in code[1:]:
        images = [output.data["image/png"] for output in cell.outputs if "image/png" in output.get("data", {})]
        assert len(images) == 1, f"no image in {cell.source!r}"


MINIAPP_RUN_MIME_TYPE = "application/vnd.pilot-streaming.miniapp-run.v1+json"


def test_miniapps_notebook_streams_the_tooth(pilot_home, monkeypatch):
    notebook = nbformat.read(BINDER / "02-streaming-miniapps.ipynb", as_version=4)
    assert notebook.metadata.kernelspec.name == "pilot-streaming"
    assert all(not cell.get("outputs") for cell in notebook.cells), "saved with outputs"
    monkeypatch.setenv("PILOT_STREAMING_HOME", str(pilot_home))
    # Run where the notebook lives: it reads data/tooth.h5 beside it.
    client = NotebookClient(
        notebook, timeout=300, kernel_name="pilot-streaming", resources={"metadata": {"path": str(BINDER)}}
    )
    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in code]

    def cell_starting(prefix):
        return code[sources.index(next(s for s in sources if s.startswith(prefix)))]

    for magic, role in (("%masa start", "masa"), ("%mass start", "mass")):
        views = [o.data[MINIAPP_RUN_MIME_TYPE] for o in cell_starting(magic).outputs if MINIAPP_RUN_MIME_TYPE in o.get("data", {})]
        assert len(views) == 1 and views[0]["role"] == role and views[0]["topic"] == "tooth", views

    outcome = text_of(cell_starting("const [reconstruction"))
    assert "ended: processed 12 of 12, lost 0, duplicated 0" in outcome, outcome
    assert re.search(r"latency p50 [\d.]+ ms, p99 [\d.]+ ms", outcome), outcome

    assert text_of(cell_starting("const counter")).strip().endswith("40"), text_of(cell_starting("const counter"))

    sweep = cell_starting("await miniapps.sweep")
    data = [o.data for o in sweep.outputs if "data" in o]
    table = next(d["text/markdown"] for d in data if "text/markdown" in d)
    assert table.count("| ended |") == 4, table
    assert any("image/svg+xml" in d for d in data)


def test_frameworks_notebook_reads_kafka_with_each_context(tmp_path, pilot_home, monkeypatch):
    notebook = nbformat.read(BINDER / "04-frameworks.ipynb", as_version=4)
    assert notebook.metadata.kernelspec.name == "pilot-streaming"
    assert all(not cell.get("outputs") for cell in notebook.cells), "saved with outputs"
    monkeypatch.setenv("PILOT_STREAMING_HOME", str(pilot_home))
    client = NotebookClient(
        notebook, timeout=300, kernel_name="pilot-streaming", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in code]

    def cell_starting(prefix):
        return code[sources.index(next(s for s in sources if s.startswith(prefix)))]

    assert "Running, scheduler tls://127.0.0.1:" in text_of(cell_starting("%pilot create dask"))
    assert "workers" in text_of(cell_starting("const running"))
    assert "sum of 1,000 squares: 332833500" in text_of(cell_starting("const square"))
    traceback = text_of(cell_starting("try {"))
    assert "return 1 / x" in traceback and "ZeroDivisionError" in traceback, traceback
    assert "8 batches: 2000 messages, total 1999000" in text_of(cell_starting("import { kafkaSource }"))
    assert "Running, Spark Connect 127.0.0.1:" in text_of(cell_starting("%pilot create spark"))
    assert re.search(r"Spark 4\.\d+\.\d+: 2000 messages, total 1999000", text_of(cell_starting("import { kafkaTopicSource }")))
    assert "Running, SQL Gateway https://127.0.0.1:" in text_of(cell_starting("%pilot create flink"))
    flink = text_of(cell_starting("const flinkPilot"))
    assert re.search(r"Flink 2\.\d+\.\d+: 2000 messages, total 1999000, in [12] window\(s\)", flink), flink
    assert "Canceled Canceled Canceled Canceled" in text_of(code[-1])
