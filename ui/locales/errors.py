"""Indonesian for the messages core writes in English (image intake, credits, generation, validation).

Each entry: a regular expression matching the whole English message, and the Indonesian text with the
same named groups (\\g<name>). The first match wins; a message no pattern matches is shown in English
(tests/test_i18n.py runs the intake corpus and the credit errors through these and fails on a miss).
"""

PATTERNS: list[tuple[str, str]] = [
    (r"Not enough credits: this needs (?P<need>\d+) credits and you have (?P<have>\d+)\. Ask an admin to add credits\.",
     r"Kredit tidak cukup: perlu \g<need> kredit dan Anda punya \g<have>. Minta admin menambah kredit."),
    (r"Not enough credits: (?P<n>\d+) posters need (?P<need>\d+) credits \((?P<each>\d+) each\) and you have "
     r"(?P<have>\d+)\.",
     r"Kredit tidak cukup: \g<n> poster perlu \g<need> kredit (\g<each> per poster) dan Anda punya \g<have>."),
    (r"Something went wrong on our side; please try again\.",
     r"Terjadi kesalahan di sistem kami; silakan coba lagi."),
]
