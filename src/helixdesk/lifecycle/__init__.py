"""The customer lifecycle: stages by documented rules and a calibrated churn-risk model, from the
bank's monthly history (`BankConnector.monthly_activity`; docs/lifecycle.md).

- `churn`: when a customer has churned, a pure function of their months;
- `stages`: 考察期 exploration, 形成期 formation, 稳定期 stability, 退化期 decline, each a rule;
- `features`, `model`, `training`, `artefacts`: the churn-risk model (logistic regression on
  standardised features, isotonic calibration), trained by `helixdesk lifecycle train` into
  `$HELIXDESK_MODEL_DIR/<pack>/churn/<version>/`;
- `config`: the thresholds, from the pack's `lifecycle/rules.yaml`;
- `service.describe`: one customer's stage, churn and risk (`helixdesk lifecycle show`).

Everything but the training and the model files is pure: it reads a `CustomerHistory` and writes
nothing.
"""
