"""The lab's scenarios, one module each, registered in one place: SCENARIOS."""

from lab.scenarios.add_consumer import AddConsumer
from lab.scenarios.base import Scenario
from lab.scenarios.broker_outage import BrokerOutage
from lab.scenarios.burst import Burst
from lab.scenarios.concurrent_update import ConcurrentUpdate
from lab.scenarios.consumers_down import ConsumersDown
from lab.scenarios.crash_before_publish import CrashBeforePublish
from lab.scenarios.credit_limit_race import CreditLimitRace
from lab.scenarios.customer_service_down import CustomerServiceDown
from lab.scenarios.delete_customer import DeleteCustomer
from lab.scenarios.duplicate_delivery import DuplicateDelivery
from lab.scenarios.edge_throttle import EdgeThrottle
from lab.scenarios.read_after_write import ReadAfterWrite
from lab.scenarios.schema_change import SchemaChange
from lab.scenarios.slow_customer_service import SlowCustomerService
from lab.scenarios.strangle_the_monolith import StrangleTheMonolith
from lab.scenarios.traced_deletion import TracedDeletion

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in [
        DeleteCustomer(),
        CustomerServiceDown(),
        CrashBeforePublish(),
        BrokerOutage(),
        DuplicateDelivery(),
        ConcurrentUpdate(),
        SchemaChange(),
        Burst(),
        ConsumersDown(),
        # Not in the demo (DEMO_SCENARIOS), which stays under five minutes;
        # ``lab compare --all`` runs them.
        SlowCustomerService(),
        ReadAfterWrite(),
        EdgeThrottle(),
        TracedDeletion(),
        CreditLimitRace(),
        AddConsumer(),
        # Last: it moves its platform on to cqrs_es.
        StrangleTheMonolith(),
    ]
}

# The scenarios that show the paper's argument: what `make demo` compares.
DEMO_SCENARIOS = [
    "delete-customer",
    "customer-service-down",
    "crash-before-publish",
    "duplicate-delivery",
    "schema-change",
]
