"""The order service's own user interface: HTML fragments for the cockpit.

Built, versioned and deployed with the service (the paper's best practice
IX, micro-frontends). The contract the fragments keep is written once in
``service_kit.fragments``; this package says only what is its own: its
version, and the gateway's route to it.

What a learner should notice: placing an order from the form goes through
the same ``order_place`` as the JSON API, so it is refused for the same
reasons with the same status (an unknown customer, a credit limit, the
customer service down under db_per_service), the reason shown in the form.
"""

#: On every fragment's root element and in its ``X-Fragment-Version`` header;
#: raised when the markup the cockpit relies on changes.
FRAGMENT_VERSION = "1.0.0"

#: The gateway's route to these fragments (``stack.gateway_routes``): every
#: link and form of a fragment names it, never the service's own address.
GATEWAY_PATH = "/ui/orders/"
