"""The estimator's HTTP service and web UI (``symcost serve``)."""
