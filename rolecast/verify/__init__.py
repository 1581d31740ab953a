"""End-to-end verification: run the top coalitions as agents on held-out cases.

The surrogate predicts a coalition's accuracy from teacher-forced steps; this package
checks the prediction against the coalition actually running (``rolecast verify``), stores
every judged run like a step (a rerun generates nothing), and measures how well each
surrogate is calibrated against all stored runs (:mod:`rolecast.verify.calibration`).
"""

from rolecast.verify.flow import VerifyRequest, check_request, holdout_cases, verify
from rolecast.verify.runner import RunOutcome, RunPlan, coalition_key, run_plans
from rolecast.verify.summary import Comparison, Measured, VerifyReport
from rolecast.verify.targets import BEST_SINGLE, Target, best_single_model, choose_targets

__all__ = [
    "BEST_SINGLE",
    "Comparison",
    "Measured",
    "RunOutcome",
    "RunPlan",
    "Target",
    "VerifyReport",
    "VerifyRequest",
    "best_single_model",
    "check_request",
    "choose_targets",
    "coalition_key",
    "holdout_cases",
    "run_plans",
    "verify",
]
