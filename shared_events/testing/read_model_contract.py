"""The contract every read model's state machine runs, one by one and in bulk.

A read side's ``test_stateful_projection`` defines its machine (a
``ReadModelMachine`` saying which rows the events should leave) and
subclasses ``ReadModelFoldContract``; its ``test_bulk_projection`` subclasses
``ReadModelBulkContract`` with the same machine. What a learner should notice:
the machines differ only in the rows they expect; how events are delivered
(interleaved, twice, too early, in bulk) and checked is written once.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis.stateful import run_state_machine_as_test

from shared_events.testing.bulk_equivalence import (
    BulkDeliveryMachine,
    BulkEquivalenceContract,
)
from shared_events.testing.stateful import MACHINE_SETTINGS, ReadModelMachine

# Each example commits (the consumer's own transactions), in both databases.
ON_BOTH_DATABASES = pytest.mark.django_db(
    transaction=True, databases=["default", "read"]
)


class ReadModelFoldContract:
    pytestmark = [ON_BOTH_DATABASES]
    machine: ClassVar[type[ReadModelMachine]]

    def test_the_read_model_is_the_fold_of_the_events_whatever_the_delivery(self):
        run_state_machine_as_test(self.machine, settings=MACHINE_SETTINGS)


class ReadModelBulkContract(BulkEquivalenceContract):
    pytestmark = [ON_BOTH_DATABASES]
    machine: ClassVar[type[ReadModelMachine]]

    def test_in_bulk_too_the_read_model_is_the_fold_of_the_events(self):
        in_bulk = type(
            f"{self.machine.__name__}InBulk", (self.machine, BulkDeliveryMachine), {}
        )
        run_state_machine_as_test(in_bulk, settings=MACHINE_SETTINGS)
