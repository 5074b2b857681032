"""Tests of the delivery channels."""
