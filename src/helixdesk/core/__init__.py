"""The core: domain types, events, errors, settings and ids that every other layer builds on."""
