"""Import and export (django-import-export): message types with their templates, templates, and opt-outs.

Content moves from staging to production as a file (JSON, YAML or CSV). An import is all or nothing:
one bad row (bad template syntax, unknown message type, invalid address) rejects the whole file with
the row number and the reason, and saves nothing. Re-importing an export changes nothing.

Every value is checked strictly (issue 9): a boolean is true/false/yes/no/1/0 and nothing else, JSON
cells hold the type the field needs (an object for sample data, a list for templates) without duplicate
keys, and a column the resource does not know is reported instead of ignored. File-level limits (size,
YAML aliases, nesting) are in ``ace_admin.importing``.
"""

from __future__ import annotations

import json

from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from ace_admin.importing import loads_json
from ace_admin.models import TEMPLATE_NAME_SCHEME, MessageType, OptOut, Template, normalize_language

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off"})


def strict_bool(value, what: str = "value") -> bool:
    """True/False from a cell or a JSON/YAML value; ``ValueError`` for anything else ("maybe", blank, 2...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"{what} must be true or false (or yes/no, 1/0), not {value!r}")


class StrictBooleanWidget(widgets.BooleanWidget):
    """A boolean column: true/false, yes/no, 1/0 (any case); anything else is an error, never False."""

    def clean(self, value, row=None, **kwargs):
        return strict_bool(value)


class JsonValueWidget(widgets.Widget):
    """A JSON value in one cell: text in CSV, or the value itself in JSON/YAML files."""

    def __init__(self, empty=dict):
        super().__init__()
        self.empty = empty

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return self.empty()
        if isinstance(value, str):
            try:
                value = loads_json(value)
            except json.JSONDecodeError as error:
                raise ValueError(f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})")
        expected = self.empty
        if not isinstance(value, expected):
            what = {dict: "a JSON object ({...})", list: "a JSON list ([...])"}.get(expected, expected.__name__)
            raise ValueError(f"must be {what}, not {type(value).__name__}")
        return value

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value if value is not None else self.empty(), ensure_ascii=False, sort_keys=True)


class MessageTypeWidget(widgets.Widget):
    """A message type written as ``app_label.name`` (e.g. ``demo.newsletter``)."""

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip() if isinstance(value, str) else value
        if not value:
            return None
        app_label, dot, name = str(value).partition(".")
        if not dot:
            raise ValueError(f"message type {value!r} should be written app_label.name, e.g. 'demo.newsletter'")
        try:
            return MessageType.objects.get(app_label=app_label, name=name)
        except MessageType.DoesNotExist:
            raise ValueError(f"unknown message type {value!r}: import or create it first")

    def render(self, value, obj=None, **kwargs):
        return str(value) if value is not None else ""


class SiteWidget(widgets.Widget):
    """A site written as its domain; blank means all sites."""

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip()
        if not value:
            return None
        try:
            return Site.objects.get(domain=value)
        except Site.DoesNotExist:
            raise ValueError(f"unknown site {value!r}")

    def render(self, value, obj=None, **kwargs):
        return value.domain if value is not None else ""


class TextWidget(widgets.CharWidget):
    """Text that may be blank: blank cells stay empty strings (never None), so blank == blank on re-import."""

    def clean(self, value, row=None, **kwargs):
        return "" if value is None else str(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class AllOrNothingMixin:
    """Every import runs in one transaction that is rolled back if any row is invalid or fails; a column the
    resource does not know rejects the file (a typo such as 'trasactional' would otherwise be ignored)."""

    def before_import(self, dataset, **kwargs):
        known = {field.column_name for field in self.get_import_fields()} | set(getattr(self, "extra_columns", ()))
        unknown = [str(header) for header in (dataset.headers or []) if header not in known]
        if unknown:
            raise ValueError(f"Unknown column(s): {', '.join(unknown)}. Known columns: {', '.join(sorted(known))}.")
        super().before_import(dataset, **kwargs)

    def import_data(self, dataset, *args, **kwargs):
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        self._import_user = kwargs.get("user")
        return super().import_data(dataset, *args, **kwargs)

    @property
    def import_user(self):
        user = getattr(self, "_import_user", None)
        return user if getattr(user, "pk", None) else None


def _template_problem(template: Template) -> str | None:
    """Why ``template`` cannot be saved (the engine's message with its line), or None."""
    try:
        template.full_clean(exclude=["message_type", "site", "updated_by"], validate_unique=False)
    except ValidationError as error:
        messages = []
        for field, errors in error.message_dict.items():
            prefix = "" if field == "__all__" else f"{field}: "
            messages.extend(prefix + message for message in errors)
        return "; ".join(messages)
    return None


class TemplateResource(AllOrNothingMixin, resources.ModelResource):
    """One row per template (message parts and shared layouts), identified by name, language and site."""

    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    language = fields.Field(attribute="language", column_name="language", widget=TextWidget())
    site = fields.Field(attribute="site", column_name="site", widget=SiteWidget())
    message_type = fields.Field(attribute="message_type", column_name="message_type", widget=MessageTypeWidget())
    published = fields.Field(attribute="published", column_name="published", widget=StrictBooleanWidget())
    content = fields.Field(attribute="content", column_name="content", widget=TextWidget())

    class Meta:
        model = Template
        fields = ("name", "language", "site", "message_type", "published", "content")
        import_id_fields = ("name", "language", "site")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        row["language"] = normalize_language(row.get("language") or "")
        match = TEMPLATE_NAME_SCHEME.match((row.get("name") or "").strip())
        if match and not (row.get("message_type") or "").strip():
            # A template of the documented scheme belongs to the message type its name says.
            row["message_type"] = f"{match['app_label']}.{match['name']}"

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        match = TEMPLATE_NAME_SCHEME.match(instance.name or "")
        if match and instance.message_type is not None and (
                (instance.message_type.app_label, instance.message_type.name) != (match["app_label"], match["name"])):
            owner = f"{match['app_label']}.{match['name']}"
            raise ValidationError({"message_type": f"the name {instance.name!r} belongs to message type {owner}, "
                                                   f"not {instance.message_type}"})

    def do_instance_save(self, instance, is_create):
        instance.save(force_insert=is_create, author=self.import_user, comment="imported")


class TemplatesField(fields.Field):
    """A message type's database templates, as stored now (the dry-run diff compares them before/after)."""

    def get_value(self, instance):
        return MessageTypeResource.template_items(instance)


class MessageTypeResource(AllOrNothingMixin, resources.ModelResource):
    """One row per message type, with its database templates in the ``templates`` column.

    ``templates`` is a list of ``{"name", "language", "site", "published", "content"}`` written as JSON
    text (a list is accepted too when a hand-written JSON or YAML file gives one).
    """

    app_label = fields.Field(attribute="app_label", column_name="app_label", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    description = fields.Field(attribute="description", column_name="description", widget=TextWidget())
    category = fields.Field(attribute="category", column_name="category", widget=TextWidget())
    transactional = fields.Field(attribute="transactional", column_name="transactional",
                                 widget=StrictBooleanWidget())
    enabled = fields.Field(attribute="enabled", column_name="enabled", widget=StrictBooleanWidget())
    from_address = fields.Field(attribute="from_address", column_name="from_address", widget=TextWidget())
    reply_to = fields.Field(attribute="reply_to", column_name="reply_to", widget=TextWidget())
    sample_context = fields.Field(attribute="sample_context", column_name="sample_context",
                                  widget=JsonValueWidget(dict))
    # JSON text in every format, so one file layout serves CSV cells and JSON/YAML values alike.
    templates = TemplatesField(column_name="templates", widget=JsonValueWidget(list), readonly=True)

    class Meta:
        model = MessageType
        fields = ("app_label", "name", "description", "category", "transactional", "enabled", "from_address",
                  "reply_to", "sample_context", "templates")
        import_id_fields = ("app_label", "name")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    # -- export --------------------------------------------------------------------------------------

    @staticmethod
    def template_items(message_type) -> list[dict]:
        if message_type.pk is None:
            return []
        return [
            {"name": t.name, "language": t.language, "site": t.site.domain if t.site_id else "",
             "published": t.published, "content": t.content}
            for t in message_type.templates.select_related("site").order_by("name", "language", "site__domain")
        ]

    # -- import --------------------------------------------------------------------------------------

    def _templates_from_row(self, instance, row) -> list[Template]:
        """The row's templates as unsaved ``Template`` objects (existing rows updated in memory)."""
        items = fields.Field(column_name="templates", widget=JsonValueWidget(list)).clean(row) \
            if "templates" in row else []
        if not isinstance(items, list):
            raise ValidationError({"templates": "must be a list of templates"})
        result, problems, seen = [], [], set()
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not item.get("name"):
                problems.append(f"template {index}: needs at least a name and content")
                continue
            name = str(item["name"]).strip()
            match = TEMPLATE_NAME_SCHEME.match(name)
            if not match or (match["app_label"], match["name"]) != (instance.app_label, instance.name):
                problems.append(f"template {name!r} does not belong to {instance.app_label}.{instance.name} "
                                f"(names look like {instance.app_label}/edx_ace/{instance.name}/email/body.html)")
                continue
            language = normalize_language(item.get("language") or "")
            try:
                site = SiteWidget().clean(item.get("site") or "")
            except ValueError as error:
                problems.append(f"template {name!r}: {error}")
                continue
            key = (name, language, site.pk if site else None)
            if key in seen:
                problems.append(f"template {name!r} ({language or 'any language'}) is listed twice")
                continue
            seen.add(key)
            template = None
            if instance.pk is not None:
                template = Template.objects.filter(name=name, language=language, site=site).first()
            template = template or Template(name=name, language=language, site=site)
            template.content = "" if item.get("content") is None else str(item["content"])
            unknown = sorted(set(item) - {"name", "language", "site", "published", "content"})
            if unknown:
                problems.append(f"template {name!r}: unknown key(s) {', '.join(map(str, unknown))}")
                continue
            try:
                template.published = strict_bool(item.get("published", True), "published")
            except ValueError as error:
                problems.append(f"template {name!r}: {error}")
                continue
            problem = _template_problem(template)
            if problem:
                problems.append(f"template {name!r} ({language or 'any language'}): {problem}")
                continue
            result.append(template)
        if problems:
            raise ValidationError({"templates": problems})
        return result

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            instance._ace_templates = self._templates_from_row(instance, row)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        # The row's own fields are unchanged: skip it only if its templates are unchanged too.
        return all(t.pk is not None and not self._template_changed(t) for t in getattr(instance, "_ace_templates", []))

    @staticmethod
    def _template_changed(template: Template) -> bool:
        stored = Template.objects.filter(pk=template.pk).values("content", "published").first()
        return stored != {"content": template.content, "published": template.published}

    def do_instance_save(self, instance, is_create):
        instance.save(force_insert=is_create)

    def after_save_instance(self, instance, row, **kwargs):
        for template in getattr(instance, "_ace_templates", []):
            if template.pk is not None and not self._template_changed(template):
                continue  # unchanged: no save, so no new revision
            template.message_type = instance
            template.save(author=self.import_user, comment="imported")


class MessageTypeKeyWidget(widgets.Widget):
    """A message type by natural key, ``app_label.name``: it need not exist in the admin (opt-outs outlive it)."""

    def clean(self, value, row=None, **kwargs):
        value = str(value or "").strip()
        if not value:
            return ""
        app_label, dot, name = value.partition(".")
        if not dot or not app_label or not name:
            raise ValueError(f"message type {value!r} should be written app_label.name, e.g. 'demo.newsletter'")
        return value

    def render(self, value, obj=None, **kwargs):
        return value or ""


class OptOutResource(AllOrNothingMixin, resources.ModelResource):
    """Opt-outs, typically a CSV with an ``email`` column (and optionally lms_user_id, category, message_type)."""

    lms_user_id = fields.Field(attribute="lms_user_id", column_name="lms_user_id", widget=TextWidget(), default="")
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget(), default="")
    category = fields.Field(attribute="category", column_name="category", widget=TextWidget(), default="")
    message_type = fields.Field(attribute="message_type_key", column_name="message_type",
                                widget=MessageTypeKeyWidget(), default="")

    class Meta:
        model = OptOut
        fields = ("lms_user_id", "email", "category", "message_type")
        import_id_fields = ("lms_user_id", "email", "category", "message_type")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_instance(self, instance_loader, row):
        # The message type is two columns in the table: look the row up by them.
        app_label, _, name = str(row.get("message_type") or "").strip().partition(".")
        return OptOut.objects.filter(lms_user_id=row.get("lms_user_id") or "", email=row.get("email") or "",
                                     category=str(row.get("category") or "").strip(), app_label=app_label,
                                     message_name=name).first()

    def before_import(self, dataset, **kwargs):
        # A file with only an email column is the common case: the other columns default to blank.
        for column in ("lms_user_id", "email", "category", "message_type"):
            if column not in (dataset.headers or []):
                dataset.append_col([""] * len(dataset), header=column)
        super().before_import(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        row["email"] = (row.get("email") or "").strip().lower()
        row["lms_user_id"] = str(row.get("lms_user_id") or "").strip()

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            instance.source = "import"
