"""Indonesian for the accounts' messages (core/messages/accounts.py): users, sign-in, tokens, credits."""

MESSAGES = {
    "credits.not_enough": "Kredit tidak cukup: perlu {need} kredit dan Anda punya {have}. Minta admin menambah kredit.",
    "credits.admin_only": "Hanya admin yang bisa menambah kredit.",
    "credits.grant_out_of_range": "Tambahkan {least:,} sampai {most:,} kredit sekali jalan.",
    "credits.idempotency_key_invalid": "Kunci idempotensi maksimal {most} karakter yang bisa dicetak.",
    "credits.no_such_user": "Tidak ada pengguna bernama {username!r}.",
    "users.not_found": "Pengguna tidak ditemukan.",
    "users.username_invalid": "Nama pengguna terdiri dari {least}-{most} karakter: huruf, angka, '.', '_' atau '-', "
                              "diawali huruf atau angka.",
    "users.role_invalid": "Peran harus salah satu dari: {roles}.",
    "users.password_length": "Kata sandi terdiri dari {least}-{most} karakter.",
    "users.username_taken": "Nama pengguna {username!r} sudah dipakai.",
    "users.no_such_account": "Tidak ada akun bernama {username!r}.",
    "auth.wrong_password": "Nama pengguna atau kata sandi salah.",
    "auth.token_missing": "Silakan masuk dulu: kirim 'Authorization: Bearer <token>' dari POST /api/auth/login.",
    "auth.token_invalid": "Token ini tidak valid atau sudah kedaluwarsa; silakan masuk lagi.",
    "auth.sign_in_first": "Silakan masuk dulu.",
    "auth.no_accounts": "Server ini berjalan tanpa akun (AUTH=none); token tidak diperlukan.",
    "auth.admins_only": "Hanya admin yang bisa melakukan ini.",
    "login.too_many_from_address": "Terlalu banyak percobaan masuk dari alamat Anda (maksimal {most} dalam {window}). "
                                   "Coba lagi dalam {wait}.",
    "login.too_many_for_account": "Terlalu banyak percobaan masuk untuk akun ini (maksimal {most} dalam {window}). "
                                  "Coba lagi dalam {wait}.",
    "login.second": "{n} detik",
    "login.seconds": "{n} detik",
}
