"""HOT templates without a cloud: versions and sections, intrinsic functions, parameters
and their constraints, conditions, references and the dependency graph."""

from __future__ import annotations

import hashlib

import pytest

from pocketstack.orchestration import errors
from pocketstack.orchestration.template.parameters import resolve_values
from pocketstack.orchestration.template.scope import ResourceState, StackScope
from pocketstack.orchestration.template.template import Template, load


def scope(text: str, params=None, resources=None, files=None) -> StackScope:
    template = Template(load(text), files)
    values = resolve_values(template.parameters, params or {}, {})
    return StackScope(template, values, stack_name="st", stack_id="sid", project_id="pid", resources=resources)


def value(expr: str, version: str = "2021-04-16", **kw):
    text = f"heat_template_version: {version}\n" + kw.pop("extra", "") + f"outputs:\n  o: {{value: {expr}}}\n"
    out = scope(text, **kw).outputs()[0]
    assert "output_error" not in out, out
    return out["output_value"]


# -- functions ------------------------------------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("{list_join: [',', [a, b, c]]}", "a,b,c"),
    ("{list_join: ['-', [a], [b, c]]}", "a-b-c"),
    ("{list_join: [' ', [{k: v}, 1]]}", '{"k": "v"} 1'),
    ("{str_replace: {template: '$a-$ab', params: {$a: 1, $ab: 2}}}", "1-2"),
    ("{str_replace: {template: 'x=X', params: {X: [1, 2]}}}", "x=[1, 2]"),
    ("{str_split: [',', 'a,b,c']}", ["a", "b", "c"]),
    ("{str_split: [',', 'a,b,c', 1]}", "b"),
    ("{repeat: {for_each: {'%x%': [1, 2], '%y%': [a, b]}, template: '%x%%y%'}}", ["1a", "1b", "2a", "2b"]),
    ("{repeat: {for_each: {'%x%': [1, 2], '%y%': [a, b]}, template: '%x%%y%', permutations: false}}",
     ["1a", "2b"]),
    ("{repeat: {for_each: {'<%p%>': [22, 80]}, template: {port: '<%p%>'}}}", [{"port": "22"}, {"port": "80"}]),
    ("{digest: [sha256, abc]}", hashlib.sha256(b"abc").hexdigest()),
    ("{map_merge: [{a: 1, b: 1}, {b: 2}]}", {"a": 1, "b": 2}),
    ("{map_replace: [{k1: v1, k2: v2}, {keys: {k1: K1}, values: {v2: V2}}]}", {"K1": "v1", "k2": "V2"}),
    ("{list_concat: [[1, 2], [2, 3]]}", [1, 2, 2, 3]),
    ("{list_concat_unique: [[1, 2], [2, 3]]}", [1, 2, 3]),
    ("{filter: [[null, ''], [a, null, '', b]]}", ["a", "b"]),
    ("{contains: [a, [a, b]]}", True),
    ("{if: [true, yes-value, no-value]}", "yes-value"),
    ("{if: [false, x]}", None),
    ("{make_url: {scheme: https, host: example.org, port: 8080, path: a b, query: {q: 1}}}",
     "https://example.org:8080/a%20b?q=1"),
    ("{get_param: OS::stack_name}", "st"),
])
def test_functions(expr, expected):
    assert value(expr) == expected


def test_get_param_paths_and_types():
    extra = ("parameters:\n  m: {type: json, default: {a: [10, 20]}}\n  l: {type: comma_delimited_list}\n"
             "  n: {type: number}\n  b: {type: boolean, default: 'yes'}\n")
    assert value("{get_param: [m, a, 1]}", extra=extra, params={"l": "x, y", "n": "2.5"}) == 20
    assert value("{get_param: l}", extra=extra, params={"l": "x, y", "n": "3"}) == ["x", "y"]
    assert value("{get_param: n}", extra=extra, params={"l": "", "n": "3"}) == 3
    assert value("{get_param: b}", extra=extra, params={"l": "", "n": "3"}) is True


def test_functions_of_newer_versions_are_data_in_older_ones():
    assert value("{str_split: [',', 'a,b']}", version="2015-04-30") == {"str_split": [",", "a,b"]}
    assert value("{str_split: [',', 'a,b']}", version="2015-10-15") == ["a", "b"]
    assert value("{list_concat: [[1], [2]]}", version="ocata") == {"list_concat": [[1], [2]]}
    assert value("{list_concat: [[1], [2]]}", version="pike") == [1, 2]


def error_of(expr: str) -> str:
    out = scope(f"heat_template_version: 2021-04-16\noutputs:\n  o: {{value: {expr}}}\n").outputs()[0]
    assert out["output_value"] is None
    return out["output_error"]


def test_strict_replacement():
    assert error_of("{str_replace_strict: {template: '$a', params: {$a: 1, $b: 2}}}") == \
        "The following params were not found in the template: $b"
    assert error_of("{str_replace_vstrict: {template: '$a', params: {$a: ''}}}") == \
        "The following params have empty values: $a"


@pytest.mark.parametrize("expr", ["{list_join: [',']}", "{digest: [nope, x]}", "{str_split: [',', 'a', 5]}",
                                  "{repeat: {template: x}}", "{map_merge: [1]}"])
def test_bad_arguments_are_errors(expr):
    assert error_of(expr)


def test_get_file_and_attributes():
    text = ("heat_template_version: 2018-08-31\nresources:\n  s: {type: OS::Nova::Server}\n"
            "outputs:\n  f: {value: {get_file: 'script.sh'}}\n  a: {value: {get_attr: [s, networks, private, 0]}}\n"
            "  all: {value: {get_attr: [s]}}\n  id: {value: {get_resource: s}}\n")
    resources = {"s": ResourceState("uuid-1", {"networks": {"private": ["10.0.0.5"]}})}
    got = {o["output_key"]: o["output_value"] for o in scope(text, resources=resources,
                                                             files={"script.sh": "#!/bin/sh"}).outputs()}
    assert got == {"f": "#!/bin/sh", "a": "10.0.0.5", "all": {"networks": {"private": ["10.0.0.5"]}},
                   "id": "uuid-1"}
    # Before anything exists (validation), a reference is the resource's name.
    assert value("{get_resource: s}", extra="resources:\n  s: {type: OS::Heat::None}\n") == "s"


# -- conditions -----------------------------------------------------------------------------
CONDITIONS = """
heat_template_version: 2018-08-31
parameters:
  env: {type: string, default: dev}
conditions:
  prod: {equals: [{get_param: env}, prod]}
  not_prod: {not: prod}
  both: {and: [prod, {contains: [{get_param: env}, [prod, stage]]}]}
resources:
  big: {type: OS::Heat::None, condition: prod}
  small: {type: OS::Heat::None, condition: not_prod}
  always:
    type: OS::Heat::None
    properties: {size: {if: [prod, 10, 1]}, ref: {get_resource: big}}
outputs:
  cond: {value: {if: [both, b, n]}}
  only_prod: {value: 1, condition: prod}
"""


@pytest.mark.parametrize("env,active,size,outputs", [
    ("dev", ["small", "always"], 1, {"cond": "n"}),
    ("prod", ["big", "always"], 10, {"cond": "b", "only_prod": 1}),
])
def test_conditions(env, active, size, outputs):
    s = scope(CONDITIONS, params={"env": env})
    assert s.active() == active
    assert s.resolve(s.template.resources["always"].properties)["size"] == size
    assert {o["output_key"]: o["output_value"] for o in s.outputs()} == outputs
    assert s.template.graph(s.active())["always"] == ({"big"} if env == "prod" else set())


def test_conditions_need_a_version_that_has_them():
    with pytest.raises(errors.InvalidTemplateSection, match="conditions"):
        Template(load(CONDITIONS.replace("2018-08-31", "2016-04-08")))


# -- parameters -----------------------------------------------------------------------------
PARAMS = """
heat_template_version: 2016-10-14
parameters:
  name: {type: string, constraints: [{length: {min: 3, max: 5}}]}
  size: {type: number, default: 2, constraints: [{range: {min: 1, max: 4}}, {modulo: {step: 2, offset: 0}}]}
  flavor: {type: string, default: small, constraints: [{allowed_values: [small, big],
                                                         description: pick a size we sell}]}
  key: {type: string, default: abc, constraints: [{allowed_pattern: '[a-z]+'}]}
"""


@pytest.mark.parametrize("given,message", [
    ({}, "The Parameter (name) was not provided."),
    ({"name": "ab"}, "Parameter 'name' is invalid: length (2) is out of range (min: 3, max: 5)"),
    ({"name": "abc", "size": "6"}, "Parameter 'size' is invalid: 6 is out of range (min: 1, max: 4)"),
    ({"name": "abc", "size": "3"}, "Parameter 'size' is invalid: 3 is not a multiple of 2 with an offset of 0"),
    ({"name": "abc", "size": "x"}, "Parameter 'size' is invalid: Value must be a number: x"),
    ({"name": "abc", "flavor": "huge"}, "Parameter 'flavor' is invalid: pick a size we sell"),
    ({"name": "abc", "key": "A1"}, "Parameter 'key' is invalid: \"A1\" does not match pattern \"[a-z]+\""),
    ({"name": "abc", "other": 1}, "The Parameter (other) was not defined in template."),
])
def test_parameter_errors(given, message):
    template = Template(load(PARAMS))
    with pytest.raises(errors.ApiError) as raised:
        resolve_values(template.parameters, given, {})
    assert raised.value.status == 400 and raised.value.message == message


def test_parameter_defaults_and_values():
    template = Template(load(PARAMS))
    assert resolve_values(template.parameters, {"name": "abcd"}, {"size": 4}) == {
        "name": "abcd", "size": 4, "flavor": "small", "key": "abc"}


def test_a_bad_default_is_an_invalid_template():
    with pytest.raises(errors.InvalidTemplate, match="Invalid default 9"):
        Template(load("heat_template_version: 2016-10-14\nparameters:\n  p: {type: number, default: 9, "
                      "constraints: [{range: {max: 5}}]}\n"))


# -- shape ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,error,message", [
    ("heat_template_version: 2012-01-01\n", errors.InvalidTemplateVersion, "should be one of: 2013-05-23"),
    ("description: x\n", errors.InvalidTemplateVersion, "Template version was not provided"),
    ("heat_template_version: 2016-10-14\nfoo: {}\n", errors.InvalidTemplateSection, "foo"),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: X, propertiez: {}}\n",
     errors.StackValidationFailed, '"propertiez" is not a valid keyword inside a resource definition'),
    ("heat_template_version: 2016-10-14\nresources:\n  r: {type: X, properties: {a: {get_resource: q}}}\n",
     errors.InvalidTemplateReference, 'The specified reference "q" (in r.properties) is incorrect.'),
    ("heat_template_version: 2016-10-14\nresources:\n  a: {type: X, depends_on: b}\n  b: {type: X, depends_on: a}\n",
     errors.CircularDependencyException, "Circular Dependency Found"),
    ("[1, 2]", errors.InvalidTemplate, "not a JSON object or YAML mapping"),
    ("a: [", errors.InvalidTemplate, "Error parsing template"),
    ("heat_template_version: 2016-10-14\nparameter_groups: [{parameters: [nope]}]\n", errors.StackValidationFailed,
     "does not reference a valid parameter"),
])
def test_invalid_templates(text, error, message):
    with pytest.raises(error) as raised:
        t = Template(load(text))
        t.graph(list(t.resources))
    assert message in raised.value.message


def test_aliases_and_json_templates():
    assert Template(load('{"heat_template_version": "wallaby"}')).version.date == "2021-04-16"
