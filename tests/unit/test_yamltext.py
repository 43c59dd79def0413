"""The cloud's YAML readers keep date-like scalars as strings (they end up in JSON
bodies), without changing yaml.safe_load for the rest of the process."""

import datetime as dt

import yaml

from pocketstack.common import yamltext
from pocketstack.orchestration.template.template import load


def test_template_dates_stay_strings_and_safe_load_is_untouched():
    assert load("heat_template_version: 2018-08-31\n")["heat_template_version"] == "2018-08-31"
    assert yamltext.load("released: 2024-01-02T03:04:05Z\n") == {"released": "2024-01-02T03:04:05Z"}
    assert yaml.safe_load("when: 2018-08-31\n")["when"] == dt.date(2018, 8, 31)
