"""Sign-in throttling: repeated failed sign-ins are refused for a while.

The rules are in ``throttle.py``; failures are kept in the database (``SignInFailure``) so every
worker process and app server counts the same attempts.
"""
