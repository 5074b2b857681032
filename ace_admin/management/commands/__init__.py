"""``manage.py`` commands of the ACE admin app (ace_demo, ...)."""
