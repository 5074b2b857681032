"""Safe file formats for every import and export: a size limit checked before parsing, strict JSON and YAML
(no YAML aliases, no duplicate keys, bounded nesting), and spreadsheet formula escaping on export.

Files people upload are untrusted input (DESIGN.md): a 430-byte YAML file of aliases of aliases expands to
gigabytes, a 50 MB JSON file keeps a worker busy for minutes. Every import (message types, templates,
opt-outs through django-import-export; audience lists) goes through :func:`check_size` first, with the
limit ``ACE_ADMIN_IMPORT_MAX_BYTES`` (default 10 MB).

Spreadsheet exports (CSV) prefix a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return with ``'`` so that a spreadsheet shows it as text instead of running it (OWASP "CSV injection");
a CSV import removes that one ``'`` again, so an export re-imports unchanged. JSON and YAML files carry
values exactly (no spreadsheet interprets them).
"""

from __future__ import annotations

import json

import tablib
import yaml
from django import forms
from import_export.formats import base_formats
from import_export.forms import ImportForm

from ace.serialization import nested_deeper_than
from ace_admin.settings import admin_settings

#: JSON and YAML deeper than this are refused (an import row is a few levels deep).
MAX_NESTING_DEPTH = 50

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def import_max_bytes() -> int:
    return int(admin_settings.ACE_ADMIN_IMPORT_MAX_BYTES)


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def check_size(size: int) -> None:
    """``forms.ValidationError`` when a file of ``size`` bytes is over the import limit."""
    limit = import_max_bytes()
    if size > limit:
        raise forms.ValidationError(
            f"This file is {_size_text(size)}; imports accept at most {_size_text(limit)} "
            "(ACE_ADMIN_IMPORT_MAX_BYTES). Split it into smaller files.", code="too_large")


class LimitedImportForm(ImportForm):
    """django-import-export's import form, refusing a file over the size limit before anything reads it."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        check_size(upload.size)
        return upload


# --- strict parsing ----------------------------------------------------------------------------------------


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _check_depth(data) -> None:
    if nested_deeper_than(data, MAX_NESTING_DEPTH):
        raise ValueError(f"the file is nested more than {MAX_NESTING_DEPTH} levels deep")


def loads_json(text: str):
    """``json.loads`` that refuses duplicate keys and deep nesting with a ``ValueError`` saying so."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError(f"the file is nested more than {MAX_NESTING_DEPTH} levels deep")
    _check_depth(data)
    return data


class _StrictYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (``*name``: the "billion laughs" expansion) or duplicate keys."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not accepted in imports: write the value out",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value",
                                                            key_node.start_mark)
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def loads_yaml(text: str):
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 — a SafeLoader subclass
    except RecursionError:
        raise ValueError(f"the file is nested more than {MAX_NESTING_DEPTH} levels deep")
    except yaml.YAMLError as error:
        raise ValueError(f"not valid YAML: {error}")
    _check_depth(data)
    return data


def _rows(data) -> tablib.Dataset:
    """A dataset from a list of objects (the JSON/YAML layout an export writes)."""
    if data is None:
        data = []
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ValueError("the file must hold a list of objects, one per row (as an export writes)")
    dataset = tablib.Dataset()
    if data:
        headers = list(dict.fromkeys(key for row in data for key in row))
        dataset.headers = headers
        for row in data:
            dataset.append([row.get(header) for header in headers])
    return dataset


def _text(in_stream, encoding="utf-8") -> str:
    if isinstance(in_stream, bytes):
        check_size(len(in_stream))
        return in_stream.decode(encoding or "utf-8")
    check_size(len(in_stream.encode("utf-8", "surrogatepass")))
    return in_stream


# --- formula escaping -----------------------------------------------------------------------------------------


def escape_formula(value):
    """``'`` before a text cell a spreadsheet would run as a formula (and before one that already starts with
    ``'`` followed by such a character, so that :func:`unescape_formula` is its exact inverse)."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_STARTS) or (value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def unescape_formula(value):
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


def escape_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    escaped = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        escaped.append([escape_formula(cell) for cell in row])
    return escaped


# --- the formats ----------------------------------------------------------------------------------------------


def _parsed_rows(parse, in_stream, encoding) -> tablib.Dataset:
    """Rows of a JSON or YAML upload; a bad file is the ``ValueError`` django-import-export reports."""
    try:
        return _rows(parse(_text(in_stream, encoding)))
    except forms.ValidationError as error:
        raise ValueError("; ".join(error.messages))


class SafeJSON(base_formats.JSON):
    def create_dataset(self, in_stream, **kwargs):
        return _parsed_rows(loads_json, in_stream, self.encoding)


class SafeYAML(base_formats.YAML):
    def create_dataset(self, in_stream, **kwargs):
        return _parsed_rows(loads_yaml, in_stream, self.encoding)


class SafeCSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs):
        try:
            text = _text(in_stream, self.encoding)
        except forms.ValidationError as error:
            raise ValueError("; ".join(error.messages))
        dataset = super().create_dataset(text, **kwargs)
        unescaped = tablib.Dataset(headers=dataset.headers)
        for row in dataset:
            unescaped.append([unescape_formula(cell) for cell in row])
        return unescaped

    def export_data(self, dataset, **kwargs):
        return escape_dataset(dataset).export(self.get_title(), **kwargs)


class SafeImportExportMixin:
    """For a ModelAdmin with ``ImportExportMixin``/``ExportMixin``: the size-limited import form."""

    import_form_class = LimitedImportForm

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ValueError) and not isinstance(e, UnicodeError):
            # Our own refusals (size, aliases, duplicate keys, nesting, layout) say what to fix.
            form.add_error("import_file", f"The file cannot be imported: {e}")
            return
        super().add_data_read_fail_error_to_form(form, e)
