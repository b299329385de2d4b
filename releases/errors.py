"""Why an action was refused, in the domain's words. The services raise these; how each is answered
is the caller's business: the API maps them to statuses in one exception handler
(``releases.api_errors``), the admin turns them into messages (``releases.admin.messages.refused``)."""


class WorkflowError(Exception):
    """A refused action, with the reason in words a person can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ActionForbidden(WorkflowError):
    """The user's role may not do this."""


class InvalidTransition(WorkflowError):
    """The action does not apply in the article's current state."""


class EditConflict(WorkflowError):
    """The work changed since the user read it."""


class NoteRequired(WorkflowError):
    """The action needs a note and got none."""


class InvalidContent(WorkflowError):
    """The content breaks the rules of the post-meta box; ``problems`` name each field."""

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems
