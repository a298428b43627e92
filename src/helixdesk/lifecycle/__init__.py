"""The customer lifecycle: stages by documented rules and a calibrated churn-risk model, from the
bank's monthly history (`BankConnector.monthly_activity`; docs/lifecycle.md).

- `churn`: when a customer has churned, a pure function of their months;
- `stages`: 考察期 exploration, 形成期 formation, 稳定期 stability, 退化期 decline, each a rule;
- `features`, `model`, `training`, `artefacts`: the churn-risk model (logistic regression on
  standardised features, isotonic calibration), trained by `helixdesk lifecycle train` into
  `$HELIXDESK_MODEL_DIR/<pack>/churn/<version>/`;
- `config`: the thresholds, from the pack's `lifecycle/rules.yaml`;
- `service.describe`: one customer's stage, churn and risk (`helixdesk lifecycle show`);
- `strategies`: the bank's strategies per stage (the pack's `lifecycle/strategies.yaml`);
- `store`, `models`, `errors`: the active strategies in the database, each edit versioned and audited;
- `recommend`: which strategies reach a customer now, each with why, after the gate;
- `suitability`: the one suitability gate, asked last for every strategy and bot tip.

Everything but the training, the model files and the strategy store is pure: it reads its
arguments and writes nothing.
"""
