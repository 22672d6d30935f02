"""The course notebooks' exercises, one module per notebook; importing the package registers them all.

Each exercise has a checker (what is wrong, in English and Chinese), a worked solution (the ``solutions`` profile
uses it) and the message an untouched exercise shows. :mod:`workbench.course.teaching` runs them.
"""

from workbench.course.exercises import (  # noqa: F401
    agents,
    deploy,
    evaluation,
    finetune,
    quickstart,
    rag,
    sampling,
    techniques,
    tuning,
)
