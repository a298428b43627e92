"""A returning customer hears first about what they left open ("您上次反映的问题…"), re-checked
where the issue can be (a transfer that had not arrived, a dispute under review). A follow-up task
a person took on (topic `follow_up`, see helixdesk.handoff.follow_up) is told with who follows it
up and by when."""

from __future__ import annotations

from helixdesk.dialogue.effects import ActionDone, IssueRaised, ResolveIssue, RunAction
from helixdesk.dialogue.flows.base import Deciding

RAISED_AT_ONCE = 2
FOLLOW_UP = "follow_up"


def raise_open_issues(d: Deciding) -> None:
    ref = d.customer_ref
    for issue in d.ctx.customer.open_issues[:RAISED_AT_ONCE]:
        d.changes.append(IssueRaised(issue_id=issue.id))
        if issue.topic == FOLLOW_UP and issue.facts.get("owner_name") and issue.facts.get("due_at"):
            d.say("issue.follow_up", kind="issue", facts=issue.facts)
            continue
        if ref is not None and issue.action and issue.ref:
            checked = d.ask(RunAction.of(issue.action, {"ref": issue.ref}, purpose="recheck"))
            if isinstance(checked, ActionDone):
                result = checked.result
                policy = d.policies.for_intent(issue.intent)
                still_open = (
                    policy is not None
                    and policy.issue is not None
                    and str(result.get(policy.issue.when_field)) in policy.issue.open_values
                )
                if not still_open:
                    d.changes.append(ResolveIssue(issue_id=issue.id))
                    d.say("issue.settled", kind="issue", topic=issue.topic, result=result, facts=issue.facts)
                else:
                    d.say(
                        "issue.still_open", kind="issue", topic=issue.topic, result=result, facts=issue.facts
                    )
                continue
        d.say("issue.reminder", kind="issue", topic=issue.topic, facts=issue.facts)
