"""Management commands of the ACE admin app."""
