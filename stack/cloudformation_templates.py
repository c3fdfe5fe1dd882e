"""Reading the CloudFormation templates in ``deploy/``, and evaluating them.

The templates are plain YAML with CloudFormation's short tags (``!Ref``,
``!Sub``, ...). ``load_template`` reads them into the long form
(``{"Ref": ...}``, ``{"Fn::Sub": ...}``) that ``TemplateResolver``
evaluates: which conditions hold for some parameters, and what a property
comes to. The local deployment fills moto's gaps with it
(``stack.cloudformation``), and the tests read what a stack would contain
under each approach.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shared_events.configuration import REPO_DIR

DEPLOY_DIR = REPO_DIR / "deploy"
SHARED_TEMPLATE = DEPLOY_DIR / "shared.yaml"
SERVICE_TEMPLATE = DEPLOY_DIR / "service.yaml"
TEMPLATES = (SHARED_TEMPLATE, SERVICE_TEMPLATE)


class DeployError(RuntimeError):
    """A stack could not be deployed or deleted; the message says why."""


# --- Templates ------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags, read into their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)  # !GetAtt Resource.Attribute
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Condition":
        return {"Condition": value}
    return {key: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """A template as a dict, intrinsic functions in their long form."""
    return yaml.load(Path(path).read_text(), Loader=_TemplateLoader)


def template_parameters(
    template: Mapping[str, Any],
    values: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values to send for this template's parameters.

    ``values`` may hold more than the template declares: only its own are
    taken. A declared parameter without a value keeps the deployed stack's
    (``previous``), as ``aws cloudformation deploy`` does, or else takes its
    default; one with neither is refused. A value that is the default goes
    unsaid: the same stack, and moto's updates stumble over a parameter that
    appears with its default value.
    """
    declared = template.get("Parameters", {})
    chosen = {**(previous or {}), **values}
    missing = sorted(
        name
        for name, spec in declared.items()
        if name not in chosen and "Default" not in spec
    )
    if missing:
        raise DeployError(f"no value for the parameters {', '.join(missing)}")
    return {
        name: str(chosen[name])
        for name, spec in declared.items()
        if name in chosen and str(chosen[name]) != str(spec.get("Default"))
    }


# --- Reading a template: conditions and intrinsic functions ---------------------

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]+)\}")


@dataclass
class TemplateResolver:
    """Evaluates a template's conditions and intrinsic functions for some inputs.

    ``parameters`` are the stack's (defaults fill the rest); ``pseudo`` the
    ``AWS::`` values. ``ref`` and ``get_att`` answer for resources
    (``ref(logical_id)``, ``get_att(logical_id, attribute)``).
    """

    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    pseudo: Mapping[str, str]
    ref: Callable[[str], str]
    get_att: Callable[[str, str], str]
    _conditions: dict[str, bool] = field(default_factory=dict, repr=False)

    def parameter(self, name: str) -> Any:
        spec = self.template.get("Parameters", {})[name]
        value = str(self.parameters.get(name, spec.get("Default", "")))
        if spec["Type"] == "CommaDelimitedList":
            return [item for item in value.split(",") if item]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(
                self.evaluate(self.template["Conditions"][name])
            )
        return self._conditions[name]

    def kept(self) -> dict[str, dict[str, Any]]:
        """The resources whose condition holds, by logical id."""
        return {
            logical: resource
            for logical, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated."""
        result = self.evaluate(value)
        return None if result is _NO_VALUE else result

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.evaluate(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = self._functions().get(key)
            if function is not None:
                return function(argument)
        items = {key: self.evaluate(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item is not _NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": lambda argument: self.get_att(*argument),
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Join": lambda a: a[0].join(str(i) for i in self.evaluate(a[1])),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Select": lambda a: self.evaluate(a[1])[int(self.evaluate(a[0]))],
            "Fn::Split": lambda a: str(self.evaluate(a[1])).split(a[0]),
            "Fn::Equals": lambda a: self.evaluate(a[0]) == self.evaluate(a[1]),
            "Fn::Not": lambda a: not self.evaluate(a[0]),
            "Fn::And": lambda a: all(self.evaluate(item) for item in a),
            "Fn::Or": lambda a: any(self.evaluate(item) for item in a),
            "Condition": self.condition,
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        return self.ref(name)

    def _if(self, argument: list) -> Any:
        name, if_true, if_false = argument
        return self.evaluate(if_true if self.condition(name) else if_false)

    def _find_in_map(self, argument: list) -> Any:
        name, top, second = (self.evaluate(item) for item in argument)
        return self.template["Mappings"][name][top][second]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.evaluate(item) for key, item in variables.items()}

        def replace(match: re.Match) -> str:
            literal, name = match.groups()
            if literal:
                return "${" + name + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.template["Resources"]:
                return str(self.get_att(*name.split(".", 1)))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)
