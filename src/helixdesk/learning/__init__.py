"""Models that keep learning safely: the labelling queue fed from conversations, versioned datasets
of the labels, the model registry with its reports, shadow runs, the release gate, promotion and
rollback (docs/learning.md).

The registry's API (`helixdesk.learning.registry.ModelRegistry`) and `propose_candidate`
(`helixdesk.learning.training`) are what other parts call; the NLU's own training and evaluation
stay in `helixdesk.nlu`.
"""
