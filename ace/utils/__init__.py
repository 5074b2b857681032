"""Small utilities used across ACE (dates, lazy one-shot functions, plug-in loading)."""
