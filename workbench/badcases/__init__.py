"""The bad-case tracker: from a failed row to a fixed regression case (see :mod:`workbench.badcases.tracker`)."""

from workbench.badcases.records import STATUSES, SUGGESTED_TAGS, BadCase, RecheckReport, fingerprint
from workbench.badcases.tracker import BadCaseTracker

__all__ = ["STATUSES", "SUGGESTED_TAGS", "BadCase", "BadCaseTracker", "RecheckReport", "fingerprint"]
