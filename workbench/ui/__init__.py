"""The Jupyter workbench: ipywidgets panels that only call the core.

``from workbench.ui import Workbench; Workbench()`` shows four tabs: the template editor, the run panel,
the results view and the bad-case review. Each panel also works on its own.
"""

from workbench.ui.app import Workbench
from workbench.ui.code_editor import CodeEditor
from workbench.ui.editor import TemplateEditor
from workbench.ui.results import ResultsView
from workbench.ui.review import BadCaseReview
from workbench.ui.run_panel import RunPanel
from workbench.ui.state import WorkbenchState

__all__ = ["BadCaseReview", "CodeEditor", "ResultsView", "RunPanel", "TemplateEditor", "Workbench", "WorkbenchState"]
