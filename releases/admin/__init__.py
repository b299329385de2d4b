"""The editors' and reviewers' admin: articles, review queue, history, compare, audit trail.

Every change goes through releases.services: saving the article form makes a draft
revision, and the buttons and bulk actions run the workflow transitions. Nothing here is
ever deleted: archive takes an article down.

Importing this package registers every admin class; its modules hold one idea each:

- ``articles``: the article list and change page (the edit form, saved as a draft) and its history;
- ``article_pages``: the article's other pages (compare, and each action's page);
- ``queue``: the review queue, the inbox of what waits for the person looking;
- ``actions``: workflow actions run from the admin, one article's and in bulk;
- ``messages``: what the admin says of an outcome, and ``refused``, its one answer to a refusal;
- ``filters``: the list filters of the article list and the review queue;
- ``history``: revisions and the audit trail, read-only;
- ``renames``: shared tags and entities, renamed through the action layer;
- ``users``: users, never deleted once they have history.
"""

# Each module registers its admin classes when imported.
from . import articles, history, queue, renames, users

__all__ = ["articles", "history", "queue", "renames", "users"]
