"""``CREDIT_LIMIT``: read as money, refused with its name when it is not."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from service_kit.credit import credit_limit


@pytest.mark.parametrize(
    ("text", "limit"),
    [("1000000.00", Decimal("1000000.00")), ("250", Decimal("250.00")), ("0", 0)],
)
def test_a_limit_is_money_in_cents(text, limit):
    assert credit_limit(text) == limit
    assert credit_limit(text).as_tuple().exponent == -2


@pytest.mark.parametrize("text", ["", "lots", "-1", "NaN", "Infinity"])
def test_anything_else_is_refused_naming_the_setting(text):
    with pytest.raises(ImproperlyConfigured, match=f"CREDIT_LIMIT .* not {text!r}"):
        credit_limit(text)
