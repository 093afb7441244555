"""A notebook executed end to end by nbclient (what papermill and CI runners use)."""

import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import KERNEL_NAME, LIB


def run_notebook(kernelspec_dir, sources, allow_errors=False):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    manager = KernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernelspec_dir.parent)]),
    )
    client = NotebookClient(notebook, km=manager, timeout=60, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(LIB)}})
    try:
        client.execute()
    finally:
        # nbclient leaves a kernel manager it was given running.
        if manager.has_kernel:
            manager.shutdown_kernel(now=False)
        assert not manager.is_alive()
    return notebook


def test_notebook_runs_with_outputs_in_order(kernelspec_dir):
    notebook = run_notebook(kernelspec_dir, [
        "const rows: number[] = [1, 2, 3];\nconsole.log('rows', rows.length);",
        "const total = rows.reduce((a, b) => a + b, 0);\ndisplay({ 'text/markdown': `**${total}**` });\ntotal",
        "await new Promise(r => setTimeout(r, 50));\n`done after ${total}`",
    ])
    assert notebook.metadata["language_info"]["name"] == "typescript"
    first, second, third = (cell.outputs for cell in notebook.cells)
    assert first[0]["output_type"] == "stream" and first[0]["text"] == "rows 3\n"
    assert second[0]["output_type"] == "display_data"
    assert second[0]["data"]["text/markdown"] == "**6**"
    assert second[1]["output_type"] == "execute_result" and second[1]["data"]["text/plain"] == "6"
    assert third[0]["data"]["text/plain"] == "'done after 6'"
    assert [cell.execution_count for cell in notebook.cells] == [1, 2, 3]


def test_notebook_error_stops_execution(kernelspec_dir):
    with pytest.raises(CellExecutionError) as failure:
        run_notebook(kernelspec_dir, ["const a = 1;", "JSON.parse('{oops');", "console.log('unreached')"])
    assert "SyntaxError" in str(failure.value)
    notebook = run_notebook(
        kernelspec_dir, ["JSON.parse('{oops');", "console.log('reached')"], allow_errors=True
    )
    assert notebook.cells[0].outputs[0]["output_type"] == "error"
    assert notebook.cells[0].outputs[0]["ename"] == "SyntaxError"
    assert notebook.cells[1].outputs[0]["text"] == "reached\n"
