"""Celery tasks, one module per queue (routed by module in :mod:`workers.celery_app`): thin — ids in, a job from
:mod:`workers.jobs`, idempotent."""
