"""Admin forms for rules: routes limited to the enabled channels, frequency caps typed as durations."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from ace.channel import channels
from ace_admin.models import ChannelRoute, PolicyRule


class ChannelRouteForm(forms.ModelForm):
    """A route whose delivery service is picked from the channels enabled on this installation."""

    class Meta:
        model = ChannelRoute
        fields = ["order", "message_type", "category", "transactional", "channel_type", "channel_name", "enabled",
                  "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "---------")] + [(name, name) for name in enabled_channel_names()]
        current = self.instance.channel_name
        if current and current not in dict(choices):
            choices.append((current, f"{current} (not enabled!)"))
        self.fields["channel_name"] = forms.ChoiceField(
            choices=choices, label="Delivery service", help_text=ChannelRoute._meta.get_field("channel_name").help_text)


def enabled_channel_names() -> list[str]:
    """Names of the enabled channels (``ACE_ENABLED_CHANNELS`` that could load)."""
    try:
        return sorted(channels().names())
    except Exception:  # noqa: BLE001 — a broken channel must not make the form unusable; the model says why
        return []


class PolicyRuleForm(forms.ModelForm):
    """A policy rule whose cap period is typed as a duration ("7 00:00:00" = a week, "1:00:00" = an hour)."""

    period = forms.DurationField(
        required=False, label="Period",
        help_text="Frequency cap: how long the period is, as 'DAYS HH:MM:SS' (e.g. '7 00:00:00' for one week, "
                  "'12:00:00' for twelve hours).")

    class Meta:
        model = PolicyRule
        fields = ["kind", "channel_type", "message_type", "category", "max_messages", "period", "enabled",
                  "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.period_seconds:
            self.initial.setdefault("period", timedelta(seconds=self.instance.period_seconds))

    def clean_period(self):
        period = self.cleaned_data.get("period")
        if period is not None and period.total_seconds() < 1:
            raise forms.ValidationError("The period must be at least one second.")
        return period

    def _post_clean(self):
        period = self.cleaned_data.get("period")
        self.instance.period_seconds = int(period.total_seconds()) if period else None
        super()._post_clean()
