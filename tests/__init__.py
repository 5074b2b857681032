"""ACE's test suite. Also installed as a Django app in tests.settings, so tests/templates/ holds the
templates of the message types the tests define."""
