"""The Jupyter workbench: ipywidgets panels that only call the core.

``from workbench.ui import Workbench; Workbench()`` shows a header (the run store, Refresh) and five tabs: the
template editor, the run panel, the results view, the runs view and the bad-case review. Each panel also works on
its own.
"""

from workbench.registry import reraise_missing_extra

try:
    from workbench.ui.app import Workbench
    from workbench.ui.code_editor import CodeEditor
    from workbench.ui.editor import TemplateEditor
    from workbench.ui.results import ResultsView
    from workbench.ui.review import BadCaseReview
    from workbench.ui.run_panel import RunPanel
    from workbench.ui.runs_view import RunsView
    from workbench.ui.state import WorkbenchState
    from workbench.ui.store_picker import StorePicker
    from workbench.ui.table import DataTable
except ImportError as exc:  # without [ui]: an error that names it, not a bare ModuleNotFoundError
    reraise_missing_extra(exc, "The Jupyter UI (workbench.ui)")

__all__ = [
    "BadCaseReview",
    "CodeEditor",
    "DataTable",
    "ResultsView",
    "RunPanel",
    "RunsView",
    "StorePicker",
    "TemplateEditor",
    "Workbench",
    "WorkbenchState",
]
