"""Accounts: users and their sign-in (users: password hashing, API tokens, sessions), the credits ledger
(credits: prices, charges, refunds, each once per idempotency key) and sign-in attempt limits (login_limits)."""
