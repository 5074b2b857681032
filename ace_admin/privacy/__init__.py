"""Privacy: unsubscribe links and headers, the preferences page, suppressions, erasure, address masking."""
