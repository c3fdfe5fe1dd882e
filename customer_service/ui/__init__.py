"""The customer service's own user interface: HTML fragments for the cockpit.

Built, versioned and deployed with the service (the paper's best practice
IX, micro-frontends). The contract the fragments keep is written once in
``service_kit.fragments``; this package says only what is its own: its
version, and the gateway's route to it.

What a learner should notice: the fragment APIs (``apis.py``) call the same
selectors and services as the JSON API, under the same authentication and
scoping; a customer user sees its own customer here too, and nobody else's.
"""

#: On every fragment's root element and in its ``X-Fragment-Version`` header;
#: raised when the markup the cockpit relies on changes.
FRAGMENT_VERSION = "1.0.0"

#: The gateway's route to these fragments (``stack.gateway_routes``): every
#: link and form of a fragment names it, never the service's own address.
GATEWAY_PATH = "/ui/customers/"
