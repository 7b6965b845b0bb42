"""The sentiment model adapter and the tagging worker; imports no domain app."""
