"""The demo message types, as platform code would declare them; ``manage.py ace_sync`` registers them."""

from ace.message import MessageType


class PasswordReset(MessageType):
    """A transactional email with a link to choose a new password."""

    APP_LABEL = "demo"
    NAME = "password_reset"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Security mail must reach people who opted out of marketing.
        self.options["transactional"] = True


class CourseStartReminder(MessageType):
    """Reminds a learner that a course they enrolled in starts soon."""

    APP_LABEL = "demo"
    NAME = "course_start_reminder"


class Newsletter(MessageType):
    """The monthly marketing newsletter."""

    APP_LABEL = "demo"
    NAME = "newsletter"
