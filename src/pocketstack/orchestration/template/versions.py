"""The HOT versions Heat serves, and which intrinsic functions each one offers.

Each version adds to (or, in 2015-10-15, drops from) the one before, as Heat's
``heat/engine/hot/template.py`` does; the names listed here are exactly what
``GET /template_versions/{version}/functions`` answers and what a template of that
version may call.  A name of another version is not a function there: the mapping is
plain data (Heat answers the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketstack.orchestration import errors

_BASE = ("get_attr", "get_file", "get_param", "get_resource", "list_join", "resource_facade", "str_replace",
         "Fn::Select")
_2015_04 = _BASE + ("repeat", "digest")
_2015_10 = tuple(f for f in _2015_04 if f != "Fn::Select") + ("str_split",)
_2016_04 = _2015_10 + ("map_merge",)
_2016_10 = _2016_04 + ("yaql", "map_replace", "if")
_2017_02 = _2016_10 + ("filter", "str_replace_strict")
_2017_09 = _2017_02 + ("make_url", "list_concat", "str_replace_vstrict", "list_concat_unique", "contains")

_CONDITIONS_2016 = ("get_param", "equals", "not", "and", "or")
_CONDITIONS_2017 = _CONDITIONS_2016 + ("yaql", "contains")


@dataclass(frozen=True)
class HotVersion:
    date: str
    alias: str | None
    functions: tuple[str, ...]
    condition_functions: tuple[str, ...] = ()

    @property
    def has_conditions(self) -> bool:
        return bool(self.condition_functions)

    def at_least(self, date: str) -> bool:
        return self.date >= date

    @property
    def name(self) -> str:
        return f"heat_template_version.{self.date}"


VERSIONS: tuple[HotVersion, ...] = (
    HotVersion("2013-05-23", None, _BASE),
    HotVersion("2014-10-16", None, _BASE),
    HotVersion("2015-04-30", None, _2015_04),
    HotVersion("2015-10-15", None, _2015_10),
    HotVersion("2016-04-08", None, _2016_04),
    HotVersion("2016-10-14", "newton", _2016_10, _CONDITIONS_2016),
    HotVersion("2017-02-24", "ocata", _2017_02, _CONDITIONS_2016),
    HotVersion("2017-09-01", "pike", _2017_09, _CONDITIONS_2017),
    HotVersion("2018-03-02", "queens", _2017_09, _CONDITIONS_2017),
    HotVersion("2018-08-31", "rocky", _2017_09, _CONDITIONS_2017),
    HotVersion("2021-04-16", "wallaby", _2017_09, _CONDITIONS_2017),
)

_BY_KEY = {v.date: v for v in VERSIONS} | {v.alias: v for v in VERSIONS if v.alias}

DESCRIPTIONS = {
    "get_attr": "A function for resolving resource attributes.",
    "get_file": "A function for including a file inline.",
    "get_param": "A function for resolving parameter references.",
    "get_resource": "A function for resolving resource references.",
    "list_join": "A function for joining strings.",
    "resource_facade": "A function for retrieving data in a parent provider template.",
    "str_replace": "A function for performing string substitutions.",
    "Fn::Select": "A function for selecting an item from a list or map.",
    "repeat": "A function for iterating over a list of items.",
    "digest": "A function for performing digest operations.",
    "str_split": "A function for splitting delimited strings into a list.",
    "map_merge": "A function for merging maps.",
    "yaql": "A function for executing a yaql expression.",
    "map_replace": "A function for performing substitutions on maps.",
    "if": "A function to return corresponding value based on condition evaluation.",
    "filter": "A function for filtering out values from lists.",
    "str_replace_strict": "A function for performing string substitutions, failing on unused parameters.",
    "make_url": "A function for performing URL construction.",
    "list_concat": "A function for extending lists.",
    "str_replace_vstrict": "A function like str_replace_strict that also fails on empty parameter values.",
    "list_concat_unique": "A function for extending lists with unique items.",
    "contains": "A function for checking whether specific value is in sequence.",
    "equals": "A function for comparing whether two values are equal.",
    "not": "A function that acts as a NOT operator on a condition.",
    "and": "A function that acts as an AND operator on conditions.",
    "or": "A function that acts as an OR operator on conditions.",
}


def all_names() -> list[str]:
    """``heat_template_version.<date>`` for every version, as ``template_versions`` lists."""
    return [v.name for v in VERSIONS]


def find(key: object) -> HotVersion:
    """The version a template's ``heat_template_version`` names (a date or an alias)."""
    version = _BY_KEY.get(str(key)) if isinstance(key, str) else None
    if version is None:
        valid = ", ".join(v.date for v in VERSIONS)
        raise errors.InvalidTemplateVersion(
            explanation=f'"heat_template_version: {key}". "heat_template_version" should be one of: {valid}')
    return version


def by_name(name: str) -> HotVersion:
    """The version ``heat_template_version.<date>`` (the template-versions API's key)."""
    prefix = "heat_template_version."
    version = _BY_KEY.get(name[len(prefix):]) if name.startswith(prefix) else None
    if version is None:
        raise errors.TemplateVersionNotFound(version=name)
    return version
