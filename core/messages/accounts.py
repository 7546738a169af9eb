"""Accounts (core/accounts, api/auth.py, api/deps.py, api/credits.py): users, sign-in and its limits, tokens,
credits."""

EN = {
    # core/accounts/credits.py, api/credits.py
    "credits.not_enough": "Not enough credits: this needs {need} credits and you have {have}. "
                          "Ask an admin to add credits.",
    "credits.admin_only": "Only an admin can grant credits.",
    "credits.grant_out_of_range": "Grant between {least:,} and {most:,} credits at a time.",
    "credits.idempotency_key_invalid": "An idempotency key is at most {most} printable characters.",
    "credits.no_such_user": "No user named {username!r}.",
    # core/accounts/users.py
    "users.not_found": "User not found.",
    "users.username_invalid": "Usernames are {least}-{most} characters: letters, digits, '.', '_' or '-', "
                              "starting with a letter or digit.",
    "users.role_invalid": "Role must be one of {roles}.",
    "users.password_length": "Passwords are {least}-{most} characters.",
    "users.username_taken": "The username {username!r} is taken.",
    "users.no_such_account": "No account is named {username!r}.",
    # signing in (core/accounts/users.py, api/auth.py, api/deps.py)
    "auth.wrong_password": "Wrong username or password.",
    "auth.token_missing": "Sign in first: send 'Authorization: Bearer <token>' from POST /api/auth/login.",
    "auth.token_invalid": "This token is not valid or has expired; sign in again.",
    "auth.sign_in_first": "Sign in first.",
    "auth.no_accounts": "This server runs without accounts (AUTH=none); no token is needed.",
    "auth.admins_only": "Only admins can do this.",
    # core/accounts/login_limits.py: {window} and {wait} are login.second / login.seconds
    "login.too_many_from_address": "Too many sign-in attempts from your address (at most {most} in {window}). "
                                   "Try again in {wait}.",
    "login.too_many_for_account": "Too many sign-in attempts for this account (at most {most} in {window}). "
                                  "Try again in {wait}.",
    "login.second": "{n} second",
    "login.seconds": "{n} seconds",
}
