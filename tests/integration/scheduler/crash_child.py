"""Runs the scheduler with the money-moving test job and dies (os._exit) right after the money is recorded,
before the run is marked done: as a killed process would."""
import os
import sys

from ledger.clock import ManualClock
from tests.integration.scheduler.jobs_for_tests import pay_in_job
from wallet.domain.unit_of_work import UnitOfWork
from wallet.scheduler import Scheduler
from wallet.timeparse import start_of

url, wallet_id, stream_id, now = sys.argv[1:5]
uow = UnitOfWork(url, clock=ManualClock(start_of(now)))


def die(ctx):
    print("recorded; dying", flush=True)
    os._exit(9)


Scheduler(uow, jobs=[pay_in_job(wallet_id, stream_id, then=die)], holder="child").tick()
print("not reached", flush=True)
