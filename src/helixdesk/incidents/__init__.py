"""The incident register: outages, app errors and delayed batches that staff record, and who they affect.

- `rules`: the register's vocabulary (kinds, statuses, products, channels) and the pure rules: when an
  incident is active, whom it affects (`affects`), its text in a customer's language (`text_in`).
- `regions`: a customer's city and the provinces it lies in, as incidents name them.
- `products`: what a customer holds, read from the bank connector.
- `checks`: an incident's fields and the order of its times, checked before anything is stored.
- `register`: recording, changing and resolving incidents (every change a version and an audit
  entry), the active incidents a turn reads, and the explanations a turn stores.
- `models`: the tables (`incidents`, with the hotspot an incident was opened from,
  `incident_versions`, `incident_explanations`, `incident_spike_dismissals`); `errors`: the stable
  codes (`invalid_incident`, `incident_not_found`, `incident_resolved`, `incident_changed`,
  `hotspot_not_found`).

The dialogue reads the active incidents in its turn's context and tells an affected customer the
explanation first (`helixdesk.dialogue.flows.incidents`).
"""
