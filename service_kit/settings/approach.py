"""The approach switch: which of the paper's five approaches this process runs."""

from service_kit.settings.base import env
from shared_events.approaches import approach_info
from shared_events.configuration import current_approach

# THE APPROACH SWITCH
# ------------------------------------------------------------------------------
# One of shared_db, db_per_service, direct_publish, event_sourcing, cqrs_es.
# Read once at start-up: a running process picks up a change when restarted.
ARCHITECTURE_APPROACH = current_approach(env).value
APPROACH_SHARES_DATABASE = approach_info(ARCHITECTURE_APPROACH).shares_database
APPROACH_HAS_READ_SIDE = approach_info(ARCHITECTURE_APPROACH).read_side
READ_DATABASE = "read"

# THE QUERY PROCESS (approach 5)
# ------------------------------------------------------------------------------
# QUERY_SIDE_ONLY=true runs the paper's query service: the query API alone,
# on the read database alone (no write database, no database-backed login).
QUERY_SIDE_ONLY = env.bool("QUERY_SIDE_ONLY", default=False)
