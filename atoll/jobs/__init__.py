"""Atoll's one jobs subsystem: a leased queue of background work in SQL.

A job is a row of the `jobs` table, written by `enqueue` in the same transaction as
the change that needs it, so both commit or neither does. Any number of workers
(every atoll-engine, and atoll-api with `[api] run_engine`) claim due jobs, run
the handler declared for the job's type and record the outcome:

    enqueue ──> NEW ──claim──> RUNNING ──Done──────> SUCCESS
                 ^                │ ├──Retry/error─> NEW (after a backoff)
                 │                │ └──Fail/limit──> FAIL ──redo──> NEW
                 └──lease expired─┘ (its worker died: another takes it over)

- A claim is a lease (`[jobs] lease_time`), renewed by the worker's heartbeat. A
  worker that dies stops renewing; once the lease expires another worker claims
  the job again and the handler resumes from the job's last checkpoint.
- Every write of a running job is guarded by (owner, attempt), so a worker that
  lost its lease can no longer change the job.
- Jobs sharing an ordering key run one at a time, in creation order; the unique
  `running_key` column makes the database refuse a second running job of a key.
- A parent job has children (one per target, say) and no handler of its own; its
  status is derived from theirs (`atoll.jobs.status`).

Modules: `declarations` (job types, what a handler sees), `outcomes` (what it
returns or raises), `enqueue`, `leases` (claim, renew), `settle` (guarded writes
of a running job), `runner` (one job), `worker` (the loop), `admin` (what the
API does to jobs).
"""
